"""MCP benchmark: one ``tools/call`` round trip through toolkit's server, then through its
client, each against the SDK's own (a hand-written low-level server; ``mcp.Client``).

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
microseconds per call and toolkit's ratio.

The client section calls ``add`` of a real server process, ``tests/_mcp_remote.py well``
(written with the SDK alone), over stdio and over streamable HTTP, each client with its
own connection (over stdio, its own process). The baseline is the SDK's ``mcp.Client``:
``await client.call_tool("add", ...)``, which checks the structured content against the
listed ``outputSchema`` (jsonschema). toolkit's ``MCPClient`` is timed through its
registry, as a runner calls it: the arguments validated with the tool's compiled
validator, the request sent through the same SDK session, the structured content checked
with toolkit's own validator, the ``ToolResult`` made. Opened with ``async with``, its
calls run on the running loop (``await registry.execute_async(...)``); opened with
``with``, on toolkit's background loop, this thread waiting as sync code does
(``registry.execute(...)``). Rounds alternate between the three clients.

Every target (ratio <= 1.2x) is informational: the script always exits 0.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import os
import platform
import subprocess
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

from mcp import Client, StdioServerParameters  # noqa: E402
from mcp.server import Server  # noqa: E402
from mcp.types import (  # noqa: E402
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)

from toolkit import Registry, ToolCall, tool  # noqa: E402
from toolkit.mcp import MCPClient, Stdio, StreamableHTTP, mcp_server  # noqa: E402

RATIO_TARGET = 1.2  # toolkit's round trip / the hand-written server's (the SDK client's)
MODES = {"memory streams (2025)": "legacy", "direct (2026)": "2026-07-28"}
REMOTE = ROOT / "tests" / "_mcp_remote.py"  # MCP servers written with the SDK alone


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


async def measure_client(
    sdk_server: StdioServerParameters | str, spec: Stdio | StreamableHTTP, budget: Budget
) -> dict[str, Samples]:
    """Median-ready samples of one call of ``add`` per client per round, the SDK's
    ``Client`` and toolkit's two ways interleaved, each over its own connection."""
    on_this_loop = MCPClient({"well": spec})
    # Opened with `with`: its connection lives on toolkit's background loop, and `execute`
    # blocks this thread (and this loop, idle meanwhile) until the result is there.
    on_background = MCPClient({"well": spec})
    async with AsyncExitStack() as stack:
        stack.push(on_background)  # leaving one that did not open is harmless
        stack.push_async_exit(on_this_loop)
        # The three connect at once (a stdio server takes most of a second to start).
        # toolkit's hold theirs in tasks of their own; the SDK's is entered by this task.
        opening = asyncio.gather(
            on_this_loop.__aenter__(),
            asyncio.to_thread(on_background.__enter__),
            return_exceptions=True,  # both settle before anything is closed
        )
        try:
            sdk = await stack.enter_async_context(Client(sdk_server))
        finally:
            failed = [error for error in await opening if isinstance(error, BaseException)]
        if failed:
            raise failed[0]
        await sdk.list_tools()  # the client learns the outputSchema once

        async def sdk_call(n: int) -> object:
            result = await sdk.call_tool("add", {"a": n, "b": 1})
            return result.structured_content

        async def async_call(n: int) -> object:
            call = ToolCall(id=f"call_{n}", name="add", arguments={"a": n, "b": 1})
            [result] = await on_this_loop.registry.execute_async([call])
            return result.content

        async def sync_call(n: int) -> object:
            call = ToolCall(id=f"call_{n}", name="add", arguments={"a": n, "b": 1})
            [result] = on_background.registry.execute([call])
            return result.content

        steps: dict[str, tuple[Callable[[int], Awaitable[object]], Callable[[int], object]]] = {
            "sdk": (sdk_call, lambda n: {"result": n + 1}),
            "async": (async_call, lambda n: str(n + 1)),
            "sync": (sync_call, lambda n: str(n + 1)),
        }
        timings: dict[str, list[int]] = {label: [] for label in steps}
        order = list(steps.items())
        clock = time.perf_counter_ns
        with gc_paused():
            for round_no in range(budget.warmup + budget.repeats):
                turn = round_no % len(order)  # each client takes each place in turn
                for label, (step, expected) in order[turn:] + order[:turn]:
                    start = clock()
                    answer = await step(round_no)
                    elapsed = clock() - start
                    if answer != expected(round_no):
                        raise AssertionError(f"{label} answered {answer!r}")
                    if round_no >= budget.warmup:
                        timings[label].append(elapsed)
                if round_no % 50 == 49:
                    gc.collect()  # off the clock; a full collection takes some 30 ms here
    return {label: Samples(tuple(found)) for label, found in timings.items()}


def start_http_server() -> subprocess.Popen[str]:
    """``_mcp_remote.py well --http``, started now, waited for later."""
    return subprocess.Popen(
        [sys.executable, str(REMOTE), "well", "--http"], stdout=subprocess.PIPE, text=True
    )


def http_url(server: subprocess.Popen[str]) -> str | None:
    """The server's endpoint once it takes connections, or ``None`` if it ended first."""
    assert server.stdout is not None
    line = server.stdout.readline()
    return line.split()[1] if line.startswith("READY ") else None


def client_section(budget: Budget) -> None:
    """toolkit's ``MCPClient`` against the SDK's ``Client``, on the same server process."""
    # A round trip to a process takes milliseconds: fewer rounds than in process.
    rounds = Budget(budget.quick, repeats=budget.scaled(150, 30), warmup=budget.scaled(15, 5))
    heading(
        f"One MCP round trip through toolkit's client (median of {rounds.repeats}, interleaved)"
    )
    table = Table(
        "add(a, b) of `_mcp_remote.py well`, a server process written with the SDK",
        [
            Column("transport"),
            Column("toolkit call"),
            Column("SDK Client\nµs", ">"),
            Column("toolkit\nµs", ">"),
            Column("ratio", ">"),
            Column(f"<= {RATIO_TARGET}x", ">"),
        ],
    )
    web = start_http_server()  # it starts while stdio is measured
    try:
        stdio = Stdio(sys.executable, [str(REMOTE), "well"])
        params = StdioServerParameters(command=stdio.command, args=list(stdio.args))
        found: dict[str, dict[str, Samples] | None] = {
            "stdio": asyncio.run(measure_client(params, stdio, rounds))
        }
        url = http_url(web)
        found["streamable HTTP"] = (
            None if url is None else asyncio.run(measure_client(url, StreamableHTTP(url), rounds))
        )
    finally:
        web.terminate()
        web.wait(10)
        if web.stdout is not None:
            web.stdout.close()
    for transport, samples in found.items():
        for kind, how in (("async", "execute_async"), ("sync", "execute")):
            if samples is None:
                table.add(transport, how, "n/a", "n/a", "n/a", verdict(None))
                continue
            sdk, ours = samples["sdk"].median_us, samples[kind].median_us
            ratio = ours / sdk
            table.add(
                transport,
                how,
                fmt_us(sdk),
                fmt_us(ours),
                fmt_ratio(ratio),
                verdict(ratio <= RATIO_TARGET),
            )
    table.note("SDK: await client.call_tool(...), its outputSchema check (jsonschema) included")
    table.note("execute_async: under `async with MCPClient`, the call on the running loop")
    table.note("execute: under `with MCPClient`, the call on toolkit's background loop")
    table.note("streamable HTTP: one server for the three")
    table.print()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "", argv)
    budget = Budget.from_args(args, repeats=1000, warmup=100, quick_repeats=30, quick_warmup=5)
    print("toolkit MCP benchmark" + (" (--quick)" if budget.quick else ""))
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
    client_section(budget)


if __name__ == "__main__":
    main()
