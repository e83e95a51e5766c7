"""Tool names a provider will accept, derived deterministically from the Python name."""

from __future__ import annotations

import hashlib
import re

from toolkit.formats._transform import Change

__all__ = ["NameRule"]


class NameRule:
    """A provider's tool-name rule and the mapping of other names onto it.

    Characters outside the allowed set become ``_``; a name still too long keeps its head
    and ends with 8 hex digits of a hash of the full name, so distinct long names stay
    distinct. The registry keeps the original name for each wire name it sends.
    """

    __slots__ = ("_bad", "_valid", "max_length")

    def __init__(self, allowed: str, max_length: int) -> None:
        self._valid = re.compile(f"[{allowed}]{{1,{max_length}}}")
        self._bad = re.compile(f"[^{allowed}]")
        self.max_length = max_length

    def legal(self, name: str) -> str:
        """``name`` if the provider accepts it, else its deterministic legal stand-in."""
        if self._valid.fullmatch(name):
            return name
        legal = self._bad.sub("_", name) or "_"
        if len(legal) > self.max_length:
            digest = hashlib.sha256(name.encode()).hexdigest()[:8]
            legal = f"{legal[: self.max_length - 9]}_{digest}"
        return legal

    def renamed(self, name: str) -> tuple[str, tuple[Change, ...]]:
        """The legal name and, if it differs, the change that reports it."""
        legal = self.legal(name)
        if legal == name:
            return name, ()
        return legal, (Change("$.name", f"name {name!r} sent as {legal!r}", lossy=False),)
