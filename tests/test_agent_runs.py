"""What agents built in code rely on, end to end on every backend: neutral settings, request
timeouts, results that explain a stop, turns that roll back, retries, per-step tool sets,
tool search and history policies.

The runners drive the real SDK clients over HTTP against the local fake server (the
``harness`` of ``test_runner_backends``): a test passes only if each request was one the
provider would accept.
"""

# The harness's fixtures are imported, and test parameters take their names (pytest's way).
# ruff: noqa: F401, F811
from __future__ import annotations

import json
import threading
import time
from typing import Any, cast

import anthropic
import openai
import pytest
from fakeserver import Call, FakeServer, ProtocolName, Reply
from pydantic import BaseModel
from test_runner_backends import (  # the session's server, clients and harness
    Harness,
    add,
    connection,  # pyright: ignore[reportUnusedImport]
    get_weather,
    harness,  # pyright: ignore[reportUnusedImport]
    server,  # pyright: ignore[reportUnusedImport]
)

from toolkit import (
    HistoryPolicy,
    Limits,
    PartialOutput,
    Registry,
    Retry,
    RunFinished,
    Runner,
    RunState,
    RunStopped,
    ToolResult,
    ToolSearch,
    tool,
)
from toolkit.testing import ScriptedModel, call

# -- neutral settings --------------------------------------------------------------------------

NATIVE_MAX_TOKENS: dict[ProtocolName, str] = {
    "openai_chat": "max_tokens",
    "openai_responses": "max_output_tokens",
    "anthropic": "max_tokens",
    "workers_ai": "max_tokens",
    "gemini": "maxOutputTokens",
}


def _settings_sent(harness: Harness, body: dict[str, Any]) -> dict[str, Any]:
    if harness.protocol == "gemini":
        return dict(body.get("generationConfig") or {})
    return body


def test_neutral_settings_reach_each_api_in_its_own_spelling(harness: Harness) -> None:
    harness.server.script([Reply.text("ok")])
    runner = harness.runner(settings={"max_tokens": 77, "temperature": 0.25, "top_p": 0.5})
    assert harness.run(runner, "hi").text == "ok"

    sent = _settings_sent(harness, harness.bodies()[0])
    assert sent[NATIVE_MAX_TOKENS[harness.protocol]] == 77
    assert sent["temperature"] == 0.25
    assert sent["topP" if harness.protocol == "gemini" else "top_p"] == 0.5
    if harness.protocol == "openai_responses":
        assert "max_tokens" not in sent  # the Responses API refuses that spelling


def test_stop_sequences_are_sent_where_the_protocol_has_them(harness: Harness) -> None:
    if harness.protocol in ("openai_responses", "workers_ai"):
        with pytest.raises(ValueError, match="'stop' has no equivalent"):
            harness.runner(settings={"stop": "END"})
        return
    harness.server.script([Reply.text("ok")])
    harness.run(harness.runner(settings={"stop": "END"}), "hi")
    sent = _settings_sent(harness, harness.bodies()[0])
    expected = {
        "openai_chat": ("stop", "END"),
        "anthropic": ("stop_sequences", ["END"]),
        "gemini": ("stopSequences", ["END"]),
    }[harness.protocol]
    assert sent[expected[0]] == expected[1]


def test_a_setting_per_run_is_checked_and_translated_too() -> None:
    model = ScriptedModel(["x"], format="openai-responses")
    runner = Runner(model)
    with pytest.raises(TypeError, match=r"settings\['temperature'\] must be a number"):
        runner.run("hi", settings={"temperature": "warm"})
    with pytest.raises(ValueError, match="'seed' has no equivalent"):
        runner.run("hi", settings={"seed": 1})
    assert model.requests == []  # refused before anything was sent
    runner.run("hi", settings={"max_tokens": 9, "timeout": 5})
    [request] = model.requests
    assert request.settings == {"max_tokens": 9}  # translated by the codec when sent
    assert request.timeout == 5


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"max_tokens": 0}, ValueError, r"settings\['max_tokens'\] must be at least 1, got 0"),
        ({"max_tokens": 1.5}, TypeError, r"settings\['max_tokens'\] must be a whole number"),
        ({"top_p": 0}, ValueError, r"settings\['top_p'\] must be above 0"),
        ({"stop": ["a", 1]}, TypeError, r"settings\['stop'\] must be a text or a list"),
        ({"timeout": -1}, ValueError, r"settings\['timeout'\] must be above 0"),
        ({"seed": True}, TypeError, r"settings\['seed'\] must be a whole number"),
    ],
)
def test_bad_neutral_settings_are_refused_when_the_runner_is_made(
    settings: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Runner(ScriptedModel(["x"]), settings=settings)


def test_a_setting_a_protocol_lacks_is_refused_naming_both() -> None:
    with pytest.raises(ValueError, match=r"anthropic: the setting 'seed' has no equivalent"):
        Runner(ScriptedModel(["x"], format="anthropic"), settings={"seed": 3})
    with pytest.raises(ValueError, match="both 'max_tokens' and its native spelling"):
        Runner(
            ScriptedModel(["x"], format="openai-responses"),
            settings={"max_tokens": 5, "max_output_tokens": 6},
        )


# -- timeouts ----------------------------------------------------------------------------------


class _Slow:
    """A script that holds every request until released (or ``seconds`` pass), counting
    them: what a model that takes too long looks like from the client."""

    def __init__(self, reply: Reply, seconds: float = 5.0) -> None:
        self.reply = reply
        self.seconds = seconds
        self.count = 0
        self.released = threading.Event()

    def __call__(self, protocol: ProtocolName, body: Any) -> Reply:
        self.count += 1
        self.released.wait(self.seconds)
        return self.reply

    def finish(self, server: FakeServer) -> None:
        """Let the held requests end, and forget that their clients had gone."""
        self.released.set()
        deadline = time.monotonic() + 5
        while len(server.requests) < self.count and time.monotonic() < deadline:
            time.sleep(0.01)
        server.failures.clear()


@pytest.mark.parametrize("streaming", [False, True], ids=["whole", "streamed"])
def test_a_request_past_its_timeout_is_cancelled_and_the_run_says_so(
    harness: Harness, streaming: bool
) -> None:
    slow = _Slow(Reply.text("too late"))
    harness.server.script(slow)
    runner = harness.runner(settings={"timeout": 0.3})
    try:
        if streaming:
            finished = harness.stream(runner, "hi")[-1]
            assert isinstance(finished, RunFinished)
            result = finished.result
        else:
            result = harness.run(runner, "hi")
    finally:
        slow.finish(harness.server)
    assert result.stop_reason == "timeout"
    assert "ran out of time" in result.explanation
    assert slow.count == 1  # sent once: the SDK did not retry it
    with pytest.raises(RunStopped, match="ran out of time") as raised:
        result.raise_for_stop()
    assert raised.value.result is result


def test_the_run_deadline_cancels_a_request_in_flight(harness: Harness) -> None:
    slow = _Slow(Reply.text("too late"))
    harness.server.script(slow)
    try:
        result = harness.run(harness.runner(deadline=0.3), "hi")
    finally:
        slow.finish(harness.server)
    assert result.stop_reason == "deadline"
    assert "Limits.deadline" in result.explanation


def _retrying_client(kind: str, server: FakeServer) -> Any:
    if kind == "anthropic":
        return anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="t", max_retries=2)
    return openai.OpenAI(base_url=server.openai_base_url, api_key="t", max_retries=2)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_timed_request_is_sent_once_even_by_a_client_that_retries(
    server: FakeServer, kind: str
) -> None:
    server.requests.clear()
    slow = _Slow(Reply.text("late"))
    server.script(slow)
    try:
        with _retrying_client(kind, server) as client:
            result = Runner(client, model="m", settings={"timeout": 0.2}).run("hi")
    finally:
        slow.finish(server)
        server.script([])
    assert result.stop_reason == "timeout"
    assert slow.count == 1


def test_a_sync_stream_that_keeps_sending_past_its_timeout_is_closed() -> None:
    from toolkit.model import ModelReply, ModelRequest, StreamDelta

    closed = threading.Event()

    class Trickle:
        """A model that streams a fragment every 50 ms, for ever."""

        codec = ScriptedModel(["x"]).codec

        def complete(self, request: ModelRequest) -> ModelReply:
            raise NotImplementedError

        def stream(self, request: ModelRequest) -> Any:
            try:
                while True:
                    time.sleep(0.05)
                    yield StreamDelta(text="and ")
            finally:
                closed.set()

    finished = list(Runner(Trickle(), settings={"timeout": 0.3}).stream("hi"))[-1]
    assert isinstance(finished, RunFinished)
    assert finished.result.stop_reason == "timeout"
    assert closed.is_set()


# -- results that explain themselves ------------------------------------------------------------


def test_a_run_stopped_by_a_limit_keeps_what_the_model_last_said(harness: Harness) -> None:
    harness.server.script(
        [Reply.text_and_calls("Let me look that up.", Call("add", {"a": 1, "b": 2}))]
    )
    result = harness.run(harness.runner(max_steps=1), "1 + 2?")
    assert result.stop_reason == "max_steps"
    assert result.text == "Let me look that up."
    assert result.explanation == "Stopped after 1 model requests (Limits.max_steps)."
    with pytest.raises(RunStopped) as raised:
        result.raise_for_stop()
    assert raised.value.stop_reason == "max_steps"
    assert str(raised.value) == result.explanation


def test_an_answer_passes_raise_for_stop(harness: Harness) -> None:
    harness.server.script([Reply.text("Hello.")])
    result = harness.run(harness.runner(), "hi")
    assert result.raise_for_stop() is result
    assert result.explanation == "The model answered."


# -- turns that roll back ---------------------------------------------------------------------


@tool
def read_log() -> str:
    """Read the whole server log."""
    return "line\n" * 5_000


def test_a_request_that_fails_rolls_the_turn_back_and_the_next_turn_works(
    harness: Harness,
) -> None:
    # The second request carries a 25,000-character result: this "context window" refuses
    # it. Kept, the turn would make every later request fail the same way.
    def model(protocol: ProtocolName, body: Any) -> Reply:
        if str(body).count("line") > 1_000:
            raise AssertionError("context window exceeded")
        if "read the log" in str(body):
            return Reply.calls(Call("read_log", {}))
        return Reply.text("Fine.")

    harness.server.script([Reply.text("Hello.")])
    chat = harness.runner(tools=[read_log]).conversation()
    harness.send(chat, "hi")
    before = list(chat.messages)

    harness.server.script(model)
    with pytest.raises((openai.APIError, anthropic.APIError, Exception)):
        harness.send(chat, "read the log")
    assert chat.messages == before
    harness.server.failures.clear()

    assert harness.send(chat, "how are you?").text == "Fine."
    assert chat.messages[: len(before)] == before


def test_rollback_removes_the_last_turns_whole(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.text("Hello."),
            Reply.calls(Call("add", {"a": 1, "b": 2})),
            Reply.text("3."),
        ]
    )
    chat = harness.runner().conversation()
    harness.send(chat, "hi")
    first_turn = list(chat.messages)
    harness.send(chat, "1 + 2?")
    assert len(chat.messages) > len(first_turn)

    removed = chat.rollback()
    assert chat.messages == first_turn
    assert harness.comparable(removed)[0] == harness.comparable([harness.user("1 + 2?")])[0]

    chat.rollback()
    assert chat.messages == []
    with pytest.raises(ValueError, match="the history has 0 user turn"):
        chat.rollback()


def test_rollback_counts_turns_not_messages() -> None:
    chat = Runner(ScriptedModel([call("add", a=1, b=1), "2", "ok"]), tools=[add]).conversation()
    chat.send("1 + 1?")
    chat.send("thanks")
    removed = chat.rollback(2)
    assert len(removed) == 6  # user, calls, result, answer; user, answer
    with pytest.raises(ValueError, match="at least 1"):
        chat.rollback(0)


# -- retries --------------------------------------------------------------------------------------


@tool
def book(day: int) -> str:
    """Book a table.

    Args:
        day: Day of the month.
    """
    if day < 10:
        raise Retry("that day is fully booked; pick a day from the 10th on")
    return f"booked on the {day}th"


def test_retry_sends_its_message_and_the_model_tries_again(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.calls(Call("book", {"day": 3})),
            Reply.calls(Call("book", {"day": 12})),
            Reply.text("Booked for the 12th."),
        ]
    )
    result = harness.run(harness.runner(tools=[book]), "book a table")
    assert result.stop_reason == "end"
    first, second = result.tool_results
    assert first.error is not None
    assert first.error.kind == "retry"
    assert first.content == "that day is fully booked; pick a day from the 10th on"
    assert second.content == "booked on the 12th"


def test_past_its_retry_budget_a_tool_ends_the_run(harness: Harness) -> None:
    # Two refusals by the tool and one invalid call: three failures of `book`, one more
    # than the budget.
    harness.server.script(
        [
            Reply.calls(Call("book", {"day": 1})),
            Reply.calls(Call("book", {"day": "soon"})),
            Reply.calls(Call("book", {"day": 2})),
        ]
    )
    result = harness.run(harness.runner(tools=[book], max_retries=2), "book a table")
    assert result.stop_reason == "max_retries"
    assert [r.error.kind for r in result.tool_results if r.error] == [
        "retry",
        "invalid_arguments",
        "retry",
    ]
    assert result.explanation.startswith(
        "Stopped because calls of 'book' kept failing past its retry budget of 2"
    )


def test_a_tools_own_retry_budget_wins_over_the_runs() -> None:
    patient = book.with_options(max_retries=3)
    model = ScriptedModel([call("book", day=d) for d in (1, 2, 3, 4)] + ["never"])
    result = Runner(model, tools=[patient], limits=Limits(max_retries=0)).run("go")
    assert result.stop_reason == "max_retries"
    assert len(result.tool_results) == 4
    assert "retry budget of 3" in result.explanation
    with pytest.raises(ValueError, match="max_retries must be a whole number of at least 0"):
        book.with_options(max_retries=-1)


def test_retries_are_counted_per_tool() -> None:
    model = ScriptedModel(
        [call("book", day=1), call("add", a="x", b=1), call("book", day=11), "done"]
    )
    result = Runner(model, tools=[book, add], limits=Limits(max_retries=1)).run("go")
    assert result.stop_reason == "end"


# -- tools chosen per step ----------------------------------------------------------------------


def test_select_tools_hides_a_tool_after_it_succeeded(harness: Harness) -> None:
    seen: list[RunState] = []

    def choose(state: RunState) -> list[str]:
        seen.append(state)
        return [name for name in ("get_weather", "add") if name not in state.succeeded]

    harness.server.script(
        [
            Reply.calls(Call("get_weather", {"city": "Paris"})),
            Reply.calls(Call("get_weather", {"city": "Rome"})),
            Reply.text("Done."),
        ]
    )
    result = harness.run(harness.runner(select_tools=choose), "weather?")
    first, second, third = harness.bodies()
    assert harness.tool_names(first) == ["get_weather", "add"]
    assert harness.tool_names(second) == ["add"]
    assert harness.tool_names(third) == ["add"]
    refused = result.tool_results[1]
    assert refused.error is not None
    assert refused.content.startswith("The tool 'get_weather' is not available now.")
    assert [len(s.steps) for s in seen] == [0, 1, 2]


def test_the_same_choice_sends_the_same_bytes(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.calls(Call("add", {"a": 1, "b": 2})),
            Reply.calls(Call("add", {"a": 3, "b": 4})),
            Reply.text("Done."),
        ]
    )

    def both(state: RunState) -> list[Any]:
        return [add, get_weather]

    harness.run(harness.runner(select_tools=both), "sums")
    sent = [json.dumps(b.get("tools"), sort_keys=False) for b in harness.bodies()]
    assert len(set(sent)) == 1


def test_select_tools_must_name_registered_tools() -> None:
    @tool
    def stranger() -> str:
        """Not registered."""
        return ""

    for choice in (["nope"], [stranger]):
        runner = Runner(ScriptedModel(["x"]), tools=[add], select_tools=lambda s, c=choice: c)
        with pytest.raises(ValueError, match="not a tool of the runner's registry"):
            runner.run("hi")


def test_select_tools_sees_the_runner_context() -> None:
    contexts: list[Any] = []

    def choose(state: RunState) -> list[str]:
        contexts.append(state.context)
        return ["add"] if state.context["admin"] else []

    Runner(ScriptedModel(["x"]), tools=[add], select_tools=choose, context={"admin": False}).run(
        "hi"
    )
    assert contexts == [{"admin": False}]


# -- tool search -------------------------------------------------------------------------------


def test_tool_search_offers_the_search_tool_then_what_it_found(harness: Harness) -> None:
    catalog = Registry([get_weather, add])
    for index in range(40):

        @tool(name=f"archive_{index}")
        def archive(path: str) -> str:
            """Archive a file into cold storage.

            Args:
                path: The file's path.
            """
            return path

        catalog.add(archive)
    harness.server.script(
        [
            Reply.calls(Call("search_tools", {"query": "current weather in a city"})),
            Reply.calls(Call("get_weather", {"city": "Oslo"})),
            Reply.text("Cold."),
        ]
    )
    result = harness.run(harness.runner(tools=catalog, tool_search=True), "weather in Oslo?")
    assert result.text == "Cold."
    first, second, _ = harness.bodies()
    assert harness.tool_names(first) == ["search_tools"]
    assert "get_weather" in harness.tool_names(second)
    assert len(harness.tool_names(second)) <= 6
    assert result.tool_results[1].content == "Oslo: 21 degrees and sunny"


def test_tool_search_refuses_a_second_tool_of_its_name() -> None:
    @tool
    def search_tools(query: str) -> str:
        """Another search."""
        return query

    with pytest.raises(ValueError, match="already has a tool 'search_tools'"):
        Runner(ScriptedModel(["x"]), tools=[add, search_tools], tool_search=ToolSearch([add]))
    with pytest.raises(ValueError, match="select_tools or tool_search, not both"):
        Runner(ScriptedModel(["x"]), tools=[add], tool_search=True, select_tools=lambda s: [])


# -- history policies --------------------------------------------------------------------------


def test_max_turns_sends_only_the_last_turns(harness: Harness) -> None:
    harness.server.script([Reply.text("one"), Reply.text("two"), Reply.text("three")])
    chat = harness.runner(history_policy=HistoryPolicy(max_turns=2)).conversation()
    for prompt in ("first", "second", "third"):
        harness.send(chat, prompt)
    last = harness.history(harness.bodies()[-1])
    users = [m for m in last if m.get("role") == "user"]
    assert harness.comparable(users) == harness.comparable(
        [harness.user("second"), harness.user("third")]
    )
    assert len(chat.messages) == 6  # the conversation itself keeps everything


def test_a_token_budget_drops_whole_old_turns_never_splitting_a_call(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.calls(Call("get_weather", {"city": "Paris"})),
            Reply.text("Sunny." + " really" * 200),
            Reply.text("Yes."),
        ]
    )
    chat = harness.runner(history_policy=HistoryPolicy(max_tokens=120)).conversation()
    harness.send(chat, "weather?")
    harness.send(chat, "sure?")
    sent = harness.history(harness.bodies()[-1])
    assert harness.comparable(sent) == harness.comparable([harness.user("sure?")])


def test_the_default_estimate_measures_only_the_turns_it_weighs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long conversation costs each request what it sends (and one turn more), not the
    whole history again: linear over the conversation, not quadratic."""
    from toolkit.runner import _history

    measured: list[Any] = []
    real = _history._message_chars  # pyright: ignore[reportPrivateUsage]

    def counting(message: Any) -> int:
        measured.append(message)
        return real(message)

    monkeypatch.setattr(_history, "_message_chars", counting)
    history: list[Any] = []
    for turn in range(2_000):
        history += [{"role": "user", "content": f"q{turn}"}, {"role": "assistant", "content": "a"}]
    codec = Runner(ScriptedModel([])).codec
    sent = HistoryPolicy(max_tokens=40).view(history, codec)
    assert 2 <= len(sent) < 40
    assert sent[-2] == {"role": "user", "content": "q1999"}
    assert len(measured) <= len(sent) + 2  # what is sent, and the turn that did not fit


def test_a_counter_of_ones_own_decides_the_fit() -> None:
    counted: list[int] = []

    def count(messages: Any) -> int:
        counted.append(len(messages))
        return 10 * len(messages)

    model = ScriptedModel(["a", "b", "c", "d"])
    chat = Runner(model, history_policy=HistoryPolicy(max_tokens=35, count_tokens=count))
    conversation = chat.conversation()
    for prompt in ("1", "2", "3", "4"):
        conversation.send(prompt)
    assert [m["content"] for m in model.requests[-1].messages] == ["3", "c", "4"]
    assert counted


def test_long_tool_results_are_clipped_before_they_enter_the_history(harness: Harness) -> None:
    harness.server.script([Reply.calls(Call("read_log", {})), Reply.text("Read it.")])
    runner = harness.runner(tools=[read_log], history_policy=HistoryPolicy(max_result_chars=500))
    result = harness.run(runner, "read the log")
    [sent] = harness.results(harness.bodies()[-1])
    assert len(sent.content) < 600
    assert "characters left out of this result" in sent.content
    assert result.tool_results[0].content == sent.content


def test_a_summariser_replaces_long_results() -> None:
    def summarise(result: ToolResult, limit: int) -> str:
        return f"{result.name} returned {len(result.content)} characters"

    model = ScriptedModel([call("read_log"), "ok"])
    policy = HistoryPolicy(max_result_chars=100, clip_result=summarise)
    result = Runner(model, tools=[read_log], history_policy=policy).run("go")
    summary = result.tool_results[0].content
    assert summary.startswith("read_log returned ")
    assert model.requests[-1].messages[-1]["content"] == summary


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_turns": 0}, "max_turns must be at least 1"),
        ({"max_tokens": 2.5}, "max_tokens must be a whole number"),
    ],
)
def test_history_policy_checks_its_numbers(options: dict[str, Any], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        HistoryPolicy(**options)


# -- typed output ------------------------------------------------------------------------------


class Forecast(BaseModel):
    city: str
    degrees: int
    notes: list[str] = []


def test_a_typed_answer_through_the_final_answer_tool(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.calls(Call("get_weather", {"city": "Paris"})),
            Reply.calls(Call("final_answer", {"answer": {"city": "Paris", "degrees": "warm"}})),
            Reply.calls(Call("final_answer", {"answer": {"city": "Paris", "degrees": 21}})),
        ]
    )
    runner = harness.runner(output_type=Forecast, output_mode="tool")
    result = harness.run(runner, "weather in Paris?")
    assert result.stop_reason == "end"
    assert result.output == Forecast(city="Paris", degrees=21)
    bodies = harness.bodies()
    assert harness.tool_names(bodies[0])[-1] == "final_answer"
    invalid = result.tool_results[1]
    assert invalid.error is not None
    assert invalid.error.kind == "invalid_arguments"
    assert "answer.degrees" in invalid.content
    # the final call is answered too, so the conversation can go on
    assert runner.codec.unanswered_calls(result.messages) == []


def test_the_final_answer_ends_the_run_and_the_calls_beside_it_are_not_run(
    harness: Harness,
) -> None:
    ran: list[str] = []

    @tool
    def notify(text: str) -> str:
        """Notify the user."""
        ran.append(text)
        return "sent"

    harness.server.script(
        [
            Reply.calls(
                Call("final_answer", {"answer": {"city": "Oslo", "degrees": -3}}),
                Call("notify", {"text": "done"}),
            )
        ]
    )
    runner = harness.runner(tools=[notify], output_type=Forecast, output_mode="tool")
    result = harness.run(runner, "weather?")
    assert result.output == Forecast(city="Oslo", degrees=-3)
    assert ran == []
    assert result.tool_results[1].content.startswith("Not run: your final answer")


NATIVE_FIELD: dict[ProtocolName, tuple[str, ...]] = {
    "openai_chat": ("response_format", "json_schema", "schema"),
    "openai_responses": ("text", "format", "schema"),
    "anthropic": ("output_config", "format", "schema"),
    "workers_ai": ("response_format", "json_schema"),
    "gemini": ("generationConfig", "responseSchema"),
}


def test_a_typed_answer_in_the_protocols_structured_output(harness: Harness) -> None:
    harness.server.script(
        [
            Reply.text('{"answer": {"city": "Rome"}}'),
            Reply.text('{"answer": {"city": "Rome", "degrees": 30, "notes": ["dry"]}}'),
        ]
    )
    runner = harness.runner(output_type=Forecast, output_mode="native")
    result = harness.run(runner, "weather in Rome?")
    assert result.output == Forecast(city="Rome", degrees=30, notes=["dry"])
    first, second = harness.bodies()
    schema: Any = first
    for key in NATIVE_FIELD[harness.protocol]:
        schema = schema[key]
    assert "answer" in json.dumps(schema)
    assert "final_answer" not in harness.tool_names(first)
    correction = harness.history(second)[-1]
    assert "does not have the required structure" in json.dumps(correction)
    assert "degrees" in json.dumps(correction)


def test_past_the_retry_budget_a_bad_answer_ends_the_run() -> None:
    model = ScriptedModel(["not json", "{}", "still not"])
    runner = Runner(model, output_type=Forecast, output_mode="native")
    result = runner.run("go", limits=Limits(max_retries=1))
    assert result.stop_reason == "max_retries"
    assert result.output is None


def test_an_answer_in_text_where_the_tool_was_expected_is_accepted_if_it_fits() -> None:
    model = ScriptedModel(['{"answer": {"city": "Lima", "degrees": 18}}'])
    result = Runner(model, output_type=Forecast, output_mode="tool").run("go")
    assert result.output == Forecast(city="Lima", degrees=18)


def test_any_type_pydantic_validates_is_an_output_type() -> None:
    model = ScriptedModel([call("final_answer", answer=["3", 4])])
    result = Runner(model, output_type=list[int], output_mode="tool").run("go")
    assert result.output == [3, 4]


def test_auto_mode_is_native_on_anthropic_and_a_tool_on_compatible_servers(
    server: FakeServer,
) -> None:
    local = openai.OpenAI(base_url=server.openai_base_url, api_key="t", max_retries=0)
    hosted = anthropic.Anthropic(base_url=server.anthropic_base_url, api_key="t", max_retries=0)
    with local, hosted:
        assert Runner(local, model="m", output_type=Forecast)._output.native is False  # pyright: ignore[reportPrivateUsage, reportOptionalMemberAccess]
        assert Runner(hosted, model="m", output_type=Forecast)._output.native is True  # pyright: ignore[reportPrivateUsage, reportOptionalMemberAccess]
    with pytest.raises(ValueError, match="output_mode must be"):
        Runner(ScriptedModel([]), output_type=Forecast, output_mode="json")  # pyright: ignore[reportArgumentType]


def test_streaming_yields_the_answer_as_it_grows(harness: Harness) -> None:
    notes = [f"note number {i}" for i in range(40)]
    answer: dict[str, Any] = {"city": "Paris", "degrees": 21, "notes": notes}
    harness.server.script([Reply.calls(Call("final_answer", {"answer": answer}))])
    runner = harness.runner(output_type=Forecast, output_mode="tool")
    events = harness.stream(runner, "weather?")
    partial = [e.data for e in events if isinstance(e, PartialOutput)]
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.result.output == Forecast(**answer)
    if harness.protocol in ("workers_ai", "gemini"):
        return  # their streams carry each call whole, in one event
    assert len(partial) >= 2
    sizes = [len(cast("dict[str, Any]", p).get("notes", [])) for p in partial]
    assert sizes == sorted(sizes)
    assert sizes[0] < len(notes)


def test_native_tool_search_defers_every_tool_to_anthropics_own_search(
    harness: Harness,
) -> None:
    search = ToolSearch([get_weather, add], always=["add"], native=True)
    harness.server.script([Reply.calls(Call("get_weather", {"city": "Lima"})), Reply.text("Mild.")])
    runner = harness.runner(tools=Registry([get_weather, add]), tool_search=search)
    result = harness.run(runner, "weather in Lima?")
    assert result.text == "Mild."
    tools = harness.bodies()[0]["tools"]
    if harness.protocol != "anthropic":  # no native search: toolkit's own is offered
        assert harness.tool_names(harness.bodies()[0]) == ["search_tools", "add"]
        return
    deferred = {t["name"]: t.get("defer_loading", False) for t in tools}
    assert deferred == {"get_weather": True, "add": False, "tool_search_tool_bm25": False}
    assert tools[-1]["type"] == "tool_search_tool_bm25_20251119"
    # The API's own search ran in the reply; its blocks went back in the history as sent,
    # and the server accepted that history.
    kinds = [block["type"] for block in harness.history(harness.bodies()[1])[1]["content"]]
    assert kinds == ["server_tool_use", "tool_search_tool_result", "tool_use"]
    assert result.tool_results[0].content == "Lima: 21 degrees and sunny"

    # Streamed, the search's blocks are assembled the same way.
    harness.server.script(
        [Reply.calls(Call("get_weather", {"city": "Quito"})), Reply.text("Cool.")]
    )
    finished = harness.stream(
        harness.runner(tools=Registry([get_weather, add]), tool_search=search), "Quito?"
    )[-1]
    assert isinstance(finished, RunFinished)
    assert finished.result.text == "Cool."
    streamed = finished.result.messages[1]["content"]
    assert [block["type"] for block in streamed][:2] == [
        "server_tool_use",
        "tool_search_tool_result",
    ]
    assert streamed[0]["input"] == {"query": "get weather"}


def test_the_fake_anthropic_api_refuses_deferred_tools_without_a_search(
    server: FakeServer,
) -> None:
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="t", max_retries=0
    ) as client:
        tool_definition = {**add.definition("anthropic"), "defer_loading": True}
        with pytest.raises(anthropic.BadRequestError, match="needs a tool search tool"):
            client.messages.create(
                model="m",
                max_tokens=10,
                messages=[{"role": "user", "content": "hi"}],
                tools=[tool_definition],  # pyright: ignore[reportArgumentType]
            )
    server.requests.clear()


def test_a_token_budget_counted_by_anthropics_own_endpoint(server: FakeServer) -> None:
    server.requests.clear()
    server.script([Reply.text("Hello."), Reply.text("Fine." + " really" * 100), Reply.text("Yes.")])
    with anthropic.Anthropic(
        base_url=server.anthropic_base_url, api_key="t", max_retries=0
    ) as client:

        def count(messages: Any) -> int:
            return client.messages.count_tokens(model="m", messages=messages).input_tokens

        policy = HistoryPolicy(max_tokens=60, count_tokens=count)
        chat = Runner(client, model="m", history_policy=policy).conversation()
        for prompt in ("hi", "how are you?", "sure?"):
            chat.send(prompt)
    counted = [r for r in server.requests if r.path.endswith("/count_tokens")]
    sent = [r.body for r in server.requests if r.path == "/v1/messages"]
    assert counted  # the provider counted, not the estimate
    assert [m["content"] for m in sent[-1]["messages"]] == ["sure?"]
    assert len(chat.messages) == 6


def test_a_typed_answer_is_always_offered_beside_the_chosen_tools() -> None:
    model = ScriptedModel(
        [call("add", a=1, b=2), call("final_answer", answer={"city": "Sum", "degrees": 3})]
    )
    runner = Runner(
        model,
        tools=[add, get_weather],
        select_tools=lambda state: [] if state.succeeded else ["add"],
        output_type=Forecast,
        output_mode="tool",
    )
    result = runner.run("add then answer")
    assert result.output == Forecast(city="Sum", degrees=3)
    offered = [[t["function"]["name"] for t in r.tools] for r in model.requests]
    assert offered == [["add", "final_answer"], ["final_answer"]]
