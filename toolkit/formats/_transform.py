"""Rewrite the neutral JSON Schema into the dialect a provider accepts, reporting each change.

One walker serves every format; a ``Rules`` value says what the target dialect allows.
Whatever the target cannot express is, in order of preference: mapped losslessly (see
``toolkit._lossless``), moved into the description as plain words (the validator still
enforces it), dropped with a reported change, or refused with ``ToolDefinitionError``.

A value of any type (``Any``, an untyped parameter) is the one thing some dialects have no
word for at all: the top-level parameter that holds it is sent as its JSON text instead,
its schema told in the description, and decoded when the call comes back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from toolkit._lossless import (
    accepts_null,
    any_value_as_json,
    dict_as_pairs,
    free_object_as_json,
    is_any_value,
    is_free_object,
    is_map,
    tuple_as_object,
)
from toolkit.errors import ToolDefinitionError
from toolkit.formats._change import Change

__all__ = ["Change", "Rules", "convert_schema"]

# Keywords that shape the walk itself; every other keyword is checked against the rules.
_STRUCTURAL = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        "$defs",
        "description",
    }
)

# Constraints the validator enforces that can be told to the model in words instead.
_IN_WORDS: dict[str, Callable[[Any], str]] = {
    "minLength": lambda v: f"at least {v} characters",
    "maxLength": lambda v: f"at most {v} characters",
    "pattern": lambda v: f"matches the regular expression {v}",
    "format": lambda v: f"format: {v}",
    "minimum": lambda v: f"at least {v}",
    "maximum": lambda v: f"at most {v}",
    "exclusiveMinimum": lambda v: f"greater than {v}",
    "exclusiveMaximum": lambda v: f"less than {v}",
    "multipleOf": lambda v: f"a multiple of {v}",
    "minItems": lambda v: f"at least {v} items",
    "maxItems": lambda v: f"at most {v} items",
    "uniqueItems": lambda v: "items are unique" if v else "",
    "minProperties": lambda v: f"at least {v} entries",
    "maxProperties": lambda v: f"at most {v} entries",
    "default": lambda v: f"default: {json.dumps(v)}",
    "const": lambda v: f"must be {json.dumps(v)}",
    "enum": lambda v: "one of " + ", ".join(json.dumps(x) for x in v),
}
_KEY_ORDER = {key: i for i, key in enumerate(_IN_WORDS)}
# Keywords that carry nothing a model needs; dropping them loses nothing.
_NOISE = frozenset({"title", "discriminator", "examples", "$schema", "$id", "$comment"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Rules:
    """What one provider dialect accepts.

    Attributes:
        keywords: Keywords (beyond the structural ones) that may pass through unchanged.
        strict: Close every object (and map the shapes a closed object cannot hold).
        refs: ``"keep"`` $refs, inline the ``"non-recursive"`` ones, or inline ``"all"``
            (and refuse recursive types).
        type_lists: ``["string", "null"]`` is allowed (otherwise use anyOf or nullable).
        nullable_keyword: Nullability is spelled ``nullable: true`` (OpenAPI style).
        free_objects: Objects without named properties are allowed.
        typed_extra: ``additionalProperties`` may be a schema (dict values).
        tuples: ``prefixItems`` is allowed.
        one_of: ``oneOf`` is allowed (otherwise it becomes ``anyOf``).
        string_enums_only: ``enum`` may only list strings.
        upper_types: Type names in upper case (``"STRING"``).
        ref_siblings: A ``$ref`` may carry a sibling ``description``.
        recursion: Recursive types (a ``$ref`` back to an enclosing definition) are allowed.
        formats: The ``format`` values allowed (``None``: any); others are told in words.
        require_all: Every property is required; optional ones become nullable (needs strict).
        drop_null_branch: An optional property's ``null`` branch is removed (``null`` and
            absence mean the same for it).
        describe_properties: Every top-level property must have a description.
        min_items_at_most: The largest ``minItems`` allowed; larger ones are told in words.
        any_values: A schema that allows any value (``{}``) may appear; otherwise the
            top-level parameter holding one is sent as its JSON text.
        typed_properties: Every top-level property has one ``type``: a top-level parameter
            of any type is sent as its JSON text.
        dialect: The provider's name, for messages.
    """

    keywords: frozenset[str]
    strict: bool = False
    refs: Literal["keep", "non-recursive", "all"] = "keep"
    type_lists: bool = True
    nullable_keyword: bool = False
    free_objects: bool = True
    typed_extra: bool = True
    tuples: bool = True
    one_of: bool = True
    string_enums_only: bool = False
    upper_types: bool = False
    ref_siblings: bool = True
    recursion: bool = True
    require_all: bool = False
    drop_null_branch: bool = False
    describe_properties: bool = False
    min_items_at_most: int | None = None
    formats: frozenset[str] | None = None
    any_values: bool = True
    typed_properties: bool = False
    dialect: str = ""


class _AnyValue(Exception):
    """A value of any type met where the dialect cannot say "any value" (a signal inside
    the walk: the enclosing parameter catches it)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


@dataclass
class _Walk:
    rules: Rules
    defs: dict[str, Any]
    qualname: str
    changes: list[Change] = field(default_factory=list[Change])
    used_defs: dict[str, Any] = field(default_factory=dict[str, Any])
    recursive: frozenset[str] = frozenset()

    def change(self, path: str, message: str, *, lossy: bool) -> None:
        self.changes.append(Change(path, message, lossy))

    def refuse(self, path: str, message: str) -> ToolDefinitionError:
        param = path.split(".")[2] if path.startswith("$.properties.") else None
        return ToolDefinitionError.single(self.qualname, param, f"{message} (at {path})")

    # -- one node ------------------------------------------------------------------------------

    def node(self, schema: Any, path: str, *, optional: bool = False, default: Any = None) -> Any:
        if not isinstance(schema, dict):
            return schema
        schema = cast("dict[str, Any]", dict(schema))  # pyright: ignore[reportUnknownArgumentType]
        if "$ref" in schema:
            schema = self.ref(schema, path)
            if "$ref" in schema:
                return self.finish(schema, path, optional, default)
        parts = schema.get("allOf")
        if isinstance(parts, list) and len(parts) == 1:  # pyright: ignore[reportUnknownArgumentType]
            del schema["allOf"]  # a one-part allOf is just that part, with our keywords on top
            schema = {**self.node(parts[0], path), **schema}
        if "oneOf" in schema and not self.rules.one_of:
            schema["anyOf"] = schema.pop("oneOf")
            self.change(path, "oneOf rewritten as anyOf", lossy=False)
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                schema[combinator] = [
                    self.node(b, f"{path}.{combinator}[{i}]")
                    for i, b in enumerate(schema[combinator])
                ]
        kind = schema.get("type")
        if kind == "object":
            schema = self.object(schema, path)
        elif kind == "array":
            schema = self.array(schema, path)
        elif not self.rules.any_values and is_any_value(schema):
            raise _AnyValue(path)  # the top-level parameter travels as JSON text
        return self.finish(schema, path, optional, default)

    def ref(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        ref = schema.pop("$ref")
        name = ref.rsplit("/", 1)[-1]
        target = self.defs.get(name)
        if target is None:
            raise self.refuse(path, f"$ref {ref!r} points to nothing")
        inline = self.rules.refs == "all" or (
            self.rules.refs == "non-recursive" and name not in self.recursive
        )
        if name in self.recursive and not self.rules.recursion:
            raise self.refuse(
                path,
                f"the recursive type {name!r} cannot be expressed in {self.rules.dialect}'s "
                "schemas; make it non-recursive or render without strict mode",
            )
        if inline:
            if name in self.recursive:
                raise self.refuse(
                    path,
                    f"the recursive type {name!r} cannot be expressed in {self.rules.dialect}'s "
                    "schema subset; make it non-recursive",
                )
            expanded = self.node(target, path)
            if schema.get("description"):
                expanded["description"] = schema["description"]
            return expanded
        if name not in self.used_defs:
            self.used_defs[name] = None  # placeholder first: recursion reaches here again
            self.used_defs[name] = self.node(target, f"$.$defs.{name}")
        kept: dict[str, Any] = {"$ref": f"#/$defs/{name}"}
        if schema.get("description"):
            if self.rules.ref_siblings:
                kept["description"] = schema["description"]
            else:
                kept = {"anyOf": [kept], "description": schema["description"]}
        return kept

    def object(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        rules = self.rules
        properties: dict[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        if not properties and is_map(schema) and (rules.strict or not rules.typed_extra):
            key_schema: dict[str, Any] = schema.get("propertyNames") or {"type": "string"}
            self.change(path, "dict mapped to a list of {key, value} objects", lossy=False)
            pairs = dict_as_pairs(key_schema, extra)  # pyright: ignore[reportArgumentType]
            if "description" in schema:
                pairs["description"] = schema["description"]
            return self.node(pairs, path)
        if not properties and is_free_object(schema) and (rules.strict or not rules.free_objects):
            self.change(path, "free-form object sent as a JSON-encoded string", lossy=False)
            return free_object_as_json(schema.get("description"))
        if (
            properties
            and isinstance(extra, dict)
            and extra
            and (rules.strict or not rules.typed_extra)
        ):
            raise self.refuse(
                path,
                f"an object with both named and typed extra properties cannot be expressed in "
                f"{rules.dialect}'s schemas; drop **kwargs or the extra items",
            )
        required = list(schema.get("required", ()))
        new_props: dict[str, Any] = {}
        for key, declared in properties.items():
            optional = key not in required
            if path == "$" and isinstance(declared, dict):
                new_props[key] = self.parameter(cast("dict[str, Any]", declared), key, optional)
            else:
                new_props[key] = self.node(
                    declared,
                    f"{path}.properties.{key}",
                    optional=optional and rules.require_all,
                    default=declared.get("default") if isinstance(declared, dict) else None,  # pyright: ignore[reportUnknownMemberType]
                )
            if rules.describe_properties and path == "$" and not new_props[key].get("description"):
                new_props[key]["description"] = _humanised(key)
        if new_props or "properties" in schema:
            schema["properties"] = new_props
        schema.pop("propertyNames", None)
        if rules.strict:
            schema["required"] = list(new_props) if rules.require_all else required
            if not schema["required"] and not rules.require_all:
                del schema["required"]  # OpenAI wants `required: []` even then; Anthropic not
            if extra not in (None, False):
                self.change(path, "extra keys are not allowed in strict mode", lossy=True)
            schema["additionalProperties"] = False
        else:
            if required:
                schema["required"] = required
            if "additionalProperties" in schema and (
                not rules.typed_extra and not rules.free_objects
            ):
                del schema["additionalProperties"]
            elif isinstance(extra, dict):
                schema["additionalProperties"] = self.node(extra, f"{path}.additionalProperties")
        return schema

    def parameter(self, declared: dict[str, Any], key: str, optional: bool) -> dict[str, Any]:
        """One top-level property: a parameter of the function."""
        rules = self.rules
        path = f"$.properties.{key}"
        if rules.typed_properties and _holds_anything(declared, self.defs):
            return self.json_text(declared, path, optional=optional)
        sub = declared
        if rules.drop_null_branch:
            sub = self.without_null_branch(declared, key, optional)
        changes, defs = len(self.changes), len(self.used_defs)
        try:
            converted = self.node(
                sub, path, optional=optional and rules.require_all, default=sub.get("default")
            )
        except _AnyValue:
            # Forget what the attempt did, definitions included (the parameter's own are
            # told in its description now).
            del self.changes[changes:]
            for name in list(self.used_defs)[defs:]:
                del self.used_defs[name]
            return self.json_text(declared, path, optional=optional)
        if rules.typed_properties and "type" not in converted and "$ref" in converted:
            # a recursive type stays a $ref; the dialect still wants the property's type
            kind = _resolved(converted, self.defs).get("type")
            if isinstance(kind, str):
                converted["type"] = kind
        return converted

    def json_text(self, declared: dict[str, Any], path: str, *, optional: bool) -> dict[str, Any]:
        """A parameter holding a value of any type, sent as its JSON text.

        A parameter of unknown type itself is decoded by the validator; a structured one
        (``list[Any]``, a model with an ``Any`` field) by the repair of strict-mode shapes,
        which decodes JSON text where an object or array is due.
        """
        rules = self.rules
        anything = _holds_anything(declared, self.defs)
        body = {k: v for k, v in declared.items() if k not in ("description", "default")}
        schema = any_value_as_json(
            declared.get("description"), None if anything else self.schema_text(body)
        )
        if anything:
            self.change(path, "value of any type sent as a JSON-encoded string", lossy=False)
        elif _takes_text(declared, self.defs):
            self.change(
                path,
                "sent as a JSON-encoded string (it holds a value of any type), though a "
                "string value cannot be told from JSON text",
                lossy=True,
            )
        else:
            self.change(
                path,
                "sent as a JSON-encoded string (it holds a value of any type); its schema "
                "told in the description",
                lossy=False,
            )
        takes_null = accepts_null(declared, self.defs)
        has_default = "default" in declared
        default = declared.get("default")
        if optional and rules.require_all and not takes_null:
            return self.finish(schema, path, True, default)  # null = default, as for others
        # JSON null is a value of the type here: said as such where the dialect can (a value
        # of unknown type needs no null: its JSON text "null" says it).
        nullable = takes_null and (not anything or (has_default and default is None))
        if nullable and (rules.type_lists or rules.nullable_keyword):
            schema["type"] = ["string", "null"]  # finish() spells it for the dialect
        else:
            nullable = False
        if optional and has_default and default is not None and rules.require_all:
            text = json.dumps(json.dumps(default))
            schema["description"] = f"{schema['description']} Default: {text}."
        elif optional and has_default and not rules.require_all:
            schema["default"] = None if nullable and default is None else json.dumps(default)
        return self.finish(schema, path, False, None)

    def schema_text(self, body: dict[str, Any]) -> str:
        """``body`` as compact JSON, with the definitions it refers to."""
        needed: set[str] = set()
        stack = list(_refs_in(body))
        while stack:
            name = stack.pop()
            if name not in needed and name in self.defs:
                needed.add(name)
                stack.extend(_refs_in(self.defs[name]))
        if needed:
            body = {**body, "$defs": {n: d for n, d in self.defs.items() if n in needed}}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)

    def array(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and (self.rules.strict or not self.rules.tuples):
            self.change(path, 'tuple mapped to an object keyed "0", "1", ...', lossy=False)
            mapped = tuple_as_object(prefix)  # pyright: ignore[reportUnknownArgumentType]
            if "description" in schema:
                mapped["description"] = schema["description"]
            return self.node(mapped, path)
        if isinstance(prefix, list):
            schema["prefixItems"] = [
                self.node(p, f"{path}.prefixItems[{i}]")
                for i, p in enumerate(prefix)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
            ]
        if "items" in schema:
            schema["items"] = self.node(schema["items"], f"{path}.items")
        return schema

    def without_null_branch(
        self, schema: dict[str, Any], key: str, optional: bool
    ) -> dict[str, Any]:
        """``X | None`` as plain ``X``, for dialects that want one ``type`` per property.

        With a default of ``None`` nothing is lost (absence says the same); otherwise the
        description says that null is accepted too.
        """
        branches = schema.get("anyOf")
        if not isinstance(branches, list) or {"type": "null"} not in branches:
            return schema
        rest = [b for b in branches if b != {"type": "null"}]  # pyright: ignore[reportUnknownVariableType]
        if len(rest) != 1:  # pyright: ignore[reportUnknownArgumentType]
            return schema
        kept: dict[str, Any] = rest[0]  # pyright: ignore[reportUnknownVariableType]
        merged = {**kept, **{k: v for k, v in schema.items() if k != "anyOf"}}
        if optional and merged.get("default", 0) is None:
            del merged["default"]
            return merged
        described = str(merged.get("description") or f"{_humanised(key)}.")
        merged["description"] = f"{described} May be null."
        self.change(f"$.properties.{key}", "null branch told in the description", lossy=True)
        return merged

    # -- keywords, nullability, spelling ---------------------------------------------------------

    def finish(
        self, schema: dict[str, Any], path: str, optional: bool, default: Any
    ) -> dict[str, Any]:
        rules = self.rules
        words: list[str] = []
        if rules.string_enums_only:
            self.string_enums(schema, path, words)
        if optional:
            schema.pop("default", None)  # said below, together with how to ask for it
        # In a fixed order, so descriptions do not depend on pydantic's key order.
        for key in sorted(schema, key=lambda k: _KEY_ORDER.get(k, -1)):
            allowed = key in _STRUCTURAL or key in rules.keywords
            if key == "minItems" and rules.min_items_at_most is not None:
                allowed = allowed and schema[key] <= rules.min_items_at_most
            if allowed and (
                key != "format" or rules.formats is None or schema[key] in rules.formats
            ):
                continue
            value = schema.pop(key)
            if key in _NOISE:
                continue
            text = _IN_WORDS[key](value) if key in _IN_WORDS else ""
            if text:
                words.append(text)
                self.change(
                    path,
                    f"{key!r} is not supported by {rules.dialect}; told in the description",
                    lossy=True,
                )
            else:
                self.change(
                    path, f"{key!r} is not supported by {rules.dialect}; dropped", lossy=True
                )
        null_hint = ""
        if optional and not accepts_null(schema, self.defs):
            schema = self.nullable(schema)
            null_hint = (
                f"Null means the default: {json.dumps(default)}."
                if default is not None
                else "Null means not given."
            )
            self.change(
                path, "optional parameter made required and nullable (null = default)", lossy=False
            )
        elif optional and default is not None:
            self.change(
                path,
                f"the default {json.dumps(default)} cannot be asked for in strict mode "
                "(null is a valid value of the type, so it means null)",
                lossy=True,
            )
        notes = [f"Constraints: {', '.join(w for w in words if w)}."] if any(words) else []
        if null_hint:
            notes.append(null_hint)
        if notes:
            described = schema.get("description", "")
            schema["description"] = " ".join([described, *notes] if described else notes)
        if rules.nullable_keyword:
            schema = self.openapi_nullable(schema)
        if rules.upper_types and isinstance(schema.get("type"), str):
            schema["type"] = schema["type"].upper()
        return schema

    def nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        kind = schema.get("type")
        if (
            isinstance(kind, str)
            and self.rules.type_lists
            and "enum" not in schema
            and "const" not in schema
        ):
            schema["type"] = [kind, "null"]
            return schema
        if self.rules.nullable_keyword:
            schema["nullable"] = True
            return schema
        description = schema.pop("description", None)
        wrapped: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
        if description:
            wrapped["description"] = description
        return wrapped

    def openapi_nullable(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``anyOf[X, null]`` and ``type: [X, "null"]`` become ``X`` with ``nullable: true``."""
        kind = schema.get("type")
        if isinstance(kind, list):
            rest = [k for k in kind if k != "null"]  # pyright: ignore[reportUnknownVariableType]
            schema["type"] = rest[0] if len(rest) == 1 else rest  # pyright: ignore[reportUnknownArgumentType]
            schema["nullable"] = True
        branches = schema.get("anyOf")
        if isinstance(branches, list):
            non_null = [b for b in branches if b not in ({"type": "null"}, {"type": "NULL"})]  # pyright: ignore[reportUnknownVariableType]
            if len(non_null) < len(branches):  # pyright: ignore[reportUnknownArgumentType]
                if len(non_null) == 1:  # pyright: ignore[reportUnknownArgumentType]
                    merged: dict[str, Any] = {**non_null[0], "nullable": True}
                    if "description" in schema:
                        merged["description"] = schema["description"]
                    return merged
                schema["anyOf"] = non_null
                schema["nullable"] = True
        return schema

    def string_enums(self, schema: dict[str, Any], path: str, words: list[str]) -> None:
        if "const" in schema:
            schema["enum"] = [schema.pop("const")]
            self.change(path, "const written as a one-value enum", lossy=False)
        values = schema.get("enum")
        if isinstance(values, list) and not all(isinstance(v, str) for v in values):  # pyright: ignore[reportUnknownVariableType]
            del schema["enum"]
            words.append(_IN_WORDS["enum"](values))
            self.change(path, "non-string enum told in the description", lossy=True)


def convert_schema(
    schema: dict[str, Any], rules: Rules, qualname: str
) -> tuple[dict[str, Any], list[Change]]:
    """Rewrite a neutral object schema for ``rules``; return it with the changes made.

    Raises:
        ToolDefinitionError: a part of the schema cannot be expressed under ``rules``.
    """
    defs: dict[str, Any] = schema.get("$defs", {})
    walk = _Walk(rules, defs, qualname, recursive=_recursive_defs(defs))
    body = {k: v for k, v in schema.items() if k != "$defs"}
    try:
        converted = walk.node(body, "$")
    except _AnyValue as signal:  # outside any parameter: nothing can carry the JSON text
        raise walk.refuse(
            signal.path,
            f"a value of any type cannot be expressed in {rules.dialect}'s schemas; give "
            "it a concrete type",
        ) from None
    if walk.used_defs:
        converted["$defs"] = walk.used_defs
    if rules.refs != "keep" and defs:
        inlined = sorted(set(defs) - set(walk.used_defs))
        if inlined:
            walk.change("$", f"$defs inlined: {', '.join(inlined)}", lossy=False)
    return converted, walk.changes


def _resolved(schema: Any, defs: dict[str, Any]) -> Any:
    ref: Any = cast("Any", schema).get("$ref") if isinstance(schema, dict) else None
    return defs.get(ref.rsplit("/", 1)[-1], {}) if isinstance(ref, str) else cast("Any", schema)


def _branches(schema: Any) -> list[Any]:
    if not isinstance(schema, dict):
        return []
    return schema.get("anyOf") or schema.get("oneOf") or []  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


def _holds_anything(schema: Any, defs: dict[str, Any]) -> bool:
    """The value itself may be of any type: ``Any``, ``Any | None``, ``int | Any``..."""
    schema = _resolved(schema, defs)
    return is_any_value(schema) or any(is_any_value(_resolved(b, defs)) for b in _branches(schema))


def _takes_text(schema: Any, defs: dict[str, Any]) -> bool:
    """A string is a valid value as it is (so JSON text would be read as a string)."""
    schema = _resolved(schema, defs)
    if not isinstance(schema, dict):
        return True
    kind = schema.get("type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if is_any_value(schema) or kind == "string" or (isinstance(kind, list) and "string" in kind):
        return True
    return any(_takes_text(b, defs) for b in _branches(schema))


def _humanised(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _recursive_defs(defs: dict[str, Any]) -> frozenset[str]:
    """Names of definitions that can reach themselves through $refs."""
    edges = {name: _refs_in(body) for name, body in defs.items()}
    recursive: set[str] = set()
    for start in defs:
        stack, seen = list(edges[start]), set[str]()
        while stack:
            name = stack.pop()
            if name == start:
                recursive.add(start)
                break
            if name not in seen:
                seen.add(name)
                stack.extend(edges.get(name, ()))
    return frozenset(recursive)


def _refs_in(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():  # pyright: ignore[reportUnknownVariableType]
            if key == "$ref" and isinstance(value, str):
                found.add(value.rsplit("/", 1)[-1])
            else:
                found |= _refs_in(value)
    elif isinstance(schema, list):
        for item in schema:  # pyright: ignore[reportUnknownVariableType]
            found |= _refs_in(item)
    return found
