"""Registry: tools by name, validated concurrent execution, error results for the model."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import datetime
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Literal

import _process_tools
import pytest
from pydantic import BaseModel

from toolkit import (
    Context,
    Registry,
    Runner,
    Tool,
    ToolCall,
    ToolError,
    ToolkitError,
    ToolNameConflict,
    ToolResult,
    Veto,
    tool,
)
from toolkit.testing import ScriptedModel
from toolkit.testing import call as reply_call


@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """Get the weather for a city."""
    if city == "Atlantis":
        raise ValueError("city not found")
    if city == "Nowhere":
        raise ToolError("No forecast for Nowhere; try a real city.")
    return f"Sunny in {city}, 21 degrees {unit}"


def search(query: str) -> list[str]:
    """Search the web."""
    return [query]


def call(name: str, arguments: Any = None, id: str = "c1") -> ToolCall:
    return ToolCall(id=id, name=name, arguments=arguments)


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


def one(registry: Registry, name: str, arguments: Any = None) -> ToolResult:
    [result] = registry.execute([call(name, arguments)])
    return result


@pytest.fixture
def registry() -> Registry:
    return Registry([get_weather, search])


# -- tools by name ---------------------------------------------------------------------------------


def test_lookup_and_container_protocol(registry: Registry) -> None:
    assert registry.names == ["get_weather", "search"]
    assert len(registry) == 2
    assert "search" in registry
    assert "nope" not in registry
    assert 3 not in registry
    assert registry["get_weather"] is get_weather
    assert registry.get("nope") is None
    assert [t.name for t in registry] == ["get_weather", "search"]
    assert isinstance(registry["search"], Tool)  # plain functions are wrapped
    with pytest.raises(KeyError):
        registry["nope"]
    assert registry.remove("search").name == "search"
    assert registry.names == ["get_weather"]
    with pytest.raises(KeyError):
        registry.remove("search")
    assert "get_weather" in repr(registry)


def test_name_conflicts(registry: Registry) -> None:
    with pytest.raises(ToolNameConflict, match="'search' is already registered") as caught:
        registry.add(search)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, ToolkitError)

    def other() -> str:
        return "other"

    replacement = tool(other, name="search")
    registry.add(replacement, replace=True)
    assert registry["search"] is replacement
    prefixed = registry.add(search, prefix_name="web")
    assert prefixed.name == "web_search"
    assert registry.names == ["get_weather", "search", "web_search"]
    assert prefixed.definition("openai")["function"]["name"] == "web_search"
    assert one(registry, "web_search", {"query": "q"}).content == '["q"]'
    assert search.__name__ == "search"  # the original is untouched


class Calculator:
    """Not a tool itself."""

    factor = 3
    label = "not callable"

    def scale(self, value: float) -> float:
        """Multiply by the factor."""
        return value * self.factor

    @tool(sequential=True)
    def add(self, a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @staticmethod
    def negate(value: int) -> int:
        """Negate a number."""
        return -value

    def _secret(self) -> None:
        raise AssertionError("private methods are not tools")


def test_add_object() -> None:
    registry = Registry()
    added = registry.add_object(Calculator(), prefix_name="calc", description="A calculator.")
    assert [t.name for t in added] == ["calc_scale", "calc_add", "calc_negate"]
    assert registry["calc_scale"].description == "A calculator.\n\nMultiply by the factor."
    assert registry["calc_add"].sequential  # options of @tool in the class body are kept
    assert one(registry, "calc_scale", {"value": 2}).content == "6.0"
    assert one(registry, "calc_add", {"a": 2, "b": 3}).content == "5"
    assert one(registry, "calc_negate", {"value": 2}).content == "-2"
    with pytest.raises(ToolNameConflict):
        registry.add_object(Calculator(), prefix_name="calc")
    assert len(registry) == 3  # all or nothing
    plain = Registry()
    plain.add_object(Calculator())
    assert plain.names == ["scale", "add", "negate"]
    assert plain["scale"].description == "Multiply by the factor."


def test_wire_names_resolve_and_conflict() -> None:
    def identity(n: int) -> int:
        return n

    factorial = tool(identity, name="math.factorial")
    registry = Registry([factorial])
    assert registry.get("math_factorial") is factorial
    assert "math_factorial" in registry
    result = one(registry, "math_factorial", {"n": 5})
    assert (result.content, result.name) == ("5", "math_factorial")
    assert registry.definitions("openai")[0]["function"]["name"] == "math_factorial"
    registry.add(tool(identity, name="math_factorial"))
    with pytest.raises(ToolNameConflict) as caught:
        registry.definitions("openai")
    assert str(caught.value) == (
        "tool names collide in the openai format: 'math.factorial' and 'math_factorial' all"
        " become 'math_factorial'. Rename one (tool.with_options(name=...) or"
        " add(..., prefix_name=...))."
    )
    assert registry.get("math_factorial") is registry["math_factorial"]  # exact name wins
    registry.remove("math_factorial")
    assert len(registry.definitions("openai")) == 1  # maps rebuilt after a change


def test_definitions(registry: Registry) -> None:
    openai = registry.definitions("openai")
    assert [d["function"]["name"] for d in openai] == ["get_weather", "search"]
    assert registry.definitions("anthropic")[1] == registry["search"].definition("anthropic")
    strict = registry.definitions("openai", strict=True)
    assert all(d["function"]["strict"] for d in strict)


# -- results ---------------------------------------------------------------------------------------


class Forecast(BaseModel):
    city: str
    when: datetime.date


@dataclass
class Point:
    x: int
    y: int


def test_values_are_serialised() -> None:
    def model() -> Forecast:
        return Forecast(city="Oslo", when=datetime.date(2025, 1, 2))

    def point() -> Point:
        return Point(1, 2)

    def mapping() -> dict[str, Any]:
        return {"at": datetime.datetime(2025, 1, 2, 3, 4, 5), "n": [1, 2]}

    def nothing() -> None:
        return None

    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    def other() -> object:
        return [Opaque()]

    def shout(text: str) -> str:
        return text

    shouted = tool(shout, serializer=lambda value: str(value).upper())
    registry = Registry([model, point, mapping, nothing, other, shouted])
    assert (
        one(registry, "model").content
        == Forecast(city="Oslo", when=datetime.date(2025, 1, 2)).model_dump_json()
    )
    assert one(registry, "model").value == Forecast(city="Oslo", when=datetime.date(2025, 1, 2))
    assert one(registry, "point").content == '{"x":1,"y":2}'
    assert one(registry, "mapping").content == '{"at":"2025-01-02T03:04:05","n":[1,2]}'
    assert one(registry, "nothing").content == "null"
    assert one(registry, "other").content == '["opaque"]'  # unknown types: str()
    assert one(registry, "shout", {"text": "hi"}).content == "HI"


def test_unserialisable_value_is_an_error() -> None:
    def broken() -> str:
        return "ok"

    def explode(value: object) -> str:
        raise ZeroDivisionError("division by zero")

    registry = Registry([tool(broken, serializer=explode)])
    result = one(registry, "broken")
    assert result.is_error
    assert result.error is not None
    assert result.error.kind == "exception"
    assert result.content == (
        "Tool broken returned a value that cannot be sent: ZeroDivisionError: division by zero"
    )


def test_long_content_is_truncated() -> None:
    def long(size: int) -> str:
        return "x" * size

    registry = Registry([long], max_content_chars=10)
    assert one(registry, "long", {"size": 10}).content == "x" * 10
    result = one(registry, "long", {"size": 123456})
    assert result.content == "x" * 10 + "...\n[truncated: 123456 characters, showing the first 10]"
    assert result.value == "x" * 123456


def test_result_fields(registry: Registry) -> None:
    [result] = registry.execute([call("get_weather", '{"city": "Paris"}', id="abc")])
    assert result.call_id == "abc"
    assert result.name == "get_weather"
    assert result.value == result.content == "Sunny in Paris, 21 degrees celsius"
    assert not result.is_error
    assert result.error is None
    assert result.duration > 0


# -- error contents, exactly as the model reads them -----------------------------------------------


def test_unknown_tool(registry: Registry) -> None:
    result = one(registry, "get_wether")
    assert result.content == (
        "Unknown tool 'get_wether'. Did you mean 'get_weather'? Available tools: get_weather,"
        " search."
    )
    assert result.error is not None
    assert result.error.kind == "unknown_tool"
    assert (
        one(registry, "zzz").content == "Unknown tool 'zzz'. Available tools: get_weather, search."
    )
    assert one(Registry(), "zzz").content == "Unknown tool 'zzz'. No tools are available."


def test_malformed_json(registry: Registry) -> None:
    result = one(registry, "get_weather", '{"city": "Par')
    assert result.error is not None
    assert result.error.kind == "invalid_json"
    assert result.content == (
        "The arguments for get_weather are not valid JSON: EOF while parsing a string at line 1"
        ' column 13.\nReceived (13 characters): {"city": "Par\nSend the arguments as one JSON'
        " object and call get_weather again."
    )
    long = '{"city": "' + "a" * 300
    content = one(registry, "get_weather", long).content
    assert f"Received (310 characters): {long[:200]}...\n" in content
    second_line = one(registry, "get_weather", '{\n  "city": }').content.splitlines()[0]
    assert second_line.endswith("at line 2 column 11.")


def test_invalid_arguments(registry: Registry) -> None:
    result = one(registry, "get_weather", '{"unit": "kelvin", "extra": 1}')
    assert result.content == (
        "Invalid arguments for get_weather:\n"
        "- city: Missing required argument\n"
        "- unit: Input should be 'celsius' or 'fahrenheit' (got 'kelvin')\n"
        "- extra: Extra inputs are not permitted (got 1)\n"
        "Fix the arguments and call get_weather again."
    )
    assert result.error is not None
    assert result.error.kind == "invalid_arguments"
    assert [p.location for p in result.error.problems] == [("city",), ("unit",), ("extra",)]
    assert [p.input for p in result.error.problems] == [None, "kelvin", 1]


class Address(BaseModel):
    zip: int


def test_invalid_nested_arguments() -> None:
    def ship(address: Address, tags: list[int]) -> str:
        return "ok"

    registry = Registry([ship])
    assert one(registry, "ship", {"address": {"zip": "x"}, "tags": [1, "a"]}).content == (
        "Invalid arguments for ship:\n"
        "- address.zip: Input should be a valid integer, unable to parse string as an integer"
        " (got 'x')\n"
        "- tags[1]: Input should be a valid integer, unable to parse string as an integer"
        " (got 'a')\n"
        "Fix the arguments and call ship again."
    )
    assert one(registry, "ship", "3").content == (
        "Invalid arguments for ship:\n"
        "- arguments: Input should be a JSON object (got 3)\n"
        "Fix the arguments and call ship again."
    )
    not_a_mapping = one(registry, "ship", 42)
    assert (
        not_a_mapping.content.splitlines()[1]
        == "- arguments: Input should be a JSON object (got 42)"
    )


def test_missing_or_empty_arguments_mean_none() -> None:
    def ping() -> str:
        return "pong"

    registry = Registry([ping])
    empty: list[Any] = [None, "", "  ", {}, "{}"]
    for arguments in empty:
        assert one(registry, "ping", arguments).content == "pong"


def test_tool_exceptions(registry: Registry) -> None:
    failed = one(registry, "get_weather", {"city": "Atlantis"})
    assert failed.content == "Tool get_weather failed: ValueError: city not found"
    assert failed.error is not None
    assert failed.error.kind == "exception"
    assert isinstance(failed.error.exception, ValueError)
    refused = one(registry, "get_weather", {"city": "Nowhere"})
    assert refused.content == "No forecast for Nowhere; try a real city."
    assert refused.error is not None
    assert refused.error.kind == "tool_error"

    def bare() -> None:
        raise KeyError

    assert one(Registry([bare]), "bare").content == "Tool bare failed: KeyError"
    traced = one(
        Registry([get_weather], include_tracebacks=True), "get_weather", {"city": "Atlantis"}
    )
    assert traced.content.startswith(
        "Tool get_weather failed: ValueError: city not found\nTraceback"
    )
    assert 'raise ValueError("city not found")' in traced.content


def test_strict_validation() -> None:
    def double(n: int, when: datetime.date) -> str:
        return f"{n * 2} {when}"

    lax = Registry([double])
    strict = Registry([double], strict_validation=True)
    arguments = {"n": "3", "when": "2025-01-02"}
    assert one(lax, "double", arguments).content == "6 2025-01-02"
    assert one(strict, "double", arguments).content.splitlines()[1] == (
        "- n: Input should be a valid integer (got '3')"
    )
    assert one(strict, "double", '{"n": 3, "when": "2025-01-02"}').content == "6 2025-01-02"
    assert one(strict, "double", {"n": 3, "when": "2025-01-02"}).content == "6 2025-01-02"


# -- context ---------------------------------------------------------------------------------------


def test_context_is_injected() -> None:
    @tool
    def whoami(ctx: Context[str], greeting: str = "hi") -> str:
        """Who is calling."""
        return f"{greeting} {ctx.deps} from {ctx.tool_name}/{ctx.call_id}"

    registry = Registry([whoami])
    [result] = registry.execute([call("whoami", {}, id="x1")], context="ada")
    assert result.content == "hi ada from whoami/x1"
    template = Context(deps="bob", tool_name="ignored", call_id="ignored")
    [result] = registry.execute([call("whoami", {}, id="x2")], context=template)
    assert result.content == "hi bob from whoami/x2"
    [result] = run(registry.execute_async([call("whoami", {}, id="x3")], context="eve"))
    assert result.content == "hi eve from whoami/x3"


# -- running calls ---------------------------------------------------------------------------------


def test_results_keep_call_order_and_siblings(registry: Registry) -> None:
    calls = [
        call("search", {"query": "a"}, id="1"),
        call("nope", {}, id="2"),
        call("get_weather", "{", id="3"),
        call("get_weather", {"city": "Atlantis"}, id="4"),
        call("get_weather", {"city": "Rome"}, id="5"),
        call("search", {"query": "a"}, id="1"),  # a duplicate id is answered twice
    ]
    for results in (registry.execute(calls), run(registry.execute_async(calls))):
        assert [r.call_id for r in results] == ["1", "2", "3", "4", "5", "1"]
        assert [r.error.kind if r.error else None for r in results] == [
            None,
            "unknown_tool",
            "invalid_json",
            "exception",
            None,
            None,
        ]
    assert registry.execute([]) == []
    assert run(registry.execute_async(iter([]))) == []


def test_single_sync_call_runs_inline() -> None:
    def thread() -> int:
        return threading.get_ident()

    registry = Registry([thread])
    assert one(registry, "thread").value == threading.get_ident()
    pair = registry.execute([call("thread", id="1"), call("thread", id="2")])
    assert all(r.value != threading.get_ident() for r in pair)
    [in_loop] = run(registry.execute_async([call("thread")]))
    assert in_loop.value != threading.get_ident()  # async mode never blocks the loop


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def anap(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


def test_calls_of_one_reply_run_at_the_same_time() -> None:
    # Proved by rendezvous, not by a stopwatch: every call waits until all of them have
    # started, which only succeeds if they all run at once (the speed is in the benchmark).
    parties = 40
    barrier = threading.Barrier(parties, timeout=10)

    @tool
    def meet(i: int) -> int:
        """Wait for the others."""
        barrier.wait()
        return i

    arrived: list[int] = []

    @tool
    async def ameet(i: int) -> int:
        """Wait for the others (async)."""
        arrived.append(i)
        for _ in range(10_000):  # gives up after ~10 s rather than hanging the suite
            if len(arrived) >= parties:
                return i
            await asyncio.sleep(0.001)
        return -1

    registry = Registry([meet, ameet])
    sync_calls = [call("meet", {"i": i}, id=str(i)) for i in range(parties)]
    results = registry.execute(sync_calls)
    assert [r.value for r in results] == list(range(parties))
    barrier.reset()
    results = run(registry.execute_async(sync_calls))
    assert [r.value for r in results] == list(range(parties))

    async_calls = [call("ameet", {"i": i}, id=str(i)) for i in range(parties)]
    assert [r.value for r in run(registry.execute_async(async_calls))] == list(range(parties))
    arrived.clear()
    assert [r.value for r in registry.execute(async_calls)] == list(range(parties))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_max_concurrency(mode: str) -> None:
    running: list[int] = [0, 0]  # now, peak
    lock = threading.Lock()

    def busy() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.005)
        with lock:
            running[0] -= 1

    async def abusy() -> None:
        running[0] += 1
        running[1] = max(running)
        await asyncio.sleep(0.005)
        running[0] -= 1

    registry = Registry([busy, abusy], max_concurrency=3)
    calls = [call("busy" if i % 2 else "abusy", id=str(i)) for i in range(12)]
    results = registry.execute(calls) if mode == "sync" else run(registry.execute_async(calls))
    assert not any(r.is_error for r in results)
    assert running[1] == 3


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sequential_tools_run_alone_and_in_order(mode: str) -> None:
    events: list[str] = []

    def parallel(n: int) -> int:
        events.append(f"start {n}")
        time.sleep(0.01)
        events.append(f"end {n}")
        return n

    @tool(sequential=True)
    async def alone(n: int) -> int:
        """Must not overlap anything."""
        events.append(f"start {n}")
        await asyncio.sleep(0.001)
        events.append(f"end {n}")
        return n

    registry = Registry([parallel, alone])
    calls = [
        call("parallel", {"n": 1}, id="1"),
        call("parallel", {"n": 2}, id="2"),
        call("alone", {"n": 3}, id="3"),
        call("alone", {"n": 4}, id="4"),
        call("parallel", {"n": 5}, id="5"),
    ]
    results = registry.execute(calls) if mode == "sync" else run(registry.execute_async(calls))
    assert [r.value for r in results] == [1, 2, 3, 4, 5]
    assert sorted(events[:4]) == ["end 1", "end 2", "start 1", "start 2"]
    assert events[4:] == ["start 3", "end 3", "start 4", "end 4", "start 5", "end 5"]


def test_process_pool_executor() -> None:
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        registry = Registry([_process_tools.square, _process_tools.worker_pid], executor=pool)
        results = registry.execute(
            [call("square", {"value": "7"}, id="1"), call("worker_pid", id="2")]
        )
        assert results[0].content == "49"  # validated ("7" -> 7) in the parent
        assert results[1].value != threading.get_native_id()
        [alone] = registry.execute([call("square", {"value": 3})])
        assert alone.value == 9  # a lone call goes to the executor too
        [in_loop] = run(registry.execute_async([call("square", {"value": 4})]))
        assert in_loop.value == 16


def test_timeouts() -> None:
    slow = tool(nap, name="slow", timeout=0.05)
    aslow = tool(anap, name="aslow", timeout=0.05)
    registry = Registry([slow, aslow, nap])
    calls = [
        call("slow", {"seconds": 1}, id="1"),
        call("aslow", {"seconds": 1}, id="2"),
        call("slow", {"seconds": 0}, id="3"),
    ]
    for mode in ("sync", "async"):
        started = time.perf_counter()
        results = registry.execute(calls) if mode == "sync" else run(registry.execute_async(calls))
        assert time.perf_counter() - started < 0.5
        assert [r.error.kind if r.error else None for r in results] == ["timeout", "timeout", None]
        assert results[0].content == "Tool slow did not finish within 0.05 s."
        assert results[1].content == "Tool aslow did not finish within 0.05 s."
    [alone] = registry.execute([call("slow", {"seconds": 1})])  # not inline: it has a timeout
    assert alone.content == "Tool slow did not finish within 0.05 s."
    default = Registry([nap], timeout=2)
    [quick] = default.execute([call("nap", {"seconds": 0})])
    assert not quick.is_error
    [late] = Registry([nap], timeout=0.01).execute([call("nap", {"seconds": 0.5})])
    assert late.content == "Tool nap did not finish within 0.01 s."


def test_cancelling_execute_async() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    async def wait(n: int) -> None:
        started.append(n)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise

    registry = Registry([wait], max_concurrency=2)

    async def main() -> None:
        task = asyncio.ensure_future(
            registry.execute_async([call("wait", {"n": n}, id=str(n)) for n in range(4)])
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main())
    assert started == [0, 1]  # the two waiting behind max_concurrency never started
    assert sorted(cancelled) == [0, 1]


def test_a_tool_cancelling_itself() -> None:
    async def quits() -> None:
        raise asyncio.CancelledError

    def fine() -> str:
        return "fine"

    registry = Registry([quits, fine])
    results = run(registry.execute_async([call("quits", id="1"), call("fine", id="2")]))
    assert results[0].content == "Tool quits was cancelled."
    assert results[0].error is not None
    assert results[0].error.kind == "cancelled"
    assert results[1].content == "fine"


def test_execute_from_an_async_tool_on_the_background_loop() -> None:
    registry = Registry([search])

    async def nested() -> int:
        return len(
            registry.execute([call("search", {"query": "a"}), call("search", {"query": "b"})])
        )

    registry.add(nested)
    [result] = registry.execute([call("nested")])
    assert result.content.startswith("Tool nested failed: RuntimeError: Registry.execute()")


# -- hooks -----------------------------------------------------------------------------------------


def hooks_registry(
    before: Callable[..., Any] | None = None, after: Callable[..., Any] | None = None
) -> Registry:
    return Registry([get_weather, search], before_call=before, after_call=after)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_before_call(mode: str, flavour: str) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []

    def decide(c: ToolCall, t: Tool[..., Any], arguments: dict[str, Any]) -> Any:
        seen.append((c.id, t.name, arguments))
        if arguments.get("city") == "Mordor":
            return Veto("One does not simply check the weather in Mordor.")
        if arguments.get("city") == "paris":
            return {**arguments, "city": "Paris"}
        if arguments.get("query") == "rewrite-badly":
            return {"query": 3}
        return None

    async def adecide(c: ToolCall, t: Tool[..., Any], arguments: dict[str, Any]) -> Any:
        await asyncio.sleep(0)
        return decide(c, t, arguments)

    registry = hooks_registry(before=decide if flavour == "sync" else adecide)
    calls = [
        call("get_weather", '{"city": "Mordor"}', id="1"),
        call("get_weather", {"city": "paris"}, id="2"),
        call("search", {"query": "rewrite-badly"}, id="3"),
        call("get_weather", {}, id="4"),  # invalid: the hook never sees it
        call("nope", {}, id="5"),
    ]
    results = registry.execute(calls) if mode == "sync" else run(registry.execute_async(calls))
    assert [s[0] for s in seen] == ["1", "2", "3"]
    assert seen[0] == ("1", "get_weather", {"city": "Mordor"})
    assert results[0].content == "One does not simply check the weather in Mordor."
    assert results[0].error is not None
    assert results[0].error.kind == "vetoed"
    assert results[1].content == "Sunny in Paris, 21 degrees celsius"
    assert results[2].content.startswith("Invalid arguments for search:\n- query:")
    assert [r.error.kind if r.error else None for r in results[3:]] == [
        "invalid_arguments",
        "unknown_tool",
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_after_call(mode: str, flavour: str) -> None:
    def replace(c: ToolCall, result: ToolResult) -> ToolResult | None:
        if result.is_error:
            return ToolResult(
                call_id=c.id, name=c.name, value=None, content="hidden", is_error=True
            )
        return None

    async def areplace(c: ToolCall, result: ToolResult) -> ToolResult | None:
        return replace(c, result)

    registry = hooks_registry(after=replace if flavour == "sync" else areplace)
    calls = [call("search", {"query": "q"}, id="1"), call("nope", id="2")]
    results = registry.execute(calls) if mode == "sync" else run(registry.execute_async(calls))
    assert [r.content for r in results] == ['["q"]', "hidden"]


def test_hooks_returning_nonsense_are_programming_errors() -> None:
    with pytest.raises(TypeError, match="before_call must return None, a Veto or a dict"):
        hooks_registry(before=lambda *_: "yes").execute([call("search", {"query": "q"})])
    with pytest.raises(TypeError, match="after_call must return a ToolResult or None"):
        hooks_registry(after=lambda *_: "no").execute([call("search", {"query": "q"})])


def test_registry_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        Registry(max_concurrency=0)
    with pytest.raises(ValueError, match="max_content_chars"):
        Registry(max_content_chars=0)


# -- codecs ----------------------------------------------------------------------------------------


def test_parse_calls_and_result_messages(registry: Registry) -> None:
    reply = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            }
        ],
    }
    calls = registry.parse_calls(reply, "openai")
    assert calls == [call("get_weather", '{"city": "Oslo"}', id="call_1")]
    messages = registry.result_messages(registry.execute(calls), "openai")
    assert messages == [
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny in Oslo, 21 degrees celsius"}
    ]
    blocks = [{"type": "tool_use", "id": "tu_1", "name": "search", "input": {"query": "x"}}]
    results = registry.execute(registry.parse_calls(blocks, "anthropic"))
    assert registry.result_messages(results, "anthropic") == [
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "tu_1", "content": '["x"]'}],
        }
    ]


@pytest.mark.parametrize("arguments", ['["Paris"]', ' \n["Paris", "celsius"]', ["Paris"]])
def test_json_arrays_are_not_taken_as_positional_arguments(
    registry: Registry, arguments: str | list[str]
) -> None:
    result = one(registry, "get_weather", arguments)
    assert result.is_error
    assert result.error is not None
    assert result.error.kind == "invalid_arguments"
    assert result.content.startswith(
        "Invalid arguments for get_weather:\n- arguments: Input should be a"
    )


# -- the caller's context variables reach every tool --------------------------------------------

_REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


@tool
def sync_reads_context() -> str:
    """Read the request id."""
    return _REQUEST_ID.get()


@tool(timeout=5)
def sync_in_pool_reads_context() -> str:
    """Read the request id, in a worker thread (a timeout needs one)."""
    return _REQUEST_ID.get()


@tool
async def async_reads_context() -> str:
    """Read the request id, as a task."""
    return _REQUEST_ID.get()


_CONTEXT_CALLS = [
    ToolCall(id="1", name="sync_reads_context", arguments={}),
    ToolCall(id="2", name="sync_in_pool_reads_context", arguments={}),
    ToolCall(id="3", name="async_reads_context", arguments={}),
]


def test_tools_see_the_callers_context_variables_in_threads_and_tasks() -> None:
    registry = Registry([sync_reads_context, sync_in_pool_reads_context, async_reads_context])
    token = _REQUEST_ID.set("req-sync")
    try:
        assert [r.content for r in registry.execute(_CONTEXT_CALLS)] == ["req-sync"] * 3
        assert [r.content for r in registry.execute(_CONTEXT_CALLS[1:2])] == ["req-sync"]
    finally:
        _REQUEST_ID.reset(token)

    async def main() -> list[str]:
        _REQUEST_ID.set("req-async")
        return [r.content for r in await registry.execute_async(_CONTEXT_CALLS)]

    assert asyncio.run(main()) == ["req-async"] * 3


def test_a_runner_keeps_the_callers_context_for_its_tools() -> None:
    model = ScriptedModel([[reply_call("sync_in_pool_reads_context")], "done"])
    runner = Runner(model, tools=[sync_in_pool_reads_context])
    token = _REQUEST_ID.set("req-run")
    try:
        assert runner.run("go").tool_results[0].content == "req-run"
    finally:
        _REQUEST_ID.reset(token)
