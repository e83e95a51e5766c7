"""Lossless re-shapings for restricted schemas, and their inverse on incoming arguments.

Strict modes (OpenAI, Anthropic) demand closed objects with every property required, and
some dialects (strict modes, Gemini, Workers AI at the top level) cannot say "any value", so
a few shapes must travel in another form. Each mapping below has a schema side, used when a
definition is rendered, and a value side, used when a call comes back:

==============================  ======================================  ======================
Python parameter                restricted shape                        mapped back by
==============================  ======================================  ======================
``x: int = 5`` (optional)       required, nullable: ``null`` = default  dropping the null
``d: dict[str, T]``             list of ``{"key": ..., "value": ...}``  rebuilding the dict
``t: tuple[A, B]``              object ``{"0": A, "1": B}``             rebuilding the list
``m: dict`` (free-form)         JSON-encoded string                     ``json.loads``
``x`` untyped, ``x: Any``       JSON-encoded string                     the validator itself
``p: list[Any]``, a model with  the whole parameter as a JSON-encoded   ``json.loads``
an ``Any`` field                string (its schema told in words)
==============================  ======================================  ======================

``repair_arguments`` maps values back. It runs only after the validator rejected the
arguments as sent, so a call that is valid as it is never pays for it, and a repair can only
turn an invalid input into a valid one: it never changes the meaning of an input the
function would accept. Models also often send a nested object or list as a JSON string; that
is repaired the same way.

A value of unknown type is the exception: any string is already a valid value, so a repair
would never run. The compiled validator decodes it instead (``decode_json_text``, a
before-validator on every top-level parameter of unknown type): a string holding JSON text
is decoded (``"5"`` is 5, ``"[1]"`` a list, ``"\\"hi\\""`` the string ``hi``), any other string
stays as it is. The rule is the same in every format, since a call does not say which
rendering the model saw; a parameter that must receive a text such as ``"42"`` unchanged
should be typed ``str``.
"""

from __future__ import annotations

import json
from typing import Any, cast

from pydantic_core import from_json

__all__ = [
    "accepts_null",
    "any_value_as_json",
    "decode_json_text",
    "dict_as_pairs",
    "free_object_as_json",
    "is_any_value",
    "is_free_object",
    "is_map",
    "repair_arguments",
    "tuple_as_object",
]

_MAX_DEPTH = 64  # deeper values are left alone; the validator reports them as they are


def is_map(schema: dict[str, Any]) -> bool:
    """``dict[K, V]``: an object schema with typed additional properties and no named ones."""
    extra = schema.get("additionalProperties")
    return (
        schema.get("type") == "object"
        and not schema.get("properties")
        and isinstance(extra, dict)
        and bool(extra)  # pyright: ignore[reportUnknownArgumentType]
    )


def is_free_object(schema: dict[str, Any]) -> bool:
    """``dict`` / ``dict[str, Any]``: an object that may hold anything."""
    if schema.get("type") != "object" or schema.get("properties"):
        return False
    extra = schema.get("additionalProperties", True)
    return extra is True or extra == {}


def dict_as_pairs(key_schema: dict[str, Any], value_schema: dict[str, Any]) -> dict[str, Any]:
    """The strict-mode stand-in for ``dict[K, V]``: a list of key/value objects."""
    return {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"key": key_schema, "value": value_schema},
            "required": ["key", "value"],
            "additionalProperties": False,
        },
    }


def tuple_as_object(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The strict-mode stand-in for a fixed-length tuple: an object keyed "0", "1", ..."""
    return {
        "type": "object",
        "properties": {str(i): item for i, item in enumerate(items)},
        "required": [str(i) for i in range(len(items))],
        "additionalProperties": False,
    }


def free_object_as_json(description: str | None) -> dict[str, Any]:
    """The strict-mode stand-in for a free-form object: its JSON text."""
    note = "A JSON object, encoded as a string."
    return {"type": "string", "description": f"{description} ({note})" if description else note}


def any_value_as_json(description: str | None, schema_text: str | None) -> dict[str, Any]:
    """The stand-in for a value a dialect cannot describe: its JSON text.

    Args:
        description: The parameter's own description, kept in front.
        schema_text: The JSON Schema the decoded value follows, as compact JSON; ``None``
            when the value may be anything.
    """
    if schema_text is None:
        note = "Any JSON value, encoded as a string."
    else:
        note = f"A JSON value encoded as a string, valid against this JSON Schema: {schema_text}."
    return {"type": "string", "description": f"{description} ({note})" if description else note}


# Keywords that describe a value without constraining it: a schema made of these alone
# accepts anything.
_ANNOTATION_KEYWORDS = frozenset(
    {"description", "default", "title", "examples", "$comment", "deprecated", "readOnly"}
)


def is_any_value(schema: Any) -> bool:
    """``{}`` (``Any``, an untyped parameter), perhaps with a description or a default."""
    return isinstance(schema, dict) and not set(schema) - _ANNOTATION_KEYWORDS  # pyright: ignore[reportUnknownArgumentType]


def decode_json_text(value: Any) -> Any:
    """The value of a parameter of unknown type: a string holding JSON text is decoded (strict
    JSON: ``NaN`` stays a string), anything else is returned as it is."""
    if isinstance(value, str):
        try:
            return from_json(value, allow_inf_nan=False)
        except ValueError:
            return value
    return value


def accepts_null(schema: Any, defs: dict[str, Any]) -> bool:
    """Whether ``null`` is a valid value under ``schema`` (so it cannot mean "use the default")."""
    if not isinstance(schema, dict) or not schema:
        return True  # {} is Any
    ref = schema.get("$ref")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if isinstance(ref, str):
        return accepts_null(defs.get(ref.rsplit("/", 1)[-1], {}), defs)
    kind = schema.get("type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in schema.get("enum", ()) or ("const" in schema and schema["const"] is None):  # pyright: ignore[reportUnknownMemberType]
        return True
    branches: list[Any] = schema.get("anyOf") or schema.get("oneOf") or []  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if any(accepts_null(b, defs) for b in branches):  # pyright: ignore[reportUnknownVariableType]
        return True
    return (
        kind is None
        and not branches
        and "enum" not in schema
        and "const" not in schema
        and "$ref" not in schema
    )


def repair_arguments(value: Any, schema: dict[str, Any]) -> Any:
    """Map ``value`` back from strict-mode shapes under the neutral ``schema``.

    Returns ``value`` itself (the same object) when nothing needed mapping.
    """
    return _repair(value, schema, schema.get("$defs", {}), 0)


def _repair(value: Any, schema: Any, defs: dict[str, Any], depth: int) -> Any:
    if depth > _MAX_DEPTH or not isinstance(schema, dict):
        return value
    ref = schema.get("$ref")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if isinstance(ref, str):
        schema = defs.get(ref.rsplit("/", 1)[-1], {})
    branches: list[Any] = schema.get("anyOf") or schema.get("oneOf") or []  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if branches:
        # Re-shape only for a branch that cannot take the value as it came: under
        # ``list[int] | str`` the text "[1, 2]" is a valid string and must stay one, and under
        # ``dict[str, str] | list[dict[str, str]]`` a list of key/value objects stays a list.
        # (The validator rejected the call as a whole, maybe for another argument, so this
        # value may well be valid as it is.)
        as_is = [b for b in branches if _takes_as_is(value, b, defs)]  # pyright: ignore[reportUnknownVariableType]
        if not as_is and value == "null" and accepts_null(schema, defs):
            return None  # a nullable value sent as JSON text, null included
        for branch in cast("list[Any]", as_is or branches):
            repaired = _repair(value, branch, defs, depth + 1)
            if repaired is not value:
                return repaired
        return value
    kind = schema.get("type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if kind == "object":
        return _repair_object(value, schema, defs, depth)  # pyright: ignore[reportUnknownArgumentType]
    if kind == "array":
        return _repair_array(value, schema, defs, depth)  # pyright: ignore[reportUnknownArgumentType]
    return value


_JSON_TYPES: tuple[tuple[type, str], ...] = ((str, "string"), (list, "array"), (dict, "object"))


def _takes_as_is(value: Any, schema: Any, defs: dict[str, Any]) -> bool:
    """Whether ``schema`` has the JSON type of ``value`` (a string, array or object) as it is."""
    if not isinstance(schema, dict):
        return True
    ref = schema.get("$ref")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if isinstance(ref, str):
        schema = defs.get(ref.rsplit("/", 1)[-1], {})
    if not schema:
        return True  # {} is Any
    kind = schema.get("type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    for python_type, json_type in _JSON_TYPES:
        if isinstance(value, python_type):
            return kind == json_type or (isinstance(kind, list) and json_type in kind)  # pyright: ignore[reportUnknownVariableType]
    return False


def _decoded(value: Any, expected: type) -> Any:
    """A structured value that arrived as JSON text, decoded; else the value unchanged."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        if isinstance(decoded, expected):
            return decoded
    return value


def _repair_object(value: Any, schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    original = value
    value = _decoded(value, dict)
    if is_map(schema) and isinstance(value, list):
        value = _pairs_to_dict(value)  # pyright: ignore[reportUnknownArgumentType]
    if not isinstance(value, dict):
        return original
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required", ()))
    extra = schema.get("additionalProperties")
    repaired: dict[str, Any] = {}
    changed = value is not original
    for key, item in value.items():  # pyright: ignore[reportUnknownVariableType]
        sub = properties.get(key, extra)  # pyright: ignore[reportUnknownArgumentType]
        if (
            key in properties
            and key not in required
            and not accepts_null(sub, defs)
            # null, or null sent as JSON text where the value itself is never a string
            and (item is None or (item == "null" and not _takes_as_is(item, sub, defs)))
        ):
            changed = True  # strict mode's "null means use the default"
            continue
        new = _repair(item, sub, defs, depth + 1)
        changed = changed or new is not item
        repaired[key] = new  # pyright: ignore[reportUnknownArgumentType]
    return repaired if changed else original


def _pairs_to_dict(items: list[Any]) -> Any:
    if all(isinstance(i, dict) and set(i) == {"key", "value"} for i in items):  # pyright: ignore[reportUnknownArgumentType]
        return {i["key"]: i["value"] for i in items}
    return items


def _repair_array(value: Any, schema: dict[str, Any], defs: dict[str, Any], depth: int) -> Any:
    original = value
    value = _decoded(value, list)
    prefix: list[Any] | None = schema.get("prefixItems")
    if prefix is not None and isinstance(value, dict):
        keys = [str(i) for i in range(len(value))]  # pyright: ignore[reportUnknownArgumentType]
        if sorted(value) == sorted(keys):  # pyright: ignore[reportUnknownArgumentType]
            value = [value[k] for k in keys]
    if not isinstance(value, list):
        return original
    items_schema = schema.get("items")
    repaired: list[Any] = []
    changed = value is not original
    for index, item in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        sub = prefix[index] if prefix is not None and index < len(prefix) else items_schema
        new = _repair(item, sub, defs, depth + 1)
        changed = changed or new is not item
        repaired.append(new)
    return repaired if changed else original
