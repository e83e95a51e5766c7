"""Approvals: decisions on calls of tools marked ``needs_approval``, and the paused state.

A run that meets such calls (and has no ``approve`` callback) ends with
``stop_reason == "approval_required"``; ``result.pending`` lists the calls and serialises
to JSON, so that another process can ``Runner.resume(pending, decisions)`` later. Calls
of the same reply that needed no approval have already run and are not run again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from toolkit.calls import CallError, ToolCall, ToolResult
from toolkit.model import ModelReply, Usage

if TYPE_CHECKING:
    from toolkit.runner._loop import Paused

__all__ = ["Approve", "Decision", "Deny", "PendingApproval"]


@dataclass(frozen=True, slots=True)
class Approve:
    """Run the call, with ``arguments`` instead of the model's when given."""

    arguments: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Deny:
    """Do not run the call; the model receives ``message`` as the call's error result."""

    message: str = "The user denied this call."


Decision = Approve | Deny
"""What to do with a call that needs approval."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingApproval:
    """A run paused for approval, ready to be saved and resumed.

    Attributes:
        calls: The calls waiting for a decision, in order.
        messages: The conversation at the pause (native format).
    """

    calls: tuple[ToolCall, ...]
    messages: list[Any]
    _state: dict[str, Any]

    @classmethod
    def of(cls, messages: list[Any], paused: Paused) -> PendingApproval:
        """Capture a paused step."""
        reply = paused.reply
        progress = paused.progress
        state: dict[str, Any] = {
            "reply": {
                "message": reply.message,
                "text": reply.text,
                "calls": [_call_json(c) for c in reply.calls],
                "stop": reply.stop,
            },
            "results": [None if r is None else _result_json(r) for r in paused.results],
            "awaiting": list(paused.awaiting),
            "first_new": paused.first_new,
            "progress": {
                "steps": len(progress.steps) + progress.earlier_steps,
                "usage": [progress.usage.input_tokens, progress.usage.output_tokens],
                "tool_choice": progress.tool_choice,
                "calls_made": progress.calls_made,
                "seen": progress.seen,
                "text": progress.text,
            },
        }
        calls = tuple(reply.calls[i] for i in paused.awaiting)
        return cls(calls=calls, messages=messages, _state=state)

    def to_json(self) -> str:
        """The pending state as JSON (tool return values are kept as the text sent)."""
        return json.dumps({"messages": self.messages, "state": self._state})

    @classmethod
    def from_json(cls, text: str) -> PendingApproval:
        """Restore what ``to_json`` wrote."""
        data = json.loads(text)
        state = data["state"]
        calls = [_call_from(c) for c in cast("list[dict[str, Any]]", state["reply"]["calls"])]
        waiting = tuple(calls[i] for i in cast("list[int]", state["awaiting"]))
        return cls(calls=waiting, messages=data["messages"], _state=state)

    def restore(self, clock_now: float) -> Paused:
        """The paused step, as the loop continues it (the deadline restarts now)."""
        from toolkit.runner._loop import Paused, Progress  # noqa: PLC0415 - module cycle

        state = self._state
        reply_state = state["reply"]
        calls = tuple(_call_from(c) for c in reply_state["calls"])
        reply = ModelReply(
            message=reply_state["message"],
            text=reply_state["text"],
            calls=calls,
            stop=reply_state["stop"],
        )
        saved = state["progress"]
        progress = Progress(
            started=clock_now,
            usage=Usage(*saved["usage"]),
            tool_choice=saved["tool_choice"],
            calls_made=saved["calls_made"],
            seen=dict(saved["seen"]),
            text=saved["text"],
            earlier_steps=saved["steps"],
        )
        results = [None if r is None else _result_from(r) for r in state["results"]]
        return Paused(
            reply=reply,
            results=results,
            awaiting=list(state["awaiting"]),
            progress=progress,
            first_new=state["first_new"],
        )


def _call_json(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _call_from(data: Mapping[str, Any]) -> ToolCall:
    return ToolCall(id=data["id"], name=data["name"], arguments=data["arguments"])


def _result_json(result: ToolResult) -> dict[str, Any]:
    return {
        "call_id": result.call_id,
        "name": result.name,
        "content": result.content,
        "is_error": result.is_error,
        "kind": result.error.kind if result.error else None,
    }


def _result_from(data: Mapping[str, Any]) -> ToolResult:
    kind = data.get("kind")
    error = CallError(kind=kind, message=data["content"]) if kind else None
    return ToolResult(
        call_id=data["call_id"],
        name=data["name"],
        value=None,
        content=data["content"],
        is_error=bool(data["is_error"]),
        error=error,
    )
