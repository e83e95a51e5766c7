"""Static types: ``@tool`` keeps the parameters and the return type of what it decorates.

``assert_type`` does nothing at run time; pyright (strict, see pyproject.toml) checks every
line of this file, so a change that loses the ParamSpec or the return type fails type checking.
The tests also run under pytest, which checks the values.
"""

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from typing_extensions import assert_type

from toolkit import Context, Tool, tool


@tool
def double(n: int) -> int:
    return n * 2


@tool(name="greeting", strict=True)
def greet(name: str, *, polite: bool = False) -> str:
    return f"{'Dear ' if polite else ''}{name}"


@tool
async def fetch(url: str) -> bytes:
    return url.encode()


@tool
def with_context(ctx: Context[int], n: int) -> int:
    return ctx.deps + n


def test_bare_decorator_keeps_params_and_return() -> None:
    as_tool: Tool[[int], int] = double
    assert as_tool is double
    assert_type(double(1), int)
    assert_type(double(n=2), int)
    assert double(3) == 6


def test_decorator_with_options_keeps_params_and_return() -> None:
    assert_type(greet("x"), str)
    assert_type(greet("x", polite=True), str)
    assert greet("Ann", polite=True) == "Dear Ann"


def test_async_tool_returns_an_awaitable_of_the_result() -> None:
    async def main() -> bytes:
        awaitable: Awaitable[bytes] = fetch("u")
        return assert_type(await fetch("u"), bytes) + await awaitable

    assert asyncio.run(main()) == b"uu"


def test_call_returns_the_function_result_type() -> None:
    assert_type(double.call({"n": 1}), int)
    assert_type(greet.call('{"name": "x"}'), str)
    assert double.call({"n": "4"}) == 8


def test_context_parameter_is_part_of_the_python_signature() -> None:
    assert_type(with_context(Context(deps=1), 2), int)
    assert with_context.call({"n": 2}, context=Context(deps=40)) == 42


def test_validate_types() -> None:
    args, kwargs = double.validate({"n": 1})
    assert_type(args, tuple[Any, ...])
    assert_type(kwargs, dict[str, Any])
    assert (args, kwargs) == ((1,), {})


def test_function_call_form_and_partial() -> None:
    def power(base: int, exp: int) -> int:
        return base**exp

    square = tool(functools.partial(power, exp=2), name="square")
    assert_type(square(3), int)
    assert square.call({"base": 5}) == 25

    as_callable: Callable[[int], int] = double
    assert as_callable(1) == 2


def test_attributes_types() -> None:
    assert_type(double.name, str)
    assert_type(double.description, str)
    assert_type(double.parameters, dict[str, Any])
    assert_type(double.definition("openai"), dict[str, Any])
    assert_type(double.is_async, bool)


class _Counter:
    def __init__(self, start: int) -> None:
        self.start = start

    @tool
    def count(self, step: int) -> int:
        """Count on."""
        return self.start + step


def test_a_method_tool_reached_through_an_instance_drops_self() -> None:
    counter = _Counter(10)
    bound: Tool[[int], int] = counter.count
    assert_type(counter.count(1), int)
    assert bound.call({"step": 2}) == 12
    unbound: Tool[[_Counter, int], int] = _Counter.count
    assert unbound(counter, 3) == 13
