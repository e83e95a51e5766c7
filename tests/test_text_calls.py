"""Tool calls a model wrote as text (Hermes ``<tool_call>`` blocks): read in linear time,
whatever the text, and text that is not a call stays text.

The pathological inputs are sized so that any super-linear scan would hang the suite; no
test measures time.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from fakeserver import FakeServer, Reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import ToolCall, tool
from toolkit.formats._parse import generated_id
from toolkit.formats._text_calls import call_blocks, split_text_calls, text_calls
from toolkit.formats.openai_chat import CODEC as CHAT
from toolkit.formats.workers_ai import CODEC as WORKERS

GENERATED = re.compile(r"call_[0-9a-f]{12}")
BIG = 200_000
CALL = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'


def chat_calls(text: str) -> list[ToolCall]:
    return CHAT.parse_calls({"role": "assistant", "content": text})


def streamed_calls(text: str) -> tuple[ToolCall, ...]:
    assembler = CHAT.stream_assembler()
    assembler.feed({"choices": [{"index": 0, "delta": {"content": text}}]})
    assembler.feed({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return assembler.reply().calls


def named(calls: Any) -> list[tuple[str, Any]]:
    return [(call.name, call.arguments) for call in calls]


# -- defect 1: linear time on any text -------------------------------------------------------------


def test_a_fence_then_a_long_run_of_spaces_is_read_in_linear_time() -> None:
    # The fuzz campaign's input: the fence regex backtracked cubically (0.5 s at 1,000
    # spaces, a minute at 4,000). Here it is not a call at all: "x" is no JSON.
    text = "<tool_call>```json" + " " * BIG + "x"
    assert chat_calls(text) == []
    assert WORKERS.parse_reply({"response": text}).text == text


PATHOLOGICAL: list[tuple[str, Callable[[], str], int]] = [
    ("openings", lambda: "<tool_call>" * BIG, 0),
    ("closings", lambda: "</tool_call>" * BIG, 0),
    ("empty blocks", lambda: "<tool_call></tool_call>" * BIG, 0),
    ("openings and braces", lambda: "<tool_call>{" * BIG, 0),
    ("openings and lists", lambda: "<tool_call>[" * BIG, 0),
    ("openings in one JSON string", lambda: '<tool_call>["' + "<tool_call>[" * BIG + '"]', 0),
    ("openings and spaces", lambda: ("<tool_call>" + " " * 40) * (BIG // 40), 0),
    ("openings and fences", lambda: "<tool_call>```json\n" * BIG, 0),
    ("fence closed", lambda: "<tool_call>```json" + " " * BIG + "x```</tool_call>", 0),
    ("spaces then a call", lambda: "<tool_call>" + " " * BIG + '{"name": "f"}', 1),
    ("unterminated name", lambda: '<tool_call>{"name": "' + "<tool_call>{ " * BIG, 0),
    ("backslashes in a name", lambda: '<tool_call>{"name": "' + "\\" * BIG, 0),
    ("names opened in every block", lambda: '<tool_call>{"name": "' * BIG, 1),
    ("argument keys", lambda: '<tool_call>{"name": "f", ' + '"arguments" ' * BIG, 1),
    ("deep nesting", lambda: '<tool_call>{"name": "f", "arguments": ' + "[" * BIG, 1),
    ("quotes", lambda: '<tool_call>{"name": "f", "arguments": "' + '\\"' * BIG, 1),
    ("many calls", lambda: CALL * 4000, 4000),
    ("prose and calls", lambda: ("a <tool_call> b " * 50 + CALL) * 400, 400),
]


@pytest.mark.parametrize(
    ("make", "count"),
    [(make, count) for _, make, count in PATHOLOGICAL],
    ids=[p[0] for p in PATHOLOGICAL],
)
def test_pathological_text_is_read_in_linear_time(make: Callable[[], str], count: int) -> None:
    text = make()
    calls, rest = split_text_calls("openai", text)
    assert len(calls) == count
    assert (rest == text) == (count == 0)
    assert len(chat_calls(text)) == count


def test_nesting_too_deep_to_parse_is_reported_as_broken_arguments() -> None:
    arguments = "[" * BIG + "]" * BIG
    (call,) = chat_calls(f'<tool_call>{{"name": "f", "arguments": {arguments}}}</tool_call>')
    assert (call.name, call.arguments) == ("f", arguments)


def test_nesting_around_the_recursion_limit_never_raises() -> None:
    limit = sys.getrecursionlimit()
    for depth in range(limit - 150, limit + 50, 5):
        nested = "[" * depth + "]" * depth
        text = f'<tool_call>{{"name": "f", "arguments": {{"a": {nested}}}}}</tool_call>'
        assert [call.name for call in chat_calls(text)] == ["f"]


# -- defect 2: prose is never a call ---------------------------------------------------------------


PROSE = [
    "Models without a parser write <tool_call> tags instead.",
    "Wrap each call in <tool_call></tool_call>, then stop.",
    "<tool_call>",
    "</tool_call> stray closing tag",
    "<tool_call>{}</tool_call>",
    "<tool_call>oops</tool_call>",
    '<tool_call>"f"</tool_call>',
    "<tool_call>null</tool_call>",
    '<tool_call>{"name": 1}</tool_call>',
    '<tool_call>{"name": ""}</tool_call>',
    '<tool_call>{"name": null, "arguments": {}}</tool_call>',
    '<tool_call>{"arguments": {}}</tool_call>',
    "<tool_call>[]</tool_call>",
    "<tool_call>[1, 2]</tool_call>",
    '<tool_call>[{"n": 1}, {"arguments": {}}]</tool_call>',
    "<tool_call>```python\nprint('hi')\n```</tool_call>",
    '<tool_call>{"tool": "f", "args": {',
    '<tool_call>{"arguments": {}, "name": "f"',  # broken, and not starting like a call
    "The tags are <tool_call> and </tool_call>; <tool_call> opens one.",
]


@pytest.mark.parametrize("text", PROSE)
def test_text_that_is_not_a_call_stays_text(text: str) -> None:
    assert split_text_calls("openai", text) == ([], text)
    assert chat_calls(text) == []
    assert streamed_calls(text) == ()
    assert WORKERS.parse_calls({"response": text}) == []
    reply = WORKERS.parse_reply({"response": text})
    assert (reply.calls, reply.text, reply.stop) == ((), text, "end")


@tool
def get_time(zone: str = "UTC") -> str:
    """Get the time in a time zone."""
    return f"12:00 in {zone}"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def test_a_run_answering_in_prose_about_tags_ends_with_that_answer(server: FakeServer) -> None:
    from toolkit import Runner
    from toolkit.backends.workers_ai import WorkersAI

    prose = "Models without a parser write <tool_call> tags; yours has one."
    server.script([Reply.text(prose), Reply.text(prose)])
    with openai.OpenAI(base_url=server.openai_base_url, api_key="t", max_retries=0) as client:
        assert Runner(client, model="m", tools=[get_time]).run("How?").text == prose
    workers = WorkersAI(server.account_id, "token", base_url=f"{server.base_url}/client/v4")
    try:
        assert Runner(workers, model="m", tools=[get_time]).run("How?").text == prose
    finally:
        workers.close()


# -- defect 3: the calls and the text without them, in one pass ------------------------------------


def test_split_cuts_only_the_blocks_that_are_calls() -> None:
    text = (
        "Models write <tool_call> tags. Let me look.\n"
        '<tool_call>{"name": "get_time", "arguments": {}}</tool_call>\nDone.'
    )
    calls, rest = split_text_calls("workers-ai", text)
    assert named(calls) == [("get_time", {})]
    assert rest == "Models write <tool_call> tags. Let me look.\n\nDone."
    reply = WORKERS.parse_reply({"response": text})
    assert reply.text == "Models write <tool_call> tags. Let me look.\n\nDone."
    assert reply.calls == tuple(calls)
    assert reply.message["content"] == text  # the model's own words go back unchanged


def test_blocks_span_their_tags() -> None:
    call = '{"name": "f", "arguments": {}}'
    text = f"a <tool_call>{call}</tool_call> b <tool_call> c <tool_call>{call}"
    spans = [(block.start, block.end) for block in call_blocks("openai", text)]
    assert [text[start:end] for start, end in spans] == [
        f"<tool_call>{call}</tool_call>",
        f"<tool_call>{call}",
    ]
    assert split_text_calls("openai", text)[1] == "a  b <tool_call> c "


# -- what a model writes, read as before -----------------------------------------------------------


def test_a_mention_of_the_tag_before_a_real_call_leaves_the_call_intact() -> None:
    text = 'I will write <tool_call> now: <tool_call>{"name": "f", "arguments": {"a": 1}}'
    assert named(chat_calls(text)) == [("f", {"a": 1})]
    assert split_text_calls("openai", text)[1] == "I will write <tool_call> now: "


def test_arguments_may_mention_the_opening_tag() -> None:
    text = '<tool_call>{"name": "note", "arguments": {"text": "use <tool_call> tags"}}</tool_call>'
    assert named(chat_calls(text)) == [("note", {"text": "use <tool_call> tags"})]


def test_the_name_need_not_come_first_in_valid_json() -> None:
    text = '<tool_call>{"arguments": {"a": 1}, "name": "f"}</tool_call>'
    assert named(chat_calls(text)) == [("f", {"a": 1})]


def test_the_prices_of_a_linear_scan() -> None:
    # A closing tag in a string ends the block: the call is reported with broken arguments.
    text = '<tool_call>{"name": "f", "arguments": {"a": "</tool_call>"}}</tool_call>'
    assert named(chat_calls(text)) == [("f", '{"a": "')]
    # The name not first, and an opening inside: only a call's start is read past the next
    # opening, so this one is text.
    text = '<tool_call>{"arguments": {"a": "<tool_call>"}, "name": "f"}</tool_call>'
    assert chat_calls(text) == []


def test_fences_lists_parameters_and_an_unclosed_last_block() -> None:
    text = (
        '<tool_call>\n```json\n{"name": "a", "parameters": {"x": 1}}\n```\n</tool_call>'
        '<tool_call>```\n[{"name": "b", "arguments": {}}, {"name": "c"}]\n```</tool_call>\n'
        '<tool_call>```json\n{"name": "d", "arguments": {"y": 2}}'  # cut at the stop token
    )
    assert named(chat_calls(text)) == [("a", {"x": 1}), ("b", {}), ("c", None), ("d", {"y": 2})]


def test_broken_json_that_starts_like_a_call_keeps_its_name_and_raw_arguments() -> None:
    text = (
        '<tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>'
        '<tool_call>[{"name": "g", "parameters": {"b": 2,}}]</tool_call>'
        '<tool_call>{ "name" : "h\\u00e9", "arguments": {"c": 3}'
        '<tool_call>{"name": "i", "oops"}</tool_call>'
    )
    assert named(chat_calls(text)) == [
        ("f", '{"a": 1,}'),
        ("g", '{"b": 2,}'),
        # The unclosed block runs to the next closing tag, over the opening inside it.
        ("h\u00e9", '{"c": 3}<tool_call>{"name": "i", "oops"}'),
    ]


def test_ids_are_generated_from_the_position_among_all_calls() -> None:
    text = (
        '<tool_call>[{"name": "a", "arguments": {"x": 1}}, {"name": "b"}]</tool_call>'
        ' prose <tool_call>{"name": "c", "arguments": "{}"}</tool_call>'
    )
    assert chat_calls(text) == [
        ToolCall(id=generated_id(0, "a", {"x": 1}), name="a", arguments={"x": 1}),
        ToolCall(id=generated_id(1, "b", None), name="b", arguments=None),
        ToolCall(id=generated_id(2, "c", "{}"), name="c", arguments="{}"),
    ]
    assert text_calls("openai", text) == chat_calls(text) == list(streamed_calls(text))


# -- properties ------------------------------------------------------------------------------------

PIECES = [
    "<tool_call>",
    "</tool_call>",
    "```",
    "```json",
    "{",
    "}",
    "[",
    "]",
    '"',
    "\\",
    ":",
    ",",
    " ",
    "\n",
    '"name"',
    '"arguments"',
    '"parameters"',
    '"f"',
    "null",
    "1",
    '{"name": "f", "arguments": {"a": 1}}',
    '{"name": "g"',
]
texts = st.lists(
    st.sampled_from(PIECES)
    | st.text(max_size=4)
    | st.integers(min_value=1, max_value=5_000).map(lambda n: " " * n),
    max_size=40,
).map("".join)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_any_text_splits_into_calls_and_the_rest(text: str) -> None:
    blocks = call_blocks("openai", text)
    kept: list[str] = []
    done = 0
    for block in blocks:
        assert done <= block.start < block.end <= len(text)
        assert text.startswith("<tool_call>", block.start)
        assert text.endswith("</tool_call>", block.start, block.end) or block.end == len(text)
        assert block.calls
        kept.append(text[done : block.start])
        done = block.end
    kept.append(text[done:])
    calls = [call for block in blocks for call in block.calls]
    assert split_text_calls("openai", text) == (calls, "".join(kept))
    assert all(isinstance(c.name, str) and c.name for c in calls)
    assert all(GENERATED.fullmatch(c.id) for c in calls)
    assert chat_calls(text) == calls
    reply = WORKERS.parse_reply({"response": text})
    assert len(reply.calls) == len(calls)
    assert reply.text == ("".join(kept).strip() if calls else text)


json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
prose = st.text(max_size=30).filter(lambda text: "<tool_call>" not in text)


@settings(max_examples=300)
@given(
    before=prose,
    name=st.text(min_size=1),
    arguments=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    key=st.sampled_from(["arguments", "parameters"]),
    layout=st.sampled_from(["{}", "```json\n{}\n```", " {} ", "[{}]"]),
    closed=st.booleans(),
    after=texts,
)
def test_a_call_is_found_whatever_surrounds_it(
    *,
    before: str,
    name: str,
    arguments: dict[str, Any],
    key: str,
    layout: str,
    closed: bool,
    after: str,
) -> None:
    written = json.dumps({"name": name, key: arguments})
    if "</tool_call>" in written:  # a block ends at the first closing tag, wherever it is
        return
    block = "<tool_call>" + layout.replace("{}", written) + ("</tool_call>" if closed else "")
    calls, rest = split_text_calls("openai", before + block + (after if closed else ""))
    assert calls[0] == ToolCall(id=generated_id(0, name, arguments), name=name, arguments=arguments)
    assert rest.startswith(before)


def test_chat_and_workers_ai_replies_leave_written_calls_out_of_their_text() -> None:
    from toolkit.formats.openai_chat import CODEC as CHAT
    from toolkit.formats.workers_ai import CODEC as WORKERS_AI

    written = 'Let me check.\n<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
    chat = CHAT.parse_reply({"choices": [{"message": {"role": "assistant", "content": written}}]})
    workers = WORKERS_AI.parse_reply({"result": {"response": written}})
    for reply in (chat, workers):
        assert reply.text == "Let me check."
        assert [c.name for c in reply.calls] == ["f"]
    assert chat.message["content"] == written  # the history keeps what the model wrote
    assembler = CHAT.stream_assembler()
    assembler.feed({"choices": [{"index": 0, "delta": {"content": written}}]})
    assert assembler.reply().text == "Let me check."
