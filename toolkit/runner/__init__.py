"""The runner: multi-step and multi-turn tool conversations over any model backend."""

from __future__ import annotations

from toolkit.runner._approval import Approve, Decision, Deny, PendingApproval
from toolkit.runner._conversation import Conversation
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
from toolkit.runner._loop import Limits, RunResult
from toolkit.runner._runner import Runner

__all__ = [
    "Approve",
    "ArgumentsDelta",
    "Conversation",
    "Decision",
    "Deny",
    "Event",
    "Limits",
    "PendingApproval",
    "RunFinished",
    "RunResult",
    "Runner",
    "StepFinished",
    "TextDelta",
    "ToolCallComplete",
    "ToolCallStarted",
    "ToolResultEvent",
]
