"""Installed packs: found through the ``toolkit.packs`` entry points, imported on demand.

``installed_packs`` reads only the installed metadata (entry points, and the headers of each
distribution's METADATA), so listing costs the same whether the packs are light or heavy,
broken or not. ``load_pack`` imports one pack and turns whatever its entry point names into a
``Pack``; every failure becomes a ``PackError`` naming the pack, its distribution and the
cause. Where many packs load at once (``Registry.add_packs``), ``report`` warns of a failure
once and the others go on, unless ``TOOLKIT_PACKS_STRICT=1`` asks for the exception.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import metadata
from typing import Any, cast

from toolkit.packs._pack import Pack, PackError, PackWarning, cause
from toolkit.schema import namespace_problem

__all__ = [
    "ENTRY_POINT_GROUP",
    "PackInfo",
    "installed_packs",
    "load_pack",
    "packs_from_environment",
    "report",
    "strict_packs",
]

ENTRY_POINT_GROUP = "toolkit.packs"
_MAX_SUMMARY_CHARS = 300
_reported: set[tuple[str, str]] = set()  # (pack, cause) already warned about in this process


@dataclass(frozen=True, slots=True)
class PackInfo:
    """An installed pack, as its metadata describes it (nothing imported).

    Attributes:
        name: The entry-point name: the pack's name and namespace.
        distribution: The distribution that installs it (``None`` if unknown).
        version: The distribution's version.
        summary: The distribution's one-line summary.
        value: What the entry point names, ``"module:attribute"``.
        problem: Why the pack cannot be loaded before even importing it (an unusable name,
            a name two distributions declare), or ``None``.
    """

    name: str
    distribution: str | None
    version: str | None
    summary: str
    value: str
    problem: str | None = None

    @property
    def origin(self) -> str:
        """``"pack 'name' (distribution 1.0)"``, for messages."""
        if self.distribution is None:
            return f"pack {self.name!r}"
        release = (
            self.distribution if self.version is None else f"{self.distribution} {self.version}"
        )
        return f"pack {self.name!r} ({release})"


def installed_packs() -> list[PackInfo]:
    """The installed packs, sorted by name, read from the metadata without importing any.

    A name declared by two distributions is listed once per distribution, each with a
    ``problem`` naming the other; a name that is not a usable namespace has a ``problem``.
    """
    found: list[PackInfo] = []
    seen: set[tuple[str, str | None]] = set()
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(entry, "dist", None)
        headers = _headers(dist)
        distribution = headers.get("name")
        key = (entry.name, distribution)
        if key in seen:  # the same distribution seen twice on sys.path: the first wins
            continue
        seen.add(key)
        found.append(
            PackInfo(
                name=entry.name,
                distribution=distribution,
                version=headers.get("version"),
                summary=headers.get("summary", "")[:_MAX_SUMMARY_CHARS],
                value=entry.value,
                problem=namespace_problem(entry.name),
            )
        )
    by_name: dict[str, list[PackInfo]] = {}
    for info in found:
        by_name.setdefault(info.name, []).append(info)
    listed: list[PackInfo] = []
    for name in sorted(by_name):
        same = by_name[name]
        for info in same:
            problem = info.problem
            if len(same) > 1 and problem is None:
                others = ", ".join(str(o.distribution) for o in same if o is not info)
                problem = (
                    f"the name {name!r} is also declared by {others}: uninstall one"
                    " of them (pip uninstall ...)"
                )
            listed.append(replace(info, problem=problem))
    return listed


def load_pack(pack: str | PackInfo | Pack) -> Pack:
    """The ``Pack`` of an installed pack (imported now), or ``pack`` itself.

    Whatever the entry point names (a ``Pack``, a list of tools, a toolbox class or a
    factory) becomes a ``Pack`` named after the entry point, described and versioned by its
    distribution unless it says otherwise. Nothing is built yet: ``Pack.build(config)``
    (or ``Registry.add_pack``) does that.

    Raises:
        PackError: no pack has that name, or it cannot be imported, naming the
            distribution and the cause.
    """
    if isinstance(pack, Pack):
        return pack
    info = pack if isinstance(pack, PackInfo) else _find(pack)
    if info.problem is not None:
        raise PackError(f"{info.origin}: {info.problem}")
    entry = metadata.EntryPoint(name=info.name, value=info.value, group=ENTRY_POINT_GROUP)
    try:
        target = entry.load()
    except (Exception, SystemExit) as error:  # an import may do anything, exit included
        raise PackError(f"{info.origin} failed to import ({info.value}): {cause(error)}") from error
    if isinstance(target, Pack):
        if target.name != info.name:  # the entry-point name is the namespace
            target = replace(target, name=info.name)
        if target.version is None:
            target = replace(target, version=info.version)
        return target
    if isinstance(target, (list, tuple, type)) or callable(target):
        return Pack(
            name=info.name,
            tools=cast("Any", target),  # checked when built
            description=info.summary,
            version=info.version,
        )
    raise PackError(
        f"{info.origin}: its entry point {info.value} is {type(target).__name__}; expected"
        " a Pack, a list of tools, a toolbox class or a factory"
    )


def report(name: str, error: PackError) -> None:
    """Report a pack's failure once per process (a ``PackWarning``), or raise it in strict
    mode (``TOOLKIT_PACKS_STRICT=1``)."""
    if strict_packs():
        raise error
    key = (name, str(error))
    if key not in _reported:
        _reported.add(key)
        warnings.warn(f"{error} (skipped; the other packs work)", PackWarning, stacklevel=3)


def packs_from_environment() -> list[str]:
    """The pack names in ``TOOLKIT_PACKS`` (comma-separated), in order, without repeats."""
    listed = os.environ.get("TOOLKIT_PACKS", "")
    return list(dict.fromkeys(part.strip() for part in listed.split(",") if part.strip()))


def strict_packs() -> bool:
    """Whether ``TOOLKIT_PACKS_STRICT`` asks for exceptions instead of warnings."""
    return os.environ.get("TOOLKIT_PACKS_STRICT", "").strip().lower() in {"1", "true", "yes"}


def _find(name: str) -> PackInfo:
    installed = installed_packs()
    found = next((info for info in installed if info.name == name), None)
    if found is None:
        raise PackError(_not_installed(name, {info.name: info for info in installed}))
    return found


def _not_installed(name: str, installed: Mapping[str, PackInfo]) -> str:
    known = ", ".join(sorted(installed)[:20]) or "none"
    return f"no installed pack is named {name!r} (installed: {known})"


def _headers(dist: Any) -> dict[str, str]:
    """Name, version and summary from a distribution's metadata headers, read up to the
    first blank line (the long description after it can be large, and is not needed)."""
    if dist is None:
        return {}
    try:
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    except Exception:  # an unreadable distribution lists as unknown, never fails discovery
        return {}
    wanted = {"name": "name", "version": "version", "summary": "summary"}
    headers: dict[str, str] = {}
    for line in text[:65_536].splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        field = wanted.get(key.strip().lower())
        if field is not None and field not in headers:
            headers[field] = value.strip()
    return headers
