"""Neutral model settings in each protocol's spelling.

``max_tokens``, ``temperature``, ``top_p``, ``stop`` and ``seed`` mean the same on every
backend (``toolkit.model.ModelSettings``); each codec names its spelling of them here and
``translate`` rewrites a request's settings with it. Any other key is the provider's own and
passes through unchanged, so nothing a provider adds is out of reach.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Spelling", "sequences", "translate"]

Spelling = Mapping[str, "tuple[str, Callable[[Any], Any]] | str | None"]
"""Neutral name -> the protocol's key (with a conversion of the value, when it needs one),
or ``None`` when the protocol has no such setting."""


def translate(settings: Mapping[str, Any], spelling: Spelling, protocol: str) -> dict[str, Any]:
    """``settings`` with every neutral key in ``protocol``'s spelling.

    Raises:
        ValueError: a neutral setting has no equivalent in ``protocol``, or it is given
            twice (neutral and native spellings at once).
    """
    translated: dict[str, Any] = {}
    for key, value in settings.items():
        if key not in spelling:
            translated[key] = value
            continue
        native = spelling[key]
        if native is None:
            raise ValueError(
                f"{protocol}: the setting {key!r} has no equivalent in this protocol; "
                "leave it out for this backend"
            )
        name, convert = native if isinstance(native, tuple) else (native, None)
        if name != key and name in settings:
            raise ValueError(
                f"{protocol}: settings give both {key!r} and its native spelling {name!r}; keep one"
            )
        translated[name] = value if convert is None else convert(value)
    return translated


def sequences(value: Any) -> list[Any]:
    """A ``stop`` value as the list of sequences some protocols require."""
    return [value] if isinstance(value, str) else list(value)
