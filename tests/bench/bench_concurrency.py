"""Concurrency benchmark: many ``Runner.run_async`` at once in one process, against a
hand-written async loop doing the same work.

Run ``nox -s bench`` or, in an environment with toolkit installed,
``python tests/bench/bench_concurrency.py [--quick] [--parts testing,http]``.

Every run is the same four-request trip-planning conversation: the model calls two async
tools at once (``search_flights`` and ``get_weather``), then a sync one
(``convert_currency``), then an async one (``book_flight``), then answers. The async tools
await ``asyncio.sleep`` and the model takes a while to answer, so that the runs of a batch
are all alive at the same time, as the requests of a busy server are.

Part 1 (``testing``) starts N runs with ``asyncio.gather`` over a ``toolkit.testing``
``FunctionModel`` (answering after 5 to 15 ms), for N = 10, 100, 300 and 1,000. Part 2
(``http``) starts N = 10, 50 and 100 over the project's fake HTTP server
(``tests/fakeserver``, the one ``bench_loop.py`` uses) through the real ``AsyncOpenAI``
and ``AsyncAnthropic`` clients; the server answers after 5 to 15 ms, in its own process,
so that it shares neither the GIL nor the memory being measured.

The baseline is the loop a programmer writes without toolkit: send the messages, append
the reply, ``json.loads`` each call's arguments, ``asyncio.gather`` the tools (the sync
tool called inline), append the results, until the model answers. In part 1 it calls the
same model object through ``complete_async``, so both sides pay the same model cost.

Each (part, N, loop) is measured in a fresh subprocess, so that no peak carries over.
After a warm-up run, the first batch of N gives the growth of peak RSS (``VmHWM``, reset
through ``/proc/self/clear_refs`` where Linux allows it; over HTTP this batch also opens
the connections, which the later batches reuse). Timed batches give the wall time and the
process's CPU time (its threads' included): in part 1 the first batch and one more, over
HTTP two after the first (one under ``--quick``). In the first round, one more batch
runs under ``tracemalloc`` for the peak of Python allocations and what stays allocated
once the batch is over. The subprocesses of both loops alternate, round after round, so
that they share the machine's drift in load; the tables show medians.

Scaling: the cost per run (wall, CPU, peak heap, peak RSS) at every N, and the largest
N's over N = 100 (part 1) or N = 10 (part 2). A ratio above 1.5x means a per-run cost
that grows with the number of runs alive: for toolkit it is printed as a ``FAIL`` line.
The script always exits 0, like the other benchmarks.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import importlib.util
import inspect
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from _harness import (
    Column,
    Table,
    fmt_kib,
    fmt_ratio,
    fmt_us,
    heading,
    load_note,
    parse_args,
    rss_bytes,
    verdict,
    version_of,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the fake server lives in tests/fakeserver
if importlib.util.find_spec("toolkit") is None:
    sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e .`

from toolkit import Runner  # noqa: E402
from toolkit.model import ModelReply, ModelRequest  # noqa: E402
from toolkit.testing import FunctionModel, ReplySpec, call  # noqa: E402

MODEL = "fake-model"
PROMPT = "Find me a flight from Paris to New York, check the weather there and book it."
ANSWER = "Booked CDGJFK2 for two: 445.50 USD. New York will be sunny, 24 °C."
REQUESTS_PER_RUN = 4  # three steps with calls, then the answer
CALLS_PER_RUN = 4

MODEL_LATENCY = 0.010  # seconds a model reply takes, +-50%
TOOL_LATENCY = 0.010  # seconds each async tool awaits
SCALING_LIMIT = 1.5  # per-run cost at the largest N over per-run cost at N = 100

TESTING_SIZES = (10, 100, 300, 1000)
HTTP_SIZES = (10, 50, 100)
HTTP_PROTOCOLS = ("openai", "anthropic")
LOOPS = ("toolkit", "hand")


# =========================================================================== the tools


async def search_flights(origin: str, destination: str) -> list[dict[str, Any]]:
    """Search the flights between two airports.

    Args:
        origin: IATA code of the departure airport.
        destination: IATA code of the arrival airport.
    """
    await asyncio.sleep(TOOL_LATENCY)
    return [
        {"flight": f"{origin}{destination}1", "departs": "08:05", "price": 512.0},
        {"flight": f"{origin}{destination}2", "departs": "13:40", "price": 412.5},
    ]


async def get_weather(city: str) -> dict[str, Any]:
    """The weather forecast for a city.

    Args:
        city: The city's name.
    """
    await asyncio.sleep(TOOL_LATENCY)
    return {"city": city, "sky": "sunny", "celsius": 24}


def convert_currency(amount: float, rate: float) -> float:
    """Convert an amount with an exchange rate.

    Args:
        amount: The amount to convert.
        rate: Units of the target currency per unit of the source currency.
    """
    return round(amount * rate, 2)


async def book_flight(flight: str, passengers: int) -> dict[str, Any]:
    """Book seats on a flight.

    Args:
        flight: The flight number.
        passengers: How many seats to book.
    """
    await asyncio.sleep(TOOL_LATENCY)
    return {"booking": f"BK-{flight}-{passengers}", "status": "confirmed"}


TOOLS: list[Callable[..., Any]] = [search_flights, get_weather, convert_currency, book_flight]
FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in TOOLS}

# The script of the conversation: the calls the model makes, by results received so far.
STEP_CALLS: dict[int, list[tuple[str, dict[str, Any]]]] = {
    0: [
        ("search_flights", {"origin": "CDG", "destination": "JFK"}),
        ("get_weather", {"city": "New York"}),
    ],
    2: [("convert_currency", {"amount": 412.5, "rate": 1.08})],
    3: [("book_flight", {"flight": "CDGJFK2", "passengers": 2})],
}


def _schema(properties: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in properties.items()},
        "required": list(properties),
    }


# Written by hand, as a programmer without toolkit writes them.
PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "search_flights": (
        "Search the flights between two airports.",
        _schema({"origin": "string", "destination": "string"}),
    ),
    "get_weather": ("The weather forecast for a city.", _schema({"city": "string"})),
    "convert_currency": (
        "Convert an amount with an exchange rate.",
        _schema({"amount": "number", "rate": "number"}),
    ),
    "book_flight": (
        "Book seats on a flight.",
        _schema({"flight": "string", "passengers": "integer"}),
    ),
}
OPENAI_TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "description": text, "parameters": schema}}
    for name, (text, schema) in PARAMETERS.items()
]
ANTHROPIC_TOOLS: list[dict[str, Any]] = [
    {"name": name, "description": text, "input_schema": schema}
    for name, (text, schema) in PARAMETERS.items()
]


async def call_tool(name: str, arguments: dict[str, Any]) -> Any:
    """What the hand-written loops do with a call: look the function up and call it (a
    sync one inline, as nothing else would move it off the event loop)."""
    value = FUNCTIONS[name](**arguments)
    return await value if inspect.isawaitable(value) else value


# =========================================================================== part 1: testing model


def decide(request: ModelRequest) -> ReplySpec:
    """The fake model: the next calls of the script, by tool results received so far."""
    done = sum(1 for message in request.messages if message.get("role") == "tool")
    planned = STEP_CALLS.get(done)
    if planned is None:
        return ANSWER
    return [call(name, **arguments) for name, arguments in planned]


class SlowModel(FunctionModel):
    """A ``FunctionModel`` that takes 5 to 15 ms to answer, as a hosted model takes its time.

    ``FunctionModel`` records every request (``model.requests``) for a test to inspect;
    1,000 runs would keep 4,000 of them alive for the model's lifetime, so this one drops
    them: the figures are then the runner's memory, not the test double's.
    """

    def __init__(self, seed: int) -> None:
        super().__init__(decide)
        self._random = random.Random(seed)

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        await asyncio.sleep(MODEL_LATENCY * (0.5 + self._random.random()))
        reply = self.complete(request)
        self.requests.clear()
        return reply


async def hand_testing(model: SlowModel) -> str:
    """The hand-written loop over the same model object."""
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    for _ in range(10):
        request = ModelRequest(model=None, messages=list(messages), tools=OPENAI_TOOLS)
        reply = await model.complete_async(request)
        messages.append(reply.message)
        if not reply.calls:
            return reply.text
        values = await asyncio.gather(
            *(call_tool(c.name, json.loads(cast("str", c.arguments))) for c in reply.calls)
        )
        messages.extend(
            {"role": "tool", "tool_call_id": c.id, "content": json.dumps(value)}
            for c, value in zip(reply.calls, values, strict=True)
        )
    raise RuntimeError("the model never answered")


# =========================================================================== part 2: HTTP


def server_main() -> None:
    """``--serve``: the fake server in this process, its base URL on the first line of
    stdout. Each ``stats`` line on stdin is answered with a JSON line (requests, the most
    requests in flight at once since the last ``stats``, failures); EOF stops it."""
    import socketserver

    from fakeserver import Call, FakeServer, ProtocolName, Reply

    # The listen backlog: socketserver's default of 5 makes a burst of 100 connections
    # overflow the accept queue, and the clients' requests fail with read errors.
    socketserver.TCPServer.request_queue_size = 1024
    lock = threading.Lock()
    state = {"in_flight": 0, "most": 0, "requests": 0}
    jitter = random.Random(3)

    def results_so_far(protocol: ProtocolName, body: Any) -> int:
        messages = cast("list[dict[str, Any]]", body["messages"])
        if protocol == "anthropic":
            return sum(
                1
                for message in messages
                if message["role"] == "user" and isinstance(message["content"], list)
                for block in cast("list[dict[str, Any]]", message["content"])
                if block["type"] == "tool_result"
            )
        return sum(1 for message in messages if message["role"] == "tool")

    def model(protocol: ProtocolName, body: Any) -> Reply:
        with lock:
            state["in_flight"] += 1
            state["requests"] += 1
            state["most"] = max(state["most"], state["in_flight"])
            pause = MODEL_LATENCY * (0.5 + jitter.random())
        try:
            time.sleep(pause)  # each request has its own handler thread
            planned = STEP_CALLS.get(results_so_far(protocol, body))
            if planned is None:
                return Reply.text(ANSWER)
            return Reply.calls(*(Call(name, arguments) for name, arguments in planned))
        finally:
            with lock:
                state["in_flight"] -= 1

    with FakeServer() as server:
        server.script(model)
        print(server.base_url, flush=True)
        for line in sys.stdin:
            if line.strip() == "stats":
                server.requests.clear()  # the records would pile up over the session
                with lock:
                    stats = {**state, "failures": list(server.failures)}
                    state["most"] = state["in_flight"]
                print(json.dumps(stats), flush=True)


class ServerProcess:
    """The fake server, started in its own process by :func:`server_main`."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http://"):
            self.close()
            raise RuntimeError(f"the fake server did not start: {self.base_url!r}")

    def stats(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


async def hand_openai(client: Any) -> str:
    """The loop as the OpenAI documentation writes it, made async, tools gathered."""
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    for _ in range(10):
        response = await client.chat.completions.create(
            model=MODEL, messages=messages, tools=OPENAI_TOOLS
        )
        message = response.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        calls = [c for c in message.tool_calls if c.type == "function"]
        messages.append(
            {
                "role": "assistant",
                "content": message.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in calls
                ],
            }
        )
        values = await asyncio.gather(
            *(call_tool(c.function.name, json.loads(c.function.arguments)) for c in calls)
        )
        messages.extend(
            {"role": "tool", "tool_call_id": c.id, "content": json.dumps(value)}
            for c, value in zip(calls, values, strict=True)
        )
    raise RuntimeError("the model never answered")


async def hand_anthropic(client: Any) -> str:
    """The loop as the Anthropic documentation writes it, made async, tools gathered."""
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    for _ in range(10):
        response = await client.messages.create(
            model=MODEL, max_tokens=1024, messages=messages, tools=ANTHROPIC_TOOLS
        )
        if response.stop_reason != "tool_use":
            return "".join(b.text for b in response.content if b.type == "text")
        messages.append({"role": "assistant", "content": response.content})
        uses = [b for b in response.content if b.type == "tool_use"]
        values = await asyncio.gather(*(call_tool(b.name, dict(b.input)) for b in uses))
        messages.append(
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": b.id, "content": json.dumps(value)}
                    for b, value in zip(uses, values, strict=True)
                ],
            }
        )
    raise RuntimeError("the model never answered")


# =========================================================================== the worker


@dataclass(frozen=True)
class Job:
    """One subprocess's measurement: ``n`` concurrent runs of one loop."""

    part: str  # "testing" or "http"
    loop: str  # "toolkit" or "hand"
    n: int
    batches: int  # timed batches
    protocol: str = "openai"  # http only
    base_url: str = ""  # http only
    heap: bool = True  # also run a batch under tracemalloc


def peak_rss() -> int | None:
    """The process's peak resident set size (``VmHWM``), or ``None`` off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def reset_peak_rss() -> bool:
    """Reset ``VmHWM`` to the current RSS (Linux 4.0+), so the next peak is this batch's."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def http_client(job: Job) -> tuple[Any, Callable[[Any], Awaitable[str]]]:
    """The SDK's async client for ``job`` and the hand-written loop over it."""
    # The SDKs' own httpx (httpx2 for the newer ones). max_connections above the batch:
    # every run gets a connection (the SDKs' default, 1,000, is above it too), and the
    # batch's connections stay open between batches.
    httpx: Any = importlib.import_module(
        "httpx2" if importlib.util.find_spec("httpx2") else "httpx"
    )
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=max(job.n, 100))
    if job.protocol == "openai":
        import openai

        client = openai.AsyncOpenAI(
            base_url=f"{job.base_url}/v1",
            api_key="test",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(limits=limits),
        )
        return client, hand_openai
    import anthropic

    client = anthropic.AsyncAnthropic(
        base_url=job.base_url,
        api_key="test",
        max_retries=0,
        http_client=anthropic.DefaultAsyncHttpxClient(limits=limits),
    )
    return client, hand_anthropic


def make_batch(
    job: Job,
) -> tuple[Callable[[int], Awaitable[list[str]]], Callable[[], Awaitable[None]]]:
    """``batch(n)``, which runs ``n`` conversations at once and returns their answers, and
    ``close()``, which closes the client."""
    if job.part == "testing":
        client: Any = SlowModel(seed=11)
        hand: Callable[[Any], Awaitable[str]] = hand_testing
    else:
        client, hand = http_client(job)
    runner = None
    if job.loop == "toolkit":
        runner = Runner(client, model=None if job.part == "testing" else MODEL, tools=TOOLS)

    async def one() -> str:
        if runner is None:
            return await hand(client)
        return await _answer(runner.run_async(PROMPT))

    async def batch(n: int) -> list[str]:
        return list(await asyncio.gather(*(one() for _ in range(n))))

    async def close() -> None:
        if job.part == "http":
            await client.close()

    return batch, close


async def _answer(run: Awaitable[Any]) -> str:
    result = await run
    if result.stop_reason != "end" or len(result.steps) != REQUESTS_PER_RUN:
        raise RuntimeError(f"a run stopped early: {result.stop_reason}, {len(result.steps)} steps")
    return result.text


def _check(answers: list[str], n: int) -> None:
    if answers != [ANSWER] * n:
        wrong = next(a for a in answers if a != ANSWER) if len(answers) == n else len(answers)
        raise RuntimeError(f"{n} runs, but not every one gave the answer: {wrong!r}")


async def measure(job: Job) -> dict[str, Any]:
    batch, close = make_batch(job)

    async def timed(n: int) -> tuple[float, float]:
        """Wall and CPU seconds of one checked batch of ``n`` runs."""
        gc.collect()
        wall, cpu = time.perf_counter(), time.process_time()
        answers = await batch(n)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        _check(answers, n)
        return wall, cpu

    try:
        await timed(1)  # imports, caches, a pool thread, a connection

        # The first batch of N: the peak RSS it adds. Over HTTP it also opens the
        # batch's connections, which the timed batches then reuse.
        reset = reset_peak_rss()
        before = rss_bytes() if reset else peak_rss()
        first = await timed(job.n)
        after = peak_rss()
        rss_growth = None if before is None or after is None else after - before
        timings = [first] if job.part == "testing" else []
        while len(timings) < job.batches:
            timings.append(await timed(job.n))
        threads = threading.active_count()
        heap_peak, heap_retained = await traced(batch, job.n) if job.heap else (None, None)
    finally:
        await close()
    return {
        "wall": [wall for wall, _ in timings],
        "cpu": [cpu for _, cpu in timings],
        "first": first[0],
        "rss_growth": rss_growth,
        "rss_reset": reset,
        "heap_peak": heap_peak,
        "heap_retained": heap_retained,
        "threads": threads,
    }


async def traced(batch: Callable[[int], Awaitable[list[str]]], n: int) -> tuple[int, int]:
    """One batch under tracemalloc: the peak of Python allocations it adds, and what it
    leaves allocated once it is over."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        answers = await batch(n)
        peak = tracemalloc.get_traced_memory()[1] - before
        _check(answers, n)
        del answers
        for _ in range(2):  # the loop's last callbacks still hold the finished tasks
            await asyncio.sleep(0)
        gc.collect()
        return peak, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def worker_main(spec: str) -> None:
    job = Job(**json.loads(spec))
    print(json.dumps(asyncio.run(measure(job))))


def run_job(job: Job) -> dict[str, Any]:
    spec = json.dumps(job.__dict__)
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", spec],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:]) or "no output"
        raise RuntimeError(f"worker {spec} exited with {proc.returncode}:\n{tail}") from None


# =========================================================================== the report


@dataclass
class Cell:
    """Every subprocess's figures for one (part, protocol, N, loop), merged."""

    walls: list[float]
    cpus: list[float]
    rss: list[int]
    heap: list[int]
    retained: list[int]
    threads: list[int]
    first: list[float]  # the first batch of N (over HTTP: connections opened)
    rss_reset: bool = True

    @classmethod
    def empty(cls) -> Cell:
        return cls([], [], [], [], [], [], [])

    def add(self, measured: dict[str, Any]) -> None:
        self.walls += measured["wall"]
        self.cpus += measured["cpu"]
        if measured["rss_growth"] is not None:
            self.rss.append(measured["rss_growth"])
        self.rss_reset = self.rss_reset and measured["rss_reset"]
        if measured["heap_peak"] is not None:
            self.heap.append(measured["heap_peak"])
            self.retained.append(measured["heap_retained"])
        self.threads.append(measured["threads"])
        self.first.append(measured["first"])

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)

    @property
    def heap_peak(self) -> float:
        return statistics.median(self.heap)

    def rss_growth(self) -> float | None:
        return statistics.median(self.rss) if self.rss else None


Key = tuple[str, int, str]  # (protocol or "testing", N, loop)


def collect(jobs: Sequence[Job], rounds: int) -> dict[Key, Cell]:
    """Run every job ``rounds`` times, round after round, loops alternating within a round."""
    cells: dict[Key, Cell] = {}
    for round_no in range(rounds):
        for job in jobs:
            what = job.protocol if job.part == "http" else job.part
            print(
                f"  round {round_no + 1}/{rounds}: {what}, N = {job.n}, {job.loop}",
                file=sys.stderr,
                flush=True,
            )
            key = (job.protocol if job.part == "http" else "testing", job.n, job.loop)
            # Python allocations hardly vary between processes: measured in the first round.
            measured = run_job(dataclasses.replace(job, heap=round_no == 0))
            cells.setdefault(key, Cell.empty()).add(measured)
    return cells


def print_tables(title: str, cells: dict[Key, Cell], group: str, sizes: Sequence[int]) -> None:
    speed = Table(
        f"{title}: time (median of every timed batch)",
        [
            Column("N runs", ">"),
            Column("toolkit\nwall ms", ">"),
            Column("toolkit\nruns/s", ">"),
            Column("toolkit\nrequests/s", ">"),
            Column("toolkit\nCPU µs/run", ">"),
            Column("hand-written\nwall ms", ">"),
            Column("hand-written\nruns/s", ">"),
            Column("hand-written\nCPU µs/run", ">"),
            Column("wall\nratio", ">"),
            Column("CPU\nratio", ">"),
        ],
    )
    memory = Table(
        f"{title}: memory per live run (the batch's peak over N)",
        [
            Column("N runs", ">"),
            Column("toolkit\nheap KiB", ">"),
            Column("toolkit\nRSS KiB", ">"),
            Column("toolkit\nretained B", ">"),
            Column("toolkit\nthreads", ">"),
            Column("hand-written\nheap KiB", ">"),
            Column("hand-written\nRSS KiB", ">"),
            Column("hand-written\nthreads", ">"),
            Column("heap\nratio", ">"),
        ],
    )
    for n in sizes:
        ours, theirs = cells.get((group, n, "toolkit")), cells.get((group, n, "hand"))
        if ours is None or theirs is None:
            continue
        speed.add(
            f"{n:,}",
            fmt_us(ours.wall * 1e3, 0),
            fmt_us(n / ours.wall, 0),
            fmt_us(n * REQUESTS_PER_RUN / ours.wall, 0),
            fmt_us(ours.cpu / n * 1e6, 0),
            fmt_us(theirs.wall * 1e3, 0),
            fmt_us(n / theirs.wall, 0),
            fmt_us(theirs.cpu / n * 1e6, 0),
            fmt_ratio(ours.wall / theirs.wall),
            fmt_ratio(ours.cpu / theirs.cpu),
        )
        our_rss, their_rss = ours.rss_growth(), theirs.rss_growth()
        memory.add(
            f"{n:,}",
            fmt_kib(ours.heap_peak / n),
            fmt_kib(None if our_rss is None else our_rss / n),
            fmt_us(statistics.median(ours.retained) / n, 0),
            max(ours.threads),
            fmt_kib(theirs.heap_peak / n),
            fmt_kib(None if their_rss is None else their_rss / n),
            max(theirs.threads),
            fmt_ratio(ours.heap_peak / theirs.heap_peak),
        )
    speed.note("wall: the whole batch, N runs started at once; runs/s and requests/s from it.")
    speed.note("CPU: the process's CPU time (all its threads) over N. Ratios: toolkit over")
    speed.note("hand-written. A small batch waits on the latency of the model and the tools")
    speed.note("(about 60 ms a run), a large one on the CPU.")
    speed.print()
    first = "first batch of N" if group == "testing" else "first batch of N (connections opened)"
    reset = all(cell.rss_reset for cell in cells.values())
    memory.note("heap: tracemalloc's peak of Python allocations during a batch, over N.")
    memory.note(f"RSS: growth of the process's peak RSS (VmHWM) during its {first}, over N")
    memory.note("(VmHWM reset before it)." if reset else "(VmHWM not resettable: an upper bound).")
    memory.note("retained: Python allocations still held after the batch and gc.collect(), over N.")
    memory.note("threads: alive after the batches (toolkit's pool keeps idle threads for 60 s).")
    memory.print()


def scaling(cells: dict[Key, Cell], group: str, sizes: Sequence[int], reference: int) -> list[str]:
    """Per-run costs at every N, and the largest N's over ``reference``'s; returns a FAIL
    line for each of toolkit's that grows past ``SCALING_LIMIT``."""
    largest = sizes[-1]
    table = Table(
        f"Scaling ({group}): cost per run at each N; ratio = N = {largest:,} over "
        f"N = {reference:,}",
        [
            Column("loop"),
            Column("per run"),
            *(Column(f"N = {n:,}", ">") for n in sizes),
            Column("ratio", ">"),
            Column(f"target\n<= {SCALING_LIMIT:.1f}x"),
        ],
    )
    metrics: list[tuple[str, Callable[[Cell], float | None], Callable[[float], str]]] = [
        ("wall µs", lambda cell: cell.wall, lambda v: fmt_us(v * 1e6, 0)),
        ("CPU µs", lambda cell: cell.cpu, lambda v: fmt_us(v * 1e6, 0)),
        ("heap KiB", lambda cell: cell.heap_peak, fmt_kib),
        ("RSS KiB", lambda cell: cell.rss_growth(), fmt_kib),
    ]
    ratios: dict[tuple[str, str], float] = {}
    for loop in LOOPS:
        found = {n: cells[(group, n, loop)] for n in sizes if (group, n, loop) in cells}
        if reference not in found or largest not in found:
            continue
        for name, value_of, show in metrics:
            totals = {n: value_of(cell) for n, cell in found.items()}
            at_reference, at_largest = totals[reference], totals[largest]
            if at_reference is None or at_largest is None or at_reference <= 0:
                continue
            ratio = ratios[loop, name] = (at_largest / largest) / (at_reference / reference)
            table.add(
                "toolkit" if loop == "toolkit" else "hand-written",
                name,
                *(
                    "-" if totals.get(n) is None else show(cast("float", totals[n]) / n)
                    for n in sizes
                ),
                fmt_ratio(ratio),
                verdict(ratio <= SCALING_LIMIT),
            )
        table.rule()
    table.note("Wall time per run falls while a batch waits on latency; only a rise fails.")
    table.print()
    failures: list[str] = []
    for (loop, name), ratio in ratios.items():
        if loop != "toolkit" or ratio <= SCALING_LIMIT:
            continue
        line = (
            f"FAIL: {group}: toolkit's {name} per run grows {ratio:.2f}x from N = "
            f"{reference:,} to N = {largest:,} (limit {SCALING_LIMIT:.1f}x)"
        )
        theirs = ratios.get(("hand", name))
        if theirs is not None:
            line += f"; the hand-written loop's: {theirs:.2f}x"
        failures.append(line)
        print(line)
    return failures


# =========================================================================== main


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parts",
        default="testing,http",
        help="comma-separated parts to run: testing (the testing model), http (the fake server)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="subprocesses per measurement (default 3)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)


def run_testing(rounds: int, batches: int, quick: bool) -> list[str]:
    sizes = TESTING_SIZES[:2] if quick else TESTING_SIZES
    heading("Part 1: N concurrent run_async over a testing model (FunctionModel)")
    cells = collect([Job("testing", loop, n, batches) for n in sizes for loop in LOOPS], rounds)
    print_tables("A FunctionModel answering in 5-15 ms", cells, "testing", sizes)
    if quick:
        print("\nScaling: not judged under --quick (the largest N is 100).")
        return []
    return scaling(cells, "testing", sizes, 100)


def run_http(rounds: int, batches: int, quick: bool) -> list[str]:
    sizes = HTTP_SIZES[:1] if quick else HTTP_SIZES
    heading("Part 2: N concurrent run_async over the fake HTTP server")
    print(
        "The fake server (tests/fakeserver) runs in its own process, a thread per connection,\n"
        "answering after 5-15 ms. Each client: httpx.Limits(max_connections=1000,\n"
        "max_keepalive_connections=max(N, 100)), so that every run of a batch has its own\n"
        "connection, kept open from the first batch of N to the next."
    )
    failures: list[str] = []
    server = ServerProcess()
    try:
        for protocol in HTTP_PROTOCOLS:
            jobs = [
                Job("http", loop, n, batches, protocol, server.base_url)
                for n in sizes
                for loop in LOOPS
            ]
            cells = collect(jobs, rounds)
            stats = server.stats()
            if stats["failures"]:
                raise RuntimeError(f"the fake server failed: {stats['failures']}")
            label = "AsyncOpenAI, Chat Completions" if protocol == "openai" else "AsyncAnthropic"
            print_tables(label, cells, protocol, sizes)
            first = max(statistics.median(cell.first) for cell in cells.values())
            print(
                f"Server: at most {stats['most']} requests in flight at once. The slowest first "
                f"batch (connections opened): {first * 1e3:,.0f} ms."
            )
            if len(sizes) > 1:
                failures += scaling(cells, protocol, sizes, sizes[0])
    finally:
        server.close()
    return failures


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "", argv, _configure)
    if args.serve:
        server_main()
        return
    if args.worker:
        worker_main(args.worker)
        return
    quick: bool = args.quick
    rounds: int = args.rounds or (1 if quick else 3)
    parts = [part.strip() for part in args.parts.split(",") if part.strip()]
    unknown = set(parts) - {"testing", "http"}
    if unknown:
        raise SystemExit(f"unknown part {', '.join(sorted(unknown))}: choose testing, http")

    quick_note = " (--quick: a smoke run, the numbers are rough)" if quick else ""
    print(f"toolkit concurrency benchmark{quick_note}")
    http = "httpx2" if version_of("httpx2") != "not installed" else "httpx"
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"openai {version_of('openai')}, anthropic {version_of('anthropic')}, "
        f"{http} {version_of(http)}"
    )
    print(f"At start: {load_note()}")
    print(
        f"Each measurement: {rounds} subprocess(es), toolkit's and the hand-written loop's "
        "alternating; tracemalloc in the first."
    )
    started = time.perf_counter()
    failures: list[str] = []
    if "testing" in parts:
        failures += run_testing(rounds, 1 if quick else 2, quick)
    if "http" in parts:
        failures += run_http(rounds, 1 if quick else 2, quick)
    print(f"\nAt end: {load_note()}; {time.perf_counter() - started:,.0f} s in all.")
    if failures:
        print(f"{len(failures)} scaling failure(s): see the FAIL lines above.")


if __name__ == "__main__":
    main()
