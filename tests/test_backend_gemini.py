"""The Gemini backend and codec, driven through the real ``google-genai`` client against the
local fake server, plus the codec and the stream assembler on hand-written responses."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any, TypeVar, cast

import pytest
from fakeserver import Call, FakeServer, Reply

from toolkit import Conversation, Limits, RunFinished, Runner, tool
from toolkit.backends import model_for
from toolkit.backends.gemini import GeminiBackend
from toolkit.calls import ToolResult
from toolkit.errors import ModelError
from toolkit.formats import get_format
from toolkit.formats.gemini import CODEC, GeminiStreamAssembler
from toolkit.model import (
    AsyncModel,
    ModelReply,
    ModelRequest,
    StreamDelta,
    SyncModel,
    ToolChoice,
    Usage,
)

genai = pytest.importorskip("google.genai", reason="the gemini extra is not installed")

WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the weather.",
    "parameters": {
        "type": "OBJECT",
        "properties": {"city": {"type": "STRING"}},
        "required": ["city"],
    },
}
TIME: dict[str, Any] = {"name": "get_time", "description": "Get the time."}
PARIS = Call("get_weather", {"city": "Paris"})
TOKYO = Call("get_weather", {"city": "Tokyo"})
USER: dict[str, Any] = {"role": "user", "parts": [{"text": "Weather in Paris and Tokyo?"}]}
MODEL = "gemini-test"
T = TypeVar("T")


def client_for(server: FakeServer) -> Any:
    """A real ``genai.Client`` on the fake (the SDK retries nothing unless told to)."""
    return genai.Client(api_key="test", http_options={"base_url": server.gemini_base_url})


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def client(server: FakeServer) -> Iterator[Any]:
    made = client_for(server)
    yield made
    made.close()


@pytest.fixture
def backend(client: Any) -> GeminiBackend:
    return GeminiBackend(client)


def run_async(server: FakeServer, body: Callable[[GeminiBackend], Awaitable[T]]) -> T:
    """``body(backend)`` over a real ``genai.Client``'s async half, in one event loop (the
    async HTTP client is closed in the loop that used it)."""

    async def main() -> T:
        made = client_for(server)
        try:
            return await body(GeminiBackend(made))
        finally:
            await made.aio.aclose()
            made.close()

    return asyncio.run(main())


def request(
    messages: list[dict[str, Any]] | None = None,
    *,
    tools: tuple[dict[str, Any], ...] = (WEATHER, TIME),
    tool_choice: ToolChoice = "auto",
    system: str | None = None,
    settings: dict[str, Any] | None = None,
    timeout: float | None = None,
) -> ModelRequest:
    return ModelRequest(
        model=MODEL,
        messages=messages or [USER],
        system=system,
        tools=tools,
        tool_choice=tool_choice,
        settings=settings or {},
        timeout=timeout,
    )


def results_for(reply: ModelReply) -> list[ToolResult]:
    return [
        ToolResult(call_id=call.id, name=call.name, value="sunny", content="sunny")
        for call in reply.calls
    ]


def collect(items: Iterator[StreamDelta | ModelReply]) -> tuple[list[StreamDelta], ModelReply]:
    *deltas, final = list(items)
    assert isinstance(final, ModelReply)
    assert all(isinstance(delta, StreamDelta) for delta in deltas)
    return [d for d in deltas if isinstance(d, StreamDelta)], final


async def acollect(backend: GeminiBackend, req: ModelRequest) -> list[StreamDelta | ModelReply]:
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


def camel(value: Any) -> Any:
    """``value`` with every key in lowerCamel: the API takes both spellings, and SDK
    versions differ in which they send for nested fields (``function_calling_config``)."""
    if isinstance(value, dict):
        items = cast("dict[str, Any]", value).items()
        return {re.sub(r"_([a-z])", lambda m: m[1].upper(), k): camel(v) for k, v in items}
    if isinstance(value, list):
        return [camel(item) for item in cast("list[Any]", value)]
    return value


def sent_body(server: FakeServer) -> dict[str, Any]:
    """The last request's body, in the REST API's camelCase."""
    return camel(server.last_request.body)


def signed(part: dict[str, Any]) -> bool:
    return isinstance(part.get("thoughtSignature"), str) and bool(part["thoughtSignature"])


# -- the backend over the real client ----------------------------------------------------------


def test_one_client_serves_both_drivers(server: FakeServer, client: Any) -> None:
    backend = model_for(client, MODEL)
    assert isinstance(backend, GeminiBackend)
    assert isinstance(backend, SyncModel)
    assert isinstance(backend, AsyncModel)
    assert backend.codec is get_format("gemini")
    assert backend.needs_model
    with pytest.raises(TypeError, match=r"pass the model name"):
        model_for(client)
    assert isinstance(model_for(client.aio, MODEL), GeminiBackend)


def test_complete_text(server: FakeServer, backend: GeminiBackend) -> None:
    server.script(Reply.text("Sunny all week.", input_tokens=12, output_tokens=5))
    reply = backend.complete(request())
    assert reply.text == "Sunny all week."
    assert reply.message == {"role": "model", "parts": [{"text": "Sunny all week."}]}
    assert (reply.calls, reply.stop, reply.usage) == ((), "end", Usage(12, 5))
    assert reply.response_id is not None
    assert reply.response_id.startswith("resp_")
    assert type(reply.raw).__name__ == "GenerateContentResponse"
    assert server.last_request.path.endswith(f"/models/{MODEL}:generateContent")  # v1 or v1beta
    assert server.last_request.headers["x-goog-api-key"] == "test"


def test_complete_parallel_calls(server: FakeServer, backend: GeminiBackend) -> None:
    server.script(Reply.text_and_calls("Let me check.", PARIS, Call("get_time", {}, id="t1")))
    reply = backend.complete(request())
    assert reply.stop == "tool_calls"
    assert reply.text == "Let me check."
    assert [(c.name, c.arguments) for c in reply.calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {}),
    ]
    assert reply.calls[1].id == "t1"  # sent by the model: kept
    assert reply.calls[0].id.startswith("call_")  # none sent: a stable one is made
    text, first, second = reply.message["parts"]
    assert text == {"text": "Let me check."}
    assert first["functionCall"] == {"name": "get_weather", "args": {"city": "Paris"}}
    assert signed(first)  # Gemini 3 signs the first call of a step
    assert second == {"functionCall": {"name": "get_time", "args": {}, "id": "t1"}}


def test_complete_async(server: FakeServer) -> None:
    server.script([Reply.text("Hello."), Reply.calls(PARIS, TOKYO)])

    async def both(backend: GeminiBackend) -> tuple[ModelReply, ModelReply]:
        return await backend.complete_async(request()), await backend.complete_async(request())

    text, calls = run_async(server, both)
    assert (text.text, text.stop) == ("Hello.", "end")
    assert [c.arguments for c in calls.calls] == [{"city": "Paris"}, {"city": "Tokyo"}]
    assert calls.stop == "tool_calls"


@pytest.mark.parametrize(
    ("scripted", "stop"),
    [
        (Reply.text("Once upon", stop="length"), "length"),
        (Reply.calls(PARIS, stop="length"), "length"),
        (Reply.text("Partial", stop="content_filter"), "content_filter"),
        (Reply.refuse(), "content_filter"),  # Gemini has no refusals: its filters stop it
        (Reply.calls(PARIS), "tool_calls"),
        (Reply.text("Done."), "end"),
    ],
)
def test_stop_reasons(
    server: FakeServer, backend: GeminiBackend, scripted: Reply, stop: str
) -> None:
    server.script([scripted, scripted])
    assert backend.complete(request()).stop == stop
    _, streamed = collect(backend.stream(request()))
    assert streamed.stop == stop


def test_a_withheld_answer_leaves_a_history_the_api_accepts(
    server: FakeServer, backend: GeminiBackend
) -> None:
    server.script([Reply.refuse(), Reply.text("Happy to help.")])
    history: list[dict[str, Any]] = [USER]
    withheld = backend.complete(request(history))
    assert (withheld.text, withheld.stop) == ("", "content_filter")
    assert withheld.message == {
        "role": "model",
        "parts": [{"text": "(The provider withheld the answer.)"}],
    }
    CODEC.append_messages(history, withheld.message)
    CODEC.append_messages(history, CODEC.user_message("Then help me plan a trip."))
    assert backend.complete(request(history)).text == "Happy to help."
    assert server.last_request.status == 200


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"mode": "AUTO"}),
        ("required", {"mode": "ANY"}),
        ("none", {"mode": "NONE"}),
        ("get_time", {"mode": "ANY", "allowedFunctionNames": ["get_time"]}),
    ],
)
def test_tool_choice_on_the_wire(
    server: FakeServer, backend: GeminiBackend, choice: str, expected: dict[str, Any]
) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(tool_choice=choice))
    body = sent_body(server)
    assert server.last_request.status == 200
    assert body["toolConfig"] == {"functionCallingConfig": expected}
    assert body["tools"] == [{"functionDeclarations": [WEATHER, TIME]}]


def test_tool_choice_naming_no_tool_sent_is_refused_before_sending(
    server: FakeServer, backend: GeminiBackend
) -> None:
    with pytest.raises(ValueError, match=r"tool_choice names 'get_news', which is not among"):
        backend.complete(request(tool_choice="get_news"))
    assert server.requests == []


def test_without_tools_no_tools_and_no_tool_config(
    server: FakeServer, backend: GeminiBackend
) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(tools=(), tool_choice="required"))
    body = sent_body(server)
    assert "tools" not in body
    assert "toolConfig" not in body


def test_system_instruction(server: FakeServer, backend: GeminiBackend) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(system="Be brief."))
    body = sent_body(server)
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert [c["role"] for c in body["contents"]] == ["user"]


def test_settings_become_the_generation_config(server: FakeServer, backend: GeminiBackend) -> None:
    server.script(Reply.text("ok"))
    neutral = {"max_tokens": 77, "temperature": 0.2, "top_p": 0.9, "stop": "END", "seed": 7}
    backend.complete(request(settings={**neutral, "topK": 5, "responseMimeType": "text/plain"}))
    assert sent_body(server)["generationConfig"] == {
        "maxOutputTokens": 77,
        "temperature": 0.2,
        "topP": 0.9,
        "stopSequences": ["END"],
        "seed": 7,
        "topK": 5,
        "responseMimeType": "text/plain",
    }


def test_a_setting_the_sdk_does_not_know_still_reaches_the_api(
    server: FakeServer, backend: GeminiBackend
) -> None:
    from google.genai import errors

    # Not in this SDK's config: sent in generationConfig all the same (through extra_body),
    # where the API (here, the fake) is the one to judge it.
    with pytest.raises(
        errors.ClientError, match=r"Unknown name .*futureKnob.* at .*generation_config"
    ):
        backend.complete(request(settings={"futureKnob": 1}))
    assert sent_body(server)["generationConfig"] == {"futureKnob": 1}


def test_the_runs_deadline_is_the_requests_timeout(
    server: FakeServer, backend: GeminiBackend
) -> None:
    server.script([Reply.text("ok"), Reply.text("ok")])
    backend.complete(request(timeout=2.5))
    assert server.last_request.headers["x-server-timeout"] == "3"  # the SDK's own header
    backend.complete(request())
    assert "x-server-timeout" not in server.last_request.headers


def test_automatic_function_calling_is_off(
    server: FakeServer, backend: GeminiBackend, caplog: pytest.LogCaptureFixture
) -> None:
    server.script([Reply.calls(PARIS), Reply.calls(TOKYO)])
    with caplog.at_level(logging.DEBUG, logger="google_genai"):
        reply = backend.complete(request())
        _, streamed = collect(backend.stream(request()))
    assert len(server.requests) == 2  # one request each: the SDK answered no call itself
    assert [c.arguments for c in (*reply.calls, *streamed.calls)] == [
        {"city": "Paris"},
        {"city": "Tokyo"},
    ]
    assert not [r for r in caplog.records if "AFC" in r.getMessage()]


def test_stream_sync_matches_complete(server: FakeServer, backend: GeminiBackend) -> None:
    scripted = Reply.text_and_calls(
        "Let me check the weather.", PARIS, TOKYO, input_tokens=30, output_tokens=9
    )
    server.script([scripted, scripted])
    complete = backend.complete(request())
    deltas, streamed = collect(backend.stream(request()))
    same(streamed, complete)
    assert server.last_request.path.endswith(f"/models/{MODEL}:streamGenerateContent")
    assert "".join(d.text for d in deltas) == "Let me check the weather."
    assert len([d for d in deltas if d.text]) > 1  # really streamed, word by word
    heads = [d for d in deltas if d.call_name]
    assert [(d.call_index, d.call_id, d.call_name) for d in heads] == [
        (index, call.id, call.name) for index, call in enumerate(streamed.calls)
    ]
    for index, call in enumerate(streamed.calls):
        pieces = [d.arguments for d in deltas if d.call_index == index]
        assert json.loads("".join(pieces)) == call.arguments


def test_stream_async_matches_complete(server: FakeServer) -> None:
    scripted = Reply.text_and_calls("Checking.", PARIS, input_tokens=8, output_tokens=4)
    server.script([scripted, scripted])

    async def both(backend: GeminiBackend) -> tuple[ModelReply, list[Any]]:
        return await backend.complete_async(request()), await acollect(backend, request())

    complete, items = run_async(server, both)
    deltas, streamed = collect(iter(items))
    same(streamed, complete)
    assert "".join(d.text for d in deltas) == "Checking."
    assert json.loads("".join(d.arguments for d in deltas)) == {"city": "Paris"}


def test_stream_closed_early(server: FakeServer, backend: GeminiBackend) -> None:
    server.script([Reply.text("one two three four"), Reply.text("again")])
    items = backend.stream(request())
    assert next(items) == StreamDelta(text="one")
    assert isinstance(items, Generator)
    items.close()  # releases the HTTP stream (a leak would warn, and warnings fail here)
    assert backend.complete(request()).text == "again"


def test_async_stream_closed_early(server: FakeServer) -> None:
    server.script([Reply.text("one two three four"), Reply.text("again")])

    async def early(backend: GeminiBackend) -> str:
        items = backend.stream_async(request())
        assert await anext(items) == StreamDelta(text="one")
        await items.aclose()
        return (await backend.complete_async(request())).text

    assert run_async(server, early) == "again"


@pytest.mark.parametrize("streamed", [False, True])
def test_round_trip_history_is_accepted(
    server: FakeServer, backend: GeminiBackend, streamed: bool
) -> None:
    server.script([Reply.text_and_calls("Let me check.", PARIS, TOKYO), Reply.text("Sunny.")])
    history: list[dict[str, Any]] = [USER]
    if streamed:
        first = collect(backend.stream(request(history)))[1]
    else:
        first = backend.complete(request(history))
    CODEC.append_messages(history, first.message)
    CODEC.append_messages(history, CODEC.result_messages(results_for(first)))
    assert backend.complete(request(history)).text == "Sunny."
    assert server.last_request.status == 200
    sent = sent_body(server)["contents"]
    assert [c["role"] for c in sent] == ["user", "model", "user"]
    assert sent[1]["parts"] == first.message["parts"]  # the signature went back unchanged
    assert signed(sent[1]["parts"][1])
    assert [p["functionResponse"] for p in sent[2]["parts"]] == [
        {"name": "get_weather", "response": {"result": "sunny"}},
        {"name": "get_weather", "response": {"result": "sunny"}},
    ]


def test_a_lost_or_changed_thought_signature_is_refused(
    server: FakeServer, backend: GeminiBackend
) -> None:
    from google.genai import errors

    server.script(Reply.calls(PARIS))
    first = backend.complete(request())
    history = [USER, first.message, *CODEC.result_messages(results_for(first))]
    lost = copy.deepcopy(history)
    del lost[1]["parts"][0]["thoughtSignature"]
    with pytest.raises(errors.ClientError, match="missing a thought_signature"):
        backend.complete(request(lost))
    changed = copy.deepcopy(history)
    changed[1]["parts"][0]["thoughtSignature"] = "AAAA"
    with pytest.raises(errors.ClientError, match="Corrupted thought signature"):
        backend.complete(request(changed))


def test_sdk_errors_pass_through(server: FakeServer, backend: GeminiBackend) -> None:
    from google.genai import errors

    server.script(Reply.calls(PARIS, TOKYO))
    first = backend.complete(request())
    one_answer = [USER, first.message, *CODEC.result_messages(results_for(first)[:1])]
    with pytest.raises(errors.ClientError, match="number of function response parts") as caught:
        backend.complete(request(one_answer))
    assert caught.value.code == 400


def test_wrong_client_kind_is_a_type_error(server: FakeServer, client: Any) -> None:
    asynchronous = GeminiBackend(client.aio)
    with pytest.raises(TypeError, match=r"complete\(\) needs a sync client"):
        asynchronous.complete(request())
    with pytest.raises(TypeError, match=r"stream\(\) needs a sync client"):
        asynchronous.stream(request())  # raised at once, not on first iteration
    with pytest.raises(TypeError, match=r"needs a google\.genai\.Client"):
        GeminiBackend(object())

    class SyncOnly:
        class models:
            @staticmethod
            def generate_content(**kwargs: Any) -> Any:
                return kwargs

    with pytest.raises(TypeError, match=r"complete_async\(\) needs an async client"):
        asyncio.run(GeminiBackend(SyncOnly()).complete_async(request()))
    assert server.requests == []


# -- the runner over the real client ------------------------------------------------------------


@tool
def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"{city}: sunny"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def test_a_runner_runs_sync_and_async_on_one_client(server: FakeServer) -> None:
    server.script(
        [Reply.calls(PARIS), Reply.text("Sunny."), Reply.calls(TOKYO), Reply.text("Hot.")]
    )

    async def both() -> tuple[str, str]:
        client = client_for(server)
        try:
            runner = Runner(client, model=MODEL, tools=[get_weather])
            return runner.run("Paris?").text, (await runner.run_async("Tokyo?")).text
        finally:
            await client.aio.aclose()
            client.close()

    assert asyncio.run(both()) == ("Sunny.", "Hot.")
    assert [r.status for r in server.requests] == [200, 200, 200, 200]


def test_failed_calls_go_back_as_error_responses(server: FakeServer, client: Any) -> None:
    server.script(
        [
            Reply.calls(Call("get_forecast", {"city": "Paris"}), Call("add", {"a": "one", "b": 2})),
            Reply.text("Both failed."),
        ]
    )
    result = Runner(client, model=MODEL, tools=[get_weather, add]).run("Try.")
    assert result.text == "Both failed."
    unknown, invalid = [p["functionResponse"] for p in sent_body(server)["contents"][-1]["parts"]]
    assert (unknown["name"], invalid["name"]) == ("get_forecast", "add")
    assert set(unknown["response"]) == {"error"}
    assert "get_weather" in unknown["response"]["error"]  # the model is told what it may call
    assert set(invalid["response"]) == {"error"}
    assert "integer" in invalid["response"]["error"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_malformed_function_call_is_sent_back_and_tried_again(
    server: FakeServer, client: Any, stream: bool
) -> None:
    """Gemini's MALFORMED_FUNCTION_CALL comes with no call and no text: the model is told
    and calls again, within the retry budget, and the history stays one the API accepts."""
    malformed = Reply.text("", stop="malformed_call")
    server.script(
        [malformed, Reply.calls(Call("get_weather", {"city": "Paris"})), Reply.text("Sunny.")]
    )
    runner = Runner(client, model=MODEL, tools=[get_weather])
    if stream:
        events = list(runner.stream("Weather in Paris?"))
        result = cast("RunFinished", events[-1]).result
    else:
        result = runner.run("Weather in Paris?")
    assert (result.stop_reason, result.text) == ("end", "Sunny.")
    assert [r.status for r in server.requests] == [200, 200, 200]
    second = camel(server.requests[1].body)
    told = second["contents"][-1]
    assert told["role"] == "user"
    assert "malformed" in told["parts"][-1]["text"]
    assert second["contents"][-2] == {
        "role": "model",
        "parts": [{"text": "(A function call the API could not parse.)"}],
    }

    server.script([malformed, malformed, malformed])
    stuck = Runner(client, model=MODEL, tools=[get_weather], limits=Limits(max_retries=1))
    result = stuck.run("Weather in Paris?")
    assert result.stop_reason == "max_retries"
    assert "malformed" in result.explanation
    assert len(server.requests) == 3 + 2  # the first, and the one retry


def test_a_conversation_saved_as_json_continues_with_its_signatures(
    server: FakeServer, client: Any
) -> None:
    server.script([Reply.calls(Call("add", {"a": 2, "b": 3})), Reply.text("5.")])
    runner = Runner(client, model=MODEL, tools=[add])
    chat = runner.conversation()
    assert chat.send("2 + 3?").text == "5."
    saved = chat.to_json()
    assert json.loads(saved)["format"] == "gemini"
    restored = Conversation.from_json(saved, runner=runner)
    assert restored.messages == chat.messages
    server.script([Reply.calls(Call("add", {"a": 5, "b": 1})), Reply.text("6.")])
    assert restored.send("Plus 1?").text == "6."
    assert server.last_request.status == 200
    assert sent_body(server)["contents"][:4] == chat.messages


# -- the codec, without the network ------------------------------------------------------------


def test_build_request_shape() -> None:
    body = CODEC.build_request(
        request(system="S", tool_choice="get_weather", settings={"max_tokens": 9})
    )
    assert body == {
        "contents": [USER],
        "systemInstruction": {"parts": [{"text": "S"}]},
        "tools": [{"functionDeclarations": [WEATHER, TIME]}],
        "toolConfig": {
            "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
        },
        "generationConfig": {"maxOutputTokens": 9},
    }
    with pytest.raises(ValueError, match="no model name"):
        CODEC.build_request(ModelRequest(model=None, messages=[USER]))


SIGNATURE = "c2lnbmF0dXJl"
THOUGHT = {"text": "The user wants weather.", "thought": True}


def test_parse_reply_keeps_thoughts_and_signatures_verbatim() -> None:
    sent: list[dict[str, Any]] = [
        THOUGHT,
        {"text": "Let me ", "thoughtSignature": SIGNATURE},
        {"text": "check."},
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
        {"functionCall": {"id": "x", "name": "get_time"}},
        {"functionCall": {"id": "x", "name": "get_time", "args": {}}},
    ]
    response: dict[str, Any] = {
        "candidates": [
            {
                "content": {"role": "model", "parts": sent},
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 5,
            "candidatesTokenCount": 3,
            "thoughtsTokenCount": 20,
            "toolUsePromptTokenCount": 2,
            "cachedContentTokenCount": 4,
        },
        "responseId": "r1",
    }
    reply = CODEC.parse_reply(response)
    parts = reply.message["parts"]
    assert parts[:5] == sent[:5]
    assert reply.text == "Let me check."  # thoughts are not the answer
    assert [c.id for c in reply.calls[1:]] == ["x", "x_2"]  # a repeated id made unique...
    assert parts[5]["functionCall"]["id"] == "x_2"  # ...in the history too
    assert reply.calls[0].arguments == {"city": "Oslo"}
    assert reply.calls[1].arguments is None
    assert reply.usage == Usage(7, 23)
    assert (reply.stop, reply.response_id, reply.raw) == ("tool_calls", "r1", response)


def test_parse_reply_reads_the_sdk_object() -> None:
    from google.genai import types

    response: dict[str, Any] = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "f", "args": {}}, "thoughtSignature": SIGNATURE}
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 3},
    }
    from_object = CODEC.parse_reply(types.GenerateContentResponse.model_validate(response))
    from_dict = CODEC.parse_reply(response)
    assert (from_object.calls, from_object.usage) == (from_dict.calls, from_dict.usage)
    [part] = from_object.message["parts"]
    assert part["functionCall"] == {"name": "f", "args": {}}
    assert part["thoughtSignature"].rstrip("=") == SIGNATURE  # the same bytes, as text


@pytest.mark.parametrize(
    ("finish_reason", "stop"),
    [
        ("STOP", "end"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "malformed_call"),
        ("LANGUAGE", "other"),
        ("OTHER", "other"),
        ("SOMETHING_NEW", "other"),
        (None, "other"),
    ],
)
def test_parse_reply_finish_reasons(finish_reason: str | None, stop: str) -> None:
    reply = CODEC.parse_reply({"candidates": [{"finishReason": finish_reason}]})
    assert reply.stop == stop
    assert reply.usage == Usage()
    assert reply.message["role"] == "model"
    assert reply.message["parts"][0]["text"]  # never an empty content in the history


def test_a_blocked_prompt_is_a_content_filter_stop() -> None:
    reply = CODEC.parse_reply(
        {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4}}
    )
    assert (reply.stop, reply.text, reply.calls, reply.usage) == (
        "content_filter",
        "",
        (),
        Usage(4, 0),
    )


def test_parse_reply_errors() -> None:
    with pytest.raises(ModelError, match="Resource has been exhausted") as caught:
        CODEC.parse_reply(
            {"error": {"code": 429, "message": "Resource has been exhausted", "status": "X"}}
        )
    assert caught.value.status == 429
    with pytest.raises(ValueError, match="expected a GenerateContentResponse"):
        CODEC.parse_reply({"choices": []})
    with pytest.raises(ValueError, match="'parts' is not a list"):
        CODEC.parse_reply({"candidates": [{"content": {"parts": "text"}}]})
    with pytest.raises(ValueError, match="part 0 is not an object"):
        CODEC.parse_reply({"candidates": [{"content": {"parts": [7]}}]})


def test_history_operations() -> None:
    calls = CODEC.parse_calls(
        [
            {"functionCall": {"id": "a", "name": "f", "args": {}}},
            {"functionCall": {"name": "g", "args": {"x": 1}}},  # no id: one is made
            {"functionCall": {"name": "g", "args": {"x": 2}}},
        ]
    )
    history: list[Any] = [CODEC.user_message("hi")]
    CODEC.append_messages(history, CODEC.assistant_message("Looking.", calls))
    assert history[1]["parts"][2] == {"functionCall": {"name": "g", "args": {"x": 1}}}
    assert [c.id for c in CODEC.unanswered_calls(history)] == [c.id for c in calls]
    answers = [ToolResult(call_id=c.id, name=c.name, value=1, content="1") for c in calls]
    CODEC.append_messages(history, CODEC.result_messages([answers[1]]))
    # A response without an id answers the first open call of its name.
    assert [c.id for c in CODEC.unanswered_calls(history)] == ["a", calls[2].id]
    CODEC.append_messages(history, CODEC.result_messages([answers[0]]))
    assert len(history) == 3  # consecutive user contents are one: Gemini wants turns to alternate
    assert [c.id for c in CODEC.unanswered_calls(history)] == [calls[2].id]
    CODEC.append_messages(history, CODEC.user_message("Anything else?"))
    assert history[-1]["parts"][-1] == {"text": "Anything else?"}
    assert CODEC.turn_starts(history) == [0, 2]
    hostile_histories: list[list[Any]] = [[1, None], [{"role": "model", "parts": "x"}], [{}], []]
    for hostile in hostile_histories:
        assert CODEC.unanswered_calls(hostile) == []


def chunk(*parts: dict[str, Any], **fields: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if "finishReason" in fields:
        candidate["finishReason"] = fields.pop("finishReason")
    return {"candidates": [candidate], "responseId": "r9", **fields}


STREAMED = [
    chunk({"text": "The user ", "thought": True}),
    chunk({"text": "wants weather.", "thought": True}),
    chunk({"text": "Checking "}, usageMetadata={"promptTokenCount": 40}),
    chunk({"text": "both.", "thoughtSignature": SIGNATURE}),
    chunk({"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}),
    chunk(
        {"functionCall": {"name": "get_time", "args": {}, "id": "t"}},
        {"text": ""},
        finishReason="STOP",
        usageMetadata={"promptTokenCount": 40, "candidatesTokenCount": 17},
    ),
]


def test_assembler_equals_parse_reply_of_the_whole_response() -> None:
    assembler = GeminiStreamAssembler()
    deltas = [delta for event in STREAMED for delta in assembler.feed(event)]
    whole: dict[str, Any] = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "The user wants weather.", "thought": True},
                        {"text": "Checking both.", "thoughtSignature": SIGNATURE},
                        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}},
                        {"functionCall": {"name": "get_time", "args": {}, "id": "t"}},
                        {"text": ""},
                    ],
                },
                "index": 0,
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 17},
        "responseId": "r9",
    }
    reply = assembler.reply()
    same(reply, CODEC.parse_reply(whole))
    assert (reply.usage, reply.response_id, reply.stop) == (Usage(40, 17), "r9", "tool_calls")
    assert "".join(d.text for d in deltas) == "Checking both."  # thoughts are not shown
    assert [(d.call_index, d.call_id, d.call_name) for d in deltas if d.call_name] == [
        (0, reply.calls[0].id, "get_weather"),
        (1, "t", "get_time"),
    ]
    assert [d.arguments for d in deltas if d.arguments] == ['{"city": "Oslo"}', "{}"]


def test_assembler_reads_sdk_chunks() -> None:
    from google.genai import types

    from_objects, from_dicts = GeminiStreamAssembler(), GeminiStreamAssembler()
    for event in STREAMED:
        from_objects.feed(types.GenerateContentResponse.model_validate(event))
        from_dicts.feed(event)
    assert (from_objects.reply().text, from_objects.reply().calls) == (
        from_dicts.reply().text,
        from_dicts.reply().calls,
    )


def test_assembler_of_a_blocked_prompt_and_of_errors() -> None:
    assembler = GeminiStreamAssembler()
    assembler.feed({"promptFeedback": {"blockReason": "SAFETY"}})
    assert assembler.reply().stop == "content_filter"
    with pytest.raises(ModelError, match="overloaded"):
        GeminiStreamAssembler().feed({"error": {"code": 503, "message": "overloaded"}})
    with pytest.raises(ValueError, match="expected a GenerateContentResponse"):
        GeminiStreamAssembler().feed({"delta": "x"})
