"""``Conversation``: a history that lives across user turns."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from toolkit.model import ToolChoice
from toolkit.runner._events import Event
from toolkit.runner._loop import RunResult
from toolkit.runner._runner import Prompt, Runner

__all__ = ["Conversation"]


class Conversation:
    """A conversation across user turns: each ``send`` continues the same history.

    The history is kept in the provider's native format in ``messages``; ``to_json`` and
    ``from_json`` save and restore it.
    """

    def __init__(self, runner: Runner, messages: Iterable[Any] = ()) -> None:
        self.runner = runner
        self.messages: list[Any] = list(messages)

    def send(self, prompt: Prompt, *, tool_choice: ToolChoice | None = None) -> RunResult:
        """Run the next user turn (sync client)."""
        return self.runner.run(prompt, history=self.messages, tool_choice=tool_choice)

    async def send_async(
        self, prompt: Prompt, *, tool_choice: ToolChoice | None = None
    ) -> RunResult:
        """Run the next user turn (async client)."""
        return await self.runner.run_async(prompt, history=self.messages, tool_choice=tool_choice)

    def stream(self, prompt: Prompt, *, tool_choice: ToolChoice | None = None) -> Iterator[Event]:
        """Run the next user turn, yielding events (sync client)."""
        return self.runner.stream(prompt, history=self.messages, tool_choice=tool_choice)

    def astream(
        self, prompt: Prompt, *, tool_choice: ToolChoice | None = None
    ) -> AsyncIterator[Event]:
        """Run the next user turn, yielding events (async client)."""
        return self.runner.astream(prompt, history=self.messages, tool_choice=tool_choice)

    def to_json(self) -> str:
        """The history as JSON (with the format it is written in)."""
        return json.dumps({"format": self.runner.backend.format, "messages": self.messages})

    @classmethod
    def from_json(cls, runner: Runner, text: str) -> Conversation:
        """A conversation restored from ``to_json`` output, continued with ``runner``.

        Raises:
            ValueError: the history was written for another protocol than the runner's.
        """
        data = json.loads(text)
        if data.get("format") != runner.backend.format:
            raise ValueError(
                f"this conversation is in the {data.get('format')!r} format; the runner "
                f"speaks {runner.backend.format!r}"
            )
        return cls(runner, data["messages"])
