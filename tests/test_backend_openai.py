"""The OpenAI backends and the codec halves they drive (requests, replies, stream assembly).

Backend tests run the real ``openai.OpenAI`` / ``AsyncOpenAI`` clients against the local fake
server, which validates every request like the live API: a history it accepts back proves
the shapes ``ModelReply.message`` and ``result_messages`` produce are valid. Assembler tests
feed hand-written chunks and events, including the shapes of non-OpenAI servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, cast

import pytest
from fakeserver import Call, FakeServer, Reply

from toolkit import Registry, ToolCall, tool
from toolkit.backends.openai import OpenAIChat, OpenAIResponses
from toolkit.formats.openai_chat import CODEC as CHAT
from toolkit.formats.openai_chat import OpenAIChatStreamAssembler
from toolkit.formats.openai_responses import CODEC as RESPONSES
from toolkit.formats.openai_responses import OpenAIResponsesStreamAssembler
from toolkit.model import AsyncModel, ModelReply, ModelRequest, StreamDelta, SyncModel, Usage


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city.

    Args:
        city: City name.
    """
    return f"Sunny in {city}"


@tool
def get_time(zone: str) -> str:
    """Get the time in a time zone.

    Args:
        zone: IANA zone name.
    """
    return f"12:00 in {zone}"


REGISTRY = Registry([get_weather, get_time])
PARIS = Call("get_weather", {"city": "Paris"}, id="call_paris")
TOKYO = Call("get_weather", {"city": "Tokyo"}, id="call_tokyo")
UTC = Call("get_time", {"zone": "UTC"}, id="call_utc")
Backend = OpenAIChat | OpenAIResponses
KINDS = ("chat", "responses")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def client(server: FakeServer) -> Iterator[Any]:
    """A real sync client on the fake (``Any``: the SDK's overloads are not under test)."""
    import openai

    with openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0) as sync:
        yield sync


def run_async(server: FakeServer, body: Callable[[Any], Any]) -> Any:
    """Run ``await body(async_client)`` on a fresh ``AsyncOpenAI`` client."""
    import openai

    async def main() -> Any:
        async with openai.AsyncOpenAI(
            base_url=server.openai_base_url, api_key="test", max_retries=0
        ) as client:
            return await body(client)

    return asyncio.run(main())


def backend(kind: str, client: Any, **options: Any) -> Backend:
    return OpenAIChat(client) if kind == "chat" else OpenAIResponses(client, **options)


def request(model: Backend, text: str = "Weather in Paris?", **fields: Any) -> ModelRequest:
    """A request with one user turn and both tools, unless ``fields`` say otherwise."""
    fields.setdefault("messages", [model.codec.user_message(text)])
    fields.setdefault("tools", REGISTRY.definitions(model.codec.name))
    return ModelRequest(model="gpt-test", **fields)


def answer(model: Backend, history: list[Any], reply: ModelReply) -> list[Any]:
    """The history extended with the reply and the results of its calls, as the runner does."""
    message: Any = reply.message
    items = cast("list[Any]", message) if isinstance(message, list) else [message]
    results = REGISTRY.execute(reply.calls)
    return [*history, *items, *REGISTRY.result_messages(results, model.codec.name)]


def collect(stream: Iterator[StreamDelta | ModelReply]) -> tuple[list[StreamDelta], ModelReply]:
    items = list(stream)
    last = items.pop()
    assert isinstance(last, ModelReply)
    assert all(isinstance(item, StreamDelta) for item in items)
    return [item for item in items if isinstance(item, StreamDelta)], last


async def acollect(
    stream: AsyncIterator[StreamDelta | ModelReply],
) -> tuple[list[StreamDelta], ModelReply]:
    items = [item async for item in stream]
    last = items.pop()
    assert isinstance(last, ModelReply)
    return [item for item in items if isinstance(item, StreamDelta)], last


def call_parts(deltas: list[StreamDelta]) -> dict[int, tuple[str | None, str | None, str]]:
    """The calls streamed as deltas: ``{index: (id, name, joined arguments)}``."""
    calls: dict[int, tuple[str | None, str | None, str]] = {}
    for delta in deltas:
        if delta.call_index is None:
            continue
        old_id, old_name, arguments = calls.get(delta.call_index, (None, None, ""))
        calls[delta.call_index] = (
            old_id or delta.call_id,
            old_name or delta.call_name,
            arguments + delta.arguments,
        )
    return calls


def neutral(reply: ModelReply) -> tuple[Any, ...]:
    """What a streamed and an unstreamed reply to the same turn must share."""
    return reply.text, reply.calls, reply.stop, reply.usage


# -- the backends against the fake server ------------------------------------------------------


def test_backends_implement_both_model_protocols(client: Any) -> None:
    for model in (OpenAIChat(client), OpenAIResponses(client)):
        assert isinstance(model, SyncModel)
        assert isinstance(model, AsyncModel)
    assert OpenAIChat(client).codec.name == "openai"
    assert OpenAIResponses(client).codec.name == "openai-responses"
    assert repr(OpenAIResponses(client, use_previous_response_id=True)) == (
        "OpenAIResponses(OpenAI, use_previous_response_id=True)"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_complete_text(server: FakeServer, client: Any, kind: str) -> None:
    server.script(Reply.text("Sunny in Paris.", input_tokens=12, output_tokens=4))
    model = backend(kind, client)
    reply = model.complete(request(model))
    assert reply.text == "Sunny in Paris."
    assert reply.calls == ()
    assert reply.stop == "end"
    assert reply.usage == Usage(12, 4)
    assert reply.raw is not None
    assert (reply.response_id is not None) == (kind == "responses")


def test_chat_reply_message_holds_only_what_the_api_takes_back(
    server: FakeServer, client: Any
) -> None:
    server.script([Reply.text("Hi."), Reply.calls(PARIS)])
    model = OpenAIChat(client)
    assert model.complete(request(model)).message == {"role": "assistant", "content": "Hi."}
    assert model.complete(request(model)).message == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_paris",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }


@pytest.mark.parametrize("kind", KINDS)
def test_parallel_calls_round_trip(server: FakeServer, client: Any, kind: str) -> None:
    server.script(
        [
            Reply.text_and_calls("Let me check.", PARIS, TOKYO, UTC),
            Reply.text("Sunny in both; it is noon."),
        ]
    )
    model = backend(kind, client)
    first = request(model, parallel_tool_calls=True)
    reply = model.complete(first)
    assert [call.id for call in reply.calls] == ["call_paris", "call_tokyo", "call_utc"]
    assert reply.calls[0] == ToolCall(
        id="call_paris", name="get_weather", arguments='{"city":"Paris"}'
    )
    assert reply.text == "Let me check."
    assert reply.stop == "tool_calls"
    history = answer(model, list(first.messages), reply)
    final = model.complete(request(model, messages=history))
    assert final.text == "Sunny in both; it is noon."
    sent = server.requests[1].body
    assert sent is not None
    items = sent["messages" if kind == "chat" else "input"]
    assert len(items) == len(history) == (5 if kind == "chat" else 8)  # items per call
    assert server.requests[0].body["parallel_tool_calls"] is True


@pytest.mark.parametrize("kind", KINDS)
def test_acomplete_round_trip(server: FakeServer, kind: str) -> None:
    server.script([Reply.calls(PARIS, UTC), Reply.text("Done.")])

    async def body(client: Any) -> tuple[ModelReply, ModelReply]:
        model = backend(kind, client)
        first = request(model)
        reply = await model.complete_async(first)
        history = answer(model, list(first.messages), reply)
        return reply, await model.complete_async(request(model, messages=history))

    reply, final = run_async(server, body)
    assert [call.name for call in reply.calls] == ["get_weather", "get_time"]
    assert final.text == "Done."
    assert final.stop == "end"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("scripted", "stop", "text"),
    [
        (Reply.text("It was a dark and", stop="length"), "length", "It was a dark and"),
        (Reply.refuse("I can't help with that."), "refusal", "I can't help with that."),
        (Reply.text("", stop="content_filter"), "content_filter", ""),
    ],
)
def test_stop_reasons(
    server: FakeServer, client: Any, kind: str, *, scripted: Reply, stop: str, text: str
) -> None:
    server.script([scripted, Reply.text("Fine.")])
    model = backend(kind, client)
    first = request(model)
    reply = model.complete(first)
    assert (reply.stop, reply.text) == (stop, text)
    # The reply, refusal or cut-off included, is valid history.
    history = [*first.messages, *answer(model, [], reply), model.codec.user_message("Go on.")]
    assert model.complete(request(model, messages=history)).text == "Fine."


def test_chat_refusal_is_kept_in_the_message(server: FakeServer, client: Any) -> None:
    server.script(Reply.refuse("No."))
    model = OpenAIChat(client)
    message = model.complete(request(model)).message
    assert message == {"role": "assistant", "content": "", "refusal": "No."}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("choice", "chat_wire", "responses_wire"),
    [
        ("auto", "auto", "auto"),
        ("none", "none", "none"),
        ("required", "required", "required"),
        (
            "get_time",
            {"type": "function", "function": {"name": "get_time"}},
            {"type": "function", "name": "get_time"},
        ),
    ],
)
def test_tool_choice_is_translated(
    server: FakeServer,
    client: Any,
    kind: str,
    *,
    choice: str,
    chat_wire: Any,
    responses_wire: Any,
) -> None:
    server.script(Reply.text("ok"))
    model = backend(kind, client)
    model.complete(request(model, tool_choice=choice, parallel_tool_calls=False))
    body = server.last_request.body
    assert body["tool_choice"] == (chat_wire if kind == "chat" else responses_wire)
    assert body["parallel_tool_calls"] is False


@pytest.mark.parametrize("kind", KINDS)
def test_without_tools_tool_options_are_left_out(
    server: FakeServer, client: Any, kind: str
) -> None:
    server.script(Reply.text("ok"))
    model = backend(kind, client)
    model.complete(request(model, tools=(), tool_choice="required", parallel_tool_calls=True))
    body = server.last_request.body
    assert server.last_request.status == 200
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & set(body)


@pytest.mark.parametrize("kind", KINDS)
def test_system_prompt_and_settings(server: FakeServer, client: Any, kind: str) -> None:
    server.script(Reply.text("ok"))
    model = backend(kind, client)
    limit = "max_completion_tokens" if kind == "chat" else "max_output_tokens"
    settings = {"temperature": 0.2, limit: 50, "metadata": {"run": "1"}}
    model.complete(request(model, system="Be brief.", settings=settings))
    body = server.last_request.body
    assert {key: body[key] for key in settings} == settings
    if kind == "chat":
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        assert body["messages"][1] == {"role": "user", "content": "Weather in Paris?"}
        assert "instructions" not in body
    else:
        assert body["instructions"] == "Be brief."
        assert body["input"] == [{"role": "user", "content": "Weather in Paris?"}]


def test_settings_override_what_the_request_built(server: FakeServer, client: Any) -> None:
    server.script(Reply.text("ok"))
    model = OpenAIChat(client)
    model.complete(request(model, settings={"model": "other-model", "tool_choice": "none"}))
    body = server.last_request.body
    assert (body["model"], body["tool_choice"]) == ("other-model", "none")


def test_chat_hermes_text_calls_get_tool_calls_to_answer(server: FakeServer, client: Any) -> None:
    """A model served without a tool parser writes calls as text; the history still pairs
    each result with a call."""
    hermes = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>'
    server.script([Reply.text(hermes), Reply.text("Sunny in Oslo.")])
    model = OpenAIChat(client)
    first = request(model)
    reply = model.complete(first)
    assert [(c.name, c.arguments) for c in reply.calls] == [("get_weather", {"city": "Oslo"})]
    assert reply.stop == "tool_calls"
    assert reply.message["tool_calls"][0]["function"]["arguments"] == '{"city": "Oslo"}'
    history = answer(model, list(first.messages), reply)
    assert model.complete(request(model, messages=history)).text == "Sunny in Oslo."


# -- streaming ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_stream_matches_complete(server: FakeServer, client: Any, kind: str) -> None:
    turn = Reply.text_and_calls("Checking both.", PARIS, UTC, input_tokens=7, output_tokens=9)
    server.script([turn, turn])
    model = backend(kind, client)
    deltas, streamed = collect(model.stream(request(model)))
    whole = model.complete(request(model))
    assert neutral(streamed) == neutral(whole)
    assert streamed.usage == Usage(7, 9)
    if kind == "chat":  # (Responses items get fresh ids)
        assert streamed.message == whole.message
    assert "".join(delta.text for delta in deltas) == "Checking both."
    assert call_parts(deltas) == {
        0: ("call_paris", "get_weather", '{"city":"Paris"}'),
        1: ("call_utc", "get_time", '{"zone":"UTC"}'),
    }
    if kind == "chat":
        assert server.requests[0].body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("mode", ["normal", "omit", "repeat"])
def test_chat_stream_assembles_calls_whatever_the_index(
    server: FakeServer, client: Any, mode: Any
) -> None:
    server.chat_tool_call_index = mode
    server.script([Reply.calls(PARIS, TOKYO, UTC), Reply.text("Done.")])
    model = OpenAIChat(client)
    first = request(model)
    deltas, reply = collect(model.stream(first))
    assert [(c.id, c.arguments) for c in reply.calls] == [
        ("call_paris", '{"city":"Paris"}'),
        ("call_tokyo", '{"city":"Tokyo"}'),
        ("call_utc", '{"zone":"UTC"}'),
    ]
    assert sorted(call_parts(deltas)) == [0, 1, 2]
    history = answer(model, list(first.messages), reply)
    _, final = collect(model.stream(request(model, messages=history)))
    assert final.text == "Done."


@pytest.mark.parametrize("kind", KINDS)
def test_astream_round_trip(server: FakeServer, kind: str) -> None:
    server.chat_tool_call_index = "repeat"
    server.script([Reply.calls(PARIS, TOKYO), Reply.text("Sunny twice.")])

    async def body(client: Any) -> tuple[list[StreamDelta], ModelReply, ModelReply]:
        model = backend(kind, client)
        first = request(model)
        deltas, reply = await acollect(model.stream_async(first))
        history = answer(model, list(first.messages), reply)
        _, final = await acollect(model.stream_async(request(model, messages=history)))
        return deltas, reply, final

    deltas, reply, final = run_async(server, body)
    assert [call.id for call in reply.calls] == ["call_paris", "call_tokyo"]
    assert call_parts(deltas)[1] == ("call_tokyo", "get_weather", '{"city":"Tokyo"}')
    assert (final.text, final.stop) == ("Sunny twice.", "end")


@pytest.mark.parametrize("kind", KINDS)
def test_stream_stop_reasons(server: FakeServer, client: Any, kind: str) -> None:
    server.script([Reply.text("Once upon", stop="length"), Reply.refuse("No.")])
    model = backend(kind, client)
    deltas, cut = collect(model.stream(request(model)))
    assert (cut.stop, cut.text) == ("length", "Once upon")
    deltas, refused = collect(model.stream(request(model)))
    assert (refused.stop, refused.text) == ("refusal", "No.")
    assert "".join(delta.text for delta in deltas) == "No."


class _FakeStream:
    """A stream that records whether it was closed (sync and async)."""

    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[Any]:
        return iter(self.chunks)

    async def __aiter__(self) -> AsyncIterator[Any]:
        for chunk in self.chunks:
            yield chunk

    def close(self) -> None:
        self.closed = True


class _Namespace:
    def __init__(self, **attributes: Any) -> None:
        self.__dict__.update(attributes)


def _duck_client(stream: _FakeStream, sent: list[dict[str, Any]], *, is_async: bool) -> Any:
    """Anything with ``chat.completions.create`` and ``responses.create`` will do."""

    def create(**kwargs: Any) -> _FakeStream:
        sent.append(kwargs)
        return stream

    async def acreate(**kwargs: Any) -> _FakeStream:
        return create(**kwargs)

    method = acreate if is_async else create
    return _Namespace(
        chat=_Namespace(completions=_Namespace(create=method)),
        responses=_Namespace(create=method),
    )


def _text_chunk(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}


def test_stream_is_closed_when_iteration_stops_early() -> None:
    stream = _FakeStream([_text_chunk("a"), _text_chunk("b")])
    sent: list[dict[str, Any]] = []
    model = OpenAIChat(_duck_client(stream, sent, is_async=False))
    iterator = model.stream(request(model, settings={"stream_options": {"x": 1}}))
    assert next(iterator) == StreamDelta(text="a")
    assert not stream.closed
    iterator.close()
    assert stream.closed
    assert sent[0]["stream"] is True
    assert sent[0]["stream_options"] == {"include_usage": True, "x": 1}


def test_async_stream_is_closed_at_the_end() -> None:
    stream = _FakeStream([_text_chunk("a"), _text_chunk("b")])
    model = OpenAIChat(_duck_client(stream, [], is_async=True))

    async def main() -> tuple[list[StreamDelta], ModelReply]:
        return await acollect(model.stream_async(request(model)))

    deltas, reply = asyncio.run(main())
    assert [delta.text for delta in deltas] == ["a", "b"]
    assert reply.text == "ab"
    assert stream.closed


# -- Responses: previous_response_id -----------------------------------------------------------


def test_previous_response_id_sends_only_new_items(server: FakeServer, client: Any) -> None:
    server.script([Reply.calls(PARIS), Reply.text("Sunny."), Reply.text("You're welcome.")])
    model = OpenAIResponses(client, use_previous_response_id=True)
    first = request(model)
    reply = model.complete(first)
    history = answer(model, list(first.messages), reply)
    second = model.complete(request(model, messages=history))
    history = [*history, *second.message, model.codec.user_message("Thanks!")]
    _, third = collect(model.stream(request(model, messages=history)))
    assert third.text == "You're welcome."
    bodies = [recorded.body for recorded in server.requests]
    assert "previous_response_id" not in bodies[0]
    assert bodies[1]["previous_response_id"] == reply.response_id
    assert bodies[1]["input"] == [
        {"type": "function_call_output", "call_id": "call_paris", "output": "Sunny in Paris"}
    ]
    assert bodies[2]["previous_response_id"] == second.response_id
    assert bodies[2]["input"] == [{"role": "user", "content": "Thanks!"}]
    assert [recorded.status for recorded in server.requests] == [200, 200, 200]


def test_previous_response_id_async(server: FakeServer) -> None:
    server.script([Reply.calls(PARIS), Reply.text("Sunny.")])

    async def body(client: Any) -> None:
        model = OpenAIResponses(client, use_previous_response_id=True)
        first = request(model)
        reply = await model.complete_async(first)
        history = answer(model, list(first.messages), reply)
        await model.complete_async(request(model, messages=history))

    run_async(server, body)
    assert server.requests[1].body["previous_response_id"] is not None
    assert len(server.requests[1].body["input"]) == 1


def test_previous_response_id_only_when_the_history_extends(
    server: FakeServer, client: Any
) -> None:
    server.script([Reply.text("One."), Reply.text("Two."), Reply.text("Three."), Reply.text("4")])
    model = OpenAIResponses(client, use_previous_response_id=True)
    first = request(model, "Count.")
    reply = model.complete(first)
    # Another conversation: sent whole.
    model.complete(request(model, "Something else."))
    # The first conversation continued, but the backend now remembers the other one.
    history = [*first.messages, *reply.message, model.codec.user_message("More.")]
    model.complete(request(model, messages=history))
    # An edited history is sent whole too, as is anything with store=False.
    edited = [model.codec.user_message("Count to three."), *history[1:]]
    model.complete(request(model, messages=edited, settings={"store": False}))
    bodies = [recorded.body for recorded in server.requests]
    assert ["previous_response_id" in body for body in bodies] == [False] * 4
    assert len(bodies[2]["input"]) == 3


def test_previous_response_id_is_off_by_default(server: FakeServer, client: Any) -> None:
    server.script([Reply.text("One."), Reply.text("Two.")])
    model = OpenAIResponses(client)
    first = request(model)
    reply = model.complete(first)
    model.complete(request(model, messages=[*first.messages, *reply.message]))
    assert "previous_response_id" not in server.last_request.body


# -- the wrong kind of client ------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_sync_methods_refuse_an_async_client(server: FakeServer, kind: str) -> None:
    name = "OpenAIChat" if kind == "chat" else "OpenAIResponses"

    async def body(client: Any) -> None:
        model = backend(kind, client)
        with pytest.raises(TypeError, match=rf"{name}\.complete needs a sync client"):
            model.complete(request(model))
        with pytest.raises(TypeError, match=rf"{name}\.stream needs a sync client"):
            model.stream(request(model))

    run_async(server, body)
    assert server.requests == []


@pytest.mark.parametrize("kind", KINDS)
def test_async_methods_refuse_a_sync_client(server: FakeServer, client: Any, kind: str) -> None:
    model = backend(kind, client)
    with pytest.raises(
        TypeError, match=r"complete_async needs an async client \(openai.AsyncOpenAI\)"
    ):
        asyncio.run(model.complete_async(request(model)))
    with pytest.raises(TypeError, match=r"stream_async needs an async client"):
        model.stream_async(request(model))
    assert server.requests == []


def test_complete_refuses_a_wrapper_that_returns_a_coroutine() -> None:
    async def answer_later(**kwargs: Any) -> Any:
        return kwargs

    def wrapper(**kwargs: Any) -> Any:  # hides the coroutine function from inspection
        return answer_later(**kwargs)

    client = _Namespace(chat=_Namespace(completions=_Namespace(create=wrapper)))
    model = OpenAIChat(client)
    with pytest.raises(TypeError, match="needs a sync client"):
        model.complete(request(model))


def test_complete_error_message_names_the_fix(server: FakeServer) -> None:
    async def body(client: Any) -> str:
        with pytest.raises(TypeError) as caught:
            OpenAIChat(client).complete(request(OpenAIChat(client)))
        return str(caught.value)

    assert run_async(server, body) == (
        "OpenAIChat.complete needs a sync client (openai.OpenAI); use run_async with AsyncOpenAI"
    )


# -- Chat codec: requests and replies (sans-I/O) -----------------------------------------------


def test_chat_build_request() -> None:
    tools = REGISTRY.definitions("openai")
    built = CHAT.build_request(
        ModelRequest(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            system="sys",
            tools=tools,
            tool_choice="get_time",
            settings={"temperature": 0},
        )
    )
    assert built == {
        "model": "m",
        "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
        "tools": tools,
        "tool_choice": {"type": "function", "function": {"name": "get_time"}},
        "temperature": 0,
    }


def test_tool_choice_names_are_made_legal() -> None:
    request = ModelRequest(model="m", messages=[], tools=[{}], tool_choice="pkg.get time")
    chat = CHAT.build_request(request)["tool_choice"]
    responses = RESPONSES.build_request(request)["tool_choice"]
    assert chat["function"]["name"] == responses["name"] == CHAT.wire_name("pkg.get time")


def _completion(message: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    return {
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5, "total_tokens": 8},
    }


@pytest.mark.parametrize(
    ("finish_reason", "has_calls", "stop"),
    [
        ("stop", False, "end"),
        ("stop", True, "tool_calls"),  # vLLM and Ollama say "stop" after calls
        ("tool_calls", True, "tool_calls"),
        ("function_call", True, "tool_calls"),
        ("length", True, "length"),
        ("content_filter", False, "content_filter"),
        ("eos_token", False, "other"),
        (None, False, "end"),
    ],
)
def test_chat_stop_from_finish_reason(
    finish_reason: str | None, has_calls: bool, stop: str
) -> None:
    message: dict[str, Any] = {"role": "assistant", "content": "x"}
    if has_calls:
        message["tool_calls"] = [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
        ]
    reply = CHAT.parse_reply(_completion(message, finish_reason))
    assert reply.stop == stop
    assert reply.usage == Usage(3, 5)


def test_chat_parse_reply_of_an_sdk_object_drops_output_only_fields() -> None:
    from openai.types.chat import ChatCompletion

    completion = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": "Let me see.",
                        "refusal": None,
                        "annotations": [],
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "f", "arguments": '{"a": 1}'},
                            }
                        ],
                    },
                }
            ],
        }
    )
    reply = CHAT.parse_reply(completion)
    assert reply.message == {
        "role": "assistant",
        "content": "Let me see.",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
        ],
    }
    assert reply.usage == Usage()
    assert reply.raw is completion


def test_chat_parse_reply_rejects_what_is_not_a_completion() -> None:
    with pytest.raises(ValueError, match="no choices"):
        CHAT.parse_reply({"choices": []})


# -- Chat stream assembly (sans-I/O) -----------------------------------------------------------


def _chunk(
    *fragments: dict[str, Any], content: str | None = None, finish: str | None = None
) -> dict[str, Any]:
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if fragments:
        delta["tool_calls"] = list(fragments)
    return {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _head(call_id: str | None, name: str, index: int | None = None) -> dict[str, Any]:
    fragment: dict[str, Any] = {"type": "function", "function": {"name": name, "arguments": ""}}
    if call_id is not None:
        fragment["id"] = call_id
    if index is not None:
        fragment["index"] = index
    return fragment


def _args(text: str, index: int | None = None, call_id: str | None = None) -> dict[str, Any]:
    fragment: dict[str, Any] = {"function": {"arguments": text}}
    if index is not None:
        fragment["index"] = index
    if call_id is not None:
        fragment["id"] = call_id
    return fragment


def _assemble(chunks: list[dict[str, Any]]) -> tuple[list[StreamDelta], ModelReply]:
    assembler = OpenAIChatStreamAssembler()
    deltas = [delta for chunk in chunks for delta in assembler.feed(chunk)]
    return deltas, assembler.reply()


def _ids_and_arguments(reply: ModelReply) -> list[tuple[str, Any]]:
    return [(call.id, call.arguments) for call in reply.calls]


EXPECTED_TWO = [("a", '{"x":1}'), ("b", '{"y":2}')]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param(
            [
                _chunk(_head("a", "f", 0)),
                _chunk(_args('{"x"', 0)),
                _chunk(_args(":1}", 0)),
                _chunk(_head("b", "g", 1)),
                _chunk(_args('{"y":2}', 1)),
            ],
            id="indexed",
        ),
        pytest.param(
            [
                _chunk(_head("a", "f")),
                _chunk(_args('{"x"')),
                _chunk(_args(":1}")),
                _chunk(_head("b", "g")),
                _chunk(_args('{"y":2}')),
            ],
            id="no-index",
        ),
        pytest.param(
            [
                _chunk(_head("a", "f", 0)),
                _chunk(_args('{"x"', 0)),
                _chunk(_args(":1}", 0)),
                _chunk(_head("b", "g", 0)),
                _chunk(_args('{"y":2}', 0)),
            ],
            id="index-0-repeated",
        ),
        pytest.param(
            [
                _chunk(_head("a", "f", 0)),
                _chunk(_args('{"x"', 0, "a")),
                _chunk(_args(":1}", 0, "a")),
                _chunk(_head("b", "g", 0)),
                _chunk(_args('{"y":2}', 0, "b")),
            ],
            id="id-on-every-fragment",
        ),
        pytest.param(
            [
                _chunk(
                    {**_head("a", "f"), "function": {"name": "f", "arguments": '{"x":1}'}},
                    {**_head("b", "g"), "function": {"name": "g", "arguments": '{"y":2}'}},
                )
            ],
            id="whole-calls-in-one-chunk",
        ),
        pytest.param(
            [
                _chunk(_head("a", "f", 0), _head("b", "g", 1)),
                _chunk(_args('{"x"', 0), _args('{"y":2}', 1)),
                _chunk(_args(":1}", 0)),
            ],
            id="interleaved",
        ),
    ],
)
def test_chat_assembler_routes_call_fragments(chunks: list[dict[str, Any]]) -> None:
    deltas, reply = _assemble([*chunks, _chunk(finish="tool_calls")])
    assert _ids_and_arguments(reply) == EXPECTED_TWO
    assert [call.name for call in reply.calls] == ["f", "g"]
    assert reply.stop == "tool_calls"
    assert call_parts(deltas) == {0: ("a", "f", '{"x":1}'), 1: ("b", "g", '{"y":2}')}


def test_chat_assembler_without_ids_or_indexes() -> None:
    """A server that sends neither: a fragment naming a tool after a finished call starts a
    new one, and each call gets a stable generated id."""
    chunks = [
        _chunk({"function": {"name": "f", "arguments": '{"x":1}'}}),
        _chunk({"function": {"name": "g", "arguments": '{"y"'}}),
        _chunk({"function": {"arguments": ":2}"}}),
    ]
    _, reply = _assemble(chunks)
    _, again = _assemble(chunks)
    assert [(c.name, c.arguments) for c in reply.calls] == [("f", '{"x":1}'), ("g", '{"y":2}')]
    assert reply.calls == again.calls
    assert reply.message["tool_calls"][0]["id"] == reply.calls[0].id


def test_chat_assembler_id_after_the_head() -> None:
    _, reply = _assemble(
        [_chunk({"index": 0, "function": {"name": "f"}}), _chunk(_args("{}", 0, "late"))]
    )
    assert _ids_and_arguments(reply) == [("late", "{}")]


def test_chat_assembler_text_usage_and_other_choices() -> None:
    chunks: list[dict[str, Any]] = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]},
        _chunk(content="Hel"),
        {"choices": [{"index": 1, "delta": {"content": "ignored"}, "finish_reason": None}]},
        _chunk(content="lo."),
        _chunk(finish="stop"),
        {"choices": [], "usage": {"prompt_tokens": 4, "completion_tokens": 2}},
    ]
    deltas, reply = _assemble(chunks)
    assert deltas == [StreamDelta(text="Hel"), StreamDelta(text="lo.")]
    assert reply == ModelReply(
        message={"role": "assistant", "content": "Hello."},
        text="Hello.",
        stop="end",
        usage=Usage(4, 2),
    )


def test_chat_assembler_equals_parse_reply() -> None:
    _, streamed = _assemble(
        [
            _chunk(content="Checking."),
            _chunk(_head("a", "f", 0)),
            _chunk(_args('{"x":1}', 0)),
            _chunk(finish="tool_calls"),
            {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}},
        ]
    )
    whole = CHAT.parse_reply(
        _completion(
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "a",
                        "type": "function",
                        "function": {"name": "f", "arguments": '{"x":1}'},
                    }
                ],
            },
            "tool_calls",
        )
    )
    assert (streamed.message, *neutral(streamed)) == (whole.message, *neutral(whole))


def test_chat_assembler_refusal_and_text_calls() -> None:
    _, refused = _assemble([{"choices": [{"index": 0, "delta": {"refusal": "No."}}]}])
    assert (refused.stop, refused.text) == ("refusal", "No.")
    hermes = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    _, written = _assemble([_chunk(content=hermes), _chunk(finish="stop")])
    assert [call.name for call in written.calls] == ["f"]
    assert written.stop == "tool_calls"


def test_chat_assembler_needs_a_name() -> None:
    with pytest.raises(ValueError, match="streamed tool call 0 has no tool name"):
        _assemble([_chunk(_args("{}", 0, "a"))])


# -- Responses codec: requests and replies (sans-I/O) ------------------------------------------


def test_responses_build_request() -> None:
    tools = REGISTRY.definitions("openai-responses")
    history = [{"role": "user", "content": "hi"}]
    built = RESPONSES.build_request(
        ModelRequest(
            model="m",
            messages=history,
            system="sys",
            tools=tools,
            tool_choice="required",
            parallel_tool_calls=False,
            settings={"max_output_tokens": 9, "store": False},
        )
    )
    assert built == {
        "model": "m",
        "input": history,
        "instructions": "sys",
        "tools": tools,
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "max_output_tokens": 9,
        "store": False,
    }


MESSAGE_ITEM: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}],
}
CALL_ITEM: dict[str, Any] = {
    "id": "fc_1",
    "type": "function_call",
    "status": "completed",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"x":1}',
}
USAGE = {"input_tokens": 6, "output_tokens": 4, "total_tokens": 10}


def _response(status: str = "completed", *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "resp_1", "status": status, "output": list(items), "usage": USAGE, **extra}


@pytest.mark.parametrize(
    ("response", "stop"),
    [
        (_response("completed", MESSAGE_ITEM), "end"),
        (_response("completed", MESSAGE_ITEM, CALL_ITEM), "tool_calls"),
        (
            _response(
                "incomplete", MESSAGE_ITEM, incomplete_details={"reason": "max_output_tokens"}
            ),
            "length",
        ),
        (
            _response("incomplete", MESSAGE_ITEM, incomplete_details={"reason": "content_filter"}),
            "content_filter",
        ),
        (_response("incomplete", MESSAGE_ITEM), "other"),
        (_response("failed"), "other"),
        (
            _response(
                "completed",
                {**MESSAGE_ITEM, "content": [{"type": "refusal", "refusal": "No."}]},
            ),
            "refusal",
        ),
    ],
)
def test_responses_stop(response: dict[str, Any], stop: str) -> None:
    assert RESPONSES.parse_reply(response).stop == stop


def test_responses_parse_reply() -> None:
    reasoning: dict[str, Any] = {"id": "rs_1", "type": "reasoning", "summary": []}
    response = _response("completed", reasoning, MESSAGE_ITEM, CALL_ITEM)
    reply = RESPONSES.parse_reply(response)
    assert reply.message == [reasoning, MESSAGE_ITEM, CALL_ITEM]
    assert reply.message[1] is not MESSAGE_ITEM  # copied: the history owns its items
    assert reply.text == "Let me check."
    assert reply.calls == (ToolCall(id="call_1", name="f", arguments='{"x":1}'),)
    assert (reply.usage, reply.response_id, reply.raw) == (Usage(6, 4), "resp_1", response)


def test_responses_parse_reply_of_sdk_objects_drops_nulls() -> None:
    from openai.types.responses import Response

    response = Response.model_validate(
        {
            "id": "resp_1",
            "object": "response",
            "created_at": 0,
            "model": "m",
            "status": "completed",
            "output": [{**MESSAGE_ITEM, "phase": None}, CALL_ITEM],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
        }
    )
    reply = RESPONSES.parse_reply(response)
    assert reply.message == [MESSAGE_ITEM, CALL_ITEM]
    assert reply.text == response.output_text


def test_responses_parse_reply_rejects_what_is_not_a_response() -> None:
    with pytest.raises(ValueError, match="'output' list"):
        RESPONSES.parse_reply({"id": "resp_1"})
    with pytest.raises(ValueError, match="output item 0 is not an object"):
        RESPONSES.parse_reply({"output": ["text"]})


# -- Responses stream assembly (sans-I/O) ------------------------------------------------------


def _events(final: str | None = "response.completed") -> list[dict[str, Any]]:
    """The events of a response with a message and one function call."""
    started: dict[str, Any] = {"id": "resp_1", "status": "in_progress", "output": []}
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    call_where = {"item_id": "fc_1", "output_index": 1}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**MESSAGE_ITEM, "status": "in_progress", "content": []},
        },
        {"type": "response.output_text.delta", **where, "delta": "Let me "},
        {"type": "response.output_text.delta", **where, "delta": "check."},
        {"type": "response.output_text.done", **where, "text": "Let me check."},
        {"type": "response.output_item.done", "output_index": 0, "item": MESSAGE_ITEM},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**CALL_ITEM, "status": "in_progress", "arguments": ""},
        },
        {"type": "response.function_call_arguments.delta", **call_where, "delta": '{"x"'},
        {"type": "response.function_call_arguments.delta", **call_where, "delta": ":1}"},
        {"type": "response.output_item.done", "output_index": 1, "item": CALL_ITEM},
    ]
    if final:
        events.append({"type": final, "response": _response("completed", MESSAGE_ITEM, CALL_ITEM)})
    return events


def _feed(events: list[dict[str, Any]]) -> tuple[list[StreamDelta], ModelReply]:
    assembler = OpenAIResponsesStreamAssembler()
    deltas = [delta for event in events for delta in assembler.feed(event)]
    return deltas, assembler.reply()


def test_responses_assembler_prefers_the_final_response() -> None:
    deltas, reply = _feed(_events())
    whole = RESPONSES.parse_reply(_response("completed", MESSAGE_ITEM, CALL_ITEM))
    assert (reply.message, *neutral(reply), reply.response_id) == (
        whole.message,
        *neutral(whole),
        whole.response_id,
    )
    assert deltas == [
        StreamDelta(text="Let me "),
        StreamDelta(text="check."),
        StreamDelta(call_index=0, call_id="call_1", call_name="f"),
        StreamDelta(call_index=0, arguments='{"x"'),
        StreamDelta(call_index=0, arguments=":1}"),
    ]


def test_responses_assembler_without_a_final_event() -> None:
    _, reply = _feed(_events(final=None))
    assert reply.message == [MESSAGE_ITEM, CALL_ITEM]
    assert (reply.text, reply.stop, reply.response_id) == ("Let me check.", "other", "resp_1")
    assert reply.calls == (ToolCall(id="call_1", name="f", arguments='{"x":1}'),)


def test_responses_assembler_keeps_unfinished_items() -> None:
    events = [e for e in _events(final=None) if e["type"] != "response.output_item.done"]
    _, reply = _feed(events)
    message, call = reply.message
    assert message["content"] == [
        {"type": "output_text", "text": "Let me check.", "annotations": []}
    ]
    assert call["arguments"] == '{"x":1}'
    assert reply.text == "Let me check."


def test_responses_assembler_refusal_streams_as_text() -> None:
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    events: list[dict[str, Any]] = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**MESSAGE_ITEM, "content": []},
        },
        {"type": "response.refusal.delta", **where, "delta": "No."},
    ]
    deltas, reply = _feed(events)
    assert deltas == [StreamDelta(text="No.")]
    assert (reply.stop, reply.text) == ("refusal", "No.")


def test_user_messages() -> None:
    assert (
        CHAT.user_message("hi")
        == RESPONSES.user_message("hi")
        == {
            "role": "user",
            "content": "hi",
        }
    )
