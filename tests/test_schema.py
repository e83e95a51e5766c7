"""The JSON Schema, name and description that ``@tool`` derives from a function.

Every expectation is the exact schema fragment: a change in what the model is told must show
up here as a failing test.
"""

import datetime
import decimal
import enum
import functools
import json
import pathlib
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, Union, cast

import _future_tools
import pydantic
import pytest
from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError
from typing_extensions import NotRequired, TypedDict

from toolkit import Context, DefinitionProblem, Injected, Tool, ToolDefinitionError, tool
from toolkit.schema import build_function_schema, renamed

# -- shared types --------------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Address(BaseModel):
    street: str
    zip_code: str = "00000"


class Person(BaseModel):
    name: str
    address: Address
    previous: list[Address] = []


@dataclass
class Box:
    width: int
    tags: list[str] = field(default_factory=list[str])


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


class Tree(BaseModel):
    value: int
    children: "list[Tree]" = []


class Opaque:
    """A class pydantic has no schema for."""


def props(t: Tool[..., Any]) -> dict[str, Any]:
    properties: dict[str, Any] = t.parameters["properties"]
    return properties


# -- basic types ---------------------------------------------------------------------------


def test_primitive_types() -> None:
    @tool
    def f(s: str, i: int, x: float, b: bool, n: None) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "i": {"type": "integer"},
            "x": {"type": "number"},
            "b": {"type": "boolean"},
            "n": {"type": "null"},
        },
        "required": ["s", "i", "x", "b", "n"],
        "additionalProperties": False,
    }


def test_no_parameters_gives_an_empty_closed_object() -> None:
    @tool
    def ping() -> str:
        return "pong"

    assert ping.parameters == {"type": "object", "properties": {}, "additionalProperties": False}


def test_optional_and_unions() -> None:
    @tool
    def f(
        a: Optional[int],  # noqa: UP045 - the typing spelling must work too
        b: Union[int, str],  # noqa: UP007
        c: int | None = 5,
        d: str | None = None,
    ) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
            "c": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 5},
            "d": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        # Optional without a default is still required: None must be sent explicitly.
        "required": ["a", "b"],
        "additionalProperties": False,
    }


def test_literal() -> None:
    @tool
    def f(unit: Literal["c", "f"], mixed: Literal[1, "a"] = 1, one: Literal["x"] = "x") -> None: ...

    assert props(f) == {
        "unit": {"enum": ["c", "f"], "type": "string"},
        "mixed": {"default": 1, "enum": [1, "a"]},
        "one": {"const": "x", "default": "x", "type": "string"},
    }
    assert f.parameters["required"] == ["unit"]


def test_enums_go_to_defs() -> None:
    @tool
    def f(color: Color, level: Level = Level.LOW) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "color": {"$ref": "#/$defs/Color"},
            "level": {"$ref": "#/$defs/Level", "default": 1},
        },
        "required": ["color"],
        "additionalProperties": False,
        "$defs": {
            "Color": {"enum": ["red", "green"], "type": "string"},
            "Level": {"enum": [1, 2], "type": "integer"},
        },
    }


def test_collections() -> None:
    @tool
    def f(  # noqa: PLR0917
        items: list[int],
        pair: tuple[int, str],
        many: tuple[float, ...],
        unique: set[str],
        frozen: frozenset[int],
        scores: dict[str, int],
        anything: dict[str, Any],
    ) -> None: ...

    assert props(f) == {
        "items": {"items": {"type": "integer"}, "type": "array"},
        "pair": {
            "maxItems": 2,
            "minItems": 2,
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "type": "array",
        },
        "many": {"items": {"type": "number"}, "type": "array"},
        "unique": {"items": {"type": "string"}, "type": "array", "uniqueItems": True},
        "frozen": {"items": {"type": "integer"}, "type": "array", "uniqueItems": True},
        "scores": {"additionalProperties": {"type": "integer"}, "type": "object"},
        "anything": {"additionalProperties": True, "type": "object"},
    }


def test_nested_model_dataclass_and_typeddict() -> None:
    @tool
    def f(person: Person, box: Box, movie: Movie) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "person": {"$ref": "#/$defs/Person"},
            "box": {"$ref": "#/$defs/Box"},
            "movie": {"$ref": "#/$defs/Movie"},
        },
        "required": ["person", "box", "movie"],
        "additionalProperties": False,
        "$defs": {
            "Address": {
                "properties": {
                    "street": {"type": "string"},
                    "zip_code": {"default": "00000", "type": "string"},
                },
                "required": ["street"],
                "type": "object",
            },
            "Person": {
                "properties": {
                    "name": {"type": "string"},
                    "address": {"$ref": "#/$defs/Address"},
                    "previous": {
                        "default": [],
                        "items": {"$ref": "#/$defs/Address"},
                        "type": "array",
                    },
                },
                "required": ["name", "address"],
                "type": "object",
            },
            "Box": {
                "properties": {
                    "width": {"type": "integer"},
                    "tags": {"items": {"type": "string"}, "type": "array"},
                },
                "required": ["width"],
                "type": "object",
            },
            # NotRequired keeps "year" out of "required"; the TypedDict key named "title"
            # survives title stripping.
            "Movie": {
                "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
                "required": ["title"],
                "type": "object",
            },
        },
    }


def test_recursive_model() -> None:
    @tool
    def f(tree: Tree) -> int:
        return tree.value

    assert f.parameters == {
        "type": "object",
        "properties": {"tree": {"$ref": "#/$defs/Tree"}},
        "required": ["tree"],
        "additionalProperties": False,
        "$defs": {
            "Tree": {
                "properties": {
                    "value": {"type": "integer"},
                    "children": {"default": [], "items": {"$ref": "#/$defs/Tree"}, "type": "array"},
                },
                "required": ["value"],
                "type": "object",
            }
        },
    }


def test_standard_library_value_types() -> None:
    @tool
    def f(
        when: datetime.datetime,
        day: datetime.date,
        ident: uuid.UUID,
        amount: decimal.Decimal,
        where: pathlib.Path,
    ) -> None: ...

    assert props(f) == {
        "when": {"format": "date-time", "type": "string"},
        "day": {"format": "date", "type": "string"},
        "ident": {"format": "uuid", "type": "string"},
        "amount": {"anyOf": [{"type": "number"}, {"type": "string"}]},
        "where": {"format": "path", "type": "string"},
    }


def test_untyped_parameter_is_any_when_not_strict() -> None:
    def f(x, y: int) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        ...

    t = tool(f)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    assert t.parameters["properties"] == {"x": {}, "y": {"type": "integer"}}
    assert t.parameters["required"] == ["x", "y"]


# -- Annotated, Field and defaults ---------------------------------------------------------


def test_annotated_field_constraints() -> None:
    @tool
    def f(
        count: Annotated[int, Field(ge=1, le=10, description="How many")],
        code: Annotated[str, Field(min_length=2, max_length=5, pattern="^[a-z]+$")] = "ab",
        ratio: Annotated[float, Field(gt=0, lt=1)] = 0.5,
        names: Annotated[list[str], Field(min_length=1, max_length=3)] = ["a"],  # noqa: B006
    ) -> None: ...

    assert props(f) == {
        "count": {"description": "How many", "maximum": 10, "minimum": 1, "type": "integer"},
        "code": {
            "default": "ab",
            "maxLength": 5,
            "minLength": 2,
            "pattern": "^[a-z]+$",
            "type": "string",
        },
        "ratio": {"default": 0.5, "exclusiveMaximum": 1, "exclusiveMinimum": 0, "type": "number"},
        "names": {
            "default": ["a"],
            "items": {"type": "string"},
            "maxItems": 3,
            "minItems": 1,
            "type": "array",
        },
    }
    assert f.parameters["required"] == ["count"]


def test_annotated_string_is_the_description() -> None:
    @tool
    def f(
        city: Annotated[str, "The city name"], days: Annotated[int, "Days ahead"] = 1
    ) -> None: ...

    assert props(f) == {
        "city": {"type": "string", "description": "The city name"},
        "days": {"default": 1, "type": "integer", "description": "Days ahead"},
    }


def test_defaults_and_default_factory() -> None:
    @tool
    def f(
        a: int = 3,
        b: str = "x",
        c: list[int] = Field(default_factory=list[int]),  # noqa: B008
        e: float = Field(2.5, description="Ratio"),
        *,
        d: Annotated[dict[str, int], Field(default_factory=dict[str, int])],
    ) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"default": 3, "type": "integer"},
            "b": {"default": "x", "type": "string"},
            # A factory has no JSON value, so no "default" is shown, but it is not required.
            "c": {"items": {"type": "integer"}, "type": "array"},
            "e": {"default": 2.5, "description": "Ratio", "type": "number"},
            "d": {"additionalProperties": {"type": "integer"}, "type": "object"},
        },
        "additionalProperties": False,
    }


def test_default_holding_a_title_key_is_kept() -> None:
    @tool
    def f(title: str, meta: dict[str, str] = {"title": "x"}) -> None:  # noqa: B006
        ...

    assert props(f) == {
        "title": {"type": "string"},
        "meta": {
            "additionalProperties": {"type": "string"},
            "default": {"title": "x"},
            "type": "object",
        },
    }


def test_titles_are_stripped_everywhere() -> None:
    @tool
    def f(person: Person, color: Color) -> None: ...

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in cast("dict[str, object]", node).items():
                assert key != "title"
                walk(value)
        elif isinstance(node, list):
            for item in cast("list[object]", node):
                walk(item)

    walk(f.parameters)


def test_keyword_only_and_positional_only_parameters() -> None:
    @tool
    def f(a: int, /, b: str, *, c: bool = False) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "string"},
            "c": {"default": False, "type": "boolean"},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }


def test_typed_var_keyword_becomes_one_object_property() -> None:
    @tool
    def f(a: int, **extra: int) -> None: ...

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "extra": {"additionalProperties": {"type": "integer"}, "type": "object"},
        },
        "required": ["a"],
        "additionalProperties": False,
    }


# -- postponed annotations and forward references ------------------------------------------


def test_future_annotations_module() -> None:
    assert _future_tools.walk.parameters == {
        "type": "object",
        "properties": {
            "root": {"$ref": "#/$defs/Node", "description": "The tree to walk."},
            "depth": {
                "default": 1,
                "minimum": 0,
                "type": "integer",
                "description": "How deep to go.",
            },
            "order": {
                "default": "pre",
                "enum": ["pre", "post"],
                "type": "string",
                "description": "Visit order.",
            },
            "since": {
                "anyOf": [{"format": "date", "type": "string"}, {"type": "null"}],
                "default": None,
                "description": "Only nodes newer than this.",
            },
        },
        "required": ["root"],
        "additionalProperties": False,
        "$defs": {
            "Node": {
                "description": "A tree node that refers to itself.",
                "properties": {
                    "label": {"type": "string"},
                    "children": {"default": [], "items": {"$ref": "#/$defs/Node"}, "type": "array"},
                },
                "required": ["label"],
                "type": "object",
            }
        },
    }
    assert _future_tools.walk.return_annotation == list[str]


def test_future_annotations_injection_is_recognised_from_strings() -> None:
    assert _future_tools.configure.parameters == {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }


def test_future_annotations_local_class() -> None:
    t = _future_tools.make_local_tool()
    assert t.parameters == {
        "type": "object",
        "properties": {"p": {"$ref": "#/$defs/Point"}},
        "required": ["p"],
        "additionalProperties": False,
        "$defs": {
            "Point": {
                "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                "required": ["x", "y"],
                "type": "object",
            }
        },
    }


def test_class_defined_in_the_test_function_as_a_string_annotation() -> None:
    class Local(BaseModel):
        v: int

    @tool
    def f(x: "Local", xs: "list[Local] | None" = None) -> int:
        return x.v

    assert f.parameters == {
        "type": "object",
        "properties": {
            "x": {"$ref": "#/$defs/Local"},
            "xs": {
                "anyOf": [{"items": {"$ref": "#/$defs/Local"}, "type": "array"}, {"type": "null"}],
                "default": None,
            },
        },
        "required": ["x"],
        "additionalProperties": False,
        "$defs": {
            "Local": {
                "properties": {"v": {"type": "integer"}},
                "required": ["v"],
                "type": "object",
            }
        },
    }


def test_local_forward_reference_with_explicit_decorator_arguments() -> None:
    class Local(BaseModel):
        v: int

    @tool(name="local_tool")
    def f(x: "Local") -> int:
        return x.v

    assert props(f) == {"x": {"$ref": "#/$defs/Local"}}
    assert f.name == "local_tool"


# -- names and descriptions ----------------------------------------------------------------


def test_name_and_description_default_from_function() -> None:
    @tool
    def get_weather(city: str) -> str:
        """Get the current weather.

        Uses the public API.
        """
        return city

    assert get_weather.name == "get_weather"
    assert get_weather.description == "Get the current weather.\n\nUses the public API."


def test_function_without_docstring_has_empty_description() -> None:
    @tool
    def f(a: int) -> int:
        return a

    assert f.description == ""
    assert props(f) == {"a": {"type": "integer"}}


def test_name_and_description_overrides() -> None:
    @tool(name="weather.get", description="Overridden.")
    def get_weather(city: str) -> str:
        """Original docstring."""
        return city

    assert get_weather.name == "weather.get"
    assert get_weather.description == "Overridden."


def test_empty_description_override_wins_over_docstring() -> None:
    @tool(description="")
    def f() -> None:
        """Doc."""

    assert f.description == ""


@pytest.mark.parametrize(
    "name", ["a", "get_weather", "ns.tool", "kebab-case", "mcp:tool/x", "_private", "A" * 128]
)
def test_valid_names(name: str) -> None:
    @tool(name=name)
    def f() -> None: ...

    assert f.name == name


@pytest.mark.parametrize("name", ["", "has space", "1starts_with_digit", "-dash", "é", "A" * 129])
def test_invalid_names(name: str) -> None:
    def f() -> None: ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(name=name)(f)
    (problem,) = info.value.problems
    assert problem.function == f.__qualname__
    assert problem.parameter is None
    assert problem.message.startswith(f"{name!r} is not a usable tool name; pass name='...'")
    assert str(info.value) == f"{f.__qualname__}: {problem.message}"


# -- docstrings ----------------------------------------------------------------------------

WEATHER_PROPS: dict[str, Any] = {
    "city": {"type": "string", "description": "The city name."},
    "days": {"default": 1, "type": "integer", "description": "How many days ahead."},
}


def test_google_docstring() -> None:
    @tool
    def forecast(city: str, days: int = 1) -> str:
        """Get the forecast.

        Looks the city up first,
        then asks the weather service.

        Args:
            city: The city name.
            days: How many days
                ahead.

        Returns:
            The forecast text.

        Raises:
            ValueError: unknown city.
        """
        return city

    assert forecast.description == (
        "Get the forecast.\n\nLooks the city up first,\nthen asks the weather service."
    )
    assert props(forecast) == WEATHER_PROPS


def test_numpy_docstring() -> None:
    @tool
    def forecast(city: str, days: int = 1) -> str:
        """Get the forecast.

        Parameters
        ----------
        city : str
            The city name.
        days : int, optional
            How many days ahead.

        Returns
        -------
        str
            The forecast text.
        """
        return city

    assert forecast.description == "Get the forecast."
    assert props(forecast) == WEATHER_PROPS


def test_rest_docstring() -> None:
    @tool
    def forecast(city: str, days: int = 1) -> str:
        """Get the forecast.

        :param city: The city name.
        :type city: str
        :param days: How many days ahead.
        :returns: The forecast text.
        """
        return city

    assert forecast.description == "Get the forecast."
    assert props(forecast) == WEATHER_PROPS


def test_epydoc_docstring() -> None:
    @tool
    def forecast(city: str, days: int = 1) -> str:
        """Get the forecast.

        @param city: The city name.
        @type city: str
        @param days: How many days ahead.
        @return: The forecast text.
        """
        return city

    assert forecast.description == "Get the forecast."
    assert props(forecast) == WEATHER_PROPS


def test_documented_parameter_missing_from_signature_is_an_error() -> None:
    def lookup(city: str) -> str:
        """Look up.

        Args:
            city: The city.
            country: Not a parameter.
            region: Not one either.
        """
        return city

    with pytest.raises(ToolDefinitionError) as info:
        tool(lookup)
    message = (
        "is documented in the docstring but is not a parameter; fix the docstring "
        "or the signature (or pass docstring_mismatch='warn')"
    )
    assert info.value.problems == (
        DefinitionProblem(lookup.__qualname__, "country", message),
        DefinitionProblem(lookup.__qualname__, "region", message),
    )


def test_documented_parameter_mismatch_can_warn() -> None:
    def lookup(city: str) -> str:
        """Look up.

        Args:
            city: The city.
            country: Not a parameter.
        """
        return city

    with pytest.warns(UserWarning, match="parameter 'country' is documented") as record:
        t = tool(docstring_mismatch="warn")(lookup)
    assert len(record) == 1
    assert str(record[0].message) == (
        f"{lookup.__qualname__}: parameter 'country' is documented in the docstring but is "
        "not a parameter; fix the docstring or the signature (or pass docstring_mismatch='warn')"
    )
    # The warning points at the decorating line, not into toolkit.
    assert record[0].filename == __file__
    assert props(t) == {"city": {"type": "string", "description": "The city."}}


def test_docstring_documenting_injected_and_var_keyword_parameters_is_fine() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        @tool
        def f(ctx: Context[None], a: int, **extra: str) -> None:
            """Do it.

            Args:
                ctx: The call context.
                a: A number.
                **extra: More.
            """

    assert props(f) == {
        "a": {"type": "integer", "description": "A number."},
        "extra": {
            "additionalProperties": {"type": "string"},
            "type": "object",
            "description": "More.",
        },
    }


def test_description_precedence() -> None:
    def f(
        a: Annotated[int, Field(description="field a")],
        b: Annotated[int, "annotated b"],
        c: int,
        d: int = Field(1, description="field d"),
        e: int = 0,
    ) -> None:
        """Precedence.

        Args:
            a: doc a
            b: doc b
            c: doc c
            d: doc d
            e: doc e
        """

    # Field / Annotated string beat the docstring.
    assert {k: v.get("description") for k, v in props(tool(f)).items()} == {
        "a": "field a",
        "b": "annotated b",
        "c": "doc c",
        "d": "field d",
        "e": "doc e",
    }
    # param_descriptions beats everything.
    explicit = tool(param_descriptions={"a": "A!", "b": "B!", "c": "C!", "d": "D!"})(f)
    assert {k: v.get("description") for k, v in props(explicit).items()} == {
        "a": "A!",
        "b": "B!",
        "c": "C!",
        "d": "D!",
        "e": "doc e",
    }


def test_param_descriptions_for_unknown_parameter() -> None:
    def f(a: int, ctx: Context[None]) -> None: ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(param_descriptions={"zz": "nope", "ctx": "injected"})(f)
    message = "has a description in param_descriptions but no such parameter"
    assert info.value.problems == (
        DefinitionProblem(f.__qualname__, "zz", message),
        DefinitionProblem(f.__qualname__, "ctx", message),
    )


def test_callable_object_description_from_class_docstring() -> None:
    class Adder:
        """Add two numbers."""

        def __call__(self, a: int, b: int) -> int:
            return a + b

    t = tool(Adder())
    assert t.name == "Adder"
    assert t.description == "Add two numbers."


# -- definition errors ---------------------------------------------------------------------


def test_var_positional_is_refused() -> None:
    def f(a: int, *args: str) -> None: ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(f)
    assert info.value.problems == (
        DefinitionProblem(
            f.__qualname__,
            "args",
            "*args cannot be filled from named JSON arguments; replace it with a list "
            "parameter, e.g. args: list[str]",
        ),
    )
    assert (
        str(info.value) == f"parameter 'args' of {f.__qualname__}: {info.value.problems[0].message}"
    )
    assert isinstance(info.value, TypeError)


def test_untyped_var_keyword_is_refused() -> None:
    def f(a: int, **options) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(f)  # pyright: ignore[reportUnknownArgumentType]
    assert info.value.problems == (
        DefinitionProblem(
            f.__qualname__,
            "options",
            "**options has no type annotation; annotate it (e.g. **options: str) so the "
            "model knows what to send",
        ),
    )


def test_untyped_parameter_is_refused_in_strict_mode() -> None:
    def f(a, b: int) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(strict=True)(f)  # pyright: ignore[reportUnknownArgumentType]
    assert info.value.problems == (
        DefinitionProblem(
            f.__qualname__,
            "a",
            "it has no type annotation; annotate it (e.g. a: str) so the model knows what to send",
        ),
    )


def test_unresolvable_annotation() -> None:
    def f(a: "DoesNotExist", b: int) -> None:  # noqa: F821 # pyright: ignore[reportUndefinedVariable, reportUnknownParameterType]
        ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(f)  # pyright: ignore[reportUnknownArgumentType]
    (problem,) = info.value.problems
    assert problem.function == f.__qualname__
    assert problem.parameter == "a"
    assert problem.message == (
        "annotation 'DoesNotExist' cannot be resolved (name 'DoesNotExist' is not defined); "
        "define or import the type at module level"
    )


def test_unresolvable_return_annotation_names_the_function() -> None:
    def f(a: int) -> "Missing":  # noqa: F821 # pyright: ignore[reportUndefinedVariable, reportUnknownParameterType]
        ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(f)  # pyright: ignore[reportUnknownArgumentType]
    (problem,) = info.value.problems
    assert (problem.function, problem.parameter) == (f.__qualname__, None)
    assert "annotation 'Missing' cannot be resolved" in problem.message


def test_unsupported_type() -> None:
    def f(a: int, thing: Opaque, other: list[Opaque]) -> None: ...

    with pytest.raises(ToolDefinitionError) as info:
        tool(f)
    assert [(p.function, p.parameter) for p in info.value.problems] == [
        (f.__qualname__, "thing"),
        (f.__qualname__, "other"),
    ]
    first = info.value.problems[0].message
    assert first.startswith(f"type {Opaque!r} is not supported (Unable to generate pydantic-core")
    assert first.endswith(
        "; use a type pydantic can validate (BaseModel, dataclass, TypedDict, builtins...)"
    )


def test_every_problem_is_listed_at_once() -> None:
    def f(x, *args: int, **kwargs) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        """Doc.

        Args:
            ghost: Not a parameter.
        """

    with pytest.raises(ToolDefinitionError) as info:
        tool(name="bad name", strict=True)(f)  # pyright: ignore[reportUnknownArgumentType]
    problems = info.value.problems
    assert [(p.function, p.parameter) for p in problems] == [
        (f.__qualname__, None),
        (f.__qualname__, "x"),
        (f.__qualname__, "args"),
        (f.__qualname__, "kwargs"),
        (f.__qualname__, "ghost"),
    ]
    text = str(info.value)
    assert text.startswith("5 problems in tool definition:\n  - ")
    assert text.splitlines()[1:] == [f"  - {p}" for p in problems]


def test_lambda_needs_a_name() -> None:
    with pytest.raises(ToolDefinitionError) as info:
        tool(lambda x: x)  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    (problem,) = info.value.problems
    assert problem.function == "test_lambda_needs_a_name.<locals>.<lambda>"
    assert problem.message.startswith("'<lambda>' is not a usable tool name; pass name='...'")
    assert "'<lambda>'" in str(info.value)


def test_lambda_with_a_name() -> None:
    double = tool(lambda x: x * 2, name="double")  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType, reportUnknownVariableType]
    assert double.name == "double"
    assert double.parameters == {
        "type": "object",
        "properties": {"x": {}},
        "required": ["x"],
        "additionalProperties": False,
    }


def test_definition_error_is_a_toolkit_error_and_type_error() -> None:
    from toolkit import ToolkitError

    def f(*args: int) -> None: ...

    with pytest.raises(ToolkitError):
        tool(f)
    with pytest.raises(TypeError):
        tool(f)


# -- hidden parameters ---------------------------------------------------------------------


def test_injected_parameters_never_reach_the_schema() -> None:
    @tool
    def f(
        ctx: Context[Box],
        a: int,
        db: Annotated[Box, Injected],
        b: str = "x",
        *,
        other: Context,
        deps: Annotated[Box, Injected, "a described dependency"],
        c: bool = False,
    ) -> None:
        """Doc.

        Args:
            a: An a.
        """

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "An a."},
            "b": {"default": "x", "type": "string"},
            "c": {"default": False, "type": "boolean"},
        },
        "required": ["a"],
        "additionalProperties": False,
    }


def test_optional_context_is_injected_not_exposed() -> None:
    @tool
    def f(a: int, ctx: Context[Box] | None = None) -> None: ...

    assert props(f) == {"a": {"type": "integer"}}


def test_methods_never_show_self_or_cls() -> None:
    class Svc:
        @tool
        def m(self, a: int) -> int:
            return a

        @tool
        @classmethod
        def c(cls, b: int) -> int:
            return b

        @tool
        @staticmethod
        def s(n: int) -> int:
            return n

    assert props(Svc.m) == {"a": {"type": "integer"}}
    assert props(Svc().m) == {"a": {"type": "integer"}}
    assert props(Svc.c) == {"b": {"type": "integer"}}
    assert props(Svc.s) == {"n": {"type": "integer"}}
    assert props(Svc().s) == {"n": {"type": "integer"}}


def test_partial_removes_bound_arguments() -> None:
    def base(a: int, b: str, c: float = 1.0, *, d: bool = False) -> str:
        """Base."""
        return f"{a}{b}{c}{d}"

    positional = tool(functools.partial(base, 1), name="p1")
    assert props(positional) == {
        "b": {"type": "string"},
        "c": {"default": 1.0, "type": "number"},
        "d": {"default": False, "type": "boolean"},
    }
    keywords = tool(functools.partial(base, c=2.0, d=True), name="p2")
    assert props(keywords) == {"a": {"type": "integer"}, "b": {"type": "string"}}
    assert keywords.parameters["required"] == ["a", "b"]
    nested = tool(functools.partial(functools.partial(base, 1), b="z"))
    assert props(nested) == {
        "c": {"default": 1.0, "type": "number"},
        "d": {"default": False, "type": "boolean"},
    }
    assert nested.name == "base"
    assert nested.description == "Base."


class _Opaque:
    """A class pydantic has no schema for."""


def test_unsupported_types_are_listed_with_the_other_problems() -> None:
    def f(*items: int, thing: _Opaque) -> None:
        """F."""

    with pytest.raises(ToolDefinitionError) as caught:
        tool(f)
    assert [p.parameter for p in caught.value.problems] == ["items", "thing"]
    assert "is not supported" in caught.value.problems[1].message


def test_typed_var_keywords_travel_as_one_object_under_their_name() -> None:
    @tool
    def tag(target: str, **labels: int) -> dict[str, int]:
        """Tag a target."""
        return labels

    assert tag.parameters["properties"]["labels"] == {
        "additionalProperties": {"type": "integer"},
        "type": "object",
    }
    assert tag.call({"target": "x", "labels": {"a": "1"}}) == {"a": 1}


def test_bad_name_message_lists_the_allowed_characters() -> None:
    with pytest.raises(ToolDefinitionError, match=r"digits and '_ - \. : /'"):
        tool(lambda: None, name="has space")


# -- values of unknown type: JSON text decoded by the compiled validator --------------------


def _validator_of(fn: Any) -> Any:
    return build_function_schema(fn).validator


def test_the_validator_decodes_json_text_for_a_parameter_of_unknown_type() -> None:
    # Under the dialects that cannot say "any value", the model sends the JSON text of the
    # value; a string is itself a valid Any, so only the validator can decode it.
    def f(x, y: Any = None, z: object = None, w: Any | None = None, v: "int | Any" = 0) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        ...

    validator = _validator_of(f)
    sent = {"x": "[1, 2]", "y": '{"a": null}', "z": "3.5", "w": "true", "v": '"s"'}
    assert validator.validate_python(sent) == (([1, 2], {"a": None}, 3.5, True, "s"), {})
    assert validator.validate_json(json.dumps(sent)) == validator.validate_python(sent)


@pytest.mark.parametrize("text", ["hello", "", "NaN", "Infinity", "[1,", "{'a': 1}", "1 2"])
def test_a_string_that_is_not_json_stays_a_string(text: str) -> None:
    def f(x) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        ...

    assert _validator_of(f).validate_python({"x": text}) == ((text,), {})


def test_native_values_of_unknown_type_pass_unchanged() -> None:
    def f(x, **rest: Any) -> None:  # pyright: ignore[reportMissingParameterType, reportUnknownParameterType]
        ...

    validator = _validator_of(f)
    for value in (None, 5, 2.5, True, [1, "2"], {"k": "[1]"}):
        assert validator.validate_python({"x": value}) == ((value,), {})
    # Values inside an Any container are values, never JSON text: decoded once, at the top.
    assert validator.validate_python({"x": '["[1]"]'}) == ((["[1]"],), {})
    # **rest: Any takes its entries as sent.
    assert validator.validate_python({"x": 1, "rest": {"a": "[1]"}}) == ((1,), {"a": "[1]"})


def test_typed_parameters_never_decode_json_text() -> None:
    def f(s: str, items: list[str] | str = "") -> None: ...

    validator = _validator_of(f)
    assert validator.validate_python({"s": "[1]", "items": '["a"]'}) == (("[1]", '["a"]'), {})


# -- non-finite numbers ---------------------------------------------------------------------


class Reading(BaseModel):
    value: float
    history: list[float] = []


class Station(BaseModel):
    name: str
    reading: Reading
    by_day: dict[str, Reading] = {}


class LenientReading(BaseModel):
    model_config = ConfigDict(allow_inf_nan=True)
    value: float
    nested: Reading | None = None


class StrictReading(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)
    value: float


@dataclass
class Sample:
    value: float


@pydantic.dataclasses.dataclass
class PydanticSample:
    value: float = Field(alias="v")


class Measure(TypedDict):
    value: float


class LenientMeasure(TypedDict):
    __pydantic_config__ = ConfigDict(allow_inf_nan=True)  # type: ignore[misc]
    value: float


class Series(RootModel[list[float]]):
    pass


class Node(BaseModel):
    weight: float
    children: "list[Node]" = []


class Label(BaseModel):
    text: str


class Outer(BaseModel):
    weight: float
    inner: "Inner | None" = None


class Inner(BaseModel):
    outer: Outer | None = None


def _finite_errors(t: Tool[..., Any], arguments: str) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        t.validate(arguments)
    assert {e["type"] for e in caught.value.errors()} == {"finite_number"}
    return [e["loc"] for e in caught.value.errors()]


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_floats_are_refused_naming_the_argument(token: str) -> None:
    @tool
    def f(
        x: float,
        xs: list[float] = [],  # noqa: B006
        by_key: dict[str, float | None] = {},  # noqa: B006
        pair: tuple[int, float] = (0, 0.0),
        maybe: float | None = None,
    ) -> None: ...

    arguments = (
        f'{{"x": {token}, "xs": [1, {token}], "by_key": {{"k": {token}}}, '
        f'"pair": [1, {token}], "maybe": {token}}}'
    )
    assert _finite_errors(f, arguments) == [
        ("x",),
        ("xs", 1),
        ("by_key", "k"),
        ("pair", 1),
        ("maybe",),
    ]
    with pytest.raises(ValidationError):
        f.validate({"x": float(token.replace("1e400", "inf"))})  # from Python values too


def test_non_finite_floats_are_refused_inside_models_dataclasses_and_typeddicts() -> None:
    @tool
    def f(
        *,
        station: Station,
        samples: list[Sample],
        pydantic_sample: PydanticSample,
        measure: Measure,
        series: Series,
        tree: Node,
    ) -> None: ...

    arguments = json.dumps(
        {
            "station": {
                "name": "a",
                "reading": {"value": 1, "history": [float("inf")]},
                "by_day": {"mon": {"value": float("nan")}},
            },
            "samples": [{"value": 1}, {"value": float("-inf")}],
            "pydantic_sample": {"v": float("nan")},
            "measure": {"value": float("nan")},
            "series": [1, float("inf")],
            "tree": {"weight": 1, "children": [{"weight": float("nan")}]},
        }
    )
    assert _finite_errors(f, arguments) == [
        ("station", "reading", "history", 0),
        ("station", "by_day", "mon", "value"),
        ("samples", 1, "value"),
        ("pydantic_sample", "v"),
        ("measure", "value"),
        ("series", 1),
        ("tree", "children", 0, "weight"),
    ]


def test_non_finite_floats_are_refused_through_mutually_recursive_models() -> None:
    @tool
    def f(inner: Inner, pair: tuple[int, float] = (0, 0.0)) -> None: ...

    deep = '{"outer": {"weight": 1, "inner": {"outer": {"weight": -Infinity}}}}'
    assert _finite_errors(f, f'{{"inner": {deep}, "pair": [1, NaN]}}') == [
        ("inner", "outer", "inner", "outer", "weight"),
        ("pair", 1),
    ]


def test_an_explicit_allowance_wins() -> None:
    @tool
    def f(
        x: Annotated[float, Field(allow_inf_nan=True)],
        lenient: LenientReading,
        measure: LenientMeasure,
        strict: StrictReading | None = None,
    ) -> tuple[float, LenientReading, LenientMeasure]:
        return x, lenient, measure

    args, _ = f.validate(
        '{"x": Infinity, "lenient": {"value": Infinity}, "measure": {"value": -Infinity}}'
    )
    assert args[0] == float("inf")
    assert args[1].value == float("inf")
    assert args[2]["value"] == float("-inf")
    # A class decides for its own fields only: a model inside a lenient one keeps the default.
    assert _finite_errors(
        f, '{"x": 1, "lenient": {"value": 1, "nested": {"value": NaN}}, "measure": {"value": 1}}'
    ) == [("lenient", "nested", "value")]
    assert _finite_errors(
        f, '{"x": 1, "lenient": {"value": 1}, "measure": {"value": 1}, "strict": {"value": NaN}}'
    ) == [("strict", "value")]


def test_models_without_floats_keep_their_schema_and_pay_nothing() -> None:
    def f(label: Label, labels: list[Label], text: str, tree: Tree) -> None: ...

    validator = _validator_of(f)
    assert "function-after" not in repr(validator)
    assert "allow_inf_nan: true" not in repr(validator).lower()


def test_a_value_of_unknown_type_is_not_a_float() -> None:
    # Only a float-typed value is held to finiteness; Any takes what the parser produced.
    def f(x: Any) -> None: ...

    args, _ = _validator_of(f).validate_json('{"x": NaN}')
    assert args[0] != args[0]


# -- validation errors are titled with the tool's name ----------------------------------------


def test_validation_errors_are_titled_with_the_tool_name() -> None:
    @tool(name="get_weather")
    def f(city: str, days: int) -> None: ...

    with pytest.raises(ValidationError) as caught:
        f.validate({"city": "Paris", "days": "many"})
    assert caught.value.title == "get_weather"
    assert str(caught.value).startswith("1 validation error for get_weather\n")
    with pytest.raises(ValidationError) as caught:
        f.validate('{"days": 1}')
    assert caught.value.title == "get_weather"


def test_a_renamed_schema_titles_its_errors_with_the_new_name() -> None:
    def f(days: int) -> None: ...

    original = build_function_schema(f, name="forecast")
    assert renamed(original, "forecast") is original
    copy = renamed(original, "weather.forecast")
    assert copy.name == "weather.forecast"
    assert copy.parameters is original.parameters
    with pytest.raises(ValidationError) as caught:
        copy.validator.validate_python({"days": "many"})
    assert caught.value.title == "weather.forecast"
    with pytest.raises(ValidationError) as caught:
        original.validator.validate_python({"days": "many"})
    assert caught.value.title == "forecast"
    # the copy validates exactly as the original does, decoding and finiteness included
    assert copy.validator.validate_python({"days": "3"}) == ((3,), {})
