"""Tool packs: installable sets of tools any toolkit application can load.

A pack is published through the ``toolkit.packs`` entry-point group; the entry-point name is
its namespace, and the value points at a ``Pack``, a list of tools, a toolbox class or a
factory. Installed packs are listed without importing them (``installed_packs``), imported
only when loaded (``load_pack``, ``Registry.add_pack``), and never offered to a model unless
asked for by name (``Registry.add_packs`` with an allowlist or ``TOOLKIT_PACKS``)::

    registry = Registry()
    registry.add_pack("files", config={"root": "/srv/notes"}, exclude_tags={"write"})

Packs ship evaluation cases (``EvalCase``) that ``run_evals`` and ``toolkit eval`` score
against a real model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from toolkit.packs._cases import EvalCase, Expect, Matcher, anything, approx, matches, one_of
from toolkit.packs._installed import ENTRY_POINT_GROUP, PackInfo, installed_packs, load_pack
from toolkit.packs._pack import Pack, PackError, PackWarning

if TYPE_CHECKING:
    from toolkit.packs._evals import CaseOutcome, EvalReport, run_evals

__all__ = [
    "ENTRY_POINT_GROUP",
    "CaseOutcome",
    "EvalCase",
    "EvalReport",
    "Expect",
    "Matcher",
    "Pack",
    "PackError",
    "PackInfo",
    "PackWarning",
    "anything",
    "approx",
    "installed_packs",
    "load_pack",
    "matches",
    "one_of",
    "run_evals",
]

_LAZY = {"CaseOutcome", "EvalReport", "run_evals"}  # they bring the runner's backends


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'toolkit.packs' has no attribute {name!r}")
    value = getattr(importlib.import_module("toolkit.packs._evals"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
