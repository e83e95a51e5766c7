"""``Change``: what rendering a tool for a provider altered (kept apart so that naming a
format does not load the schema walker)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Change"]


@dataclass(frozen=True, slots=True)
class Change:
    """One thing a rendering changed in the neutral schema.

    Attributes:
        path: Where, as a JSON path into the rendered definition's schema (``$`` is its root).
        message: What changed and why.
        lossy: ``True`` when the model no longer sees some information (the validator still
            enforces it); ``False`` for lossless re-shapings.
    """

    path: str
    message: str
    lossy: bool
