"""The Workers AI backend and codec over HTTP (httpx2) against the local fake server, the
stream assembler on hand-written events, and errors from a mocked transport."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from fakeserver import Call, FakeServer, Reply

from toolkit.backends.workers_ai import DEFAULT_BASE_URL, WorkersAI, _Events  # pyright: ignore[reportPrivateUsage]
from toolkit.calls import ToolResult
from toolkit.errors import ModelError, ToolkitError
from toolkit.formats.workers_ai import CODEC, WorkersAIStreamAssembler
from toolkit.model import (
    AsyncModel,
    ModelReply,
    ModelRequest,
    StreamDelta,
    SyncModel,
    ToolChoice,
    Usage,
)

MODEL = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
WEATHER: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the weather.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string", "description": "City."}},
        "required": ["city"],
    },
}
TIME: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_time", "description": "Get the time.", "parameters": {}},
}
PARIS = Call("get_weather", {"city": "Paris"})
TOKYO = Call("get_weather", {"city": "Tokyo"})
USER: dict[str, Any] = {"role": "user", "content": "Weather in Paris and Tokyo?"}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def backend(server: FakeServer) -> Iterator[WorkersAI]:
    with WorkersAI(
        server.account_id, "test-token", base_url=f"{server.base_url}/client/v4"
    ) as workers:
        yield workers


def request(
    messages: list[dict[str, Any]] | None = None,
    *,
    tools: tuple[dict[str, Any], ...] = (WEATHER, TIME),
    tool_choice: ToolChoice = "auto",
    system: str | None = None,
    settings: dict[str, Any] | None = None,
) -> ModelRequest:
    return ModelRequest(
        model=MODEL,
        messages=messages or [USER],
        system=system,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=False,
        settings=settings or {},
    )


def collect(items: Iterator[StreamDelta | ModelReply]) -> tuple[list[StreamDelta], ModelReply]:
    *deltas, final = list(items)
    assert isinstance(final, ModelReply)
    return [d for d in deltas if isinstance(d, StreamDelta)], final


def same(a: ModelReply, b: ModelReply) -> None:
    """Two replies agree on everything but the raw response."""
    assert (a.message, a.text, a.calls, a.stop, a.usage) == (
        b.message,
        b.text,
        b.calls,
        b.stop,
        b.usage,
    )


def mocked(handler: Callable[[httpx2.Request], httpx2.Response]) -> WorkersAI:
    """A backend whose sync and async clients answer with ``handler``."""
    transport = httpx2.MockTransport(handler)
    return WorkersAI(
        "acct",
        "token",
        http_client=httpx2.Client(transport=transport),
        async_http_client=httpx2.AsyncClient(transport=transport),
    )


# -- the backend over HTTP ---------------------------------------------------------------------


def test_backend_implements_both_protocols(backend: WorkersAI) -> None:
    assert isinstance(backend, SyncModel)
    assert isinstance(backend, AsyncModel)
    assert backend.codec.name == "workers-ai"
    assert backend.codec.user_message("Hi") == {"role": "user", "content": "Hi"}
    assert WorkersAI("a", "t").url("@cf/x/y") == f"{DEFAULT_BASE_URL}/accounts/a/ai/run/@cf/x/y"
    assert "secret-token" not in repr(WorkersAI("a", "secret-token"))
    with pytest.raises(ValueError, match="api_token"):
        WorkersAI("a", " ")


def test_complete_text(server: FakeServer, backend: WorkersAI) -> None:
    server.script(Reply.text("Sunny all week.", input_tokens=12, output_tokens=5))
    reply = backend.complete(request())
    assert reply.text == "Sunny all week."
    assert reply.message == {"role": "assistant", "content": "Sunny all week."}
    assert (reply.calls, reply.stop, reply.usage) == ((), "end", Usage(12, 5))
    assert reply.raw["success"] is True
    sent = server.last_request
    assert sent.path == f"/client/v4/accounts/{server.account_id}/ai/run/{MODEL}"
    assert sent.headers["authorization"] == "Bearer test-token"


def test_complete_parallel_tool_calls(server: FakeServer, backend: WorkersAI) -> None:
    server.script(Reply.calls(PARIS, TOKYO))
    reply = backend.complete(request())
    assert reply.stop == "tool_calls"
    assert reply.text == ""
    assert [(c.name, c.arguments) for c in reply.calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_weather", {"city": "Tokyo"}),
    ]
    ids = [c.id for c in reply.calls]
    assert all(i.startswith("call_") for i in ids)
    assert len(set(ids)) == 2
    assert reply.message == {
        "role": "assistant",
        "content": json.dumps(
            [
                {"name": "get_weather", "parameters": {"city": "Paris"}},
                {"name": "get_weather", "parameters": {"city": "Tokyo"}},
            ]
        ),
        "tool_calls": [
            {
                "id": ids[0],
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            },
            {
                "id": ids[1],
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'},
            },
        ],
    }


def test_text_and_one_call_keeps_the_text(server: FakeServer, backend: WorkersAI) -> None:
    server.script([Reply.text_and_calls("Checking.", PARIS), Reply.calls(PARIS)])
    assert backend.complete(request()).message["content"] == "Checking."
    only_call = backend.complete(request()).message["content"]
    assert json.loads(only_call) == {"name": "get_weather", "parameters": {"city": "Paris"}}


def test_acomplete(server: FakeServer) -> None:
    server.script([Reply.text("Hello."), Reply.calls(PARIS)])

    async def run() -> tuple[ModelReply, ModelReply]:
        client = httpx2.AsyncClient()
        async with client:
            backend = WorkersAI(
                server.account_id,
                "t",
                base_url=f"{server.base_url}/client/v4",
                async_http_client=client,
            )
            return await backend.complete_async(request()), await backend.complete_async(request())

    text, calls = asyncio.run(run())
    assert (text.text, text.stop) == ("Hello.", "end")
    assert (calls.calls[0].name, calls.stop) == ("get_weather", "tool_calls")


def test_acomplete_with_its_own_client(server: FakeServer, backend: WorkersAI) -> None:
    server.script(Reply.text("Hello."))
    assert asyncio.run(backend.complete_async(request())).text == "Hello."


def test_request_body(server: FakeServer, backend: WorkersAI) -> None:
    server.script(Reply.text("ok"))
    settings = {"max_tokens": 64, "temperature": 0.1, "seed": 7}
    backend.complete(request(system="Be brief.", settings={**settings, "stream": True}))
    body = server.last_request.body
    assert body["messages"] == [{"role": "system", "content": "Be brief."}, USER]
    assert body["tools"] == [WEATHER, TIME]
    assert {key: body[key] for key in settings} == settings
    assert "model" not in body  # in the URL
    assert "tool_choice" not in body  # not in the native API
    assert "stream" not in body


@pytest.mark.parametrize(
    ("choice", "tools"),
    [
        ("auto", [WEATHER, TIME]),
        ("required", [WEATHER, TIME]),
        ("get_time", [TIME]),
        ("none", None),
    ],
)
def test_tool_choice(
    server: FakeServer, backend: WorkersAI, choice: str, tools: list[dict[str, Any]] | None
) -> None:
    server.script(Reply.text("ok"))
    backend.complete(request(tool_choice=choice))
    assert server.last_request.body.get("tools") == tools
    assert "tool_choice" not in server.last_request.body


def test_tool_choice_naming_an_unknown_tool() -> None:
    with pytest.raises(ValueError, match="'nope', not in tools"):
        CODEC.build_request(request(tool_choice="nope"))


def test_stream_matches_complete(server: FakeServer, backend: WorkersAI) -> None:
    scripted = Reply.text_and_calls(
        "Let me check the weather.", PARIS, TOKYO, input_tokens=30, output_tokens=9
    )
    server.script([scripted, scripted])
    complete = backend.complete(request())
    deltas, streamed = collect(backend.stream(request()))
    same(streamed, complete)
    assert server.last_request.body["stream"] is True
    assert "".join(d.text for d in deltas) == "Let me check the weather."
    assert len([d for d in deltas if d.text]) > 1
    heads = [(d.call_index, d.call_name, json.loads(d.arguments)) for d in deltas if d.call_name]
    assert heads == [(0, "get_weather", {"city": "Paris"}), (1, "get_weather", {"city": "Tokyo"})]
    assert [d.call_id for d in deltas if d.call_name] == [c.id for c in streamed.calls]
    assert streamed.usage == Usage(30, 9)


def test_astream_matches_complete(server: FakeServer, backend: WorkersAI) -> None:
    scripted = Reply.text_and_calls("Checking.", PARIS, input_tokens=8, output_tokens=4)
    server.script([scripted, scripted])
    complete = backend.complete(request())

    async def run() -> list[StreamDelta | ModelReply]:
        return [item async for item in backend.stream_async(request())]

    deltas, streamed = collect(iter(asyncio.run(run())))
    same(streamed, complete)
    assert "".join(d.text for d in deltas) == "Checking."


def test_round_trip_history(server: FakeServer, backend: WorkersAI) -> None:
    server.script([Reply.calls(PARIS, TOKYO), Reply.text("Sunny in both.")])
    history: list[dict[str, Any]] = [USER]
    first = backend.complete(request(history))
    history.append(first.message)
    history.extend(
        CODEC.result_messages(
            [ToolResult(call_id=c.id, name=c.name, value="sun", content="sun") for c in first.calls]
        )
    )
    second = backend.complete(request(history))
    assert second.text == "Sunny in both."
    sent = server.last_request.body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "tool"]
    assert [m["tool_call_id"] for m in sent[2:]] == [t["id"] for t in sent[1]["tool_calls"]]
    assert [m["name"] for m in sent[2:]] == ["get_weather", "get_weather"]
    read_back = CODEC.parse_calls(sent[1])  # the history reads back as the same calls
    assert [(c.id, c.name) for c in read_back] == [(c.id, c.name) for c in first.calls]
    assert [json.loads(str(c.arguments)) for c in read_back] == [c.arguments for c in first.calls]


# -- errors ------------------------------------------------------------------------------------


def test_http_error_is_a_model_error() -> None:
    denied = {
        "result": None,
        "success": False,
        "errors": [{"code": 10000, "message": "Authentication error"}],
    }
    backend = mocked(lambda _: httpx2.Response(401, json=denied))
    with pytest.raises(
        ModelError, match=r"HTTP 401: Authentication error \(code 10000\)"
    ) as caught:
        backend.complete(request())
    assert caught.value.status == 401
    assert caught.value.errors == denied["errors"]
    assert isinstance(caught.value, ToolkitError)
    with pytest.raises(ModelError, match="HTTP 401"):
        list(backend.stream(request()))
    with pytest.raises(ModelError, match="HTTP 401"):
        asyncio.run(backend.complete_async(request()))


def test_server_error_from_the_fake(server: FakeServer, backend: WorkersAI) -> None:
    with pytest.raises(ModelError, match=r"HTTP 500: FakeServer: .*exhausted") as caught:
        backend.complete(request())  # nothing scripted
    assert caught.value.status == 500
    server.failures.clear()  # expected: the fake reports an unscripted request on exit


def test_failure_envelope_with_status_200() -> None:
    failure = {"result": None, "success": False, "errors": [{"code": 3040, "message": "Capacity"}]}
    backend = mocked(lambda _: httpx2.Response(200, json=failure))
    with pytest.raises(ModelError, match=r"the request failed: Capacity \(code 3040\)") as caught:
        backend.complete(request())
    assert caught.value.status == 200


def test_non_json_error_body() -> None:
    backend = mocked(lambda _: httpx2.Response(502, text="<html>Bad gateway</html>"))
    with pytest.raises(ModelError, match="HTTP 502: <html>Bad gateway</html>"):
        backend.complete(request())

    async def run() -> None:
        async for _ in backend.stream_async(request()):
            pass

    with pytest.raises(ModelError, match="HTTP 502"):
        asyncio.run(run())


def test_stream_answered_with_json_is_read_whole() -> None:
    answer: dict[str, Any] = {
        "result": {
            "response": "Hi.",
            "tool_calls": [{"name": "get_time", "arguments": {}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2},
        },
        "success": True,
    }
    backend = mocked(lambda _: httpx2.Response(200, json=answer))
    deltas, reply = collect(backend.stream(request()))
    assert [d.text for d in deltas if d.text] == ["Hi."]
    assert [(d.call_index, d.call_name, d.arguments) for d in deltas if d.call_name] == [
        (0, "get_time", "{}")
    ]
    same(reply, CODEC.parse_reply(answer))


def test_error_event_in_stream() -> None:
    sse = 'data: {"response": "Hel"}\n\ndata: {"errors": [{"message": "boom"}]}\n\n'
    backend = mocked(
        lambda _: httpx2.Response(200, text=sse, headers={"content-type": "text/event-stream"})
    )
    with pytest.raises(ModelError, match="boom"):
        list(backend.stream(request()))


def test_close_only_closes_its_own_client() -> None:
    given = httpx2.Client()
    backend = WorkersAI("a", "t", http_client=given)
    backend.close()
    assert not given.is_closed
    given.close()
    owned = WorkersAI("a", "t")
    client = owned._client()  # pyright: ignore[reportPrivateUsage]
    owned.close()
    assert client.is_closed


# -- the codec and the assembler, without the network ------------------------------------------


def test_parse_reply_envelope_or_result() -> None:
    result = {"response": "Hi", "usage": {"prompt_tokens": 4, "completion_tokens": 1}}
    same(CODEC.parse_reply({"result": result, "success": True}), CODEC.parse_reply(result))
    assert CODEC.parse_reply(result).usage == Usage(4, 1)
    with pytest.raises(ModelError, match="failed"):
        CODEC.parse_reply({"result": None, "success": False, "errors": [{"message": "x"}]})
    with pytest.raises(ValueError, match="expected a response"):
        CODEC.parse_reply({"choices": []})


def test_parse_reply_text_quirks() -> None:
    assert CODEC.parse_reply({"response": 42}).text == "42"
    assert CODEC.parse_reply({"response": {"a": 1}}).text == '{"a": 1}'
    assert CODEC.parse_reply({"response": None, "tool_calls": []}).text == ""


def test_parse_reply_reads_tool_calls_written_as_text() -> None:
    text = 'Let me look.\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>'
    reply = CODEC.parse_reply({"response": text})
    assert reply.text == "Let me look."
    assert [c.name for c in reply.calls] == ["get_time"]
    assert reply.message["content"] == text  # the model's own words go back unchanged
    assert reply.message["tool_calls"][0]["function"] == {"name": "get_time", "arguments": "{}"}
    assert reply.stop == "tool_calls"


def test_assembler_whole_calls_like_the_native_api() -> None:
    events: list[dict[str, Any]] = [
        {"response": "Let "},
        {"response": "me check."},
        {"response": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
        {"response": "", "usage": {"prompt_tokens": 9, "completion_tokens": 6}},
    ]
    assembler = WorkersAIStreamAssembler()
    deltas = [d for event in events for d in assembler.feed(event)]
    reply = assembler.reply()
    assert deltas == [
        StreamDelta(text="Let "),
        StreamDelta(text="me check."),
        StreamDelta(
            call_index=0,
            call_id=reply.calls[0].id,  # the generated id, announced before the reply
            call_name="get_weather",
            arguments='{"city": "Oslo"}',
        ),
    ]
    final = {
        "response": "Let me check.",
        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 6},
    }
    same(reply, CODEC.parse_reply(final))


def test_assembler_merges_indexed_fragments() -> None:
    events: list[dict[str, Any]] = [
        {"choices": [{"delta": {"content": "On it."}}]},
        {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "get_weather"}}]},
        {"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]},
        {
            "tool_calls": [
                {"index": 1, "id": "c2", "function": {"name": "get_time", "arguments": ""}}
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": '"Rome"}'}}]},
        {"response": 7},
    ]
    assembler = WorkersAIStreamAssembler()
    deltas = [d for event in events for d in assembler.feed(event)]
    assert "".join(d.text for d in deltas) == "On it.7"
    assert "".join(d.arguments for d in deltas if d.call_index == 0) == '{"city": "Rome"}'
    assert [(d.call_index, d.call_id, d.call_name) for d in deltas if d.call_name] == [
        (0, "c1", "get_weather"),
        (1, "c2", "get_time"),
    ]
    reply = assembler.reply()
    assert [(c.id, c.name, c.arguments) for c in reply.calls] == [
        ("c1", "get_weather", '{"city": "Rome"}'),
        ("c2", "get_time", ""),
    ]
    assert reply.text == "On it.7"


def test_assembler_rejects_errors_and_non_objects() -> None:
    with pytest.raises(ModelError, match="boom"):
        WorkersAIStreamAssembler().feed({"success": False, "errors": [{"message": "boom"}]})
    with pytest.raises(ValueError, match="JSON object"):
        WorkersAIStreamAssembler().feed(["not", "an", "event"])


def test_sse_framing() -> None:
    events = _Events()
    lines = [": keep-alive", "event: message", 'data: {"a":', "data: 1}", "", "", "data:[DONE]", ""]
    assert [d for line in lines if (d := events.line(line)) is not None] == ['{"a":\n1}', "[DONE]"]


def test_import_toolkit_loads_no_client_library() -> None:
    code = (
        "import sys, toolkit, toolkit.backends.anthropic, toolkit.backends.workers_ai\n"
        "import toolkit.formats.anthropic, toolkit.formats.workers_ai\n"
        "loaded = [m for m in ('anthropic', 'httpx2', 'openai') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
