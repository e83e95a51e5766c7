"""Pack discovery benchmark: listing installed packs without importing them.

Run ``nox -s bench`` or ``python tests/bench/bench_packs.py [--quick] [--packs 50]``.

It installs ``--packs`` throwaway pack distributions (a ``*.dist-info`` with METADATA and an
entry point each, the files pip writes, plus a module that would take 20 ms to import) in a
temporary directory, and times, in fresh interpreters (the first listing of a process, as a
command or an application start sees it), with every distribution of this environment also
on the path:

floor     ``importlib.metadata.entry_points(group="toolkit.packs")``: what any entry-point
          discovery pays.
toolkit   ``toolkit.packs.installed_packs()``: the floor plus each distribution's name,
          version and summary, read from the METADATA headers. Imports no pack.
import    loading every entry point, as plugin systems that import at discovery do
          (pluggy's ``load_setuptools_entrypoints``, which simonw/llm uses).

The target is under 100 ms for 50 packs, without importing any.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path

from _harness import Budget, Column, Table, fmt_ratio, heading, parse_args, verdict, version_of

TARGET_MS = 100.0

_PROBES = {
    "floor": """
        from importlib import metadata
        found = list(metadata.entry_points(group="toolkit.packs"))
    """,
    "toolkit": """
        from toolkit.packs import installed_packs  # (not timed, like the floor's import)
        started = time.perf_counter()
        found = installed_packs()
        elapsed = time.perf_counter() - started
        assert not any(name.startswith("benchpack_mod") for name in sys.modules), "imported"
    """,
    "import": """
        from importlib import metadata
        found = [entry.load() for entry in metadata.entry_points(group="toolkit.packs")]
    """,
}


def _install(root: Path, count: int) -> None:
    for index in range(count):
        info = root / f"benchpack_{index}-1.0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: benchpack-{index}\nVersion: 1.0\n"
            f"Summary: Benchmark pack {index}.\n\n" + "A long description.\n" * 200
        )
        (info / "entry_points.txt").write_text(
            f"[toolkit.packs]\nbench{index} = benchpack_mod{index}:TOOLS\n"
        )
        (root / f"benchpack_mod{index}.py").write_text(
            "import time\ntime.sleep(0.02)  # a pack that is slow to import\nTOOLS = []\n"
        )


def _time(probe: str, root: Path, runs: int) -> tuple[float, int]:
    """Median milliseconds of ``probe``'s listing over ``runs`` fresh interpreters, and
    how many packs it found."""
    if probe == "toolkit":
        body = textwrap.dedent(_PROBES[probe])
    else:  # time the same way: around the listing only
        body = (
            "started = time.perf_counter()\n"
            + textwrap.dedent(_PROBES[probe])
            + "elapsed = time.perf_counter() - started\n"
        )
    # importlib.metadata is imported before the clock starts, in every probe: the listing
    # is timed, not the import of the module that lists.
    script = (
        f"import sys, time\nfrom importlib import metadata\nsys.path.insert(0, {str(root)!r})\n"
        f"{body}print(elapsed, len(found))\n"
    )
    timings: list[float] = []
    found = 0
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        ).stdout.split()
        timings.append(float(out[0]) * 1000)
        found = int(out[1])
    return statistics.median(timings), found


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0] if __doc__ else "",
        argv,
        lambda p: p.add_argument("--packs", type=int, default=50, help="packs to install"),
    )
    budget = Budget.from_args(args, repeats=15, quick_repeats=3)
    count: int = args.packs
    print("toolkit pack discovery benchmark" + (" (--quick)" if budget.quick else ""))
    print(
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()},"
        f" {os.cpu_count()} CPUs; toolkit {version_of('toolkit-llm')}"
    )
    heading(f"Listing {count} installed packs (fresh interpreter each, median of {budget.repeats})")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _install(root, count)
        results = {probe: _time(probe, root, budget.repeats) for probe in _PROBES}
    floor = results["floor"][0]
    table = Table(
        f"{count} packs",
        [Column("what"), Column("ms", ">"), Column("vs floor", ">"), Column("packs", ">")],
    )
    labels = {
        "floor": "entry_points(group=...) (floor)",
        "toolkit": "toolkit.packs.installed_packs()",
        "import": "import every pack (pluggy-style)",
    }
    for probe, (ms, found) in results.items():
        table.add(labels[probe], f"{ms:.1f}", fmt_ratio(ms / floor if floor else None), found)
    table.print()
    ms = results["toolkit"][0]
    print(
        f"target: listing {count} packs under {TARGET_MS:.0f} ms without imports:"
        f" {ms:.1f} ms {verdict(ms < TARGET_MS)}"
    )


if __name__ == "__main__":
    main()
