"""The runner end to end: the real SDK clients over HTTP against the local fake server.

Every test runs on every backend (OpenAI Chat Completions, Responses, Responses chained with
``previous_response_id``, Anthropic Messages, Workers AI, Gemini), sync and async. The fake server
validates each history the way the live APIs do, so a test passes only if every request the
runner built was one the provider would accept, including the request after a failure.

One server and one client per backend serve the whole session (a client costs an SSL
context, a server a thread): the ``harness`` fixture resets the server's records and script
before each test and checks after it that the script was used up and nothing failed.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

import anthropic
import openai
import pytest
from fakeserver import Call, FakeServer, ProtocolName, Reply

from toolkit import (
    ArgumentsDelta,
    Conversation,
    Event,
    Limits,
    Registry,
    RunFinished,
    Runner,
    RunResult,
    TextDelta,
    ToolCall,
    ToolCallComplete,
    ToolCallStarted,
    ToolResult,
    ToolResultEvent,
    tool,
)
from toolkit.backends.openai import OpenAIResponses
from toolkit.backends.workers_ai import WorkersAI

MODEL = "fake-model"
Kind = Literal["chat", "responses", "responses_chained", "anthropic", "workers_ai", "gemini"]
Mode = Literal["sync", "async"]

PROTOCOLS: dict[Kind, ProtocolName] = {
    "chat": "openai_chat",
    "responses": "openai_responses",
    "responses_chained": "openai_responses",
    "anthropic": "anthropic",
    "workers_ai": "workers_ai",
    "gemini": "gemini",
}


# -- tools -----------------------------------------------------------------------------------------


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city.

    Args:
        city: The city, e.g. Paris.
    """
    return f"{city}: 21 degrees and sunny"


@tool
def get_stock_price(ticker: str) -> str:
    """Get the latest price of a stock.

    Args:
        ticker: The stock's ticker symbol, e.g. AAPL.
    """
    return f"{ticker}: 123.45 USD"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@tool
def explode() -> str:
    """Read the weather station (it is broken)."""
    raise RuntimeError("the weather station is down")


TOOLS = (get_weather, get_stock_price, add, explode)
TOOL_NAMES = [t.name for t in TOOLS]


# -- backends --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flavor:
    """One backend driven one way."""

    kind: Kind
    mode: Mode

    def __str__(self) -> str:
        return f"{self.kind}-{self.mode}"


KINDS: tuple[Kind, ...] = (
    "chat",
    "responses",
    "responses_chained",
    "anthropic",
    "workers_ai",
    "gemini",
)
FLAVORS = [Flavor(kind, mode) for kind in KINDS for mode in ("sync", "async")]
# Workers AI replies carry no finish reason: neither a refusal nor a cut-off is visible there.
WITH_STOP_REASONS = [f for f in FLAVORS if f.kind != "workers_ai"]
# Gemini has no refusals: its safety filters withhold the answer (content_filter) instead.
WITH_REFUSALS = [f for f in WITH_STOP_REASONS if f.kind != "gemini"]
ANTHROPIC = [f for f in FLAVORS if f.kind == "anthropic"]
GEMINI = [f for f in FLAVORS if f.kind == "gemini"]


@dataclass
class Connection:
    """A backend's client for the session, with the event loop its async client lives on."""

    flavor: Flavor
    client: Any
    loop: asyncio.AbstractEventLoop | None

    def backend(self) -> Any:
        """What a new ``Runner`` is given (a fresh Responses backend: it keeps state)."""
        if self.flavor.kind == "responses":
            return OpenAIResponses(self.client)
        if self.flavor.kind == "responses_chained":
            return OpenAIResponses(self.client, use_previous_response_id=True)
        return self.client


def _client(flavor: Flavor, server: FakeServer) -> Any:
    asynchronous = flavor.mode == "async"
    if flavor.kind == "anthropic":
        kind = anthropic.AsyncAnthropic if asynchronous else anthropic.Anthropic
        return kind(base_url=server.anthropic_base_url, api_key="test", max_retries=0)
    if flavor.kind == "workers_ai":
        return WorkersAI(server.account_id, "token", base_url=f"{server.base_url}/client/v4")
    if flavor.kind == "gemini":
        genai = pytest.importorskip("google.genai", reason="the gemini extra is not installed")
        client = genai.Client(api_key="test", http_options={"base_url": server.gemini_base_url})
        return client.aio if asynchronous else client  # async: the AsyncClient alone
    kind = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return kind(base_url=server.openai_base_url, api_key="test", max_retries=0)


@pytest.fixture(scope="session")
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


@pytest.fixture(scope="session", params=FLAVORS, ids=str)
def connection(request: pytest.FixtureRequest, server: FakeServer) -> Iterator[Connection]:
    flavor = cast("Flavor", request.param)
    client = _client(flavor, server)
    loop = asyncio.new_event_loop() if flavor.mode == "async" else None
    yield Connection(flavor, client, loop)
    if loop is None:
        client.close()
        return
    if flavor.kind == "gemini":
        loop.run_until_complete(client.aclose())
    elif flavor.kind != "workers_ai":  # WorkersAI opens a client per async request
        loop.run_until_complete(client.close())
    loop.close()


@dataclass(frozen=True)
class SentResult:
    """A tool result as the server received it."""

    call_id: str
    content: str
    is_error: bool | None  # Anthropic's flag, Gemini's "error" key; the others have none


class Harness:
    """Drives a runner on one backend and reads what reached the server, protocol-neutrally."""

    def __init__(self, connection: Connection, server: FakeServer) -> None:
        self.connection = connection
        self.server = server
        self.kind = connection.flavor.kind
        self.protocol: ProtocolName = PROTOCOLS[self.kind]

    # -- driving

    def runner(self, *, tools: Iterable[Any] | Registry = TOOLS, **options: Any) -> Runner:
        registry = tools if isinstance(tools, Registry) else list(tools)
        limits = {k: options.pop(k) for k in list(options) if k in Limits.__dataclass_fields__}
        return Runner(
            self.connection.backend(),
            model=MODEL,
            tools=registry,
            limits=Limits(**limits),
            **options,
        )

    def run(self, runner: Runner, prompt: str, *, tool_choice: str | None = None) -> RunResult:
        if self.connection.loop is None:
            return runner.run(prompt, tool_choice=tool_choice)
        return self._wait(runner.run_async(prompt, tool_choice=tool_choice))

    def send(self, chat: Conversation, prompt: str, *, tool_choice: str | None = None) -> RunResult:
        if self.connection.loop is None:
            return chat.send(prompt, tool_choice=tool_choice)
        return self._wait(chat.send_async(prompt, tool_choice=tool_choice))

    def stream(self, runner: Runner, prompt: str) -> list[Event]:
        if self.connection.loop is None:
            return list(runner.stream(prompt))

        async def collect() -> list[Event]:
            return [event async for event in runner.stream_async(prompt)]

        return self._wait(collect())

    def _wait(self, awaitable: Any) -> Any:
        loop = self.connection.loop
        assert loop is not None
        return loop.run_until_complete(awaitable)

    # -- reading the requests

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies the runner sent, oldest first."""
        return [cast("dict[str, Any]", r.body) for r in self.server.requests_for(self.protocol)]

    def history(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The conversation a request carried (a chained one: with what the server kept)."""
        if self.protocol == "gemini":
            return list(body["contents"])
        if self.protocol == "openai_responses":
            earlier: list[dict[str, Any]] = []
            previous = body.get("previous_response_id")
            if previous is not None:
                earlier = self.server.response_context(previous)
            return earlier + list(body["input"])
        return list(body["messages"])

    def results(self, body: dict[str, Any]) -> list[SentResult]:
        """Every tool result in a request's conversation, in order."""
        found: list[SentResult] = []
        if self.protocol == "gemini":
            return _gemini_results(self.history(body))
        for item in self.history(body):
            if self.protocol == "openai_responses":
                if item.get("type") == "function_call_output":
                    found.append(SentResult(item["call_id"], item["output"], None))
            elif self.protocol == "anthropic":
                content: Any = item["content"]
                blocks = cast("list[dict[str, Any]]", content if isinstance(content, list) else [])
                found.extend(
                    SentResult(b["tool_use_id"], _text_of(b["content"]), b.get("is_error", False))
                    for b in blocks
                    if b["type"] == "tool_result"
                )
            elif item["role"] == "tool":
                found.append(SentResult(item["tool_call_id"], item["content"], None))
        return found

    def choice(self, body: dict[str, Any]) -> str | None:
        """The request's tool choice in neutral terms (``auto``, ``none``, ``required``, a
        tool name), or ``None`` when it sent none."""
        if self.protocol == "workers_ai":  # no tool_choice: a choice shows in the tools sent
            names = self.tool_names(body)
            if not names:
                return "none"
            return names[0] if len(names) == 1 else "auto"
        if self.protocol == "gemini":
            return _gemini_choice(body)
        choice: Any = body.get("tool_choice")
        if self.protocol == "anthropic" and isinstance(choice, dict):
            named = cast("dict[str, Any]", choice)
            kind = {"any": "required", "tool": named.get("name")}.get(named["type"])
            return kind or named["type"]
        if isinstance(choice, dict):
            named = cast("dict[str, Any]", choice)
            return named["function"]["name"] if "function" in named else named["name"]
        return cast("str | None", choice)

    def forced(self, choice: str) -> str:
        """What a forced ``choice`` looks like on this backend's wire."""
        return "auto" if self.protocol == "workers_ai" and choice == "required" else choice

    def tool_names(self, body: dict[str, Any]) -> list[str]:
        tools = cast("list[dict[str, Any]]", body.get("tools") or [])
        if self.protocol == "openai_chat":
            return [t["function"]["name"] for t in tools]
        if self.protocol == "gemini":
            return [d["name"] for t in tools for d in t["functionDeclarations"]]
        return [t["name"] for t in tools]

    @property
    def error_flag(self) -> bool | None:
        """How an error result is flagged on the wire: Anthropic's ``is_error``, Gemini's
        ``{"error": ...}`` response, or not."""
        return True if self.protocol in ("anthropic", "gemini") else None

    @property
    def assistant_role(self) -> str:
        return "model" if self.protocol == "gemini" else "assistant"

    def streamed(self) -> list[bool]:
        """Whether each request asked for a stream (Gemini: by its method, not its body)."""
        requests = self.server.requests_for(self.protocol)
        if self.protocol == "gemini":
            return [r.path.endswith(":streamGenerateContent") for r in requests]
        return [cast("dict[str, Any]", r.body).get("stream") is True for r in requests]

    def user(self, text: str) -> dict[str, Any]:
        if self.protocol == "gemini":
            return {"role": "user", "parts": [{"text": text}]}
        return {"role": "user", "content": text}

    def comparable(self, items: list[Any]) -> Any:
        """``items`` without what differs between equal conversations: the provider's item
        ids, and (Responses) whether a message item spells out its default type."""
        if self.protocol == "openai_responses":
            items = [{"type": "message", **item} if "type" not in item else item for item in items]
        return _without_ids(items)


@pytest.fixture
def harness(connection: Connection, server: FakeServer) -> Iterator[Harness]:
    server.requests.clear()
    server.failures.clear()
    server.script(_unscripted)  # a callable empties the queue a failed test may have left,
    server.script([])  # and a list drops the callable
    yield Harness(connection, server)
    assert server.failures == []
    assert server.pending_replies == 0, "the test did not use its whole script"


def _unscripted(protocol: ProtocolName, body: Any) -> Reply:
    raise AssertionError("no test is running")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    blocks = cast("list[dict[str, Any]]", content)
    return "".join(block.get("text", "") for block in blocks)


def _call_ids(result: RunResult) -> list[str]:
    return [call.id for step in result.steps for call in step.reply.calls]


def _contents(results: Iterable[ToolResult]) -> list[str]:
    return [r.content for r in results]


def _gemini_results(contents: list[dict[str, Any]]) -> list[SentResult]:
    """The function responses in Gemini contents; one without an id answers the call at its
    position in the model content before it (whose id toolkit made)."""
    from toolkit.formats import get_format

    found: list[SentResult] = []
    calls: list[ToolCall] = []
    for content in contents:
        parts = cast("list[dict[str, Any]]", content["parts"])
        if content["role"] == "model":
            calls = get_format("gemini").parse_calls(parts)
            continue
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        for position, response in enumerate(responses):
            answer = cast("dict[str, Any]", response["response"])
            call_id = response.get("id") or calls[position].id
            text = answer["error"] if "error" in answer else answer["result"]
            found.append(SentResult(call_id, text, "error" in answer))
    return found


def _gemini_choice(body: dict[str, Any]) -> str | None:
    config = cast("dict[str, Any] | None", body.get("toolConfig"))
    if config is None:
        return None
    calling = cast("dict[str, Any]", config["functionCallingConfig"])
    allowed = cast("list[str]", calling.get("allowedFunctionNames") or [])
    modes = {"AUTO": "auto", "NONE": "none", "ANY": "required"}
    return allowed[0] if len(allowed) == 1 else modes[calling["mode"]]


def _without_ids(value: Any) -> Any:
    """``value`` without the provider's item ids (``id`` keys), which differ between runs."""
    if isinstance(value, dict):
        items = cast("dict[str, Any]", value).items()
        return {key: _without_ids(item) for key, item in items if key != "id"}
    if isinstance(value, list):
        return [_without_ids(item) for item in cast("list[Any]", value)]
    return value


# -- the six patterns ------------------------------------------------------------------------------


def test_simple_call_then_answer(harness: Harness) -> None:
    harness.server.script(
        [Reply.calls(Call("get_weather", {"city": "Paris"})), Reply.text("Sunny in Paris.")]
    )
    result = harness.run(harness.runner(), "What is the weather in Paris?")

    assert result.stop_reason == "end"
    assert result.text == "Sunny in Paris."
    assert _contents(result.tool_results) == ["Paris: 21 degrees and sunny"]
    assert result.usage.input_tokens == 20
    first, second = harness.bodies()
    assert harness.tool_names(first) == TOOL_NAMES
    assert harness.results(first) == []
    [sent] = harness.results(second)
    assert sent.content == "Paris: 21 degrees and sunny"
    assert sent.call_id == _call_ids(result)[0]
    assert result.messages[0] == harness.user("What is the weather in Paris?")


def test_multiple_tools_the_model_chooses_one(harness: Harness) -> None:
    harness.server.script(
        [Reply.calls(Call("get_stock_price", {"ticker": "AAPL"})), Reply.text("123.45 USD.")]
    )
    result = harness.run(harness.runner(), "What is Apple trading at?")

    assert result.text == "123.45 USD."
    assert [r.name for r in result.tool_results] == ["get_stock_price"]
    first, second = harness.bodies()
    assert harness.tool_names(first) == TOOL_NAMES
    assert [s.content for s in harness.results(second)] == ["AAPL: 123.45 USD"]


def test_parallel_calls_of_one_tool(harness: Harness) -> None:
    cities = ["New York", "San Francisco", "Chicago"]
    harness.server.script(
        [
            Reply.calls(*(Call("get_weather", {"city": city}) for city in cities)),
            Reply.text("Sunny everywhere."),
        ]
    )
    result = harness.run(harness.runner(), "Weather in New York, San Francisco and Chicago?")

    assert result.text == "Sunny everywhere."
    assert len(result.steps) == 2
    sent = harness.results(harness.bodies()[-1])
    assert [s.call_id for s in sent] == _call_ids(result)
    assert len(set(_call_ids(result))) == 3
    assert [s.content for s in sent] == [f"{city}: 21 degrees and sunny" for city in cities]


def test_parallel_calls_of_several_tools(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.text_and_calls(
                "Let me check both.",
                Call("get_weather", {"city": "Tokyo"}),
                Call("get_stock_price", {"ticker": "NVDA"}),
            ),
            Reply.text("Rainy? No: sunny, and NVDA is up."),
        ]
    )
    result = harness.run(harness.runner(), "Tokyo weather and the NVDA price?")

    assert result.text == "Rainy? No: sunny, and NVDA is up."
    sent = harness.results(harness.bodies()[-1])
    assert [s.content for s in sent] == ["Tokyo: 21 degrees and sunny", "NVDA: 123.45 USD"]
    assert [s.call_id for s in sent] == _call_ids(result)


def test_multi_step_each_call_depends_on_the_last_result(harness: Harness) -> None:
    seen: list[str] = []

    def model(protocol: ProtocolName, body: Any) -> Reply:
        results = harness.results(body)
        if not results:
            return Reply.calls(Call("add", {"a": 2, "b": 3}))
        last = results[-1].content
        seen.append(last)
        if int(last) < 10:
            return Reply.calls(Call("add", {"a": int(last), "b": 10}))
        return Reply.text(f"The answer is {last}.")

    harness.server.script(model)
    result = harness.run(harness.runner(), "What is (2 + 3) + 10?")

    assert result.text == "The answer is 15."
    assert seen == ["5", "15"]
    assert [r.value for r in result.tool_results] == [5, 15]
    assert len(result.steps) == 3
    assert [len(harness.results(body)) for body in harness.bodies()] == [0, 1, 2]


def test_multi_turn_conversation_sends_the_whole_history(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.calls(Call("get_weather", {"city": "Chicago"})),
            Reply.text("Sunny in Chicago."),
            Reply.text("You asked about Chicago."),
        ]
    )
    chat = harness.runner().conversation()
    first = harness.send(chat, "What is the weather in Chicago?")
    after_first = copy.deepcopy(chat.messages)
    second = harness.send(chat, "Which city did I ask about?")

    assert first.text == "Sunny in Chicago."
    assert second.text == "You asked about Chicago."
    assert len(after_first) == 4
    assert second.new_messages[0] == harness.user("Which city did I ask about?")
    assert chat.messages == after_first + second.new_messages
    last = harness.bodies()[-1]
    sent = harness.history(last)
    expected = [*after_first, harness.user("Which city did I ask about?")]
    assert harness.comparable(sent) == harness.comparable(expected)
    if harness.kind == "responses_chained":  # only the new turn travels; the API has the rest
        assert last["input"] == [harness.user("Which city did I ask about?")]
        assert "previous_response_id" in last


# -- tool_choice -----------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["required", "get_weather"])
def test_a_forced_tool_choice_applies_once_then_auto(harness: Harness, choice: str) -> None:
    harness.server.script(
        [
            Reply.calls(Call("get_weather", {"city": "Paris"})),
            Reply.calls(Call("get_weather", {"city": "Oslo"})),
            Reply.text("Both sunny."),
        ]
    )
    result = harness.run(harness.runner(tool_choice=choice), "Weather in Paris, then Oslo?")

    assert result.text == "Both sunny."
    choices = [harness.choice(body) for body in harness.bodies()]
    assert choices == [harness.forced(choice), "auto", "auto"]


def test_tool_choice_none_for_one_turn(harness: Harness) -> None:
    harness.server.script([Reply.text("I will not use tools."), Reply.text("Now I may.")])
    chat = harness.runner().conversation()
    harness.send(chat, "Answer without tools.", tool_choice="none")
    harness.send(chat, "And now?")

    assert [harness.choice(body) for body in harness.bodies()] == ["none", "auto"]


# -- limits and stop reasons -----------------------------------------------------------------------


def test_max_steps_leaves_a_history_the_next_turn_can_send(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.calls(Call("add", {"a": 1, "b": 1})),
            Reply.calls(Call("add", {"a": 2, "b": 2})),
            Reply.text("I got 2 and 4."),
        ]
    )
    chat = harness.runner(max_steps=2).conversation()
    first = harness.send(chat, "Keep adding.")
    second = harness.send(chat, "What did you get?")

    assert first.stop_reason == "max_steps"
    assert len(first.steps) == 2
    assert _contents(first.tool_results) == ["2", "4"]
    assert second.text == "I got 2 and 4."
    sent = harness.results(harness.bodies()[-1])
    assert [s.call_id for s in sent] == _call_ids(first)
    assert [s.content for s in sent] == ["2", "4"]


@pytest.mark.parametrize("connection", WITH_STOP_REASONS, indirect=True, ids=str)
def test_a_call_cut_off_by_the_length_limit_is_not_run(harness: Harness) -> None:
    ran: list[str] = []

    @tool
    def book_flight(to: str) -> str:
        """Book a flight."""
        ran.append(to)
        return f"booked to {to}"

    harness.server.script(
        [
            Reply.calls(Call("book_flight", {"to": "Lima"}), stop="length"),
            Reply.text("Sorry, I was cut off."),
        ]
    )
    result = harness.run(harness.runner(tools=[book_flight]), "Book me a flight to Lima.")

    assert ran == []
    assert result.text == "Sorry, I was cut off."
    [cut] = result.tool_results
    assert cut.is_error
    [told] = harness.results(harness.bodies()[-1])
    assert told.call_id == _call_ids(result)[0]
    assert told.content.startswith("Your reply was cut off by the output token limit")
    assert told.is_error is harness.error_flag


@pytest.mark.parametrize("connection", WITH_REFUSALS, indirect=True, ids=str)
def test_a_refusal_ends_the_run(harness: Harness) -> None:
    harness.server.script([Reply.refuse("I can't help with that.")])
    result = harness.run(harness.runner(), "Help me with something bad.")

    assert result.stop_reason == "refusal"
    assert result.tool_results == []
    assert len(harness.bodies()) == 1
    if harness.protocol != "anthropic":  # Anthropic sends no refusal text
        assert result.text == "I can't help with that."


@pytest.mark.parametrize(
    "connection",
    [pytest.param(f, id=str(f)) for f in WITH_REFUSALS],
    indirect=True,
)
def test_a_refusal_leaves_a_history_the_next_turn_can_send(harness: Harness) -> None:
    harness.server.script([Reply.refuse("I can't help with that.")])
    chat = harness.runner().conversation()
    harness.send(chat, "Help me with something bad.")
    # A callable script: a rejected request leaves no queued reply behind.
    harness.server.script(lambda protocol, body: Reply.text("Happy to help with that."))
    assert harness.send(chat, "Then help me plan a trip.").text == "Happy to help with that."


@pytest.mark.parametrize("connection", ANTHROPIC, indirect=True, ids=str)
def test_anthropic_pause_turn_is_continued(harness: Harness) -> None:
    harness.server.script(
        [Reply.text("Searching the web...", stop="pause_turn"), Reply.text("Found it.")]
    )
    result = harness.run(harness.runner(), "Research this.")

    assert result.stop_reason == "end"
    assert result.text == "Found it."
    first, second = harness.bodies()
    assert harness.history(second) == [
        *harness.history(first),
        {"role": "assistant", "content": [{"type": "text", "text": "Searching the web..."}]},
    ]


@pytest.mark.parametrize("connection", ANTHROPIC, indirect=True, ids=str)
def test_anthropic_a_continued_pause_leaves_a_history_the_next_turn_can_send(
    harness: Harness,
) -> None:
    harness.server.script([Reply.text("Searching the web...", stop="pause_turn")])
    harness.server.script([Reply.text("Found it.")])
    chat = harness.runner().conversation()
    harness.send(chat, "Research this.")
    harness.server.script(lambda protocol, body: Reply.text("Anything else?"))
    assert harness.send(chat, "Thanks.").text == "Anything else?"


@pytest.mark.parametrize("connection", GEMINI, indirect=True, ids=str)
def test_gemini_a_withheld_answer_ends_the_run_and_the_next_turn_can_send(
    harness: Harness,
) -> None:
    harness.server.script([Reply.refuse("I can't help with that.")])
    chat = harness.runner().conversation()
    withheld = harness.send(chat, "Help me with something bad.")
    assert (withheld.stop_reason, withheld.text) == ("content_filter", "")
    harness.server.script(lambda protocol, body: Reply.text("Happy to help with that."))
    assert harness.send(chat, "Then help me plan a trip.").text == "Happy to help with that."


# -- failed calls reach the model as tool results --------------------------------------------------


def test_unknown_tools_bad_arguments_and_exceptions_become_error_results(
    harness: Harness,
) -> None:
    calls = [
        Call("get_forecast", {"city": "Paris"}),
        Call("add", {"a": "one", "b": 2}),
        Call("explode", {}),
    ]
    if harness.protocol in ("openai_chat", "openai_responses"):  # arguments as a JSON string
        calls.append(Call("add", '{"a": 1, "b":'))
    harness.server.script([Reply.calls(*calls), Reply.text("Some calls failed.")])
    result = harness.run(harness.runner(), "Try everything.")

    assert result.text == "Some calls failed."
    assert all(r.is_error for r in result.tool_results)
    sent = harness.results(harness.bodies()[-1])
    assert [s.call_id for s in sent] == _call_ids(result)
    assert {s.is_error for s in sent} == {harness.error_flag}
    unknown, invalid, failed, *broken = [s.content for s in sent]
    assert "get_forecast" in unknown
    assert "get_weather" in unknown  # the model is told what it may call
    assert "a" in invalid
    assert "integer" in invalid
    assert "the weather station is down" in failed
    for content in broken:
        assert "JSON" in content


# -- streaming -------------------------------------------------------------------------------------


def _calls_then_text() -> list[Reply]:
    return [
        Reply.calls(
            Call("get_weather", {"city": "Paris"}, id="call_paris"),
            Call("get_stock_price", {"ticker": "AAPL"}, id="call_aapl"),
        ),
        Reply.text("Sunny in Paris, and AAPL is at 123.45 USD."),
    ]


def test_streaming_runs_the_tools_and_ends_like_a_plain_run(harness: Harness) -> None:
    harness.server.script(_calls_then_text())
    plain = harness.run(harness.runner(), "Paris weather and AAPL?")
    harness.server.script(_calls_then_text())
    events = harness.stream(harness.runner(), "Paris weather and AAPL?")

    finished = events[-1]
    assert isinstance(finished, RunFinished)
    streamed = finished.result
    assert streamed.text == plain.text
    assert streamed.stop_reason == "end"
    assert harness.comparable(streamed.messages) == harness.comparable(plain.messages)
    assert _contents(streamed.tool_results) == _contents(plain.tool_results)

    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [e.name for e in started] == ["get_weather", "get_stock_price"]
    assert [e.id for e in started] == [c.id for c in streamed.tool_calls]
    for start, expected in zip(started, [{"city": "Paris"}, {"ticker": "AAPL"}], strict=True):
        pieces = [e.delta for e in events if isinstance(e, ArgumentsDelta) and e.id == start.id]
        assert json.loads("".join(pieces)) == expected
    completed = [e.call.name for e in events if isinstance(e, ToolCallComplete)]
    assert completed == ["get_weather", "get_stock_price"]
    results = [e.result.content for e in events if isinstance(e, ToolResultEvent)]
    assert results == ["Paris: 21 degrees and sunny", "AAPL: 123.45 USD"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == plain.text
    assert harness.streamed() == [False, False, True, True]


# -- interruptions leave a history the next turn can send ------------------------------------------


class _InterruptedOnce(Registry):
    """A registry whose first execution is interrupted, as by Ctrl-C."""

    interrupted = False

    def execute(self, calls: Iterable[ToolCall], **options: Any) -> list[ToolResult]:
        self._interrupt()
        return super().execute(calls, **options)

    async def execute_async(self, calls: Iterable[ToolCall], **options: Any) -> list[ToolResult]:
        self._interrupt()
        return await super().execute_async(calls, **options)

    def _interrupt(self) -> None:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt


def _interrupted_then_retried(
    harness: Harness, tools: Registry | list[Any], calls: list[Call]
) -> tuple[Conversation, RunResult]:
    harness.server.script([Reply.calls(*calls), Reply.text("Let us try again.")])
    chat = harness.runner(tools=tools).conversation()
    with pytest.raises(KeyboardInterrupt):
        harness.send(chat, "Go.")
    return chat, harness.send(chat, "Did it work?")


def test_an_interrupted_execution_leaves_a_sendable_history(harness: Harness) -> None:
    calls = [Call("add", {"a": 1, "b": 1}), Call("add", {"a": 2, "b": 2})]
    chat, retried = _interrupted_then_retried(harness, _InterruptedOnce([add]), calls)

    assert retried.text == "Let us try again."
    sent = harness.results(harness.bodies()[-1])
    assert len(sent) == 2
    assert {s.content for s in sent} == {"This call was interrupted before it finished."}
    assert {s.is_error for s in sent} == {harness.error_flag}
    assert chat.messages[-1]["role"] == harness.assistant_role


def test_a_tool_raising_keyboard_interrupt_leaves_a_sendable_history(harness: Harness) -> None:
    @tool
    def wait_forever() -> str:
        """Wait until interrupted."""
        raise KeyboardInterrupt

    _, retried = _interrupted_then_retried(harness, [wait_forever], [Call("wait_forever", {})])

    assert retried.text == "Let us try again."
    [sent] = harness.results(harness.bodies()[-1])
    assert sent.content == "This call was interrupted before it finished."


def _is_result(entry: dict[str, Any]) -> bool:
    if entry.get("role") == "tool" or entry.get("type") == "function_call_output":
        return True
    parts = cast("list[dict[str, Any]]", entry.get("parts") or [])
    if any("functionResponse" in part for part in parts):
        return True
    content: Any = entry.get("content")
    blocks = cast("list[Any]", content) if isinstance(content, list) else []
    kinds = [cast("dict[str, Any]", b).get("type") for b in blocks if isinstance(b, dict)]
    return "tool_result" in kinds


def test_a_history_saved_between_a_reply_and_its_results_is_repaired(harness: Harness) -> None:
    # As if the process died after the model asked for calls: the stored history ends with
    # the assistant's calls and no results. The next turn must still be accepted.
    harness.server.script([Reply.calls(Call("add", {"a": 1, "b": 2})), Reply.text("3.")])
    finished = harness.runner().conversation()
    harness.send(finished, "1 + 2?")
    first_result = next(i for i, m in enumerate(finished.messages) if _is_result(m))
    crashed = finished.messages[:first_result]

    harness.server.script([Reply.text("Sorry, where were we?")])
    chat = harness.runner().conversation(crashed)
    assert harness.send(chat, "Hello again.").text == "Sorry, where were we?"
    [closed] = harness.results(harness.bodies()[-1])
    assert closed.content == "This call was interrupted before it finished."
