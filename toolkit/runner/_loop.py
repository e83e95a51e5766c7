"""The loop, written once as a sans-I/O generator; the drivers in ``_runner`` run it.

The generator yields effects (call the model, run these calls, ask for decisions, report
results) and receives their outcomes. It owns every decision: limits, stop reasons, the
``tool_choice`` reset, refused repeats, approvals, and closing the calls left open when
anything goes wrong. It knows no client, no event loop and no wire format: the codec keeps
the history (appending, finding and answering open calls) and writes result messages.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from toolkit import _feedback
from toolkit.calls import CallError, ErrorKind, ToolCall, ToolResult
from toolkit.formats import ConversationCodec
from toolkit.model import ModelReply, ModelRequest, Step, StopReason, ToolChoice
from toolkit.runner._history import HistoryPolicy
from toolkit.runner._limits import Limits
from toolkit.runner._output import OUTPUT_TOOL, Output
from toolkit.runner._state import (
    MALFORMED_CALLS,
    Approve,
    Decision,
    Paused,
    PendingApproval,
    Progress,
    RunResult,
    RunState,
    explain,
)

__all__ = [
    "Answered",
    "AwaitApproval",
    "CallModel",
    "Effect",
    "LoopSettings",
    "Offer",
    "RunCalls",
    "StepDone",
    "close_open_calls",
    "run_loop",
]


@dataclass(frozen=True, slots=True)
class CallModel:
    """Effect: send this request to the model; send back its ``ModelReply``."""

    request: ModelRequest


@dataclass(frozen=True, slots=True)
class RunCalls:
    """Effect: run these calls, each given ``timeout`` seconds when neither its tool nor
    the registry sets a timeout, and all ending within ``deadline`` seconds (``None``: no
    limit); send back one ``ToolResult`` per call, in order. ``output``: check these final
    answers with the output's own registry instead."""

    calls: tuple[ToolCall, ...]
    timeout: float | None
    deadline: float | None
    output: bool = False


@dataclass(frozen=True, slots=True)
class AwaitApproval:
    """Effect: these calls need a decision; send back one ``Decision`` per call, in order,
    or ``None`` to end the run paused (``stop_reason == "approval_required"``)."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class Answered:
    """Effect (informational): every result of a step, in call order, as the model will
    receive them (tools' results and the loop's own refusals alike); send back nothing."""

    results: tuple[ToolResult, ...]


@dataclass(frozen=True, slots=True)
class StepDone:
    """Effect (informational): a step finished; send back nothing."""

    step: Step


Effect = CallModel | RunCalls | AwaitApproval | Answered | StepDone


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopSettings:
    """Everything a run needs besides the conversation (built by the runner)."""

    model: str | None
    codec: ConversationCodec
    tools: Sequence[Mapping[str, Any]]
    system: str | None
    tool_choice: ToolChoice
    parallel_tool_calls: bool | None
    settings: Mapping[str, Any]
    limits: Limits
    needs_approval: Callable[[str], bool] = lambda name: False
    retry_budget: Callable[[str], int | None] = lambda name: None  # a tool's own max_retries
    request_timeout: float | None = None
    offer: Callable[[RunState], Offer] | None = None
    history_policy: HistoryPolicy | None = None
    context: Any = None
    output: Output | None = None
    output_tools: Sequence[Mapping[str, Any]] = ()  # the final_answer tool, in tool mode
    output_tool: Mapping[str, Any] | None = None  # the structure asked for, native mode
    clock: Callable[[], float] = time.monotonic


@dataclass(frozen=True, slots=True)
class Offer:
    """The tools of one request: their definitions, and the names calls may use."""

    definitions: Sequence[Mapping[str, Any]]
    names: tuple[str, ...]
    offered: Callable[[str], bool]


_Loop = Generator[Effect, Any, RunResult]

_TEXT: Any = object()  # a run's output is its text (no output type)

_RETRIED = frozenset({"invalid_json", "invalid_arguments", "retry"})
"""The failures a model is expected to correct by calling again (``Limits.max_retries``)."""

_ENDS: dict[str, StopReason] = {
    "refusal": "refusal",
    "content_filter": "content_filter",
    "length": "length",
}


def run_loop(
    history: list[Any],
    first_new: int,
    config: LoopSettings,
    *,
    resume: tuple[Paused, Sequence[Decision]] | None = None,
    rollback_to: int | None = None,
) -> _Loop:
    """Drive one user turn to its end (or to an approval pause).

    ``history`` is changed in place (so a conversation keeps what happened, even when a
    driver fails half-way); ``first_new`` is where this run's messages start in it.
    ``resume`` continues a paused step with one decision per awaiting call.

    A turn is never kept half-done. When a model request fails (the provider refused it, a
    request hook raised), ``history`` is cut back to ``rollback_to`` (its length before the
    turn) when given: what made the request fail (a huge result, a broken message) is
    most likely in this turn, and keeping it would make every later turn fail too. When
    anything else ends the generator (a tool interrupted, a hook of the calls raised, a
    consumer that stopped streaming), the calls left open are answered as interrupted and
    the turn is kept as far as it went, so the model learns what ran.
    """
    codec = config.codec
    known: dict[str, ToolResult] = {}  # results of the step in progress, by call id
    try:
        if resume is None:
            progress = Progress(started=config.clock(), tool_choice=config.tool_choice)
        else:
            paused, decisions = resume
            progress = paused.progress
            yield from _settle(history, config, progress, paused, decisions=decisions, known=known)
        return (
            yield from _steps(history, first_new, config, progress, known, rollback_to=rollback_to)
        )
    except BaseException:
        close_open_calls(history, codec, known)
        raise


def _steps(
    history: list[Any],
    first_new: int,
    config: LoopSettings,
    progress: Progress,
    known: dict[str, ToolResult],
    *,
    rollback_to: int | None,
) -> _Loop:
    codec, limits = config.codec, config.limits
    ending: StopReason | None = None
    while True:
        stop = ending or _limit_reached(config, progress)
        if stop is not None:
            return _result(history, first_new, progress, stop, limits=limits)
        step_started = config.clock()
        offer = None
        if config.offer is not None:
            state = RunState(
                messages=history,
                steps=tuple(progress.steps),
                usage=progress.usage,
                context=config.context,
            )
            offer = config.offer(state)
        policy = config.history_policy
        tools = config.tools if offer is None else offer.definitions
        if config.output_tools:
            tools = [*tools, *config.output_tools]
        request = ModelRequest(
            model=config.model,
            messages=list(history) if policy is None else policy.view(history, codec),
            system=config.system,
            tools=tools,
            output_tool=config.output_tool,
            tool_choice=progress.tool_choice,
            parallel_tool_calls=config.parallel_tool_calls,
            settings=config.settings,
            timeout=_request_timeout(config, progress),
        )
        try:
            reply: ModelReply = yield CallModel(request)
        except Exception as error:
            if _remaining(config, progress) == 0:
                return _result(history, first_new, progress, "deadline", limits=limits)
            if config.request_timeout is not None and _is_timeout(error):
                return _result(history, first_new, progress, "timeout", limits=limits)
            if rollback_to is not None:
                del history[rollback_to:]
            raise
        codec.append_messages(history, reply.message)
        progress.usage = progress.usage + reply.usage
        if reply.text:
            progress.text = reply.text  # what the model last said, kept past a calls-only reply
        calls = reply.calls

        if not calls:
            progress.steps.append(Step(reply=reply, duration=config.clock() - step_started))
            yield StepDone(progress.steps[-1])
            if reply.stop == "pause":
                continue  # Anthropic pause_turn: send the conversation back as it is
            if reply.stop == "malformed_call":
                # No call came, but the model meant one: it is told, and tries again within
                # the retry budget (as for a call with invalid arguments).
                progress.retries[MALFORMED_CALLS] = progress.retries.get(MALFORMED_CALLS, 0) + 1
                codec.append_messages(history, codec.user_message(_feedback.malformed_call()))
                continue
            end = _ENDS.get(reply.stop, "end")
            output = config.output
            if output is None or end != "end":
                return _result(history, first_new, progress, end, limits=limits)
            # A typed answer given as text (native mode), or text where a final_answer
            # call was expected: checked like the call's arguments.
            given = ToolCall(id=f"{OUTPUT_TOOL}_text", name=OUTPUT_TOOL, arguments=reply.text)
            [checked] = yield RunCalls((given,), None, None, output=True)
            if not checked.is_error:
                return _result(
                    history, first_new, progress, "end", limits=limits, output=checked.value
                )
            progress.retries[OUTPUT_TOOL] = progress.retries.get(OUTPUT_TOOL, 0) + 1
            problem = checked.content
            if output.native and checked.error is not None:
                if checked.error.kind == "invalid_json":
                    problem = "Your reply is not valid JSON."
                elif checked.error.kind == "invalid_arguments":
                    # The registry's wording speaks of a call; native mode has none.
                    problem = problem.replace(f"arguments for {OUTPUT_TOOL}", "reply")
                    lines = [line for line in problem.splitlines() if OUTPUT_TOOL not in line]
                    problem = "\n".join(lines)
            correction = _feedback.output_invalid(problem, OUTPUT_TOOL, native=output.native)
            codec.append_messages(history, codec.user_message(correction))
            continue

        if progress.tool_choice not in ("auto", "none"):
            progress.tool_choice = "auto"  # a forced choice was honoured: never force it twice

        results: list[ToolResult | None] = [None] * len(calls)
        to_run: list[int] = []
        for index, call in enumerate(calls):
            made = progress.calls_made + len(to_run)
            refusal = _refused(
                call, index, reply, limits=limits, calls_so_far=made, seen=progress.seen
            )
            answer_call = config.output is not None and config.output.is_call(call.name)
            if refusal is None and offer and not answer_call and not offer.offered(call.name):
                refusal = _feedback.not_offered(call.name, offer.names), None
            if refusal is None:
                to_run.append(index)
            else:
                message, reason = refusal
                results[index] = _error_result(call, message, "refused")
                known[call.id] = results[index]  # pyright: ignore[reportArgumentType]
                ending = ending or reason
        final: ToolResult | None = None
        answers = [i for i in to_run if config.output and config.output.is_call(calls[i].name)]
        if answers:
            first, *others = answers
            [checked] = yield RunCalls((calls[first],), None, None, output=True)
            to_run = [i for i in to_run if i not in answers]
            for index in others:
                results[index] = _error_result(calls[index], _feedback.output_once(), "refused")
            if checked.is_error:
                results[first] = checked
            else:
                final = checked
                results[first] = dataclasses.replace(checked, content="Final answer received.")
                for index in to_run:
                    message = _feedback.output_ended_run()
                    results[index] = _error_result(calls[index], message, "refused")
                to_run = []
            for index in answers:
                known[calls[index].id] = results[index]  # pyright: ignore[reportArgumentType]
        awaiting = [i for i in to_run if config.needs_approval(calls[i].name)]
        ready = [i for i in to_run if i not in awaiting]
        paused = Paused(
            reply=reply, results=results, awaiting=awaiting, progress=progress, first_new=first_new
        )
        yield from _run_calls(config, progress, calls, results=results, indices=ready, known=known)
        decisions: Sequence[Decision] = ()
        if awaiting:
            answer: Sequence[Decision] | None = yield AwaitApproval(
                tuple(calls[i] for i in awaiting)
            )
            if answer is None:
                pending = PendingApproval.of(codec.name, history, paused)
                known.clear()  # the pause keeps them; resuming writes them
                return _result(
                    history, first_new, progress, "approval_required", pending, limits=limits
                )
            decisions = answer
        yield from _settle(
            history,
            config,
            progress,
            paused,
            decisions=decisions,
            known=known,
            step_started=step_started,
        )
        if final is not None:
            return _result(history, first_new, progress, "end", limits=limits, output=final.value)


def _settle(
    history: list[Any],
    config: LoopSettings,
    progress: Progress,
    paused: Paused,
    *,
    decisions: Sequence[Decision],
    known: dict[str, ToolResult],
    step_started: float | None = None,
) -> Generator[Effect, Any, None]:
    """Apply the decisions on the awaiting calls, run the approved ones, answer every call
    in the history and record the step."""
    calls = list(paused.reply.calls)
    results = paused.results
    for result in results:
        if result is not None:
            known[result.call_id] = result
    approved: list[int] = []
    for index, decision in zip(paused.awaiting, decisions, strict=True):
        if isinstance(decision, Approve):
            if decision.arguments is not None:
                original = calls[index]
                calls[index] = ToolCall(
                    id=original.id, name=original.name, arguments=dict(decision.arguments)
                )
            approved.append(index)
        else:
            results[index] = _error_result(calls[index], decision.message, "vetoed")
            known[calls[index].id] = results[index]  # pyright: ignore[reportArgumentType]
    yield from _run_calls(config, progress, calls, results=results, indices=approved, known=known)
    policy = config.history_policy
    done = tuple(r if policy is None else policy.clip(r) for r in results if r is not None)
    for result in done:
        if result.error is not None and result.error.kind in _RETRIED:
            progress.retries[result.name] = progress.retries.get(result.name, 0) + 1
    yield Answered(done)
    config.codec.append_messages(history, config.codec.result_messages(done))
    known.clear()
    started = progress.started if step_started is None else step_started
    step = Step(reply=paused.reply, results=done, duration=config.clock() - started)
    progress.steps.append(step)
    yield StepDone(step)


def _run_calls(
    config: LoopSettings,
    progress: Progress,
    calls: Sequence[ToolCall],
    *,
    results: list[ToolResult | None],
    indices: list[int],
    known: dict[str, ToolResult],
) -> Generator[Effect, Any, None]:
    """Run ``calls[i]`` for each index, filling ``results``."""
    if not indices:
        return
    effect = RunCalls(
        tuple(calls[i] for i in indices),
        config.limits.tool_timeout,
        _remaining(config, progress),
    )
    ran: list[ToolResult] = yield effect
    for index, result in zip(indices, ran, strict=True):
        results[index] = result
        known[result.call_id] = result
    progress.calls_made += len(indices)


def _result(
    history: list[Any],
    first_new: int,
    progress: Progress,
    reason: StopReason,
    pending: PendingApproval | None = None,
    *,
    limits: Limits,
    output: Any = _TEXT,
) -> RunResult:
    if output is _TEXT:  # without an output type, the answer is the text
        output = progress.text if reason == "end" else None
    return RunResult(
        output=output,
        text=progress.text,
        messages=history,
        new_messages=history[first_new:],
        steps=progress.steps,
        usage=progress.usage,
        stop_reason=reason,
        pending=pending,
        explanation=explain(reason, limits, progress.exhausted),
    )


def _request_timeout(config: LoopSettings, progress: Progress) -> float | None:
    """Seconds the next request may take: its own timeout, within the run's deadline."""
    remaining = _remaining(config, progress)
    own = config.request_timeout
    if remaining is None or own is None:
        return own if remaining is None else remaining
    return min(own, remaining)


def _is_timeout(error: BaseException) -> bool:
    """Whether a request failed by running out of time: asyncio's cancellation at the
    timeout, or a client's own timeout error (``openai.APITimeoutError``,
    ``httpx.TimeoutException``...: read by name, so no SDK is imported)."""
    if isinstance(error, (TimeoutError, concurrent.futures.TimeoutError)):
        return True
    return any("Timeout" in kind.__name__ for kind in type(error).__mro__)


def _remaining(config: LoopSettings, progress: Progress) -> float | None:
    """Seconds left before the run's deadline (``0`` once passed; ``None``: no deadline)."""
    deadline = config.limits.deadline
    if deadline is None:
        return None
    return max(deadline - (config.clock() - progress.started), 0)


def _limit_reached(config: LoopSettings, progress: Progress) -> StopReason | None:
    limits = config.limits
    if progress.step_count >= limits.max_steps:
        return "max_steps"
    if _remaining(config, progress) == 0:
        return "deadline"
    if limits.token_budget is not None and progress.usage.total_tokens >= limits.token_budget:
        return "token_budget"
    for name, count in progress.retries.items():
        own = config.retry_budget(name)
        budget = limits.max_retries if own is None else own
        if count > budget:
            progress.exhausted = (name, budget)
            return "max_retries"
    return None


def _refused(
    call: ToolCall,
    index: int,
    reply: ModelReply,
    *,
    limits: Limits,
    calls_so_far: int,
    seen: dict[str, int],
) -> tuple[str, StopReason | None] | None:
    """Why ``call`` must not run (the model's message and whether the run ends), or None."""
    if reply.stop == "length":
        return _feedback.cut_off(), None
    if index >= limits.max_calls_per_reply:
        return _feedback.calls_per_reply_limit(limits.max_calls_per_reply), None
    if limits.max_tool_calls is not None and calls_so_far >= limits.max_tool_calls:
        return _feedback.call_limit(limits.max_tool_calls), "max_tool_calls"
    key = _fingerprint(call)
    seen[key] = count = seen.get(key, 0) + 1
    if count > limits.max_repeats:
        message = _feedback.repeated(call.name, limits.max_repeats)
        return message, "no_progress" if count > limits.max_repeats + 1 else None
    return None


def _fingerprint(call: ToolCall) -> str:
    """The call's tool and arguments in one short spelling, so that key order and spacing
    do not hide a repeat (and a huge argument costs no more than its hash to remember)."""
    arguments: object = call.arguments
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError, RecursionError):
            arguments = json.loads(arguments)
    try:
        text = json.dumps(arguments, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(call.arguments)[:10_000]
    return hashlib.sha256(f"{call.name}\0{text}".encode("utf-8", "replace")).hexdigest()[:32]


def _error_result(call: ToolCall, message: str, kind: ErrorKind) -> ToolResult:
    return ToolResult(
        call_id=call.id,
        name=call.name,
        value=None,
        content=message,
        is_error=True,
        error=CallError(kind=kind, message=message),
    )


def close_open_calls(
    history: list[Any], codec: ConversationCodec, known: Mapping[str, ToolResult] | None = None
) -> list[ToolCall]:
    """Answer the calls left open at the end of ``history`` and return them.

    A history saved between a reply and its results (a crash, a killed process, a hook that
    raised) would be rejected by every provider: each open call gets its result when one is
    ``known``, else an explicit "interrupted" one, so the conversation can go on.
    """
    open_calls = codec.unanswered_calls(history)
    if open_calls:
        found = known or {}
        answers = [
            found.get(call.id) or _error_result(call, _feedback.interrupted(), "cancelled")
            for call in open_calls
        ]
        codec.append_messages(history, codec.result_messages(answers))
    return open_calls
