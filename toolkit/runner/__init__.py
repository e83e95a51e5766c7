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
from toolkit.runner._store import ConversationStore, SQLiteStore

__all__ = [
    "Approve",
    "ArgumentsDelta",
    "Conversation",
    "ConversationStore",
    "Decision",
    "Deny",
    "Event",
    "Limits",
    "PendingApproval",
    "RunFinished",
    "RunResult",
    "Runner",
    "SQLiteStore",
    "StepFinished",
    "TextDelta",
    "ToolCallComplete",
    "ToolCallStarted",
    "ToolResultEvent",
]
