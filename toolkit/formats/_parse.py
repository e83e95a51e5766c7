"""What every codec needs to read a provider's reply: field access that works on plain dicts
and SDK objects alike, stable ids for calls that come without one, and clear errors.

SDK objects are read by duck typing (attributes), so no provider SDK is imported here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, cast

from toolkit.calls import ToolCall

__all__ = ["as_list", "build_call", "describe", "field", "generated_id", "has", "is_generated"]

_GENERATED = re.compile(r"call_[0-9a-f]{12}")


def field(obj: Any, key: str) -> Any:
    """``obj[key]`` for a mapping, ``obj.key`` for an SDK object, ``None`` when absent."""
    if isinstance(obj, Mapping):
        return cast("Mapping[str, Any]", obj).get(key)
    return getattr(obj, key, None)


def has(obj: Any, key: str) -> bool:
    """Whether ``obj`` carries ``key`` at all (even as ``None``)."""
    if isinstance(obj, Mapping):
        return key in obj
    return hasattr(obj, key)


def as_list(value: Any) -> list[Any] | None:
    """``value`` as a list when it is a list or tuple, else ``None``."""
    if isinstance(value, (list, tuple)):
        return list(cast("list[Any] | tuple[Any, ...]", value))
    return None


def describe(value: Any) -> str:
    """A short description of an unexpected value, for error messages."""
    if isinstance(value, Mapping):
        keys = sorted(str(k) for k in cast("Mapping[Any, Any]", value))
        return f"a dict with keys {keys}"
    return f"a {type(value).__name__}"


def generated_id(position: int, name: str, arguments: str | Mapping[str, Any] | None) -> str:
    """A call id made from the call itself: the same call at the same position gets the same
    id in every run, so recorded conversations replay identically."""
    text = (
        arguments
        if isinstance(arguments, str)
        else json.dumps(arguments, sort_keys=True, default=str)
    )
    digest = hashlib.sha256(f"{position}\n{name}\n{text}".encode()).hexdigest()
    return f"call_{digest[:12]}"


def is_generated(call_id: str) -> bool:
    """Whether ``call_id`` was made by ``generated_id`` (the provider sent none)."""
    return _GENERATED.fullmatch(call_id) is not None


def build_call(
    protocol: str, where: str, *, call_id: Any, name: Any, arguments: Any, position: int
) -> ToolCall:
    """A ``ToolCall`` from the pieces a codec found, checked.

    Arguments stay as received (a JSON string, even a broken one, or a mapping); any other
    value becomes its JSON text, so the registry reports it to the model as not an object.

    Raises:
        ValueError: the name is missing or not a string, or the id is not a string.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"{protocol}: {where} has no tool name (got {name!r})")
    if arguments is not None and not isinstance(arguments, (str, Mapping)):
        arguments = json.dumps(arguments, default=str)
    args = cast("str | Mapping[str, Any] | None", arguments)
    if call_id is None or call_id == "":
        call_id = generated_id(position, name, args)
    elif not isinstance(call_id, str):
        raise ValueError(f"{protocol}: {where} has an id that is not a string: {call_id!r}")
    return ToolCall(id=call_id, name=name, arguments=args)
