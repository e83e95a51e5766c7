"""The fake provider server, driven by the real ``openai`` and ``anthropic`` SDK clients.

These tests pin what the runner's tests rely on: each protocol's answers parse in the official
SDKs (plain and streamed, helpers included), the server records what was sent, and it rejects
malformed conversations with the provider's own error, raised by the SDK as BadRequestError.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from _versions import OPENAI_CHAT_STREAM_HELPER, OPENAI_RESPONSE_MODELS
from fakeserver import Call, FakeServer, Reply

WEATHER_CHAT_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
WEATHER_RESPONSES_TOOL: dict[str, Any] = {"type": "function", **WEATHER_CHAT_TOOL["function"]}
WEATHER_ANTHROPIC_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Get the weather.",
    "input_schema": WEATHER_CHAT_TOOL["function"]["parameters"],
}
PARIS = Call("get_weather", {"city": "Paris"}, id="call_paris")
TOKYO = Call("get_weather", {"city": "Tokyo"}, id="call_tokyo")
EMPTY: dict[str, Any] = {}
USER: dict[str, Any] = {"role": "user", "content": "What's the weather in Paris and Tokyo?"}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def post_json(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST ``body`` with the stdlib; returns the status and the parsed JSON answer."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def post_sse(url: str, body: Any, headers: dict[str, str]) -> list[tuple[str | None, str]]:
    """POST and read a server-sent event stream as (event, data) pairs."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    events: list[tuple[str | None, str]] = []
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    for frame in text.strip().split("\n\n"):
        event: str | None = None
        data = ""
        for line in frame.splitlines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = line.removeprefix("data: ")
        events.append((event, data))
    return events


def openai_client(server: FakeServer) -> Any:
    """A real ``openai.OpenAI`` client on the fake (typed ``Any``: tests send odd payloads)."""
    import openai

    return openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


def async_openai_client(server: FakeServer) -> Any:
    """A real ``openai.AsyncOpenAI`` client on the fake."""
    import openai

    return openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)


def anthropic_client(server: FakeServer) -> Any:
    """A real ``anthropic.Anthropic`` client on the fake."""
    import anthropic

    return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="test", max_retries=0)


def async_anthropic_client(server: FakeServer) -> Any:
    """A real ``anthropic.AsyncAnthropic`` client on the fake."""
    import anthropic

    return anthropic.AsyncAnthropic(
        base_url=server.anthropic_base_url, api_key="test", max_retries=0
    )


def error_body(caught: pytest.ExceptionInfo[Any]) -> dict[str, Any]:
    """The JSON an SDK error carries (OpenAI: the inner ``error``; Anthropic: all of it)."""
    return caught.value.body


# -- OpenAI Chat Completions -------------------------------------------------------------------


def test_chat_text_reply_with_usage(server: FakeServer) -> None:
    server.script(Reply.text("Hello!", input_tokens=12, output_tokens=3))
    with openai_client(server) as client:
        completion = client.chat.completions.create(model="gpt-test", messages=[USER])
    choice = completion.choices[0]
    assert completion.object == "chat.completion"
    assert completion.model == "gpt-test"
    assert choice.message.content == "Hello!"
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 3)
    assert completion.usage.total_tokens == 15


def test_chat_parallel_tool_calls_then_answer_records_the_conversation(
    server: FakeServer,
) -> None:
    server.script([Reply.calls(PARIS, TOKYO), Reply.text("Sunny in both.")])
    with openai_client(server) as client:
        first = client.chat.completions.create(
            model="gpt-test", messages=[USER], tools=[WEATHER_CHAT_TOOL]
        )
        message = first.choices[0].message
        assert first.choices[0].finish_reason == "tool_calls"
        assert message.content is None
        assert [(call.id, call.function.name) for call in message.tool_calls] == [
            ("call_paris", "get_weather"),
            ("call_tokyo", "get_weather"),
        ]
        assert json.loads(message.tool_calls[1].function.arguments) == {"city": "Tokyo"}
        messages = [
            USER,
            message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": "call_paris", "content": "sunny"},
            {"role": "tool", "tool_call_id": "call_tokyo", "content": "sunny"},
        ]
        second = client.chat.completions.create(
            model="gpt-test", messages=messages, tools=[WEATHER_CHAT_TOOL]
        )
    assert second.choices[0].message.content == "Sunny in both."
    assert [request.path for request in server.requests] == ["/v1/chat/completions"] * 2
    sent = server.requests[1]
    assert sent.protocol == "openai_chat"
    assert sent.status == 200
    assert sent.headers["authorization"] == "Bearer test"
    assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "tool", "tool"]
    assert sent.body["tools"] == [WEATHER_CHAT_TOOL]


def test_chat_stream_fragments_arguments_and_reports_usage(server: FakeServer) -> None:
    server.script(Reply.text_and_calls("Checking.", PARIS, TOKYO, output_tokens=7))
    with openai_client(server) as client:
        stream = client.chat.completions.create(
            model="gpt-test",
            messages=[USER],
            tools=[WEATHER_CHAT_TOOL],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    arguments: dict[int, str] = {}
    ids: dict[int, str] = {}
    fragment_count = 0
    for chunk in chunks:
        deltas: list[Any] = (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []
        for delta in deltas:
            if delta.id:
                ids[delta.index] = delta.id
            if delta.function and delta.function.arguments:
                arguments[delta.index] = arguments.get(delta.index, "") + delta.function.arguments
                fragment_count += 1
    assert text == "Checking."
    assert ids == {0: "call_paris", 1: "call_tokyo"}
    assert {i: json.loads(a) for i, a in arguments.items()} == {
        0: {"city": "Paris"},
        1: {"city": "Tokyo"},
    }
    assert fragment_count > 2  # every call's arguments arrive in several pieces
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishing[-1] == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 7


@OPENAI_CHAT_STREAM_HELPER
def test_chat_stream_helper_assembles_the_final_completion(server: FakeServer) -> None:
    server.script(Reply.calls(PARIS, TOKYO))
    with (
        openai_client(server) as client,
        client.chat.completions.stream(
            model="gpt-test", messages=[USER], tools=[WEATHER_CHAT_TOOL]
        ) as stream,
    ):
        for _ in stream:
            pass
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert [(call.id, json.loads(call.function.arguments)) for call in calls] == [
        ("call_paris", {"city": "Paris"}),
        ("call_tokyo", {"city": "Tokyo"}),
    ]
    assert final.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(("mode", "expected"), [("omit", [None, None]), ("repeat", [0, 0])])
def test_chat_stream_can_mimic_servers_with_odd_tool_call_indexes(
    mode: Any, expected: list[int | None]
) -> None:
    with FakeServer(chat_tool_call_index=mode) as server:
        server.script(Reply.calls(PARIS, TOKYO))
        events = post_sse(
            f"{server.openai_base_url}/chat/completions",
            {"model": "m", "messages": [USER], "tools": [WEATHER_CHAT_TOOL], "stream": True},
            {"Authorization": "Bearer test"},
        )
    assert events[-1] == (None, "[DONE]")
    heads = [
        delta
        for _, data in events[:-1]
        for delta in json.loads(data)["choices"][0]["delta"].get("tool_calls", [])
        if "id" in delta
    ]
    assert [head["id"] for head in heads] == ["call_paris", "call_tokyo"]
    assert [head.get("index") for head in heads] == expected


@pytest.mark.parametrize(
    ("reply", "finish_reason"),
    [
        (Reply.text("Once upon a", stop="length"), "length"),
        (Reply.text("", stop="content_filter"), "content_filter"),
        (Reply.calls(PARIS, stop="length"), "length"),
    ],
)
def test_chat_finish_reasons(server: FakeServer, reply: Reply, finish_reason: str) -> None:
    server.script([reply, reply])
    with openai_client(server) as client:
        completion = client.chat.completions.create(model="m", messages=[USER])
        chunks = list(client.chat.completions.create(model="m", messages=[USER], stream=True))
    assert completion.choices[0].finish_reason == finish_reason
    assert chunks[-1].choices[0].finish_reason == finish_reason


def test_chat_refusal_plain_and_streamed(server: FakeServer) -> None:
    server.script([Reply.refuse("I can't help with that."), Reply.refuse("I can't.")])
    with openai_client(server) as client:
        completion = client.chat.completions.create(model="m", messages=[USER])
        chunks = list(client.chat.completions.create(model="m", messages=[USER], stream=True))
    assert completion.choices[0].message.refusal == "I can't help with that."
    assert completion.choices[0].message.content is None
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks) == "I can't."


def test_chat_async_client_streams(server: FakeServer) -> None:

    server.script([Reply.text("Hi there."), Reply.calls(PARIS)])

    async def run() -> tuple[str, str]:
        async with async_openai_client(server) as client:
            stream = await client.chat.completions.create(model="m", messages=[USER], stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            completion = await client.chat.completions.create(
                model="m", messages=[USER], tools=[WEATHER_CHAT_TOOL]
            )
            return text, completion.choices[0].message.tool_calls[0].id

    assert asyncio.run(run()) == ("Hi there.", "call_paris")


ASSISTANT_CALLS: dict[str, Any] = {
    "role": "assistant",
    "content": None,
    "tool_calls": [
        {
            "id": "call_paris",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        },
        {
            "id": "call_tokyo",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Tokyo"}'},
        },
    ],
}
PARIS_RESULT: dict[str, Any] = {"role": "tool", "tool_call_id": "call_paris", "content": "sunny"}
TOKYO_RESULT: dict[str, Any] = {"role": "tool", "tool_call_id": "call_tokyo", "content": "rain"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"messages": [USER, ASSISTANT_CALLS, PARIS_RESULT, USER]},
            "An assistant message with 'tool_calls' must be followed by tool messages "
            "responding to each 'tool_call_id'. The following tool_call_ids did not have "
            "response messages: call_tokyo",
            id="unanswered-call",
        ),
        pytest.param(
            {"messages": [USER, ASSISTANT_CALLS]},
            "The following tool_call_ids did not have response messages: call_paris, call_tokyo",
            id="calls-at-the-end",
        ),
        pytest.param(
            {"messages": [USER, PARIS_RESULT]},
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding "
            "message with 'tool_calls'.",
            id="orphan-tool-message",
        ),
        pytest.param(
            {
                "messages": [
                    USER,
                    ASSISTANT_CALLS,
                    PARIS_RESULT,
                    {**TOKYO_RESULT, "tool_call_id": "x"},
                ]
            },
            "Invalid parameter: 'tool_call_id' of 'x' not found in 'tool_calls' of previous "
            "message.",
            id="unknown-tool-call-id",
        ),
        pytest.param(
            {"tools": None, "tool_choice": "required"},
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            id="tool-choice-without-tools",
        ),
        pytest.param(
            {"tool_choice": "always"},
            "Invalid value: 'always'. Supported values are: 'none', 'auto', and 'required'.",
            id="tool-choice-unknown-mode",
        ),
        pytest.param(
            {"tool_choice": {"type": "function", "function": {"name": "get_time"}}},
            "Invalid value for 'tool_choice': function 'get_time' is not defined in 'tools'.",
            id="tool-choice-undefined-function",
        ),
        pytest.param(
            {"tools": []},
            "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an "
            "empty array instead.",
            id="empty-tools",
        ),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "get weather"}}]},
            "Invalid 'tools[0].function.name': string does not match pattern. Expected a string "
            "that matches the pattern '^[a-zA-Z0-9_-]+$'.",
            id="bad-tool-name",
        ),
        pytest.param(
            {"tools": [{"type": "function"}]},
            "Missing required parameter: 'tools[0].function'.",
            id="tool-without-function",
        ),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": EMPTY}}]},
            "Invalid schema for function 'f': schema must be a JSON Schema of 'type: "
            '"object"\', got \'type: "None"\'.',
            id="parameters-not-an-object-schema",
        ),
        pytest.param(
            {"messages": []},
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            id="no-messages",
        ),
    ],
)
def test_chat_rejects_malformed_requests(
    server: FakeServer, changes: dict[str, Any], message: str
) -> None:
    import openai

    server.script(Reply.text("never sent"))
    request: dict[str, Any] = {
        "model": "m",
        "messages": [USER, ASSISTANT_CALLS, PARIS_RESULT, TOKYO_RESULT],
        "tools": [WEATHER_CHAT_TOOL],
    }
    request.update(changes)
    request = {key: value for key, value in request.items() if value is not None}
    with openai_client(server) as client, pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**request)
    assert message in error_body(caught)["message"]
    assert error_body(caught)["type"] == "invalid_request_error"
    assert server.pending_replies == 1  # a rejected request consumes no reply
    assert server.last_request.status == 400


def test_chat_valid_conversation_with_answered_calls_is_accepted(server: FakeServer) -> None:
    server.script(Reply.text("Sunny and rainy."))
    with openai_client(server) as client:
        completion = client.chat.completions.create(
            model="m",
            messages=[USER, ASSISTANT_CALLS, TOKYO_RESULT, PARIS_RESULT],
            tools=[WEATHER_CHAT_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        )
    assert completion.choices[0].message.content == "Sunny and rainy."


def test_openai_requires_an_api_key(server: FakeServer) -> None:
    import openai

    with openai_client(server) as client, pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(
            model="m", messages=[USER], extra_headers={"Authorization": openai.Omit()}
        )
    assert caught.value.status_code == 401
    assert error_body(caught)["message"].startswith("You didn't provide an API key.")
    status, body = post_json(f"{server.openai_base_url}/responses", {"model": "m", "input": "x"})
    assert status == 401
    assert body["error"]["type"] == "invalid_request_error"


# -- OpenAI Responses --------------------------------------------------------------------------


def test_responses_text_reply(server: FakeServer) -> None:
    server.script(Reply.text("Hello!", input_tokens=5, output_tokens=2))
    with openai_client(server) as client:
        response = client.responses.create(model="gpt-test", input="Hi")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.output_text == "Hello!"
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5, 2)


def test_responses_function_calls_continue_with_previous_response_id(
    server: FakeServer,
) -> None:
    server.script([Reply.calls(PARIS, TOKYO), Reply.text("Sunny and rainy.")])
    with openai_client(server) as client:
        first = client.responses.create(model="m", input="Weather?", tools=[WEATHER_RESPONSES_TOOL])
        calls = [item for item in first.output if item.type == "function_call"]
        assert [(call.call_id, call.name) for call in calls] == [
            ("call_paris", "get_weather"),
            ("call_tokyo", "get_weather"),
        ]
        assert json.loads(calls[0].arguments) == {"city": "Paris"}
        assert all(call.id.startswith("fc_") for call in calls)
        second = client.responses.create(
            model="m",
            previous_response_id=first.id,
            input=[
                {"type": "function_call_output", "call_id": call.call_id, "output": "ok"}
                for call in calls
            ],
            tools=[WEATHER_RESPONSES_TOOL],
        )
    assert second.output_text == "Sunny and rainy."
    assert second.previous_response_id == first.id
    context = server.response_context(second.id)
    assert [item["type"] for item in context] == [
        "message",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
        "message",
    ]


@pytest.mark.parametrize(
    ("second_input", "message"),
    [
        pytest.param(
            [{"type": "function_call_output", "call_id": "call_paris", "output": "ok"}],
            "No tool output found for function call call_tokyo.",
            id="missing-output",
        ),
        pytest.param(
            [{"role": "user", "content": "Well?"}],
            "No tool output found for function call call_paris.",
            id="user-message-instead",
        ),
        pytest.param(
            [
                {"type": "function_call_output", "call_id": "call_paris", "output": "ok"},
                {"type": "function_call_output", "call_id": "call_tokyo", "output": "ok"},
                {"type": "function_call_output", "call_id": "call_other", "output": "ok"},
            ],
            "No tool call found for function call output with call_id call_other.",
            id="output-without-call",
        ),
    ],
)
def test_responses_rejects_unpaired_function_calls(
    server: FakeServer, second_input: list[dict[str, Any]], message: str
) -> None:
    import openai

    server.script([Reply.calls(PARIS, TOKYO), Reply.text("unused")])
    with openai_client(server) as client:
        first = client.responses.create(model="m", input="Weather?", tools=[WEATHER_RESPONSES_TOOL])
        with pytest.raises(openai.BadRequestError) as caught:
            client.responses.create(model="m", previous_response_id=first.id, input=second_input)
    assert error_body(caught)["message"] == message
    assert caught.value.param == "input"


def test_responses_checks_pairing_within_a_full_input_too(server: FakeServer) -> None:
    import openai

    items = [
        {"role": "user", "content": "Weather?"},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
    ]
    with openai_client(server) as client, pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="m", input=items)
    assert error_body(caught)["message"] == "No tool output found for function call c1."


def test_responses_unknown_previous_response(server: FakeServer) -> None:
    import openai

    with openai_client(server) as client, pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model="m", previous_response_id="resp_nope", input="Hi")
    assert error_body(caught)["message"] == "Previous response with id 'resp_nope' not found."
    assert caught.value.code == "previous_response_not_found"


def test_responses_unstored_response_cannot_be_continued(server: FakeServer) -> None:
    import openai

    server.script(Reply.text("Hi"))
    with openai_client(server) as client:
        first = client.responses.create(model="m", input="Hi", store=False)
        with pytest.raises(openai.BadRequestError):
            client.responses.create(model="m", previous_response_id=first.id, input="Again")


@OPENAI_RESPONSE_MODELS
def test_responses_raw_stream_events(server: FakeServer) -> None:
    server.script(Reply.text_and_calls("Checking.", PARIS))
    with openai_client(server) as client:
        events = list(
            client.responses.create(
                model="m", input="Weather?", tools=[WEATHER_RESPONSES_TOOL], stream=True
            )
        )
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == (
        "Checking."
    )
    argument_deltas = [
        e.delta for e in events if e.type == "response.function_call_arguments.delta"
    ]
    assert len(argument_deltas) > 1
    assert json.loads("".join(argument_deltas)) == {"city": "Paris"}
    added = [e.item.type for e in events if e.type == "response.output_item.added"]
    assert added == ["message", "function_call"]
    final = events[-1].response
    assert final.output_text == "Checking."
    assert final.output[1].call_id == "call_paris"


@OPENAI_RESPONSE_MODELS
def test_responses_stream_helper_final_response(server: FakeServer) -> None:
    server.script(Reply.calls(PARIS, TOKYO))
    with (
        openai_client(server) as client,
        client.responses.stream(
            model="m", input="Weather?", tools=[WEATHER_RESPONSES_TOOL]
        ) as stream,
    ):
        for _ in stream:
            pass
        final = stream.get_final_response()
    calls = [item for item in final.output if item.type == "function_call"]
    assert [json.loads(call.arguments) for call in calls] == [{"city": "Paris"}, {"city": "Tokyo"}]


def test_responses_truncated_and_refused(server: FakeServer) -> None:
    server.script([Reply.text("Once upon", stop="length"), Reply.refuse("No.")])
    with openai_client(server) as client:
        truncated = client.responses.create(model="m", input="Story", max_output_tokens=16)
        events = list(client.responses.create(model="m", input="Bad", stream=True))
    assert truncated.status == "incomplete"
    assert truncated.incomplete_details.reason == "max_output_tokens"
    refusal = events[-1].response.output[0].content[0]
    assert (refusal.type, refusal.refusal) == ("refusal", "No.")
    assert "response.refusal.done" in [event.type for event in events]


def test_responses_async_client(server: FakeServer) -> None:

    server.script(Reply.text("Hi."))

    async def run() -> str:
        async with async_openai_client(server) as client:
            stream = await client.responses.create(model="m", input="Hi", stream=True)
            texts = [event.delta async for event in stream if event.type.endswith("text.delta")]
            return "".join(texts)

    assert asyncio.run(run()) == "Hi."


# -- Anthropic Messages ------------------------------------------------------------------------


def test_anthropic_text_and_parallel_tool_use(server: FakeServer) -> None:
    server.script(Reply.text_and_calls("Let me check.", PARIS, TOKYO, input_tokens=20))
    with anthropic_client(server) as client:
        message = client.messages.create(
            model="claude-test", max_tokens=256, messages=[USER], tools=[WEATHER_ANTHROPIC_TOOL]
        )
    assert message.type == "message"
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["text", "tool_use", "tool_use"]
    assert message.content[0].text == "Let me check."
    assert [(block.id, block.input) for block in message.content[1:]] == [
        ("call_paris", {"city": "Paris"}),
        ("call_tokyo", {"city": "Tokyo"}),
    ]
    assert message.usage.input_tokens == 20
    sent = server.last_request
    assert sent.protocol == "anthropic"
    assert sent.headers["anthropic-version"]
    assert sent.body["max_tokens"] == 256


def test_anthropic_generated_tool_use_ids(server: FakeServer) -> None:
    server.script(Reply.calls(Call("get_weather", {"city": "Paris"})))
    with anthropic_client(server) as client:
        message = client.messages.create(model="m", max_tokens=16, messages=[USER])
    assert message.content[0].id.startswith("toolu_")


def test_anthropic_stream_helper_final_message(server: FakeServer) -> None:
    server.script(Reply.text_and_calls("Checking.", PARIS, TOKYO))
    with (
        anthropic_client(server) as client,
        client.messages.stream(
            model="m", max_tokens=64, messages=[USER], tools=[WEATHER_ANTHROPIC_TOOL]
        ) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Checking."
    assert final.stop_reason == "tool_use"
    assert [block.input for block in final.content if block.type == "tool_use"] == [
        {"city": "Paris"},
        {"city": "Tokyo"},
    ]


def test_anthropic_raw_stream_events(server: FakeServer) -> None:
    server.script(Reply.text_and_calls("Hi.", PARIS, output_tokens=9))
    with anthropic_client(server) as client:
        events = list(
            client.messages.create(model="m", max_tokens=64, messages=[USER], stream=True)
        )
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 2
    partial = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(partial) > 2
    assert json.loads("".join(partial)) == {"city": "Paris"}
    assert events[-2].delta.stop_reason == "tool_use"
    assert events[-2].usage.output_tokens == 9


@pytest.mark.parametrize(
    ("reply", "stop_reason"),
    [
        (Reply.text("Once upon", stop="length"), "max_tokens"),
        (Reply.text("Searching…", stop="pause_turn"), "pause_turn"),
        (Reply.refuse(), "refusal"),
        (Reply.calls(PARIS, stop="length"), "max_tokens"),
        (Reply.text("Done."), "end_turn"),
    ],
)
def test_anthropic_stop_reasons(server: FakeServer, reply: Reply, stop_reason: str) -> None:
    server.script([reply, reply])
    with anthropic_client(server) as client:
        message = client.messages.create(model="m", max_tokens=8, messages=[USER])
        with client.messages.stream(model="m", max_tokens=8, messages=[USER]) as stream:
            streamed = stream.get_final_message()
    assert message.stop_reason == stop_reason
    assert streamed.stop_reason == stop_reason


def test_anthropic_async_stream(server: FakeServer) -> None:

    server.script(Reply.calls(PARIS))

    async def run() -> Any:
        async with (
            async_anthropic_client(server) as client,
            client.messages.stream(model="m", max_tokens=8, messages=[USER]) as stream,
        ):
            return await stream.get_final_message()

    final = asyncio.run(run())
    assert final.content[0].input == {"city": "Paris"}


TOOL_USE_TURN: dict[str, Any] = {
    "role": "assistant",
    "content": [
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {"city": "Tokyo"}},
    ],
}
RESULT_1: dict[str, Any] = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}
RESULT_2: dict[str, Any] = {"type": "tool_result", "tool_use_id": "toolu_2", "content": "rain"}
TEXT: dict[str, Any] = {"type": "text", "text": "Thanks."}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param(
            {"messages": [USER, TOOL_USE_TURN, {"role": "user", "content": [RESULT_1]}]},
            "messages.1: `tool_use` ids were found without `tool_result` blocks immediately "
            "after: toolu_2. Each `tool_use` block must have a corresponding `tool_result` block "
            "in the next message.",
            id="missing-result",
        ),
        pytest.param(
            {"messages": [USER, TOOL_USE_TURN]},
            "messages.1: `tool_use` ids were found without `tool_result` blocks immediately "
            "after: toolu_1, toolu_2.",
            id="tool-use-at-the-end",
        ),
        pytest.param(
            {
                "messages": [
                    USER,
                    TOOL_USE_TURN,
                    {"role": "user", "content": [TEXT, RESULT_1, RESULT_2]},
                ]
            },
            "messages.2: Did not find 2 tool_result block(s) at the beginning of this message. "
            "Messages following tool_use blocks must begin with a matching number of "
            "tool_result blocks.",
            id="results-not-first",
        ),
        pytest.param(
            {
                "messages": [
                    USER,
                    TOOL_USE_TURN,
                    {"role": "user", "content": [RESULT_1, RESULT_2]},
                    {"role": "assistant", "content": "Sunny."},
                    {"role": "user", "content": [RESULT_1]},
                ]
            },
            "messages.4.content.0: unexpected `tool_use_id` found in `tool_result` blocks: "
            "toolu_1. Each `tool_result` block must have a corresponding `tool_use` block in "
            "the previous message.",
            id="stale-result",
        ),
        pytest.param(
            {"messages": [USER, {"role": "user", "content": "Hello?"}]},
            'messages: roles must alternate between "user" and "assistant", but found multiple '
            '"user" roles in a row',
            id="two-user-turns",
        ),
        pytest.param(
            {"messages": [USER, {"role": "system", "content": "Be brief."}]},
            "messages.1.role: Input should be 'user' or 'assistant'",
            id="system-role",
        ),
        pytest.param(
            {"tool_choice": {"type": "required"}},
            "tool_choice: Input tag 'required' found using 'type' does not match any of the "
            "expected tags: 'auto', 'any', 'tool', 'none'",
            id="openai-style-tool-choice",
        ),
        pytest.param(
            {"tools": None, "tool_choice": {"type": "any"}},
            "tool_choice may only be specified while providing tools.",
            id="tool-choice-without-tools",
        ),
        pytest.param(
            {"tool_choice": {"type": "tool", "name": "get_time"}},
            "tool_choice.name: tool 'get_time' not found in 'tools'",
            id="tool-choice-undefined-tool",
        ),
        pytest.param(
            {"tools": [{"name": "get_weather"}]},
            "tools.0.custom.input_schema: Field required",
            id="tool-without-schema",
        ),
    ],
)
def test_anthropic_rejects_malformed_requests(
    server: FakeServer, changes: dict[str, Any], message: str
) -> None:
    import anthropic

    server.script(Reply.text("never sent"))
    request: dict[str, Any] = {
        "model": "m",
        "max_tokens": 64,
        "messages": [USER, TOOL_USE_TURN, {"role": "user", "content": [RESULT_1, RESULT_2, TEXT]}],
        "tools": [WEATHER_ANTHROPIC_TOOL],
    }
    request.update(changes)
    request = {key: value for key, value in request.items() if value is not None}
    with anthropic_client(server) as client, pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(**request)
    assert error_body(caught)["error"]["type"] == "invalid_request_error"
    assert error_body(caught)["error"]["message"].startswith(message)
    assert error_body(caught)["type"] == "error"
    assert server.pending_replies == 1


def test_anthropic_accepts_results_first_then_text(server: FakeServer) -> None:
    server.script(Reply.text("Sunny and rainy."))
    with anthropic_client(server) as client:
        message = client.messages.create(
            model="m",
            max_tokens=64,
            messages=[USER, TOOL_USE_TURN, {"role": "user", "content": [RESULT_2, RESULT_1, TEXT]}],
            tools=[WEATHER_ANTHROPIC_TOOL],
            tool_choice={"type": "tool", "name": "get_weather"},
        )
    assert message.content[0].text == "Sunny and rainy."


def test_anthropic_merges_same_role_turns_when_not_strict() -> None:
    with FakeServer(strict_alternation=False) as server:
        server.script(Reply.text("Hi."))
        with anthropic_client(server) as client:
            message = client.messages.create(
                model="m",
                max_tokens=8,
                messages=[
                    USER,
                    TOOL_USE_TURN,
                    {"role": "user", "content": [RESULT_1, RESULT_2]},
                    {"role": "user", "content": "And Rome?"},
                ],
            )
    assert message.content[0].text == "Hi."


def test_anthropic_requires_max_tokens_key_and_version(server: FakeServer) -> None:
    url = f"{server.anthropic_base_url}/v1/messages"
    good = {"x-api-key": "test", "anthropic-version": "2023-06-01"}
    status, body = post_json(url, {"model": "m", "messages": [USER]}, good)
    assert (status, body["error"]["message"]) == (400, "max_tokens: Field required")
    status, body = post_json(url, {"model": "m", "max_tokens": 8, "messages": [USER]}, {})
    assert status == 401
    assert body["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }
    status, body = post_json(
        url, {"model": "m", "max_tokens": 8, "messages": [USER]}, {"x-api-key": "test"}
    )
    assert (status, body["error"]["message"]) == (400, "anthropic-version: header is required")


def test_anthropic_sdk_authentication_error(server: FakeServer) -> None:
    import anthropic

    with anthropic_client(server) as client, pytest.raises(anthropic.AuthenticationError):
        client.messages.create(
            model="m",
            max_tokens=8,
            messages=[USER],
            extra_headers={"X-Api-Key": anthropic.Omit(), "Authorization": anthropic.Omit()},
        )


# -- Cloudflare Workers AI ---------------------------------------------------------------------


def test_workers_ai_text_and_tool_calls(server: FakeServer) -> None:
    server.script([Reply.text("Hello!"), Reply.calls(PARIS, TOKYO)])
    url = f"{server.workers_ai_base_url}/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    auth = {"Authorization": "Bearer cf-token"}
    status, body = post_json(url, {"messages": [USER]}, auth)
    assert status == 200
    assert body["success"] is True
    assert (body["errors"], body["messages"]) == ([], [])
    assert body["result"]["response"] == "Hello!"
    assert "tool_calls" not in body["result"]
    status, body = post_json(url, {"messages": [USER], "tools": [WEATHER_CHAT_TOOL]}, auth)
    assert body["result"]["tool_calls"] == [
        {"name": "get_weather", "arguments": {"city": "Paris"}},
        {"name": "get_weather", "arguments": {"city": "Tokyo"}},
    ]
    sent = server.requests_for("workers_ai")
    assert [request.path for request in sent] == [
        "/client/v4/accounts/fake-account/ai/run/@cf/meta/llama-3.3-70b-instruct-fp8-fast"
    ] * 2


def test_workers_ai_stream_and_errors(server: FakeServer) -> None:
    server.script(Reply.text("Hi there."))
    url = f"{server.workers_ai_base_url}/@cf/meta/llama-3.1-8b-instruct"
    events = post_sse(
        url, {"messages": [USER], "stream": True}, {"Authorization": "Bearer cf-token"}
    )
    assert events[-1] == (None, "[DONE]")
    assert "".join(json.loads(data)["response"] for _, data in events[:-1]) == "Hi there."
    status, body = post_json(url, {"messages": [USER]})
    assert status == 401
    assert body["errors"] == [{"code": 10000, "message": "Authentication error"}]
    assert body["success"] is False
    status, body = post_json(url, {"input": "x"}, {"Authorization": "Bearer cf-token"})
    assert status == 400


# -- scripting and lifecycle -------------------------------------------------------------------


def test_callable_script_answers_from_the_conversation(server: FakeServer) -> None:
    seen: list[str] = []

    def model(protocol: str, request: Any) -> Reply:
        seen.append(protocol)
        if protocol == "anthropic":
            last = request["messages"][-1]["content"]
            if isinstance(last, list) and last[0]["type"] == "tool_result":
                return Reply.text(f"It is {last[0]['content']}.")
            return Reply.calls(PARIS)
        if request["messages"][-1]["role"] == "tool":
            return Reply.text(f"It is {request['messages'][-1]['content']}.")
        return Reply.calls(PARIS)

    server.script(model)
    with anthropic_client(server) as client:
        first = client.messages.create(model="m", max_tokens=8, messages=[USER])
        answer = client.messages.create(
            model="m",
            max_tokens=8,
            messages=[
                USER,
                {"role": "assistant", "content": [block.model_dump() for block in first.content]},
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "call_paris", "content": "sunny"}
                    ],
                },
            ],
        )
    with openai_client(server) as client:
        chat = client.chat.completions.create(
            model="m",
            messages=[
                USER,
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_paris",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_paris", "content": "cloudy"},
            ],
        )
    assert answer.content[0].text == "It is sunny."
    assert chat.choices[0].message.content == "It is cloudy."
    assert seen == ["anthropic", "anthropic", "openai_chat"]


def test_exhausted_script_answers_500_and_fails_the_block() -> None:
    import openai

    failures: list[str] = []

    def run() -> None:
        with FakeServer() as server:
            with openai_client(server) as client, pytest.raises(openai.InternalServerError):
                client.chat.completions.create(model="m", messages=[USER])
            failures.extend(server.failures)

    with pytest.raises(AssertionError, match="script is exhausted"):
        run()
    assert failures == ["openai_chat request arrived but the script is exhausted"]


def test_script_raising_is_reported() -> None:
    import anthropic

    def broken(protocol: str, request: Any) -> Reply:
        raise ValueError("boom")

    def run() -> None:
        with FakeServer() as server:
            server.script(broken)
            with anthropic_client(server) as client, pytest.raises(anthropic.InternalServerError):
                client.messages.create(model="m", max_tokens=8, messages=[USER])

    with pytest.raises(AssertionError, match="boom"):
        run()


def test_unknown_path_is_404(server: FakeServer) -> None:
    status, body = post_json(f"{server.base_url}/v1/embeddings", {"input": "x"})
    assert status == 404
    assert body["error"]["message"] == "Invalid URL (POST /v1/embeddings)"
    assert server.last_request.protocol is None


def test_server_restarts_cleanly_and_urls_need_a_running_server() -> None:
    server = FakeServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url
    for _ in range(2):
        with server:
            server.script(Reply.text("Hi"))
            with openai_client(server) as client:
                assert client.chat.completions.create(model="m", messages=[USER]).choices
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.openai_base_url


def test_queued_replies_append_and_record_statuses(server: FakeServer) -> None:
    server.script(Reply.text("one"))
    server.script([Reply.text("two")])
    assert server.pending_replies == 2
    with openai_client(server) as client:
        texts = [
            client.chat.completions.create(model="m", messages=[USER]).choices[0].message.content
            for _ in range(2)
        ]
    assert texts == ["one", "two"]
    assert [request.status for request in server.requests] == [200, 200]
