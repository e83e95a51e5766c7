"""``HistoryPolicy``: what of a long conversation each request carries.

The history itself is never shortened: a policy chooses the part of it that a request
sends (whole user turns, newest first, so a call is never separated from its result), and
how much of a long tool result is written into it at all.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.calls import ToolResult

if TYPE_CHECKING:
    from toolkit.formats import ConversationCodec

__all__ = ["HistoryPolicy", "estimate_tokens"]

_CHARS_PER_TOKEN = 4  # English text and JSON average about four characters a token


def estimate_tokens(messages: Sequence[Any]) -> int:
    """About how many tokens ``messages`` take: their JSON's length over four. Good enough
    to keep clear of a context window with a margin; pass a real counter for exact fits."""
    return sum(_message_chars(m) for m in messages) // _CHARS_PER_TOKEN


def _message_chars(message: Any) -> int:
    try:
        return len(json.dumps(message, default=str, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        return len(repr(message))


def clip_middle(result: ToolResult, limit: int) -> str:
    """The default clip: the head and the tail of the text, with what was left out named."""
    text = result.content
    keep = max(limit - 100, 0)
    head, tail = text[: keep * 3 // 4], text[len(text) - keep // 4 :] if keep // 4 else ""
    left_out = len(text) - len(head) - len(tail)
    return f"{head}\n[... {left_out} characters left out of this result ...]\n{tail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPolicy:
    """What of a long conversation each request carries (``Runner(history_policy=...)``).

    ```python
    policy = HistoryPolicy(max_turns=20, max_tokens=6_000, max_result_chars=8_000)
    ```

    Requests send whole user turns only, newest first: a tool call is never sent without
    its result, nor a result without its call. The turn in progress is always sent whole;
    when it alone is over ``max_tokens``, it is sent anyway (the provider decides).

    Attributes:
        max_turns: Send at most the last this many user turns (``None``: all).
        max_tokens: Send the most recent turns that fit in this many tokens
            (``None``: no limit).
        count_tokens: Counts the tokens of a list of native messages; by default
            ``estimate_tokens`` (JSON length over four). Pass the provider's own counter
            where the client has one, e.g. for Anthropic ``lambda messages:
            client.messages.count_tokens(model=..., messages=messages).input_tokens``.
        max_result_chars: A tool result longer than this is replaced, before it enters
            the history, by what ``clip_result`` makes of it (``None``: keep all).
        clip_result: ``clip_result(result, max_result_chars)`` returns the text to keep
            (a summary, an excerpt...); by default the head and the tail, with the number
            of characters left out said in the middle.
    """

    max_turns: int | None = None
    max_tokens: int | None = None
    count_tokens: Callable[[Sequence[Any]], int] | None = None
    max_result_chars: int | None = None
    clip_result: Callable[[ToolResult, int], str] | None = None

    def __post_init__(self) -> None:
        for name in ("max_turns", "max_tokens", "max_result_chars"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise TypeError(f"HistoryPolicy.{name} must be a whole number, got {value!r}")
            if value is not None and value < 1:
                raise ValueError(f"HistoryPolicy.{name} must be at least 1, got {value!r}")

    def view(self, history: Sequence[Any], codec: ConversationCodec) -> list[Any]:
        """The part of ``history`` a request sends: from the start of a user turn on."""
        if self.max_turns is None and self.max_tokens is None:
            return list(history)
        starts = codec.turn_starts(history)
        if not starts:
            return list(history)
        first = 0  # the earliest start allowed (index into starts)
        if self.max_turns is not None and len(starts) > self.max_turns:
            first = len(starts) - self.max_turns
        if self.max_tokens is not None:
            first = self._fitting(history, starts, first)
        cut = starts[first] if first > 0 else 0
        return list(history[cut:])

    def _fitting(self, history: Sequence[Any], starts: list[int], first: int) -> int:
        """The earliest turn from which the history fits ``max_tokens`` (the last turn at
        worst). The default estimate measures turns from the end until they no longer fit,
        so a request costs what it sends, not the whole conversation; a given counter is
        asked O(log turns) times, by bisection."""
        limit = self.max_tokens
        assert limit is not None
        last = len(starts) - 1
        if self.count_tokens is None:
            total, index = 0, len(history)
            chosen = last
            for turn in range(last, first - 1, -1):
                total += sum(_message_chars(m) for m in history[starts[turn] : index])
                index = starts[turn]
                if total // _CHARS_PER_TOKEN > limit:
                    break
                chosen = turn
            return chosen
        count = self.count_tokens
        low, high = first, last  # fits(high) is assumed: the turn in progress is sent whole
        if count(history[starts[low] :]) <= limit:
            return low
        while high - low > 1:
            middle = (low + high) // 2
            if count(history[starts[middle] :]) <= limit:
                high = middle
            else:
                low = middle
        return high

    def clip(self, result: ToolResult) -> ToolResult:
        """``result`` with its content clipped to ``max_result_chars``, if it is longer."""
        limit = self.max_result_chars
        if limit is None or len(result.content) <= limit:
            return result
        clip = self.clip_result or clip_middle
        return dataclasses.replace(result, content=clip(result, limit))
