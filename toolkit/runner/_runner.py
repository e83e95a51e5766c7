"""``Runner`` and ``Conversation``: small drivers around the one loop in ``_loop``.

Each driver turns the loop's effects into I/O: ``run`` with a sync client and
``Registry.execute``, ``run_async`` with an async client and ``execute_async``, and
``stream`` / ``astream`` the same while yielding events.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any

from toolkit.backends import model_for
from toolkit.calls import ToolCall, ToolResult
from toolkit.formats import FormatName, get_format
from toolkit.model import (
    AsyncModel,
    ModelReply,
    ModelRequest,
    StreamDelta,
    SyncModel,
    ToolChoice,
)
from toolkit.registry import Registry
from toolkit.runner._approval import Decision, PendingApproval
from toolkit.runner._events import (
    ArgumentsDelta,
    Event,
    RunFinished,
    StepFinished,
    TextDelta,
    ToolCallComplete,
    ToolCallStarted,
    ToolResultEvent,
)
from toolkit.runner._loop import (
    AwaitApproval,
    CallModel,
    Effect,
    Limits,
    LoopSettings,
    RunCalls,
    RunResult,
    append_messages,
    close_open_calls,
    run_loop,
)
from toolkit.tool import Tool

if TYPE_CHECKING:
    from toolkit.runner._conversation import Conversation

__all__ = ["Prompt", "Runner"]

Prompt = str | Sequence[Mapping[str, Any]]
_Loop = Generator[Effect, Any, RunResult]


class Runner:
    """Runs tool conversations: send, execute the calls, send the results, until an answer.

    Args:
        client: An ``openai.OpenAI`` / ``AsyncOpenAI`` (Chat Completions, any ``base_url``),
            an ``anthropic.Anthropic`` / ``AsyncAnthropic``, or any backend implementing
            ``toolkit.model.SyncModel`` / ``AsyncModel`` (``OpenAIResponses``, ``WorkersAI``,
            the models of ``toolkit.testing``...).
        model: The model name sent with every request.
        tools: A ``Registry``, or tools and plain functions to put in a new one.
        system: The system prompt.
        tool_choice: ``"auto"``, ``"none"``, ``"required"`` or a tool name. A forced choice
            applies to the first request only; after the model honoured it the run goes on
            with ``"auto"`` (a forced choice kept forever loops forever).
        parallel_tool_calls: Allow several calls per reply (``None``: provider default).
        strict: Render tool definitions in strict mode (``None``: each tool's own setting).
        max_steps: Model requests per run; a run never goes on without limit.
        max_tool_calls: Tool calls per run.
        deadline: Seconds a run may take (checked before each request).
        token_budget: Tokens a run may use (checked before each request).
        max_repeats: Identical calls (same tool, same arguments) allowed per run.
        settings: Other request settings passed through (``temperature``, ``max_tokens``...).
        context: Passed to tools that take a ``Context`` (as ``Context.deps``).
        approve: Decides inline on calls of tools marked ``needs_approval`` (may be async
            with ``run_async``); without it such calls pause the run (see ``resume``).
        on_request: Called with each ``ModelRequest`` before it is sent (logging, tracing).
        on_reply: Called with each ``ModelReply``.
        on_tool_start: Called with the calls about to run.
        on_tool_end: Called with their results.
    """

    def __init__(
        self,
        client: Any,
        *,
        model: str,
        tools: Registry | Iterable[Tool[..., Any] | Callable[..., Any]] = (),
        system: str | None = None,
        tool_choice: ToolChoice = "auto",
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        max_steps: int = 10,
        max_tool_calls: int | None = None,
        deadline: float | None = None,
        token_budget: int | None = None,
        max_repeats: int = 3,
        settings: Mapping[str, Any] | None = None,
        context: Any = None,
        approve: Callable[[ToolCall], Decision | Awaitable[Decision]] | None = None,
        on_request: Callable[[ModelRequest], object] | None = None,
        on_reply: Callable[[ModelReply], object] | None = None,
        on_tool_start: Callable[[tuple[ToolCall, ...]], object] | None = None,
        on_tool_end: Callable[[list[ToolResult]], object] | None = None,
    ) -> None:
        self.backend: SyncModel | AsyncModel = model_for(client)
        self.model = model
        self.registry = tools if isinstance(tools, Registry) else Registry(tools)
        self.system = system
        self.tool_choice: ToolChoice = tool_choice
        self.parallel_tool_calls = parallel_tool_calls
        self.strict = strict
        self.limits = Limits(
            max_steps=max_steps,
            max_tool_calls=max_tool_calls,
            deadline=deadline,
            token_budget=token_budget,
            max_repeats=max_repeats,
        )
        self.settings = dict(settings or {})
        self.context = context
        self.approve = approve
        self.on_request = on_request
        self.on_reply = on_reply
        self.on_tool_start = on_tool_start
        self.on_tool_end = on_tool_end

    # -- public API -----------------------------------------------------------------------------

    def run(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> RunResult:
        """Run one user turn to its end with a sync client.

        Args:
            prompt: The user's text, or messages (native format) to start from.
            history: Earlier messages; the run appends to this very list.
            tool_choice: Overrides the runner's ``tool_choice`` for this run.
        """
        backend = self._backend(SyncModel, "run", "a sync client (OpenAI, Anthropic)")
        return self._drive(backend, self._loop(backend, prompt, history, tool_choice))

    async def run_async(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> RunResult:
        """Run one user turn to its end with an async client (see ``run``)."""
        backend = self._backend(AsyncModel, "run_async", "an async client (AsyncOpenAI...)")
        return await self._adrive(backend, self._loop(backend, prompt, history, tool_choice))

    def resume(
        self,
        pending: PendingApproval,
        decisions: Mapping[str, Decision],
        *,
        history: list[Any] | None = None,
    ) -> RunResult:
        """Continue a run paused for approval (sync client).

        Args:
            pending: ``result.pending`` of the paused run (or ``PendingApproval.from_json``).
            decisions: ``Approve()``, ``Approve(arguments={...})`` or ``Deny("why")`` for the
                id of every call in ``pending.calls``.
            history: The list to continue in (a conversation's); by default a copy of the
                pending messages.

        Raises:
            ValueError: a waiting call has no decision.
        """
        backend = self._backend(SyncModel, "resume", "a sync client (OpenAI, Anthropic)")
        return self._drive(backend, self._resumed(backend, pending, decisions, history))

    async def resume_async(
        self,
        pending: PendingApproval,
        decisions: Mapping[str, Decision],
        *,
        history: list[Any] | None = None,
    ) -> RunResult:
        """Continue a run paused for approval (async client; see ``resume``)."""
        backend = self._backend(AsyncModel, "resume_async", "an async client (AsyncOpenAI...)")
        return await self._adrive(backend, self._resumed(backend, pending, decisions, history))

    def stream(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> Iterator[Event]:
        """Run one user turn with a sync client, yielding events as they happen.

        Tools still run while streaming; the last event is ``RunFinished``.
        """
        backend = self._backend(SyncModel, "stream", "a sync client (OpenAI, Anthropic)")
        loop = self._loop(backend, prompt, history, tool_choice)
        reply: Any = None
        while True:
            try:
                effect = loop.send(reply)
            except StopIteration as stop:
                yield RunFinished(stop.value)
                return
            if isinstance(effect, CallModel):
                self._notify(self.on_request, effect.request)
                events = _DeltaEvents()
                for item in backend.stream(effect.request):
                    if isinstance(item, ModelReply):
                        reply = item
                    else:
                        yield from events.translate(item)
                self._notify(self.on_reply, reply)
                yield from (ToolCallComplete(call) for call in reply.calls)
            elif isinstance(effect, RunCalls):
                reply = self._execute(loop, effect)
                yield from (ToolResultEvent(result) for result in reply)
            elif isinstance(effect, AwaitApproval):
                reply = self._decide(effect)
            else:
                yield StepFinished(effect.step)
                reply = None

    async def astream(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
    ) -> AsyncIterator[Event]:
        """Run one user turn with an async client, yielding events (see ``stream``)."""
        backend = self._backend(AsyncModel, "astream", "an async client (AsyncOpenAI...)")
        loop = self._loop(backend, prompt, history, tool_choice)
        reply: Any = None
        while True:
            try:
                effect = loop.send(reply)
            except StopIteration as stop:
                yield RunFinished(stop.value)
                return
            if isinstance(effect, CallModel):
                self._notify(self.on_request, effect.request)
                events = _DeltaEvents()
                async for item in backend.astream(effect.request):
                    if isinstance(item, ModelReply):
                        reply = item
                    else:
                        for event in events.translate(item):
                            yield event
                self._notify(self.on_reply, reply)
                for call in reply.calls:
                    yield ToolCallComplete(call)
            elif isinstance(effect, RunCalls):
                reply = await self._execute_async(loop, effect)
                for result in reply:
                    yield ToolResultEvent(result)
            elif isinstance(effect, AwaitApproval):
                reply = await self._adecide(effect)
            else:
                yield StepFinished(effect.step)
                reply = None

    # -- the two plain drivers --------------------------------------------------------------------

    def _drive(self, backend: SyncModel, loop: _Loop) -> RunResult:
        reply: Any = None
        while True:
            try:
                effect = loop.send(reply)
            except StopIteration as stop:
                return stop.value
            if isinstance(effect, CallModel):
                self._notify(self.on_request, effect.request)
                reply = backend.complete(effect.request)
                self._notify(self.on_reply, reply)
            elif isinstance(effect, RunCalls):
                reply = self._execute(loop, effect)
            elif isinstance(effect, AwaitApproval):
                reply = self._decide(effect)
            else:
                reply = None

    async def _adrive(self, backend: AsyncModel, loop: _Loop) -> RunResult:
        reply: Any = None
        while True:
            try:
                effect = loop.send(reply)
            except StopIteration as stop:
                return stop.value
            if isinstance(effect, CallModel):
                self._notify(self.on_request, effect.request)
                reply = await backend.acomplete(effect.request)
                self._notify(self.on_reply, reply)
            elif isinstance(effect, RunCalls):
                reply = await self._execute_async(loop, effect)
            elif isinstance(effect, AwaitApproval):
                reply = await self._adecide(effect)
            else:
                reply = None

    def conversation(self, messages: Iterable[Any] = ()) -> Conversation:
        """A multi-turn conversation that keeps its history between sends."""
        from toolkit.runner._conversation import Conversation  # noqa: PLC0415 - cycle

        return Conversation(self, messages)

    # -- shared steps -----------------------------------------------------------------------------

    def _backend(self, kind: type[Any], method: str, needs: str) -> Any:
        if not isinstance(self.backend, kind):
            raise TypeError(f"Runner.{method} needs {needs}; got {self.backend!r}")
        return self.backend

    def _loop(
        self,
        backend: SyncModel | AsyncModel,
        prompt: Prompt,
        history: list[Any] | None,
        tool_choice: ToolChoice | None,
    ) -> _Loop:
        format = backend.format
        # Settings first: a bad tool_choice must fail before the history is touched.
        config = self._settings(format, self.tool_choice if tool_choice is None else tool_choice)
        messages = history if history is not None else []
        close_open_calls(messages, config.codec)  # a history saved mid-step
        if isinstance(prompt, str):
            first_new = len(messages)
            append_messages(messages, backend.user_message(prompt))
        else:
            messages.extend(prompt)
            first_new = len(messages)
        return run_loop(messages, first_new, config)

    def _settings(self, format: FormatName, choice: ToolChoice) -> LoopSettings:
        if choice not in ("auto", "none", "required") and choice not in self.registry:
            raise ValueError(
                f"tool_choice names {choice!r}, which is not a registered tool; "
                f"registered: {', '.join(self.registry.names) or 'none'}"
            )
        registry = self.registry
        return LoopSettings(
            model=self.model,
            codec=get_format(format),
            tools=registry.definitions(format, strict=self.strict),
            system=self.system,
            tool_choice=choice,  # the codec spells a tool name the provider's way
            parallel_tool_calls=self.parallel_tool_calls,
            settings=self.settings,
            limits=self.limits,
            needs_approval=lambda name: bool(
                (found := registry.get(name)) is not None and found.needs_approval
            ),
        )

    def _execute(self, loop: _Loop, effect: RunCalls) -> Any:
        self._notify(self.on_tool_start, effect.calls)
        try:
            results = self.registry.execute(effect.calls, context=self.context)
        except BaseException as error:
            loop.throw(error)  # closes the open calls in the history, then re-raises
            raise  # pragma: no cover - throw() re-raised already
        self._notify(self.on_tool_end, results)
        return results

    async def _execute_async(self, loop: _Loop, effect: RunCalls) -> Any:
        self._notify(self.on_tool_start, effect.calls)
        try:
            results = await self.registry.execute_async(effect.calls, context=self.context)
        except BaseException as error:
            loop.throw(error)
            raise  # pragma: no cover
        self._notify(self.on_tool_end, results)
        return results

    def _decide(self, effect: AwaitApproval) -> dict[str, Decision] | None:
        """The approve callback's decisions, or ``None`` to pause the run."""
        if self.approve is None:
            return None
        decisions: dict[str, Decision] = {}
        for call in _awaiting(effect):
            decision = self.approve(call)
            if inspect.isawaitable(decision):
                raise TypeError("an async approve callback needs run_async or astream")
            decisions[call.id] = decision
        return decisions

    async def _adecide(self, effect: AwaitApproval) -> dict[str, Decision] | None:
        if self.approve is None:
            return None
        decisions: dict[str, Decision] = {}
        for call in _awaiting(effect):
            decision = self.approve(call)
            decisions[call.id] = await decision if inspect.isawaitable(decision) else decision
        return decisions

    def _resumed(
        self,
        backend: SyncModel | AsyncModel,
        pending: PendingApproval,
        decisions: Mapping[str, Decision],
        history: list[Any] | None,
    ) -> _Loop:
        missing = [c.id for c in pending.calls if c.id not in decisions]
        if missing:
            raise ValueError(f"no decision for the waiting call(s) {', '.join(missing)}")
        messages = history if history is not None else list(pending.messages)
        paused = pending.restore(time.monotonic())
        config = self._settings(backend.format, self.tool_choice)
        return run_loop(messages, paused.first_new, config, resume=(paused, decisions))

    @staticmethod
    def _notify(hook: Callable[[Any], object] | None, value: Any) -> None:
        if hook is not None:
            hook(value)


def _awaiting(effect: AwaitApproval) -> list[ToolCall]:
    paused = effect.paused
    return [paused.reply.calls[i] for i in paused.awaiting]


class _DeltaEvents:
    """Turns a reply's stream fragments into events (each call announced once)."""

    def __init__(self) -> None:
        self._started: set[int] = set()

    def translate(self, delta: StreamDelta) -> Iterator[Event]:
        if delta.text:
            yield TextDelta(delta.text)
        index = delta.call_index
        if index is None:
            return
        if index not in self._started and delta.call_name:
            self._started.add(index)
            yield ToolCallStarted(index, delta.call_id, delta.call_name)
        if delta.arguments:
            yield ArgumentsDelta(index, delta.arguments)
