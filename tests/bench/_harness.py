"""Timing, memory and table helpers shared by the benchmark scripts in ``tests/bench``.

Every benchmark is a plain script (``python tests/bench/bench_NAME.py [--quick]``) made of
sections. A section times work with :func:`sample` or :func:`sample_chain`, which take
medians of ``time.perf_counter_ns`` samples with the garbage collector paused, and prints
its results as :class:`Table` objects: plain text with aligned columns, so the output can
be pasted into an issue or a pull request as it is.

A new benchmark (dispatch per call, the runner loop, ...) is a sibling script that imports
this module (``from _harness import ...``: a script's own folder is first on ``sys.path``)
and calls :func:`parse_args` so that ``--quick`` means the same everywhere.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal, TypeVar

__all__ = [
    "Budget",
    "Column",
    "Samples",
    "Table",
    "fmt_bytes",
    "fmt_kib",
    "fmt_ratio",
    "fmt_us",
    "gc_paused",
    "heading",
    "load_note",
    "parse_args",
    "rss_bytes",
    "sample",
    "sample_chain",
    "sample_round_robin",
    "verdict",
    "version_of",
]

T = TypeVar("T")

NOT_INSTALLED = "not installed"


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Budget:
    """How much work a run may do: ``--quick`` shrinks every count to a smoke test."""

    quick: bool
    repeats: int
    warmup: int

    @classmethod
    def from_args(
        cls,
        args: argparse.Namespace,
        *,
        repeats: int = 300,
        warmup: int = 30,
        quick_repeats: int = 15,
        quick_warmup: int = 3,
    ) -> Budget:
        quick = bool(args.quick)
        return cls(
            quick=quick,
            repeats=quick_repeats if quick else repeats,
            warmup=quick_warmup if quick else warmup,
        )

    def scaled(self, full: int, quick: int) -> int:
        """Pick the count for this run: ``full`` normally, ``quick`` under ``--quick``."""
        return quick if self.quick else full


def parse_args(
    description: str,
    argv: Sequence[str] | None = None,
    configure: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """Parse the options every benchmark shares (``--quick``) plus the script's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="few repeats: a fast smoke run, not a measurement"
    )
    if configure is not None:
        configure(parser)
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- timing


@dataclass(frozen=True)
class Samples:
    """Wall-clock samples of one measured step, in nanoseconds."""

    ns: tuple[int, ...]

    @property
    def median_ns(self) -> float:
        return float(statistics.median(self.ns))

    @property
    def median_us(self) -> float:
        return self.median_ns / 1_000

    @property
    def min_us(self) -> float:
        return min(self.ns) / 1_000

    def quantile_us(self, q: float) -> float:
        """The ``q`` quantile (0 < q < 1) in microseconds, by the nearest-rank rule."""
        ordered = sorted(self.ns)
        rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[rank] / 1_000


@contextmanager
def gc_paused() -> Generator[None, None, None]:
    """Collect once, then keep the cyclic collector off (as ``timeit`` does) until exit."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def sample_round_robin(
    chains: Sequence[Sequence[Callable[[Any], Any]]],
    make_input: Callable[[], Any],
    *,
    repeats: int,
    warmup: int,
) -> list[list[Samples]]:
    """Time several chains of steps, interleaved, each step separately.

    Every round runs each chain once, in turn. A chain gets a fresh ``make_input()`` made
    off the clock, feeds it to its first step, that step's result to the next, and so on;
    each step has its own clock. Results are dropped off the clock too, so no deallocation
    lands in a measurement. Interleaving makes the chains share any drift in machine
    load, so their ratios stay meaningful on a busy machine.

    Returns one list of :class:`Samples` per chain, one entry per step.
    """
    clock = time.perf_counter_ns
    timings: list[list[list[int]]] = [[[] for _ in chain] for chain in chains]
    with gc_paused():
        for round_no in range(warmup + repeats):
            for chain, chain_timings in zip(chains, timings, strict=True):
                value = make_input()
                kept: list[Any] = [value]
                for step, step_timings in zip(chain, chain_timings, strict=True):
                    start = clock()
                    value = step(value)
                    elapsed = clock() - start
                    kept.append(value)
                    if round_no >= warmup:
                        step_timings.append(elapsed)
                del value, kept
            if round_no % 20 == 19:
                gc.collect()  # off the clock: keeps the paused collector's backlog small
    return [[Samples(tuple(t)) for t in chain_timings] for chain_timings in timings]


def sample_chain(
    steps: Sequence[Callable[[Any], Any]],
    make_input: Callable[[], Any],
    *,
    repeats: int,
    warmup: int,
) -> list[Samples]:
    """Time one chain of steps (see :func:`sample_round_robin`): one Samples per step."""
    return sample_round_robin([steps], make_input, repeats=repeats, warmup=warmup)[0]


def sample(
    call: Callable[[T], object],
    make_input: Callable[[], T],
    *,
    repeats: int,
    warmup: int,
) -> Samples:
    """Time ``call(make_input())`` after ``warmup`` rounds; the input is made off the clock."""
    return sample_chain([call], make_input, repeats=repeats, warmup=warmup)[0]


# --------------------------------------------------------------------------- memory


def rss_bytes() -> int | None:
    """Current resident set size of this process, or ``None`` where it cannot be read.

    Reads ``/proc/self/statm`` (Linux). ``resource.getrusage`` only reports the peak, which
    cannot show growth after a peak, so it is not used as a fallback.
    """
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def load_note() -> str:
    """The 1-minute load average against the CPU count, with a warning when it is high."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return "load average unknown"
    cpus = os.cpu_count() or 1
    note = f"load average {load:.2f} on {cpus} CPUs"
    if load > 0.5 * cpus:
        note += " (busy: other processes compete, absolute times are inflated and noisy)"
    return note


# --------------------------------------------------------------------------- output


def version_of(distribution: str) -> str:
    """The installed version of ``distribution``, or ``"not installed"``."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def fmt_us(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def fmt_bytes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def fmt_kib(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1024:,.2f}"


def verdict(ok: bool | None) -> str:
    """``PASS`` / ``MISS`` beside a target, ``n/a`` when it could not be measured."""
    if ok is None:
        return "n/a"
    return "PASS" if ok else "MISS"


def heading(title: str, char: str = "=") -> None:
    print()
    print(title)
    print(char * len(title))


@dataclass(frozen=True)
class Column:
    """A table column; ``title`` may span lines (``"\\n"``), ``align`` is ``"<"`` or ``">"``."""

    title: str
    align: Literal["<", ">"] = "<"


class Table:
    """A plain-text table with aligned columns, a title and footnotes."""

    def __init__(self, title: str, columns: Sequence[Column | str]) -> None:
        self.title = title
        self.columns = [c if isinstance(c, Column) else Column(c) for c in columns]
        self.rows: list[list[str] | None] = []
        self.notes: list[str] = []

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells, table has {len(self.columns)} columns")
        self.rows.append([str(cell) for cell in cells])

    def rule(self) -> None:
        """Draw a separator line before the next row."""
        self.rows.append(None)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        header_lines = [c.title.split("\n") for c in self.columns]
        depth = max(len(lines) for lines in header_lines)
        # Short titles sit on the bottom header line, next to the rule.
        header_lines = [[""] * (depth - len(lines)) + lines for lines in header_lines]
        widths = [
            max([len(line) for line in lines] + [len(row[i]) for row in self.rows if row])
            for i, lines in enumerate(header_lines)
        ]

        def line(cells: Sequence[str]) -> str:
            parts = [
                f"{cell:{col.align}{width}}"
                for cell, col, width in zip(cells, self.columns, widths, strict=True)
            ]
            return "  ".join(parts).rstrip()

        separator = "  ".join("-" * w for w in widths)
        out = [self.title]
        out.extend(line([lines[d] for lines in header_lines]) for d in range(depth))
        out.append(separator)
        out.extend(separator if row is None else line(row) for row in self.rows)
        out.extend(f"  {note}" for note in self.notes)
        return "\n".join(out)

    def print(self) -> None:
        print()
        print(self.render())
        sys.stdout.flush()
