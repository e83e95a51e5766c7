"""Saved states and model replies are hostile input: whatever they hold, loading or parsing
them raises only the documented error (``StateError``, ``ValueError``, ``ModelError``)."""

from __future__ import annotations

import json
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import Conversation, ModelError, PendingApproval, Runner, StateError, tool
from toolkit.formats import ConversationFormat, get_format
from toolkit.testing import ScriptedModel, call

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=25,
)


@tool(needs_approval=True)
def pay(to: str, amount: int = 1) -> str:
    """Pay someone."""
    return f"paid {amount} to {to}"


def _pending() -> dict[str, Any]:
    model = ScriptedModel([[call("pay", to="Ada"), call("pay", to="Eve", amount=2)]])
    paused = Runner(model, tools=[pay]).run("pay")
    assert paused.pending is not None
    return json.loads(paused.pending.to_json())


PENDING = _pending()
PATHS = [
    ("version",),
    ("id",),
    ("format",),
    ("messages",),
    ("messages", 0),
    ("first_new",),
    ("reply",),
    ("reply", "calls"),
    ("reply", "calls", 0, "id"),
    ("reply", "calls", 1, "arguments"),
    ("reply", "stop"),
    ("results",),
    ("results", 0),
    ("awaiting",),
    ("awaiting", 0),
    ("progress",),
    ("progress", "usage"),
    ("progress", "seen"),
]


def _mutated(path: tuple[Any, ...], value: Any, delete: bool) -> dict[str, Any]:
    state = json.loads(json.dumps(PENDING))
    target: Any = state
    for key in path[:-1]:
        target = target[key]
    if delete and isinstance(target, dict):
        cast("dict[str, Any]", target).pop(path[-1], None)
    else:
        target[path[-1]] = value
    return state


@FUZZ
@given(st.sampled_from(PATHS), json_values, st.booleans())
def test_a_mutated_pause_loads_or_is_a_state_error(
    path: tuple[Any, ...], value: Any, delete: bool
) -> None:
    text = json.dumps(_mutated(path, value, delete))
    try:
        pending = PendingApproval.from_json(text)
    except StateError:
        return
    # Whatever loads is consistent: it resumes into a history with every call answered.
    decisions = {c.id: True for c in pending.calls}
    if pending.format != "openai":
        return
    try:
        result = Runner(ScriptedModel(["done"]), tools=[pay]).resume(pending, decisions)
    except StateError:
        return  # a mutation that kept an old id: already resumed
    assert result.stop_reason in ("end", "max_steps")


@FUZZ
@given(json_values | st.text(max_size=60))
def test_arbitrary_json_is_a_conversation_or_a_state_error(value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        chat = Conversation.from_json(text, runner=Runner(ScriptedModel([])))
    except StateError:
        return
    assert all(isinstance(m, dict) for m in chat.messages)


usage = st.dictionaries(
    st.sampled_from(["prompt_tokens", "completion_tokens", "input_tokens", "output_tokens"]),
    json_values,
)
REPLY_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "openai": st.fixed_dictionaries(
        {
            "choices": st.lists(
                st.fixed_dictionaries({"message": json_values, "finish_reason": json_values}),
                max_size=2,
            ),
            "usage": usage | json_values,
        }
    ),
    "openai-responses": st.fixed_dictionaries(
        {
            "output": st.lists(json_values, max_size=3),
            "status": json_values,
            "id": json_values,
            "usage": usage | json_values,
            "incomplete_details": json_values,
        }
    ),
    "anthropic": st.fixed_dictionaries(
        {
            "content": st.lists(json_values, max_size=3),
            "stop_reason": json_values,
            "usage": usage | json_values,
            "id": json_values,
        }
    ),
    "workers-ai": st.fixed_dictionaries(
        {"result": json_values, "success": json_values, "errors": json_values}
    ),
}


@FUZZ
@given(
    st.sampled_from(sorted(REPLY_SHAPES)).flatmap(lambda f: st.tuples(st.just(f), REPLY_SHAPES[f]))
)
def test_replies_parse_or_raise_the_documented_errors(case: tuple[Any, Any]) -> None:
    format, response = case
    codec = get_format(cast("ConversationFormat", format))
    try:
        reply = codec.parse_reply(response)
    except (ValueError, ModelError):
        return
    ids = [c.id for c in reply.calls]
    assert len(set(ids)) == len(ids)  # every call is its own
    history: list[Any] = []
    codec.append_messages(history, reply.message)
    assert {c.id for c in codec.unanswered_calls(history)} == set(ids)


@FUZZ
@given(
    st.sampled_from(["openai", "openai-responses", "anthropic", "workers-ai", "gemini"]),
    st.lists(json_values, max_size=6),
)
def test_any_history_is_read_without_raising(format: Any, history: list[Any]) -> None:
    codec = get_format(cast("ConversationFormat", format))
    open_calls = codec.unanswered_calls(history)
    assert all(isinstance(c.id, str) for c in open_calls)


EVENT_SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "openai": st.fixed_dictionaries(
        {
            "choices": st.lists(
                st.fixed_dictionaries(
                    {
                        "index": st.sampled_from([0, 1, None, "x"]),
                        "delta": st.fixed_dictionaries(
                            {},
                            optional={
                                "content": json_values,
                                "tool_calls": st.lists(
                                    st.fixed_dictionaries(
                                        {},
                                        optional={
                                            "index": json_values,
                                            "id": json_values,
                                            "function": json_values,
                                        },
                                    ),
                                    max_size=3,
                                ),
                            },
                        ),
                        "finish_reason": json_values,
                    }
                ),
                max_size=2,
            )
        },
        optional={"usage": json_values},
    ),
    "openai-responses": st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "response.output_item.added",
                    "response.output_item.done",
                    "response.output_text.delta",
                    "response.function_call_arguments.delta",
                    "response.completed",
                    "response.created",
                ]
            ),
            "output_index": st.sampled_from([0, 1, None]),
        },
        optional={"item": json_values, "delta": json_values, "response": json_values},
    ),
    "anthropic": st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                [
                    "message_start",
                    "content_block_start",
                    "content_block_delta",
                    "content_block_stop",
                    "message_delta",
                ]
            ),
        },
        optional={
            "index": st.sampled_from([0, 1, None, "x"]),
            "message": json_values,
            "content_block": json_values,
            "delta": json_values,
            "usage": json_values,
        },
    ),
    "workers-ai": st.dictionaries(
        st.sampled_from(["response", "tool_calls", "usage", "choices"]), json_values
    ),
}


@FUZZ
@given(
    st.sampled_from(sorted(EVENT_SHAPES)).flatmap(
        lambda f: st.tuples(st.just(f), st.lists(EVENT_SHAPES[f], max_size=6))
    )
)
def test_streams_assemble_or_raise_the_documented_errors(case: tuple[Any, list[Any]]) -> None:
    format, events = case
    assembler = get_format(cast("ConversationFormat", format)).stream_assembler()
    try:
        for event in events:
            assembler.feed(event)
        reply = assembler.reply()
    except (ValueError, ModelError):
        return
    ids = [c.id for c in reply.calls]
    assert len(set(ids)) == len(ids)
