"""What ``Runner.stream`` yields while a run goes on.

Every call event carries the call's id. Every result the model receives (a tool's, or one
the runner wrote itself: a refusal, a denial, an interruption) is a ``ToolResultEvent``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.calls import ToolCall, ToolResult
from toolkit.model import Step
from toolkit.runner._state import RunResult

__all__ = [
    "ArgumentsDelta",
    "Event",
    "PartialOutput",
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
    """The model began a call (its arguments follow as ``ArgumentsDelta``)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ArgumentsDelta:
    """A fragment of the JSON arguments of the call ``id``."""

    id: str
    delta: str


@dataclass(frozen=True, slots=True)
class PartialOutput:
    """The typed answer so far (``Runner(output_type=...)``), parsed from the JSON streamed
    until now: plain dicts and lists, not yet validated, fields still missing. The answer
    itself, validated, is ``RunFinished.result.output``."""

    data: Any


@dataclass(frozen=True, slots=True)
class ToolCallComplete:
    """A call as the model finished it, about to be validated and run (or refused)."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """A result, as it will be sent back to the model."""

    result: ToolResult


@dataclass(frozen=True, slots=True)
class StepFinished:
    """A model reply and its calls are done."""

    step: Step


@dataclass(frozen=True, slots=True)
class RunFinished:
    """The run ended; ``result`` is what ``run`` would have returned."""

    result: RunResult[Any]


Event = (
    TextDelta
    | ToolCallStarted
    | ArgumentsDelta
    | PartialOutput
    | ToolCallComplete
    | ToolResultEvent
    | StepFinished
    | RunFinished
)
"""Any event of a streamed run."""
