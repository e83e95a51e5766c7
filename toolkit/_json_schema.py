"""A JSON Schema written elsewhere (an MCP server's ``inputSchema``, an OpenAPI operation)
made into a tool's plan, as ``schema.py`` does for a Python signature.

Two steps, both done once when the tool is made:

- ``normalise``: the schema as received is treated as untrusted. It is bounded in size and
  depth, and the sloppiness real servers ship is repaired into the neutral schema every
  codec renders: a missing ``type``, ``definitions`` instead of ``$defs``, OpenAPI's
  ``nullable``, draft-4 boolean ``exclusiveMinimum``, keywords toolkit cannot check. Each
  repair is recorded, and ``Tool.changes()`` reports it with the codec's own changes.
  What cannot be repaired (a ``$ref`` to nothing, a top level that is not an object) is a
  ``ToolDefinitionError`` naming the place.
- ``arguments_validator``: the normalised schema compiled into a pydantic-core validator,
  so arguments are checked with the same precise locations and messages as a decorated
  function's, and the registry's fast path stays the same. It returns ``((), arguments)``:
  the function is called with the arguments as keywords. Keywords it does not check are
  left to the schema's owner (the MCP server validates its own schema again).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, cast

from pydantic_core import (
    PydanticCustomError,
    PydanticKnownError,
    SchemaError,
    SchemaValidator,
    core_schema,
)

from toolkit.errors import ToolDefinitionError

__all__ = [
    "MAX_SCHEMA_CHARS",
    "MAX_SCHEMA_DEPTH",
    "Repair",
    "arguments_validator",
    "normalise",
    "value_validator",
]

MAX_SCHEMA_CHARS = 1_000_000
"""The largest schema accepted, in characters of its JSON text."""
MAX_EXPANDED_NODES = 100_000
"""The most schemas a received schema may hold once its ``$ref``s are written out."""
MAX_SCHEMA_DEPTH = 64
"""How deeply schemas may nest inside one another."""
# A schema and its keyword's mapping are two levels of the walk (and a little for the root).
_EXPANDED_DEPTH = 2 * MAX_SCHEMA_DEPTH + 3

_TYPES = frozenset({"string", "integer", "number", "boolean", "null", "array", "object"})
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
# Keywords toolkit does not check and no provider renders: dropped (the owner still checks).
_UNCHECKED = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "patternProperties",
        "dependentSchemas",
        "dependentRequired",
        "dependencies",
        "contains",
        "minContains",
        "maxContains",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$dynamicRef",
        "$dynamicAnchor",
        "$anchor",
        "$recursiveRef",
        "$recursiveAnchor",
    }
)
# Keywords that restrict a schema without a 'type' (OpenAPI 'nullable' must widen them).
_RESTRICTING = ("$ref", "const", "anyOf", "oneOf", "allOf")
_ANNOTATIONS = ("title", "description", "default", "examples")
_COUNTS = frozenset(
    {"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"}
)
_BOUNDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
# Keywords passed on to the codecs, which read them as text.
_TEXTS = frozenset({"description", "title", "format", "$comment"})


@dataclass(frozen=True, slots=True)
class Repair:
    """One change made to a schema as received.

    Attributes:
        path: Where, as a JSON path into the schema (``$`` is its root).
        message: What was changed and why.
        lossy: ``True`` when something the schema said is no longer checked by toolkit.
    """

    path: str
    message: str
    lossy: bool = False


def normalise(schema: object, owner: str) -> tuple[dict[str, Any], tuple[Repair, ...]]:
    """``schema`` (untrusted) as a neutral object schema, with the repairs made.

    Args:
        schema: The arguments' JSON Schema as received.
        owner: Who the schema belongs to, for error messages (``"tool 'x' of server 'y'"``).

    Raises:
        ToolDefinitionError: the schema is too large or deep, is not an object schema, or
            has a ``$ref`` that cannot be followed.
    """
    try:
        text = json.dumps(schema, allow_nan=False)
        # From here on, the schema as JSON reads it: its own copy, keys all strings (json
        # writes 1 or None as a key too), lists for tuples.
        schema = json.loads(text)
        size = len(text)
    except (TypeError, ValueError, RecursionError) as error:
        raise ToolDefinitionError.single(
            owner, None, f"its input schema is not JSON ({error})"
        ) from None
    if size > MAX_SCHEMA_CHARS:
        raise ToolDefinitionError.single(
            owner, None, f"its input schema has {size:,} characters (at most {MAX_SCHEMA_CHARS:,})"
        )
    intake = _Intake(owner)
    neutral = intake.top(schema)
    expanded, depth = _expanded(neutral, neutral.get("$defs", {}), {}, set())
    if depth > _EXPANDED_DEPTH:
        raise ToolDefinitionError.single(
            owner,
            None,
            f"its $refs, written out, nest more than {MAX_SCHEMA_DEPTH} levels deep",
        )
    if expanded > MAX_EXPANDED_NODES:
        # Dialects without $ref write each one out in full: a few kilobytes whose $refs
        # double at each level would take minutes and gigabytes to render.
        raise ToolDefinitionError.single(
            owner,
            None,
            f"its $refs expand to {expanded:,} schemas written out (at most "
            f"{MAX_EXPANDED_NODES:,})",
        )
    return neutral, tuple(intake.repairs)


def _expanded(
    node: Any,
    defs: dict[str, Any],
    seen: dict[str, tuple[int, int]],
    open_refs: set[str],
    level: int = 0,
) -> tuple[int, int]:
    """How many schemas ``node`` holds once every non-recursive ``$ref`` is written out,
    and how deeply they then nest (each definition measured once, then reused: linear in
    the schema's size). Past the depth allowed it looks no deeper: that is already too deep."""
    if level > _EXPANDED_DEPTH:
        return 1, 1
    if isinstance(node, list):
        found = [_expanded(v, defs, seen, open_refs, level) for v in cast("list[Any]", node)]
        return sum(n for n, _ in found), max((d for _, d in found), default=0)
    if not isinstance(node, dict):
        return 0, 0
    body = cast("dict[str, Any]", node)
    total, depth = 1, 0
    ref = body.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name not in seen and name not in open_refs and name in defs:
            open_refs.add(name)  # a recursive type stays a $ref: measured once
            seen[name] = _expanded(defs[name], defs, seen, open_refs, level + 1)
            open_refs.discard(name)
        nodes, deep = seen.get(name, (0, 0))
        total, depth = total + nodes, deep
    for key, value in body.items():
        if key not in ("$defs", "$ref", "enum", "const", "default", "examples"):
            nodes, deep = _expanded(value, defs, seen, open_refs, level + 1)
            total, depth = total + nodes, max(depth, deep)
        if total > MAX_EXPANDED_NODES:
            break
    return total, depth + 1


class _Intake:
    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.repairs: list[Repair] = []
        self.defs: dict[str, Any] = {}

    def repair(self, path: str, message: str, *, lossy: bool = False) -> None:
        self.repairs.append(Repair(path, message, lossy))

    def refuse(self, path: str, message: str) -> ToolDefinitionError:
        param = path.split(".")[2] if path.startswith("$.properties.") else None
        return ToolDefinitionError.single(self.owner, param, f"{message} (at {path})")

    def top(self, schema: object) -> dict[str, Any]:
        if schema is True:
            schema = {}
        if not isinstance(schema, dict):
            raise self.refuse("$", f"the input schema must be an object schema, not {schema!r}")
        body = dict(cast("dict[str, Any]", schema))
        for key in ("definitions", "$defs"):
            found = body.pop(key, None)
            if isinstance(found, dict):
                if key == "definitions":
                    self.repair("$", "'definitions' renamed '$defs'")
                self.defs.update(cast("dict[str, Any]", found))
            elif found is not None:
                self.repair("$", f"{key!r} is not a mapping: dropped", lossy=True)
        if body.pop("nullable", None) is True:  # the arguments are never null
            self.repair("$", "'nullable' dropped: the arguments are an object")
        kind = body.get("type")
        if kind is None:
            body["type"] = "object"
            self.repair("$", "added the missing type 'object'")
        elif kind != "object":
            raise self.refuse("$", f"the input schema must describe an object, not {kind!r}")
        top = self.node(body, "$", 0)
        if "properties" not in top:  # every dialect wants the (here empty) list of parameters
            top["properties"] = {}
            self.repair("$", "added the missing (empty) 'properties'")
        if self.defs:
            top["$defs"] = {
                name: self.node(value, f"$.$defs.{name}", 1) for name, value in self.defs.items()
            }
            self.unguarded(top["$defs"])
        return top

    def unguarded(self, defs: dict[str, Any]) -> None:
        """Refuse ``$ref``s that lead to ``$ref``s without entering a value (through
        ``anyOf``/``oneOf``/``allOf`` only) in a cycle or too deep: a validator following
        them would never stop, or overflow its stack (a property or an item consumes one
        level of the value, which is itself bounded)."""
        reached = {name: _unguarded_refs(body) for name, body in defs.items()}
        depths: dict[str, int] = {}

        def depth(name: str, trail: tuple[str, ...]) -> int:
            if name in trail:
                cycle = " -> ".join([*trail[trail.index(name) :], name])
                raise self.refuse(f"$.$defs.{name}", f"the $refs {cycle} never reach a value")
            if name not in depths:
                if len(trail) > MAX_SCHEMA_DEPTH:
                    raise self.refuse(
                        f"$.$defs.{name}",
                        f"$refs lead to $refs more than {MAX_SCHEMA_DEPTH} levels deep",
                    )
                depths[name] = max(
                    (level + 1 + depth(target, (*trail, name)) for target, level in reached[name]),
                    default=0,
                )
            return depths[name]

        for name in defs:
            if depth(name, ()) > MAX_SCHEMA_DEPTH:
                raise self.refuse(
                    f"$.$defs.{name}",
                    f"$refs lead to $refs more than {MAX_SCHEMA_DEPTH} levels deep",
                )

    def node(self, schema: Any, path: str, depth: int) -> Any:
        if depth > MAX_SCHEMA_DEPTH:
            raise self.refuse(path, f"schemas nest more than {MAX_SCHEMA_DEPTH} levels deep")
        if schema is True:
            return {}
        if schema is False:
            raise self.refuse(path, "the schema 'false' accepts no value")
        if not isinstance(schema, dict):
            raise self.refuse(path, f"{schema!r} is not a schema")
        out: dict[str, Any] = {}
        for key, value in cast("dict[str, Any]", schema).items():
            self.keyword(out, key, value, path, depth)
        kind = out.get("type")
        if (kind == "array" or (isinstance(kind, list) and "array" in kind)) and not any(
            k in out for k in ("items", "prefixItems")
        ):
            out["items"] = {}  # any items, spelled as the codecs expect an array (as pydantic)
        if out.pop("nullable", None) is True:
            self.nullable(out, path)
        self.exclusive_bounds(out, path)
        if isinstance(out.get("type"), list):
            out = self.type_list(out, path)
        if "type" not in out and not any(k in out for k in ("$ref", "anyOf", "oneOf", "allOf")):
            implied = _implied_type(out)
            if implied is not None:
                out["type"] = implied
                self.repair(path, f"added the type {implied!r} its values imply")
            elif any(k in out for k in ("properties", "required", "additionalProperties")):
                out["type"] = "object"
                self.repair(path, "added the missing type 'object'")
            elif any(k in out for k in ("items", "prefixItems")):
                out["type"] = "array"
                self.repair(path, "added the missing type 'array'")
        return out

    def keyword(self, out: dict[str, Any], key: str, value: Any, path: str, depth: int) -> None:
        where = f"{path}.{key}"
        if key == "$ref":
            out[key] = self.ref(value, path)
        elif key == "properties":
            if isinstance(value, dict):
                out[key] = {
                    name: self.node(sub, f"{path}.properties.{name}", depth + 1)
                    for name, sub in cast("dict[str, Any]", value).items()
                }
            else:
                self.repair(path, "'properties' is not a mapping: dropped", lossy=True)
        elif key in ("items", "additionalProperties", "propertyNames"):
            if isinstance(value, bool) and key != "propertyNames":
                if key == "items" and value is True:
                    return  # any items: the same as no keyword
                out[key] = value
            elif key == "items" and isinstance(value, list):
                if value:  # (an empty tuple says nothing: any items)
                    out["prefixItems"] = self.schemas(cast("list[Any]", value), where, depth)
                    self.repair(path, "draft-4 tuple 'items' written as 'prefixItems'")
            else:
                out[key] = self.node(value, where, depth + 1)
        elif key in _SUBSCHEMA_LISTS:
            if isinstance(value, list) and value:
                out[key] = self.schemas(cast("list[Any]", value), where, depth)
            else:
                self.repair(path, f"{key!r} is not a non-empty list: dropped", lossy=True)
        elif key == "type":
            out[key] = self.type(value, path)
        elif key == "required":
            names = cast("list[Any]", value) if isinstance(value, list) else None
            if names is not None and all(isinstance(n, str) for n in names):
                out[key] = list(dict.fromkeys(cast("list[str]", names)))
            else:
                self.repair(path, "'required' is not a list of names: dropped", lossy=True)
        elif key == "enum":
            if isinstance(value, list) and value:
                out[key] = value
            else:
                self.repair(path, "'enum' is not a non-empty list: dropped", lossy=True)
        elif key in _COUNTS:
            if type(value) is int and value >= 0:
                out[key] = value
            else:
                self.repair(path, f"{key!r} is not a count: dropped", lossy=True)
        elif key in _BOUNDS:
            if key == "multipleOf" and _is_number(value) and not value > 0:
                self.repair(path, f"'multipleOf' {value} is not positive: dropped", lossy=True)
            elif _is_number(value) or (key.startswith("exclusive") and type(value) is bool):
                out[key] = value
            else:
                self.repair(path, f"{key!r} is not a number: dropped", lossy=True)
        elif key == "pattern":
            if isinstance(value, str) and _regex_usable(value):
                out[key] = value
            else:
                self.repair(
                    path,
                    f"pattern {value!r} is not checked by toolkit (its regex dialect)",
                    lossy=True,
                )
        elif key in ("$defs", "definitions"):
            self.repair(path, f"nested {key!r} dropped (only the top level's are used)", lossy=True)
        elif key in _UNCHECKED:
            self.repair(path, f"{key!r} is not checked by toolkit: dropped", lossy=True)
        elif key == "nullable" and type(value) is not bool:
            self.repair(path, "'nullable' is not a boolean: dropped", lossy=True)
        elif key in _TEXTS and type(value) is not str:
            self.repair(path, f"{key!r} is not a string: dropped", lossy=True)
        elif key == "uniqueItems" and type(value) is not bool:
            self.repair(path, "'uniqueItems' is not a boolean: dropped", lossy=True)
        else:
            out[key] = value  # descriptions, formats, defaults...: the codecs decide

    def schemas(self, values: list[Any], path: str, depth: int) -> list[Any]:
        return [self.node(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(values)]

    def ref(self, ref: Any, path: str) -> str:
        if isinstance(ref, str):
            for prefix in ("#/$defs/", "#/definitions/"):
                name = ref.removeprefix(prefix)
                if name != ref and "/" not in name:
                    if name not in self.defs:
                        raise self.refuse(path, f"$ref {ref!r} points to nothing")
                    if prefix != "#/$defs/":
                        self.repair(path, f"$ref {ref!r} written as '#/$defs/{name}'")
                    return f"#/$defs/{name}"
        raise self.refuse(
            path, f"$ref {ref!r} cannot be followed (only '#/$defs/...' and '#/definitions/...')"
        )

    def type(self, value: Any, path: str) -> Any:
        kinds = cast("list[Any]", value) if isinstance(value, list) else [value]
        unknown = [k for k in kinds if not isinstance(k, str) or k not in _TYPES]
        if unknown or not kinds:
            raise self.refuse(path, f"type {value!r} is not a JSON Schema type")
        kinds = list(dict.fromkeys(kinds))
        return kinds[0] if len(kinds) == 1 else kinds

    def type_list(self, out: dict[str, Any], path: str) -> dict[str, Any]:
        """``type: ["string", "null"]`` as the ``anyOf`` of one branch per type, the shape
        every codec knows (and the one pydantic writes for ``str | None``)."""
        outer = {k: out.pop(k) for k in _ANNOTATIONS if k in out}
        kinds: list[str] = out.pop("type")
        branches: list[dict[str, Any]] = []
        for kind in kinds:
            if kind == "null":
                branches.append({"type": "null"})
                continue
            branch = {**out, "type": kind}
            if "enum" in branch:
                branch["enum"] = [v for v in branch["enum"] if v is not None]
            branches.append(branch)
        self.repair(path, f"type list {kinds} written as anyOf")
        return {**outer, "anyOf": branches}

    def nullable(self, out: dict[str, Any], path: str) -> None:
        """OpenAPI's ``nullable: true``: ``null`` joins the types."""
        kind = out.get("type")
        if kind is None:
            restricted = {k: out.pop(k) for k in (*_RESTRICTING, "enum") if k in out}
            if not restricted:
                return  # any value: null already
            values = [v for v in restricted.pop("enum", ()) if v is not None]
            if values:
                restricted["enum"] = values  # (null is the other branch)
            implied = _implied_type(restricted)
            if implied is not None:
                restricted["type"] = implied
            if restricted:
                out["anyOf"] = [restricted, {"type": "null"}]
            else:
                out["type"] = "null"  # an enum of null alone
            self.repair(path, "OpenAPI 'nullable' written as a 'null' type")
            return
        kinds: list[Any] = cast("list[Any]", kind) if isinstance(kind, list) else [kind]
        if "null" not in kinds:
            out["type"] = [*kinds, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        self.repair(path, "OpenAPI 'nullable' written as a 'null' type")

    def exclusive_bounds(self, out: dict[str, Any], path: str) -> None:
        """Draft 4's ``exclusiveMinimum: true`` beside ``minimum``: the draft 2020 number."""
        for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
            flag = out.get(exclusive)
            if type(flag) is bool:
                del out[exclusive]
                if flag and bound in out:
                    out[exclusive] = out.pop(bound)
                self.repair(path, f"draft-4 boolean {exclusive!r} written as a number")


def _implied_type(schema: dict[str, Any]) -> str | None:
    """The one JSON type every value of an ``enum``/``const`` has, if there is one (the
    dialects that need a ``type`` beside an enum get it)."""
    values = schema.get("enum", [schema["const"]] if "const" in schema else None)
    if not values:
        return None
    kinds = {_json_type(v) for v in values}
    if kinds == {"integer", "number"}:
        return "number"
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _unguarded_refs(schema: dict[str, Any]) -> list[tuple[str, int]]:
    """The ``$defs`` names ``schema`` refers to through combinators alone, each with how
    deep in ``schema`` it does (a normalised schema: every ``$ref`` is ``#/$defs/name``)."""
    found: list[tuple[str, int]] = []
    stack: list[tuple[dict[str, Any], int]] = [(schema, 0)]
    while stack:
        node, level = stack.pop()
        if "$ref" in node:
            found.append((node["$ref"].rsplit("/", 1)[-1], level))
        for key in ("anyOf", "oneOf", "allOf"):
            stack.extend((branch, level + 1) for branch in node.get(key, ()))
    return found


def _is_number(value: Any) -> bool:
    # (an int is finite, and math.isfinite cannot take one beyond a float's range)
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _regex_usable(pattern: str) -> bool:
    """Whether pydantic-core's regex engine (linear time: a hostile pattern cannot make
    validation hang) understands ``pattern``."""
    try:
        SchemaValidator(core_schema.str_schema(pattern=pattern))
    except SchemaError:
        return False
    return True


# -- the validator -------------------------------------------------------------------------------


def arguments_validator(schema: dict[str, Any], title: str) -> SchemaValidator:
    """The validator of a normalised object schema, returning ``((), arguments)``."""
    return SchemaValidator(
        core_schema.no_info_after_validator_function(_as_keywords, _compiled(schema)),
        core_schema.CoreConfig(title=title, allow_inf_nan=False),
    )


def value_validator(schema: dict[str, Any], title: str) -> SchemaValidator:
    """The validator of a normalised schema, returning the value (for a tool's output)."""
    return SchemaValidator(
        _compiled(schema), core_schema.CoreConfig(title=title, allow_inf_nan=False)
    )


def _compiled(schema: dict[str, Any]) -> core_schema.CoreSchema:
    compiler = _Compiler()
    # Each definition compiled on its own (a $ref is only a reference): the compiler never
    # recurses through $refs, however many lead to one another.
    definitions: list[core_schema.CoreSchema] = [
        {**compiler.node(body), "ref": f"defs:{name}"}  # type: ignore[misc]
        for name, body in schema.get("$defs", {}).items()
    ]
    body = compiler.node(schema)
    if definitions:
        body = core_schema.definitions_schema(body, definitions)
    return body


def _as_keywords(arguments: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return (), arguments


class _Compiler:
    def node(self, schema: dict[str, Any]) -> core_schema.CoreSchema:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            return core_schema.definition_reference_schema(f"defs:{name}")
        if "enum" in schema or "const" in schema:
            values = schema["enum"] if "enum" in schema else [schema["const"]]
            return _one_of_values(values)
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                union = self.union(schema[combinator], combinator)
                rest = {k: v for k, v in schema.items() if k != combinator}
                if "type" in rest:  # its siblings hold too, as for allOf
                    return core_schema.chain_schema([self.node(rest), union])
                return union
        if "allOf" in schema:
            parts = [self.node(p) for p in schema["allOf"]]
            rest = {k: v for k, v in schema.items() if k != "allOf"}
            if "type" in rest:
                parts.append(self.node(rest))
            return core_schema.chain_schema(parts)
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in cast("list[str]", kind) if k != "null"]
            inner = core_schema.union_schema([self.node({**schema, "type": k}) for k in kinds])
            if len(kinds) == 1:
                inner = self.node({**schema, "type": kinds[0]})
            return core_schema.nullable_schema(inner) if "null" in kind else inner
        build = _BUILDERS.get(kind) if isinstance(kind, str) else None
        return core_schema.any_schema() if build is None else build(self, schema)

    def union(self, branches: list[dict[str, Any]], combinator: str) -> core_schema.CoreSchema:
        """One of ``branches``: a ``null`` branch as pydantic's nullable (its errors are then
        those of the other branches alone), each other branch named by its type or ``$ref``
        in error locations (``size.integer``, not ``size.function-after[check(), int]``)."""
        others = [b for b in branches if not _is_null(b)]
        if not others:
            return core_schema.none_schema()
        if len(others) == 1:
            inner = self.node(others[0])
        else:
            inner = core_schema.union_schema(
                [(self.node(b), _label(b, combinator, i)) for i, b in enumerate(others)]
            )
        return core_schema.nullable_schema(inner) if len(others) < len(branches) else inner

    def string(self, schema: dict[str, Any]) -> core_schema.CoreSchema:
        return core_schema.str_schema(
            min_length=schema.get("minLength"),
            max_length=schema.get("maxLength"),
            pattern=schema.get("pattern"),
        )

    def integer(self, schema: dict[str, Any]) -> core_schema.CoreSchema:
        return _bounded(core_schema.int_schema(), schema)

    def number(self, schema: dict[str, Any]) -> core_schema.CoreSchema:
        # An integer stays an int (a float would round 12345678901234567890).
        exact = core_schema.union_schema(
            [core_schema.int_schema(strict=True), core_schema.float_schema()],
            custom_error_type="float_type",  # a known type: its own "valid number" message
        )
        return _bounded(exact, schema)

    def array(self, schema: dict[str, Any]) -> core_schema.CoreSchema:
        items = schema.get("items")
        item_schema = (
            self.node(cast("dict[str, Any]", items))
            if isinstance(items, dict)
            else core_schema.any_schema()
        )
        built: core_schema.CoreSchema
        if "prefixItems" in schema:
            # Each position may be absent (a shorter array is valid): a missing one takes
            # _ABSENT as its default, and is cut off after.
            prefix: list[core_schema.CoreSchema] = [
                core_schema.with_default_schema(self.node(p), default=_ABSENT)
                for p in schema["prefixItems"]
            ]
            if items is False:
                built = core_schema.tuple_schema(prefix)
            else:
                built = core_schema.tuple_schema(
                    [*prefix, item_schema], variadic_item_index=len(prefix)
                )
            built = core_schema.no_info_after_validator_function(_present, built)
            built = _counted(built, schema, "minItems", "maxItems", "items")
        else:
            most = 0 if items is False else schema.get("maxItems")  # items: false: none
            built = core_schema.list_schema(
                item_schema, min_length=schema.get("minItems"), max_length=most
            )
        if schema.get("uniqueItems") is True:
            built = core_schema.no_info_after_validator_function(_unique, built)
        return built

    def object(self, schema: dict[str, Any]) -> core_schema.CoreSchema:
        properties: dict[str, Any] = schema.get("properties", {})
        required: list[str] = schema.get("required", [])
        extra: Any = schema.get("additionalProperties", True)
        if not properties and not required and extra is not False:
            values = (
                self.node(cast("dict[str, Any]", extra))
                if isinstance(extra, dict)
                else core_schema.any_schema()
            )
            return core_schema.dict_schema(
                core_schema.str_schema(),
                values,
                min_length=schema.get("minProperties"),
                max_length=schema.get("maxProperties"),
            )
        fields = {
            name: core_schema.typed_dict_field(self.node(sub), required=name in required)
            for name, sub in properties.items()
        }
        for name in required:
            fields.setdefault(name, core_schema.typed_dict_field(core_schema.any_schema()))
        built = core_schema.typed_dict_schema(
            fields,
            extra_behavior="forbid" if extra is False else "allow",
            extras_schema=self.node(cast("dict[str, Any]", extra))
            if isinstance(extra, dict)
            else None,
        )
        return _counted(built, schema, "minProperties", "maxProperties", "properties")


_BUILDERS: dict[str, Callable[[_Compiler, dict[str, Any]], core_schema.CoreSchema]] = {
    "string": _Compiler.string,
    "integer": _Compiler.integer,
    "number": _Compiler.number,
    "boolean": lambda _c, _s: core_schema.bool_schema(),
    "null": lambda _c, _s: core_schema.none_schema(),
    "array": _Compiler.array,
    "object": _Compiler.object,
}


def _is_null(branch: dict[str, Any]) -> bool:
    return branch.get("type") == "null" and all(k == "type" or k in _ANNOTATIONS for k in branch)


def _label(branch: dict[str, Any], combinator: str, index: int) -> str:
    if "$ref" in branch:
        return branch["$ref"].rsplit("/", 1)[-1]
    kind = branch.get("type")
    return kind if isinstance(kind, str) else f"{combinator}[{index}]"


def _json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON values (JSON Schema's ``enum``/``const``): ``true`` is not ``1``,
    ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        pairs = cast("list[Any]", a), cast("list[Any]", b)
        return len(pairs[0]) == len(pairs[1]) and all(map(_json_equal, *pairs))
    if isinstance(a, dict) and isinstance(b, dict):
        x, y = cast("dict[str, Any]", a), cast("dict[str, Any]", b)
        return x.keys() == y.keys() and all(_json_equal(x[k], y[k]) for k in x)
    return isinstance(a, str) and isinstance(b, str) and a == b


def _one_of_values(values: list[Any]) -> core_schema.CoreSchema:
    if all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
        literal = core_schema.literal_schema(values)
        bools = any(type(v) is bool for v in values)
        if bools == any(type(v) in (int, float) for v in values):
            return literal
        # pydantic takes true for 1 and 1 for true: in a union that would turn a valid
        # boolean (or number) into the value of another branch.
        shown = [repr(v) for v in values]
        listed = " or ".join([", ".join(shown[:-1]), shown[-1]] if len(shown) > 1 else shown)

        def same_kind(value: Any) -> Any:
            if (type(value) is bool) != bools and type(value) in (int, float, bool):
                raise PydanticKnownError("literal_error", {"expected": listed})
            return value

        return core_schema.no_info_before_validator_function(same_kind, literal)
    expected = ", ".join(json.dumps(v) for v in values)

    def check(value: Any) -> Any:
        if any(_json_equal(value, v) for v in values):
            return value
        raise PydanticKnownError("literal_error", {"expected": expected})

    return core_schema.no_info_after_validator_function(check, core_schema.any_schema())


def _bounded(inner: core_schema.CoreSchema, schema: dict[str, Any]) -> core_schema.CoreSchema:
    """Numeric bounds checked after the type, with pydantic's own error types."""
    checks: list[tuple[str, str, Any]] = [
        (error, ctx, schema[key])
        for key, error, ctx in (
            ("minimum", "greater_than_equal", "ge"),
            ("maximum", "less_than_equal", "le"),
            ("exclusiveMinimum", "greater_than", "gt"),
            ("exclusiveMaximum", "less_than", "lt"),
            ("multipleOf", "multiple_of", "multiple_of"),
        )
        if key in schema
    ]
    if not checks:
        return inner

    def check(value: float) -> float:
        for error, ctx, bound in checks:
            if not _within(value, ctx, bound):
                raise PydanticKnownError(error, {ctx: _shown(bound)})  # type: ignore[arg-type]
        return value

    return core_schema.no_info_after_validator_function(check, inner)


def _shown(bound: float) -> float | str:
    """A bound as pydantic's error context takes it: an int beyond 64 bits as its digits."""
    return str(bound) if type(bound) is int and not -(2**63) <= bound < 2**63 else bound


def _within(value: float, ctx: str, bound: float) -> bool:
    if ctx == "ge":
        return value >= bound
    if ctx == "le":
        return value <= bound
    if ctx == "gt":
        return value > bound
    if ctx == "lt":
        return value < bound
    if bound <= 0:
        return True  # no multiple of a non-positive number is meant
    if type(value) is int and type(bound) is int:
        return value % bound == 0  # exact, however large
    try:
        quotient = value / bound
    except OverflowError:  # an int beyond a float's range: exactly
        return (Fraction(value) / Fraction(bound)).denominator == 1
    return math.isfinite(quotient) and abs(quotient - round(quotient)) < 1e-9


def _counted(
    inner: core_schema.CoreSchema, schema: dict[str, Any], low: str, high: str, what: str
) -> core_schema.CoreSchema:
    least, most = schema.get(low), schema.get(high)
    if least is None and most is None:
        return inner

    def check(value: Any) -> Any:
        if least is not None and len(value) < least:
            raise PydanticCustomError(
                "too_short", "Should have at least {least} {what}", {"least": least, "what": what}
            )
        if most is not None and len(value) > most:
            raise PydanticCustomError(
                "too_long", "Should have at most {most} {what}", {"most": most, "what": what}
            )
        return value

    return core_schema.no_info_after_validator_function(check, inner)


_ABSENT: Any = object()  # a prefixItems position the array does not reach


def _present(items: tuple[Any, ...]) -> list[Any]:
    """The validated tuple as a list, without the positions it did not reach."""
    found = list(items)
    while found and found[-1] is _ABSENT:
        found.pop()
    return found


def _unique(items: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for item in items:
        key = json.dumps(item, sort_keys=True, default=str)
        if key in seen:
            raise PydanticCustomError(
                "unique_items", "Items should be unique; {item} appears twice", {"item": key[:80]}
            )
        seen.add(key)
    return items
