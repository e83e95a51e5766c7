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

__all__ = [
    "CallModel",
    "Limits",
    "RunCalls",
    "RunResult",
    "StepDone",
    "append_messages",
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


Effect = CallModel | RunCalls | StepDone


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
    """

    text: str
    messages: list[Any]
    new_messages: list[Any]
    steps: list[Step] = field(default_factory=list[Step])
    usage: Usage = field(default_factory=Usage)
    stop_reason: StopReason = "end"

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
    clock: Callable[[], float] = time.monotonic


def run_loop(
    history: list[Any], first_new: int, config: LoopSettings
) -> Generator[Effect, Any, RunResult]:
    """Drive one user turn to its end.

    ``history`` is changed in place (so a conversation keeps what happened, even when a
    driver fails half-way); ``first_new`` is where this run's messages start in it.
    """
    limits = config.limits
    started = config.clock()
    steps: list[Step] = []
    usage = Usage()
    tool_choice = config.tool_choice
    calls_made = 0
    seen: dict[str, int] = {}
    text = ""

    def finish(reason: StopReason) -> RunResult:
        return RunResult(
            text=text,
            messages=history,
            new_messages=history[first_new:],
            steps=steps,
            usage=usage,
            stop_reason=reason,
        )

    while True:
        stop = _limit_reached(limits, len(steps), usage, config.clock() - started)
        if stop is not None:
            return finish(stop)
        step_started = config.clock()
        request = ModelRequest(
            model=config.model,
            messages=list(history),
            system=config.system,
            tools=config.tools,
            tool_choice=tool_choice,
            parallel_tool_calls=config.parallel_tool_calls,
            settings=config.settings,
        )
        reply: ModelReply = yield CallModel(request)
        append_messages(history, reply.message)
        usage = usage + reply.usage
        text = reply.text
        calls = reply.calls

        if not calls:
            steps.append(Step(reply=reply, duration=config.clock() - step_started))
            yield StepDone(steps[-1])
            if reply.stop == "pause":
                continue  # Anthropic pause_turn: send the conversation back as it is
            outcome: dict[str, StopReason] = {
                "refusal": "refusal",
                "content_filter": "content_filter",
                "length": "length",
            }
            return finish(outcome.get(reply.stop, "end"))

        if tool_choice not in ("auto", "none"):
            tool_choice = "auto"  # a forced choice was honoured: never force it twice

        results: list[ToolResult | None] = [None] * len(calls)
        to_run: list[int] = []
        ending: StopReason | None = None
        for index, call in enumerate(calls):
            refusal = _refused(call, reply, limits, calls_made + len(to_run), seen)
            if refusal is None:
                to_run.append(index)
            else:
                message, reason = refusal
                results[index] = _error_result(call, message)
                ending = ending or reason
        if to_run:
            try:
                ran: list[ToolResult] = yield RunCalls(tuple(calls[i] for i in to_run))
            except BaseException:
                # Interrupted (an exception, a cancellation): answer every open call so the
                # conversation stays valid for the next turn, then let the failure through.
                append_messages(history, _closing_messages(config.codec, calls, results))
                raise
            for index, result in zip(to_run, ran, strict=True):
                results[index] = result
            calls_made += len(to_run)
        done = [r for r in results if r is not None]
        append_messages(history, config.codec.result_messages(done))
        steps.append(Step(reply=reply, results=tuple(done), duration=config.clock() - step_started))
        yield StepDone(steps[-1])
        if ending is not None:
            return finish(ending)


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


def append_messages(history: list[Any], message: Any) -> None:
    """Add a reply's message, or a list of messages/items, to the history.

    Consecutive user turns are merged into one (Anthropic requires alternating roles, and a
    user text right after a message of tool results must join it).
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
        before.get("role") == "user"
        and after.get("role") == "user"
        and isinstance(before.get("content"), list)
    )


def _blocks(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    if isinstance(content, list):
        return list(content)  # pyright: ignore[reportUnknownArgumentType]
    return [{"type": "text", "text": content}] if content else []
