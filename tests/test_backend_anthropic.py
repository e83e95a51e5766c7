"""The Anthropic Messages backend and codec, driven through the real ``anthropic`` clients
against the local fake server, plus the stream assembler on hand-written events."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any, TypeVar

import pytest
from fakeserver import Call, FakeServer, Reply

from toolkit.backends.anthropic import AnthropicMessages
from toolkit.calls import ToolResult
from toolkit.errors import ModelError
from toolkit.formats.anthropic import CODEC, DEFAULT_MAX_TOKENS, AnthropicStreamAssembler
from toolkit.model import (
    AsyncModel,
    ModelReply,
    ModelRequest,
    StreamDelta,
    SyncModel,
    ToolChoice,
    Usage,
)

WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the weather.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
TIME: dict[str, Any] = {
    "name": "get_time",
    "description": "Get the time.",
    "input_schema": {"type": "object", "properties": {}},
}
PARIS = Call("get_weather", {"city": "Paris"}, id="toolu_paris")
TOKYO = Call("get_weather", {"city": "Tokyo"}, id="toolu_tokyo")
USER: dict[str, Any] = {"role": "user", "content": "Weather in Paris and Tokyo?"}
T = TypeVar("T")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def backend(server: FakeServer) -> Iterator[AnthropicMessages]:
    """The backend over a real ``anthropic.Anthropic`` on the fake, closed afterwards."""
    import anthropic

    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0
    ) as client:
        yield AnthropicMessages(client)


def run_async(server: FakeServer, body: Callable[[AnthropicMessages], Awaitable[T]]) -> T:
    """``body(backend)`` over a real ``anthropic.AsyncAnthropic``, in one event loop."""
    import anthropic

    async def main() -> T:
        async with anthropic.AsyncAnthropic(
            base_url=server.anthropic_base_url, api_key="test", max_retries=0
        ) as client:
            return await body(AnthropicMessages(client))

    return asyncio.run(main())


def request(
    messages: list[dict[str, Any]] | None = None,
    *,
    tools: tuple[dict[str, Any], ...] = (WEATHER, TIME),
    tool_choice: ToolChoice = "auto",
    parallel_tool_calls: bool | None = None,
    system: str | None = None,
    settings: dict[str, Any] | None = None,
) -> ModelRequest:
    return ModelRequest(
        model="claude-test",
        messages=messages or [USER],
        system=system,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=parallel_tool_calls,
        settings=settings or {},
    )


def results_for(reply: ModelReply) -> list[ToolResult]:
    return [
        ToolResult(call_id=call.id, name=call.name, value="sunny", content="sunny")
        for call in reply.calls
    ]


def collect(items: Iterator[StreamDelta | ModelReply]) -> tuple[list[StreamDelta], ModelReply]:
    collected = list(items)
    *deltas, final = collected
    assert isinstance(final, ModelReply)
    assert all(isinstance(delta, StreamDelta) for delta in deltas)
    return [d for d in deltas if isinstance(d, StreamDelta)], final


async def acollect(backend: AnthropicMessages, req: ModelRequest) -> list[StreamDelta | ModelReply]:
    return [item async for item in backend.stream_async(req)]


def same(a: ModelReply, b: ModelReply) -> None:
    """Two replies agree on everything but the provider's ids and raw objects."""
    assert (a.message, a.text, a.calls, a.stop, a.usage) == (
        b.message,
        b.text,
        b.calls,
        b.stop,
        b.usage,
    )


# -- the backend over the real client ----------------------------------------------------------


def test_backend_implements_both_protocols(server: FakeServer, backend: AnthropicMessages) -> None:
    assert isinstance(backend, SyncModel)
    assert isinstance(backend, AsyncModel)
    assert backend.codec.name == "anthropic"
    assert backend.codec.user_message("Hi") == {"role": "user", "content": "Hi"}
    assert not backend.is_async

    async def is_async(backend: AnthropicMessages) -> bool:
        return backend.is_async

    assert run_async(server, is_async)


def test_complete_text(server: FakeServer, backend: AnthropicMessages) -> None:
    server.script(Reply.text("Sunny all week.", input_tokens=12, output_tokens=5))
    reply = backend.complete(request())
    assert reply.text == "Sunny all week."
    assert reply.message == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Sunny all week."}],
    }
    assert (reply.calls, reply.stop, reply.usage) == ((), "end", Usage(12, 5))
    assert reply.response_id is not None
    assert reply.response_id.startswith("msg_")
    assert type(reply.raw).__name__ == "Message"


def test_complete_parallel_tool_calls(server: FakeServer, backend: AnthropicMessages) -> None:
    server.script(Reply.text_and_calls("Let me check.", PARIS, TOKYO))
    reply = backend.complete(request())
    assert reply.stop == "tool_calls"
    assert reply.text == "Let me check."
    assert [(c.id, c.name, c.arguments) for c in reply.calls] == [
        ("toolu_paris", "get_weather", {"city": "Paris"}),
        ("toolu_tokyo", "get_weather", {"city": "Tokyo"}),
    ]
    assert reply.message["content"] == [
        {"type": "text", "text": "Let me check."},
        {
            "type": "tool_use",
            "id": "toolu_paris",
            "name": "get_weather",
            "input": {"city": "Paris"},
        },
        {
            "type": "tool_use",
            "id": "toolu_tokyo",
            "name": "get_weather",
            "input": {"city": "Tokyo"},
        },
    ]


def test_acomplete_text_and_calls(server: FakeServer) -> None:
    server.script([Reply.text("Hello."), Reply.calls(PARIS, TOKYO)])

    async def both(backend: AnthropicMessages) -> tuple[ModelReply, ModelReply]:
        return await backend.complete_async(request()), await backend.complete_async(request())

    text, calls = run_async(server, both)
    assert (text.text, text.stop) == ("Hello.", "end")
    assert [c.id for c in calls.calls] == ["toolu_paris", "toolu_tokyo"]
    assert calls.stop == "tool_calls"


@pytest.mark.parametrize(
    ("scripted", "stop"),
    [
        (Reply.text("Once upon", stop="length"), "length"),
        (Reply.calls(PARIS, stop="length"), "length"),
        (Reply.text("Searching...", stop="pause_turn"), "pause"),
        (Reply.refuse(), "refusal"),
        (Reply.text("No.", stop="content_filter"), "refusal"),
        (Reply.text("Done."), "end"),
    ],
)
def test_stop_reasons(
    server: FakeServer, backend: AnthropicMessages, scripted: Reply, stop: str
) -> None:
    server.script([scripted, scripted])
    assert backend.complete(request()).stop == stop
    _, streamed = collect(backend.stream(request()))
    assert streamed.stop == stop


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        ("get_time", None, {"type": "tool", "name": "get_time"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (
            "get_time",
            False,
            {"type": "tool", "name": "get_time", "disable_parallel_tool_use": True},
        ),
        ("none", False, {"type": "none"}),
        ("auto", True, {"type": "auto"}),
    ],
)
def test_tool_choice_accepted_by_the_api(
    server: FakeServer,
    backend: AnthropicMessages,
    choice: str,
    parallel: bool | None,
    expected: dict[str, Any],
) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(tool_choice=choice, parallel_tool_calls=parallel))
    assert server.last_request.status == 200
    assert server.last_request.body["tool_choice"] == expected


def test_no_tools_no_tool_choice(server: FakeServer, backend: AnthropicMessages) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(tools=(), tool_choice="required"))
    body = server.last_request.body
    assert "tools" not in body
    assert "tool_choice" not in body


def test_system_is_a_top_level_parameter(server: FakeServer, backend: AnthropicMessages) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(system="Be brief."))
    body = server.last_request.body
    assert body["system"] == "Be brief."
    assert [m["role"] for m in body["messages"]] == ["user"]


def test_settings_pass_through_and_max_tokens_default(
    server: FakeServer, backend: AnthropicMessages
) -> None:
    server.script([Reply.text("ok"), Reply.text("ok")])
    backend.complete(request())
    assert server.last_request.body["max_tokens"] == DEFAULT_MAX_TOKENS
    settings = {"max_tokens": 77, "temperature": 0.2, "stop_sequences": ["END"], "top_k": 5}
    backend.complete(request(settings={**settings, "stream": True}))
    body = server.last_request.body
    assert {key: body[key] for key in settings} == settings
    assert "stream" not in body  # complete() never streams


def test_stream_sync_matches_complete(server: FakeServer, backend: AnthropicMessages) -> None:
    scripted = Reply.text_and_calls(
        "Let me check the weather.", PARIS, TOKYO, input_tokens=30, output_tokens=9
    )
    server.script([scripted, scripted])
    complete = backend.complete(request())
    deltas, streamed = collect(backend.stream(request()))
    same(streamed, complete)
    assert server.last_request.body["stream"] is True
    assert "".join(d.text for d in deltas) == "Let me check the weather."
    assert len([d for d in deltas if d.text]) > 1  # really streamed, word by word
    heads = [d for d in deltas if d.call_name]
    assert [(d.call_index, d.call_id, d.call_name) for d in heads] == [
        (0, "toolu_paris", "get_weather"),
        (1, "toolu_tokyo", "get_weather"),
    ]
    for index, call in enumerate(streamed.calls):
        pieces = [d.arguments for d in deltas if d.call_index == index]
        assert len([p for p in pieces if p]) > 1  # in several fragments
        assert json.loads("".join(pieces)) == call.arguments


def test_stream_async_matches_complete(server: FakeServer) -> None:
    scripted = Reply.text_and_calls("Checking.", PARIS, input_tokens=8, output_tokens=4)
    server.script([scripted, scripted])

    async def both(backend: AnthropicMessages) -> tuple[ModelReply, list[Any]]:
        return await backend.complete_async(request()), await acollect(backend, request())

    complete, items = run_async(server, both)
    deltas, streamed = collect(iter(items))
    same(streamed, complete)
    assert "".join(d.text for d in deltas) == "Checking."
    assert json.loads("".join(d.arguments for d in deltas)) == {"city": "Paris"}


def test_stream_closed_early(server: FakeServer, backend: AnthropicMessages) -> None:
    server.script([Reply.text("one two three four"), Reply.text("again")])
    items = backend.stream(request())
    assert next(items) == StreamDelta(text="one")
    assert isinstance(items, Generator)
    items.close()  # releases the HTTP stream
    assert backend.complete(request()).text == "again"


@pytest.mark.parametrize("streamed", [False, True])
def test_round_trip_history_is_accepted(
    server: FakeServer, backend: AnthropicMessages, streamed: bool
) -> None:
    server.script([Reply.text_and_calls("Let me check.", PARIS, TOKYO), Reply.text("Sunny.")])
    history: list[dict[str, Any]] = [USER]
    if streamed:
        first = collect(backend.stream(request(history)))[1]
    else:
        first = backend.complete(request(history))
    history.append(first.message)
    history.extend(CODEC.result_messages(results_for(first)))
    second = backend.complete(request(history))
    assert second.text == "Sunny."
    assert server.last_request.status == 200
    sent = server.last_request.body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert [b["type"] for b in sent[2]["content"]] == ["tool_result", "tool_result"]
    assert [b["tool_use_id"] for b in sent[2]["content"]] == ["toolu_paris", "toolu_tokyo"]


def test_round_trip_async(server: FakeServer) -> None:
    server.script([Reply.calls(PARIS), Reply.text("Sunny.")])

    async def two_steps(backend: AnthropicMessages) -> ModelReply:
        history: list[dict[str, Any]] = [USER]
        first = (await acollect(backend, request(history)))[-1]
        assert isinstance(first, ModelReply)
        history.append(first.message)
        history.extend(CODEC.result_messages(results_for(first)))
        return await backend.complete_async(request(history))

    assert run_async(server, two_steps).text == "Sunny."
    assert server.last_request.status == 200


def test_pause_turn_is_sent_back_as_it_is(server: FakeServer, backend: AnthropicMessages) -> None:
    server.script([Reply.text("Searching...", stop="pause_turn"), Reply.text("Found it.")])
    history: list[dict[str, Any]] = [USER]
    paused = backend.complete(request(history))
    assert paused.stop == "pause"
    history.append(paused.message)
    assert backend.complete(request(history)).text == "Found it."
    assert server.last_request.body["messages"][-1]["role"] == "assistant"


def test_sdk_errors_pass_through(backend: AnthropicMessages) -> None:
    import anthropic

    with pytest.raises(anthropic.BadRequestError):
        backend.complete(request(tool_choice="no_such_tool"))


def test_wrong_client_kind_is_a_type_error(server: FakeServer, backend: AnthropicMessages) -> None:
    async def misuse(asynchronous: AnthropicMessages) -> None:
        with pytest.raises(TypeError, match=r"complete\(\) needs a sync anthropic\.Anthropic"):
            asynchronous.complete(request())
        with pytest.raises(TypeError, match=r"stream\(\) needs a sync"):
            asynchronous.stream(request())  # raised at once, not on first iteration

    run_async(server, misuse)
    with pytest.raises(TypeError, match=r"complete_async\(\) needs an anthropic\.AsyncAnthropic"):
        asyncio.run(backend.complete_async(request()))
    with pytest.raises(TypeError, match=r"stream_async\(\) needs an anthropic\.AsyncAnthropic"):
        backend.stream_async(request())
    with pytest.raises(TypeError, match=r"needs an anthropic\.Anthropic or"):
        AnthropicMessages(object())
    assert server.requests == []


# -- the codec, without the network ------------------------------------------------------------


def test_build_request_shape() -> None:
    kwargs = CODEC.build_request(
        request(system="S", tool_choice="get_weather", parallel_tool_calls=False)
    )
    assert kwargs == {
        "model": "claude-test",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [USER],
        "system": "S",
        "tools": [WEATHER, TIME],
        "tool_choice": {"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
    }


THINKING = {"type": "thinking", "thinking": "The user wants weather.", "signature": "sig=="}
REDACTED = {"type": "redacted_thinking", "data": "opaque"}


def test_parse_reply_keeps_thinking_blocks_verbatim() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [
            THINKING,
            REDACTED,
            {"type": "text", "text": "Let me ", "citations": None},
            {"type": "text", "text": "check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"x": None}},
        ],
        "stop_reason": "tool_use",
        "usage": {
            "input_tokens": 5,
            "output_tokens": 3,
            "cache_read_input_tokens": 100,
            "cache_creation_input_tokens": 20,
        },
    }
    reply = CODEC.parse_reply(message)
    assert reply.message == {
        "role": "assistant",
        "content": [
            THINKING,
            REDACTED,
            {"type": "text", "text": "Let me "},
            {"type": "text", "text": "check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"x": None}},
        ],
    }
    assert reply.text == "Let me check."
    assert [c.id for c in reply.calls] == ["toolu_1"]
    assert reply.usage == Usage(125, 3)
    assert (reply.stop, reply.response_id, reply.raw) == ("tool_calls", "msg_1", message)


@pytest.mark.parametrize(
    ("stop_reason", "stop"),
    [
        ("end_turn", "end"),
        ("stop_sequence", "end"),
        ("tool_use", "tool_calls"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("pause_turn", "pause"),
        ("refusal", "refusal"),
        ("something_new", "other"),
        (None, "other"),
    ],
)
def test_parse_reply_stop_reasons(stop_reason: str | None, stop: str) -> None:
    reply = CODEC.parse_reply({"content": [], "stop_reason": stop_reason})
    assert reply.stop == stop
    assert reply.usage == Usage()


def test_parse_reply_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="expected a Message"):
        CODEC.parse_reply({"choices": []})
    with pytest.raises(ValueError, match="without 'type'"):
        CODEC.parse_reply({"content": [{"text": "hi"}]})


def events_for(*blocks: dict[str, Any], stop_reason: str = "end_turn") -> list[dict[str, Any]]:
    """A stream of hand-written raw events, as the API sends them, for ``blocks``."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_s",
                "type": "message",
                "role": "assistant",
                "model": "claude-test",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 40, "output_tokens": 1, "cache_read_input_tokens": 2},
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            for piece in re.findall(r"\S+\s*", block["text"]):
                delta = {"type": "text_delta", "text": piece}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            events.append({"type": "content_block_start", "index": index, "content_block": start})
            for delta in (
                {"type": "thinking_delta", "thinking": block["thinking"][:5]},
                {"type": "thinking_delta", "thinking": block["thinking"][5:]},
                {"type": "signature_delta", "signature": block["signature"]},
            ):
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        elif kind == "tool_use":
            head: dict[str, Any] = {**block, "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": head})
            text = json.dumps(block["input"])
            for piece in ("", text[:4], text[4:]) if block["input"] else ():
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        else:
            events.append({"type": "content_block_start", "index": index, "content_block": block})
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 17},
        }
    )
    events.append({"type": "message_stop"})
    return events


def test_assembler_equals_parse_reply_of_the_final_message() -> None:
    blocks: tuple[dict[str, Any], ...] = (
        THINKING,
        REDACTED,
        {"type": "text", "text": "Checking both cities."},
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "toolu_b", "name": "get_time", "input": {}},
    )
    assembler = AnthropicStreamAssembler()
    deltas = [
        delta
        for event in events_for(*blocks, stop_reason="tool_use")
        for delta in assembler.feed(event)
    ]
    final: dict[str, Any] = {
        "id": "msg_s",
        "content": list(blocks),
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 40, "output_tokens": 17, "cache_read_input_tokens": 2},
    }
    reply = assembler.reply()
    same(reply, CODEC.parse_reply(final))
    assert reply.usage == Usage(42, 17)
    assert reply.response_id == "msg_s"
    assert "".join(d.text for d in deltas) == "Checking both cities."
    assert [(d.call_index, d.call_id, d.call_name) for d in deltas if d.call_name] == [
        (0, "toolu_a", "get_weather"),
        (1, "toolu_b", "get_time"),
    ]
    assert "".join(d.arguments for d in deltas if d.call_index == 0) == '{"city": "Oslo"}'
    assert all(d.arguments for d in deltas if d.call_index is not None and not d.call_name)


def test_assembler_reads_sdk_event_objects() -> None:
    from anthropic.types import RawMessageStreamEvent
    from pydantic import TypeAdapter

    adapter: TypeAdapter[Any] = TypeAdapter(RawMessageStreamEvent)
    tool = {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Oslo"}}
    raw = events_for(THINKING, {"type": "text", "text": "Hi there"}, tool, stop_reason="tool_use")
    from_objects, from_dicts = AnthropicStreamAssembler(), AnthropicStreamAssembler()
    for event in raw:
        if event["type"] != "ping":
            from_objects.feed(adapter.validate_python(event))
        from_dicts.feed(event)
    same(from_objects.reply(), from_dicts.reply())
    assert from_objects.reply().message["content"][0] == THINKING


def test_assembler_keeps_truncated_arguments_as_text() -> None:
    assembler = AnthropicStreamAssembler()
    events = events_for(
        {"type": "tool_use", "id": "toolu_a", "name": "get_weather", "input": {"city": "Oslo"}},
        stop_reason="max_tokens",
    )
    for event in events:
        if event["type"] == "content_block_delta" and event["delta"]["partial_json"].endswith("}"):
            event["delta"]["partial_json"] = event["delta"]["partial_json"][:-3]
        if event["type"] == "content_block_stop":
            continue  # cut off before the block ended
        assembler.feed(event)
    reply = assembler.reply()
    assert reply.stop == "length"
    assert reply.calls[0].arguments == '{"city": "Osl'


def test_assembler_errors() -> None:
    assembler = AnthropicStreamAssembler()
    with pytest.raises(ModelError, match="overloaded") as caught:
        assembler.feed(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
    assert caught.value.errors == {"type": "overloaded_error", "message": "Overloaded"}
    with pytest.raises(ValueError, match="block 3, never started"):
        assembler.feed(
            {
                "type": "content_block_delta",
                "index": 3,
                "delta": {"type": "text_delta", "text": "x"},
            }
        )
