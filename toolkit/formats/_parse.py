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

__all__ = [
    "arguments_mapping",
    "arguments_text",
    "as_list",
    "build_call",
    "describe",
    "field",
    "generated_id",
    "has",
    "is_generated",
    "json_text",
    "plain",
    "rename_calls",
    "token_count",
    "unique_ids",
]

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


def plain(value: Any, protocol: str, where: str = "a value") -> dict[str, Any]:
    """An SDK object or a mapping as a fresh plain dict: SDK models through their
    ``model_dump`` (API field names, ``None`` fields left out), mappings copied, ``None`` as
    ``{}``.

    Raises:
        ValueError: ``value`` is neither (naming the protocol and where it was found).
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(cast("Mapping[str, Any]", value))
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        dumped = dump(mode="json", by_alias=True, exclude_none=True)
        if isinstance(dumped, dict):
            return cast("dict[str, Any]", dumped)
    raise ValueError(f"{protocol}: {where} is not an object: {describe(value)}")


def arguments_text(arguments: str | Mapping[str, Any] | None) -> str:
    """A call's arguments as the JSON text an assistant message carries."""
    if isinstance(arguments, str):
        return arguments
    return json_text(dict(arguments) if arguments is not None else {})


def arguments_mapping(arguments: object) -> dict[str, Any]:
    """A call's arguments as a dict: JSON text decoded, a mapping copied; ``{}`` for
    anything that is not an object (the registry reports those to the model)."""
    if isinstance(arguments, str):
        if not arguments or arguments.isspace():
            return {}
        try:
            decoded = json.loads(arguments)
        except (ValueError, RecursionError):
            return {}  # valid for the validator (it repairs what it can), not for json
        return decoded if isinstance(decoded, dict) else {}  # pyright: ignore[reportUnknownVariableType]
    return dict(arguments) if isinstance(arguments, Mapping) else {}  # pyright: ignore[reportUnknownArgumentType]


def json_text(value: Any, *, sort_keys: bool = False) -> str:
    """``value`` as JSON text, whatever a model put in it: values JSON lacks become their
    ``str``, and a value nested too deeply to encode becomes ``"null"`` (the registry
    reports such arguments to the model; nothing here may raise for them)."""
    try:
        return json.dumps(value, sort_keys=sort_keys, default=str)
    except (RecursionError, ValueError, TypeError):
        return "null"


def unique_ids(calls: list[ToolCall]) -> list[ToolCall]:
    """``calls`` with every repeated id made unique (``"x"``, ``"x_2"``, ...), so that a
    result, an approval or a denial always belongs to exactly one call. The first call
    keeps its id; a list without repeats is returned as it is."""
    seen = {call.id for call in calls}
    if len(seen) == len(calls):
        return calls
    used: set[str] = set()
    suffix: dict[str, int] = {}  # the next number to try per repeated id: linear in all
    unique: list[ToolCall] = []
    for call in calls:
        new_id = call.id
        while new_id in used or (new_id != call.id and new_id in seen):
            suffix[call.id] = number = suffix.get(call.id, 1) + 1
            new_id = f"{call.id}_{number}"
        used.add(new_id)
        unique.append(
            call
            if new_id == call.id
            else ToolCall(id=new_id, name=call.name, arguments=call.arguments)
        )
    return unique


def token_count(usage: Any, key: str) -> int:
    """A token count of a reply's usage: the number when it is a non-negative integer, else
    0 (a provider's odd or missing field never fails a reply)."""
    number = field(usage, key) if usage is not None else None
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        return 0
    return number


def rename_calls(
    items: list[dict[str, Any]], calls: list[ToolCall], *, kind: str, id_key: str
) -> None:
    """Give the items of type ``kind`` (in order, one per call) the ids ``unique_ids`` gave
    their calls, under ``id_key``, so that a history kept as the provider sent it and the
    results answering it agree on which call is which."""
    position = 0
    for index, item in enumerate(items):
        if item.get("type") == kind:
            if item.get(id_key) != calls[position].id:
                items[index] = {**item, id_key: calls[position].id}
            position += 1


def describe(value: Any) -> str:
    """A short description of an unexpected value, for error messages."""
    if isinstance(value, Mapping):
        keys = sorted(str(k) for k in cast("Mapping[Any, Any]", value))
        return f"a dict with keys {keys}"
    return f"a {type(value).__name__}"


def generated_id(position: int, name: str, arguments: str | Mapping[str, Any] | None) -> str:
    """A call id made from the call itself: the same call at the same position gets the same
    id in every run, so recorded conversations replay identically."""
    text = arguments if isinstance(arguments, str) else json_text(arguments, sort_keys=True)
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
        arguments = json_text(arguments)
    args = cast("str | Mapping[str, Any] | None", arguments)
    if call_id is None or call_id == "":
        call_id = generated_id(position, name, args)
    elif not isinstance(call_id, str):
        raise ValueError(f"{protocol}: {where} has an id that is not a string: {call_id!r}")
    return ToolCall(id=call_id, name=name, arguments=args)
