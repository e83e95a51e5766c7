"""``Conversation``: a history that lives across user turns, optionally in a store."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator
from typing import Any

from toolkit.model import ToolChoice
from toolkit.runner._events import Event
from toolkit.runner._loop import RunResult
from toolkit.runner._runner import Prompt, Runner
from toolkit.runner._store import ConversationStore

__all__ = ["Conversation"]


class Conversation:
    """A conversation across user turns: each ``send`` continues the same history.

    The history is kept in the provider's native format in ``messages``; ``to_json`` and
    ``from_json`` save and restore it. A conversation made with ``open`` also saves itself to
    its store after every turn: after ``send`` returns or raises (a failed turn's history,
    with its open calls closed, is kept), and when a ``stream`` is exhausted or closed.

    Attributes:
        runner: Runs each turn.
        messages: The history so far.
        store: Where the history is saved, or ``None``.
        session_id: The history's key in ``store``.
    """

    def __init__(
        self,
        runner: Runner,
        messages: Iterable[Any] = (),
        *,
        store: ConversationStore | None = None,
        session_id: str | None = None,
    ) -> None:
        if (store is None) != (session_id is None):
            raise ValueError("pass both store and session_id, or neither")
        self.runner = runner
        self.messages: list[Any] = list(messages)
        self.store = store
        self.session_id = session_id

    @classmethod
    def open(cls, runner: Runner, store: ConversationStore, session_id: str) -> Conversation:
        """The conversation saved in ``store`` under ``session_id`` (empty when there is
        none yet), continued with ``runner`` and saved back after every turn.

        Raises:
            ValueError: the stored history was written for another protocol than the
                runner's.
        """
        stored_format = store.format_of(session_id)
        if stored_format is not None:
            _check_format(stored_format, runner, f"session {session_id!r}")
        messages = store.load(session_id) or []
        return cls(runner, messages, store=store, session_id=session_id)

    def send(self, prompt: Prompt, *, tool_choice: ToolChoice | None = None) -> RunResult:
        """Run the next user turn (sync client)."""
        try:
            return self.runner.run(prompt, history=self.messages, tool_choice=tool_choice)
        finally:
            self._save()

    async def send_async(
        self, prompt: Prompt, *, tool_choice: ToolChoice | None = None
    ) -> RunResult:
        """Run the next user turn (async client)."""
        try:
            return await self.runner.run_async(
                prompt, history=self.messages, tool_choice=tool_choice
            )
        finally:
            self._save()

    def stream(self, prompt: Prompt, *, tool_choice: ToolChoice | None = None) -> Iterator[Event]:
        """Run the next user turn, yielding events (sync client)."""
        events = self.runner.stream(prompt, history=self.messages, tool_choice=tool_choice)
        return events if self.store is None else self._saved_after(events)

    def astream(
        self, prompt: Prompt, *, tool_choice: ToolChoice | None = None
    ) -> AsyncIterator[Event]:
        """Run the next user turn, yielding events (async client)."""
        events = self.runner.astream(prompt, history=self.messages, tool_choice=tool_choice)
        return events if self.store is None else self._asaved_after(events)

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
        _check_format(data.get("format"), runner, "this conversation")
        return cls(runner, data["messages"])

    # -- saving -----------------------------------------------------------------------------------

    def _save(self) -> None:
        if self.store is not None and self.session_id is not None:
            self.store.save(self.session_id, self.messages, format=self.runner.backend.format)

    def _saved_after(self, events: Iterator[Event]) -> Generator[Event, None, None]:
        # ``yield from`` closes the runner's stream when this one is closed; the runner's
        # loop closes any open calls as it goes, so what is saved is a valid history.
        try:
            yield from events
        finally:
            self._save()

    async def _asaved_after(self, events: AsyncIterator[Event]) -> AsyncGenerator[Event, None]:
        try:
            async for event in events:
                yield event
        finally:
            if isinstance(events, AsyncGenerator):
                await events.aclose()  # async generators are not closed by their consumer
            self._save()


def _check_format(stored: object, runner: Runner, what: str) -> None:
    if stored != runner.backend.format:
        raise ValueError(
            f"{what} is in the {stored!r} format; the runner speaks {runner.backend.format!r}"
        )
