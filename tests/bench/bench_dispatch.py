"""Dispatch benchmarks: the cost of running a model's tool calls, toolkit against the peers.

Run ``nox -s bench`` (which installs the peers) or, in an environment that has them,
``python tests/bench/bench_dispatch.py [--quick] [--sections single,parallel,errors]
[--profile]``.

Sections:

single    Warm µs per call of one call's whole path, JSON arguments string in, result out,
          for a trivial tool (``add(a, b)``) and a tool taking nested models, against the
          floor ``pydantic.TypeAdapter(fn).validate_json(s)`` (a TypeAdapter of a function
          validates the arguments *and calls* the function) and against no validation at all
          (``fn(**json.loads(s))``). Every library goes through its own public call path.
parallel  Wall time of 100 calls of a tool sleeping 10 ms, sync and async, through
          ``Registry.execute`` and ``Registry.execute_async`` with default settings.
errors    µs per error result for 100 calls with bad arguments (or an unknown name) in one
          ``execute``: error paths must not be pathological.

Async call paths (the peers' and ``execute_async``) run on one persistent event loop with
``loop.run_until_complete``; what that costs by itself (an empty coroutine) is measured as
its own row and subtracted ("net"). The per-call envelope a framework builds before calling
the tool (toolkit's ``ToolCall``, openai-agents' ``ToolContext``) is made off the clock, as
the codec or runner would have made it already. Targets are printed with PASS/MISS for
information; the script always exits 0.
"""

# No `from __future__ import annotations`: the tool functions below carry evaluated
# annotations, as most tool code does (see bench_build.py).

import argparse
import asyncio
import cProfile
import importlib.util
import json
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from _harness import (
    Budget,
    Column,
    Samples,
    Table,
    fmt_ratio,
    fmt_us,
    heading,
    load_note,
    parse_args,
    sample,
    sample_round_robin,
    verdict,
    version_of,
)
from bench_build import Customer, LineItem
from pydantic import TypeAdapter
from pydantic_core import to_json

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("toolkit") is None:
    sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e .`

from toolkit import Registry, ToolCall, ToolResult, tool  # noqa: E402

# Targets (informational: printed with PASS/MISS, never an exit status).
DISPATCH_RATIO_TARGET = 2.0  # toolkit registry single dispatch / floor
ASYNC_WALL_MS_TARGET = 12.0  # 100 async 10 ms calls through execute_async
SYNC_WALL_MS_TARGET = 40.0  # 100 sync 10 ms calls through execute
PARALLEL_CALLS = 100
SLEEP_S = 0.01
SAMPLE_US = 200.0  # single section: a timed sample runs back-to-back calls for about this long
MAX_BATCH = 100


# =========================================================================== tool functions


def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: The first addend.
        b: The second addend.
    """
    return a + b


def place_order(customer: Customer, items: list[LineItem], coupon: str | None = None) -> str:
    """Place an order for a customer.

    Args:
        customer: Who the order is for, with their delivery addresses.
        items: The products to ship.
        coupon: A discount code.
    """
    # Only what a dict and a model share, so the unvalidated row can call it too.
    return f"order accepted: {len(items)} items"


ORDER_ARGUMENTS = json.dumps(
    {
        "customer": {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "addresses": [{"street": "12 Rue de Rivoli", "city": "Paris", "postcode": "75001"}],
        },
        "items": [{"sku": "BK-042", "quantity": 2, "tags": ["gift", "fragile"]}, {"sku": "PEN-7"}],
        "coupon": "WELCOME10",
    }
)


@dataclass(frozen=True)
class Case:
    """One tool under test: the function, the arguments string, and text its result shows."""

    label: str
    fn: Callable[..., Any]
    arguments: str
    expected: str


CASES: tuple[Case, ...] = (
    Case("trivial: add(a: int, b: int) -> int", add, '{"a": 1, "b": 2}', "3"),
    Case(
        "nested models: place_order(customer: Customer, items: list[LineItem], coupon)",
        place_order,
        ORDER_ARGUMENTS,
        "order accepted: 2 items",
    ),
)


async def _nothing() -> None:
    return None


def _nothing_for(_: object) -> Coroutine[Any, Any, None]:
    return _nothing()


# =========================================================================== call paths


@dataclass(frozen=True)
class CallPath:
    """How one library runs a call: ``prepare(s)`` off the clock, then ``run(prepared)``.

    ``run`` returns a coroutine when ``is_async``; it is then driven by the shared loop.
    """

    key: str
    label: str
    distribution: str
    uses: str
    load: Callable[[Case], tuple[Callable[[str], Any] | None, Callable[[Any], Any]]]
    is_async: bool = False
    is_floor: bool = False
    thread_hop: bool = False  # the library runs a sync tool in a worker thread


def _load_bare(case: Case) -> tuple[None, Callable[[str], Any]]:
    fn, loads = case.fn, json.loads
    return None, lambda s: fn(**loads(s))


def _load_floor(case: Case) -> tuple[None, Callable[[str], Any]]:
    return None, TypeAdapter(cast(Any, case.fn)).validate_json


def _load_floor_json(case: Case) -> tuple[None, Callable[[str], Any]]:
    validate = TypeAdapter(cast(Any, case.fn)).validate_json
    return None, lambda s: to_json(validate(s))


def _load_toolkit_execute(case: Case) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    registry = Registry([case.fn])
    name = case.fn.__name__
    return (
        lambda s: ToolCall(id="1", name=name, arguments=s),
        lambda call: registry.execute([call]),
    )


def _load_toolkit_call(case: Case) -> tuple[None, Callable[[str], Any]]:
    return None, tool(case.fn).call


def _load_toolkit_execute_async(case: Case) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    registry = Registry([case.fn])
    name = case.fn.__name__
    return (
        lambda s: ToolCall(id="1", name=name, arguments=s),
        lambda call: registry.execute_async([call]),
    )


def _load_openai_agents(case: Case) -> tuple[Callable[[str], Any], Callable[[Any], Any]]:
    from agents import function_tool
    from agents.tool_context import ToolContext

    made = function_tool(case.fn)
    invoke = made.on_invoke_tool
    name = made.name

    def prepare(s: str) -> tuple[Any, str]:
        return ToolContext(context=None, tool_name=name, tool_call_id="1", tool_arguments=s), s

    return prepare, lambda prepared: invoke(*prepared)


def _load_pydantic_ai(case: Case) -> tuple[None, Callable[[str], Any]]:
    from pydantic_ai import Tool

    schema = Tool(case.fn).function_schema
    validate, call = schema.validator.validate_json, schema.call
    # ``call`` reads the RunContext only for tools that take one.
    return None, lambda s: call(validate(s), cast(Any, None))


def _load_langchain(case: Case) -> tuple[None, Callable[[str], Any]]:
    from langchain_core.tools import tool as lc_tool

    invoke, loads = lc_tool(case.fn).invoke, json.loads
    return None, lambda s: invoke(loads(s))


def _load_anthropic(case: Case) -> tuple[None, Callable[[str], Any]]:
    from anthropic import beta_tool

    call, loads = beta_tool(case.fn).call, json.loads
    return None, lambda s: call(loads(s))


def _load_fastmcp(case: Case) -> tuple[None, Callable[[str], Any]]:
    from fastmcp.tools import Tool

    run, loads = Tool.from_function(case.fn).run, json.loads
    return None, lambda s: run(loads(s))


PATHS: tuple[CallPath, ...] = (
    CallPath("bare", "no validation", "", "fn(**json.loads(s))", _load_bare),
    CallPath(
        "floor",
        "floor (pydantic)",
        "pydantic",
        "TypeAdapter(fn).validate_json(s): validates and calls",
        _load_floor,
        is_floor=True,
    ),
    CallPath(
        "floor-json",
        "floor + to_json",
        "pydantic",
        "to_json(TypeAdapter(fn).validate_json(s)): validates, calls, serialises the result",
        _load_floor_json,
    ),
    CallPath(
        "toolkit",
        "toolkit registry.execute",
        "toolkit-llm",
        "registry.execute([call]) -> [ToolResult]",
        _load_toolkit_execute,
    ),
    CallPath(
        "toolkit-call", "toolkit tool.call", "toolkit-llm", "tool(fn).call(s)", _load_toolkit_call
    ),
    CallPath(
        "toolkit-async",
        "toolkit execute_async",
        "toolkit-llm",
        "await registry.execute_async([call]) (sync tool in the thread pool)",
        _load_toolkit_execute_async,
        is_async=True,
        thread_hop=True,
    ),
    CallPath(
        "openai-agents",
        "openai-agents",
        "openai-agents",
        "await function_tool(fn).on_invoke_tool(ToolContext(...), s)",
        _load_openai_agents,
        is_async=True,
        thread_hop=True,
    ),
    CallPath(
        "pydantic-ai",
        "pydantic-ai",
        "pydantic-ai-slim",
        "fs = Tool(fn).function_schema; await fs.call(fs.validator.validate_json(s), ctx)",
        _load_pydantic_ai,
        is_async=True,
        thread_hop=True,
    ),
    CallPath(
        "langchain-core",
        "langchain-core",
        "langchain-core",
        "tool(fn).invoke(json.loads(s))",
        _load_langchain,
    ),
    CallPath(
        "anthropic",
        "anthropic beta_tool",
        "anthropic",
        "beta_tool(fn).call(json.loads(s))",
        _load_anthropic,
    ),
    CallPath(
        "fastmcp",
        "fastmcp",
        "fastmcp",
        "await Tool.from_function(fn).run(json.loads(s))",
        _load_fastmcp,
        is_async=True,
    ),
)


def _short_error(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shows(value: Any, expected: str) -> bool:
    """Whether a path's result carries the tool's answer (and is not an error result)."""
    if isinstance(value, list) and value and isinstance(value[0], ToolResult):
        first = cast(ToolResult, value[0])
        return not first.is_error and first.content == expected
    return expected in str(value)


@dataclass
class Runnable:
    """A call path made ready for one case, or why it could not be.

    ``prepare`` (off the clock) turns the arguments string into ``step``'s input.
    """

    path: CallPath
    prepare: Callable[[str], Any] | None = None
    step: Callable[[Any], Any] | None = None
    problem: str | None = None
    batch: int = 1  # back-to-back calls per timed sample

    def chain(self) -> list[Callable[[Any], Any]]:
        """Two steps: make ``batch`` inputs (untimed), then run ``step`` on each (timed)."""
        prepare, step, batch = self.prepare, self.step, self.batch
        assert step is not None

        def inputs(s: str) -> list[Any]:
            return [s if prepare is None else prepare(s) for _ in range(batch)]

        def run(items: list[Any]) -> Any:
            last = None
            for item in items:
                last = step(item)
            return last

        return [inputs, run]


def make_runnable(path: CallPath, case: Case, loop: asyncio.AbstractEventLoop) -> Runnable:
    try:
        prepare, run = path.load(case)
    except ImportError as exc:
        return Runnable(path, problem=f"not installed ({_short_error(exc)})")
    except Exception as exc:
        return Runnable(path, problem=f"cannot build: {_short_error(exc)}")
    step = _driven(run, loop) if path.is_async else run
    try:
        value = step(case.arguments if prepare is None else prepare(case.arguments))
    except Exception as exc:
        return Runnable(path, problem=f"call failed: {_short_error(exc)}")
    if not _shows(value, case.expected):
        return Runnable(path, problem=f"unexpected result: {str(value)[:120]!r}")
    return _calibrated(Runnable(path, prepare, step), case.arguments)


def _driven(run: Callable[[Any], Any], loop: asyncio.AbstractEventLoop) -> Callable[[Any], Any]:
    """``run`` (which returns a coroutine) made sync by driving it on ``loop``."""
    coroutine = cast(Callable[[Any], Coroutine[Any, Any, Any]], run)
    drive = loop.run_until_complete

    def step(prepared: Any) -> Any:
        return drive(coroutine(prepared))

    return step


def _calibrated(runnable: Runnable, arguments: str) -> Runnable:
    """Pick the batch size that makes one timed sample last about ``SAMPLE_US``."""
    prepare, step = runnable.prepare, runnable.step
    assert step is not None
    fastest = float("inf")
    for _ in range(20):
        item = arguments if prepare is None else prepare(arguments)
        start = time.perf_counter_ns()
        step(item)
        fastest = min(fastest, (time.perf_counter_ns() - start) / 1000)
    runnable.batch = max(1, min(MAX_BATCH, round(SAMPLE_US / max(fastest, 0.01))))
    return runnable


# =========================================================================== single section


@dataclass
class SingleResult:
    case: Case
    runnables: list[Runnable]
    per_call: dict[str, Samples]  # per-call ns: each sample is a batch's time / its size
    loop_us: float


def _per_call(batch: Samples, size: int) -> Samples:
    return Samples(tuple(ns // size for ns in batch.ns))


def measure_single(
    case: Case, paths: Sequence[CallPath], budget: Budget, loop: asyncio.AbstractEventLoop
) -> SingleResult:
    runnables = [make_runnable(path, case, loop) for path in paths]
    ready = [r for r in runnables if r.step is not None]
    baseline = _calibrated(
        Runnable(CallPath("loop", "", "", "", _load_bare), step=_driven(_nothing_for, loop)),
        case.arguments,
    )
    timed = sample_round_robin(
        [r.chain() for r in [*ready, baseline]],
        lambda: case.arguments,
        repeats=budget.repeats,
        warmup=budget.warmup,
    )
    per_call = {
        r.path.key: _per_call(steps[-1], r.batch) for r, steps in zip(ready, timed, strict=False)
    }
    loop_us = _per_call(timed[-1][-1], baseline.batch).median_us
    return SingleResult(case, runnables, per_call, loop_us)


def _net_us(result: SingleResult, path: CallPath) -> float | None:
    found = result.per_call.get(path.key)
    if found is None:
        return None
    return found.median_us - result.loop_us if path.is_async else found.median_us


def print_single_table(result: SingleResult, budget: Budget) -> None:
    floor = result.per_call.get("floor")
    floor_us = floor.median_us if floor else None
    table = Table(
        f"{result.case.label}, {len(result.case.arguments)}-byte arguments: "
        f"µs per call, median of {budget.repeats} samples",
        [
            Column("call path"),
            Column("µs/call", ">"),
            Column("calls/\nsample", ">"),
            Column("net µs", ">"),
            Column("x floor", ">"),
            Column("uses"),
        ],
    )
    for runnable in result.runnables:
        path = runnable.path
        if path.key in {"toolkit", "openai-agents"}:
            table.rule()
        found = result.per_call.get(path.key)
        if found is None:
            table.add(path.label, "n/a", "", "", "", runnable.problem or "")
            continue
        net = _net_us(result, path)
        ratio = None if net is None or not floor_us else net / floor_us
        uses = path.uses + (" [thread hop]" if path.thread_hop else "")
        table.add(
            path.label,
            fmt_us(found.median_us),
            runnable.batch,
            fmt_us(net) if path.is_async else "",
            fmt_ratio(ratio),
            uses,
        )
    table.rule()
    table.add(
        "event loop baseline",
        fmt_us(result.loop_us),
        "",
        "",
        "",
        "loop.run_until_complete(empty coroutine): subtracted from async rows (net)",
    )
    table.note(
        f"A sample times back-to-back calls (calls/sample, about {SAMPLE_US:g} µs) and divides;"
        " samples of all paths are interleaved."
    )
    table.note(
        "x floor compares net µs (async rows: minus the event loop baseline) with the floor."
    )
    table.note(
        "[thread hop]: the path runs the sync tool in a worker thread (asyncio.to_thread, "
        "anyio or toolkit's pool), as it would in an agent loop; the others call it inline."
    )
    table.print()


def single_targets(results: Sequence[SingleResult]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for result in results:
        name = result.case.fn.__name__
        floor = result.per_call.get("floor-json")
        mine = result.per_call.get("toolkit")
        target = f"registry.execute ({name}) within {DISPATCH_RATIO_TARGET:g}x floor + to_json"
        if floor is None or mine is None:
            rows.append((target, "not measured", verdict(None)))
            continue
        ratio = mine.median_us / floor.median_us
        rows.append(
            (
                target,
                f"{ratio:.2f}x ({mine.median_us:.1f} µs vs {floor.median_us:.1f} µs)",
                verdict(ratio <= DISPATCH_RATIO_TARGET),
            )
        )
    return rows


# =========================================================================== parallel section


@tool(name="nap")
def nap(n: int) -> int:
    """Sleep 10 ms, then return n."""
    time.sleep(SLEEP_S)
    return n


@tool(name="async_nap")
async def async_nap(n: int) -> int:
    """Sleep 10 ms without blocking the loop, then return n."""
    await asyncio.sleep(SLEEP_S)
    return n


def _calls(name: str, count: int) -> list[ToolCall]:
    return [ToolCall(id=str(i), name=name, arguments=f'{{"n": {i}}}') for i in range(count)]


def _check_all_ok(results: list[ToolResult], count: int) -> None:
    if len(results) != count or any(r.is_error for r in results):
        bad = next((r for r in results if r.is_error), None)
        raise RuntimeError(f"parallel run failed: {bad!r}")


def measure_parallel(
    budget: Budget, loop: asyncio.AbstractEventLoop
) -> list[tuple[str, str, Samples, float | None]]:
    registry = Registry([nap, async_nap])
    sync_calls = _calls("nap", PARALLEL_CALLS)
    async_calls = _calls("async_nap", PARALLEL_CALLS)
    runs = budget.scaled(10, 3)
    warmup = budget.scaled(2, 1)
    rows: list[tuple[str, str, Samples, float | None]] = []

    def run_sync(calls: list[ToolCall]) -> list[ToolResult]:
        return registry.execute(calls)

    def run_async(calls: list[ToolCall]) -> list[ToolResult]:
        return loop.run_until_complete(registry.execute_async(calls))

    for label, how, run, calls, target in (
        ("sync tool", "registry.execute(calls)", run_sync, sync_calls, SYNC_WALL_MS_TARGET),
        (
            "async tool",
            "await registry.execute_async(calls)",
            run_async,
            async_calls,
            ASYNC_WALL_MS_TARGET,
        ),
        ("async tool", "registry.execute(calls) (background loop)", run_sync, async_calls, None),
        ("sync tool", "await registry.execute_async(calls)", run_async, sync_calls, None),
    ):
        _check_all_ok(run(calls), PARALLEL_CALLS)
        found = sample(run, lambda calls=calls: calls, repeats=runs, warmup=warmup)
        rows.append((label, how, found, target))
    return rows


def print_parallel_table(rows: list[tuple[str, str, Samples, float | None]]) -> None:
    runs = len(rows[0][2].ns) if rows else 0
    table = Table(
        f"{PARALLEL_CALLS} calls of a tool sleeping {SLEEP_S * 1000:g} ms, default settings: "
        f"wall ms, median of {runs} runs",
        [
            Column("tool"),
            Column("through"),
            Column("ms", ">"),
            Column("min ms", ">"),
            Column("target", ">"),
            Column(""),
        ],
    )
    for label, how, found, target in rows:
        ms = found.median_us / 1000
        table.add(
            label,
            how,
            f"{ms:.1f}",
            f"{found.min_us / 1000:.1f}",
            "" if target is None else f"<= {target:g}",
            "" if target is None else verdict(ms <= target),
        )
    table.note(
        f"Run one after another, the calls would take {PARALLEL_CALLS * SLEEP_S * 1000:,.0f} ms."
        " Sync tools run in toolkit's shared pool, which starts a thread whenever none is idle."
    )
    table.print()


def parallel_targets(
    rows: list[tuple[str, str, Samples, float | None]],
) -> list[tuple[str, str, str]]:
    found: list[tuple[str, str, str]] = []
    for label, how, samples, target in rows:
        if target is None:
            continue
        ms = samples.median_us / 1000
        found.append(
            (
                f"{PARALLEL_CALLS} x {SLEEP_S * 1000:g} ms {label}, {how} <= {target:g} ms",
                f"{ms:.1f} ms",
                verdict(ms <= target),
            )
        )
    return found


# =========================================================================== errors section

BAD_ORDER_ARGUMENTS = (
    ORDER_ARGUMENTS.replace('"quantity": 2', '"quantity": "two"')
    .replace('"Ada Lovelace"', "null")
    .replace('"PEN-7"', "7")
)

ERROR_CASES: tuple[tuple[str, str, str], ...] = (
    ("wrong type", "add", '{"a": "one", "b": 2}'),
    ("missing argument", "add", '{"a": 1}'),
    ("broken JSON", "add", '{"a": 1, "b": '),
    ("nested model, 3 wrong fields", "place_order", BAD_ORDER_ARGUMENTS),
    ("unknown tool", "sub", '{"a": 1, "b": 2}'),
)


def measure_errors(budget: Budget) -> list[tuple[str, str, Samples | None, str]]:
    registry = Registry([add, place_order])
    repeats = budget.scaled(60, 5)
    warmup = budget.scaled(5, 1)
    rows: list[tuple[str, str, Samples | None, str]] = []
    for label, name, arguments in ERROR_CASES:
        calls = [ToolCall(id=str(i), name=name, arguments=arguments) for i in range(100)]
        first = registry.execute(calls)[0]
        if not first.is_error or first.error is None:
            rows.append((label, "", None, "no error result: the case is broken"))
            continue
        found = sample(registry.execute, lambda calls=calls: calls, repeats=repeats, warmup=warmup)
        rows.append((label, first.error.kind, found, first.content.splitlines()[0][:70]))
    good = _calls_add(100)
    found = sample(registry.execute, lambda: good, repeats=repeats, warmup=warmup)
    rows.append(("valid (contrast)", "ok", found, "100 valid calls: they run in the thread pool"))
    return rows


def _calls_add(count: int) -> list[ToolCall]:
    return [ToolCall(id=str(i), name="add", arguments='{"a": 1, "b": 2}') for i in range(count)]


def print_errors_table(
    rows: list[tuple[str, str, Samples | None, str]], single_us: float | None
) -> None:
    table = Table(
        "100 calls in one registry.execute: µs per result (median batch time / 100)",
        [
            Column("arguments"),
            Column("error kind"),
            Column("µs/result", ">"),
            Column("content (first line)"),
        ],
    )
    for label, kind, found, content in rows:
        table.add(label, kind, "n/a" if found is None else fmt_us(found.median_us / 100), content)
    if single_us is not None:
        table.note(
            f"For reference, one valid add call alone (inline, no thread pool): {single_us:.1f} µs."
        )
    table.print()


# =========================================================================== profile


def profile_execute(rounds: int, top: int = 20) -> None:
    """cProfile ``registry.execute`` of one trivial call; print the top entries per call."""
    registry = Registry([add])
    calls = [ToolCall(id="1", name="add", arguments='{"a": 1, "b": 2}') for _ in range(rounds)]
    execute = registry.execute
    for call in calls[:100]:  # warm
        execute([call])
    profiler = cProfile.Profile()
    profiler.enable()
    for call in calls:
        execute([call])
    profiler.disable()
    entries = cast(dict[tuple[str, int, str], tuple[Any, ...]], pstats.Stats(profiler).stats)
    for order, title in ((2, "own time"), (3, "cumulative time")):
        table = Table(
            f"cProfile of registry.execute([one add call]), {rounds:,} calls, by {title}: "
            "µs per dispatch (cProfile's overhead inflates every entry)",
            [
                Column("function"),
                Column("calls/\ndispatch", ">"),
                Column("own µs", ">"),
                Column("cumulative µs", ">"),
            ],
        )
        ranked = sorted(entries.items(), key=lambda item: item[1][order], reverse=True)
        for (filename, line, name), (_, calls_made, own, cumulative, _) in ranked[:top]:
            where = f"{Path(filename).name}:{line}({name})" if line else name
            table.add(
                where,
                f"{calls_made / rounds:g}",
                fmt_us(own / rounds * 1e6, 2),
                fmt_us(cumulative / rounds * 1e6, 2),
            )
        table.print()


# =========================================================================== main


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sections",
        default="single,parallel,errors",
        help="comma-separated sections to run (default: single,parallel,errors)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated libraries to measure in the single section (no validation and "
        "the floor always are): toolkit, "
        + ", ".join(p.key for p in PATHS if p.distribution not in ("", "pydantic", "toolkit-llm")),
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of registry.execute"
    )


def _chosen(only: set[str]) -> list[CallPath]:
    """The call paths ``--only`` keeps (``toolkit`` keeps every toolkit row)."""
    if not only:
        return list(PATHS)
    return [
        p
        for p in PATHS
        if p.key in ("bare", "floor", "floor-json")
        or p.key in only
        or p.key.partition("-")[0] in only
    ]


def print_targets(rows: Sequence[tuple[str, str, str]]) -> None:
    table = Table(
        "Targets (informational: the script exits 0 either way)",
        [Column("target"), Column("measured"), Column("")],
    )
    for row in rows:
        table.add(*row)
    table.print()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "", argv, _configure)
    budget = Budget.from_args(args, repeats=1000, warmup=100, quick_repeats=40, quick_warmup=5)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    paths = _chosen({s.strip() for s in args.only.split(",") if s.strip()})

    quick_note = " (--quick: a smoke run, the numbers are rough)" if budget.quick else ""
    print(f"toolkit dispatch benchmark{quick_note}")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"pydantic {version_of('pydantic')}, pydantic-core {version_of('pydantic-core')}"
    )
    print(f"At start: {load_note()}")
    versions = Table("Libraries", [Column("library"), Column("version")])
    seen: set[str] = set()
    for path in PATHS:
        if path.distribution and path.distribution not in seen:
            seen.add(path.distribution)
            versions.add(path.distribution, version_of(path.distribution))
    versions.print()

    loop = asyncio.new_event_loop()
    targets: list[tuple[str, str, str]] = []
    single_us: float | None = None
    try:
        if "single" in sections:
            heading("1. Single-call dispatch")
            results = [measure_single(case, paths, budget, loop) for case in CASES]
            for result in results:
                print_single_table(result, budget)
            targets += single_targets(results)
            found = results[0].per_call.get("toolkit")
            single_us = found.median_us if found else None
        if "parallel" in sections:
            heading("2. Parallel calls")
            rows = measure_parallel(budget, loop)
            print_parallel_table(rows)
            targets += parallel_targets(rows)
        if "errors" in sections:
            heading("3. Error results")
            print_errors_table(measure_errors(budget), single_us)
    finally:
        loop.close()
    if targets:
        print_targets(targets)
    print(f"\nAt end: {load_note()}")
    if args.profile:
        profile_execute(budget.scaled(20_000, 2_000))


if __name__ == "__main__":
    main()
