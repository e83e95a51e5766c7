"""Loop benchmark: a 10-step tool conversation through ``Runner`` against a hand-written loop.

Run ``nox -s bench`` or, in an environment with toolkit installed,
``python tests/bench/bench_loop.py [--quick] [--backends openai,anthropic] [--profile]``.

The conversation: the model calls a trivial tool nine times, one call per step, each call
depending on nothing but the step, then answers in text: ten requests. The model is the
project's fake server (``tests/fakeserver``) on 127.0.0.1, driven by the real ``openai`` and
``anthropic`` clients, so both loops pay the same HTTP, JSON and SDK costs and differ only
in what happens between two requests. The hand-written loop is what the SDK's documentation
shows: build the messages, call ``create``, ``json.loads`` the arguments (OpenAI), call the
function, append the results, until the model answers.

Both loops run interleaved, one conversation each per round, and the table shows the median
wall time of a whole conversation and the runner's ratio to the hand-written loop. The
target (ratio <= 1.15x) is informational: the script always exits 0. ``--profile`` prints a
cProfile of the runner's conversations, keeping toolkit's own functions.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import json
import os
import platform
import pstats
import sys
from collections.abc import Callable, Sequence
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
    sample_round_robin,
    verdict,
    version_of,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # the fake server lives in tests/fakeserver
if importlib.util.find_spec("toolkit") is None:
    sys.path.insert(0, str(ROOT))  # run from a checkout without `pip install -e .`

import anthropic  # noqa: E402
import openai  # noqa: E402
from fakeserver import Call, FakeServer, ProtocolName, Reply  # noqa: E402

from toolkit import Limits, Runner, tool  # noqa: E402

INLINE = Limits(tool_timeout=None)

RATIO_TARGET = 1.15  # runner conversation / hand-written conversation
TOOL_CALLS = 9  # one per step, then the answer: ten requests
MODEL = "fake-model"
PROMPT = "Ping the server nine times, one ping at a time, then tell me how it went."
ANSWER = "All nine pings came back."


# =========================================================================== the tool


def ping(n: int) -> str:
    """Ping the server once.

    Args:
        n: The ping's sequence number.
    """
    return f"pong {n}"


PING = tool(ping)

OPENAI_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "ping",
            "description": "Ping the server once.",
            "parameters": {
                "type": "object",
                "properties": {"n": {"type": "integer", "description": "The sequence number."}},
                "required": ["n"],
            },
        },
    }
]
ANTHROPIC_TOOLS: list[dict[str, Any]] = [
    {
        "name": "ping",
        "description": "Ping the server once.",
        "input_schema": OPENAI_TOOLS[0]["function"]["parameters"],
    }
]


# =========================================================================== the fake model


def _results_so_far(protocol: ProtocolName, body: Any) -> int:
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
    """Call ``ping`` once per step until nine results came back, then answer."""
    done = _results_so_far(protocol, body)
    if done < TOOL_CALLS:
        return Reply.calls(Call("ping", {"n": done + 1}))
    return Reply.text(ANSWER)


# =========================================================================== the two loops


def hand_openai(client: openai.OpenAI) -> str:
    """The loop as the OpenAI documentation writes it."""
    functions: dict[str, Callable[..., Any]] = {"ping": ping}
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    for _ in range(10):
        response = client.chat.completions.create(
            model=MODEL, messages=messages, tools=cast("Any", OPENAI_TOOLS)
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
        for c in calls:
            result = functions[c.function.name](**json.loads(c.function.arguments))
            messages.append({"role": "tool", "tool_call_id": c.id, "content": str(result)})
    raise RuntimeError("the model never answered")


def hand_anthropic(client: anthropic.Anthropic) -> str:
    """The loop as the Anthropic documentation writes it."""
    functions: dict[str, Callable[..., Any]] = {"ping": ping}
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    for _ in range(10):
        response = client.messages.create(
            model=MODEL, max_tokens=1024, messages=messages, tools=cast("Any", ANTHROPIC_TOOLS)
        )
        if response.stop_reason != "tool_use":
            return "".join(b.text for b in response.content if b.type == "text")
        messages.append({"role": "assistant", "content": response.content})
        results: list[dict[str, Any]] = []
        for block in response.content:
            if block.type == "tool_use":
                result = functions[block.name](**cast("dict[str, Any]", block.input))
                results.append(
                    {"type": "tool_result", "tool_use_id": block.id, "content": str(result)}
                )
        messages.append({"role": "user", "content": results})
    raise RuntimeError("the model never answered")


def with_runner(runner: Runner) -> str:
    result = runner.run(PROMPT)
    if result.stop_reason != "end":
        raise RuntimeError(f"the runner stopped early: {result.stop_reason}")
    return result.text


# =========================================================================== measuring


@dataclass(frozen=True)
class Backend:
    """One provider: its client, the runners over it and the hand-written loop.

    ``runner`` runs with ``Limits(tool_timeout=None)``: like the hand-written loop, it calls
    the tool inline. ``guarded`` keeps the default per-call timeout, which runs each sync
    tool call in a worker thread (the only way to abandon a call that hangs)."""

    name: str
    runner: Runner
    guarded: Runner
    hand: Callable[[], str]
    close: Callable[[], None]


def make_backends(server: FakeServer, names: Sequence[str]) -> list[Backend]:
    backends: list[Backend] = []
    for name in names:
        if name == "openai":
            oai = openai.OpenAI(base_url=server.openai_base_url, api_key="test", max_retries=0)
            runner = Runner(oai, model=MODEL, tools=[PING], limits=INLINE)
            guarded = Runner(oai, model=MODEL, tools=[PING])
            backends.append(
                Backend("OpenAI Chat", runner, guarded, lambda c=oai: hand_openai(c), oai.close)
            )
        elif name == "anthropic":
            ant = anthropic.Anthropic(
                base_url=server.anthropic_base_url, api_key="test", max_retries=0
            )
            runner = Runner(ant, model=MODEL, tools=[PING], limits=INLINE)
            guarded = Runner(ant, model=MODEL, tools=[PING])
            backends.append(
                Backend("Anthropic", runner, guarded, lambda c=ant: hand_anthropic(c), ant.close)
            )
        else:
            raise SystemExit(f"unknown backend {name!r}: choose openai, anthropic")
    return backends


def check(server: FakeServer, backend: Backend) -> None:
    """Both loops send the same ten requests and get the same answer."""
    answers: list[str] = []
    counts: list[int] = []
    for run in (
        lambda: with_runner(backend.runner),
        lambda: with_runner(backend.guarded),
        backend.hand,
    ):
        server.requests.clear()
        answers.append(run())
        counts.append(len(server.requests))
    expected = TOOL_CALLS + 1
    if answers != [ANSWER] * 3 or counts != [expected] * 3:
        raise RuntimeError(f"{backend.name}: the loops differ: {answers} {counts}")
    if server.failures:
        raise RuntimeError(f"{backend.name}: the fake server failed: {server.failures}")


@dataclass(frozen=True)
class Measured:
    backend: str
    runner: Samples
    hand: Samples

    @property
    def ratio(self) -> float:
        return self.runner.median_ns / self.hand.median_ns


def measure(server: FakeServer, backend: Backend, budget: Budget) -> list[Measured]:
    check(server, backend)
    runner, guarded, hand = sample_round_robin(
        [
            [lambda _: with_runner(backend.runner)],
            [lambda _: with_runner(backend.guarded)],
            [lambda _: backend.hand()],
        ],
        server.requests.clear,  # off the clock: the server's records do not pile up
        repeats=budget.repeats,
        warmup=budget.warmup,
    )
    return [
        Measured(f"{backend.name}, tools inline", runner[0], hand[0]),
        Measured(f"{backend.name}, default timeout", guarded[0], hand[0]),
    ]


def print_table(rows: Sequence[Measured], budget: Budget) -> None:
    table = Table(
        f"A 10-step conversation (9 tool calls, then the answer) against the fake server: "
        f"median ms of {budget.repeats} interleaved runs",
        [
            Column("backend"),
            Column("Runner\nms", ">"),
            Column("hand-written\nms", ">"),
            Column("per step\nµs extra", ">"),
            Column("ratio", ">"),
            Column(f"target\n<= {RATIO_TARGET:.2f}x"),
        ],
    )
    for row in rows:
        extra_us = (row.runner.median_us - row.hand.median_us) / (TOOL_CALLS + 1)
        table.add(
            row.backend,
            fmt_us(row.runner.median_us / 1000, 2),
            fmt_us(row.hand.median_us / 1000, 2),
            fmt_us(extra_us),
            fmt_ratio(row.ratio),
            verdict(row.ratio <= RATIO_TARGET),
        )
    table.note("Both loops use the same client and server; only the work between requests")
    table.note("differs. Per step: the runner's extra time per request (ten per run).")
    table.note("tools inline: Limits(tool_timeout=None), the tool called in the run's thread,")
    table.note("as the hand-written loop does. default timeout: each call in a worker thread,")
    table.note("so that a hung tool can be answered with a timeout (the fake server shares the")
    table.note("interpreter, which makes that thread hop dearer here than against a real API).")
    table.print()


def profile(backend: Backend, runs: int, top: int = 15) -> None:
    """A cProfile of ``runs`` runner conversations: toolkit's functions, by cumulative time."""
    with_runner(backend.runner)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        with_runner(backend.runner)
    profiler.disable()
    entries = cast("dict[tuple[str, int, str], tuple[Any, ...]]", pstats.Stats(profiler).stats)
    package = str(ROOT / "toolkit")
    ours = [item for item in entries.items() if item[0][0].startswith(package)]
    steps = runs * (TOOL_CALLS + 1)
    table = Table(
        f"cProfile of {runs} runner conversations ({backend.name}): toolkit's functions by "
        "cumulative time, µs per step (cProfile's overhead inflates every entry)",
        [
            Column("function"),
            Column("calls/\nstep", ">"),
            Column("own µs", ">"),
            Column("cumulative µs", ">"),
        ],
    )
    # The primitive-call count: cProfile counts one call too many in the total here.
    for (filename, line, name), (calls, _, own, cumulative, _) in sorted(
        ours, key=lambda item: item[1][3], reverse=True
    )[:top]:
        where = f"{Path(filename).relative_to(ROOT)}:{line}({name})"
        table.add(
            where,
            f"{calls / steps:g}",
            fmt_us(own / steps * 1e6, 2),
            fmt_us(cumulative / steps * 1e6, 2),
        )
    table.print()


# =========================================================================== main


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backends",
        default="openai,anthropic",
        help="comma-separated backends to measure (default: openai,anthropic)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of the runner's loop"
    )
    parser.add_argument(
        "--tracing",
        choices=("off", "noop", "sdk"),
        default="off",
        help="OpenTelemetry while the runner runs: off (no provider set), noop (the API's "
        "NoOpTracerProvider: spans made, none recorded), sdk (the SDK's provider with no "
        "exporter: spans recorded and dropped)",
    )


def _trace_with(mode: str) -> None:
    """Set the global tracer provider the runner's spans go to (``off``: none)."""
    if mode == "off":
        return
    from opentelemetry import trace

    if mode == "noop":
        trace.set_tracer_provider(trace.NoOpTracerProvider())
    else:
        from opentelemetry.sdk.trace import TracerProvider

        trace.set_tracer_provider(TracerProvider())


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0] if __doc__ else "", argv, _configure)
    budget = Budget.from_args(args, repeats=60, warmup=5, quick_repeats=10, quick_warmup=2)
    names = [name.strip() for name in args.backends.split(",") if name.strip()]

    quick_note = " (--quick: a smoke run, the numbers are rough)" if budget.quick else ""
    print(f"toolkit loop benchmark{quick_note}")
    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; "
        f"openai {version_of('openai')}, anthropic {version_of('anthropic')}"
    )
    print(f"At start: {load_note()}")
    _trace_with(args.tracing)
    print(f"OpenTelemetry: {args.tracing}")

    with FakeServer() as server:
        server.script(model)
        backends = make_backends(server, names)
        try:
            heading("Runner against a hand-written loop")
            rows = [row for backend in backends for row in measure(server, backend, budget)]
            print_table(rows, budget)
            print(f"\nAt end: {load_note()}")
            if args.profile:
                for backend in backends:
                    profile(backend, budget.scaled(50, 10))
        finally:
            for backend in backends:
                backend.close()


if __name__ == "__main__":
    main()
