"""Rendering tools for each provider: shapes, strict mode, Gemini's subset, MCP, names."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from toolkit import FORMATS, Change, ToolAnnotations, ToolDefinitionError, tool
from toolkit.formats import get_format


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


def test_strict_refuses_any_typed_values_naming_the_parameter() -> None:
    @tool
    def f(blob: Any) -> None:
        """F."""

    with pytest.raises(ToolDefinitionError) as caught:
        f.definition("openai", strict=True)
    assert caught.value.problems[0].parameter == "blob"
    assert "concrete type" in str(caught.value)
    assert f.definition("openai")["function"]["parameters"]["properties"]["blob"] == {}


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
