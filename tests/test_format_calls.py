"""Reading each protocol's tool calls and writing its result messages."""

from __future__ import annotations

import re
import subprocess
import sys
import typing
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from _versions import OPENAI_RESPONSE_MODELS
from pydantic import BaseModel, TypeAdapter

from toolkit import FORMATS, tool
from toolkit.calls import CallError, ToolCall, ToolResult
from toolkit.formats import ToolCodec, get_format
from toolkit.formats._parse import generated_id

GENERATED = re.compile(r"call_[0-9a-f]{12}")

OK = ToolResult(call_id="call_1", name="weather", value={"temp": 21}, content='{"temp":21}')
FAILED = ToolResult(
    call_id="call_2",
    name="weather",
    value=None,
    content="Unknown city 'Atlantis'. Fix the arguments and try again.",
    is_error=True,
    error=CallError(kind="exception", message="Unknown city 'Atlantis'"),
)


def parse(format: str, reply: Any) -> list[ToolCall]:
    return get_format(format).parse_calls(reply)


def results_for(calls: list[ToolCall]) -> list[ToolResult]:
    return [
        ToolResult(call_id=c.id, name=c.name, value=i, content=str(i)) for i, c in enumerate(calls)
    ]


# -- OpenAI Chat Completions -----------------------------------------------------------------------

CHAT_TOOL_CALLS: list[dict[str, Any]] = [
    {
        "id": "call_a",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
    },
    {"id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{}"}},
]
CHAT_MESSAGE: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": CHAT_TOOL_CALLS}
CHAT_EXPECTED = [
    ToolCall(id="call_a", name="weather", arguments='{"city": "Paris"}'),
    ToolCall(id="call_b", name="time", arguments="{}"),
]


def chat_completion(message: dict[str, Any]) -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
        }
    )


@pytest.mark.parametrize(
    "form",
    ["completion", "message", "tool call objects", "completion dict", "message dict", "dicts"],
)
def test_openai_reads_every_granularity(form: str) -> None:
    completion = chat_completion(CHAT_MESSAGE)
    reply = {
        "completion": completion,
        "message": completion.choices[0].message,
        "tool call objects": completion.choices[0].message.tool_calls,
        "completion dict": completion.model_dump(),
        "message dict": CHAT_MESSAGE,
        "dicts": CHAT_TOOL_CALLS,
    }[form]
    assert parse("openai", reply) == CHAT_EXPECTED


@pytest.mark.parametrize(
    "message",
    [
        {"role": "assistant", "content": "It is sunny."},
        {"role": "assistant", "content": None},
        {"role": "assistant", "content": "Hi", "tool_calls": []},
        {"role": "assistant", "content": "Hi", "tool_calls": None},
    ],
)
def test_openai_no_calls(message: dict[str, Any]) -> None:
    assert parse("openai", message) == []
    assert parse("openai", chat_completion(message)) == []


def test_openai_arguments_pass_through_untouched_even_broken() -> None:
    calls = [{"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": '}}]
    assert parse("openai", calls) == [ToolCall(id="c", name="f", arguments='{"a": ')]


def test_openai_call_without_id_gets_a_stable_one() -> None:
    calls = [
        {"function": {"name": "f", "arguments": "{}"}},
        {"function": {"name": "f", "arguments": "{}"}},
    ]
    first, second = parse("openai", calls)
    assert GENERATED.fullmatch(first.id)
    assert first.id != second.id  # same call, different position
    assert [c.id for c in parse("openai", calls)] == [first.id, second.id]


# -- Hermes-style calls written as text ------------------------------------------------------------


def hermes(text: str) -> list[ToolCall]:
    return parse("openai", {"role": "assistant", "content": text})


def test_hermes_several_blocks_with_text_around() -> None:
    text = (
        "Let me check both.\n<tool_call>\n"
        '{"name": "weather", "arguments": {"city": "Paris"}}\n'
        "</tool_call>\nand\n<tool_call>"
        '{"name": "time", "arguments": {}}'
        "</tool_call>\nDone."
    )
    calls = hermes(text)
    assert [(c.name, c.arguments) for c in calls] == [("weather", {"city": "Paris"}), ("time", {})]
    assert all(GENERATED.fullmatch(c.id) for c in calls)


def test_hermes_fenced_json_parameters_key_and_lists() -> None:
    text = (
        '<tool_call>\n```json\n{"name": "a", "parameters": {"x": 1}}\n```\n</tool_call>'
        '<tool_call>[{"name": "b", "arguments": {}}, {"name": "c"}]</tool_call>'
    )
    assert [(c.name, c.arguments) for c in hermes(text)] == [
        ("a", {"x": 1}),
        ("b", {}),
        ("c", None),
    ]


def test_hermes_broken_json_keeps_the_name_and_the_raw_arguments() -> None:
    text = (
        '<tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>'
        '<tool_call>{"name": "g", "arguments": "{\\"b\\": 2}"}</tool_call>'  # a JSON string
        '<tool_call>{"name": "h", "arguments": {"c": 3}'  # unclosed, cut at the stop token
    )
    calls = hermes(text)
    assert [(c.name, c.arguments) for c in calls] == [
        ("f", '{"a": 1,}'),
        ("g", '{"b": 2}'),
        ("h", '{"c": 3}'),
    ]


def test_hermes_only_when_there_are_no_real_tool_calls() -> None:
    message = {**CHAT_MESSAGE, "content": '<tool_call>{"name": "x"}</tool_call>'}
    assert parse("openai", message) == CHAT_EXPECTED


def test_hermes_in_content_parts() -> None:
    content = [
        {"type": "text", "text": "<tool_call>"},
        {"type": "text", "text": '{"name": "f", "arguments": {}}</tool_call>'},
    ]
    assert [c.name for c in parse("openai", {"role": "assistant", "content": content})] == ["f"]


def test_generated_ids_are_stable_and_positional() -> None:
    text = '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
    assert hermes(text) == hermes(text)
    twice = hermes(text + text)
    assert twice[0] == hermes(text)[0]
    assert twice[1].id != twice[0].id
    # Pinned: a recorded conversation must replay with the same ids in every release.
    assert generated_id(0, "weather", {"city": "Paris"}) == "call_ffdbb836060a"
    assert generated_id(0, "weather", '{"city": "Paris"}') == "call_ffdbb836060a"
    assert generated_id(1, "weather", {"city": "Paris"}) == "call_b789b4913b44"


# -- OpenAI Responses ------------------------------------------------------------------------------

RESPONSE_OUTPUT: list[dict[str, Any]] = [
    {"type": "reasoning", "id": "rs_1", "summary": []},
    {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Checking.", "annotations": []}],
    },
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_a",
        "name": "weather",
        "arguments": '{"city": "Paris"}',
        "status": "completed",
    },
    {
        "type": "function_call",
        "id": "fc_2",
        "call_id": "call_b",
        "name": "time",
        "arguments": "{}",
        "status": "completed",
    },
]


def response(output: list[dict[str, Any]]) -> Any:
    from openai.types.responses import Response

    return Response.model_validate(
        {
            "id": "resp_1",
            "object": "response",
            "created_at": 0,
            "model": "gpt-5",
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
        }
    )


@OPENAI_RESPONSE_MODELS
@pytest.mark.parametrize("form", ["response", "output objects", "response dict", "item dicts"])
def test_responses_reads_function_calls_by_call_id(form: str) -> None:
    sdk = response(RESPONSE_OUTPUT)
    reply = {
        "response": sdk,
        "output objects": sdk.output,
        "response dict": sdk.model_dump(),
        "item dicts": RESPONSE_OUTPUT,
    }[form]
    assert parse("openai-responses", reply) == CHAT_EXPECTED


@OPENAI_RESPONSE_MODELS
def test_responses_without_calls() -> None:
    assert parse("openai-responses", response(RESPONSE_OUTPUT[:2])) == []
    assert parse("openai-responses", {"output": []}) == []


# -- Anthropic -------------------------------------------------------------------------------------

ANTHROPIC_CONTENT: list[dict[str, Any]] = [
    {"type": "thinking", "thinking": "Two tools.", "signature": "sig"},
    {"type": "text", "text": "Checking."},
    {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {"city": "Paris"}},
    {"type": "tool_use", "id": "toolu_b", "name": "time", "input": {}},
]
ANTHROPIC_EXPECTED = [
    ToolCall(id="toolu_a", name="weather", arguments={"city": "Paris"}),
    ToolCall(id="toolu_b", name="time", arguments={}),
]


def message(content: list[dict[str, Any]]) -> Any:
    from anthropic.types import Message

    return Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": content,
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )


@pytest.mark.parametrize("form", ["message", "block objects", "message dict", "block dicts"])
def test_anthropic_reads_tool_use_blocks(form: str) -> None:
    sdk = message(ANTHROPIC_CONTENT)
    reply = {
        "message": sdk,
        "block objects": sdk.content,
        "message dict": sdk.model_dump(),
        "block dicts": ANTHROPIC_CONTENT,
    }[form]
    assert parse("anthropic", reply) == ANTHROPIC_EXPECTED


def test_anthropic_without_calls() -> None:
    assert parse("anthropic", message(ANTHROPIC_CONTENT[:2])) == []
    assert parse("anthropic", {"role": "assistant", "content": "Just text."}) == []


# -- Workers AI ------------------------------------------------------------------------------------

WORKERS_CALLS: list[dict[str, Any]] = [
    {"name": "weather", "arguments": {"city": "Paris"}},
    {"name": "time", "arguments": "{}"},
]


@pytest.mark.parametrize(
    "reply",
    [
        {"result": {"response": None, "tool_calls": WORKERS_CALLS}, "success": True, "errors": []},
        {"response": "", "tool_calls": WORKERS_CALLS},
        WORKERS_CALLS,
    ],
    ids=["rest", "result", "list"],
)
def test_workers_ai_reads_calls_with_generated_ids(reply: Any) -> None:
    calls = parse("workers-ai", reply)
    assert [(c.name, c.arguments) for c in calls] == [
        ("weather", {"city": "Paris"}),
        ("time", "{}"),
    ]
    assert [c.id for c in calls] == [
        generated_id(0, "weather", {"city": "Paris"}),
        generated_id(1, "time", "{}"),
    ]


def test_workers_ai_openai_style_items_keep_their_ids() -> None:
    items = [{"id": "chatcmpl-tool-1", "type": "function", "function": WORKERS_CALLS[0]}]
    assert parse("workers-ai", {"result": {"tool_calls": items}}) == [
        ToolCall(id="chatcmpl-tool-1", name="weather", arguments={"city": "Paris"})
    ]


def test_workers_ai_falls_back_to_hermes_text() -> None:
    text = 'Sure. <tool_call>{"name": "weather", "arguments": {"city": "Oslo"}}</tool_call>'
    calls = parse("workers-ai", {"result": {"response": text}})
    assert [(c.name, c.arguments) for c in calls] == [("weather", {"city": "Oslo"})]
    assert parse("workers-ai", {"result": {"response": "It is sunny.", "tool_calls": []}}) == []


# -- Gemini ----------------------------------------------------------------------------------------

GEMINI_PARTS: list[dict[str, Any]] = [
    {"text": "Checking."},
    {"functionCall": {"id": "fc-1", "name": "weather", "args": {"city": "Paris"}}},
    {"functionCall": {"name": "time"}},
]
GEMINI_CONTENT: dict[str, Any] = {"role": "model", "parts": GEMINI_PARTS}


@pytest.mark.parametrize(
    "reply",
    [
        {"candidates": [{"content": GEMINI_CONTENT, "finishReason": "STOP"}]},
        {"content": GEMINI_CONTENT},
        GEMINI_CONTENT,
        GEMINI_PARTS,
    ],
    ids=["response", "candidate", "content", "parts"],
)
def test_gemini_reads_function_calls(reply: Any) -> None:
    assert parse("gemini", reply) == [
        ToolCall(id="fc-1", name="weather", arguments={"city": "Paris"}),
        ToolCall(id=generated_id(1, "time", None), name="time", arguments=None),
    ]


def test_gemini_reads_google_genai_style_objects() -> None:
    call = SimpleNamespace(id=None, name="weather", args={"city": "Paris"})
    part = SimpleNamespace(text=None, function_call=call)
    reply = SimpleNamespace(candidates=[SimpleNamespace(content=SimpleNamespace(parts=[part]))])
    assert [(c.name, c.arguments) for c in parse("gemini", reply)] == [
        ("weather", {"city": "Paris"})
    ]


@pytest.mark.parametrize(
    "reply",
    [
        {"candidates": []},
        {"candidates": [{"finishReason": "SAFETY"}]},
        {"candidates": [{"content": {"role": "model"}}]},
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi."}]}}]},
    ],
)
def test_gemini_without_calls(reply: Any) -> None:
    assert parse("gemini", reply) == []


# -- MCP -------------------------------------------------------------------------------------------


def test_mcp_reads_params_and_json_rpc_requests() -> None:
    params = {"name": "weather", "arguments": {"city": "Paris"}}
    request = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
    assert parse("mcp", request) == [ToolCall(id="7", name="weather", arguments={"city": "Paris"})]
    assert parse("mcp", {**request, "id": "req-1"})[0].id == "req-1"
    (call,) = parse("mcp", params)
    assert call.id == generated_id(0, "weather", {"city": "Paris"})
    assert parse("mcp", {"name": "time"}) == [
        ToolCall(id=generated_id(0, "time", None), name="time", arguments=None)
    ]


# -- malformed replies -----------------------------------------------------------------------------


MALFORMED: list[tuple[str, Any, str]] = [
    (
        "openai",
        {"foo": 1},
        "openai: expected a ChatCompletion, .* got a dict with keys ['foo']",
    ),
    ("openai", 42, "openai: expected a ChatCompletion, .* got a int"),
    ("openai", {"choices": []}, "openai: the completion has no choices"),
    ("openai", {"choices": [{"index": 0}]}, "openai: choice 0 has no 'message'"),
    ("openai", {"tool_calls": "f()"}, "openai: 'tool_calls' is not a list: a str"),
    ("openai", [{"id": "c"}], "openai: tool call 0 has no 'function'"),
    ("openai", [{"function": {"arguments": "{}"}}], "openai: tool call 0 has no tool name"),
    ("openai", [{"function": {"name": 3}}], "openai: tool call 0 has no tool name .got 3."),
    ("openai", [{"id": 1, "function": {"name": "f"}}], "tool call 0 has an id that is not"),
    (
        "openai",
        [{"type": "custom", "custom": {"name": "f", "input": ""}}],
        "openai: tool call 0 has type 'custom'; only function calls run",
    ),
    ("openai-responses", {"foo": 1}, "openai-responses: expected a Response"),
    ("openai-responses", {"output": {}}, "openai-responses: 'output' is not a list"),
    ("openai-responses", [{"name": "f"}], "openai-responses: output item 0 has no 'type'"),
    (
        "openai-responses",
        [{"type": "function_call", "call_id": "c", "arguments": "{}"}],
        "openai-responses: output item 0 has no tool name",
    ),
    ("anthropic", {"foo": 1}, "anthropic: expected a Message or a list of content blocks"),
    ("anthropic", {"content": 5}, "anthropic: 'content' is not a list: a int"),
    ("anthropic", [{"text": "hi"}], "anthropic: content block 0 has no 'type'"),
    ("anthropic", [{"type": "tool_use", "id": "t"}], "anthropic: content block 0 has no tool"),
    (
        "workers-ai",
        {"result": None, "success": False, "errors": [{"code": 5006, "message": "bad"}]},
        "workers-ai: the request failed: .*5006",
    ),
    ("workers-ai", {"foo": 1}, "workers-ai: expected a response with 'result'"),
    ("workers-ai", {"result": {"tool_calls": {}}}, "workers-ai: 'tool_calls' is not a list"),
    ("workers-ai", [{"arguments": {}}], "workers-ai: tool call 0 has no tool name"),
    ("gemini", {"foo": 1}, "gemini: expected a GenerateContentResponse"),
    ("gemini", {"parts": "x"}, "gemini: 'parts' is not a list"),
    ("gemini", [{"functionCall": {"args": {}}}], "gemini: part 0 has no tool name"),
    ("mcp", {"method": "tools/list", "id": 1}, "mcp: expected a 'tools/call' request"),
    ("mcp", {"method": "tools/call", "id": 1}, "mcp: the tools/call request has no 'params'"),
    ("mcp", {"arguments": {}}, "mcp: expected tools/call params"),
    ("mcp", {"name": None}, "mcp: the tools/call params has no tool name"),
]


@pytest.mark.parametrize(("format", "reply", "message"), MALFORMED)
def test_malformed_replies_are_clear_value_errors(format: str, reply: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(format, reply)


# -- result messages -------------------------------------------------------------------------------


def test_openai_result_messages() -> None:
    assert get_format("openai").result_messages([OK, FAILED]) == [
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp":21}'},
        {"role": "tool", "tool_call_id": "call_2", "content": FAILED.content},
    ]


def test_openai_responses_result_messages() -> None:
    assert get_format("openai-responses").result_messages([OK, FAILED]) == [
        {"type": "function_call_output", "call_id": "call_1", "output": '{"temp":21}'},
        {"type": "function_call_output", "call_id": "call_2", "output": FAILED.content},
    ]


def test_anthropic_result_messages_are_one_user_message() -> None:
    assert get_format("anthropic").result_messages([OK, FAILED]) == [
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": '{"temp":21}'},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": FAILED.content,
                    "is_error": True,
                },
            ],
        }
    ]


def test_workers_ai_result_messages() -> None:
    assert get_format("workers-ai").result_messages([OK, FAILED]) == [
        {"role": "tool", "name": "weather", "tool_call_id": "call_1", "content": '{"temp":21}'},
        {"role": "tool", "name": "weather", "tool_call_id": "call_2", "content": FAILED.content},
    ]


def test_gemini_result_messages_echo_only_the_ids_the_model_sent() -> None:
    generated = ToolResult(
        call_id=generated_id(0, "time", None), name="time", value="12:00", content="12:00"
    )
    assert get_format("gemini").result_messages([OK, FAILED, generated]) == [
        {
            "role": "user",
            "parts": [
                {
                    "functionResponse": {
                        "name": "weather",
                        "id": "call_1",
                        "response": {"result": '{"temp":21}'},
                    }
                },
                {
                    "functionResponse": {
                        "name": "weather",
                        "id": "call_2",
                        "response": {"error": FAILED.content},
                    }
                },
                {"functionResponse": {"name": "time", "response": {"result": "12:00"}}},
            ],
        }
    ]


@pytest.mark.parametrize("format", FORMATS)
def test_no_results_no_messages(format: str) -> None:
    assert get_format(format).result_messages([]) == []


class Reading(BaseModel):
    temp: float
    unit: str = "c"


@dataclass
class Wind:
    speed: int


def test_mcp_result_messages() -> None:
    assert get_format("mcp").result_messages([OK, FAILED]) == [
        {
            "content": [{"type": "text", "text": '{"temp":21}'}],
            "isError": False,
            "structuredContent": {"temp": 21},
        },
        {"content": [{"type": "text", "text": FAILED.content}], "isError": True},
    ]


@pytest.mark.parametrize(
    ("value", "structured"),
    [
        (Reading(temp=21.5), {"temp": 21.5, "unit": "c"}),
        (Wind(speed=3), {"speed": 3}),
        ({"a": 1}, {"a": 1}),
        (3, {"result": 3}),
        (["a", "b"], {"result": ["a", "b"]}),
        (None, {"result": None}),
    ],
)
def test_mcp_structured_content_is_always_an_object(value: Any, structured: Any) -> None:
    result = ToolResult(call_id="1", name="f", value=value, content="text")
    (message,) = get_format("mcp").result_messages([result])
    assert message["structuredContent"] == structured


def test_mcp_structured_content_matches_the_output_schema() -> None:
    @tool
    def reading() -> Reading:
        """Read."""
        return Reading(temp=20)

    @tool
    def count() -> int:
        """Count."""
        return 3

    @tool
    def tags() -> list[str]:
        """Tag."""
        return ["a"]

    @tool
    def totals() -> dict[str, int]:
        """Total."""
        return {"a": 1}

    codec = get_format("mcp")
    for t in (reading, count, tags, totals):
        value = t()
        (message,) = codec.result_messages(
            [ToolResult(call_id="1", name=t.name, value=value, content=repr(value))]
        )
        jsonschema.validate(message["structuredContent"], t.definition("mcp")["outputSchema"])


# -- round trips through the SDKs' own types -------------------------------------------------------


def test_openai_round_trip() -> None:
    from openai.types.chat import ChatCompletionToolMessageParam

    completion = chat_completion(CHAT_MESSAGE)
    calls = parse("openai", completion)
    messages = get_format("openai").result_messages(results_for(calls))
    assert [m["tool_call_id"] for m in messages] == ["call_a", "call_b"]
    adapter = TypeAdapter(ChatCompletionToolMessageParam)
    for m in messages:
        assert adapter.validate_python(m) == m  # required keys present, no unknown keys


@OPENAI_RESPONSE_MODELS
def test_openai_responses_round_trip() -> None:
    from openai.types.responses.response_input_param import FunctionCallOutput

    sdk = response(RESPONSE_OUTPUT)
    calls = parse("openai-responses", sdk)
    items = get_format("openai-responses").result_messages(results_for(calls))
    assert [i["call_id"] for i in items] == [
        o.call_id for o in sdk.output if o.type == "function_call"
    ]
    adapter = TypeAdapter(FunctionCallOutput)
    for item in items:
        assert adapter.validate_python(item) == item


def test_anthropic_round_trip() -> None:
    from anthropic.types import ToolResultBlockParam

    try:
        from anthropic.types.user_message_param import UserMessageParam
    except ImportError:  # anthropic < 2: one MessageParam, with the same two keys
        from anthropic.types import MessageParam as UserMessageParam  # pyright: ignore[reportAssignmentType]

    sdk = message(ANTHROPIC_CONTENT)
    calls = parse("anthropic", sdk)
    (user,) = get_format("anthropic").result_messages([*results_for(calls), FAILED])
    # Python 3.10's get_type_hints keeps typing_extensions.Required; the keys are what count.
    hints = typing.get_type_hints(UserMessageParam)
    assert set(user) == set(hints)
    assert user["role"] == "user"
    adapter = TypeAdapter(ToolResultBlockParam)
    for block in user["content"]:
        assert adapter.validate_python(block) == block
    assert [b["tool_use_id"] for b in user["content"]] == ["toolu_a", "toolu_b", "call_2"]


# -- the protocol ----------------------------------------------------------------------------------


@pytest.mark.parametrize("format", FORMATS)
def test_every_codec_speaks_the_whole_protocol(format: str) -> None:
    codec: ToolCodec = get_format(format)
    assert callable(codec.parse_calls)
    assert callable(codec.result_messages)


def test_parsing_dicts_loads_no_provider_sdk() -> None:
    code = (
        "import sys\n"
        "from toolkit.calls import ToolResult\n"
        "from toolkit.formats import FORMATS, get_format\n"
        "r = ToolResult(call_id='c', name='f', value=1, content='1')\n"
        "for f in FORMATS:\n"
        "    get_format(f).result_messages([r])\n"
        "get_format('openai').parse_calls({'role': 'assistant', 'content': 'hi'})\n"
        "get_format('anthropic').parse_calls({'content': []})\n"
        "print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
