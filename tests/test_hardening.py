"""Faults a hostile model, a misbehaving tool or a careless user can cause: none may hang,
crash or fool toolkit (each test reproduces a defect a fault campaign found).

Hangs are turned into failures by the suite's per-test timeout (pytest-timeout); nothing here
asserts on elapsed time.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from toolkit import (
    Approve,
    Conversation,
    Deny,
    Limits,
    PendingApproval,
    Registry,
    RunFinished,
    Runner,
    RunResult,
    SQLiteStore,
    StateError,
    ToolCall,
    ToolError,
    ToolResult,
    ToolResultEvent,
    tool,
)
from toolkit._execution import GrowingThreadPool, loop_thread
from toolkit.formats import get_format
from toolkit.model import ModelReply, ModelRequest, StreamDelta
from toolkit.testing import FunctionModel, ScriptedModel, call


def one(registry: Registry, name: str, arguments: Any, **options: Any) -> ToolResult:
    [result] = registry.execute([ToolCall(id="c1", name=name, arguments=arguments)], **options)
    return result


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def nested_json(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


# -- 1. what stops the program never kills the shared loop -----------------------------------------


def test_a_keyboard_interrupt_in_a_tool_reaches_the_caller_after_the_batch_settles() -> None:
    finished = threading.Event()

    def boom() -> str:
        raise KeyboardInterrupt

    def fine() -> str:
        finished.set()
        return "fine"

    registry = Registry([boom, fine])
    calls = [
        ToolCall(id="1", name="boom", arguments={}),
        ToolCall(id="2", name="fine", arguments={}),
    ]
    with pytest.raises(KeyboardInterrupt):
        registry.execute(calls)
    assert finished.is_set()  # the call beside it ran to its end first
    # the background loop still serves every later caller
    results = registry.execute([ToolCall(id="3", name="fine", arguments={})] * 2)
    assert [r.content for r in results] == ["fine", "fine"]


@pytest.mark.parametrize("error", [KeyboardInterrupt, SystemExit])
def test_an_async_tool_raising_system_exit_leaves_the_loop_alive(
    error: type[BaseException],
) -> None:
    @tool
    async def stop() -> str:
        """Stop."""
        raise error

    @tool
    async def ping() -> str:
        """Ping."""
        return "pong"

    registry = Registry([stop, ping])
    both = [
        ToolCall(id="1", name="stop", arguments={}),
        ToolCall(id="2", name="ping", arguments={}),
    ]
    with pytest.raises(error):
        registry.execute(both)
    thread = loop_thread()
    assert thread is not None
    assert thread.is_alive()
    assert [r.content for r in registry.execute([both[1], both[1]])] == ["pong", "pong"]

    async def concurrently() -> list[ToolResult]:
        return await registry.execute_async([both[1]])

    assert asyncio.run(concurrently())[0].content == "pong"


def test_a_lone_inline_call_raises_keyboard_interrupt_at_once() -> None:
    def boom() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        one(Registry([boom]), "boom", {})


# -- 11. calls that timed out never starve other work ----------------------------------------------


def test_hung_calls_do_not_starve_other_registries() -> None:
    release = threading.Event()

    def stuck() -> str:
        release.wait(30)
        return "late"

    def quick(n: int) -> int:
        return n

    hung = Registry([stuck], timeout=0.01)
    try:
        calls = [ToolCall(id=str(i), name="stuck", arguments={}) for i in range(80)]
        results = hung.execute(calls)  # more than the old pool's 64 threads
        assert {r.error.kind for r in results if r.error} == {"timeout"}
        other = Registry([quick])
        pair = [ToolCall(id="a", name="quick", arguments={"n": 1})]
        pair.append(ToolCall(id="b", name="quick", arguments={"n": 2}))
        assert [r.content for r in other.execute(pair)] == ["1", "2"]
    finally:
        release.set()


def test_the_growing_pool_starts_a_thread_when_none_is_idle_and_reuses_idle_ones() -> None:
    pool = GrowingThreadPool(core_threads=0, max_threads=4, idle_seconds=0.05)
    release = threading.Event()
    blocked = [pool.submit(release.wait, 30) for _ in range(3)]
    assert pool.threads == 3
    assert pool.submit(lambda: 7).result(timeout=30) == 7  # a 4th thread, not a wait
    assert pool.threads == 4
    waiting = pool.submit(lambda: 8)  # at the cap: it waits for a free thread
    release.set()
    assert waiting.result(timeout=30) == 8
    assert all(f.result(timeout=30) for f in blocked)
    pool.shutdown()


# -- 3, 4, 12. replies that are mostly text, or far too many calls ---------------------------------


def test_prose_that_mentions_tool_call_tags_is_an_answer() -> None:
    text = "Models without a parser write <tool_call> tags; yours should not."
    reply = ModelReply(message={"role": "assistant", "content": text}, text=text)
    result = Runner(ScriptedModel([reply])).run("How do models call tools?")
    assert result.stop_reason == "end"
    assert result.text == text


def test_calls_past_the_per_reply_limit_are_refused_not_run() -> None:
    ran: list[int] = []

    @tool
    def note(n: int) -> int:
        """Note a number."""
        ran.append(n)
        return n

    model = ScriptedModel([[call("note", n=i) for i in range(100)], "noted"])
    result = Runner(model, tools=[note], limits=Limits(max_calls_per_reply=10)).run("go")
    assert sorted(ran) == list(range(10))
    refused = [r for r in result.tool_results if r.error and r.error.kind == "refused"]
    assert len(refused) == 90
    assert refused[0].content == (
        "Not run: at most 10 tool calls are run per reply. Make fewer calls at once."
    )
    assert result.text == "noted"


def test_runs_are_bounded_by_default() -> None:
    limits = Limits()
    assert limits.max_tool_calls is not None
    assert limits.max_calls_per_reply <= limits.max_tool_calls
    assert limits.tool_timeout is not None


# -- 13. no hung tool or request can hang a run ----------------------------------------------------


def test_a_hung_tool_is_answered_with_the_runners_default_timeout() -> None:
    release = threading.Event()

    @tool
    def hangs() -> str:
        """Never returns on its own."""
        release.wait(30)
        return "late"

    try:
        model = ScriptedModel([call("hangs"), "gave up"])
        runner = Runner(model, tools=[hangs], limits=Limits(tool_timeout=0.05))
        result = runner.run("go")
        [timed_out] = result.tool_results
        assert timed_out.content == "Tool hangs did not finish within 0.05 s."
        assert result.text == "gave up"
    finally:
        release.set()


def test_the_deadline_ends_a_run_while_a_tool_is_still_running() -> None:
    release = threading.Event()

    @tool(timeout=30)
    def hangs() -> str:
        """Never returns on its own."""
        release.wait(30)
        return "late"

    try:
        runner = Runner(FunctionModel(lambda r: call("hangs")), tools=[hangs])
        result = runner.run("go", limits=Limits(deadline=0.2))
        assert result.stop_reason == "deadline"
        assert [r.error.kind for r in result.tool_results if r.error] == ["timeout"]
        assert result.messages[-1]["role"] == "tool"
    finally:
        release.set()


class _SlowAsyncModel:
    """An async backend whose requests take far longer than any deadline."""

    codec = get_format("openai")

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        await asyncio.sleep(30)
        raise AssertionError("never reached")

    async def stream_async(self, request: ModelRequest) -> Any:
        await asyncio.sleep(30)
        yield StreamDelta(text="never")


@pytest.mark.parametrize("streaming", [False, True])
def test_the_deadline_cancels_a_request_in_flight(streaming: bool) -> None:
    runner = Runner(_SlowAsyncModel(), limits=Limits(deadline=0.1))

    async def run() -> RunResult:
        if not streaming:
            return await runner.run_async("hello?")
        events = [event async for event in runner.stream_async("hello?")]
        assert isinstance(events[-1], RunFinished)
        return events[-1].result

    result = asyncio.run(run())
    assert result.stop_reason == "deadline"
    assert result.text == ""


@pytest.mark.parametrize("provider", ["openai", "anthropic", "workers-ai"])
def test_the_deadline_reaches_a_sync_request(provider: str) -> None:
    import time

    import anthropic
    import openai
    from fakeserver import FakeServer, Reply

    from toolkit import WorkersAI

    with FakeServer() as server:

        def slow(protocol: Any, body: Any) -> Reply:
            time.sleep(3)
            return Reply.text("too late")

        server.script(slow)
        client: Any
        if provider == "openai":
            client = openai.OpenAI(base_url=server.openai_base_url, api_key="k", max_retries=0)
        elif provider == "anthropic":
            client = anthropic.Anthropic(
                base_url=server.anthropic_base_url, api_key="k", max_retries=0
            )
        else:
            client = WorkersAI(server.account_id, "token", base_url=f"{server.base_url}/client/v4")
        with client:
            result = Runner(client, model="m", limits=Limits(deadline=0.3)).run("hello?")
        assert result.stop_reason == "deadline"
        server.failures.clear()


# -- 2. a decision binds to exactly one call -------------------------------------------------------


def _twins_reply() -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "x", "type": "function", "function": {"name": "pay", "arguments": a}}
            for a in ('{"to": "Ada"}', '{"to": "Eve"}')
        ],
    }


def test_repeated_call_ids_are_made_unique_when_parsed() -> None:
    calls = get_format("openai").parse_calls(_twins_reply())
    assert [c.id for c in calls] == ["x", "x_2"]
    reply = get_format("openai").parse_reply({"choices": [{"message": _twins_reply()}]})
    assert [c["id"] for c in reply.message["tool_calls"]] == ["x", "x_2"]
    blocks = [{"type": "tool_use", "id": "t", "name": "pay", "input": {"to": who}} for who in "AB"]
    anthropic = get_format("anthropic").parse_reply({"content": blocks, "stop_reason": "tool_use"})
    assert [c.id for c in anthropic.calls] == ["t", "t_2"]
    assert [b["id"] for b in anthropic.message["content"]] == ["t", "t_2"]


def test_an_approval_cannot_ride_on_a_call_sharing_its_id() -> None:
    paid: list[str] = []

    @tool(needs_approval=True)
    def pay(to: str) -> str:
        """Pay someone."""
        paid.append(to)
        return f"paid {to}"

    reply = get_format("openai").parse_reply({"choices": [{"message": _twins_reply()}]})
    runner = Runner(
        ScriptedModel([reply, "done"]),
        tools=[pay],
        approve=lambda c: Approve() if '"Ada"' in str(c.arguments) else Deny("No."),
    )
    result = runner.run("pay")
    assert paid == ["Ada"]
    assert [r.content for r in result.tool_results] == ["paid Ada", "No."]

    paused = Runner(ScriptedModel([reply, "done"]), tools=[pay]).run("pay")
    assert paused.pending is not None
    resumed = Runner(ScriptedModel(["done"]), tools=[pay]).resume(
        paused.pending, {"x": True, "x_2": False}
    )
    assert paid == ["Ada", "Ada"]
    assert [r.content for r in resumed.tool_results] == ["paid Ada", "The user denied this call."]


def test_a_decision_keyed_by_a_call_does_not_apply_to_edited_arguments() -> None:
    @tool(needs_approval=True)
    def pay(to: str, amount: int) -> str:
        """Pay someone."""
        return f"paid {amount} to {to}"

    paused = Runner(ScriptedModel([call("pay", to="Ada", amount=5)]), tools=[pay]).run("pay")
    assert paused.pending is not None
    state = json.loads(paused.pending.to_json())
    state["reply"]["calls"][0]["arguments"] = json.dumps({"to": "Eve", "amount": 10**6})
    shown = paused.pending.calls[0]  # what the person approved
    edited = PendingApproval.from_json(json.dumps(state))
    with pytest.raises(ValueError, match="given for other arguments"):
        Runner(ScriptedModel([]), tools=[pay]).resume(edited, {shown: Approve()})


# -- 5. a pause is resumed once --------------------------------------------------------------------


@tool(needs_approval=True)
def transfer(to: str) -> str:
    """Transfer money."""
    return f"sent to {to}"


def _paused_json() -> str:
    paused = Runner(ScriptedModel([call("transfer", to="Ada")]), tools=[transfer]).run("pay")
    assert paused.pending is not None
    return paused.pending.to_json()


def test_a_pause_resumed_twice_is_refused_in_a_process() -> None:
    saved = _paused_json()
    first = Runner(ScriptedModel(["done"]), tools=[transfer])
    pending = PendingApproval.from_json(saved)
    assert first.resume(saved, {pending.calls[0].id: Approve()}).text == "done"
    with pytest.raises(StateError, match="already resumed"):
        first.resume(saved, {pending.calls[0].id: Approve()})


def test_a_pause_resumed_twice_is_refused_by_a_store(tmp_path: Any) -> None:
    saved = _paused_json()
    call_id = PendingApproval.from_json(saved).calls[0].id
    path = tmp_path / "claims.db"
    with SQLiteStore(path) as store:
        result = Runner(ScriptedModel(["done"]), tools=[transfer]).resume(
            saved, {call_id: True}, store=store
        )
        assert result.text == "done"
    with SQLiteStore(path) as store, pytest.raises(StateError, match="already resumed"):
        Runner(ScriptedModel(["done"]), tools=[transfer]).resume(
            saved, {call_id: True}, store=store
        )


def test_a_conversation_resumes_its_pause_once_through_its_store(tmp_path: Any) -> None:
    path = tmp_path / "chats.db"
    with SQLiteStore(path) as store:
        chat = store.load(
            "s",
            Runner(ScriptedModel([call("transfer", to="Ada")]), tools=[transfer]),
            autosave=True,
        )
        paused = chat.send("pay")
        assert paused.pending is not None
        saved = paused.pending.to_json()
        waiting = paused.pending.calls[0]

    with SQLiteStore(path) as store:  # a later request, another process
        chat = store.load("s", Runner(ScriptedModel(["done"]), tools=[transfer]), autosave=True)
        result = asyncio.run(chat.resume_async(saved, {waiting: Approve()}))
        assert result.tool_results[0].content == "sent to Ada"
        stored = store.read("s")
        assert stored is not None
        assert stored.messages == chat.messages  # saved after the resumed turn
        assert [m["role"] for m in chat.messages][-2:] == ["tool", "assistant"]

    with SQLiteStore(path) as store:
        again = store.load("s", Runner(ScriptedModel(["twice?"]), tools=[transfer]))
        with pytest.raises(StateError, match="already resumed"):
            again.resume(saved, {waiting: Approve()})


# -- 6. nothing a model sends or a tool does escapes as an exception -------------------------------


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no")


class _Lazy(ToolError):
    def __init__(self) -> None:  # skips ToolError.__init__: no .message
        Exception.__init__(self)


def test_exceptions_that_cannot_be_printed_are_error_results() -> None:
    def unprintable() -> str:
        raise _Unprintable

    def lazy() -> str:
        raise _Lazy

    registry = Registry([unprintable, lazy])
    assert one(registry, "unprintable", {}).content == (
        "Tool unprintable failed: _Unprintable: (its message could not be read)"
    )
    assert one(registry, "lazy", {}).content == "_Lazy"
    assert one(registry, "lazy", {}).error.kind == "tool_error"  # type: ignore[union-attr]


def test_an_unsendable_return_value_is_an_error_result_on_every_path() -> None:
    def huge() -> int:
        return 10**5000

    registry = Registry([huge])
    result = one(registry, "huge", "{}")  # the single-call path
    assert result.is_error
    assert result.content.startswith("Tool huge returned a value that cannot be sent:")
    batch = registry.execute([ToolCall(id=str(i), name="huge", arguments={}) for i in range(2)])
    assert all(r.is_error for r in batch)


def test_arguments_nested_deeper_than_anything_are_error_results() -> None:
    def count(n: int) -> int:
        return n

    registry = Registry([count])
    for arguments in (
        {"n": nested(10_000)},
        json.dumps({"n": 0})[:-1] + ', "x": ' + nested_json(10_000) + "}",
    ):
        result = one(registry, "count", arguments)
        assert result.is_error
        assert result.error is not None
        assert result.error.kind in ("invalid_arguments", "invalid_json")


@pytest.mark.parametrize("value", ["\ud800", {1, 2}, object(), float("nan"), b"\xff"], ids=repr)
def test_strict_validation_turns_unjsonable_mappings_into_error_results(value: Any) -> None:
    def echo(text: str) -> str:
        return text

    result = one(Registry([echo], strict_validation=True), "echo", {"text": value})
    assert result.is_error
    assert result.content.startswith(("The arguments for echo", "Invalid arguments for echo"))


def test_parse_calls_survives_deep_calls_without_ids() -> None:
    deep = nested(10_000)
    anthropic = get_format("anthropic").parse_calls(
        [{"type": "tool_use", "name": "f", "input": {"x": deep}}]
    )
    assert anthropic[0].id.startswith("call_")
    workers = get_format("workers-ai").parse_calls(
        {"result": {"tool_calls": [{"name": "f", "arguments": {"x": deep}}]}}
    )
    assert workers[0].name == "f"
    reply = get_format("workers-ai").parse_reply(
        {"result": {"response": "", "tool_calls": [{"name": "f", "arguments": {"x": deep}}]}}
    )
    assert reply.calls[0].name == "f"


@pytest.mark.parametrize(
    "format", ["openai", "anthropic", "openai-responses", "workers-ai", "gemini"]
)
def test_a_run_survives_arguments_nested_5000_deep(format: Any) -> None:
    @tool
    def count(n: int) -> int:
        """Count."""
        return n

    deep = ToolCall(id="d1", name="count", arguments='{"n": ' + nested_json(5_000) + "}")
    model = ScriptedModel([deep, deep, "gave up"], format=format)
    result = Runner(model, tools=[count]).run("count")
    assert result.text == "gave up"
    assert all(r.is_error for r in result.tool_results)


# -- 7. a hook that raises leaves every call answered ----------------------------------------------


def _two_calls() -> ScriptedModel:
    return ScriptedModel([[call("add", a=1, b=2), call("add", a=3, b=4)], "never"])


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def _hook_fails(*_: Any) -> Any:
    raise RuntimeError("hook failed")


def test_a_failing_reply_hook_rolls_the_turn_back() -> None:
    chat = Runner(_two_calls(), tools=[add], on_reply=_hook_fails).conversation(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    )
    with pytest.raises(RuntimeError, match="hook failed"):
        chat.send("add")
    assert chat.messages == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
    ]


@pytest.mark.parametrize("hook", ["on_tool_start", "on_tool_end"])
def test_a_failing_hook_leaves_the_history_answered(hook: str) -> None:
    hooks: dict[str, Any] = {hook: _hook_fails}
    chat = Runner(_two_calls(), tools=[add], **hooks).conversation()
    with pytest.raises(RuntimeError, match="hook failed"):
        chat.send("add")
    answers = [m for m in chat.messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in answers] == ["call_1", "call_2"]
    expected = (
        ["3", "7"]
        if hook == "on_tool_end"
        else ["This call was interrupted before it finished."] * 2
    )
    assert [m["content"] for m in answers] == expected


def test_a_failing_approve_callback_leaves_the_history_answered() -> None:
    @tool(needs_approval=True)
    def pay(to: str) -> str:
        """Pay."""
        return to

    model = ScriptedModel([[call("add", a=1, b=1), call("pay", to="Ada")]])
    chat = Runner(model, tools=[add, pay], approve=_hook_fails).conversation()
    with pytest.raises(RuntimeError):
        chat.send("go")
    answers = [m["content"] for m in chat.messages if m["role"] == "tool"]
    assert answers == ["2", "This call was interrupted before it finished."]


def test_a_stream_closed_mid_step_leaves_the_history_answered() -> None:
    chat = Runner(_two_calls(), tools=[add]).conversation()
    events = chat.stream("add")
    for event in events:
        if isinstance(event, ToolResultEvent):
            break
    events.close()  # type: ignore[attr-defined]
    assert [m["content"] for m in chat.messages if m["role"] == "tool"] == ["3", "7"]


# -- 8. saved state is validated on load -----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ['{"format": "openai", "messages": "abc"}', "[]", "null", "{", '{"format": "gemini"}'],
)
def test_a_corrupted_conversation_is_a_state_error(text: str) -> None:
    with pytest.raises(StateError, match="this conversation cannot be loaded"):
        Conversation.from_json(text, runner=Runner(ScriptedModel([])))


Corruption = Callable[[dict[str, Any]], object]


def _corrupted(change: Corruption) -> str:
    state: dict[str, Any] = json.loads(_paused_json())
    change(state)
    return json.dumps(state)


def _duplicate_call(state: dict[str, Any]) -> None:
    calls: list[Any] = state["reply"]["calls"]
    calls.append(dict(calls[0]))


CORRUPTIONS: list[tuple[Corruption, str]] = [
    (lambda s: s.clear(), "Field required"),
    (lambda s: s.update(awaiting=[]), "at least 1 item"),
    (lambda s: s.update(awaiting=[7]), "not the index of a call"),
    (lambda s: s.update(first_new=99), "past the end of messages"),
    (_duplicate_call, "share an id"),
    (lambda s: s.update(results=[]), "one entry per call"),
    (lambda s: s.update(id="../../etc"), "id"),
    (lambda s: s.update(messages="abc"), "messages"),
]


@pytest.mark.parametrize(("change", "problem"), CORRUPTIONS)
def test_a_corrupted_pause_is_a_state_error(change: Corruption, problem: str) -> None:
    with pytest.raises(StateError, match="this pending approval cannot be loaded") as caught:
        PendingApproval.from_json(_corrupted(change))
    assert problem in str(caught.value)


def test_a_pause_of_another_protocol_is_refused() -> None:
    saved = _paused_json()
    anthropic = Runner(ScriptedModel([], format="anthropic"), tools=[transfer])
    with pytest.raises(StateError, match="'openai' format"):
        anthropic.resume(saved, {})


# -- 9, 10. error texts are bounded ----------------------------------------------------------------


class _Thirty(BaseModel):
    values: dict[str, int]
    a0: int
    a1: int
    a2: int
    a3: int
    a4: int
    a5: int
    a6: int
    a7: int
    a8: int
    a9: int
    b0: int
    b1: int
    b2: int
    b3: int
    b4: int
    b5: int
    b6: int
    b7: int
    b8: int
    b9: int
    c0: int
    c1: int
    c2: int
    c3: int
    c4: int


def test_invalid_arguments_list_twenty_problems_then_count_the_rest() -> None:
    def take(model: _Thirty) -> str:
        return "ok"

    bad = {"values": {"k": "x"}, **{f"{p}{i}": "x" for p in "ab" for i in range(10)}}
    bad |= {f"c{i}": "x" for i in range(5)}
    result = one(Registry([take]), "take", {"model": bad})
    lines = result.content.splitlines()
    assert lines[0] == "Invalid arguments for take:"
    assert len([line for line in lines if line.startswith("- model.")]) == 20
    assert lines[-2] == "- and 6 more problems"
    assert result.error is not None
    assert len(result.error.problems) == 20


def test_a_million_invalid_values_make_a_short_error() -> None:
    def take(values: dict[str, int]) -> str:
        return "ok"

    arguments = json.dumps({"values": {str(i): "x" for i in range(100_000)}})
    result = one(Registry([take]), "take", arguments)
    assert result.is_error
    assert len(result.content) < 3_000


def test_an_unknown_tool_among_a_thousand_gets_a_short_answer() -> None:
    registry = Registry(tool(lambda: "", name=f"tool_{i:04d}") for i in range(1_000))
    registry.add(tool(lambda: "", name="get_weather"))
    result = one(registry, "get_wether", {})
    assert result.content.startswith("Unknown tool 'get_wether'. Did you mean 'get_weather'?")
    assert result.content.endswith(" and 981 more.")
    assert len(result.content) < 600


# -- 16. secrets in exception texts are redacted ---------------------------------------------------


@pytest.fixture
def secret_env() -> Iterator[str]:
    os.environ["TOOLKIT_TEST_API_KEY"] = "s3cr3t-value-from-env"
    yield "s3cr3t-value-from-env"
    del os.environ["TOOLKIT_TEST_API_KEY"]


def test_exception_texts_are_redacted_but_tool_errors_are_not(secret_env: str) -> None:
    home = os.path.expanduser("~")

    def leaky(kind: str) -> str:
        texts = {
            "key": "auth failed with sk-abcdefghijklmnopqrstuvwx",
            "env": f"config: {secret_env}",
            "pair": "connect(password=hunter2, host=db)",
            "bearer": "401 for Authorization: Bearer abc.def.ghijklmnop",
            "url": "cannot reach postgres://app:pa55word@db:5432/prod",
            "home": f"no such file: {home}/project/secrets.txt",
        }
        if kind == "tool":
            raise ToolError("the key sk-abcdefghijklmnopqrstuvwx is expired")
        raise ValueError(texts[kind])

    registry = Registry([leaky])
    contents = {k: one(registry, "leaky", {"kind": k}).content for k in
                ("key", "env", "pair", "bearer", "url", "home", "tool")}  # fmt: skip
    assert contents["key"] == "Tool leaky failed: ValueError: auth failed with [redacted]"
    assert contents["env"] == "Tool leaky failed: ValueError: config: [redacted]"
    assert "hunter2" not in contents["pair"]
    assert "host=db" in contents["pair"]
    assert "ghijklmnop" not in contents["bearer"]
    assert "pa55word" not in contents["url"]
    assert "@db:5432" in contents["url"]
    assert contents["home"].endswith("no such file: ~/project/secrets.txt")
    assert contents["tool"] == "the key sk-abcdefghijklmnopqrstuvwx is expired"
    verbatim = Registry([leaky], redact_errors=False)
    assert "sk-abcdefghijklmnopqrstuvwx" in one(verbatim, "leaky", {"kind": "key"}).content


def test_redaction_is_linear_on_hostile_text() -> None:
    from toolkit._feedback import redact

    for hostile in ("a." * 50_000, "password" + " " * 100_000, "x://" + "a" * 100_000):
        assert isinstance(redact(hostile), str)


# -- 17. non-finite numbers ------------------------------------------------------------------------


def test_a_nan_result_is_sent_as_json() -> None:
    def ratio() -> float:
        return float("nan")

    def many() -> list[float]:
        return [float("inf"), 1.0]

    registry = Registry([ratio, many])
    assert json.loads(one(registry, "ratio", {}).content) == "NaN"
    assert json.loads(one(registry, "many", {}).content) == ["Infinity", 1.0]
