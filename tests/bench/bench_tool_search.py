"""Tool search benchmark: what a large catalog costs per request, with and without ToolSearch.

Run ``nox -s bench`` or ``python tests/bench/bench_tool_search.py [--quick] [--tools 200]``.

For a synthetic catalog (``tests/_tool_catalog.py``: twenty domains, realistic names,
descriptions and documented parameters), it measures:

size      the tool definitions of the first request, as compact JSON, in bytes and in
          tokens: every tool, against ToolSearch's first offer (the search tool and the
          ``always`` tools), and after one search has loaded five tools; for the openai and
          anthropic formats.
tokens    counted by a llama.cpp server's ``POST /tokenize`` when one is reachable at
          ``TOOLKIT_TOKENIZER_URL`` (or ``OPENAI_BASE_URL`` without its ``/v1``), e.g. the
          local model of ``scripts/local_model.py serve``: that model's tokenizer (Qwen2.5),
          close to but not the providers' own. Otherwise estimated as bytes / 4, and the
          column says "estimated".
time      building the index (``ToolSearch(tools)``, the registry snapshot included) for
          the catalog and ten times it; one query; the ``select_tools`` callback on a run
          that searched twice. Medians.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from _harness import (
    Budget,
    Column,
    Table,
    fmt_bytes,
    fmt_us,
    heading,
    load_note,
    parse_args,
    sample,
    version_of,
)

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/: the shared synthetic catalog
from _tool_catalog import catalog

from toolkit import Registry, RunState, Tool, ToolCall, ToolSearch
from toolkit.model import ModelReply, Step, Usage

ALWAYS = ["math_calculate", "files_read"]
QUERY = "send an email to bob about the invoice"
FORMATS = ("openai", "anthropic")


def _tokenizer() -> tuple[Callable[[str], int], str]:
    """A token counter and its name: a llama.cpp server's, or bytes / 4."""
    base = os.environ.get("TOOLKIT_TOKENIZER_URL")
    if base is None and os.environ.get("OPENAI_BASE_URL"):
        base = os.environ["OPENAI_BASE_URL"].rstrip("/").removesuffix("/v1")
    if base:
        url = base.rstrip("/") + "/tokenize"

        def count(text: str) -> int:
            body = json.dumps({"content": text}).encode()
            request = urllib.request.Request(
                url, body, {"Content-Type": "application/json"}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return len(json.load(response)["tokens"])

        try:
            count("hello")
        except (OSError, ValueError, KeyError) as error:
            print(f"(no tokenizer at {url}: {error}; token counts are estimated)")
        else:
            return count, "tokens (llama.cpp /tokenize)"
    return (lambda text: round(len(text.encode()) / 4)), "tokens (estimated: bytes / 4)"


def _wire(definitions: list[dict[str, Any]]) -> str:
    return json.dumps(definitions, separators=(",", ":"), ensure_ascii=False)


def _state(search: ToolSearch) -> RunState:
    """A run that searched twice (and called one tool it found)."""
    registry = Registry([search.tool])
    steps: list[Step] = []
    for index, query in enumerate([QUERY, "list calendar events"]):
        call = ToolCall(id=f"c{index}", name=search.name, arguments=json.dumps({"query": query}))
        steps.append(
            Step(
                reply=ModelReply(message={}, calls=(call,)), results=tuple(registry.execute([call]))
            )
        )
    used = ToolCall(id="c9", name="email_send", arguments="{}")
    steps.append(Step(reply=ModelReply(message={}, calls=(used,))))
    return RunState(messages=[], steps=steps, usage=Usage())


def _sizes(tools: list[Tool[..., Any]], count: Callable[[str], int], label: str) -> Table:
    search = ToolSearch(tools, always=ALWAYS)
    by_name = {t.name: t for t in tools}
    found = [m.name for m in search.search(QUERY)]
    offers = {
        f"all {len(tools)} tools": tools,
        "ToolSearch, first request": [search.tool, *(by_name[n] for n in ALWAYS)],
        f"after one search (+{len(found)})": [
            search.tool,
            *(by_name[n] for n in ALWAYS),
            *(by_name[n] for n in found),
        ],
    }
    table = Table(
        f"Tool definitions sent in a request ({len(tools)}-tool catalog)",
        [
            "format",
            "offered",
            Column("tools", ">"),
            Column("bytes", ">"),
            Column(label, ">"),
            Column("of all", ">"),
        ],
    )
    for fmt in FORMATS:
        full: float | None = None
        for offered, chosen in offers.items():
            text = _wire(Registry(chosen).definitions(fmt))
            tokens = count(text)
            full = tokens if full is None else full
            table.add(
                fmt,
                offered,
                len(chosen),
                fmt_bytes(len(text.encode())),
                fmt_bytes(tokens),
                f"{100 * tokens / full:.1f}%",
            )
        table.rule()
    table.rows.pop()
    table.note(f"always = {ALWAYS}; the search: {QUERY!r} (limit 5). Compact JSON.")
    return table


def _times(sizes: Sequence[int], budget: Budget) -> Table:
    table = Table(
        "ToolSearch timings (median)",
        [
            Column("tools", ">"),
            Column("build index\n(ms)", ">"),
            Column("query\n(µs)", ">"),
            Column("1 MB query\n(µs)", ">"),
            Column("select_tools\n(µs)", ">"),
        ],
    )
    for size in sizes:
        tools = catalog(size)
        build = sample(
            lambda t: ToolSearch(t, always=ALWAYS),
            lambda tools=tools: tools,
            repeats=budget.scaled(30, 3),
            warmup=budget.scaled(3, 1),
        )
        search = ToolSearch(tools, always=ALWAYS)
        query = sample(search.search, lambda: QUERY, repeats=budget.repeats, warmup=budget.warmup)
        huge = sample(
            search.search,
            lambda: "invoice " * 131_072,
            repeats=budget.repeats,
            warmup=budget.warmup,
        )
        state = _state(search)
        select = sample(
            search, lambda state=state: state, repeats=budget.repeats, warmup=budget.warmup
        )
        table.add(
            size,
            fmt_us(build.median_us / 1000, 2),
            fmt_us(query.median_us),
            fmt_us(huge.median_us),
            fmt_us(select.median_us),
        )
    table.note(f"query: {QUERY!r}; the 1 MB query is cut at 1,000 characters before it is read.")
    table.note("select_tools: the callback on a run that searched twice and called one tool.")
    return table


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0] if __doc__ else "",
        argv,
        lambda p: p.add_argument("--tools", type=int, default=200, help="catalog size"),
    )
    budget = Budget.from_args(args, repeats=300, quick_repeats=15)
    size: int = args.tools
    print("toolkit tool search benchmark" + (" (--quick)" if budget.quick else ""))
    print(
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()},"
        f" {os.cpu_count()} CPUs; toolkit {version_of('toolkit-llm')}; {load_note()}"
    )
    count, label = _tokenizer()
    heading("Request size")
    _sizes(catalog(size), count, label).print()
    heading("Time")
    _times([size, size * 10], budget).print()


if __name__ == "__main__":
    main()
