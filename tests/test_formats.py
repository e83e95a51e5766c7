"""Rendering tools for each provider: shapes, strict mode, Gemini's subset, MCP, names."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

import pytest
from pydantic import BaseModel, Field

from toolkit import FORMATS, Change, Tool, ToolAnnotations, ToolDefinitionError, tool
from toolkit.formats import FormatName, get_format


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Point(BaseModel):
    x: float
    y: float = 0.0


class Tree(BaseModel):
    value: int
    children: list[Tree] = []


@dataclass
class Box:
    label: str
    size: int = 1


@tool
def weather(city: str, unit: Literal["c", "f"] = "c") -> str:
    """Get the weather.

    Args:
        city: City name.
        unit: Unit.
    """
    return city + unit


@tool
def nothing() -> None:
    """Take no arguments."""


# -- shapes ----------------------------------------------------------------------------------------


def test_openai_chat_shape() -> None:
    definition = weather.definition("openai")
    assert definition == {
        "type": "function",
        "function": {
            "name": "weather",
            "description": "Get the weather.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name."},
                    "unit": {
                        "default": "c",
                        "enum": ["c", "f"],
                        "type": "string",
                        "description": "Unit.",
                    },
                },
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }


def test_openai_responses_is_flat_and_always_says_strict() -> None:
    loose = weather.definition("openai-responses")
    assert loose["type"] == "function"
    assert loose["name"] == "weather"
    assert loose["strict"] is False
    assert loose["parameters"] is weather.parameters
    assert weather.definition("openai-responses", strict=True)["strict"] is True


def test_anthropic_shape() -> None:
    definition = weather.definition("anthropic")
    assert set(definition) == {"name", "description", "input_schema"}
    assert definition["input_schema"]["required"] == ["city"]
    assert weather.definition("anthropic", strict=True)["strict"] is True


def test_workers_ai_inlines_refs() -> None:
    @tool
    def move(to: Point, label: str) -> str:
        """Move."""
        return label

    definition = move.definition("workers-ai")
    assert set(definition) == {"name", "description", "parameters"}
    assert "$defs" not in definition["parameters"]
    assert definition["parameters"]["properties"]["to"]["properties"]["x"] == {"type": "number"}
    assert Change("$", "$defs inlined: Point", lossy=False) in move.changes("workers-ai")


def test_gemini_leaves_out_empty_parameters() -> None:
    assert nothing.definition("gemini") == {"name": "nothing", "description": "Take no arguments."}
    assert nothing.definition("openai")["function"]["parameters"]["properties"] == {}


def test_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"unknown tool format 'cohere'; expected one of 'openai'"):
        weather.definition("cohere")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def test_definitions_are_cached_per_format_and_strictness() -> None:
    assert weather.definition("openai") is weather.definition("openai")
    assert weather.definition("openai", strict=True) is not weather.definition("openai")


def test_tool_strict_flag_is_the_default_rendering() -> None:
    @tool(strict=True)
    def f(a: int) -> int:
        """F."""
        return a

    assert f.definition("openai")["function"]["strict"] is True
    assert "strict" not in f.definition("openai", strict=False)["function"]


def test_every_format_has_a_codec_named_after_it() -> None:
    for name in FORMATS:
        assert get_format(name).name == name


# -- strict mode -----------------------------------------------------------------------------------


def _strict_params(t: Any, format: str = "openai") -> dict[str, Any]:
    definition = t.definition(format, strict=True)
    if format == "openai":
        return definition["function"]["parameters"]
    return definition["input_schema"]


def test_strict_requires_everything_and_makes_optionals_nullable() -> None:
    params = _strict_params(weather)
    assert params["required"] == ["city", "unit"]
    assert params["additionalProperties"] is False
    assert params["properties"]["unit"] == {
        "anyOf": [{"enum": ["c", "f"], "type": "string"}, {"type": "null"}],
        "description": 'Unit. Null means the default: "c".',
    }


def test_strict_keeps_nullable_types_and_reports_an_unreachable_default() -> None:
    @tool
    def f(limit: int | None = 5) -> None:
        """F."""

    params = _strict_params(f)
    assert params["properties"]["limit"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    lossy = [c for c in f.changes("openai", strict=True) if c.lossy]
    assert lossy == [
        Change(
            "$.properties.limit",
            "the default 5 cannot be asked for in strict mode (null is a valid value of the "
            "type, so it means null)",
            lossy=True,
        )
    ]


def test_strict_closes_nested_models_and_keeps_their_refs() -> None:
    @tool
    def f(p: Point) -> None:
        """F."""

    params = _strict_params(f)
    assert params["properties"]["p"] == {"$ref": "#/$defs/Point"}
    point = params["$defs"]["Point"]
    assert point["required"] == ["x", "y"]
    assert point["additionalProperties"] is False
    assert point["properties"]["y"]["type"] == ["number", "null"]


def test_strict_maps_dict_tuple_and_free_objects_and_calls_map_back() -> None:
    seen: list[Any] = []

    @tool
    def f(scores: dict[str, int], pair: tuple[int, str], extra: dict[str, Any]) -> None:
        """F."""
        seen.append((scores, pair, extra))

    params = _strict_params(f)
    assert params["properties"]["scores"]["type"] == "array"
    assert params["properties"]["scores"]["items"]["required"] == ["key", "value"]
    assert params["properties"]["pair"]["required"] == ["0", "1"]
    assert params["properties"]["extra"]["type"] == "string"
    f.call(
        {
            "scores": [{"key": "a", "value": 1}],
            "pair": {"0": 7, "1": "x"},
            "extra": '{"k": [1, 2]}',
        }
    )
    assert seen == [({"a": 1}, (7, "x"), {"k": [1, 2]})]
    assert not any(c.lossy for c in f.changes("openai", strict=True))


def test_strict_moves_unsupported_constraints_into_words() -> None:
    @tool
    def f(
        code: Annotated[str, Field(min_length=2, max_length=4)], n: Annotated[int, Field(ge=1)]
    ) -> None:
        """F."""

    openai = _strict_params(f)
    assert openai["properties"]["code"] == {
        "type": "string",
        "description": "Constraints: at least 2 characters, at most 4 characters.",
    }
    assert openai["properties"]["n"] == {"minimum": 1, "type": "integer"}  # supported by OpenAI
    anthropic = _strict_params(f, "anthropic")
    assert anthropic["properties"]["n"] == {
        "type": "integer",
        "description": "Constraints: at least 1.",
    }


# -- values of any type (untyped parameters, Any) -----------------------------------------------


def _untyped(text, limit=10, flag=None):  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
    """Legacy code: no annotations.

    Args:
        text: What to look for.
    """
    return text, limit, flag  # pyright: ignore[reportUnknownVariableType]


LEGACY = cast("Tool[..., Any]", tool(_untyped))  # pyright: ignore[reportUnknownArgumentType]
ANY_TEXT = "Any JSON value, encoded as a string."
JSON_TEXT = Change("$.properties.text", "value of any type sent as a JSON-encoded string", False)


def _parameters(definition: dict[str, Any], format: str) -> dict[str, Any]:
    if format in ("openai",):
        return definition["function"]["parameters"]
    return definition["input_schema" if format == "anthropic" else "parameters"]


@pytest.mark.parametrize(
    ("format", "strict"),
    [("openai", True), ("openai-responses", True), ("anthropic", True), ("gemini", False)],
)
def test_untyped_parameters_render_as_json_text_where_any_value_cannot_be_said(
    format: FormatName, strict: bool
) -> None:
    # Refused with ToolDefinitionError before (and rendered without a type for Workers AI).
    params = _parameters(LEGACY.definition(format, strict=strict), format)
    text = params["properties"]["text"]
    assert text["type"] in ("string", "STRING")
    assert text["description"] == f"What to look for. ({ANY_TEXT})"
    assert LEGACY.changes(format, strict=strict)[0] == JSON_TEXT
    assert not any(c.lossy for c in LEGACY.changes(format, strict=strict))


def test_untyped_parameters_and_their_defaults_per_dialect() -> None:
    openai = _strict_params(LEGACY)
    assert openai["required"] == ["text", "limit", "flag"]
    # A default of null can be asked for with null; any other default by its JSON text.
    assert openai["properties"]["limit"] == {
        "type": "string",
        "description": f'{ANY_TEXT} Default: "10".',
    }
    assert openai["properties"]["flag"] == {"type": ["string", "null"], "description": ANY_TEXT}
    anthropic = _strict_params(LEGACY, "anthropic")
    assert anthropic["required"] == ["text"]  # Anthropic strict keeps optionals optional
    assert anthropic["properties"]["limit"] == {
        "type": "string",
        "description": ANY_TEXT,
        "default": "10",
    }
    assert anthropic["properties"]["flag"] == {
        "type": ["string", "null"],
        "description": ANY_TEXT,
        "default": None,
    }
    workers = LEGACY.definition("workers-ai")["parameters"]["properties"]
    assert workers["text"] == {"type": "string", "description": f"What to look for. ({ANY_TEXT})"}
    assert workers["limit"] == {"type": "string", "description": ANY_TEXT, "default": "10"}
    gemini = LEGACY.definition("gemini")["parameters"]["properties"]
    assert gemini["flag"] == {
        "type": "STRING",
        "description": ANY_TEXT,
        "default": None,
        "nullable": True,
    }
    # Where the dialect can say "any value", it is kept.
    for format in ("openai", "openai-responses", "anthropic", "mcp"):
        rendered = repr(LEGACY.definition(format, strict=False))  # type: ignore[arg-type]
        assert "encoded as a string" not in rendered
        assert LEGACY.changes(format, strict=False) == ()  # type: ignore[arg-type]


def test_json_text_of_an_untyped_parameter_is_decoded_before_the_call() -> None:
    assert LEGACY.call({"text": '{"q": [1, 2]}', "limit": "5", "flag": "true"}) == (
        {"q": [1, 2]},
        5,
        True,
    )
    assert LEGACY.call('{"text": "\\"5\\"", "limit": "null", "flag": null}') == ("5", None, None)
    # Not JSON: stays the string it is. Native JSON values pass as they are.
    assert LEGACY.call({"text": "hello", "limit": [1], "flag": {"a": 1}}) == (
        "hello",
        [1],
        {"a": 1},
    )
    assert LEGACY.call({"text": "NaN"}) == ("NaN", 10, None)  # strict JSON: not a number


class Blob(BaseModel):
    name: str
    data: Any = None


def test_a_parameter_holding_any_deeper_is_sent_whole_as_json_text() -> None:
    @tool
    def store(blobs: list[Blob], values: list[Any], point: Point) -> tuple[list[Blob], list[Any]]:
        """Store blobs."""
        return blobs, values

    for format, strict in (("openai", True), ("anthropic", True), ("gemini", False)):
        definition = store.definition(format, strict=strict)  # type: ignore[arg-type]
        props = _parameters(definition, format)["properties"]
        assert props["blobs"]["type"] in ("string", "STRING")
        described = props["blobs"]["description"]
        assert described.startswith("A JSON value encoded as a string, valid against this JSON")
        # The schema of the value, its definitions included, is told in the description.
        assert '"$ref":"#/$defs/Blob"' in described
        assert '"data":{"default":null}' in described
        assert "encoded as a string" not in repr(props["point"])  # its neighbours are untouched
        changed = {c.path: c for c in store.changes(format, strict=strict)}  # type: ignore[arg-type]
        assert changed["$.properties.blobs"].lossy is False
        assert "Blob" not in _parameters(definition, format).get("$defs", {})
    # Workers AI only needs a type at the top: a list of Any is a list there.
    assert store.definition("workers-ai")["parameters"]["properties"]["values"]["type"] == "array"
    blobs, values = store.call(
        {
            "blobs": '[{"name": "a", "data": {"k": [1]}}]',
            "values": '[1, "x", null]',
            "point": {"x": 1},
        }
    )
    assert blobs == [Blob(name="a", data={"k": [1]})]
    assert values == [1, "x", None]


def test_a_nullable_parameter_sent_as_json_text_takes_null_both_ways() -> None:
    @tool
    def f(blob: Blob | None) -> Blob | None:
        """F."""
        return blob

    assert _strict_params(f)["properties"]["blob"]["type"] == ["string", "null"]
    assert f.call({"blob": None}) is None
    assert f.call({"blob": "null"}) is None
    assert f.call({"blob": '{"name": "b"}'}) == Blob(name="b")


def test_json_text_that_a_string_branch_would_take_is_reported_lossy() -> None:
    @tool
    def f(items: list[Any] | str) -> None:
        """F."""

    (change,) = f.changes("openai", strict=True)
    assert change.lossy is True
    assert "cannot be told from JSON text" in change.message


def test_recursive_models_keep_refs_for_openai_and_are_refused_where_impossible() -> None:
    @tool
    def f(tree: Tree) -> None:
        """F."""

    params = _strict_params(f)
    assert params["$defs"]["Tree"]["properties"]["children"] == {
        "items": {"$ref": "#/$defs/Tree"},
        "type": ["array", "null"],
        "description": "Null means the default: [].",
    }
    for format, strict in (("anthropic", True), ("gemini", False)):
        with pytest.raises(ToolDefinitionError, match="recursive type 'Tree'"):
            f.definition(format, strict=strict)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# -- Gemini ----------------------------------------------------------------------------------------


def test_gemini_schema_subset() -> None:
    @tool
    def f(
        colour: Colour,
        level: Level,
        at: Point | None = None,
        tags: dict[str, int] | None = None,
        mode: Literal["fast"] = "fast",
    ) -> None:
        """F."""

    params = f.definition("gemini")["parameters"]
    props = params["properties"]
    assert params["type"] == "OBJECT"
    assert props["colour"] == {"enum": ["red", "green"], "type": "STRING"}
    assert props["level"]["type"] == "INTEGER"
    assert "enum" not in props["level"]
    assert "one of 1, 2" in props["level"]["description"]
    assert props["at"]["nullable"] is True
    assert props["at"]["properties"]["x"] == {"type": "NUMBER"}
    assert props["tags"]["type"] == "ARRAY"
    assert props["mode"]["enum"] == ["fast"]
    rendered = repr(params)
    assert "$ref" not in rendered
    assert "additionalProperties" not in rendered
    assert "anyOf" not in rendered


# -- MCP -------------------------------------------------------------------------------------------


def test_mcp_output_schema_and_annotations() -> None:
    @tool(annotations=ToolAnnotations(title="Find box", read_only=True, open_world=False))
    def find(label: str) -> Box:
        """Find a box."""
        return Box(label)

    definition = find.definition("mcp")
    assert definition["title"] == "Find box"
    assert definition["inputSchema"] is find.parameters
    assert definition["outputSchema"]["properties"]["label"] == {"type": "string"}
    assert definition["annotations"] == {
        "title": "Find box",
        "readOnlyHint": True,
        "openWorldHint": False,
    }


def test_mcp_wraps_non_object_results_and_omits_none() -> None:
    assert weather.definition("mcp")["outputSchema"] == {
        "type": "object",
        "properties": {"result": {"type": "string"}},
        "required": ["result"],
    }
    assert "outputSchema" not in nothing.definition("mcp")


# -- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("format", "expected"),
    [
        ("openai", "math_factorial"),
        ("openai-responses", "math_factorial"),
        ("anthropic", "math_factorial"),
        ("workers-ai", "math_factorial"),
        ("gemini", "math.factorial"),
        ("mcp", "math.factorial"),
    ],
)
def test_names_are_made_legal_per_provider(format: str, expected: str) -> None:
    t = tool(weather.__wrapped__, name="math.factorial")  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
    codec = get_format(format)
    assert codec.wire_name("math.factorial") == expected
    definition = t.definition(format)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    name = definition["function"]["name"] if format == "openai" else definition["name"]
    assert name == expected
    renamed = [c for c in t.changes(format) if c.path == "$.name"]  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    assert bool(renamed) == (expected != "math.factorial")


def test_long_names_are_shortened_deterministically_and_stay_distinct() -> None:
    codec = get_format("openai")
    a, b = "x" * 70 + "a", "x" * 70 + "b"
    assert len(codec.wire_name(a)) == 64
    assert codec.wire_name(a) == codec.wire_name(a)
    assert codec.wire_name(a) != codec.wire_name(b)
    assert get_format("mcp").wire_name(a) == a


def test_anthropic_strict_closes_objects_but_keeps_optionals_optional() -> None:
    params = _strict_params(weather, "anthropic")
    assert params["required"] == ["city"]
    assert params["additionalProperties"] is False
    assert params["properties"]["unit"]["default"] == "c"


def test_openai_strict_refs_stand_alone() -> None:
    @tool
    def f(p: Annotated[Point, Field(description="Where to go.")]) -> None:
        """F."""

    params = _strict_params(f)
    assert params["properties"]["p"] == {
        "anyOf": [{"$ref": "#/$defs/Point"}],
        "description": "Where to go.",
    }


def test_workers_ai_describes_every_property_and_drops_null_branches() -> None:
    @tool
    def f(user_id: int, note: str | None = None) -> None:
        """F."""

    props = f.definition("workers-ai")["parameters"]["properties"]
    assert props["user_id"] == {"type": "integer", "description": "User id"}
    assert props["note"] == {"type": "string", "description": "Note"}
    assert f.call({"user_id": 1, "note": None}) is None
