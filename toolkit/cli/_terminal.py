"""Output for people: colour when a terminal shows it, aligned tables, short one-liners.

Colour is used only when the stream is a terminal (and ``TERM`` is not ``dumb``), and never
when ``NO_COLOR`` is set to anything (https://no-color.org). ``FORCE_COLOR`` (any value but
``0``) turns it on for a stream that is not a terminal, a CI log for instance; ``NO_COLOR``
wins over it. Piped output is plain text.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Painted", "Style", "printable", "shorten", "table", "wants_colour"]

# What a terminal obeys rather than shows: control characters (escape sequences, carriage
# returns...) and the bidirectional overrides that reorder what is seen. A model's text or a
# pack's description must not be able to rewrite the screen, least of all an approval prompt.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what is written to ``stream``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR", ""):
        return False
    if env.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    try:
        is_terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False
    return is_terminal and env.get("TERM", "") != "dumb"


@dataclass(frozen=True, slots=True)
class Painted:
    """Text with a colour, measured by its text alone (for ``table``)."""

    text: str
    colour: str


class Style:
    """Paints text for one stream, or leaves it plain; also picks the symbols the stream
    can encode (``✓``, or ``yes`` where it cannot)."""

    def __init__(self, colour: bool, encoding: str | None = "utf-8") -> None:
        self.colour = colour
        self.unicode = _encodes("✓✗→←…", encoding)

    @classmethod
    def for_stream(cls, stream: TextIO) -> Style:
        return cls(wants_colour(stream), getattr(stream, "encoding", None))

    def paint(self, text: str, colour: str) -> str:
        """``text`` in ``colour`` (a name of ``_CODES``, or several joined by ``+``)."""
        if not self.colour or not text:
            return text
        codes = ";".join(_CODES[name] for name in colour.split("+"))
        return f"\x1b[{codes}m{text}\x1b[0m"

    def mark(self, ok: bool) -> Painted:
        """A check mark (green) or a cross (red)."""
        if ok:
            return Painted("✓" if self.unicode else "yes", "green")
        return Painted("✗" if self.unicode else "no", "red")

    @property
    def arrows(self) -> tuple[str, str]:
        """(call, result) arrows for a run's transcript."""
        return ("→", "←") if self.unicode else ("->", "<-")

    @property
    def ellipsis(self) -> str:
        return "…" if self.unicode else "..."


def table(
    headers: Sequence[str], rows: Sequence[Sequence[str | Painted]], style: Style
) -> list[str]:
    """Lines of a table: columns aligned on the widest cell, two spaces apart, headers in
    bold, no trailing spaces."""
    texts = [[cell.text if isinstance(cell, Painted) else cell for cell in row] for row in rows]
    widths = [_width(header) for header in headers]
    for row in texts:
        for index, text in enumerate(row):
            widths[index] = max(widths[index], _width(text))
    lines = [_line([style.paint(h, "bold") for h in headers], list(headers), widths)]
    for row, plain in zip(rows, texts, strict=True):
        shown = [
            style.paint(cell.text, cell.colour) if isinstance(cell, Painted) else cell
            for cell in row
        ]
        lines.append(_line(shown, plain, widths))
    return lines


def printable(text: str) -> str:
    """``text`` with what a terminal would obey instead of show (control characters but
    newlines and tabs, bidirectional overrides) written as escapes: ``\\u001b``."""
    return _UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def shorten(text: str, limit: int, ellipsis: str = "…") -> str:
    """``text`` on one line (whitespace runs become one space), printable, cut to
    ``limit`` characters with ``ellipsis`` when longer."""
    flat = printable(" ".join(text[: limit * 4].split()))
    return flat if len(flat) <= limit else flat[: max(limit - len(ellipsis), 0)] + ellipsis


def _line(shown: Sequence[str], plain: Sequence[str], widths: Sequence[int]) -> str:
    """One row: every cell but the last padded to its column's width."""
    cells = [
        text + " " * (width - _width(raw))
        for text, raw, width in zip(shown, plain, widths, strict=True)
    ]
    cells[-1] = shown[-1]
    return "  ".join(cells).rstrip(" ")


def _width(text: str) -> int:
    """Columns ``text`` takes on a terminal: East Asian wide characters take two."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _encodes(text: str, encoding: str | None) -> bool:
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
