"""``Runner``: two small drivers around the one loop in ``_loop``.

Each driver turns the loop's effects into I/O and yields the run's events: ``_drive`` with a
sync backend and ``Registry.execute``, ``_drive_async`` with an async backend and
``Registry.execute_async``. ``stream`` is a driver as it is; ``run`` is the same driver with
whole (not streamed) replies, consumed to its last event.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any, Generic, Literal, cast

import pydantic_core

from toolkit import _tracing
from toolkit.backends import model_for
from toolkit.calls import ToolCall, ToolResult
from toolkit.errors import StateError
from toolkit.formats import ConversationCodec
from toolkit.model import (
    AsyncModel,
    ModelReply,
    ModelRequest,
    StreamDelta,
    SyncModel,
    ToolChoice,
    check_settings,
)
from toolkit.registry import Registry
from toolkit.runner._events import (
    ArgumentsDelta,
    Event,
    PartialOutput,
    RunFinished,
    StepFinished,
    TextDelta,
    ToolCallComplete,
    ToolCallStarted,
    ToolResultEvent,
)
from toolkit.runner._history import HistoryPolicy
from toolkit.runner._limits import Limits
from toolkit.runner._loop import (
    Answered,
    AwaitApproval,
    CallModel,
    Effect,
    LoopSettings,
    Offer,
    RunCalls,
    close_open_calls,
    run_loop,
)
from toolkit.runner._output import Output, OutputMode, check_mode, output_for
from toolkit.runner._state import (
    Approve,
    Decision,
    Deny,
    OutputT,
    PendingApproval,
    RunResult,
    RunState,
    claim_in_process,
)
from toolkit.tool import Tool

if TYPE_CHECKING:
    from toolkit.runner._conversation import Conversation
    from toolkit.runner._store import ConversationStore
    from toolkit.tool_search import ToolSearch

__all__ = ["ApprovalPolicy", "Approver", "DecisionKey", "Decisions", "Prompt", "Runner"]

Prompt = str | Sequence[Mapping[str, Any]]
"""A user's text, or messages (native format) to start the run from."""

Approver = Callable[[ToolCall], "Decision | bool | Awaitable[Decision | bool]"]
"""``approve(call)``: ``Approve()`` / ``True`` to run it, ``Approve(arguments=...)`` to run it
with other arguments, ``Deny("why")`` / ``False`` to refuse it. May be async (``run_async``)."""

DecisionKey = str | ToolCall
"""A decision's key in ``resume``: the call itself (binding the decision to its id *and*
arguments) or the call's id."""

Decisions = (
    Mapping[str, "Decision | bool"]
    | Mapping[ToolCall, "Decision | bool"]
    | Mapping[DecisionKey, "Decision | bool"]
)
"""The decisions given to ``resume``: one per waiting call, keyed by call or by call id."""


ApprovalPolicy = Literal["marked", "destructive", "all"]
"""Which calls a ``Runner`` pauses for (see ``Runner``'s ``approval``)."""


def _retry_budget(registry: Registry, name: str) -> int | None:
    found = registry.get(name)
    return None if found is None else found.max_retries


def _needs_approval(registry: Registry, policy: ApprovalPolicy, name: str) -> bool:
    found = registry.get(name)
    if found is None:
        return False  # an unknown tool is answered with an error, never run
    if policy == "all" or found.needs_approval:
        return True
    hints = found.annotations
    return policy == "destructive" and hints is not None and hints.destructive is True


class Runner(Generic[OutputT]):
    """Runs tool conversations: send, execute the calls, send the results, until an answer.

    Args:
        client: An ``openai.OpenAI`` / ``AsyncOpenAI`` (Chat Completions, any ``base_url``),
            an ``anthropic.Anthropic`` / ``AsyncAnthropic``, or any backend implementing
            ``toolkit.model.SyncModel`` / ``AsyncModel`` (``OpenAIResponses``, ``WorkersAI``,
            the models of ``toolkit.testing``...).
        model: The model name sent with every request (required by the backends of hosted
            APIs; the offline models of ``toolkit.testing`` need none).
        tools: A ``Registry``, or a tool, or tools and plain functions to put in a new one.
        system: The system prompt.
        tool_choice: ``"auto"``, ``"none"``, ``"required"`` or a tool name. A forced choice
            applies to the first request only; after the model honoured it the run goes on
            with ``"auto"`` (a forced choice kept forever loops forever).
        parallel_tool_calls: Allow several calls per reply (``None``: provider default).
        strict: Render tool definitions in strict mode (``None``: each tool's own setting).
        limits: When a run stops or refuses calls (``Limits()``: the defaults).
        settings: Model settings for every request: the neutral ones of
            ``toolkit.ModelSettings`` (``max_tokens``, ``temperature``, ``top_p``, ``stop``,
            ``seed``, ``timeout``), which each backend writes in its protocol's spelling, and
            any provider-specific ones, passed through as they are.
        context: Passed to tools that take a ``Context`` (as ``Context.deps``).
        approve: Decides inline on calls that need approval (see ``Approver``); without
            it such calls pause the run (see ``resume``).
        approval: Which calls need approval: ``"marked"`` (default), those of tools marked
            ``needs_approval``; ``"destructive"``, those too and the calls of tools whose
            annotations say ``destructive=True``; ``"all"``, every call.
        on_request: Called with each ``ModelRequest`` before it is sent (logging, tracing).
        on_reply: Called with each ``ModelReply``.
        on_tool_start: Called with the calls about to run.
        on_tool_end: Called with every result of a step the model receives, in call order
            (tools' results and the runner's own refusals and denials alike).
        select_tools: Chooses the tools of each request: called with the run's
            ``RunState`` before every request, it returns registered tools or their names
            (hide a tool once it succeeded, offer tools by the user's permissions...). A
            call of a tool not offered in that request is refused. The same choice sends
            the same definitions, byte for byte, so providers' prompt caches keep hitting.
        tool_search: A ``ToolSearch`` (or ``True`` for one over ``tools``): the model is
            offered a search tool and the tools it finds, instead of the whole catalog
            (the search tool is added to the registry).
        history_policy: What of a long conversation each request carries, and how long
            tool results are clipped (``HistoryPolicy``); ``None``: everything.
        output_type: The type of the answer (a pydantic model, a dataclass, ``list[int]``,
            any type pydantic validates): ``result.output`` is the model's final answer,
            validated as one. An answer that fails is sent back with its problems, and the
            model tries again within ``Limits.max_retries``. ``str`` (default): the text.
        output_mode: How the typed answer is asked for: ``"tool"``, a ``final_answer``
            tool the model calls to end the run (every protocol, tools alongside);
            ``"native"``, the protocol's structured output (OpenAI ``response_format`` or
            ``text.format``, Anthropic ``output_config``, Gemini ``responseSchema``, Workers
            AI ``response_format``); ``"auto"`` (default), native where the backend is
            known to keep calling tools with it (OpenAI's own API, Responses, Anthropic),
            the tool elsewhere (OpenAI-compatible servers such as llama.cpp stop calling
            tools when a format is set).

    Raises:
        TypeError: ``client`` is not a client or backend toolkit knows, or a hosted API's
            client comes without ``model``, or a neutral setting has the wrong type.
        ValueError: a neutral setting is out of range, or the backend's protocol has no
            equivalent for it.
    """

    def __init__(
        self,
        client: Any,
        *,
        model: str | None = None,
        tools: Registry | Tool[..., Any] | Iterable[Tool[..., Any] | Callable[..., Any]] = (),
        system: str | None = None,
        tool_choice: ToolChoice = "auto",
        parallel_tool_calls: bool | None = None,
        strict: bool | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
        context: Any = None,
        approve: Approver | None = None,
        approval: ApprovalPolicy = "marked",
        on_request: Callable[[ModelRequest], object] | None = None,
        on_reply: Callable[[ModelReply], object] | None = None,
        on_tool_start: Callable[[tuple[ToolCall, ...]], object] | None = None,
        on_tool_end: Callable[[list[ToolResult]], object] | None = None,
        select_tools: Callable[[RunState], Iterable[str | Tool[..., Any]]] | None = None,
        tool_search: ToolSearch | bool = False,
        history_policy: HistoryPolicy | None = None,
        output_type: type[OutputT] = str,
        output_mode: OutputMode = "auto",
    ) -> None:
        self.backend: SyncModel | AsyncModel = model_for(client, model)
        self.model = model
        self.registry = tools if isinstance(tools, Registry) else Registry(tools)
        self.system = system
        self.tool_choice: ToolChoice = tool_choice
        self.parallel_tool_calls = parallel_tool_calls
        self.strict = strict
        self.limits = limits if limits is not None else Limits()
        self.settings = check_settings(settings or {})
        _request_settings(self.codec, self.settings)  # refused now, not at the first request
        self.context = context
        if approval not in ("marked", "destructive", "all"):
            raise ValueError(f"approval must be 'marked', 'destructive' or 'all', got {approval!r}")
        self.approve = approve
        self.approval: ApprovalPolicy = approval
        self.on_request = on_request
        self.on_reply = on_reply
        self.on_tool_start = on_tool_start
        self.on_tool_end = on_tool_end
        self.history_policy = history_policy
        self._native_tools: list[dict[str, Any]] | None = None  # the provider searches them
        if tool_search is not False:
            if select_tools is not None:
                raise ValueError("pass select_tools or tool_search, not both")
            select_tools = self._search(tool_search)
        self.select_tools = select_tools
        self._offers: dict[tuple[Tool[..., Any], ...], Offer] = {}
        self.output_type = output_type
        self._output: Output | None = None
        if output_type is not str:
            native = bool(getattr(self.backend, "native_output", False))
            self._output = output_for(output_type, output_mode, native)
        else:
            check_mode(output_mode)

    def __repr__(self) -> str:
        return f"<Runner {self.backend!r} model={self.model!r} tools={len(self.registry)}>"

    @property
    def codec(self) -> ConversationCodec:
        """The protocol of the backend (and so of every history this runner keeps)."""
        return self.backend.codec

    # -- public API -----------------------------------------------------------------------------

    def run(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> RunResult[OutputT]:
        """Run one user turn to its end with a sync backend.

        Args:
            prompt: The user's text, or messages (native format) to start from.
            history: Earlier messages; the run appends to this very list. When a model
                request fails (the provider refused it, a request hook raised), the run
                raises and leaves the list as it was before the run: a turn that cannot be
                sent is not kept to fail every later turn too.
            tool_choice: This run's ``tool_choice`` instead of the runner's.
            limits: This run's limits instead of the runner's.
            settings: Request settings for this run, over the runner's.
        """
        backend = self._sync("run")
        loop = self._loop(prompt, history, tool_choice, limits, settings)
        return _finished(self._drive(backend, loop, streaming=False))

    async def run_async(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> RunResult[OutputT]:
        """Run one user turn to its end with an async backend (see ``run``)."""
        backend = self._async("run_async")
        loop = self._loop(prompt, history, tool_choice, limits, settings)
        return await _finished_async(self._drive_async(backend, loop, streaming=False))

    def stream(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Iterator[Event]:
        """Run one user turn with a sync backend, yielding events as they happen.

        Tools still run while streaming; the last event is ``RunFinished``. Closing the
        iterator early stops the run and answers its open calls as interrupted.
        """
        backend = self._sync("stream")
        loop = self._loop(prompt, history, tool_choice, limits, settings)
        return self._drive(backend, loop, streaming=True)

    def stream_async(
        self,
        prompt: Prompt,
        *,
        history: list[Any] | None = None,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[Event]:
        """Run one user turn with an async backend, yielding events (see ``stream``)."""
        backend = self._async("stream_async")
        loop = self._loop(prompt, history, tool_choice, limits, settings)
        return self._drive_async(backend, loop, streaming=True)

    def resume(
        self,
        pending: PendingApproval | str,
        decisions: Decisions,
        *,
        history: list[Any] | None = None,
        store: ConversationStore | None = None,
    ) -> RunResult[OutputT]:
        """Continue a run paused for approval (sync backend).

        Args:
            pending: ``result.pending`` of the paused run, or its ``to_json()``.
            decisions: A decision for every call in ``pending.calls``, keyed by the call
                (binds it to the call's id and arguments) or by its id.
            history: The list to continue in (a conversation's); by default a copy of the
                pending messages.
            store: Where the pause is marked as resumed (``store.claim``); without one, it
                is marked in this process.

        Raises:
            StateError: the pause was already resumed, or ``pending`` is not a valid pause
                of this runner's protocol.
            ValueError: a waiting call has no decision, or one keyed by a call whose
                arguments differ from the waiting call's.
            TypeError: a decision is not ``Approve``, ``Deny`` or a bool.
        """
        backend = self._sync("resume")
        pause, ordered, config = self._pause(pending, decisions)
        claimed = store.claim(pause.id) if store is not None else claim_in_process(pause.id)
        loop = self._resumed(pause, ordered, config, history, claimed=claimed)
        return _finished(self._drive(backend, loop, streaming=False))

    async def resume_async(
        self,
        pending: PendingApproval | str,
        decisions: Decisions,
        *,
        history: list[Any] | None = None,
        store: ConversationStore | None = None,
    ) -> RunResult[OutputT]:
        """Continue a run paused for approval (async backend; see ``resume``). The store's
        claim runs in a worker thread (a database round trip), not on the event loop."""
        backend = self._async("resume_async")
        pause, ordered, config = self._pause(pending, decisions)
        if store is not None:
            claimed = await asyncio.to_thread(store.claim, pause.id)
        else:
            claimed = claim_in_process(pause.id)
        loop = self._resumed(pause, ordered, config, history, claimed=claimed)
        return await _finished_async(self._drive_async(backend, loop, streaming=False))

    def conversation(self, messages: Iterable[Any] = ()) -> Conversation[OutputT]:
        """A multi-turn conversation that keeps its history between sends."""
        from toolkit.runner._conversation import Conversation  # noqa: PLC0415 - cycle

        return Conversation(self, messages)

    # -- the two drivers --------------------------------------------------------------------------

    def _drive(
        self, backend: SyncModel, loop: Generator[Effect, Any, RunResult], *, streaming: bool
    ) -> Generator[Event, None, None]:
        """Run ``loop`` with a sync backend, yielding its events; the last is
        ``RunFinished``. An error in a step (a backend's, a hook's) goes into the loop,
        which closes the open calls and raises it (or ends the run, past its deadline)."""
        outcome: Any = None
        error: BaseException | None = None
        with _tracing.agent_run(self.codec.name, self.model) as run:
            while True:
                try:
                    effect = loop.send(outcome) if error is None else loop.throw(error)
                except StopIteration as stop:
                    run.finish(stop.value)
                    yield RunFinished(stop.value)
                    return
                outcome, error = None, None
                try:
                    outcome = yield from self._step(backend, effect, run, streaming=streaming)
                except GeneratorExit:
                    loop.close()  # the consumer stopped: the loop answers its open calls
                    raise
                except BaseException as exc:
                    error = exc

    def _step(
        self, backend: SyncModel, effect: Effect, run: _tracing.AgentRun, *, streaming: bool
    ) -> Generator[Event, None, Any]:
        """One effect of the loop with a sync backend: its events, then its outcome."""
        outcome: Any = None
        if isinstance(effect, CallModel):
            self._notify(self.on_request, effect.request)
            with _tracing.chat(run, effect.request, self.codec.name) as chat:
                if streaming:
                    calls = _CallEvents(self._output)
                    for item in _within_sync(backend.stream(effect.request), effect.request):
                        if isinstance(item, ModelReply):
                            outcome = item
                        else:
                            yield from calls.translate(item)
                    yield from calls.finish(outcome)
                else:
                    outcome = backend.complete(effect.request)
                self._replied(outcome)
                chat.done(outcome)
            yield from (ToolCallComplete(call) for call in outcome.calls)
        elif isinstance(effect, RunCalls):
            registry = self._registry_for(effect)
            with _tracing.agent_context(run):
                outcome = registry.execute(
                    effect.calls,
                    context=self.context,
                    default_timeout=effect.timeout,
                    deadline=effect.deadline,
                )
        elif isinstance(effect, AwaitApproval):
            outcome = self._decisions(effect, asynchronous=False)
        elif isinstance(effect, Answered):
            self._notify(self.on_tool_end, list(effect.results))
            yield from (ToolResultEvent(result) for result in effect.results)
        else:
            yield StepFinished(effect.step)
        return outcome

    async def _drive_async(
        self, backend: AsyncModel, loop: Generator[Effect, Any, RunResult], *, streaming: bool
    ) -> AsyncGenerator[Event, None]:
        """The async twin of ``_drive``; a request is cancelled at the run's deadline."""
        outcome: Any = None
        error: BaseException | None = None
        with _tracing.agent_run(self.codec.name, self.model) as run:
            while True:
                try:
                    effect = loop.send(outcome) if error is None else loop.throw(error)
                except StopIteration as stop:
                    run.finish(stop.value)
                    yield RunFinished(stop.value)
                    return
                outcome, error = None, None
                try:
                    if isinstance(effect, CallModel):
                        self._notify(self.on_request, effect.request)
                        request, timeout = effect.request, effect.request.timeout
                        with _tracing.chat(run, request, self.codec.name) as chat:
                            if streaming:
                                calls = _CallEvents(self._output)
                                async for item in _within(backend.stream_async(request), timeout):
                                    if isinstance(item, ModelReply):
                                        outcome = item
                                    else:
                                        for event in calls.translate(item):
                                            yield event
                                for event in calls.finish(outcome):
                                    yield event
                            else:
                                reply = backend.complete_async(request)
                                outcome = await asyncio.wait_for(reply, timeout)
                            self._replied(outcome)
                            chat.done(outcome)
                        for call in outcome.calls:
                            yield ToolCallComplete(call)
                    elif isinstance(effect, RunCalls):
                        registry = self._registry_for(effect)
                        with _tracing.agent_context(run):
                            outcome = await registry.execute_async(
                                effect.calls,
                                context=self.context,
                                default_timeout=effect.timeout,
                                deadline=effect.deadline,
                            )
                    elif isinstance(effect, AwaitApproval):
                        outcome = self._decisions(effect, asynchronous=True)
                        if inspect.isawaitable(outcome):
                            outcome = await outcome
                    elif isinstance(effect, Answered):
                        self._notify(self.on_tool_end, list(effect.results))
                        for result in effect.results:
                            yield ToolResultEvent(result)
                    else:
                        yield StepFinished(effect.step)
                except GeneratorExit:
                    loop.close()
                    raise
                except BaseException as exc:
                    error = exc

    # -- shared steps -----------------------------------------------------------------------------

    def _sync(self, method: str) -> SyncModel:
        if not isinstance(self.backend, SyncModel):
            raise TypeError(
                f"Runner.{method} needs a sync client or backend (openai.OpenAI, "
                f"anthropic.Anthropic...); got {self.backend!r}: use {method}_async"
            )
        return self.backend

    def _async(self, method: str) -> AsyncModel:
        if not isinstance(self.backend, AsyncModel):
            raise TypeError(
                f"Runner.{method} needs an async client or backend (openai.AsyncOpenAI, "
                f"anthropic.AsyncAnthropic...); got {self.backend!r}: use "
                f"{method.removesuffix('_async')}"
            )
        return self.backend

    def _loop(
        self,
        prompt: Prompt,
        history: list[Any] | None,
        tool_choice: ToolChoice | None,
        limits: Limits | None,
        settings: Mapping[str, Any] | None,
    ) -> Generator[Effect, Any, RunResult]:
        # Everything that can be refused is checked before the history is touched.
        config = self._settings(tool_choice, limits, settings)
        messages = history if history is not None else []
        if not isinstance(prompt, str):
            prompt = list(prompt)
            if not all(isinstance(m, Mapping) for m in cast("list[object]", prompt)):
                raise TypeError("prompt must be a text or a list of messages (dicts)")
        close_open_calls(messages, config.codec)  # a history saved mid-step
        first_new = len(messages)
        if isinstance(prompt, str):
            config.codec.append_messages(messages, config.codec.user_message(prompt))
        else:
            config.codec.append_messages(messages, [dict(m) for m in prompt])
        return run_loop(messages, first_new, config, rollback_to=first_new)

    def _settings(
        self,
        tool_choice: ToolChoice | None,
        limits: Limits | None,
        settings: Mapping[str, Any] | None,
    ) -> LoopSettings:
        choice = self.tool_choice if tool_choice is None else tool_choice
        if choice not in ("auto", "none", "required") and choice not in self.registry:
            raise ValueError(
                f"tool_choice names {choice!r}, which is not a registered tool; "
                f"registered: {', '.join(self.registry.names[:20]) or 'none'}"
            )
        registry, codec = self.registry, self.codec
        output = self._output
        output_definition = None if output is None else output.definition(codec, self.strict)
        native = output is not None and output.native
        merged = {**self.settings, **check_settings(settings or {})}
        request_settings, timeout = _request_settings(codec, merged)
        return LoopSettings(
            model=self.model,
            codec=codec,
            tools=self._native_tools
            if self._native_tools is not None
            else registry.definitions(codec.name, strict=self.strict),
            system=self.system,
            tool_choice=choice,  # the codec spells a tool name the provider's way
            parallel_tool_calls=self.parallel_tool_calls,
            settings=request_settings,
            request_timeout=timeout,
            offer=None if self.select_tools is None else self._offer,
            history_policy=self.history_policy,
            context=self.context,
            output=output,
            output_tools=() if output_definition is None or native else [output_definition],
            output_tool=output_definition if native else None,
            limits=self.limits if limits is None else limits,
            needs_approval=functools.partial(_needs_approval, registry, self.approval),
            retry_budget=functools.partial(_retry_budget, registry),
        )

    def _pause(
        self, pending: PendingApproval | str, decisions: Decisions
    ) -> tuple[PendingApproval, list[Decision], LoopSettings]:
        """The pause, its decisions in order and the run's settings, all checked before the
        pause is claimed: a mistake here leaves it to resume."""
        if isinstance(pending, str):
            pending = PendingApproval.from_json(pending)
        if pending.format != self.codec.name:
            raise StateError(
                f"this pending approval is in the {pending.format!r} format; the runner "
                f"speaks {self.codec.name!r}"
            )
        ordered = [_decision_for(call, decisions) for call in pending.calls]
        return pending, ordered, self._settings(None, None, None)

    def _resumed(
        self,
        pending: PendingApproval,
        ordered: list[Decision],
        config: LoopSettings,
        history: list[Any] | None,
        *,
        claimed: bool,
    ) -> Generator[Effect, Any, RunResult]:
        if not claimed:
            raise StateError(f"this pause ({pending.id}) was already resumed")
        messages = history if history is not None else list(pending.messages)
        paused = pending.restore(time.monotonic())
        return run_loop(messages, paused.first_new, config, resume=(paused, ordered))

    def _registry_for(self, effect: RunCalls) -> Registry:
        """Where ``effect``'s calls run: the tools' registry (after ``on_tool_start``), or
        the typed output's own, which checks final answers."""
        if effect.output and self._output is not None:
            return self._output.registry
        self._notify(self.on_tool_start, effect.calls)
        return self.registry

    def _search(self, search: ToolSearch | bool) -> ToolSearch | None:
        from toolkit.tool_search import ToolSearch  # noqa: PLC0415 - only runners that search

        if search is True:
            search = ToolSearch(self.registry)
        if not isinstance(search, ToolSearch):
            raise TypeError(f"tool_search must be a ToolSearch or True, got {search!r}")
        if search.native:
            definitions = self.registry.definitions(self.codec.name, strict=self.strict)
            self._native_tools = self.codec.native_tool_search(definitions, search.always)
            if self._native_tools is not None:
                return None
        present = self.registry.get(search.name)
        if present is None:
            self.registry.add(search.tool)
        elif present is not search.tool:
            raise ValueError(f"tool_search: the registry already has a tool {search.name!r}")
        return search

    def _offer(self, state: RunState) -> Offer:
        """The tools ``select_tools`` chose for the next request, rendered once per choice
        (so that the same choice sends the same bytes)."""
        assert self.select_tools is not None
        chosen: list[Tool[..., Any]] = []
        for item in self.select_tools(state):
            name = item.name if isinstance(item, Tool) else item
            found = self.registry.get(name) if isinstance(cast("object", name), str) else None
            if found is None or (isinstance(item, Tool) and found is not item):
                raise ValueError(
                    f"select_tools returned {item!r}, which is not a tool of the runner's registry"
                )
            if found not in chosen:
                chosen.append(found)
        # Keyed by the tools themselves: a tool replaced under the same name (an MCP
        # server's new listing) is rendered again.
        key = tuple(chosen)
        offer = self._offers.get(key)
        if offer is None:
            registry = self.registry
            tools = list(key)
            allowed = frozenset(tool.name for tool in key)

            def offered(name: str) -> bool:
                found = registry.get(name)
                return found is not None and found.name in allowed

            definitions = self.codec.render_tools(tools, strict=self.strict)
            offer = Offer(definitions, tuple(tool.name for tool in key), offered)
            if len(self._offers) >= _OFFERS_KEPT:
                self._offers.pop(next(iter(self._offers)))
            self._offers[key] = offer
        return offer

    def _replied(self, reply: Any) -> None:
        if not isinstance(reply, ModelReply):
            raise TypeError(f"the backend returned {reply!r}, not a ModelReply")
        self._notify(self.on_reply, reply)

    def _decisions(self, effect: AwaitApproval, *, asynchronous: bool) -> Any:
        """The approve callback's decisions (one per waiting call, in order), ``None`` to
        pause the run, or (async) an awaitable of them."""
        approve = self.approve
        if approve is None:
            return None
        answers = [approve(call) for call in effect.calls]
        if any(inspect.isawaitable(answer) for answer in answers):
            if not asynchronous:
                for answer in answers:
                    if inspect.iscoroutine(answer):
                        answer.close()
                raise TypeError("an async approve callback needs run_async or stream_async")
            return _gathered(answers)
        return [_decision(answer, "approve") for answer in answers]

    @staticmethod
    def _notify(hook: Callable[[Any], object] | None, value: Any) -> None:
        if hook is not None:
            hook(value)


_OFFERS_KEPT = 256  # distinct tool choices rendered and kept per runner


def _request_settings(
    codec: ConversationCodec, settings: dict[str, Any]
) -> tuple[dict[str, Any], float | None]:
    """The settings a request carries, and the ``timeout`` one (the loop's, not the
    request body's). The codec translates them here once, so that a setting its protocol
    has no equivalent for is refused before anything is sent."""
    timeout = settings.get("timeout")
    rest = {key: value for key, value in settings.items() if key != "timeout"}
    codec.translate_settings(rest)
    return rest, timeout


def _decision(answer: object, source: str) -> Decision:
    """An approval answer as a ``Decision``: ``True``/``False`` mean approve/deny; anything
    else is a mistake, never a silent denial."""
    if answer is True:
        return Approve()
    if answer is False:
        return Deny()
    if isinstance(answer, (Approve, Deny)):
        return answer
    raise TypeError(
        f"the {source} decision must be Approve(...), Deny(...), True or False; got {answer!r}"
    )


async def _gathered(answers: list[Any]) -> list[Decision]:
    return [
        _decision(await answer if inspect.isawaitable(answer) else answer, "approve")
        for answer in answers
    ]


def _decision_for(call: ToolCall, decisions: Decisions) -> Decision:
    """The decision given for ``call``: by the call itself, else by its id. A decision keyed
    by a call with this id but other arguments does not apply to it."""
    given = cast("Mapping[DecisionKey, Decision | bool]", decisions)
    if call in given:
        return _decision(given[call], f"decision for call {call.id!r}")
    if call.id in given:
        return _decision(given[call.id], f"decision for call {call.id!r}")
    if any(isinstance(key, ToolCall) and key.id == call.id for key in given):
        raise ValueError(
            f"the decision for call {call.id!r} was given for other arguments than the ones "
            "waiting; decide again on the waiting call"
        )
    raise ValueError(f"no decision for the waiting call {call.id!r} ({call.name})")


def _finished(events: Generator[Event, None, None]) -> RunResult[Any]:
    """The result a driver ends with (the driver is closed, not left to the collector)."""
    with contextlib.closing(events):
        for event in events:
            if isinstance(event, RunFinished):
                return event.result
    raise AssertionError("a run ended without RunFinished")  # pragma: no cover


async def _finished_async(events: AsyncGenerator[Event, None]) -> RunResult[Any]:
    """The async twin of ``_finished``: an async generator left open would be closed by
    the event loop's collector, outside this run, with a warning."""
    async with contextlib.aclosing(events):
        async for event in events:
            if isinstance(event, RunFinished):
                return event.result
    raise AssertionError("a run ended without RunFinished")  # pragma: no cover


def _within_sync(
    items: Iterator[StreamDelta | ModelReply], request: ModelRequest
) -> Iterator[StreamDelta | ModelReply]:
    """``items`` until ``request.timeout`` seconds have passed, then ``TimeoutError`` (the
    stream is closed, which closes its HTTP response). A sync client's own timeout only
    bounds the wait for each chunk; a model that keeps sending would never reach it."""
    timeout = request.timeout
    if timeout is None:
        yield from items
        return
    end = time.monotonic() + timeout
    try:
        for item in items:
            if time.monotonic() > end:
                raise TimeoutError(f"the model request took more than {timeout:g} s")
            yield item
    finally:
        close = getattr(items, "close", None)
        if callable(close):
            close()


async def _within(
    items: AsyncIterator[StreamDelta | ModelReply], timeout: float | None
) -> AsyncIterator[StreamDelta | ModelReply]:
    """``items``, each awaited within what remains of ``timeout`` seconds."""
    if timeout is None:
        async for item in items:
            yield item
        return
    end = time.monotonic() + timeout
    iterator = items.__aiter__()
    try:
        while True:
            try:
                item = await asyncio.wait_for(iterator.__anext__(), max(end - time.monotonic(), 0))
            except StopAsyncIteration:
                return
            yield item
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


class _PartialAnswer:
    """The typed answer's JSON as it streams, parsed now and then into ``PartialOutput``.

    Parsing again after every fragment would cost quadratic time in the answer's length:
    it is parsed once it has grown by an eighth (at least 64 characters) since the last
    parse, which keeps the total linear."""

    def __init__(self, index: int | None = None) -> None:
        self.index = index  # the final_answer call's index in the reply (tool mode)
        self._parts: list[str] = []
        self._size = 0
        self._parsed_at = 0
        self._last: Any = None

    def add(self, fragment: str) -> Iterator[Event]:
        self._parts.append(fragment)
        self._size += len(fragment)
        if self._size - self._parsed_at < max(64, self._parsed_at // 8):
            return
        self._parsed_at = self._size
        text = "".join(self._parts)
        self._parts = [text]
        try:
            parsed = pydantic_core.from_json(text, allow_partial=True)
        except ValueError:
            return
        if isinstance(parsed, dict) and "answer" in parsed:
            answer = cast("dict[str, Any]", parsed)["answer"]
            if answer != self._last:
                self._last = answer
                yield PartialOutput(answer)


class _CallEvents:
    """Turns a reply's stream fragments into events, each carrying the call's id.

    A call whose id is not known yet (a server that sends it late, or never) is held back
    until it is; at the end of the reply every call held back is announced with the id the
    reply gave it."""

    def __init__(self, output: Output | None = None) -> None:
        self._ids: dict[int, str] = {}
        self._names: dict[int, str] = {}
        self._held: dict[int, list[str]] = {}
        self._announced: set[int] = set()
        self._output = output
        self._answer: _PartialAnswer | None = None  # the JSON of the typed answer so far
        if output is not None and output.native:
            self._answer = _PartialAnswer()

    def translate(self, delta: StreamDelta) -> Iterator[Event]:
        if delta.text:
            yield TextDelta(delta.text)
            if self._answer is not None and self._output is not None and self._output.native:
                yield from self._answer.add(delta.text)
        index = delta.call_index
        if index is None:
            return
        output = self._output
        if (
            output is not None
            and delta.call_name
            and self._answer is None
            and output.is_call(delta.call_name)
        ):
            self._answer = _PartialAnswer(index)
        if delta.arguments and self._answer is not None and self._answer.index == index:
            yield from self._answer.add(delta.arguments)
        if delta.call_id and index not in self._ids:
            self._ids[index] = delta.call_id
        if delta.call_name and index not in self._names:
            self._names[index] = delta.call_name
        if index not in self._announced and index in self._ids and index in self._names:
            self._announced.add(index)
            call_id = self._ids[index]
            yield ToolCallStarted(call_id, self._names[index])
            for fragment in self._held.pop(index, ()):
                yield ArgumentsDelta(call_id, fragment)
        if delta.arguments:
            if index in self._announced:
                yield ArgumentsDelta(self._ids[index], delta.arguments)
            else:
                self._held.setdefault(index, []).append(delta.arguments)

    def finish(self, reply: Any) -> Iterator[Event]:
        """Announce the calls still held back, with the ids the whole reply gave them."""
        if not isinstance(reply, ModelReply):
            return
        for index, call in enumerate(reply.calls):
            if index in self._announced:
                continue
            yield ToolCallStarted(call.id, call.name)
            held = self._held.pop(index, None)
            if held:
                yield ArgumentsDelta(call.id, "".join(held))
