"""Tools whose arguments a JSON Schema describes (``Tool.from_schema``): the untrusted schema
repaired or refused at the place named, compiled into a validator that checks what it says
(and accepts all a reference validator accepts, unchanged), rendered for every format, and
run by a ``Registry`` like any other tool."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from typing import Any, cast

import pytest
from conformance import STRICT_FORMATS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from toolkit import FORMATS, Registry, Tool, ToolCall, ToolDefinitionError
from toolkit._json_schema import MAX_SCHEMA_CHARS, MAX_SCHEMA_DEPTH
from toolkit.formats import Change, FormatName

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Location = tuple[str | int, ...]


def echo(**arguments: Any) -> dict[str, Any]:
    return arguments


def make(schema: Any, *, name: str = "t", owner: str | None = None) -> Tool[..., Any]:
    return Tool.from_schema(echo, schema, name=name, owner=owner)


def props(required: list[str] | None = None, /, **properties: Any) -> dict[str, Any]:
    """An object schema with these properties (and ``required``)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        schema["required"] = required
    return schema


def valid(tool: Tool[..., Any], arguments: Any) -> dict[str, Any]:
    """The keyword arguments ``tool`` validates ``arguments`` into (sent as JSON text, as
    OpenAI sends them); a schema's tool takes no positional arguments."""
    args, kwargs = tool.validate(json.dumps(arguments))
    assert args == ()
    return kwargs


def _errors(tool: Tool[..., Any], arguments: Any) -> list[Any]:
    with pytest.raises(ValidationError) as info:
        tool.validate(json.dumps(arguments))
    return info.value.errors()


def problems(tool: Tool[..., Any], arguments: Any) -> list[tuple[Location, str]]:
    """Where and why ``arguments`` fail, as (location, error type) pairs."""
    return [(tuple(e["loc"]), e["type"]) for e in _errors(tool, arguments)]


def messages(tool: Tool[..., Any], arguments: Any) -> list[tuple[Location, str]]:
    """Where and why ``arguments`` fail, as (location, message) pairs."""
    return [(tuple(e["loc"]), e["msg"]) for e in _errors(tool, arguments)]


def same(a: Any, b: Any) -> bool:
    """Equal as JSON values: a boolean is never a number (``1 == True`` in Python), a number
    equals itself however written (``3 == 3.0``, as JSON Schema counts them), a list is
    never a tuple."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, list) and type(b) is list:
        x, y = cast_list(a), cast_list(b)
        return len(x) == len(y) and all(same(i, j) for i, j in zip(x, y, strict=True))
    if isinstance(a, dict) and type(b) is dict:
        m, n = cast_dict(a), cast_dict(b)
        return m.keys() == n.keys() and all(same(m[k], n[k]) for k in m)
    return (a is None and b is None) or (isinstance(a, str) and isinstance(b, str) and a == b)


def cast_list(value: Any) -> list[Any]:
    return value


def cast_dict(value: Any) -> dict[str, Any]:
    return value


# -- repairs ---------------------------------------------------------------------------------

MODE = {"type": "string", "enum": ["r", "w"]}
DEFINITIONS = {
    "type": "object",
    "definitions": {"Mode": MODE},
    "properties": {"mode": {"$ref": "#/definitions/Mode"}},
}
NULLABLE = props(
    name={"type": "string", "nullable": True},
    mode={**MODE, "nullable": True},
)
NULLABLE_UNTYPED = props(
    size={"anyOf": [{"type": "integer"}, {"type": "string"}], "nullable": True},
    mode={"enum": ["r", "w"], "nullable": True},
    both={"enum": ["r", None], "nullable": True},
    any={"description": "Anything.", "nullable": True},
)
DRAFT_4_BOUNDS = props(
    ratio={
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 1,
        "exclusiveMaximum": False,
    }
)
UNTYPED_NESTED = props(
    point={"properties": {"x": {"type": "number"}}, "required": ["x"]},
    ids={"items": {"type": "integer"}},
)
DRAFT_4_TUPLE = props(pair={"type": "array", "items": [{"type": "string"}, {"type": "integer"}]})
ANYTHING = props(
    anything=True,
    list={"type": "array", "items": True},
    bare={"type": "array"},
    empty_tuple={"type": "array", "items": []},
)
UNCHECKED = props(
    n={"type": "integer", "not": {"const": 3}},
    s={"type": "string", "if": {"minLength": 1}, "then": {"maxLength": 3}},
)
LOOK_AHEAD = props(code={"type": "string", "pattern": "^(?=a)..$"})
REQUIRED_NOT_A_LIST = {"type": "object", "properties": {"a": {"type": "string"}}, "required": "a"}
NESTED_DEFS = props(inner={"type": "object", "$defs": {"Y": {"type": "string"}}})
NOT_TEXT = props(a={"type": "string", "description": ["not", "text"], "format": {"x": 1}})
NOT_POSITIVE = props(a={"type": "number", "multipleOf": 0}, b={"type": "integer", "multipleOf": -2})
NULLABLE_ROOT = {"type": "object", "nullable": True, "properties": {"a": {"type": "string"}}}


def _nullable(path: str) -> Change:
    return Change(path, "OpenAPI 'nullable' written as a 'null' type", False)


def _type_list(path: str, kinds: list[str]) -> Change:
    return Change(path, f"type list {kinds} written as anyOf", False)


REPAIRS = [
    pytest.param(
        {"properties": {"path": {"type": "string"}}},
        props(path={"type": "string"}),
        [Change("$", "added the missing type 'object'", False)],
        id="missing-top-level-type",
    ),
    pytest.param(
        DEFINITIONS,
        {
            "type": "object",
            "properties": {"mode": {"$ref": "#/$defs/Mode"}},
            "$defs": {"Mode": MODE},
        },
        [
            Change("$", "'definitions' renamed '$defs'", False),
            Change(
                "$.properties.mode", "$ref '#/definitions/Mode' written as '#/$defs/Mode'", False
            ),
        ],
        id="definitions",
    ),
    pytest.param(
        NULLABLE,
        props(
            name={"anyOf": [{"type": "string"}, {"type": "null"}]},
            mode={"anyOf": [MODE, {"type": "null"}]},
        ),
        [
            _nullable("$.properties.name"),
            _type_list("$.properties.name", ["string", "null"]),
            _nullable("$.properties.mode"),
            _type_list("$.properties.mode", ["string", "null"]),
        ],
        id="openapi-nullable",
    ),
    pytest.param(
        NULLABLE_UNTYPED,
        props(
            size={
                "anyOf": [{"anyOf": [{"type": "integer"}, {"type": "string"}]}, {"type": "null"}]
            },
            mode={"anyOf": [MODE, {"type": "null"}]},
            both={"anyOf": [{"type": "string", "enum": ["r"]}, {"type": "null"}]},
            any={"description": "Anything."},
        ),
        [
            _nullable("$.properties.size"),
            _nullable("$.properties.mode"),
            _nullable("$.properties.both"),
        ],
        id="openapi-nullable-without-type",
    ),
    pytest.param(
        DRAFT_4_BOUNDS,
        props(ratio={"type": "number", "exclusiveMinimum": 0, "maximum": 1}),
        [
            Change(
                "$.properties.ratio",
                "draft-4 boolean 'exclusiveMinimum' written as a number",
                False,
            ),
            Change(
                "$.properties.ratio",
                "draft-4 boolean 'exclusiveMaximum' written as a number",
                False,
            ),
        ],
        id="draft-4-exclusive-bounds",
    ),
    pytest.param(
        UNTYPED_NESTED,
        props(
            point={"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]},
            ids={"type": "array", "items": {"type": "integer"}},
        ),
        [
            Change("$.properties.point", "added the missing type 'object'", False),
            Change("$.properties.ids", "added the missing type 'array'", False),
        ],
        id="missing-nested-types",
    ),
    pytest.param(
        DRAFT_4_TUPLE,
        props(pair={"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}),
        [Change("$.properties.pair", "draft-4 tuple 'items' written as 'prefixItems'", False)],
        id="draft-4-tuple-items",
    ),
    pytest.param(
        ANYTHING,
        props(
            anything={},
            list={"type": "array", "items": {}},
            bare={"type": "array", "items": {}},
            empty_tuple={"type": "array", "items": {}},
        ),
        [],
        id="subschemas-accepting-anything",
    ),
    pytest.param(
        UNCHECKED,
        props(n={"type": "integer"}, s={"type": "string"}),
        [
            Change("$.properties.n", "'not' is not checked by toolkit: dropped", True),
            Change("$.properties.s", "'if' is not checked by toolkit: dropped", True),
            Change("$.properties.s", "'then' is not checked by toolkit: dropped", True),
        ],
        id="unchecked-keywords",
    ),
    pytest.param(
        LOOK_AHEAD,
        props(code={"type": "string"}),
        [
            Change(
                "$.properties.code",
                "pattern '^(?=a)..$' is not checked by toolkit (its regex dialect)",
                True,
            )
        ],
        id="look-ahead-pattern",
    ),
    pytest.param(
        REQUIRED_NOT_A_LIST,
        props(a={"type": "string"}),
        [Change("$", "'required' is not a list of names: dropped", True)],
        id="required-not-a-list",
    ),
    pytest.param(
        NESTED_DEFS,
        props(inner={"type": "object"}),
        [
            Change(
                "$.properties.inner", "nested '$defs' dropped (only the top level's are used)", True
            )
        ],
        id="nested-defs",
    ),
    pytest.param(
        NOT_TEXT,
        props(a={"type": "string"}),
        [
            Change("$.properties.a", "'description' is not a string: dropped", True),
            Change("$.properties.a", "'format' is not a string: dropped", True),
        ],
        id="annotations-not-text",
    ),
    pytest.param(
        NOT_POSITIVE,
        props(a={"type": "number"}, b={"type": "integer"}),
        [
            Change("$.properties.a", "'multipleOf' 0 is not positive: dropped", True),
            Change("$.properties.b", "'multipleOf' -2 is not positive: dropped", True),
        ],
        id="multiple-of-not-positive",
    ),
    pytest.param(
        NULLABLE_ROOT,
        props(a={"type": "string"}),
        [Change("$", "'nullable' dropped: the arguments are an object", False)],
        id="nullable-root",
    ),
]


@pytest.mark.parametrize(("schema", "normalised", "changes"), REPAIRS)
def test_a_sloppy_schema_is_repaired_and_every_repair_is_reported(
    schema: dict[str, Any], normalised: dict[str, Any], changes: list[Change]
) -> None:
    """The schema as received becomes the neutral schema, and ``changes()`` lists each
    repair (and nothing else, for these schemas in OpenAI's non-strict format) with its
    place and whether something the schema said is no longer checked."""
    t = make(schema)
    assert t.parameters == normalised
    assert t.changes("openai") == tuple(changes)


def test_the_repaired_schemas_check_what_the_originals_said() -> None:
    """Each lossless repair keeps what the original schema allowed and refused."""
    ref = make(DEFINITIONS)
    assert valid(ref, {"mode": "r"}) == {"mode": "r"}
    assert problems(ref, {"mode": "x"}) == [(("mode",), "literal_error")]

    nullable = make(NULLABLE)
    assert valid(nullable, {"name": None, "mode": None}) == {"name": None, "mode": None}
    assert problems(nullable, {"mode": "x"}) == [(("mode",), "literal_error")]

    untyped = make({**NULLABLE_UNTYPED, "required": ["size", "mode", "both", "any"]})
    nulls = {"size": None, "mode": None, "both": None, "any": None}
    assert valid(untyped, nulls) == nulls
    values = {"size": "L", "mode": "w", "both": "r", "any": [1]}
    assert valid(untyped, values) == values
    assert problems(untyped, {**values, "mode": "x", "both": "w"}) == [
        (("mode",), "literal_error"),
        (("both",), "literal_error"),
    ]

    bounds = make(DRAFT_4_BOUNDS)
    assert problems(bounds, {"ratio": 0}) == [(("ratio",), "greater_than")]
    assert valid(bounds, {"ratio": 1}) == {"ratio": 1}
    assert problems(bounds, {"ratio": 1.5}) == [(("ratio",), "less_than_equal")]

    typed = make(UNTYPED_NESTED)
    assert problems(typed, {"point": "x", "ids": "y"}) == [
        (("point",), "dict_type"),
        (("ids",), "list_type"),
    ]
    assert problems(typed, {"point": {}}) == [(("point", "x"), "missing")]

    pair = make(DRAFT_4_TUPLE)
    assert valid(pair, {"pair": ["a", 1]}) == {"pair": ["a", 1]}
    assert problems(pair, {"pair": ["a", "b"]}) == [(("pair", 1), "int_parsing")]

    anything = make(ANYTHING)
    sent: dict[str, Any] = {
        "anything": {"x": [None]},
        "list": [1, "a"],
        "bare": [{}],
        "empty_tuple": [True],
    }
    assert valid(anything, sent) == sent


def test_a_nullable_reference_takes_null_and_what_it_refers_to() -> None:
    """OpenAPI's way to make a reference nullable, ``allOf`` of one ``$ref`` beside
    ``nullable``: null or the referenced schema, nothing else."""
    t = make(
        {
            "type": "object",
            "definitions": {"Mode": MODE},
            "properties": {"mode": {"allOf": [{"$ref": "#/definitions/Mode"}], "nullable": True}},
            "required": ["mode"],
        }
    )
    assert t.parameters["properties"]["mode"] == {
        "anyOf": [{"allOf": [{"$ref": "#/$defs/Mode"}]}, {"type": "null"}]
    }
    assert _nullable("$.properties.mode") in t.changes("openai")
    assert valid(t, {"mode": None}) == {"mode": None}
    assert valid(t, {"mode": "w"}) == {"mode": "w"}
    assert problems(t, {"mode": "x"}) == [(("mode",), "literal_error")]


def test_what_a_lossy_repair_dropped_is_not_enforced() -> None:
    """A dropped keyword is left to the schema's owner: toolkit accepts what the original
    would have refused (a look-ahead pattern, ``not``, ``if``/``then``, a ``required`` that
    is not a list)."""
    assert valid(make(LOOK_AHEAD), {"code": "zz"}) == {"code": "zz"}
    assert valid(make(UNCHECKED), {"n": 3, "s": "long"}) == {"n": 3, "s": "long"}
    assert valid(make(REQUIRED_NOT_A_LIST), {}) == {}


def test_a_schema_of_true_is_any_object() -> None:
    """``true`` at the top is "any object", written as the object schema every dialect
    takes."""
    t = make(True)
    assert t.parameters == {"type": "object", "properties": {}}
    assert t.changes("openai") == (
        Change("$", "added the missing type 'object'", False),
        Change("$", "added the missing (empty) 'properties'", False),
    )
    assert valid(t, {"x": [1]}) == {"x": [1]}


def test_a_schema_built_in_python_is_read_as_its_json() -> None:
    """Keys json writes as text (an int) and tuples are what JSON reads them as, and the
    tool does not share the caller's schema."""
    schema: dict[Any, Any] = {"type": "object", "properties": {1: {"enum": ("a", "b")}}}
    t = make(schema)
    assert t.parameters == {
        "type": "object",
        "properties": {"1": {"type": "string", "enum": ["a", "b"]}},
    }
    schema["properties"][1]["enum"] = ("c",)
    assert valid(t, {"1": "a"}) == {"1": "a"}


# -- refusals ------------------------------------------------------------------------------

OWNER = "tool 'read' of server 'files'"


def deep(levels: int) -> dict[str, Any]:
    """An object schema with ``levels`` objects nested below its top."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


REFUSALS = [
    pytest.param(
        {"type": "string"},
        f"{OWNER}: the input schema must describe an object, not 'string' (at $)",
        id="top-level-string",
    ),
    pytest.param(
        [{"type": "object"}],
        f"{OWNER}: the input schema must be an object schema, not [{{'type': 'object'}}] (at $)",
        id="top-level-list",
    ),
    pytest.param(
        props(a={"$ref": "#/$defs/Nope"}),
        f"parameter 'a' of {OWNER}: $ref '#/$defs/Nope' points to nothing (at $.properties.a)",
        id="ref-to-nothing",
    ),
    pytest.param(
        props(a={"$ref": "http://example.com/schema.json"}),
        f"parameter 'a' of {OWNER}: $ref 'http://example.com/schema.json' cannot be followed "
        "(only '#/$defs/...' and '#/definitions/...') (at $.properties.a)",
        id="external-ref",
    ),
    pytest.param(
        props(a=False),
        f"parameter 'a' of {OWNER}: the schema 'false' accepts no value (at $.properties.a)",
        id="false-subschema",
    ),
    pytest.param(
        props(a={"type": "array", "items": {"type": "str"}}),
        f"parameter 'a' of {OWNER}: type 'str' is not a JSON Schema type (at $.properties.a.items)",
        id="unknown-type-name",
    ),
    pytest.param(
        props(a={"type": [["string"]]}),
        f"parameter 'a' of {OWNER}: type [['string']] is not a JSON Schema type "
        "(at $.properties.a)",
        id="type-not-a-name",
    ),
    pytest.param(
        {
            "type": "object",
            "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"anyOf": [{"$ref": "#/$defs/A"}]}},
        },
        f"{OWNER}: the $refs A -> B -> A never reach a value (at $.$defs.A)",
        id="ref-cycle-without-a-value",
    ),
]


@pytest.mark.parametrize(("schema", "message"), REFUSALS)
def test_a_schema_that_cannot_be_used_is_refused_naming_owner_and_place(
    schema: Any, message: str
) -> None:
    """What cannot be repaired is a ``ToolDefinitionError`` naming the owner, the parameter
    and the JSON path."""
    with pytest.raises(ToolDefinitionError) as info:
        make(schema, owner=OWNER)
    assert str(info.value) == message


def test_schemas_may_nest_max_schema_depth_levels_and_no_more() -> None:
    """The nesting bound, both sides of it."""
    assert make(deep(MAX_SCHEMA_DEPTH)).name == "t"
    with pytest.raises(ToolDefinitionError) as info:
        make(deep(MAX_SCHEMA_DEPTH + 1), owner=OWNER)
    path = "$" + ".properties.a" * (MAX_SCHEMA_DEPTH + 1)
    assert str(info.value) == (
        f"parameter 'a' of {OWNER}: schemas nest more than {MAX_SCHEMA_DEPTH} levels deep "
        f"(at {path})"
    )


def test_refs_leading_only_to_refs_are_bounded_like_nesting() -> None:
    """A chain of ``$ref``s through combinators alone is nesting too (a validator follows
    it without entering the value): refused beyond ``MAX_SCHEMA_DEPTH``, never a
    ``RecursionError``."""

    def chain(length: int) -> dict[str, Any]:
        defs: dict[str, Any] = {f"D{i}": {"$ref": f"#/$defs/D{i + 1}"} for i in range(length)}
        defs[f"D{length}"] = {"type": "string"}
        return {"type": "object", "$defs": defs, "properties": {"a": {"$ref": "#/$defs/D0"}}}

    assert valid(make(chain(MAX_SCHEMA_DEPTH // 2)), {"a": "x"}) == {"a": "x"}
    with pytest.raises(ToolDefinitionError) as info:
        make(chain(3000), owner=OWNER)
    assert str(info.value).startswith(f"{OWNER}: ")
    assert f"$refs lead to $refs more than {MAX_SCHEMA_DEPTH} levels deep" in str(info.value)


def test_a_schema_of_max_schema_chars_is_accepted_one_more_is_refused() -> None:
    """The size bound, in characters of the schema's JSON text, both sides of it."""
    empty = len(json.dumps({"type": "object", "description": ""}))
    text = "x" * (MAX_SCHEMA_CHARS - empty)
    assert make({"type": "object", "description": text}).name == "t"
    with pytest.raises(ToolDefinitionError) as info:
        make({"type": "object", "description": text + "x"}, owner=OWNER)
    assert str(info.value) == (
        f"{OWNER}: its input schema has {MAX_SCHEMA_CHARS + 1:,} characters "
        f"(at most {MAX_SCHEMA_CHARS:,})"
    )


def _circular() -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {}}
    schema["properties"]["self"] = schema
    return schema


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        pytest.param(props(a={"enum": {1, 2}}), "Object of type set", id="set"),
        # (json's own words for these vary by Python version: only its subject is checked)
        pytest.param(props(a={"type": "number", "maximum": math.nan}), "float", id="nan"),
        pytest.param(props(a={"type": "number", "minimum": -math.inf}), "float", id="infinity"),
        pytest.param(props(a={"default": object()}), "Object of type object", id="object"),
        pytest.param(_circular(), "Circular reference", id="circular"),
    ],
)
def test_a_schema_that_is_not_json_is_refused(schema: dict[str, Any], why: str) -> None:
    """A value JSON cannot hold anywhere in the schema: refused before anything else."""
    with pytest.raises(ToolDefinitionError) as info:
        make(schema, owner=OWNER)
    assert str(info.value).startswith(f"{OWNER}: its input schema is not JSON (")
    assert why in str(info.value)


@pytest.mark.parametrize("name", ["bad name", "", "1st", "a" * 129, "wé"])
def test_an_illegal_tool_name_is_refused(name: str) -> None:
    """The name is checked as for ``@tool``, naming the owner."""
    with pytest.raises(ToolDefinitionError) as info:
        make(props(), name=name, owner=OWNER)
    assert str(info.value).startswith(f"{OWNER}: {name!r} is not a usable tool name")


# -- validation ----------------------------------------------------------------------------


def test_nested_objects_fail_at_the_precise_location() -> None:
    t = make(props(a=props(["b"], b=props(c={"type": "integer"}))))
    assert problems(t, {"a": {"b": {"c": "x"}}}) == [(("a", "b", "c"), "int_parsing")]
    assert problems(t, {"a": {}}) == [(("a", "b"), "missing")]
    assert valid(t, {"a": {"b": {}}}) == {"a": {"b": {}}}


def test_array_item_and_count_errors() -> None:
    t = make(props(a={"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}))
    assert problems(t, {"a": [1]}) == [(("a",), "too_short")]
    assert problems(t, {"a": [1, 2, 3, 4]}) == [(("a",), "too_long")]
    assert problems(t, {"a": [1, "x"]}) == [(("a", 1), "int_parsing")]
    assert valid(t, {"a": [1, 2]}) == {"a": [1, 2]}


def test_items_false_allows_no_items() -> None:
    t = make(props(a={"type": "array", "items": False}))
    assert valid(t, {"a": []}) == {"a": []}
    assert problems(t, {"a": [1]}) == [(("a",), "too_long")]


def test_unique_items_compare_values() -> None:
    t = make(props(a={"type": "array", "uniqueItems": True}))
    assert messages(t, {"a": [1, {"b": [2]}, {"b": [2]}]}) == [
        (("a",), 'Items should be unique; {"b": [2]} appears twice')
    ]
    assert valid(t, {"a": [1, True, "1", [1]]}) == {"a": [1, True, "1", [1]]}


def test_prefix_items_validate_positions_and_give_a_list() -> None:
    """A tuple schema validates each position; the function receives a list (JSON has no
    tuples), and a shorter array is valid (``prefixItems`` requires no length)."""
    pair = {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}
    closed = make(props(a={**pair, "items": False}))
    got = valid(closed, {"a": ["x", 1]})
    assert got == {"a": ["x", 1]}
    assert type(got["a"]) is list
    assert problems(closed, {"a": ["x", "y"]}) == [(("a", 1), "int_parsing")]
    assert problems(closed, {"a": ["x", 1, 2]}) == [(("a",), "too_long")]
    assert valid(closed, {"a": ["x"]}) == {"a": ["x"]}
    assert valid(closed, {"a": []}) == {"a": []}

    rest = make(props(a={**pair, "items": {"type": "boolean"}, "minItems": 3}))
    got = valid(rest, {"a": ["x", 1, True, False]})
    assert got == {"a": ["x", 1, True, False]}
    assert type(got["a"]) is list
    assert problems(rest, {"a": ["x", 1, "maybe"]}) == [(("a", 2), "bool_parsing")]
    assert messages(rest, {"a": ["x", 1]}) == [(("a",), "Should have at least 3 items")]


def test_enum_and_const_with_structured_values() -> None:
    t = make(props(a={"enum": [[1, 2], {"k": "v"}, "s"]}, b={"const": {"x": [None]}}))
    assert valid(t, {"a": [1, 2], "b": {"x": [None]}}) == {"a": [1, 2], "b": {"x": [None]}}
    assert valid(t, {"a": {"k": "v"}}) == {"a": {"k": "v"}}
    assert messages(t, {"a": [2, 1], "b": {"x": []}}) == [
        (("a",), 'Input should be [1, 2], {"k": "v"}, "s"'),
        (("b",), 'Input should be {"x": [null]}'),
    ]
    assert problems(t, {"a": [True, 2]}) == [(("a",), "literal_error")]  # true is not 1
    assert same(valid(t, {"a": [1.0, 2]}), {"a": [1, 2]})  # 1.0 is 1


def test_scalar_enum_and_const() -> None:
    t = make(props(a={"enum": ["x", "y"]}, b={"const": 3}))
    assert messages(t, {"a": "z", "b": 4}) == [
        (("a",), "Input should be 'x' or 'y'"),
        (("b",), "Input should be 3"),
    ]
    assert valid(t, {"a": "y", "b": 3}) == {"a": "y", "b": 3}


def test_a_boolean_is_never_taken_for_a_number_in_an_enum() -> None:
    """JSON Schema keeps ``true`` and ``1`` apart (pydantic's literal does not): a valid
    boolean reaches the function as a boolean even beside ``const: 1``, and the other way
    round."""
    t = make(
        props(
            a={"anyOf": [{"const": 1}, {"type": "boolean"}]},
            b={"anyOf": [{"const": True}, {"type": "integer"}]},
            c={"enum": [0, 1]},
        )
    )
    assert same(valid(t, {"a": True, "b": 1}), {"a": True, "b": 1})
    assert same(valid(t, {"a": 1, "b": True}), {"a": 1, "b": True})
    assert messages(t, {"c": False}) == [(("c",), "Input should be 0 or 1")]
    assert same(valid(t, {"c": 1.0}), {"c": 1})


def test_any_of_reports_every_branch_by_its_type() -> None:
    t = make(
        props(a={"anyOf": [{"type": "integer"}, {"type": "array", "items": {"type": "string"}}]})
    )
    assert valid(t, {"a": 3}) == {"a": 3}
    assert valid(t, {"a": ["x"]}) == {"a": ["x"]}
    assert problems(t, {"a": [1]}) == [
        (("a", "integer"), "int_type"),
        (("a", "array", 0), "string_type"),
    ]


def test_any_of_siblings_are_checked_too() -> None:
    """Keywords beside ``anyOf`` hold as well as one of its branches."""
    t = make(
        props(
            a={
                "type": "object",
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "anyOf": [{"required": ["x"]}, {"required": ["y"]}],
            }
        )
    )
    assert valid(t, {"a": {"y": 2}}) == {"a": {"y": 2}}
    assert problems(t, {"a": {"x": "no"}}) == [(("a", "x"), "int_parsing")]
    assert problems(t, {"a": {}}) == [
        (("a", "object", "x"), "missing"),
        (("a", "object", "y"), "missing"),
    ]


def test_type_lists_with_null() -> None:
    """``null`` among the types is pydantic's nullable: the errors are those of the other
    types alone, at the property; several others are named by their JSON type."""
    t = make(
        props(
            a={"type": ["integer", "null"], "minimum": 1},
            b={"type": ["string", "integer", "null"], "maxLength": 1, "maximum": 5},
        )
    )
    assert valid(t, {"a": None, "b": 2}) == {"a": None, "b": 2}
    assert valid(t, {"a": 1, "b": "2"}) == {"a": 1, "b": "2"}
    assert valid(t, {"b": None}) == {"b": None}
    assert messages(t, {"a": 0, "b": 6}) == [
        (("a",), "Input should be greater than or equal to 1"),
        (("b", "string"), "Input should be a valid string"),
        (("b", "integer"), "Input should be less than or equal to 5"),
    ]


def test_integer_with_float_bounds() -> None:
    t = make(props(a={"type": "integer", "minimum": 1.5, "exclusiveMaximum": 3.5}))
    assert problems(t, {"a": 1}) == [(("a",), "greater_than_equal")]
    assert valid(t, {"a": 2}) == {"a": 2}
    assert valid(t, {"a": 3}) == {"a": 3}
    assert problems(t, {"a": 4}) == [(("a",), "less_than")]
    assert problems(t, {"a": 2.5}) == [(("a",), "int_from_float")]


def test_multiple_of_is_exact_for_integers_of_any_size() -> None:
    """An integer past a float's precision is checked exactly, not through a float."""
    t = make(props(a={"type": "integer", "multipleOf": 3}))
    assert valid(t, {"a": 12345678901234567890}) == {"a": 12345678901234567890}
    assert problems(t, {"a": 12345678901234567891}) == [(("a",), "multiple_of")]
    assert problems(t, {"a": 10**400}) == [(("a",), "multiple_of")]


def test_bounds_beyond_a_float_are_kept_and_reported_as_written() -> None:
    huge = 10**400
    t = make(props(a={"type": "number", "minimum": huge}, b={"type": "number", "multipleOf": huge}))
    assert messages(t, {"a": 1.5}) == [(("a",), f"Input should be greater than or equal to {huge}")]
    assert valid(t, {"a": huge, "b": 0.0}) == {"a": huge, "b": 0.0}
    assert problems(t, {"b": 1.5}) == [(("b",), "multiple_of")]


def test_number_keeps_integers_exact_and_floats_floats() -> None:
    """A ``number`` that is an integer stays an int: a float would round it."""
    t = make(props(a={"type": "number"}))
    got = t.validate('{"a": 12345678901234567890}')[1]["a"]
    assert got == 12345678901234567890
    assert type(got) is int
    assert type(valid(t, {"a": 1.0})["a"]) is float


@pytest.mark.parametrize("sent", ["x", [1], {"k": 1}, None])
def test_a_number_error_is_one_plain_valid_number_error(sent: Any) -> None:
    """No ``.int``/``.float`` branch of the union shows in the location or the message."""
    t = make(props(["a"], a={"type": "number"}))
    assert messages(t, {"a": sent}) == [(("a",), "Input should be a valid number")]
    assert problems(t, {"a": sent}) == [(("a",), "float_type")]


def test_additional_properties() -> None:
    closed = make({**props(a={}), "additionalProperties": False})
    assert problems(closed, {"a": 1, "b": 2}) == [(("b",), "extra_forbidden")]
    typed = make({**props(a={}), "additionalProperties": {"type": "string"}})
    assert problems(typed, {"a": 1, "b": 2}) == [(("b",), "string_type")]
    assert valid(typed, {"a": 1, "b": "2"}) == {"a": 1, "b": "2"}
    map_only = make({"type": "object", "additionalProperties": {"type": "integer"}})
    assert problems(map_only, {"x": 1, "y": "z"}) == [(("y",), "int_parsing")]
    open_ = make({**props(a={}), "additionalProperties": True})
    assert valid(open_, {"a": 1, "b": [2]}) == {"a": 1, "b": [2]}
    empty_closed = make({"type": "object", "additionalProperties": False})
    assert problems(empty_closed, {"y": 1}) == [(("y",), "extra_forbidden")]
    assert valid(empty_closed, {}) == {}


def test_required_names_absent_from_properties_are_still_required() -> None:
    t = make({**props(a={"type": "integer"}), "required": ["a", "b"]})
    assert problems(t, {"a": 1}) == [(("b",), "missing")]
    assert valid(t, {"a": 1, "b": [None]}) == {"a": 1, "b": [None]}
    bare = make({"type": "object", "required": ["b"]})
    assert problems(bare, {}) == [(("b",), "missing")]


TREE = {
    "type": "object",
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {
                "value": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
            },
            "required": ["value"],
        }
    },
    "properties": {"root": {"$ref": "#/$defs/Node"}},
    "required": ["root"],
}


def test_a_recursive_schema_validates_a_tree() -> None:
    t = make(TREE)
    tree = {"root": {"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]}}
    assert valid(t, tree) == tree
    bad = {"root": {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}, {}]}]}}
    assert problems(t, bad) == [
        (("root", "children", 0, "children", 0, "value"), "int_parsing"),
        (("root", "children", 0, "children", 1, "value"), "missing"),
    ]


def test_a_value_nested_deeper_than_json_allows_is_an_error_not_a_crash() -> None:
    t = make(
        {
            "type": "object",
            "$defs": {"N": {"type": "array", "items": {"$ref": "#/$defs/N"}}},
            "properties": {"a": {"$ref": "#/$defs/N"}},
        }
    )
    with pytest.raises(ValidationError) as info:
        t.validate('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    assert [e["type"] for e in info.value.errors()] == ["json_invalid"]


def test_min_and_max_properties() -> None:
    named = make(props(a={**props(x={}), "minProperties": 2, "maxProperties": 3}))
    assert messages(named, {"a": {"x": 1}}) == [(("a",), "Should have at least 2 properties")]
    assert messages(named, {"a": {"x": 1, "b": 1, "c": 1, "d": 1}}) == [
        (("a",), "Should have at most 3 properties")
    ]
    assert valid(named, {"a": {"x": 1, "y": 2}}) == {"a": {"x": 1, "y": 2}}
    free = make(props(a={"type": "object", "minProperties": 1, "maxProperties": 1}))
    assert problems(free, {"a": {}}) == [(("a",), "too_short")]
    assert problems(free, {"a": {"x": 1, "y": 2}}) == [(("a",), "too_long")]
    assert valid(free, {"a": {"x": 1}}) == {"a": {"x": 1}}


def test_optional_properties_not_sent_are_not_invented() -> None:
    """The function receives what was sent: no ``None`` and no ``default`` for what was
    not (the schema's owner applies its own defaults)."""
    t = make(
        props(
            ["a"],
            a={"type": "string"},
            b={"type": "integer", "default": 5},
            c={"type": ["string", "null"], "default": None},
            d=props(e={"type": "string", "default": "x"}),
        )
    )
    assert valid(t, {"a": "x"}) == {"a": "x"}
    assert valid(t, {"a": "x", "d": {}}) == {"a": "x", "d": {}}
    assert t.call({"a": "x"}) == {"a": "x"}


def test_a_pattern_the_regex_engine_reads_is_enforced() -> None:
    t = make(props(a={"type": "string", "pattern": "^[a-z]+$"}))
    assert t.changes("openai") == ()
    assert valid(t, {"a": "abc"}) == {"a": "abc"}
    assert problems(t, {"a": "ABC"}) == [(("a",), "string_pattern_mismatch")]


def test_arguments_that_are_not_an_object_are_refused() -> None:
    t = make(props(a={}))
    assert problems(t, [1]) == [((), "dict_type")]
    assert problems(t, "x") == [((), "dict_type")]


# -- strict mode and the formats ------------------------------------------------------------

SHAPES = props(
    ["path"],
    path={"type": "string"},
    limit={"type": "integer", "minimum": 1},
    options={"type": "object", "description": "Anything the reader takes."},
    tags={"type": "array", "items": {"type": "string"}},
)


def test_strict_openai_round_trip_gives_the_function_the_original_shapes() -> None:
    """A strict model must send every property (null for the optional ones) and a
    free-form object as JSON text; the function receives what the schema describes: the
    nulls gone, the object decoded."""
    received: list[dict[str, Any]] = []

    def read(**arguments: Any) -> str:
        received.append(arguments)
        return "ok"

    t = Tool.from_schema(read, SHAPES, name="read", strict=True)
    parameters = t.definition("openai")["function"]["parameters"]
    assert parameters["required"] == ["path", "limit", "options", "tags"]
    assert parameters["additionalProperties"] is False
    assert parameters["properties"]["options"]["type"] == ["string", "null"]
    assert parameters["properties"]["limit"]["type"] == ["integer", "null"]

    options = {"encoding": "utf-8", "nested": [1, {"deep": None}]}
    sent = {"path": "a.txt", "limit": None, "options": json.dumps(options), "tags": None}
    assert t.validate(json.dumps(sent)) == ((), {"path": "a.txt", "options": options})
    assert t.validate(sent) == ((), {"path": "a.txt", "options": options})
    everything = {"path": "a.txt", "limit": 2, "options": json.dumps({}), "tags": ["x"]}
    assert t.call(json.dumps(everything)) == "ok"
    assert received == [{"path": "a.txt", "limit": 2, "options": {}, "tags": ["x"]}]
    assert problems(t, {**sent, "limit": 0}) == [(("limit",), "greater_than_equal")]


SLOPPY: dict[str, Any] = {str(p.id): p.values[0] for p in REPAIRS} | {
    "tree": TREE,
    "shapes": SHAPES,
    "typed-extra": {**props(a={"type": "string"}), "additionalProperties": {"type": "integer"}},
    "one-of": props(a={"oneOf": [{"type": "string"}, {"type": "integer"}]}),
}

RECURSIVE = "the recursive type 'Node' cannot be expressed in"
TYPED_EXTRA = "an object with both named and typed extra properties cannot be expressed in"
# Where a format cannot express a schema: (schema, format, strict) -> what it says.
REFUSED_RENDERINGS = {
    ("tree", "anthropic", True): RECURSIVE,
    ("tree", "gemini", False): RECURSIVE,
    ("typed-extra", "openai", True): TYPED_EXTRA,
    ("typed-extra", "openai-responses", True): TYPED_EXTRA,
    ("typed-extra", "anthropic", True): TYPED_EXTRA,
    ("typed-extra", "gemini", False): TYPED_EXTRA,
}

# Renderings known to break a provider's rules (the conftest's check raises AssertionError):
# (the formats, strict or not (None: both), what the check says). Each has an
# xfail(strict=True) regression test at the end of this file: when one is fixed, its test
# fails, and its entry here must go.
SEVERAL_TYPES = (("workers-ai",), None, "missing required key 'type'")
UNTYPED = (("openai", "openai-responses"), True, "keyword 'type' is required in strict mode")
UNTYPED_GEMINI = (("gemini",), None, "missing required key 'type'")
OPEN_ROOT = (STRICT_FORMATS, True, 'the root schema must have "type": "object"')
EMPTY_CLOSED_GEMINI = (("gemini",), None, "should be non-empty for OBJECT type")
KNOWN_RENDERING_BUGS = (SEVERAL_TYPES, UNTYPED, UNTYPED_GEMINI, OPEN_ROOT, EMPTY_CLOSED_GEMINI)


def known_bug(format: str, strict: bool, error: AssertionError) -> bool:
    """Whether every rule ``error`` reports broken is a known bug of ``format``."""
    return all(
        any(
            format in formats and when in (None, strict) and text in line
            for formats, when, text in KNOWN_RENDERING_BUGS
        )
        for line in str(error).splitlines()[1:]
    )


def _rendering_cases() -> list[Any]:
    several_types = pytest.mark.xfail(reason=f"known bug: {SEVERAL_TYPES[2]}", strict=True)
    return [
        pytest.param(
            case,
            format,
            id=f"{case}-{format}",
            marks=[several_types]
            if format == "workers-ai" and case in ("openapi-nullable-without-type", "one-of")
            else [],
        )
        for case in SLOPPY
        for format in FORMATS
    ]


@pytest.mark.parametrize(("case", "format"), _rendering_cases())
def test_every_format_renders_a_repaired_schema_or_says_why_not(
    case: str, format: FormatName
) -> None:
    """Strict (where the format has a strict mode) and not, the format renders the schema
    (the conftest checks it against the provider's rules), its changes starting with the
    repairs; or it refuses with a ``ToolDefinitionError`` naming the tool and what it
    cannot express."""
    t = make(SLOPPY[case])
    repairs = t.changes("mcp")
    for strict in (False, True) if format in STRICT_FORMATS else (False,):
        refusal = REFUSED_RENDERINGS.get((case, format, strict))
        if refusal is None:
            t.definition(format, strict=strict)
            assert t.changes(format, strict=strict)[: len(repairs)] == repairs
        else:
            with pytest.raises(ToolDefinitionError) as info:
                t.definition(format, strict=strict)
            assert "tool 't': " in str(info.value)
            assert refusal in str(info.value)


# -- through a registry ----------------------------------------------------------------------

FILES = {
    "properties": {
        "path": {"type": "string", "description": "The file."},
        "limit": {"type": "integer", "minimum": 1, "nullable": True},
    },
    "required": ["path"],
}


def test_a_registry_runs_a_schema_tool_by_its_wire_name() -> None:
    received: list[dict[str, Any]] = []

    def read(**arguments: Any) -> str:
        received.append(arguments)
        return f"read {arguments['path']}"

    registry = Registry([Tool.from_schema(read, FILES, name="files.read.v2")])
    [result] = registry.execute(
        [ToolCall(id="1", name="files_read_v2", arguments='{"path": "a.txt", "limit": "3"}')]
    )
    assert not result.is_error
    assert result.value == "read a.txt"
    assert result.content == "read a.txt"
    assert received == [{"path": "a.txt", "limit": 3}]


def test_a_registry_answers_invalid_arguments_naming_the_argument() -> None:
    received: list[dict[str, Any]] = []

    def read(**arguments: Any) -> None:
        received.append(arguments)

    registry = Registry([Tool.from_schema(read, FILES, name="files.read.v2")])
    [result] = registry.execute(
        [ToolCall(id="1", name="files_read_v2", arguments={"path": 3, "limit": 0})]
    )
    assert result.is_error
    assert result.error is not None
    assert result.error.kind == "invalid_arguments"
    assert [(p.location, p.input) for p in result.error.problems] == [
        (("path",), 3),
        (("limit",), 0),
    ]
    assert "- path: Input should be a valid string (got 3)" in result.content
    assert "- limit: Input should be greater than or equal to 1 (got 0)" in result.content
    assert received == []


def test_an_async_function_runs_through_execute_async() -> None:
    async def read(**arguments: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        return arguments

    t = Tool.from_schema(read, FILES, name="files.read.v2")
    assert t.is_async
    calls = [
        ToolCall(id="1", name="files_read_v2", arguments='{"path": "a"}'),
        ToolCall(id="2", name="files.read.v2", arguments='{"path": "b", "limit": null}'),
        ToolCall(id="3", name="files_read_v2", arguments='{"limit": 1}'),
    ]
    results = asyncio.run(Registry([t]).execute_async(calls))
    assert [r.value for r in results] == [{"path": "a"}, {"path": "b", "limit": None}, None]
    assert results[2].error is not None
    assert results[2].error.kind == "invalid_arguments"
    assert [p.location for p in results[2].error.problems] == [("path",)]


def test_with_options_keeps_the_schema_and_its_repairs() -> None:
    t = Tool.from_schema(echo, FILES, name="files.read.v2", description="Read a file.")
    renamed = t.with_options(name="files.read.v3")
    assert t.changes("mcp")[:2] == (
        Change("$", "added the missing type 'object'", False),
        Change("$.properties.limit", "OpenAPI 'nullable' written as a 'null' type", False),
    )
    assert renamed.changes("mcp") == t.changes("mcp")
    assert renamed.parameters == t.parameters
    assert renamed.description == "Read a file."
    [result] = Registry([renamed]).execute(
        [ToolCall(id="1", name="files_read_v3", arguments='{"path": "p", "limit": null}')]
    )
    assert result.value == {"path": "p", "limit": None}


# -- against a reference validator ----------------------------------------------------------

NAMES = ["a", "b", "c"]
_bound = st.integers(-5, 5) | st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 1))
_scalar = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([0.5, 2.0, "x", "1", ""])


def _numeric(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"type": st.just(kind)},
        optional={
            "minimum": _bound,
            "maximum": _bound,
            "exclusiveMinimum": _bound,
            "exclusiveMaximum": _bound,
            "multipleOf": st.integers(1, 4),
        },
    )


def _enum(values: list[Any]) -> dict[str, Any]:
    return {"enum": values}


def _const(value: Any) -> dict[str, Any]:
    return {"const": value}


def _types(kinds: list[str]) -> dict[str, Any]:
    return {"type": kinds}


def _any_of(branches: list[dict[str, Any]]) -> dict[str, Any]:
    return {"anyOf": branches}


def _object(properties: dict[str, Any], required: list[str], extra: bool | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if extra is not None:
        schema["additionalProperties"] = extra
    return schema


_leaf_schemas: st.SearchStrategy[dict[str, Any]] = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={"minLength": st.integers(0, 3), "maxLength": st.integers(0, 4)},
    ),
    _numeric("integer"),
    _numeric("number"),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({}),
    st.lists(_scalar, min_size=1, max_size=4).map(_enum),
    _scalar.map(_const),
    st.lists(
        st.sampled_from(["string", "integer", "number", "boolean", "null"]),
        min_size=2,
        max_size=3,
        unique=True,
    ).map(_types),
)


def _compound(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    array = st.fixed_dictionaries(
        {"type": st.just("array")},
        optional={
            "items": children | st.just(False),
            "prefixItems": st.lists(children, min_size=1, max_size=3),
            "minItems": st.integers(0, 2),
            "maxItems": st.integers(0, 3),
            "uniqueItems": st.booleans(),
        },
    )
    obj = st.builds(
        _object,
        st.dictionaries(st.sampled_from(NAMES), children, max_size=3),
        st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
        st.none() | st.booleans(),
    )
    return array | obj | st.lists(children, min_size=1, max_size=3).map(_any_of)


_top_schemas = st.builds(
    _object,
    st.dictionaries(st.sampled_from(NAMES), st.recursive(_leaf_schemas, _compound, max_leaves=8)),
    st.lists(st.sampled_from(NAMES), max_size=2, unique=True),
    st.none() | st.booleans(),
)
# (Integral floats beyond 2**63 are not drawn: pydantic reads no larger integer from a
# float, int_parsing_size, where JSON Schema counts 1e300 as an integer.)
_json: st.SearchStrategy[Any] = st.recursive(
    _scalar | st.floats(-1e9, 1e9, allow_nan=False) | st.integers() | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(NAMES), children, max_size=3)
    ),
    max_leaves=10,
)


def _fitting(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values near ``schema``: often valid, often just outside it."""
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_fitting(branch) for branch in schema["anyOf"]])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of([_fitting({**schema, "type": k}) for k in cast("list[str]", kind)])
    if kind == "string":
        low = schema.get("minLength", 0)
        return st.text(alphabet="ab1", min_size=low, max_size=max(low, schema.get("maxLength", 4)))
    if kind in ("integer", "number"):
        step = schema.get("multipleOf", 1)
        numbers = st.integers(-6, 6).map(lambda n: n * step)
        return numbers | st.floats(-6, 6, allow_nan=False) if kind == "number" else numbers
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return _fitting_array(schema)
    if kind == "object":
        return _fitting_object(schema)
    return _json


def _fitting_array(schema: dict[str, Any]) -> st.SearchStrategy[list[Any]]:
    low = schema.get("minItems", 0)
    items = schema.get("items", {})
    rest = st.lists(
        _json if items is False else _fitting(items),
        min_size=low,
        max_size=max(low, schema.get("maxItems", 3)),
    )
    prefix = [_fitting(p) for p in schema.get("prefixItems", ())]
    if not prefix:
        return rest

    def joined(drawn: tuple[tuple[Any, ...], list[Any], int]) -> list[Any]:
        positions, more, reached = drawn  # all positions, then the rest; or fewer
        return [*positions[:reached], *(more if reached == len(prefix) else [])]

    return st.tuples(st.tuples(*prefix), rest, st.integers(0, len(prefix))).map(joined)


def _fitting_object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    required: list[str] = schema.get("required", [])
    near = {name: _fitting(sub) | _json for name, sub in properties.items() if name not in required}
    return st.fixed_dictionaries(
        {name: _fitting(properties.get(name, {})) for name in required}, optional=near
    )


@FUZZ
@given(st.data())
def test_what_a_reference_validator_accepts_toolkit_accepts_unchanged(data: st.DataObject) -> None:
    """Differential: for schemas of the subset toolkit checks, every instance
    ``jsonschema``'s Draft 2020-12 validator accepts is accepted by toolkit (sent as JSON
    text or as a mapping), and the function receives the value sent: nothing changed,
    dropped or invented. (The other direction does not hold, on purpose: lax validation
    takes ``"3"`` for an integer or ``"true"`` for a boolean.)"""
    jsonschema = pytest.importorskip("jsonschema")
    schema = data.draw(_top_schemas, label="schema")
    instance = data.draw(
        st.one_of(
            _fitting_object(schema),
            _fitting_object(schema),
            st.dictionaries(st.sampled_from(NAMES), _json, max_size=3),
        ),
        label="instance",
    )
    if not jsonschema.Draft202012Validator(schema).is_valid(instance):
        return
    t = make(schema)
    for sent in (json.dumps(instance), instance):
        args, got = t.validate(sent)
        assert args == ()
        assert same(got, instance), f"{got!r} is not what was sent"


_keywords = st.sampled_from(
    [
        "type", "properties", "items", "prefixItems", "additionalProperties", "required",
        "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "$defs", "definitions",
        "nullable", "minimum", "exclusiveMinimum", "multipleOf", "minLength", "pattern",
        "minItems", "uniqueItems", "maxProperties", "not", "default", "description", "format",
        "propertyNames", "a", "b",
    ]
)  # fmt: skip
_words = st.sampled_from(
    ["object", "string", "integer", "number", "array", "null", "#/$defs/a",
     "#/definitions/b", "a", "b", "(?=a)", "^a+$", ""]
)  # fmt: skip
_anything: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | _words,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(_keywords | _words, children, max_size=4)
    ),
    max_leaves=20,
)


def _with_defs(properties: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "$defs": defs}


@FUZZ
@given(
    st.one_of(
        _anything,
        st.builds(
            _with_defs,
            st.dictionaries(st.sampled_from(NAMES), _anything, max_size=3),
            st.dictionaries(st.sampled_from(["a", "b"]), _anything, max_size=2),
        ),
    ),
    st.dictionaries(st.sampled_from(NAMES), _json, max_size=2),
)
def test_any_json_as_a_schema_is_a_tool_or_a_definition_error(schema: Any, arguments: Any) -> None:
    """Whatever JSON a server sends as a schema: a tool, or a ``ToolDefinitionError``; the
    tool validates arguments raising only ``ValidationError``, and renders for every format
    or raises only ``ToolDefinitionError`` (but for the known bugs below)."""
    try:
        t = make(schema)
    except ToolDefinitionError:
        return
    with contextlib.suppress(ValidationError):
        t.validate(json.dumps(arguments))
    for format in FORMATS:
        for strict in (False, True) if format in STRICT_FORMATS else (False,):
            try:
                t.definition(format, strict=strict)
            except ToolDefinitionError:
                pass
            except AssertionError as error:  # the conftest's check of the provider's rules
                if not known_bug(format, strict, error):
                    raise


# -- known bugs (see KNOWN_RENDERING_BUGS) ---------------------------------------------------


@pytest.mark.xfail(reason=f"known bug: {SEVERAL_TYPES[2]}", strict=True)
def test_workers_ai_renders_a_parameter_of_several_types_with_a_type() -> None:
    """Workers AI wants a ``type`` on every parameter; ``anyOf`` of several types has
    none (the same for a decorated ``int | str``)."""
    make(props(a={"anyOf": [{"type": "string"}, {"type": "integer"}]})).definition("workers-ai")


@pytest.mark.xfail(reason=f"known bug: {UNTYPED[2]}", strict=True)
@pytest.mark.parametrize(("format", "strict"), [("openai", True), ("gemini", False)])
def test_a_value_of_any_type_with_an_unknown_keyword_is_rendered_as_any_value(
    format: FormatName, strict: bool
) -> None:
    """``{"x-order": 1}`` accepts any value like ``{}``, which strict OpenAI and Gemini
    get as JSON text; the unknown keyword keeps the codecs from seeing it, and no ``type``
    is written."""
    make(props(a={"x-order": 1})).definition(format, strict=strict)


@pytest.mark.xfail(reason=f"known bug: {OPEN_ROOT[2]}", strict=True)
@pytest.mark.parametrize("format", STRICT_FORMATS)
def test_strict_mode_renders_an_open_object_without_properties_as_an_object(
    format: FormatName,
) -> None:
    """``{"type": "object"}`` (any arguments) in strict mode: the free-form object rule
    must not apply to the root, which is sent as a JSON string instead."""
    make({"type": "object"}).definition(format, strict=True)


@pytest.mark.xfail(reason=f"known bug: {EMPTY_CLOSED_GEMINI[2]}", strict=True)
def test_gemini_renders_a_closed_object_without_properties() -> None:
    make(props(a={"type": "object", "additionalProperties": False})).definition("gemini")


def test_refs_that_would_expand_too_far_are_refused_at_once() -> None:
    """Dialects without $ref write each one out: a few kilobytes whose $refs double at
    each level (or chain thousands deep) must be refused when the tool is made, not hang
    or overflow the stack while rendering."""
    doubling: dict[str, Any] = {"L0": {"type": "string"}}
    for i in range(1, 23):
        twice = {"$ref": f"#/$defs/L{i - 1}"}
        doubling[f"L{i}"] = {"type": "object", "properties": {"a": twice, "b": twice}}
    bomb = {"type": "object", "properties": {"x": {"$ref": "#/$defs/L22"}}, "$defs": doubling}
    with pytest.raises(ToolDefinitionError, match=r"its \$refs expand to [\d,]+ schemas"):
        Tool.from_schema(_nothing, bomb, name="bomb")
    fine = {k: v for k, v in doubling.items() if int(k[1:]) <= 8}
    small = {"type": "object", "properties": {"x": {"$ref": "#/$defs/L8"}}, "$defs": fine}
    assert Tool.from_schema(_nothing, small, name="fine").definition("gemini")

    chain: dict[str, Any] = {
        f"D{i}": {"type": "object", "properties": {"n": {"$ref": f"#/$defs/D{i + 1}"}}}
        for i in range(2000)
    }
    chain["D2000"] = {"type": "string"}
    deep = {"type": "object", "properties": {"x": {"$ref": "#/$defs/D0"}}, "$defs": chain}
    with pytest.raises(ToolDefinitionError, match=r"written out, nest more than 64 levels"):
        Tool.from_schema(_nothing, deep, name="chain")


def _nothing(**_: object) -> None:
    return None
