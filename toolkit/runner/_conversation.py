"""``Conversation``: a history that lives across user turns, saved as JSON or in a store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterable, Iterator, Mapping
from typing import Any, Generic, cast

from pydantic import BaseModel, ConfigDict

from toolkit.errors import StateError
from toolkit.formats import ConversationFormat
from toolkit.model import ToolChoice
from toolkit.runner._events import Event
from toolkit.runner._limits import Limits
from toolkit.runner._runner import Decisions, Prompt, Runner
from toolkit.runner._state import OutputT, PendingApproval, RunResult, load_state
from toolkit.runner._store import ConversationStore, message_digest

__all__ = ["Conversation"]


class _ConversationState(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    format: ConversationFormat
    messages: list[dict[str, Any]]


class Conversation(Generic[OutputT]):
    """A conversation across user turns: each ``send`` continues the same history.

    The history is kept in the provider's native format in ``messages``. ``to_json`` and
    ``Conversation.from_json`` save and restore it; a ``ConversationStore`` keeps it by
    session id (``store.load`` / ``store.save``), and ``autosave`` saves it back after every
    turn: after ``send`` returns or raises (a failed turn's history is kept, its open calls
    answered), and when a ``stream`` ends or is closed.

    Attributes:
        runner: Runs each turn.
        messages: The history so far.
        store: Where the conversation saves itself after every turn, or ``None``.
        session_id: Its key in ``store``.
    """

    def __init__(
        self,
        runner: Runner[OutputT],
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
        # What a store holds of this history: (store, session id, version, count, digest of
        # the last message saved), so that a save writes only what changed.
        self._saved: tuple[ConversationStore, str, int, int, str] | None = None

    def __repr__(self) -> str:
        return f"<Conversation of {len(self.messages)} messages ({self.runner.codec.name})>"

    def autosave(self, store: ConversationStore, session_id: str) -> None:
        """Save to ``store`` under ``session_id`` after every turn from now on."""
        self.store, self.session_id = store, session_id

    # -- turns ----------------------------------------------------------------------------------

    def send(
        self,
        prompt: Prompt,
        *,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> RunResult[OutputT]:
        """Run the next user turn (sync backend); see ``Runner.run`` for the options."""
        try:
            return self.runner.run(
                prompt,
                history=self.messages,
                tool_choice=tool_choice,
                limits=limits,
                settings=settings,
            )
        finally:
            self._autosave()

    async def send_async(
        self,
        prompt: Prompt,
        *,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> RunResult[OutputT]:
        """Run the next user turn (async backend)."""
        try:
            return await self.runner.run_async(
                prompt,
                history=self.messages,
                tool_choice=tool_choice,
                limits=limits,
                settings=settings,
            )
        finally:
            await self._autosave_async()

    def stream(
        self,
        prompt: Prompt,
        *,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Iterator[Event]:
        """Run the next user turn, yielding events (sync backend)."""
        events = self.runner.stream(
            prompt, history=self.messages, tool_choice=tool_choice, limits=limits, settings=settings
        )
        return events if self.store is None else self._saved_after(events)

    def stream_async(
        self,
        prompt: Prompt,
        *,
        tool_choice: ToolChoice | None = None,
        limits: Limits | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[Event]:
        """Run the next user turn, yielding events (async backend)."""
        events = self.runner.stream_async(
            prompt, history=self.messages, tool_choice=tool_choice, limits=limits, settings=settings
        )
        return events if self.store is None else self._saved_after_async(events)

    def resume(self, pending: PendingApproval | str, decisions: Decisions) -> RunResult[OutputT]:
        """Continue this conversation's paused run (see ``Runner.resume``); the pause is
        claimed in the store the conversation saves to or was loaded from, when it has one."""
        try:
            return self.runner.resume(
                pending, decisions, history=self.messages, store=self._home_store()
            )
        finally:
            self._autosave()

    async def resume_async(
        self, pending: PendingApproval | str, decisions: Decisions
    ) -> RunResult[OutputT]:
        """The async twin of ``resume``."""
        try:
            return await self.runner.resume_async(
                pending, decisions, history=self.messages, store=self._home_store()
            )
        finally:
            await self._autosave_async()

    def rollback(self, turns: int = 1) -> list[Any]:
        """Remove the last ``turns`` user turns (each user message and everything after it)
        and return the removed messages; saved at once when the conversation autosaves.

        ```python
        chat.send("Summarise the log")   # the answer went wrong
        chat.rollback()                  # as if that turn never happened
        ```

        Raises:
            ValueError: ``turns`` is not positive, or the history has fewer user turns.
        """
        given = cast("object", turns)
        if isinstance(given, bool) or not isinstance(given, int) or turns < 1:
            raise ValueError(f"turns must be a whole number of at least 1, got {turns!r}")
        starts = self.runner.codec.turn_starts(self.messages)
        if len(starts) < turns:
            raise ValueError(
                f"cannot roll back {turns} turn(s): the history has {len(starts)} user turn(s)"
            )
        cut = starts[-turns]
        removed = self.messages[cut:]
        del self.messages[cut:]
        self._autosave()
        return removed

    # -- JSON -----------------------------------------------------------------------------------

    def to_json(self) -> str:
        """The history as JSON, with the protocol it is written in."""
        state = _ConversationState(format=self.runner.codec.name, messages=self.messages)
        return state.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes, *, runner: Runner[OutputT]) -> Conversation[OutputT]:
        """A conversation restored from ``to_json`` output, continued with ``runner``.

        Raises:
            StateError: ``text`` is not a conversation toolkit wrote (the message says what
                is wrong), or it was written for another protocol than the runner's.
        """
        state: _ConversationState = load_state(_ConversationState, text, "this conversation")
        if state.format != runner.codec.name:
            raise StateError(
                f"this conversation is in the {state.format!r} format; the runner speaks "
                f"{runner.codec.name!r}"
            )
        return cls(runner, state.messages)

    # -- stores -----------------------------------------------------------------------------------

    def _saved_as(self, store: ConversationStore, session_id: str, version: int) -> None:
        """Remember that ``store`` holds this whole history as ``version``."""
        last = message_digest(self.messages[-1]) if self.messages else ""
        self._saved = (store, session_id, version, len(self.messages), last)

    def _save_to(self, store: ConversationStore, session_id: str) -> None:
        saved = self._saved
        start, version = 0, 0
        if saved is not None and saved[0] is store and saved[1] == session_id:
            _, _, version, count, last = saved
            start = count
            if count > len(self.messages):
                start = 0  # the history shrank: write it whole
            elif count and message_digest(self.messages[count - 1]) != last:
                start = count - 1  # the last saved message changed (merged with a new one)
        new_version = store.write(
            session_id,
            format=self.runner.codec.name,
            messages=self.messages[start:],
            start=start,
            version=version,
        )
        self._saved_as(store, session_id, new_version)

    def _home_store(self) -> ConversationStore | None:
        """Where this conversation lives: the store it saves to, or the one it came from."""
        if self.store is not None:
            return self.store
        return None if self._saved is None else self._saved[0]

    def _autosave(self) -> None:
        if self.store is not None and self.session_id is not None:
            self.store.save(self.session_id, self)

    async def _autosave_async(self) -> None:
        if self.store is not None and self.session_id is not None:
            # In a worker thread: a store's round trip must not stall the event loop.
            # Shielded: a cancellation arriving meanwhile is raised here at once, and the
            # save still completes (it is never left half-recorded in this object).
            save = asyncio.to_thread(self.store.save, self.session_id, self)
            await asyncio.shield(save)

    def _saved_after(self, events: Iterator[Event]) -> Generator[Event, None, None]:
        # ``yield from`` closes the runner's stream when this one is closed; the runner's
        # loop answers any open calls as it closes, so what is saved is a valid history.
        try:
            yield from events
        finally:
            self._autosave()

    async def _saved_after_async(self, events: AsyncIterator[Event]) -> AsyncGenerator[Event, None]:
        try:
            async for event in events:
                yield event
        finally:
            if isinstance(events, AsyncGenerator):
                await events.aclose()  # async generators are not closed by their consumer
            await self._autosave_async()
