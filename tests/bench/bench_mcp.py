"""MCP benchmark: one ``tools/call`` round trip through toolkit's server against the SDK's
own low-level server with a hand-written handler for the same function.

Run ``nox -s bench`` or, in an environment with toolkit and its ``mcp`` extra installed,
``python tests/bench/bench_mcp.py [--quick]``.

Both servers serve ``add(a: int, b: int) -> int``, listed with the same definition (so its
``outputSchema``, which the SDK's client checks every result against), and the SDK's own
client calls it through the SDK's in-process transports, where the server's share of the
round trip is largest: JSON-RPC over in-memory streams (the 2025 handshake era) and direct
dispatch (the 2026-07-28 protocol). The hand-written handler is what the SDK documents for
its low-level server: take the arguments, call the function, answer with the text and the
structured content. It validates nothing; toolkit's server validates the arguments with
the tool's compiled pydantic validator, runs the call through the registry (hooks, timeouts,
error results) and looks for added or removed tools afterwards.

Two functions: a sync one, which toolkit runs in a worker thread so that the event loop
never blocks (the hand-written handler calls it inline, blocking the loop), and an async
one, awaited by both. Rounds alternate between the servers; the table shows the median
microseconds per call and toolkit's ratio. The target (ratio <= 1.2x) is informational:
the script always exits 0.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from _harness import (
    Budget,
    Column,
    Samples,
    Table,
    fmt_ratio,
    fmt_us,
    gc_paused,
    heading,
    load_note,
    parse_args,
    verdict,
    version_of,
)

ROOT = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("toolkit") is None:
    sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e .`

from mcp import Client  # noqa: E402
from mcp.server import Server  # noqa: E402
from mcp.types import (  # noqa: E402
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)

from toolkit import Registry, tool  # noqa: E402
from toolkit.mcp import mcp_server  # noqa: E402

RATIO_TARGET = 1.2  # toolkit's round trip / the hand-written server's
MODES = {"memory streams (2025)": "legacy", "direct (2026)": "2026-07-28"}


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


async def add_async(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def hand_written(function: Callable[..., Any]) -> Server[Any]:
    """The SDK's low-level server with the handlers its documentation shows, for
    ``function``."""
    listed = Tool.model_validate(tool(function, name="add").definition("mcp"))
    is_async = asyncio.iscoroutinefunction(function)

    async def list_tools(ctx: Any, params: PaginatedRequestParams | None) -> ListToolsResult:
        return ListToolsResult(tools=[listed])

    async def call_tool(ctx: Any, params: CallToolRequestParams) -> CallToolResult:
        arguments = params.arguments or {}
        value = await function(**arguments) if is_async else function(**arguments)
        return CallToolResult(
            content=[TextContent(text=str(value))], structured_content={"result": value}
        )

    return Server("hand-written", on_list_tools=list_tools, on_call_tool=call_tool)


async def measure(servers: dict[str, Server[Any]], mode: str, budget: Budget) -> dict[str, Samples]:
    """Median-ready samples of one call per server per round, the servers interleaved."""
    async with AsyncExitStack() as stack:
        clients: dict[str, Client] = {}
        for label, server in servers.items():
            clients[label] = await stack.enter_async_context(Client(server, mode=mode))
            await clients[label].list_tools()  # the client learns the outputSchema once
        timings: dict[str, list[int]] = {label: [] for label in servers}
        clock = time.perf_counter_ns
        with gc_paused():
            for round_no in range(budget.warmup + budget.repeats):
                for label, client in clients.items():
                    start = clock()
                    result = await client.call_tool("add", {"a": round_no, "b": 1})
                    elapsed = clock() - start
                    if result.structured_content != {"result": round_no + 1}:
                        raise AssertionError(f"{label} answered {result}")
                    if round_no >= budget.warmup:
                        timings[label].append(elapsed)
                if round_no % 20 == 19:
                    gc.collect()
    return {label: Samples(tuple(found)) for label, found in timings.items()}


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "", argv)
    budget = Budget.from_args(args, repeats=1000, warmup=100, quick_repeats=30, quick_warmup=5)
    print("toolkit MCP server benchmark" + (" (--quick)" if budget.quick else ""))
    print(
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()},"
        f" {os.cpu_count()} CPUs; toolkit {version_of('toolkit-llm')}, mcp {version_of('mcp')};"
        f" {load_note()}"
    )
    heading(f"One tools/call round trip (median of {budget.repeats}, interleaved)")
    table = Table(
        "add(a, b) through the SDK's client, in process",
        [
            Column("transport"),
            Column("function"),
            Column("hand-written\nµs", ">"),
            Column("toolkit\nµs", ">"),
            Column("ratio", ">"),
            Column(f"<= {RATIO_TARGET}x", ">"),
        ],
    )
    functions: dict[str, Callable[..., Any] | Callable[..., Awaitable[Any]]] = {
        "sync": add,
        "async": add_async,
    }
    for transport, mode in MODES.items():
        for kind, function in functions.items():
            servers = {
                "hand": hand_written(function),
                "toolkit": mcp_server(Registry([tool(function, name="add")])),
            }
            samples = asyncio.run(measure(servers, mode, budget))
            hand, ours = samples["hand"].median_us, samples["toolkit"].median_us
            ratio = ours / hand
            table.add(
                transport,
                kind,
                fmt_us(hand),
                fmt_us(ours),
                fmt_ratio(ratio),
                verdict(ratio <= RATIO_TARGET),
            )
    table.note("sync: toolkit runs the function in a worker thread; the hand-written one inline")
    table.print()


if __name__ == "__main__":
    main()
