"""The runner's loop, driven by toolkit.testing's offline models (no network)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from pydantic import BaseModel

from toolkit import (
    ArgumentsDelta,
    Conversation,
    Event,
    Limits,
    Registry,
    RunFinished,
    Runner,
    StateError,
    StepFinished,
    TextDelta,
    ToolCall,
    ToolCallComplete,
    ToolCallStarted,
    ToolResultEvent,
    tool,
)
from toolkit.formats import get_format
from toolkit.model import ModelReply, ModelRequest, StreamDelta
from toolkit.testing import FunctionModel, ScriptedModel, TestModel, call


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the current weather in a city."""
    return f"{city}: 21 degrees {unit}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def runner(model: Any, **options: Any) -> Runner:
    return Runner(model, model="test-model", tools=[get_weather, add], **options)


# -- the patterns ----------------------------------------------------------------------------------


def test_simple_call_then_answer() -> None:
    model = ScriptedModel([call("get_weather", city="Paris"), "It is 21 degrees in Paris."])
    result = runner(model).run("Weather in Paris?")
    assert result.text == "It is 21 degrees in Paris."
    assert result.stop_reason == "end"
    assert [r.content for r in result.tool_results] == ["Paris: 21 degrees celsius"]
    assert len(result.steps) == 2
    assert result.usage.input_tokens == 20
    assert [m["role"] for m in result.messages] == ["user", "assistant", "tool", "assistant"]
    assert result.new_messages == result.messages


def test_parallel_calls_run_and_answer_in_order() -> None:
    model = ScriptedModel(
        [
            [call("get_weather", city=c) for c in ("New York", "San Francisco", "Chicago")],
            "Done.",
        ]
    )
    result = runner(model).run("Temperatures?")
    tool_messages = [m for m in result.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_1", "call_2", "call_3"]
    assert [m["content"].split(":")[0] for m in tool_messages] == [
        "New York",
        "San Francisco",
        "Chicago",
    ]


def test_multi_step_feeds_results_forward() -> None:
    def decide(request: ModelRequest) -> Any:
        tool_messages = [m for m in request.messages if m.get("role") == "tool"]
        if not tool_messages:
            return call("add", a=2, b=3)
        if len(tool_messages) == 1:
            return call("add", a=int(tool_messages[0]["content"]), b=10)
        return f"The answer is {tool_messages[-1]['content']}."

    result = runner(FunctionModel(decide)).run("(2 + 3) + 10?")
    assert result.text == "The answer is 15."
    assert len(result.steps) == 3


def test_multi_turn_conversation_keeps_history_and_round_trips_json() -> None:
    model = ScriptedModel(
        [call("get_weather", city="Chicago"), "Cold in Chicago.", "Chicago, as I said."]
    )
    chat = runner(model).conversation()
    first = chat.send("Weather in Chicago?")
    second = chat.send("Which city did I ask about?")
    assert first.text == "Cold in Chicago."
    assert second.text == "Chicago, as I said."
    assert second.new_messages == [
        {"role": "user", "content": "Which city did I ask about?"},
        {"role": "assistant", "content": "Chicago, as I said."},
    ]
    assert len(chat.messages) == 6
    assert len(model.requests[-1].messages) == 5  # the whole history went to the model

    restored = Conversation.from_json(chat.to_json(), runner=chat.runner)
    assert restored.messages == chat.messages
    with pytest.raises(StateError, match="'openai' format"):
        Conversation.from_json(chat.to_json(), runner=runner(ScriptedModel([], format="anthropic")))


def test_system_prompt_tools_and_settings_reach_the_model() -> None:
    model = ScriptedModel(["hi"])
    runner(model, system="Be brief.", settings={"temperature": 0.1}).run("hello")
    request = model.requests[0]
    assert request.system == "Be brief."
    assert request.settings == {"temperature": 0.1}
    assert [t["function"]["name"] for t in request.tools] == ["get_weather", "add"]
    assert request.model == "test-model"


# -- tool_choice -----------------------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["required", "add"])
def test_forced_tool_choice_is_reset_after_it_was_honoured(choice: str) -> None:
    model = ScriptedModel([call("add", a=1, b=2), call("add", a=3, b=4), "7"])
    result = runner(model, tool_choice=choice).run("add things")
    assert result.text == "7"
    assert [r.tool_choice for r in model.requests] == [choice, "auto", "auto"]


def test_tool_choice_none_and_per_run_override() -> None:
    model = ScriptedModel(["no tools", "tools"])
    run = runner(model)
    run.run("x", tool_choice="none")
    run.run("y")
    assert [r.tool_choice for r in model.requests] == ["none", "auto"]


def test_tool_choice_must_name_a_registered_tool() -> None:
    chat = runner(ScriptedModel([])).conversation()
    with pytest.raises(ValueError, match="'subtract', which is not a registered tool"):
        chat.send("x", tool_choice="subtract")
    assert chat.messages == []  # refused before the history was touched


# -- limits and stop reasons -----------------------------------------------------------------------


def _always(spec: Any) -> FunctionModel:
    return FunctionModel(lambda request: spec)


def test_max_steps_stops_and_leaves_a_valid_history() -> None:
    counter = iter(range(100))
    model = FunctionModel(lambda request: call("add", a=next(counter), b=0))
    result = runner(model, limits=Limits(max_steps=3)).run("loop forever")
    assert result.stop_reason == "max_steps"
    assert len(result.steps) == 3
    assert result.messages[-1]["role"] == "tool"  # every call answered


def test_steps_are_never_unlimited() -> None:
    with pytest.raises(ValueError, match="max_steps must be a whole number of at least 1"):
        Limits(max_steps=0)


def test_max_tool_calls_refuses_the_excess_calls() -> None:
    model = ScriptedModel([[call("add", a=i, b=i) for i in range(4)], "unused"])
    result = runner(model, limits=Limits(max_tool_calls=2)).run("many")
    assert result.stop_reason == "max_tool_calls"
    contents = [r.content for r in result.tool_results]
    assert contents[:2] == ["0", "2"]
    assert contents[2:] == ["Not run: the limit of 2 tool calls was reached."] * 2


def test_repeated_identical_calls_are_refused_then_end_the_run() -> None:
    model = _always(call("get_weather", city="Paris"))
    result = runner(model, limits=Limits(max_repeats=2, max_steps=10)).run("again and again")
    assert result.stop_reason == "no_progress"
    contents = [r.content for r in result.tool_results]
    assert contents[:2] == ["Paris: 21 degrees celsius"] * 2
    assert contents[2].startswith("Not run: get_weather was already called with these arguments")
    assert len(result.steps) == 4


def test_key_order_does_not_hide_a_repeat() -> None:
    replies = [
        call("add", a=1, b=2),
        call("add", b=2, a=1),
        "done",
    ]
    result = runner(ScriptedModel(replies), limits=Limits(max_repeats=1)).run("x")
    assert result.tool_results[1].content.startswith("Not run: add was already called")


def test_calls_cut_off_by_the_token_limit_are_not_run() -> None:
    truncated = ModelReply(
        message={"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1'}}
        ]},
        calls=(call("add").__class__(id="c1", name="add", arguments='{"a": 1'),),
        stop="length",
    )  # fmt: skip
    result = runner(ScriptedModel([truncated, "sorry"])).run("x")
    assert result.text == "sorry"
    [cut] = result.tool_results
    assert cut.is_error
    assert cut.content.startswith("Your reply was cut off by the output token limit")


@pytest.mark.parametrize(
    ("stop", "reason"),
    [("refusal", "refusal"), ("length", "length"), ("content_filter", "content_filter")],
)
def test_stop_reasons_end_the_run(stop: Any, reason: str) -> None:
    reply = ModelReply(message={"role": "assistant", "content": "..."}, text="...", stop=stop)
    result = runner(ScriptedModel([reply])).run("x")
    assert result.stop_reason == reason


def test_pause_is_continued() -> None:
    paused = ModelReply(message={"role": "assistant", "content": "thinking"}, stop="pause")
    model = ScriptedModel([paused, "finished"])
    result = runner(model).run("long task")
    assert result.text == "finished"
    assert len(model.requests) == 2


def test_deadline_and_token_budget() -> None:
    @tool
    def slow() -> str:
        """Take a while."""
        time.sleep(0.05)
        return "ok"

    model = _always(call("slow"))
    result = Runner(model, tools=[slow], limits=Limits(deadline=0.02, max_repeats=99)).run("x")
    assert result.stop_reason == "deadline"
    assert len(result.steps) == 1

    budget = runner(
        _always(call("add", a=1, b=1)), limits=Limits(token_budget=15, max_repeats=99)
    ).run("x")
    assert budget.stop_reason == "token_budget"
    assert budget.usage.total_tokens >= 15


# -- failures keep the conversation usable ---------------------------------------------------------


class _InterruptedOnce(Registry):
    """A registry whose first execution is interrupted (as by Ctrl-C)."""

    interrupted = False

    def execute(self, calls: Any, **options: Any) -> Any:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return super().execute(calls, **options)


def test_an_interrupted_execution_closes_the_open_calls() -> None:
    model = ScriptedModel([[call("add", a=1, b=1), call("add", a=2, b=2)], "next turn"])
    chat = Runner(model, model="m", tools=_InterruptedOnce([add])).conversation()
    with pytest.raises(KeyboardInterrupt):
        chat.send("go")
    closing = [m for m in chat.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in closing] == ["call_1", "call_2"]
    assert {m["content"] for m in closing} == {"This call was interrupted before it finished."}
    assert chat.send("try again").text == "next turn"


def test_anthropic_user_turn_joins_the_tool_results_message() -> None:
    model = ScriptedModel(
        [call("add", a=1, b=2), "3", "again?"], format="anthropic"
    )  # fmt: skip
    run = runner(model, limits=Limits(max_steps=1))
    chat = run.conversation()
    first = chat.send("add")
    assert first.stop_reason == "max_steps"
    chat.send("and now?")
    roles = [m["role"] for m in chat.messages]
    assert roles == ["user", "assistant", "user", "assistant"]
    last_user = chat.messages[2]["content"]
    assert [b["type"] for b in last_user] == ["tool_result", "text"]


# -- async and streaming ---------------------------------------------------------------------------


def test_run_async_matches_run() -> None:
    script = [call("get_weather", city="Oslo"), "Mild."]
    sync = runner(ScriptedModel(script)).run("weather")
    result = asyncio.run(runner(ScriptedModel(script)).run_async("weather"))
    assert result.messages == sync.messages
    assert result.text == "Mild."


def _kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def test_stream_yields_events_and_still_runs_tools() -> None:
    model = ScriptedModel([call("add", a=2, b=2), "It is four."])
    events = list(runner(model).stream("2+2?"))
    assert _kinds(events) == [
        "ToolCallStarted",
        "ArgumentsDelta",
        "ArgumentsDelta",
        "ToolCallComplete",
        "ToolResultEvent",
        "StepFinished",
        "TextDelta",
        "TextDelta",
        "TextDelta",
        "StepFinished",
        "RunFinished",
    ]
    started = events[0]
    assert isinstance(started, ToolCallStarted)
    assert (started.id, started.name) == ("call_1", "add")
    deltas = "".join(e.delta for e in events if isinstance(e, ArgumentsDelta))
    assert json.loads(deltas) == {"a": 2, "b": 2}
    assert isinstance(events[3], ToolCallComplete)
    result_event = events[4]
    assert isinstance(result_event, ToolResultEvent)
    assert result_event.result.value == 4
    assert "".join(e.text for e in events if isinstance(e, TextDelta)).strip() == "It is four."
    finished = events[-1]
    assert isinstance(finished, RunFinished)
    assert finished.result.text == "It is four."
    assert sum(isinstance(e, StepFinished) for e in events) == 2


def test_astream_matches_stream() -> None:
    script = [call("add", a=1, b=2), "3"]

    async def collect() -> list[Event]:
        return [event async for event in runner(ScriptedModel(script)).stream_async("x")]

    async_events = asyncio.run(collect())
    sync_events = list(runner(ScriptedModel(script)).stream("x"))
    assert _kinds(async_events) == _kinds(sync_events)


class _SyncOnly:
    codec = get_format("openai")

    def complete(self, request: ModelRequest) -> ModelReply:
        return ModelReply(message={"role": "assistant", "content": "ok"}, text="ok")

    def stream(self, request: ModelRequest) -> Iterator[StreamDelta | ModelReply]:
        yield self.complete(request)


def test_a_sync_backend_cannot_run_async() -> None:
    run = runner(_SyncOnly())
    assert run.run("x").text == "ok"
    with pytest.raises(TypeError, match=r"Runner\.run_async needs an async client"):
        asyncio.run(run.run_async("x"))


def test_unknown_clients_are_refused() -> None:
    with pytest.raises(TypeError, match="no backend for object"):
        Runner(object(), model="m")


# -- the test model --------------------------------------------------------------------------------


class Address(BaseModel):
    street: str
    zip_code: int


def test_test_model_calls_every_tool_with_valid_arguments() -> None:
    @tool
    def ship(to: Address, express: bool = False, tags: list[str] | None = None) -> str:
        """Ship a parcel."""
        return f"{to.street} {express} {tags}"

    registry = Registry([get_weather, add, ship])
    result = Runner(TestModel(), model="m", tools=registry).run("exercise everything")
    assert sorted(r.name for r in result.tool_results) == ["add", "get_weather", "ship"]
    assert not any(r.is_error for r in result.tool_results)
    assert result.stop_reason == "end"


# -- approvals and hooks ---------------------------------------------------------------------------


def _approval_setup() -> tuple[list[str], Runner, ScriptedModel]:
    sent: list[str] = []

    @tool(needs_approval=True)
    def send_money(to: str, amount: int) -> str:
        """Send money."""
        sent.append(f"{amount} to {to}")
        return f"sent {amount} to {to}"

    @tool
    def balance() -> int:
        """Read the balance."""
        sent.append("balance read")
        return 100

    model = ScriptedModel(
        [[call("balance"), call("send_money", to="Ada", amount=30)], "Done, Ada has it."]
    )
    return sent, Runner(model, model="m", tools=[balance, send_money]), model


def test_a_call_needing_approval_pauses_and_resumes_in_another_process() -> None:
    sent, run, _ = _approval_setup()
    paused = run.run("pay Ada 30")
    assert paused.stop_reason == "approval_required"
    pending = paused.pending
    assert pending is not None
    assert [c.name for c in pending.calls] == ["send_money"]
    assert sent == ["balance read"]  # the other call already ran

    saved = pending.to_json()
    restored = type(pending).from_json(saved)
    from toolkit import Approve

    result = run.resume(restored, {restored.calls[0].id: Approve()})
    assert result.text == "Done, Ada has it."
    assert sent == ["balance read", "30 to Ada"]  # balance was not read twice
    tool_messages = [m for m in result.messages if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == ["100", "sent 30 to Ada"]


def test_approval_with_edited_arguments_and_denial() -> None:
    from toolkit import Approve, Deny

    sent, run, _ = _approval_setup()
    pending = run.run("pay").pending
    assert pending is not None
    edited = run.resume(
        pending, {pending.calls[0].id: Approve(arguments={"to": "Ada", "amount": 5})}
    )
    assert sent[-1] == "5 to Ada"
    assert edited.tool_results[-1].content == "sent 5 to Ada"

    sent, run, _ = _approval_setup()
    pending = run.run("pay").pending
    assert pending is not None
    denied = run.resume(pending, {pending.calls[0].id: Deny("Not without a second signature.")})
    assert sent == ["balance read"]
    assert denied.tool_results[-1].content == "Not without a second signature."
    assert denied.tool_results[-1].is_error

    with pytest.raises(ValueError, match="no decision for the waiting call"):
        run.resume(pending, {})


def test_an_approve_callback_decides_inline_sync_and_async() -> None:
    from toolkit import Approve, Deny

    sent, run, _ = _approval_setup()

    def only_ada(pending_call: ToolCall) -> Approve | Deny:
        return Approve() if "Ada" in str(pending_call.arguments) else Deny()

    run.approve = only_ada
    assert run.run("pay").text == "Done, Ada has it."
    assert sent == ["balance read", "30 to Ada"]

    async def decide(c: Any) -> Any:
        await asyncio.sleep(0)
        return Deny("no")

    sent, run, _ = _approval_setup()
    run.approve = decide
    result = asyncio.run(run.run_async("pay"))
    assert result.tool_results[-1].content == "no"


def test_hooks_see_requests_replies_and_tool_calls() -> None:
    seen: list[str] = []
    model = ScriptedModel([call("add", a=1, b=2), "3"])
    run = Runner(
        model,
        model="test-model",
        tools=[add],
        on_request=lambda r: seen.append(f"request {len(r.messages)}"),
        on_reply=lambda r: seen.append(f"reply {r.stop}"),
        on_tool_start=lambda calls: seen.append(f"start {[c.name for c in calls]}"),
        on_tool_end=lambda results: seen.append(f"end {[r.content for r in results]}"),
    )
    run.run("add")
    assert seen == [
        "request 1",
        "reply tool_calls",
        "start ['add']",
        "end ['3']",
        "request 3",
        "reply end",
    ]


@pytest.mark.parametrize(
    "format", ["openai", "openai-responses", "anthropic", "workers-ai", "gemini"]
)
def test_a_forced_tool_is_named_the_way_the_provider_spells_it(format: Any) -> None:
    from toolkit.formats import get_format

    @tool(name="math.add")
    def dotted(a: int, b: int) -> int:
        """Add."""
        return a + b

    codec: Any = get_format(format)
    request = ModelRequest(
        model="m",
        messages=[],
        tools=[dotted.definition(format)],
        tool_choice="math.add",
    )
    built = json.dumps(codec.build_request(request))
    wire = codec.wire_name("math.add")  # Gemini's names may hold dots; the others' may not
    assert wire == ("math.add" if format == "gemini" else "math_add")
    assert f'"{wire}"' in built
    if wire != "math.add":
        assert "math.add" not in built
