"""Throwaway installed distributions, for tests of pack discovery and loading.

``fake_distributions`` (a fixture in conftest.py) hands a ``Distributions`` whose ``add``
writes a real ``*.dist-info`` directory (METADATA and entry_points.txt, the files pip
writes) and the distribution's modules into a temporary directory on ``sys.path``; the
standard library's ``importlib.metadata`` then finds them like any installed distribution.
Everything is removed afterwards, modules included.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path


class Distributions:
    """Installed-looking distributions in one directory on ``sys.path``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: set[str] = set()

    def add(
        self,
        distribution: str,
        packs: Mapping[str, str],
        modules: Mapping[str, str] | None = None,
        *,
        version: str = "1.0",
        summary: str = "",
    ) -> None:
        """Install ``distribution`` declaring ``packs`` (entry-point name -> value) in the
        ``toolkit.packs`` group, with ``modules`` (module name -> source)."""
        folder = distribution.replace("-", "_")
        info = self.root / f"{folder}-{version}.dist-info"
        info.mkdir()
        headers = f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        if summary:
            headers += f"Summary: {summary}\n"
        (info / "METADATA").write_text(headers + "\nA long description that is not read.\n")
        lines = "".join(f"{name} = {value}\n" for name, value in packs.items())
        (info / "entry_points.txt").write_text(f"[toolkit.packs]\n{lines}")
        for name, source in (modules or {}).items():
            path = self.root / (name.replace(".", "/") + ".py")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
            self.modules.add(name)
        importlib.invalidate_caches()

    def imported(self, module: str) -> bool:
        """Whether ``module`` was imported."""
        return module in sys.modules

    def close(self) -> None:
        sys.path.remove(str(self.root))
        for name in list(sys.modules):
            if any(name == m or name.startswith(m + ".") for m in self.modules):
                del sys.modules[name]
        importlib.invalidate_caches()


def open_distributions(root: Path) -> Distributions:
    """A ``Distributions`` in ``root``, put first on ``sys.path``."""
    root.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    return Distributions(root)
