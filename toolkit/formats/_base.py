"""What the codecs share: request-level rendering and the history operations' defaults.

A codec only overrides what its protocol does differently: Anthropic merges consecutive
turns of one role and checks its strict-mode limits per request; the others take these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.formats._settings import Spelling, translate

if TYPE_CHECKING:
    from toolkit.calls import ToolCall
    from toolkit.formats import FormatName
    from toolkit.tool import Tool

__all__ = ["CodecBase", "ConversationBase", "HistoryEntry"]

HistoryEntry = tuple[list["ToolCall"], set[str], bool]
"""What one history item says: the calls it makes, the call ids it answers, and whether the
walk back through the last turn goes on past it."""


class CodecBase:
    """Defaults of the tool side."""

    @property
    def name(self) -> FormatName:
        """The format name (each codec says its own)."""
        raise NotImplementedError

    def render_tools(
        self, tools: Sequence[Tool[..., Any]], *, strict: bool | None
    ) -> list[dict[str, Any]]:
        """Each tool's cached definition, in order."""
        return [t.definition(self.name, strict=strict) for t in tools]


class ConversationBase(CodecBase):
    """Defaults of the conversation side: history is a plain list of native items."""

    _SETTINGS: ClassVar[Spelling] = {}
    """The protocol's spelling of the neutral settings (see ``formats._settings``)."""

    def translate_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """``settings`` with the neutral keys in this protocol's spelling."""
        return translate(settings, self._SETTINGS, self.name)

    def native_tool_search(
        self, definitions: Sequence[Mapping[str, Any]], always: Sequence[str]
    ) -> list[dict[str, Any]] | None:
        """``None``: most protocols have no tool search of their own."""
        return None

    def turn_starts(self, history: Sequence[Any]) -> list[int]:
        """The index of every item that opens a user turn, in order (one pass)."""
        starts: list[int] = []
        previous: Any = None
        for index, item in enumerate(history):
            if self._starts_turn(item, previous):
                starts.append(index)
            previous = item
        return starts

    def _starts_turn(self, item: Any, previous: Any) -> bool:
        """Whether ``item`` (after ``previous``) is a user's turn: a user message that is not
        the protocol's way of carrying tool results (each codec reads its own shapes)."""
        raise NotImplementedError

    def append_messages(self, history: list[Any], messages: Any) -> None:
        """Append ``messages`` (one message, or a list of them) as they are."""
        if isinstance(messages, list):
            history.extend(messages)  # pyright: ignore[reportUnknownArgumentType]
        else:
            history.append(messages)

    def unanswered_calls(self, history: Sequence[Any]) -> list[ToolCall]:
        """Walk back through the last turn: collect its calls and the ids answered after
        them; the calls left are open. Bounded by the last turn, and never raises: an item
        this protocol cannot read ends the walk."""
        answered: set[str] = set()
        calls: list[ToolCall] = []
        for item in reversed(history):
            try:
                made, answers, go_on = self._history_entry(item)
            except (ValueError, TypeError, AttributeError, KeyError):
                break
            answered |= answers
            calls = made + calls
            if not go_on:
                break
        return [call for call in calls if call.id not in answered]

    def _history_entry(self, item: Any) -> HistoryEntry:
        """What ``item`` says for ``unanswered_calls`` (each codec reads its own shapes)."""
        raise NotImplementedError
