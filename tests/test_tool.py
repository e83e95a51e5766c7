"""``@tool`` at run time: the callable, its kinds, context injection and validated calls."""

import asyncio
import datetime
import decimal
import enum
import functools
import inspect
import json
import pathlib
import subprocess
import sys
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import _future_tools
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import NotRequired, TypedDict

from toolkit import Context, Injected, Tool, ToolAnnotations, ToolDefinitionError, tool
from toolkit._lossless import accepts_null, repair_arguments

T = TypeVar("T")


def run(awaitable: "Any") -> Any:
    return asyncio.run(awaitable)


def error_locs(info: pytest.ExceptionInfo[ValidationError]) -> list[tuple[str | int, ...]]:
    return [e["loc"] for e in info.value.errors()]


def error_types(info: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [e["type"] for e in info.value.errors()]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Item(BaseModel):
    sku: str
    qty: int = 1


@dataclass
class Deps:
    factor: int


class Movie(TypedDict):
    title: str
    year: NotRequired[int]


# -- the decorated object is the function ----------------------------------------------------


def add(a: int, b: int = 2) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def test_call_is_the_original_call() -> None:
    t = tool(add)
    assert t(1) == 3
    assert t(1, 5) == 6
    assert t(a=4, b=0) == 4
    # No validation on a direct call: it is the function, unchanged.
    assert t("x", "y") == "xy"  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError):
        t()  # pyright: ignore[reportCallIssue]


def test_signature_and_identity_attributes() -> None:
    t = tool(add)
    assert inspect.signature(t) == inspect.signature(add)
    assert t.__wrapped__ is add
    assert t.__name__ == "add"
    assert t.__qualname__ == "add"
    assert t.name == "add"
    assert t.description == "Add two numbers."
    assert t.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "First."},
            "b": {"default": 2, "type": "integer", "description": "Second."},
        },
        "required": ["a"],
        "additionalProperties": False,
    }
    assert t.return_annotation is int
    assert t.is_async is False
    assert t.strict is False
    assert t.annotations is None
    assert repr(t) == "<Tool 'add' of add>"
    assert isinstance(t, Tool)


def test_return_annotation_missing_is_empty() -> None:
    @tool
    def f(a: int):  # pyright: ignore[reportUnknownParameterType]
        return a

    assert f.return_annotation is inspect.Parameter.empty


def test_decorator_options_are_stored() -> None:
    hints = ToolAnnotations(title="Delete", destructive=True, idempotent=True)

    @tool(name="remove", description="Remove it.", strict=True, annotations=hints)
    def delete(path: str) -> None: ...

    assert (delete.name, delete.description, delete.strict) == ("remove", "Remove it.", True)
    assert delete.annotations is hints
    assert delete.__name__ == "delete"


def test_async_function() -> None:
    @tool
    async def fetch(url: str, retries: int = 0) -> str:
        await asyncio.sleep(0)
        return f"{url}#{retries}"

    assert fetch.is_async is True
    assert inspect.signature(fetch) == inspect.signature(fetch.__wrapped__)
    coro = fetch("u")
    assert inspect.iscoroutine(coro)
    assert run(coro) == "u#0"
    assert run(fetch.call_async({"url": "v", "retries": "3"})) == "v#3"
    assert run(fetch.call_async('{"url": "w"}')) == "w#0"
    with pytest.raises(
        TypeError, match=r"^tool 'fetch' is async: use 'await tool\.call_async\(\.\.\.\)'$"
    ):
        fetch.call({"url": "x"})  # pyright: ignore[reportUnusedCoroutine] - raises before any coroutine exists


def test_acall_runs_sync_tools_too() -> None:
    t = tool(add)
    assert run(t.call_async({"a": 1, "b": 1})) == 2


# -- definitions -----------------------------------------------------------------------------


def test_definition_openai_and_strict_switch() -> None:
    @tool
    def f(n: int = 1) -> int:
        """Count."""
        return n

    assert f.definition() == {
        "type": "function",
        "function": {
            "name": "f",
            "description": "Count.",
            "parameters": {
                "type": "object",
                "properties": {"n": {"default": 1, "type": "integer"}},
                "additionalProperties": False,
            },
        },
    }
    strict = f.definition("openai", strict=True)
    assert strict["function"]["strict"] is True
    assert strict["function"]["parameters"]["required"] == ["n"]
    # cached per (format, strict)
    assert f.definition("openai", strict=True) is strict
    assert f.definition("openai") is f.definition()
    assert f.definition("openai") is not strict


def test_strict_tool_renders_strict_by_default() -> None:
    @tool(strict=True)
    def f(n: int) -> int:
        return n

    assert f.definition("openai")["function"]["strict"] is True
    assert "strict" not in f.definition("openai", strict=False)["function"]


def test_definition_anthropic() -> None:
    t = tool(add)
    assert t.definition("anthropic") == {
        "name": "add",
        "description": "Add two numbers.",
        "input_schema": t.parameters,
    }


def test_definition_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown tool format 'nope'"):
        tool(add).definition("nope")  # pyright: ignore[reportArgumentType]


# -- callables of every kind -----------------------------------------------------------------


class Service:
    def __init__(self, factor: int = 10) -> None:
        self.factor = factor

    @tool
    def scale(self, x: int) -> int:
        """Scale a number."""
        return x * self.factor

    @tool
    @classmethod
    def describe(cls, x: int) -> str:
        return f"{cls.__name__}:{x}"

    @tool
    @staticmethod
    def increment(x: int) -> int:
        return x + 1

    def plain(self, word: str) -> str:
        return word * self.factor

    @tool
    def with_context(self, ctx: Context[Deps], x: int) -> int:
        return x * self.factor * ctx.deps.factor


class SubService(Service):
    pass


def test_method_decorated_in_class_body() -> None:
    service = Service(3)
    assert service.scale(2) == 6
    assert service.scale.call({"x": 2}) == 6
    assert service.scale.call('{"x": "4"}') == 12
    assert run(service.scale.call_async({"x": 1})) == 3
    original = Service.__dict__["scale"].__wrapped__
    assert inspect.signature(service.scale) == inspect.signature(
        types.MethodType(original, service)
    )
    assert service.scale.name == "scale"
    assert service.scale.description == "Scale a number."
    assert service.scale.parameters["properties"] == {"x": {"type": "integer"}}
    # through the class it is the unbound function, as without the decorator
    assert Service.scale(service, 5) == 15
    assert inspect.signature(Service.scale) == inspect.signature(
        Service.__dict__["scale"].__wrapped__
    )
    # two instances do not share their binding
    assert Service(2).scale.call({"x": 1}) == 2
    assert Service(5).scale.call({"x": 1}) == 5


def test_bound_tool_shares_the_definition_cache() -> None:
    first, second = Service(1).scale, Service(2).scale
    assert first.definition("openai") is second.definition("openai")


def test_classmethod() -> None:
    assert Service.describe(1) == "Service:1"  # pyright: ignore[reportCallIssue] - see test above
    assert Service.describe.call({"x": "4"}) == "Service:4"
    assert Service().describe.call({"x": 4}) == "Service:4"
    assert SubService.describe.call({"x": 2}) == "SubService:2"
    assert inspect.signature(Service.describe) == inspect.signature(Service.plain).replace(
        parameters=[
            inspect.Parameter("x", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=int)
        ],
        return_annotation=str,
    )
    assert Service.describe.parameters["properties"] == {"x": {"type": "integer"}}


def test_staticmethod() -> None:
    assert Service.increment(1) == 2
    assert Service.increment.call({"x": 1}) == 2
    assert Service().increment.call({"x": "9"}) == 10
    assert Service.increment.name == "increment"


def test_bound_method() -> None:
    service = Service(2)
    t = tool(service.plain)
    assert t("ab") == "abab"
    assert t.call({"word": "x"}) == "xx"
    assert inspect.signature(t) == inspect.signature(service.plain)
    assert t.name == "plain"
    assert t.parameters["properties"] == {"word": {"type": "string"}}


def test_method_with_context() -> None:
    service = Service(2)
    assert service.with_context.parameters["properties"] == {"x": {"type": "integer"}}
    assert service.with_context.call({"x": 3}, context=Context(deps=Deps(5))) == 30


def test_functools_partial() -> None:
    def convert(amount: float, rate: float, currency: str = "EUR") -> str:
        """Convert money."""
        return f"{amount * rate:.2f} {currency}"

    to_euro = tool(functools.partial(convert, rate=0.5), name="usd_to_eur")
    assert to_euro.parameters["properties"] == {
        "amount": {"type": "number"},
        "currency": {"default": "EUR", "type": "string"},
    }
    assert to_euro.call({"amount": 3}) == "1.50 EUR"
    assert to_euro.call({"amount": "3", "currency": "GBP"}) == "1.50 GBP"
    # the bound rate cannot be overridden by the model
    with pytest.raises(ValidationError) as info:
        to_euro.call({"amount": 3, "rate": 100})
    assert error_locs(info) == [("rate",)]
    assert to_euro(2) == "1.00 EUR"
    assert inspect.signature(to_euro) == inspect.signature(functools.partial(convert, rate=0.5))

    positional = tool(functools.partial(convert, 4.0))
    assert positional.name == "convert"
    assert positional.description == "Convert money."
    assert positional.call({"rate": 0.25}) == "1.00 EUR"


def test_callable_object() -> None:
    class Multiplier:
        """Multiply by a fixed factor."""

        def __init__(self, factor: int) -> None:
            self.factor = factor

        def __call__(self, x: int) -> int:
            return x * self.factor

    triple = Multiplier(3)
    t = tool(triple)
    assert t.name == "Multiplier"
    assert t.description == "Multiply by a fixed factor."
    assert t(2) == 6
    assert t.call({"x": "2"}) == 6
    assert inspect.signature(t) == inspect.signature(triple)
    assert t.parameters["properties"] == {"x": {"type": "integer"}}
    assert tool(name="triple")(triple).name == "triple"


def test_async_callable_object() -> None:
    class Fetcher:
        async def __call__(self, url: str) -> str:
            return url.upper()

    t = tool(Fetcher())
    assert t.is_async is True
    assert run(t.call_async({"url": "a"})) == "A"


def test_functools_wraps_wrapper() -> None:
    seen: list[str] = []

    def logged(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            seen.append(fn.__name__)
            return fn(*args, **kwargs)

        return wrapper

    @tool
    @logged
    def greet(name: str, excited: bool = False) -> str:
        """Greet someone.

        Args:
            name: Who.
        """
        return f"hi {name}{'!' if excited else ''}"

    assert greet.name == "greet"
    assert greet.description == "Greet someone."
    assert greet.parameters["properties"] == {
        "name": {"type": "string", "description": "Who."},
        "excited": {"default": False, "type": "boolean"},
    }
    assert greet.call({"name": "bo", "excited": "true"}) == "hi bo!"
    assert greet("al") == "hi al"
    # the call went through the wrapper, not around it
    assert seen == ["greet", "greet"]


def test_wrapped_async_function() -> None:
    def passthrough(fn: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return fn(*args, **kwargs)

        return wrapper

    @tool
    @passthrough
    async def slow(n: int) -> int:
        return n * 2

    assert slow.is_async is True
    assert run(slow.call_async({"n": 4})) == 8


def test_lambda_with_name_is_callable() -> None:
    double = tool(lambda x: x * 2, name="double")  # pyright: ignore[reportUnknownLambdaType, reportUnknownVariableType, reportUnknownArgumentType]
    assert double(3) == 6
    assert double.call({"x": 4}) == 8
    assert double.call({"x": "ab"}) == "abab"  # untyped: Any, passed through unchanged


def test_lambda_without_name() -> None:
    with pytest.raises(ToolDefinitionError, match="'<lambda>' is not a usable tool name"):
        tool(lambda: None)


# -- positional-only and keyword-only ----------------------------------------------------------


def test_positional_only_is_validated_by_name_and_passed_positionally() -> None:
    received: list[tuple[int, str, bool]] = []

    @tool
    def f(a: int, /, b: str, *, c: bool = False) -> tuple[int, str, bool]:
        received.append((a, b, c))
        return (a, b, c)

    assert f.validate({"a": "1", "b": "x"}) == ((1, "x"), {"c": False})
    assert f.validate({"c": True, "b": "y", "a": 2}) == ((2, "y"), {"c": True})
    assert f.call({"a": "1", "b": "x", "c": "true"}) == (1, "x", True)
    assert received == [(1, "x", True)]
    with pytest.raises(ValidationError) as info:
        f.call({"b": "x"})
    assert error_locs(info) == [("a",)]
    assert error_types(info) == ["missing_positional_only_argument"]


def test_keyword_only_required() -> None:
    @tool
    def f(*, key: str, limit: int = 10) -> str:
        return f"{key}:{limit}"

    assert f.parameters["required"] == ["key"]
    assert f.validate({"key": "k"}) == ((), {"key": "k", "limit": 10})
    assert f.call({"key": "k", "limit": "5"}) == "k:5"


def test_typed_var_keyword_is_passed_as_keywords() -> None:
    @tool
    def f(a: int, **extra: int) -> dict[str, int]:
        return {"a": a, **extra}

    assert f.call({"a": 1, "extra": {"b": "2", "c": 3}}) == {"a": 1, "b": 2, "c": 3}
    assert f.call({"a": 1}) == {"a": 1}
    with pytest.raises(ValidationError) as info:
        f.call({"a": 1, "extra": {"b": "x"}})
    assert error_locs(info) == [("extra", "b")]


# -- values of every type through a validated call --------------------------------------------


def test_call_converts_values_to_the_annotated_types() -> None:
    @tool
    def f(  # noqa: PLR0917
        when: datetime.datetime,
        day: datetime.date,
        ident: uuid.UUID,
        amount: decimal.Decimal,
        where: pathlib.Path,
        color: Color,
        tags: set[str],
        pair: tuple[int, str],
        item: Item,
        movie: Movie,
        unit: Literal["c", "f"] = "c",
    ) -> list[object]:
        return [when, day, ident, amount, where, color, tags, pair, item, movie, unit]

    args = {
        "when": "2024-05-01T12:30:00Z",
        "day": "2024-05-02",
        "ident": "12345678-1234-5678-1234-567812345678",
        "amount": "1.10",
        "where": "/tmp/x",
        "color": "green",
        "tags": ["a", "a", "b"],
        "pair": ["7", "s"],
        "item": {"sku": "X1"},
        "movie": {"title": "Alien", "year": "1979"},
    }
    expected: list[object] = [
        datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.timezone.utc),
        datetime.date(2024, 5, 2),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        decimal.Decimal("1.10"),
        pathlib.Path("/tmp/x"),
        Color.GREEN,
        {"a", "b"},
        (7, "s"),
        Item(sku="X1", qty=1),
        {"title": "Alien", "year": 1979},
        "c",
    ]
    assert f.call(args) == expected
    assert f.call(json.dumps(args)) == expected
    assert f.call(json.dumps(args).encode()) == expected


def test_default_factory_gives_a_fresh_value_per_call() -> None:
    @tool
    def f(items: list[int] = Field(default_factory=list[int])) -> list[int]:  # noqa: B008
        items.append(1)
        return items

    assert f.call({}) == [1]
    assert f.call({}) == [1]


def test_recursive_model_call() -> None:
    result = _future_tools.walk.call(
        {"root": {"label": "a", "children": [{"label": "b", "children": [{"label": "c"}]}]}}
    )
    assert result == ["a", "b"]
    assert _future_tools.walk.call({"root": {"label": "a"}, "order": "post", "depth": 0}) == ["a"]


def test_local_class_forward_reference_call() -> None:
    class Local(BaseModel):
        v: int

    @tool
    def f(x: "Local") -> int:
        return x.v * 2

    assert f.call({"x": {"v": "21"}}) == 42
    assert _future_tools.make_local_tool().call({"p": {"x": -2, "y": 3}}) == 5


def test_annotated_constraints_are_enforced() -> None:
    calls: list[int] = []

    @tool
    def f(
        n: Annotated[int, Field(ge=1, le=3)], code: Annotated[str, Field(pattern="^[a-z]+$")]
    ) -> None:
        calls.append(n)

    with pytest.raises(ValidationError) as info:
        f.call({"n": 0, "code": "ABC"})
    assert error_locs(info) == [("n",), ("code",)]
    assert error_types(info) == ["greater_than_equal", "string_pattern_mismatch"]
    f.call({"n": 3, "code": "abc"})
    assert calls == [3]


# -- validation --------------------------------------------------------------------------------


def test_lax_json_coercion() -> None:
    @tool
    def f(n: int, x: float, flag: bool, s: str) -> tuple[int, float, bool, str]:
        return (n, x, flag, s)

    assert f.call({"n": "10", "x": "2.5", "flag": "yes", "s": "t"}) == (10, 2.5, True, "t")
    assert f.call('{"n": 10.0, "x": 1, "flag": 0, "s": "u"}') == (10, 1.0, False, "u")


def test_invalid_arguments_never_call_the_function() -> None:
    side_effects: list[object] = []

    @tool
    def f(n: int, item: Item, *, tags: list[str] | None = None) -> None:
        side_effects.append(n)

    cases: list[tuple[object, list[tuple[str | int, ...]], list[str]]] = [
        ({"item": {"sku": "a"}}, [("n",)], ["missing_argument"]),
        ({"n": "ten", "item": {"sku": "a"}}, [("n",)], ["int_parsing"]),
        (
            {"n": 1, "item": {"qty": "x"}},
            [("item", "sku"), ("item", "qty")],
            ["missing", "int_parsing"],
        ),
        ({"n": 1, "item": {"sku": "a"}, "tags": ["x", 2]}, [("tags", 1)], ["string_type"]),
        ({"n": 1, "item": {"sku": "a"}, "extra": True}, [("extra",)], ["extra_forbidden"]),
        ('{"n": 1, "item": ', [()], ["json_invalid"]),
    ]
    for arguments, locs, kinds in cases:
        with pytest.raises(ValidationError) as info:
            f.call(arguments)  # pyright: ignore[reportArgumentType]
        assert (error_locs(info), error_types(info)) == (locs, kinds), arguments
        with pytest.raises(ValidationError):
            run(f.call_async(arguments))  # pyright: ignore[reportArgumentType]
    assert side_effects == []
    f.call({"n": 1, "item": {"sku": "a"}})
    assert side_effects == [1]


def test_validate_returns_args_and_kwargs() -> None:
    @tool
    def f(a: int, b: str = "x", *, c: int = 0) -> None: ...

    assert f.validate({"a": "1"}) == ((1, "x"), {"c": 0})
    assert f.validate('{"a": 1, "b": "y", "c": 2}') == ((1, "y"), {"c": 2})
    assert f.validate(b'{"a": 3}') == ((3, "x"), {"c": 0})


def test_validate_does_not_mutate_its_input() -> None:
    @tool
    def f(a: int = 1, d: dict[str, int] | None = None) -> None: ...

    arguments: dict[str, object] = {"a": None, "d": [{"key": "k", "value": 1}]}
    snapshot = json.dumps(arguments)
    assert f.validate(arguments) == ((1, {"k": 1}), {})
    assert json.dumps(arguments) == snapshot


def test_validation_error_is_a_pydantic_error_with_title() -> None:
    with pytest.raises(ValidationError) as info:
        tool(add).validate({})
    assert info.value.error_count() == 1
    assert info.value.errors()[0]["loc"] == ("a",)


# -- repairs of strict-mode shapes --------------------------------------------------------------


class Point(BaseModel):
    x: int
    y: int = 0


@tool
def shapes(  # noqa: PLR0917
    limit: int = 5,
    maybe: int | None = 5,
    scores: dict[str, int] | None = None,
    pair: tuple[int, str] = (0, ""),
    point: Point | None = None,
    points: list[Point] = [],  # noqa: B006
    text: str = "",
) -> dict[str, object]:
    return {
        "limit": limit,
        "maybe": maybe,
        "scores": scores,
        "pair": pair,
        "point": point,
        "points": points,
        "text": text,
    }


DEFAULTS: dict[str, object] = {
    "limit": 5,
    "maybe": 5,
    "scores": None,
    "pair": (0, ""),
    "point": None,
    "points": [],
    "text": "",
}


def test_null_for_a_defaulted_non_nullable_parameter_means_the_default() -> None:
    assert shapes.call({"limit": None}) == DEFAULTS
    assert shapes.call('{"limit": null, "pair": null}') == DEFAULTS


def test_null_for_a_nullable_parameter_stays_null() -> None:
    assert shapes.call({"maybe": None}) == {**DEFAULTS, "maybe": None}
    assert shapes.call({"maybe": None, "limit": None}) == {**DEFAULTS, "maybe": None}


def test_null_for_a_required_parameter_is_still_an_error() -> None:
    @tool
    def f(n: int) -> int:
        return n

    with pytest.raises(ValidationError) as info:
        f.call({"n": None})
    assert error_locs(info) == [("n",)]
    assert error_types(info) == ["int_type"]


def test_key_value_pairs_become_a_dict() -> None:
    pairs = [{"key": "a", "value": 1}, {"key": "b", "value": "2"}]
    assert shapes.call({"scores": pairs}) == {**DEFAULTS, "scores": {"a": 1, "b": 2}}
    assert shapes.call(json.dumps({"scores": pairs})) == {**DEFAULTS, "scores": {"a": 1, "b": 2}}


def test_numbered_object_becomes_a_tuple() -> None:
    assert shapes.call({"pair": {"0": 3, "1": "s"}}) == {**DEFAULTS, "pair": (3, "s")}
    assert shapes.call({"pair": {"1": "s", "0": 3}}) == {**DEFAULTS, "pair": (3, "s")}


def test_nested_model_sent_as_a_json_string() -> None:
    assert shapes.call({"point": '{"x": 2}'}) == {**DEFAULTS, "point": Point(x=2)}
    assert shapes.call({"points": '[{"x": 1, "y": 1}]'}) == {
        **DEFAULTS,
        "points": [Point(x=1, y=1)],
    }
    assert shapes.call({"points": ['{"x": 4}']}) == {**DEFAULTS, "points": [Point(x=4)]}


def test_repairs_combine_and_reach_nested_values() -> None:
    arguments = {
        "limit": None,
        "scores": [{"key": "k", "value": 9}],
        "pair": {"0": 1, "1": "one"},
        "point": '{"x": 5, "y": 6}',
    }
    assert shapes.call(arguments) == {
        **DEFAULTS,
        "scores": {"k": 9},
        "pair": (1, "one"),
        "point": Point(x=5, y=6),
    }


def test_unrepairable_input_reports_the_errors_of_the_repaired_input() -> None:
    with pytest.raises(ValidationError) as info:
        shapes.call({"limit": "many", "pair": {"0": 1}})
    # the numbered object became a list, which lacks its item 1
    assert error_locs(info) == [("limit",), ("pair", 1)]
    assert error_types(info) == ["int_parsing", "missing"]
    # a repaired null is not reported next to the real mistake
    with pytest.raises(ValidationError) as info:
        shapes.call({"limit": None, "text": 5})
    assert error_locs(info) == [("text",)]


def test_valid_input_is_never_changed_by_repair() -> None:
    @tool
    def f(
        text: str, data: list[int] | str = "", n: int = 1, m: dict[str, Any] | None = None
    ) -> tuple[str, list[int] | str, int, dict[str, Any] | None]:
        return (text, data, n, m)

    # strings that look like JSON stay strings where a string is accepted
    assert f.call({"text": '{"a": 1}', "data": "[1, 2]"}) == ('{"a": 1}', "[1, 2]", 1, None)
    # ...even when another argument needed a repair
    assert f.call({"text": "[]", "data": "[1, 2]", "n": None}) == ("[]", "[1, 2]", 1, None)
    # a free-form object whose values look like strict-mode shapes is left as sent
    sent = {"k": [{"key": "a", "value": 1}], "t": None}
    assert f.call({"text": "", "m": sent, "n": None}) == ("", "", 1, sent)


def test_union_of_map_and_list_keeps_a_list_of_pairs_a_list() -> None:
    @tool
    def f(x: dict[str, int] | list[dict[str, str]], n: int = 1) -> object:
        return x

    pairs = [{"key": "k", "value": "v"}]
    assert f.call({"x": pairs}) == pairs
    assert f.call({"x": pairs, "n": None}) == pairs


# -- context injection -----------------------------------------------------------------------


def test_context_first_parameter() -> None:
    @tool
    def lookup(ctx: Context[Deps], n: int) -> tuple[int, str, str | None]:
        return (ctx.deps.factor * n, ctx.tool_name, ctx.call_id)

    assert lookup.parameters["properties"] == {"n": {"type": "integer"}}
    context = Context(deps=Deps(3), tool_name="lookup", call_id="c-1")
    assert lookup.call({"n": 2}, context=context) == (6, "lookup", "c-1")
    assert run(lookup.call_async({"n": "2"}, context=context)) == (6, "lookup", "c-1")
    assert lookup(context, 1) == (3, "lookup", "c-1")


def test_context_defaults_when_not_passed() -> None:
    @tool(name="who")
    def f(ctx: Context, n: int) -> tuple[object, str, int]:
        return (ctx.deps, ctx.tool_name, n)

    assert f.call({"n": 1}) == (None, "who", 1)


def test_injection_in_the_middle_and_keyword_only() -> None:
    @tool
    def f(
        a: int,
        db: Annotated[Deps, Injected],
        b: str,
        /,
        c: int = 0,
        *,
        ctx: Context[Deps],
        d: bool = False,
    ) -> tuple[int, int, str, int, str | None, bool]:
        return (a, db.factor, b, c, ctx.call_id, d)

    assert f.parameters == {
        "type": "object",
        "properties": {
            "a": {"type": "integer"},
            "b": {"type": "string"},
            "c": {"default": 0, "type": "integer"},
            "d": {"default": False, "type": "boolean"},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    context = Context(deps=Deps(7), call_id="id")
    assert f.call({"a": 1, "b": "x", "d": True}, context=context) == (1, 7, "x", 0, "id", True)
    assert run(f.call_async({"a": 1, "b": "x", "c": 4}, context=context)) == (
        1,
        7,
        "x",
        4,
        "id",
        False,
    )


def test_injected_keyword_only_deps() -> None:
    @tool
    def f(a: int, *, deps: Annotated[Deps, Injected]) -> int:
        return a * deps.factor

    assert f.parameters["properties"] == {"a": {"type": "integer"}}
    assert f.call('{"a": 4}', context=Context(deps=Deps(2))) == 8


def test_injected_parameters_cannot_be_sent_by_the_model() -> None:
    @tool
    def f(ctx: Context[Deps], a: int) -> int:
        return a

    with pytest.raises(ValidationError) as info:
        f.call({"a": 1, "ctx": {"deps": {"factor": 1}}}, context=Context(deps=Deps(1)))
    assert error_locs(info) == [("ctx",)]
    assert error_types(info) == ["extra_forbidden"]


def test_optional_context_is_injected() -> None:
    @tool
    def f(a: int, ctx: Context[Deps] | None = None) -> int:
        return a * (ctx.deps.factor if ctx is not None else 1)

    assert f.parameters["properties"] == {"a": {"type": "integer"}}
    assert f.call({"a": 2}, context=Context(deps=Deps(3))) == 6
    assert f(2) == 2


def test_async_tool_with_context() -> None:
    @tool
    async def f(ctx: Context[Deps], a: int) -> int:
        await asyncio.sleep(0)
        return ctx.deps.factor + a

    assert run(f.call_async({"a": 1}, context=Context(deps=Deps(10)))) == 11


def test_future_module_injection() -> None:
    settings = _future_tools.Settings(level=4)
    assert _future_tools.configure.call({"name": "n"}, context=Context(deps=settings)) == "n:4:4"


# -- toolkit._lossless.repair_arguments ----------------------------------------------------------

OBJECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "limit": {"default": 5, "type": "integer"},
        "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 5},
        "scores": {"additionalProperties": {"type": "integer"}, "type": "object"},
        "pair": {
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "minItems": 2,
            "maxItems": 2,
            "type": "array",
        },
        "point": {"$ref": "#/$defs/Point"},
        "free": {"type": "object", "additionalProperties": True},
        "name": {"type": "string"},
    },
    "required": ["name"],
    "additionalProperties": False,
    "$defs": {
        "Point": {
            "type": "object",
            "properties": {"x": {"type": "integer"}, "label": {"type": "string", "default": ""}},
            "required": ["x"],
        }
    },
}


def test_repair_identity_when_nothing_to_repair() -> None:
    valid: list[object] = [
        {"name": "a"},
        {"name": "a", "limit": 3, "maybe": None, "scores": {"k": 1}, "pair": [1, "s"]},
        {"name": '{"x": 1}', "point": {"x": 1}, "free": {"k": [{"key": 1, "value": 2}]}},
        {},
        "not an object",
        42,
        None,
        [1, 2],
    ]
    for value in valid:
        assert repair_arguments(value, OBJECT_SCHEMA) is value


def test_repair_drops_null_for_defaulted_parameters() -> None:
    value = {"name": "a", "limit": None, "maybe": None}
    assert repair_arguments(value, OBJECT_SCHEMA) == {"name": "a", "maybe": None}
    # a required parameter keeps its null for the validator to reject
    assert repair_arguments({"name": None}, OBJECT_SCHEMA) == {"name": None}


def test_repair_pairs_tuples_and_json_strings() -> None:
    value = {
        "name": "n",
        "scores": [{"key": "a", "value": 1}],
        "pair": {"0": 1, "1": "x"},
        "point": '{"x": 3, "label": null}',
    }
    assert repair_arguments(value, OBJECT_SCHEMA) == {
        "name": "n",
        "scores": {"a": 1},
        "pair": [1, "x"],
        "point": {"x": 3},
    }


def test_repair_leaves_unrecognised_shapes_alone() -> None:
    cases: list[dict[str, object]] = [
        {"scores": [{"key": "a"}]},  # not a key/value pair
        {"pair": {"0": 1, "2": "x"}},  # not numbered 0..n-1
        {"point": "not json"},
        {"point": "[1, 2]"},  # JSON, but not an object
        {"limit": "7"},  # a scalar is the validator's business
    ]
    for value in cases:
        assert repair_arguments(value, OBJECT_SCHEMA) is value


def test_repair_json_string_of_a_top_level_object() -> None:
    assert repair_arguments('{"name": "a", "limit": null}', OBJECT_SCHEMA) == {"name": "a"}


def test_repair_inside_arrays_and_unions() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "points": {"type": "array", "items": {"$ref": "#/$defs/P"}},
            "either": {"anyOf": [{"$ref": "#/$defs/P"}, {"type": "null"}]},
        },
        "$defs": {"P": {"type": "object", "properties": {"x": {"type": "integer", "default": 0}}}},
    }
    assert repair_arguments({"points": ['{"x": 1}', {"x": None}]}, schema) == {
        "points": [{"x": 1}, {}]
    }
    assert repair_arguments({"either": '{"x": 2}'}, schema) == {"either": {"x": 2}}
    untouched = {"points": [{"x": 1}], "either": None}
    assert repair_arguments(untouched, schema) is untouched


def test_repair_does_not_reshape_a_value_a_union_takes_as_it_is() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "data": {
                "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "string"}]
            },
            "n": {"type": "integer", "default": 1},
        },
    }
    value = {"data": "[1, 2]", "n": None}
    assert repair_arguments(value, schema) == {"data": "[1, 2]"}
    assert repair_arguments({"data": "[1, 2]"}, schema) == {"data": "[1, 2]"}


def test_repair_stops_at_the_depth_limit() -> None:
    schema: dict[str, Any] = {"$ref": "#/$defs/N", "$defs": {}}
    schema["$defs"]["N"] = {
        "type": "object",
        "properties": {"next": {"$ref": "#/$defs/N"}, "v": {"type": "integer", "default": 0}},
    }
    shallow: dict[str, Any] = {"v": None}
    deep: dict[str, Any] = {"v": None}
    for _ in range(10):
        shallow = {"next": shallow}
    for _ in range(200):
        deep = {"next": deep}
    repaired_shallow = repair_arguments(shallow, schema)
    assert repaired_shallow is not shallow
    assert json.dumps(repaired_shallow).count("null") == 0
    assert repair_arguments(deep, schema) is deep


def test_accepts_null() -> None:
    defs: dict[str, Any] = {"Any": {}, "Int": {"type": "integer"}}
    assert accepts_null({}, defs) is True
    assert accepts_null({"type": "null"}, defs) is True
    assert accepts_null({"type": ["integer", "null"]}, defs) is True
    assert accepts_null({"anyOf": [{"type": "integer"}, {"type": "null"}]}, defs) is True
    assert accepts_null({"enum": ["a", None]}, defs) is True
    assert accepts_null({"const": None}, defs) is True
    assert accepts_null({"$ref": "#/$defs/Any"}, defs) is True
    assert accepts_null({"type": "integer"}, defs) is False
    assert accepts_null({"$ref": "#/$defs/Int"}, defs) is False
    assert accepts_null({"enum": ["a"]}, defs) is False
    assert accepts_null({"anyOf": [{"type": "integer"}, {"type": "string"}]}, defs) is False


# -- properties ------------------------------------------------------------------------------

JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@given(st.integers())
def test_integer_strings_coerce(n: int) -> None:
    t = tool(add)
    assert t.call({"a": str(n), "b": 0}) == n
    assert t.call(json.dumps({"a": str(n), "b": 0})) == n


@given(
    st.fixed_dictionaries(
        {"name": st.text(max_size=8)},
        optional={
            "limit": st.integers(),
            "maybe": st.one_of(st.none(), st.integers()),
            "scores": st.dictionaries(st.text(max_size=4), st.integers(), max_size=3),
            "pair": st.tuples(st.integers(), st.text(max_size=4)).map(list),
            "point": st.fixed_dictionaries({"x": st.integers()}, optional={"label": st.text()}),
            "free": st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=3),
        },
    )
)
def test_repair_identity_on_valid_arguments(value: dict[str, Any]) -> None:
    assert repair_arguments(value, OBJECT_SCHEMA) is value


@given(st.integers(), st.text(max_size=8))
def test_valid_calls_come_back_unchanged(limit: int, text: str) -> None:
    result = shapes.call({"limit": limit, "text": text, "pair": [limit, text]})
    assert result == {**DEFAULTS, "limit": limit, "text": text, "pair": (limit, text)}


# -- the package ---------------------------------------------------------------------------


def test_import_does_not_load_provider_sdks() -> None:
    code = (
        "import sys, toolkit\n"
        "from toolkit import tool\n"
        "@tool\n"
        "def f(a: int) -> int:\n"
        "    return a\n"
        "f.call({'a': 1})\n"
        "print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.skipif(sys.version_info < (3, 12), reason="inspect.markcoroutinefunction is 3.12+")
def test_inspect_sees_an_async_tool_as_a_coroutine_function() -> None:
    @tool
    async def fetch(url: str) -> str:
        """Fetch a page."""
        return url

    @tool
    def parse(text: str) -> str:
        """Parse a page."""
        return text

    class Crawler:
        @tool
        async def visit(self, url: str) -> str:
            """Visit a page."""
            return url

    assert inspect.iscoroutinefunction(fetch)
    assert not inspect.iscoroutinefunction(parse)
    assert inspect.iscoroutinefunction(Crawler().visit)
