"""What ``Runner.stream`` yields while a run goes on."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.calls import ToolCall, ToolResult
from toolkit.model import Step
from toolkit.runner._loop import RunResult

__all__ = [
    "ArgumentsDelta",
    "Event",
    "RunFinished",
    "StepFinished",
    "TextDelta",
    "ToolCallComplete",
    "ToolCallStarted",
    "ToolResultEvent",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More text of the model's reply."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model began a tool call (its arguments follow as ``ArgumentsDelta``)."""

    index: int
    id: str | None
    name: str


@dataclass(frozen=True, slots=True)
class ArgumentsDelta:
    """A fragment of the JSON arguments of the call at ``index`` of the current reply."""

    index: int
    delta: str


@dataclass(frozen=True, slots=True)
class ToolCallComplete:
    """A call as the model finished it, about to be validated and run."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """The result of a call, as it will be sent back."""

    result: ToolResult


@dataclass(frozen=True, slots=True)
class StepFinished:
    """A model reply and its calls are done."""

    step: Step


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run ended; ``result`` is what ``run`` would have returned."""

    result: RunResult


Event = (
    TextDelta
    | ToolCallStarted
    | ArgumentsDelta
    | ToolCallComplete
    | ToolResultEvent
    | StepFinished
    | RunFinished
)
