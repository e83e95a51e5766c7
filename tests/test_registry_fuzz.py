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


async def later(delay: float = 0.0) -> str:
    await asyncio.sleep(min(abs(delay), 0.001))
    return "later"


REGISTRY = Registry(
    [add, order, echo, nothing, later, tool(add, name="add.serial", sequential=True)],
    max_content_chars=500,
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
deep = st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth)
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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_execute_never_raises(sent: list[ToolCall]) -> None:
    check(sent, REGISTRY.execute(sent))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls)
def test_execute_async_never_raises(sent: list[ToolCall]) -> None:
    check(sent, asyncio.run(REGISTRY.execute_async(sent)))
