"""The loop, written once as a sans-I/O generator; the drivers in ``_runner`` run it.

The generator yields effects (call the model, run these calls) and receives their
outcomes; it owns every decision (limits, stop reasons, tool_choice reset, repeated calls,
closing open calls on failure) and knows no client, no event loop and no wire format: the
codec writes result messages, the backend builds native messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from toolkit.calls import CallError, ToolCall, ToolResult
from toolkit.formats import Codec
from toolkit.model import ModelReply, ModelRequest, Step, StopReason, ToolChoice, Usage
from toolkit.runner._approval import Approve, Decision, Deny, PendingApproval

__all__ = [
    "AwaitApproval",
    "CallModel",
    "Limits",
    "Paused",
    "RunCalls",
    "RunResult",
    "StepDone",
    "append_messages",
    "close_open_calls",
    "run_loop",
]


@dataclass(frozen=True, slots=True)
class CallModel:
    """Effect: send this request to the model; send back its ``ModelReply``."""

    request: ModelRequest


@dataclass(frozen=True, slots=True)
class RunCalls:
    """Effect: run these calls; send back one ``ToolResult`` per call, in order."""

    calls: tuple[ToolCall, ...]


@dataclass(frozen=True, slots=True)
class StepDone:
    """Effect (informational): a step finished; send back nothing."""

    step: Step


@dataclass(frozen=True, slots=True)
class AwaitApproval:
    """Effect: these calls need a decision; send back ``{call_id: Decision}``, or ``None``
    to end the run paused (``stop_reason == "approval_required"``)."""

    paused: Paused


Effect = CallModel | RunCalls | StepDone | AwaitApproval


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """When a run must stop even though the model would go on.

    Attributes:
        max_steps: Model requests in one run (never unlimited).
        max_tool_calls: Tool calls in one run, or ``None``.
        deadline: Seconds from the start of the run, or ``None``.
        token_budget: Input plus output tokens in one run, or ``None``.
        max_repeats: How often the same tool may be called with the same arguments; the
            next repeat is refused with a message to the model, and one more ends the run.
    """

    max_steps: int = 10
    max_tool_calls: int | None = None
    deadline: float | None = None
    token_budget: int | None = None
    max_repeats: int = 3

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {self.max_steps}")


@dataclass(slots=True, kw_only=True)
class RunResult:
    """What a run produced.

    Attributes:
        text: The model's final text (of its last reply).
        messages: The whole conversation, in the provider's native format.
        new_messages: The messages this run added (the user turn included).
        steps: Each model reply with the results of its calls.
        usage: Tokens over all requests of the run.
        stop_reason: Why the run ended (``"end"``: the model answered).
        paused: The paused step, when calls wait for approval (see ``pending``).
    """

    text: str
    messages: list[Any]
    new_messages: list[Any]
    steps: list[Step] = field(default_factory=list[Step])
    usage: Usage = field(default_factory=Usage)
    stop_reason: StopReason = "end"
    paused: Paused | None = None

    @property
    def pending(self) -> PendingApproval | None:
        """The calls waiting for a decision when ``stop_reason == "approval_required"``."""
        return None if self.paused is None else PendingApproval.of(self.messages, self.paused)

    @property
    def tool_results(self) -> list[ToolResult]:
        """Every tool result of the run, in order."""
        return [result for step in self.steps for result in step.results]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopSettings:
    """Everything a run needs besides the conversation (built by the runner)."""

    model: str
    codec: Codec
    tools: Sequence[Mapping[str, Any]]
    system: str | None
    tool_choice: ToolChoice
    parallel_tool_calls: bool | None
    settings: Mapping[str, Any]
    limits: Limits
    needs_approval: Callable[[str], bool] = lambda name: False
    clock: Callable[[], float] = time.monotonic


@dataclass(slots=True)
class Progress:
    """What a run has done so far (kept across an approval pause)."""

    started: float
    steps: list[Step] = field(default_factory=list[Step])
    usage: Usage = field(default_factory=Usage)
    tool_choice: ToolChoice = "auto"
    calls_made: int = 0
    seen: dict[str, int] = field(default_factory=dict[str, int])
    text: str = ""
    earlier_steps: int = 0  # steps taken before an approval pause, in the paused run

    @property
    def step_count(self) -> int:
        return len(self.steps) + self.earlier_steps


@dataclass(slots=True, kw_only=True)
class Paused:
    """A step stopped for approval: its calls, what is already answered, what waits."""

    reply: ModelReply
    results: list[ToolResult | None]
    awaiting: list[int]
    progress: Progress
    first_new: int


def run_loop(
    history: list[Any],
    first_new: int,
    config: LoopSettings,
    *,
    resume: tuple[Paused, Mapping[str, Decision]] | None = None,
) -> Generator[Effect, Any, RunResult]:
    """Drive one user turn to its end (or to an approval pause).

    ``history`` is changed in place (so a conversation keeps what happened, even when a
    driver fails half-way); ``first_new`` is where this run's messages start in it.
    ``resume`` continues a paused step with the decisions taken on its calls.
    """
    limits = config.limits
    if resume is None:
        progress = Progress(started=config.clock(), tool_choice=config.tool_choice)
    else:
        paused, decisions = resume
        progress = paused.progress
        outcome = yield from _settle(history, config, progress, paused, decisions=decisions)
        if outcome is not None:
            return _result(history, first_new, progress, outcome)

    while True:
        elapsed = config.clock() - progress.started
        stop = _limit_reached(limits, progress.step_count, progress.usage, elapsed)
        if stop is not None:
            return _result(history, first_new, progress, stop)
        step_started = config.clock()
        request = ModelRequest(
            model=config.model,
            messages=list(history),
            system=config.system,
            tools=config.tools,
            tool_choice=progress.tool_choice,
            parallel_tool_calls=config.parallel_tool_calls,
            settings=config.settings,
        )
        reply: ModelReply = yield CallModel(request)
        append_messages(history, reply.message)
        progress.usage = progress.usage + reply.usage
        progress.text = reply.text
        calls = reply.calls

        if not calls:
            progress.steps.append(Step(reply=reply, duration=config.clock() - step_started))
            yield StepDone(progress.steps[-1])
            if reply.stop == "pause":
                continue  # Anthropic pause_turn: send the conversation back as it is
            ends: dict[str, StopReason] = {
                "refusal": "refusal",
                "content_filter": "content_filter",
                "length": "length",
            }
            return _result(history, first_new, progress, ends.get(reply.stop, "end"))

        if progress.tool_choice not in ("auto", "none"):
            progress.tool_choice = "auto"  # a forced choice was honoured: never force it twice

        results: list[ToolResult | None] = [None] * len(calls)
        to_run: list[int] = []
        ending: StopReason | None = None
        for index, call in enumerate(calls):
            made = progress.calls_made + len(to_run)
            refusal = _refused(call, reply, limits, made, progress.seen)
            if refusal is None:
                to_run.append(index)
            else:
                message, reason = refusal
                results[index] = _error_result(call, message)
                ending = ending or reason
        awaiting = [i for i in to_run if config.needs_approval(calls[i].name)]
        ready = [i for i in to_run if i not in awaiting]
        yield from _run_calls(
            history, config, progress, calls=calls, results=results, indices=ready
        )
        paused = Paused(
            reply=reply, results=results, awaiting=awaiting, progress=progress, first_new=first_new
        )
        if awaiting:
            decisions: Mapping[str, Decision] | None = yield AwaitApproval(paused)
            if decisions is None:
                return _result(history, first_new, progress, "approval_required", paused)
        else:
            decisions = {}
        outcome = yield from _settle(
            history, config, progress, paused, decisions=decisions, step_started=step_started
        )
        if outcome is not None or ending is not None:
            return _result(history, first_new, progress, outcome or ending or "end")


def _settle(
    history: list[Any],
    config: LoopSettings,
    progress: Progress,
    paused: Paused,
    *,
    decisions: Mapping[str, Decision],
    step_started: float | None = None,
) -> Generator[Effect, Any, StopReason | None]:
    """Apply the decisions on the awaiting calls, run the approved ones, answer every call
    in the history and record the step."""
    calls = list(paused.reply.calls)
    results = paused.results
    approved: list[int] = []
    for index in paused.awaiting:
        decision = decisions.get(calls[index].id)
        if isinstance(decision, Approve):
            if decision.arguments is not None:
                original = calls[index]
                calls[index] = ToolCall(
                    id=original.id, name=original.name, arguments=dict(decision.arguments)
                )
            approved.append(index)
        else:
            message = decision.message if isinstance(decision, Deny) else Deny().message
            results[index] = _error_result(calls[index], message)
    yield from _run_calls(
        history, config, progress, calls=tuple(calls), results=results, indices=approved
    )
    done = [r for r in results if r is not None]
    append_messages(history, config.codec.result_messages(done))
    started = progress.started if step_started is None else step_started
    step = Step(reply=paused.reply, results=tuple(done), duration=config.clock() - started)
    progress.steps.append(step)
    yield StepDone(step)
    return None


def _run_calls(
    history: list[Any],
    config: LoopSettings,
    progress: Progress,
    *,
    calls: Sequence[ToolCall],
    results: list[ToolResult | None],
    indices: list[int],
) -> Generator[Effect, Any, None]:
    """Run ``calls[i]`` for each index, filling ``results``; close every open call in the
    history if the run is interrupted, so the conversation stays usable."""
    if not indices:
        return
    try:
        ran: list[ToolResult] = yield RunCalls(tuple(calls[i] for i in indices))
    except BaseException:
        append_messages(history, _closing_messages(config.codec, calls, results))
        raise
    for index, result in zip(indices, ran, strict=True):
        results[index] = result
    progress.calls_made += len(indices)


def _result(
    history: list[Any],
    first_new: int,
    progress: Progress,
    reason: StopReason,
    paused: Paused | None = None,
) -> RunResult:
    return RunResult(
        text=progress.text,
        messages=history,
        new_messages=history[first_new:],
        steps=progress.steps,
        usage=progress.usage,
        stop_reason=reason,
        paused=paused,
    )


def _limit_reached(limits: Limits, steps: int, usage: Usage, elapsed: float) -> StopReason | None:
    if steps >= limits.max_steps:
        return "max_steps"
    if limits.deadline is not None and elapsed >= limits.deadline:
        return "deadline"
    if limits.token_budget is not None and usage.total_tokens >= limits.token_budget:
        return "token_budget"
    return None


def _refused(
    call: ToolCall, reply: ModelReply, limits: Limits, calls_so_far: int, seen: dict[str, int]
) -> tuple[str, StopReason | None] | None:
    """Why ``call`` must not run (the model's message and whether the run ends), or None."""
    if reply.stop == "length":
        return (
            "Your reply was cut off by the output token limit before this call was complete, "
            "so it was not run. Call it again with shorter arguments.",
            None,
        )
    if limits.max_tool_calls is not None and calls_so_far >= limits.max_tool_calls:
        return (
            f"Not run: the limit of {limits.max_tool_calls} tool calls was reached.",
            "max_tool_calls",
        )
    key = f"{call.name}\0{_canonical(call.arguments)}"
    seen[key] = count = seen.get(key, 0) + 1
    if count > limits.max_repeats:
        message = (
            f"Not run: {call.name} was already called with these arguments {count - 1} times "
            "and the result will not change. Use the results you have."
        )
        return (message, "no_progress" if count > limits.max_repeats + 1 else None)
    return None


def _canonical(arguments: object) -> str:
    """The arguments in one spelling, so that key order and spacing do not hide a repeat."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return arguments
    try:
        return json.dumps(arguments, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(arguments)


def _error_result(call: ToolCall, message: str) -> ToolResult:
    return ToolResult(
        call_id=call.id,
        name=call.name,
        value=None,
        content=message,
        is_error=True,
        error=CallError(kind="vetoed", message=message),
    )


def _closing_messages(
    codec: Codec, calls: Sequence[ToolCall], results: Sequence[ToolResult | None]
) -> list[Any]:
    closed = [
        result
        if result is not None
        else _error_result(call, "This call was interrupted before it finished.")
        for call, result in zip(calls, results, strict=True)
    ]
    return codec.result_messages(closed)


def close_open_calls(history: list[Any], codec: Codec) -> list[ToolCall]:
    """Answer the calls left open at the end of ``history`` and return them.

    A history saved between a reply and its results (a crash, a killed process) would be
    rejected by every provider; each open call gets an explicit "interrupted" result, so
    the conversation can go on.
    """
    answered: set[str] = set()
    calls: list[ToolCall] = []
    for item in reversed(history):
        if not isinstance(item, dict):
            break
        entry = cast("dict[str, Any]", item)
        ids = _answered_ids(entry)
        answered |= ids
        role, kind = entry.get("role"), entry.get("type")
        if role == "assistant" or kind == "function_call":
            try:
                found = codec.parse_calls([entry] if kind == "function_call" else entry)
            except ValueError:
                found = []
            calls = found + calls
            if role == "assistant":
                break  # the last assistant turn: older calls were answered before it
        elif not ids:
            break  # a user or system message: nothing can be open after it
    open_calls = [c for c in calls if c.id not in answered]
    if open_calls:
        append_messages(
            history,
            codec.result_messages(
                [
                    _error_result(c, "This call was interrupted before it finished.")
                    for c in open_calls
                ]
            ),
        )
    return open_calls


def _answered_ids(entry: dict[str, Any]) -> set[str]:
    """The call ids a history entry answers, in any protocol's shape."""
    if entry.get("role") == "tool" and isinstance(entry.get("tool_call_id"), str):
        return {entry["tool_call_id"]}
    if entry.get("type") == "function_call_output" and isinstance(entry.get("call_id"), str):
        return {entry["call_id"]}
    content = entry.get("content")
    if entry.get("role") == "user" and isinstance(content, list):
        blocks = [
            cast("dict[str, Any]", b) for b in cast("list[Any]", content) if isinstance(b, dict)
        ]
        return {str(b.get("tool_use_id")) for b in blocks if b.get("type") == "tool_result"}
    return set()


def append_messages(history: list[Any], message: Any) -> None:
    """Add a reply's message, or a list of messages/items, to the history.

    Consecutive turns of one role with block contents are merged into one: Anthropic
    requires alternating roles, so a user text right after a message of tool results joins
    it, and the continuation of a paused turn joins the paused assistant message.
    """
    items: list[Any] = message if isinstance(message, list) else [message]  # pyright: ignore[reportUnknownVariableType]
    for item in items:
        if history and _mergeable(history[-1], item):
            history[-1] = {**history[-1], "content": _blocks(history[-1]) + _blocks(item)}
        else:
            history.append(item)


def _mergeable(previous: Any, item: Any) -> bool:
    if not isinstance(previous, dict) or not isinstance(item, dict):
        return False
    before = cast("dict[str, Any]", previous)
    after = cast("dict[str, Any]", item)
    return (
        before.get("role") in ("user", "assistant")
        and after.get("role") == before.get("role")
        and isinstance(before.get("content"), list)
        and (after.get("role") == "user" or isinstance(after.get("content"), list))
        and "type" not in before  # Responses items are never merged: they carry ids
        and "type" not in after
    )


def _blocks(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    if isinstance(content, list):
        return list(content)  # pyright: ignore[reportUnknownArgumentType]
    return [{"type": "text", "text": content}] if content else []
