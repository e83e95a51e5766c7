"""Whatever a model sends, execute answers each call exactly once, in order, and never raises."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from toolkit import Registry, ToolCall, ToolError, ToolResult, tool


class Item(BaseModel):
    sku: str
    quantity: int = 1


def add(a: int, b: float = 0.0) -> float:
    return a + b


def order(items: list[Item], mode: Literal["fast", "cheap"] = "cheap") -> dict[str, Any]:
    return {"count": len(items), "mode": mode}


def echo(payload: dict[str, Any] | None = None, tags: tuple[str, ...] = ()) -> Any:
    if payload and "boom" in payload:
        raise ToolError("boom")
    if tags and tags[0] == "crash":
        raise RuntimeError("crash")
    return payload


def nothing() -> None:
    return None


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("unprintable")


class _BareToolError(ToolError):
    def __init__(self) -> None:  # skips ToolError.__init__
        Exception.__init__(self)


def misbehave(kind: str = "") -> Any:
    """A tool that does everything a careless tool author can."""
    if kind == "unprintable":
        raise _Unprintable
    if kind == "bare":
        raise _BareToolError
    if kind == "huge":
        return 10**5000
    if kind == "nan":
        return [float("nan"), float("inf")]
    if kind == "object":
        return object()
    if kind == "recursive":
        loop: list[Any] = []
        loop.append(loop)
        return loop
    return kind


def counts(values: dict[str, int], depth: list[int] | None = None) -> int:
    return len(values)


async def later(delay: float = 0.0) -> str:
    await asyncio.sleep(min(abs(delay), 0.001))
    return "later"


TOOLS = [add, order, echo, nothing, later, misbehave, counts]
REGISTRY = Registry([*TOOLS, tool(add, name="add.serial", sequential=True)], max_content_chars=500)
STRICT = Registry(
    [*TOOLS, tool(add, name="add.serial", sequential=True)],
    max_content_chars=500,
    strict_validation=True,
)
NAMES = [*REGISTRY.names, "add_serial"]

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
NO_KEYS: dict[str, st.SearchStrategy[Any]] = {}
plausible = st.fixed_dictionaries(
    NO_KEYS,
    optional={
        "a": json_values,
        "b": json_values,
        "items": st.lists(
            st.fixed_dictionaries({"sku": json_values}, optional={"quantity": json_values}),
            max_size=3,
        ),
        "mode": st.sampled_from(["fast", "cheap", "slow"]),
        "payload": json_values,
        "tags": st.lists(st.sampled_from(["crash", "x"]) | st.text(max_size=5), max_size=3),
        "delay": json_values,
    },
)
python_only = st.sampled_from(
    ["\ud800", "x\udfffy", {1, 2}, object(), b"\xff", float("nan"), float("inf"), 10**400]
)


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


deep = st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth)
deep_mapping = st.integers(1, 10_000).map(lambda depth: {"a": _nested(depth), "b": 1})
deep_object = st.integers(1, 3000).map(
    lambda depth: '{"payload": ' + '{"a": ' * depth + "1" + "}" * (depth + 1)
)
arguments = st.one_of(
    st.none(),
    plausible,
    plausible.map(json.dumps),
    json_values,
    json_values.map(json.dumps),
    st.text(max_size=50),  # mostly broken JSON
    plausible.map(lambda value: json.dumps(value)[:-1]),  # truncated JSON
    st.text(min_size=1, max_size=3).map(lambda chunk: chunk * 20_000),  # huge strings
    deep,
    deep_object,
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    st.integers(),  # not even a mapping
    deep_mapping,  # as a Python mapping: no JSON parser's depth limit in the way
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from(
                ["unprintable", "bare", "huge", "nan", "object", "recursive", "ok"]
            )
        }
    ),
    st.dictionaries(st.sampled_from(["a", "payload", "values", "kind"]), python_only, max_size=2),
    st.integers(0, 20_000).map(  # a huge list of invalid values: a short error all the same
        lambda n: {"values": {str(i): "x" for i in range(n)}, "depth": ["y"] * (n % 50)}
    ),
)
calls = st.lists(
    st.builds(
        ToolCall,
        id=st.sampled_from(["1", "2", "dup"]) | st.text(max_size=8),
        name=st.sampled_from(NAMES) | st.text(max_size=12) | st.text(min_size=300, max_size=400),
        arguments=arguments,
    ),
    max_size=6,
)


def check(sent: list[ToolCall], results: list[ToolResult]) -> None:
    assert len(results) == len(sent)
    for call, result in zip(sent, results, strict=True):
        assert result.call_id == call.id
        assert result.name == call.name
        assert isinstance(result.content, str)
        assert len(result.content) <= 500 + 70  # the truncation note
        assert result.is_error == (result.error is not None)
        assert "\n- and " not in result.content or result.content.count("\n- ") <= 21


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_execute_never_raises(sent: list[ToolCall]) -> None:
    check(sent, REGISTRY.execute(sent))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_execute_async_never_raises(sent: list[ToolCall]) -> None:
    check(sent, asyncio.run(REGISTRY.execute_async(sent)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_strict_validation_never_raises(sent: list[ToolCall]) -> None:
    check(sent, STRICT.execute(sent))
