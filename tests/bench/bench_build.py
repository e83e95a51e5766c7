"""Build-time, memory and import benchmarks: toolkit against pydantic and the peer libraries.

Run ``nox -s bench`` (which installs the peers) or, in an environment that has them,
``python tests/bench/bench_build.py [--quick] [--sections build,memory,import]
[--only toolkit,fastmcp] [--profile]``.

Sections:

build   Warm time to turn one function into a tool and produce its JSON Schema, per
        library, against the floor ``pydantic.TypeAdapter(fn).json_schema()``.
memory  Memory kept alive per tool: 500 tools per library, each in a fresh subprocess,
        measured with tracemalloc (the Python heap) and as RSS growth (which also sees
        pydantic-core's Rust allocations and allocator overhead).
import  What ``import toolkit`` adds over ``import pydantic``, in fresh interpreters, and a
        check that it imports neither provider SDK.

Every build works on a fresh copy of the sample function (see :func:`fresh_copy`), so a
library that caches per function object (fastmcp keeps an ``lru_cache`` of TypeAdapters
keyed by the function) redoes its work each time, as it would for a new tool. Peers are
imported lazily: one that is missing shows as "not installed". The targets are printed
with PASS/MISS for information; the script always exits 0.

The sample functions (:data:`SAMPLE_FUNCTIONS`) and the library adapters
(:data:`LIBRARIES`) are importable by sibling benchmarks (``from bench_build import ...``).
"""

# No `from __future__ import annotations` here on purpose: the sample functions below carry
# evaluated annotations, as most tool code does. With string annotations every library
# (and the floor) would also pay for get_type_hints() evaluating them.

import argparse
import asyncio
import cProfile
import enum
import gc
import importlib.util
import inspect
import itertools
import json
import math
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from _harness import (
    Budget,
    Column,
    Table,
    fmt_bytes,
    fmt_kib,
    fmt_ratio,
    fmt_us,
    heading,
    load_note,
    parse_args,
    rss_bytes,
    sample_round_robin,
    verdict,
    version_of,
)
from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[2]

# Targets (informational: printed with PASS/MISS, never an exit status).
BUILD_RATIO_TARGET = 1.2  # toolkit build time / floor build time
IMPORT_MS_TARGET = 50.0  # what `import toolkit` may add over `import pydantic`
RETAINED_KIB_TARGET = 4.0  # Python heap kept alive per tool
PROVIDER_SDKS = ("openai", "anthropic")
SITES = 12  # allocation sites shown for toolkit's retained memory


# =========================================================================== sample functions


class Cabin(enum.Enum):
    """Seat class."""

    ECONOMY = "economy"
    PREMIUM = "premium"
    BUSINESS = "business"


class Address(BaseModel):
    street: str
    city: str
    postcode: str | None = None
    country: str = "FR"


class Customer(BaseModel):
    name: str
    email: str
    addresses: list[Address]


class LineItem(BaseModel):
    sku: str
    quantity: int = 1
    tags: list[str] = Field(default_factory=list)


def get_weather(city: str, days: int) -> str:
    """Get the weather forecast for a city.

    Args:
        city: City name, for example "Paris".
        days: How many days ahead to forecast.
    """
    return f"{city}: sunny for {days} days"


def search_flights(
    origin: str,
    destination: str,
    cabin: Cabin = Cabin.ECONOMY,
    sort: Literal["price", "duration", "departure"] = "price",
    max_stops: int | None = None,
) -> list[str]:
    """Search flights between two airports.

    Args:
        origin: IATA code of the departure airport.
        destination: IATA code of the arrival airport.
        cabin: Seat class to search in.
        sort: Order of the results.
        max_stops: Most stops allowed, or no limit.
    """
    return [f"{origin}-{destination} {cabin.value} by {sort} ({max_stops})"]


def create_order(customer: Customer, items: list[LineItem], coupon: str | None = None) -> str:
    """Create an order for a customer.

    Args:
        customer: Who the order is for, with their delivery addresses.
        items: The products to ship.
        coupon: A discount code.
    """
    return f"order for {customer.name}: {len(items)} items ({coupon})"


async def fetch_page(url: str, timeout: float = 10.0, follow_redirects: bool = True) -> str:
    """Fetch a web page and return its text.

    Args:
        url: Absolute URL of the page.
        timeout: Seconds to wait before giving up.
        follow_redirects: Whether to follow 3xx responses.
    """
    await asyncio.sleep(0)
    return f"<html>{url} {timeout} {follow_redirects}</html>"


def list_issues(
    repo: str,
    page: Annotated[int, Field(ge=0)] = 0,
    per_page: Annotated[int, Field(ge=1, le=100)] = 30,
) -> list[str]:
    """List the open issues of a repository.

    Args:
        repo: Repository as owner/name.
        page: Zero-based page number.
        per_page: Issues per page.
    """
    return [f"{repo}#{page * per_page + n}" for n in range(per_page)]


def schedule_jobs(counts: dict[str, int], start: datetime, end: datetime | None = None) -> str:
    """Schedule batch jobs on named queues.

    Args:
        counts: How many jobs to start on each queue.
        start: When the first job may start.
        end: When to stop starting jobs, or never.
    """
    return f"{sum(counts.values())} jobs from {start:%Y-%m-%d} to {end}"


SAMPLE_FUNCTIONS: tuple[Callable[..., Any], ...] = (
    get_weather,
    search_flights,
    create_order,
    fetch_page,
    list_issues,
    schedule_jobs,
)

FUNCTION_KINDS: dict[str, str] = {
    "get_weather": "2 args, Google docstring",
    "search_flights": "Enum, Literal, Optional defaults",
    "create_order": "nested BaseModel, list[Model]",
    "fetch_page": "async def",
    "list_issues": "Annotated[int, Field(ge=..)]",
    "schedule_jobs": "dict[str, int], datetime",
}


_copies = itertools.count(1)


def fresh_copy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A new function object with ``fn``'s code, defaults, annotations and docstring.

    A library that caches on (or keyed by) the function object cannot reuse its work for
    the copy, so every build really builds. The docstring's summary line gets a unique
    ``[copy N]`` suffix as well: a cache keyed by the docstring's text (toolkit keeps an
    ``lru_cache`` of parsed docstrings) would otherwise skip the parsing that a real
    application, whose tools have different docstrings, pays once per tool.
    """
    assert isinstance(fn, types.FunctionType)
    copy = types.FunctionType(
        fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__
    )
    copy.__kwdefaults__ = dict(fn.__kwdefaults__) if fn.__kwdefaults__ else None
    copy.__annotations__ = dict(fn.__annotations__)
    copy.__doc__ = _unique_doc(fn.__doc__, next(_copies))
    copy.__qualname__ = fn.__qualname__
    copy.__module__ = fn.__module__
    return copy


def _unique_doc(doc: str | None, number: int) -> str | None:
    if not doc:
        return doc
    summary = doc.strip().splitlines()[0]
    return doc.replace(summary, f"{summary.rstrip('.')} [copy {number}].", 1)


# =========================================================================== libraries


@dataclass(frozen=True)
class Steps:
    """How one library builds a tool.

    ``build(fn)`` does everything needed to have the tool and its JSON Schema and returns
    the object an application would keep; ``render(kept)``, when present, is the extra
    step to produce a provider definition and is timed separately.
    """

    build: Callable[[Callable[..., Any]], Any]
    render: Callable[[Any], Any] | None = None

    def chain(self) -> list[Callable[[Any], Any]]:
        return [self.build] if self.render is None else [self.build, self.render]

    def run(self, fn: Callable[..., Any]) -> Any:
        kept = self.build(fn)
        return kept if self.render is None else self.render(kept)


@dataclass(frozen=True)
class Library:
    key: str
    label: str
    distribution: str
    measures: str
    load: Callable[[], Steps]
    is_floor: bool = False

    def version(self) -> str:
        found = version_of(self.distribution)
        if found == "not installed" and self.key == "toolkit":
            try:
                import toolkit
            except ImportError:
                return found
            return str(getattr(toolkit, "__version__", "source checkout"))
        return found


def _load_floor() -> Steps:
    from pydantic import TypeAdapter

    def build(fn: Callable[..., Any]) -> Any:
        adapter: TypeAdapter[Any] = TypeAdapter(cast(Any, fn))
        return adapter, adapter.json_schema()

    return Steps(build)


def _load_toolkit() -> Steps:
    if importlib.util.find_spec("toolkit") is None:
        sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e .`
    from toolkit import tool

    def build(fn: Callable[..., Any]) -> Any:
        made = tool(fn)
        made.parameters  # noqa: B018  (reading it is the measured work)
        return made

    def render(made: Any) -> Any:
        made.definition("openai")
        return made

    return Steps(build, render)


def _load_openai_agents() -> Steps:
    from agents import function_tool

    def build(fn: Callable[..., Any]) -> Any:
        made = function_tool(fn)
        made.params_json_schema  # noqa: B018
        return made

    return Steps(build)


def _load_pydantic_ai() -> Steps:
    from pydantic_ai import Tool

    def build(fn: Callable[..., Any]) -> Any:
        made = Tool(fn)
        made.tool_def  # noqa: B018
        return made

    return Steps(build)


def _load_langchain() -> Steps:
    from langchain_core.tools import tool
    from langchain_core.utils.function_calling import convert_to_openai_tool

    def build(fn: Callable[..., Any]) -> Any:
        made = tool(fn, parse_docstring=True)
        convert_to_openai_tool(made)
        return made

    return Steps(build)


def _load_anthropic() -> Steps:
    from anthropic import beta_async_tool, beta_tool

    def build(fn: Callable[..., Any]) -> Any:
        make: Any = beta_async_tool if inspect.iscoroutinefunction(fn) else beta_tool
        made = make(fn)
        made.to_dict()
        return made

    return Steps(build)


def _load_fastmcp() -> Steps:
    from fastmcp.tools import Tool

    def build(fn: Callable[..., Any]) -> Any:
        made = Tool.from_function(fn)
        made.parameters  # noqa: B018
        return made

    return Steps(build)


LIBRARIES: tuple[Library, ...] = (
    Library(
        "floor",
        "floor (pydantic)",
        "pydantic",
        "TypeAdapter(fn).json_schema()",
        _load_floor,
        is_floor=True,
    ),
    Library(
        "toolkit",
        "toolkit",
        "toolkit-llm",
        'tool(fn).parameters; render: first .definition("openai")',
        _load_toolkit,
    ),
    Library(
        "openai-agents",
        "openai-agents",
        "openai-agents",
        "function_tool(fn).params_json_schema (strict)",
        _load_openai_agents,
    ),
    Library(
        "pydantic-ai",
        "pydantic-ai",
        "pydantic-ai-slim",
        "Tool(fn).tool_def",
        _load_pydantic_ai,
    ),
    Library(
        "langchain-core",
        "langchain-core",
        "langchain-core",
        "convert_to_openai_tool(tool(fn, parse_docstring=True))",
        _load_langchain,
    ),
    Library(
        "anthropic",
        "anthropic beta_tool",
        "anthropic",
        "beta_tool(fn).to_dict() (beta_async_tool for async)",
        _load_anthropic,
    ),
    Library(
        "fastmcp",
        "fastmcp",
        "fastmcp",
        "Tool.from_function(fn).parameters",
        _load_fastmcp,
    ),
)


def _short_error(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Loaded:
    """A library after its lazy import: ``steps`` or the reason it has none."""

    library: Library
    version: str
    steps: Steps | None
    problem: str | None = None
    # Functions the library cannot build, with the reason.
    unsupported: dict[str, str] = field(default_factory=dict[str, str])


def load(library: Library) -> Loaded:
    try:
        steps = library.load()
    except ImportError as exc:
        return Loaded(library, library.version(), None, f"not installed ({_short_error(exc)})")
    except Exception as exc:
        return Loaded(library, library.version(), None, f"import failed: {_short_error(exc)}")
    loaded = Loaded(library, library.version(), steps)
    for fn in SAMPLE_FUNCTIONS:
        try:
            steps.run(fresh_copy(fn))
        except Exception as exc:
            loaded.unsupported[fn.__name__] = _short_error(exc)
    return loaded


def supported(loaded: Loaded) -> list[Callable[..., Any]]:
    return [fn for fn in SAMPLE_FUNCTIONS if fn.__name__ not in loaded.unsupported]


# =========================================================================== build section


@dataclass
class BuildResult:
    build_us: dict[str, float] = field(default_factory=dict[str, float])
    render_us: dict[str, float] = field(default_factory=dict[str, float])


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _geomean(values: Sequence[float]) -> float | None:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


def _ratio_on_common(mine: dict[str, float], theirs: dict[str, float]) -> tuple[float | None, int]:
    """Mean of mine / mean of theirs over the functions both have, and how many those are."""
    common = [name for name in mine if name in theirs]
    a, b = _mean([mine[n] for n in common]), _mean([theirs[n] for n in common])
    if a is None or b is None or b == 0:
        return None, len(common)
    return a / b, len(common)


def measure_builds(libraries: Sequence[Loaded], budget: Budget) -> dict[str, BuildResult]:
    """Per function, time every library's build round-robin (see ``sample_round_robin``)."""
    measured = [lib for lib in libraries if lib.steps is not None]
    results = {lib.library.key: BuildResult() for lib in measured}
    for fn in SAMPLE_FUNCTIONS:
        able = [lib for lib in measured if fn.__name__ not in lib.unsupported]
        chains = [lib.steps.chain() for lib in able if lib.steps is not None]
        samples = sample_round_robin(
            chains,
            lambda fn=fn: fresh_copy(fn),
            repeats=budget.repeats,
            warmup=budget.warmup,
        )
        for lib, steps in zip(able, samples, strict=True):
            result = results[lib.library.key]
            result.build_us[fn.__name__] = steps[0].median_us
            if len(steps) > 1:
                result.render_us[fn.__name__] = steps[1].median_us
    return results


def print_build_tables(
    libraries: Sequence[Loaded], results: dict[str, BuildResult], budget: Budget
) -> None:
    floor = results.get("floor")
    floor_us = floor.build_us if floor else {}

    summary = Table(
        f"Warm build time per tool: median of {budget.repeats} builds after {budget.warmup} "
        "warm-up builds, each from a fresh function copy, libraries interleaved, gc paused; "
        "mean over the functions",
        [
            Column("library"),
            Column("version"),
            Column("fns", ">"),
            Column("build µs", ">"),
            Column("vs floor", ">"),
            Column("+render µs", ">"),
            Column("build+render\nvs floor", ">"),
            Column("what one build does"),
        ],
    )
    for lib in libraries:
        key = lib.library.key
        if lib.steps is None:
            summary.add(lib.library.label, lib.version, "-", "-", "-", "-", "-", lib.problem)
            continue
        result = results[key]
        ratio, _ = _ratio_on_common(result.build_us, floor_us)
        render_mean = _mean(list(result.render_us.values()))
        total_ratio = None
        if result.render_us:
            totals = {n: us + result.render_us[n] for n, us in result.build_us.items()}
            total_ratio, _ = _ratio_on_common(totals, floor_us)
        summary.add(
            lib.library.label,
            lib.version,
            f"{len(result.build_us)}/{len(SAMPLE_FUNCTIONS)}",
            fmt_us(_mean(list(result.build_us.values()))),
            "1.00x (floor)" if lib.library.is_floor else fmt_ratio(ratio),
            fmt_us(render_mean) if render_mean is not None else "",
            fmt_ratio(total_ratio) if total_ratio is not None else "",
            lib.library.measures,
        )
    summary.note(
        "vs floor: the library's mean over the functions it handles / the floor's mean over "
        "the same functions."
    )
    summary.note(
        "+render: a separate step after the build (toolkit: .definition('openai')); peers' "
        "builds already include their provider output."
    )
    summary.print()

    measured = [lib for lib in libraries if lib.steps is not None]
    detail = Table(
        "Per function: median µs per build (ratio vs floor)",
        [Column("function"), Column("kind")]
        + [Column(f"{lib.library.key}\n{lib.version}", ">") for lib in measured]
        + ([Column("toolkit\n+render µs", ">")] if "toolkit" in results else []),
    )
    footnotes: list[str] = []
    for fn in SAMPLE_FUNCTIONS:
        name = fn.__name__
        cells: list[str] = [name, FUNCTION_KINDS[name]]
        for lib in measured:
            if name in lib.unsupported:
                footnotes.append(f"{lib.library.key} / {name}: {lib.unsupported[name]}")
                cells.append(f"n/a [{len(footnotes)}]")
                continue
            us = results[lib.library.key].build_us[name]
            if lib.library.is_floor or name not in floor_us:
                cells.append(fmt_us(us))
            else:
                cells.append(f"{fmt_us(us)} ({us / floor_us[name]:.1f}x)")
        if "toolkit" in results:
            cells.append(fmt_us(results["toolkit"].render_us.get(name)))
        detail.add(*cells)
    detail.rule()
    geo_cells = ["geomean ratio", "vs floor, per-function ratios"]
    for lib in measured:
        ratios = [
            us / floor_us[n] for n, us in results[lib.library.key].build_us.items() if n in floor_us
        ]
        geo_cells.append("1.0x" if lib.library.is_floor else f"{_geomean(ratios) or 0:.2f}x")
    if "toolkit" in results:
        geo_cells.append("")
    detail.add(*geo_cells)
    for number, text in enumerate(footnotes, 1):
        detail.note(f"[{number}] {text}")
    detail.print()


def build_targets(
    libraries: Sequence[Loaded], results: dict[str, BuildResult]
) -> list[tuple[str, str, str]]:
    toolkit, floor = results.get("toolkit"), results.get("floor")
    if toolkit is None or floor is None:
        reason = "toolkit not measured" if toolkit is None else "floor not measured"
        return [
            (f"toolkit build <= {BUILD_RATIO_TARGET}x floor", reason, verdict(None)),
            ("toolkit build faster than every peer", reason, verdict(None)),
        ]
    ratio, _ = _ratio_on_common(toolkit.build_us, floor.build_us)
    geo = _geomean([us / floor.build_us[n] for n, us in toolkit.build_us.items()])
    rows = [
        (
            f"toolkit build <= {BUILD_RATIO_TARGET}x floor (mean over functions)",
            f"{fmt_ratio(ratio)} ({fmt_us(_mean(list(toolkit.build_us.values())))} µs vs "
            f"{fmt_us(_mean(list(floor.build_us.values())))} µs)",
            verdict(None if ratio is None else ratio <= BUILD_RATIO_TARGET),
        ),
        (
            f"toolkit build <= {BUILD_RATIO_TARGET}x floor (geomean of per-function ratios)",
            fmt_ratio(geo),
            verdict(None if geo is None else geo <= BUILD_RATIO_TARGET),
        ),
    ]
    totals = {n: us + toolkit.render_us.get(n, 0.0) for n, us in toolkit.build_us.items()}
    for label, mine in (("build", toolkit.build_us), ("build+render", totals)):
        slowest_ratio: float | None = None
        worst = ""
        for lib in libraries:
            key = lib.library.key
            if key in ("toolkit", "floor") or key not in results:
                continue
            peer_ratio, _ = _ratio_on_common(mine, results[key].build_us)
            if peer_ratio is not None and (slowest_ratio is None or peer_ratio > slowest_ratio):
                slowest_ratio, worst = peer_ratio, key
        if slowest_ratio is None:
            rows.append((f"toolkit {label} faster than every peer", "no peer measured", "n/a"))
            continue
        rows.append(
            (
                f"toolkit {label} faster than every peer",
                f"toolkit / fastest peer ({worst}) = {slowest_ratio:.2f}x",
                verdict(slowest_ratio < 1.0),
            )
        )
    return rows


# =========================================================================== memory section


def _top_sites(
    before: tracemalloc.Snapshot | None, after: tracemalloc.Snapshot, count: int, limit: int
) -> list[tuple[str, float]]:
    """The ``limit`` source lines whose retained allocations grew most, in bytes per tool."""
    if before is None:
        return []
    skip = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, __file__)]
    diffs = after.filter_traces(skip).compare_to(before.filter_traces(skip), "lineno")
    top: list[tuple[str, float]] = []
    for diff in sorted(diffs, key=lambda d: d.size_diff, reverse=True)[:limit]:
        frame = diff.traceback[0]
        where = "/".join(Path(frame.filename).parts[-2:])
        top.append((f"{where}:{frame.lineno}", diff.size_diff / count))
    return top


def memory_worker(key: str, count: int, sites: int = 0) -> None:
    """Subprocess body: build ``count`` tools for an RSS pass, again for tracemalloc; print JSON.

    ``sites`` > 0 also reports that many top allocation sites of the retained heap.
    """
    library = next(lib for lib in LIBRARIES if lib.key == key)
    loaded = load(library)  # imports and builds every function once: the warm-up
    if loaded.steps is None:
        print(json.dumps({"error": loaded.problem}))
        return
    steps = loaded.steps
    functions = supported(loaded)
    for fn in functions * 3:
        steps.run(fresh_copy(fn))
    copies_rss = [fresh_copy(functions[i % len(functions)]) for i in range(count)]
    copies_heap = [fresh_copy(functions[i % len(functions)]) for i in range(count)]

    gc.collect()
    rss_before = rss_bytes()
    kept_rss = [steps.run(fn) for fn in copies_rss]
    gc.collect()
    rss_after = rss_bytes()

    tracemalloc.start()
    # The snapshot exists before the baseline is read, so it is not counted as retained.
    snapshot_before = tracemalloc.take_snapshot() if sites else None
    gc.collect()
    heap_before = tracemalloc.get_traced_memory()[0]
    kept_heap = [steps.run(fn) for fn in copies_heap]
    gc.collect()
    heap_after = tracemalloc.get_traced_memory()[0]
    top_sites = _top_sites(snapshot_before, tracemalloc.take_snapshot(), count, sites)
    tracemalloc.stop()

    rss_per_tool = (
        None if rss_before is None or rss_after is None else (rss_after - rss_before) / count
    )
    assert len(kept_rss) == len(kept_heap) == count  # both batches were alive when measured
    print(
        json.dumps(
            {
                "count": count,
                "functions": len(functions),
                "heap_per_tool": (heap_after - heap_before) / count,
                "rss_per_tool": rss_per_tool,
                "sites": top_sites,
            }
        )
    )


def measure_memory(libraries: Sequence[Loaded], count: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for lib in libraries:
        if lib.steps is None:
            continue
        proc = subprocess.run(
            [
                *(sys.executable, __file__, "--memory-worker", lib.library.key),
                *(
                    "--count",
                    str(count),
                    "--sites",
                    str(SITES if lib.library.key == "toolkit" else 0),
                ),
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )
        lines = proc.stdout.strip().splitlines()
        try:
            results[lib.library.key] = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            results[lib.library.key] = {"error": f"worker exit {proc.returncode}: {tail}"}
    return results


def print_memory_table(
    libraries: Sequence[Loaded], results: dict[str, dict[str, Any]], count: int
) -> None:
    table = Table(
        f"Memory kept alive per tool: {count} tools per library built from fresh function "
        "copies in a fresh subprocess, after gc.collect()",
        [
            Column("library"),
            Column("version"),
            Column("Python heap\nB/tool", ">"),
            Column("Python heap\nKiB/tool", ">"),
            Column("RSS growth\nKiB/tool", ">"),
            Column("what is kept"),
        ],
    )
    for lib in libraries:
        result = results.get(lib.library.key)
        if lib.steps is None or result is None:
            table.add(lib.library.label, lib.version, "-", "-", "-", lib.problem or "")
            continue
        if "error" in result:
            table.add(lib.library.label, lib.version, "-", "-", "-", result["error"])
            continue
        kept = "(TypeAdapter, schema)" if lib.library.is_floor else "the tool object"
        if result["functions"] < len(SAMPLE_FUNCTIONS):
            kept += f" ({result['functions']}/{len(SAMPLE_FUNCTIONS)} functions)"
        table.add(
            lib.library.label,
            lib.version,
            fmt_bytes(result["heap_per_tool"]),
            fmt_kib(result["heap_per_tool"]),
            fmt_kib(result["rss_per_tool"]),
            kept,
        )
    table.note(
        "Python heap: tracemalloc's traced size, i.e. Python objects. pydantic-core's "
        "validators and serializers live in Rust allocations that tracemalloc does not see."
    )
    table.note(
        "RSS growth: resident memory (/proc/self/statm) after - before, over the same "
        "count; includes Rust allocations and allocator slack, so it is coarser."
    )
    table.print()

    toolkit = results.get("toolkit", {})
    if toolkit.get("sites"):
        where = Table(
            "toolkit: where the retained Python heap was allocated (tracemalloc, top lines)",
            [Column("source line"), Column("B/tool", ">")],
        )
        for site, per_tool in toolkit["sites"]:
            where.add(site, fmt_bytes(per_tool))
        where.print()


def memory_targets(results: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    result = results.get("toolkit")
    if result is None or "error" in result:
        reason = "toolkit not measured" if result is None else result["error"]
        return [(f"<= {RETAINED_KIB_TARGET:g} KiB retained per tool", reason, verdict(None))]
    heap_kib = result["heap_per_tool"] / 1024
    rows = [
        (
            f"<= {RETAINED_KIB_TARGET:g} KiB retained per tool (Python heap)",
            f"{heap_kib:.2f} KiB",
            verdict(heap_kib <= RETAINED_KIB_TARGET),
        )
    ]
    if result["rss_per_tool"] is not None:
        rss_kib = result["rss_per_tool"] / 1024
        rows.append(
            (
                f"<= {RETAINED_KIB_TARGET:g} KiB per tool as RSS growth (stricter)",
                f"{rss_kib:.2f} KiB",
                verdict(rss_kib <= RETAINED_KIB_TARGET),
            )
        )
    return rows


# =========================================================================== import section

IMPORT_VARIANTS: dict[str, str] = {
    "python -c pass": "pass",
    "import pydantic": "import pydantic",
    "import pydantic; import toolkit": "import pydantic; import toolkit",
    "pydantic loaded": "from pydantic import BaseModel, TypeAdapter",
    "pydantic loaded; import toolkit": (
        "from pydantic import BaseModel, TypeAdapter; import toolkit"
    ),
}

IMPORT_PROBE = """\
import json, sys
import pydantic
before = set(sys.modules)
import toolkit
added = set(sys.modules) - before
top = {name.partition(".")[0] for name in added} - {name.partition(".")[0] for name in before}
stdlib = {name for name in top if name in sys.stdlib_module_names or name.startswith("_sysconfig")}
print(json.dumps({
    "file": toolkit.__file__,
    "sdks": [name for name in %r if name in sys.modules],
    "third_party": sorted(top - stdlib - {"toolkit"}),
    "stdlib": len(stdlib),
    "pydantic_modules": len({n for n in added if n.partition(".")[0].startswith("pydantic")}),
}))
"""


def _python(*args: str) -> subprocess.CompletedProcess[str]:
    # Bytecode is written and reused, as on any installed package: with
    # PYTHONDONTWRITEBYTECODE inherited (some sandboxes set it), every "import" would
    # compile toolkit's source anew and this would time the compiler, not the import.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env=environment,
    )


def _importtime_us(stderr: str, module: str) -> int | None:
    """Cumulative µs for ``module`` from ``-X importtime`` output (its last matching line)."""
    found = None
    for line in stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip() == module:
            try:
                found = int(parts[1].strip())
            except ValueError:
                continue
    return found


def measure_imports(runs: int) -> dict[str, Any]:
    probe = _python("-c", IMPORT_PROBE % (PROVIDER_SDKS,))
    if probe.returncode != 0:
        tail = (probe.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"import toolkit failed: {tail}"}
    info: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])

    for code in IMPORT_VARIANTS.values():  # one untimed round writes any missing .pyc
        _python("-c", code)
    wall: dict[str, list[float]] = {label: [] for label in IMPORT_VARIANTS}
    for _ in range(runs):
        for label, code in IMPORT_VARIANTS.items():
            start = time.perf_counter_ns()
            _python("-c", code)
            wall[label].append((time.perf_counter_ns() - start) / 1e6)
    info["wall_ms"] = {label: statistics.median(v) for label, v in wall.items()}

    cumulative: dict[str, list[int]] = {"import pydantic": [], "pydantic loaded": []}
    for _ in range(runs):
        for label, first in (
            ("import pydantic", "import pydantic"),
            ("pydantic loaded", "from pydantic import BaseModel, TypeAdapter"),
        ):
            done = _python("-X", "importtime", "-c", f"{first}; import toolkit")
            us = _importtime_us(done.stderr, "toolkit")
            if us is not None:
                cumulative[label].append(us)
    info["importtime_ms"] = {
        label: statistics.median(v) / 1000 if v else None for label, v in cumulative.items()
    }
    info["runs"] = runs
    return info


def print_import_table(info: dict[str, Any]) -> None:
    if "error" in info:
        table = Table("import toolkit", [Column("result")])
        table.add(info["error"])
        table.print()
        return
    wall = info["wall_ms"]
    table = Table(
        f"Import time: median wall time of {info['runs']} fresh interpreters "
        f"(python -c CODE), toolkit from {info['file']}",
        [Column("python -c"), Column("ms", ">"), Column("toolkit adds ms", ">")],
    )
    table.add("pass", f"{wall['python -c pass']:.1f}", "")
    table.add("import pydantic", f"{wall['import pydantic']:.1f}", "")
    table.add(
        "import pydantic; import toolkit",
        f"{wall['import pydantic; import toolkit']:.1f}",
        f"{wall['import pydantic; import toolkit'] - wall['import pydantic']:.1f}",
    )
    table.add("from pydantic import BaseModel, TypeAdapter", f"{wall['pydantic loaded']:.1f}", "")
    table.add(
        "  ... ; import toolkit",
        f"{wall['pydantic loaded; import toolkit']:.1f}",
        f"{wall['pydantic loaded; import toolkit'] - wall['pydantic loaded']:.1f}",
    )
    ms = info["importtime_ms"]
    table.note(
        "-X importtime, cumulative for the toolkit package (median): "
        f"{_fmt_ms(ms['import pydantic'])} ms after `import pydantic`, "
        f"{_fmt_ms(ms['pydantic loaded'])} ms after pydantic's BaseModel and TypeAdapter "
        "are loaded (`import pydantic` alone defers most of pydantic)."
    )
    table.note(
        "`import toolkit` loads beyond `import pydantic`: "
        f"{info['pydantic_modules']} more pydantic/pydantic-core modules; other third-party "
        f"packages: {', '.join(info['third_party']) or 'none'}; {info['stdlib']} stdlib packages."
    )
    table.print()


def _fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def import_targets(info: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    if info is None or "error" in info:
        reason = "not measured" if info is None else info["error"]
        return [
            (f"import toolkit adds <= {IMPORT_MS_TARGET:g} ms", reason, verdict(None)),
            ("import toolkit imports no provider SDK", reason, verdict(None)),
        ]
    wall = info["wall_ms"]
    added = wall["import pydantic; import toolkit"] - wall["import pydantic"]
    in_process: float | None = info["importtime_ms"]["import pydantic"]
    sdks = info["sdks"]
    return [
        (
            f"import toolkit adds <= {IMPORT_MS_TARGET:g} ms over import pydantic",
            f"{added:.1f} ms (wall-time difference of medians)",
            verdict(added <= IMPORT_MS_TARGET),
        ),
        (
            "  same, measured in-process (-X importtime, cumulative)",
            f"{_fmt_ms(in_process)} ms (less sensitive to machine load)",
            verdict(None if in_process is None else in_process <= IMPORT_MS_TARGET),
        ),
        (
            "import toolkit imports no provider SDK",
            "imports " + ", ".join(sdks) if sdks else "neither openai nor anthropic",
            verdict(not sdks),
        ),
    ]


# =========================================================================== profile


def profile_toolkit(rounds: int, top: int = 25) -> None:
    """cProfile ``tool(fn).parameters`` over the sample functions; print the top entries."""
    loaded = load(next(lib for lib in LIBRARIES if lib.key == "toolkit"))
    if loaded.steps is None:
        print(f"\ntoolkit: {loaded.problem}")
        return
    build = loaded.steps.build
    copies = [fresh_copy(fn) for _ in range(rounds) for fn in supported(loaded)]
    profiler = cProfile.Profile()
    profiler.enable()
    kept = [build(fn) for fn in copies]
    profiler.disable()
    del kept
    for order in ("tottime", "cumulative"):
        heading(f"cProfile of toolkit.tool(fn).parameters, {len(copies)} builds, by {order}", "-")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.strip_dirs().sort_stats(order).print_stats(top)


# =========================================================================== main


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sections",
        default="build,memory,import",
        help="comma-separated sections to run (default: build,memory,import)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated library keys to measure (the floor is always measured): "
        + ", ".join(lib.key for lib in LIBRARIES if not lib.is_floor),
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of toolkit's build"
    )
    parser.add_argument("--count", type=int, default=None, help="tools per library (memory)")
    parser.add_argument("--memory-worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--sites", type=int, default=0, help=argparse.SUPPRESS)


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
    budget = Budget.from_args(args)
    count: int = args.count or budget.scaled(500, 60)
    if args.memory_worker:
        memory_worker(args.memory_worker, count, args.sites)
        return

    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    chosen = [lib for lib in LIBRARIES if lib.is_floor or not only or lib.key in only]

    quick_note = " (--quick: a smoke run, the numbers are rough)" if budget.quick else ""
    print(f"toolkit build benchmark{quick_note}")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"pydantic {version_of('pydantic')}, pydantic-core {version_of('pydantic-core')}"
    )
    print(f"At start: {load_note()}")

    libraries = [load(lib) for lib in chosen]
    versions = Table(
        "Libraries", [Column("library"), Column("version"), Column("status / unsupported")]
    )
    for lib in libraries:
        status = lib.problem or (
            "ok" if not lib.unsupported else "cannot build: " + ", ".join(lib.unsupported)
        )
        versions.add(lib.library.label, lib.version, status)
    versions.print()

    targets: list[tuple[str, str, str]] = []
    if "build" in sections:
        heading("1. Build time")
        results = measure_builds(libraries, budget)
        print_build_tables(libraries, results, budget)
        targets += build_targets(libraries, results)
    if "memory" in sections:
        heading("2. Memory per tool")
        memory = measure_memory(libraries, count)
        print_memory_table(libraries, memory, count)
        targets += memory_targets(memory)
    if "import" in sections:
        heading("3. import toolkit")
        info = measure_imports(budget.scaled(15, 3))
        print_import_table(info)
        targets += import_targets(info)
    if targets:
        print_targets(targets)
    if args.profile:
        profile_toolkit(budget.scaled(200, 10))


if __name__ == "__main__":
    main()
