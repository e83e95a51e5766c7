"""TARGET: the tools ``toolkit schema``, ``call``, ``run --tool`` and ``mcp --tool`` work on.

A TARGET is read as the first of these that fits:

1. ``MODULE:ATTR`` or ``PATH.py:ATTR`` (a path ends in ``.py`` or holds a ``/``): the object
   ``ATTR`` of that module or file (dots reach inside it: ``MODULE:Class.method``); modules
   are looked for in the current directory too. A function or a ``Tool`` is one tool; a
   ``Pack`` gives its tools namespaced by its name, as ``Registry.add_pack`` does; a list of
   tools or a toolbox class gives its tools under their own names.
2. The name of an installed pack: all its tools, namespaced (``files_read``, ...).
3. A namespaced tool of an installed pack (``files_read``): the installed pack whose name
   followed by ``_`` starts it (the longest such name) is loaded, and that tool chosen.

What cannot be found is a ``CommandError`` of status 2 naming what was looked for and
listing what exists; a pack or module that is found but fails raises with status 1.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
import types
import warnings
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel

from toolkit.cli._common import EXIT_USAGE, CommandError
from toolkit.errors import ToolNameConflict
from toolkit.packs import Pack, PackWarning, installed_packs, load_pack
from toolkit.registry import Registry
from toolkit.schema import namespace_problem
from toolkit.tool import Tool, tool

__all__ = [
    "GRAMMAR",
    "Target",
    "build_registry",
    "check_config",
    "load_attribute",
    "owner",
    "required_fields",
    "resolve",
]

GRAMMAR = """\
TARGET is one of:
  PACK               an installed pack: all its tools (e.g. files)
  PACK_TOOL          one tool of an installed pack, by its namespaced name (e.g. files_read)
  MODULE:ATTR        a function, Tool, Pack, list of tools or toolbox class in a module
  PATH.py:ATTR       the same, in a Python file (e.g. tools/weather.py:get_weather)"""
"""The grammar, as the help of the commands taking a TARGET shows it."""

_LISTED = 20  # names listed in an error, at most


@dataclass(frozen=True, slots=True)
class Target:
    """What a TARGET named: a label for messages, and its tools (named as a model sees
    them, namespaces included)."""

    label: str
    tools: list[Tool[..., Any]]


def resolve(target: str, config: Mapping[str, Any] | None = None) -> Target:
    """The tools ``target`` names (see the module's docstring), built with ``config``.

    Raises:
        CommandError: nothing has that name (status 2), or a module failed to import.
        PackError: the pack failed to load or build.
        ToolDefinitionError: a function cannot become a tool.
    """
    if ":" in target:
        return _from_object(target, load_attribute(target), config)
    if target.endswith(".py") or "/" in target or os.sep in target:
        raise CommandError(
            f"{target!r} is a file: name the object in it too, e.g. {target}:my_tool",
            code=EXIT_USAGE,
        )
    pack = owner(target)
    if pack is None:
        listed = _listing(sorted({info.name for info in installed_packs()}), "none")
        raise CommandError(
            f"no installed pack, nor tool of one, is named {target!r} (installed packs:"
            f" {listed}); for a function of your own, use MODULE:ATTR or PATH.py:ATTR",
            code=EXIT_USAGE,
        )
    if pack == target:
        return Target(f"pack {pack!r}", _registered(load_pack(pack), config))
    with warnings.catch_warnings():
        # A secret some other tool of the pack needs is no concern of this one; its own
        # missing secret is reported when it is called.
        warnings.simplefilter("ignore", PackWarning)
        tools = _registered(load_pack(pack), config)
    chosen = [item for item in tools if item.name == target]
    if not chosen:
        listed = _listing([item.name for item in tools], "none")
        raise CommandError(
            f"pack {pack!r} has no tool named {target!r}; its tools: {listed}", code=EXIT_USAGE
        )
    return Target(f"tool {target!r} of pack {pack!r}", chosen)


def build_registry(
    packs: Sequence[str],
    targets: Sequence[str],
    configs: Mapping[str, Mapping[str, Any]],
    *,
    pack_option: str = "--pack",
) -> Registry:
    """One registry of the tools of installed ``packs`` and of ``targets`` (``--tool``),
    each built with its ``--config NAME=JSON`` (NAME: the pack, or the TARGET itself).

    Args:
        pack_option: How messages name where the packs were given (``--pack``, ``PACK``).

    Raises:
        CommandError: (status 2) a pack is not installed, a target names nothing, two tools
            have one name, or a configuration is for no pack or target given.
    """
    registry = Registry()
    used: set[str] = set()
    asked = [(pack_option, name) for name in packs] + [("--tool", spec) for spec in targets]
    for option, spec in asked:
        pack = owner(spec)
        if option == pack_option and pack != spec:
            installed = ", ".join(sorted(info.name for info in installed_packs())) or "none"
            raise CommandError(
                f"{option} {spec}: no installed pack has that name (installed: {installed})",
                code=EXIT_USAGE,
            )
        key = pack or spec
        used.add(key)
        for each in resolve(spec, configs.get(key)).tools:
            try:
                registry.add(each)
            except ToolNameConflict as error:
                raise CommandError(f"{option} {spec}: {error}", code=EXIT_USAGE) from None
    unused = sorted(set(configs) - used)
    if unused:
        raise CommandError(
            f"--config {unused[0]}=...: no {pack_option} or --tool uses {unused[0]!r}",
            code=EXIT_USAGE,
        )
    return registry


def owner(target: str) -> str | None:
    """The installed pack a PACK or PACK_TOOL target names (the longest pack name that,
    followed by ``_``, starts a tool's name), or ``None``: no installed pack fits, or the
    target is a MODULE:ATTR."""
    if ":" in target:
        return None
    names = {info.name for info in installed_packs()}
    if target in names:
        return target
    fitting = [name for name in names if target.startswith(name + "_")]
    return max(fitting, key=len) if fitting else None


def load_attribute(spec: str) -> object:
    """The object ``MODULE:ATTR`` or ``PATH.py:ATTR`` names.

    Raises:
        CommandError: the module, file or attribute does not exist (status 2), or the
            module raised while being imported (status 1).
    """
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise CommandError(
            f"{spec!r} is not MODULE:ATTR or PATH.py:ATTR (e.g. weather:get_forecast)",
            code=EXIT_USAGE,
        )
    if where.endswith(".py") or "/" in where or os.sep in where:
        module = _import_file(Path(where))
    else:
        module = _import_module(where)
    found: object = module
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            listed = _listing(_offered(module), "nothing usable")
            raise CommandError(
                f"{where} has no attribute {attribute!r}; it defines: {listed}", code=EXIT_USAGE
            ) from None
    return found


def required_fields(model: type[BaseModel] | None) -> list[str]:
    """The fields of a pack's configuration model that have no default."""
    if model is None:
        return []
    return [name for name, field in model.model_fields.items() if field.is_required()]


def check_config(what: str, pack: Pack, config: Mapping[str, Any] | None) -> None:
    """Refuse to build ``pack`` without a configuration when its configuration has fields
    without defaults: pydantic's "Field required" would not say to use ``--config``.

    Raises:
        CommandError: (status 2) naming the fields.
    """
    missing = required_fields(pack.config_model())
    if config is None and missing:
        raise CommandError(
            f"{what} needs a configuration: pass --config '{{...}}' with {', '.join(missing)}",
            code=EXIT_USAGE,
        )


# -- installed packs ---------------------------------------------------------------------------


def _registered(pack: Pack, config: Mapping[str, Any] | None) -> list[Tool[..., Any]]:
    """The tools of ``pack``, namespaced, as a registry holds them."""
    check_config(f"pack {pack.name!r}", pack, config)
    return Registry().add_pack(pack, config=config)


# -- objects of modules and files --------------------------------------------------------------


def _from_object(spec: str, found: object, config: Mapping[str, Any] | None) -> Target:
    if isinstance(found, Pack):
        return Target(f"pack {found.name!r} ({spec})", _registered(found, config))
    if isinstance(found, (list, tuple, type)):
        # Built as a pack would build them (nested packs, toolbox classes and their
        # configuration), but not namespaced: the tools keep their own names.
        attribute = spec.rpartition(":")[2].rpartition(".")[2]
        name = attribute if namespace_problem(attribute) is None else "tools"
        anonymous = Pack(name=name, tools=cast("Any", found))
        check_config(spec, anonymous, config)
        return Target(spec, anonymous.build(config))
    if isinstance(found, Tool) or callable(found):
        if config is not None:
            raise CommandError(f"{spec} is one tool: it takes no --config", code=EXIT_USAGE)
        made: Tool[..., Any] = (
            cast("Tool[..., Any]", found) if isinstance(found, Tool) else tool(cast("Any", found))
        )
        return Target(spec, [made])
    raise CommandError(
        f"{spec} is a {type(found).__name__}; expected a function, a Tool, a Pack, a list of"
        " tools or a toolbox class",
        code=EXIT_USAGE,
    )


def _import_module(name: str) -> types.ModuleType:
    with _searched(os.getcwd()):
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and (name == error.name or name.startswith(error.name + ".")):
                raise CommandError(
                    f"no module named {name!r} (looked in the current directory and on"
                    " sys.path); for a file, write PATH.py:ATTR",
                    code=EXIT_USAGE,
                ) from None
            raise _import_failed(f"module {name!r}", error) from error
        except (Exception, SystemExit) as error:  # a module may do anything, exit included
            raise _import_failed(f"module {name!r}", error) from error


def _import_file(path: Path) -> types.ModuleType:
    if not path.is_file():
        raise CommandError(f"no file {str(path)!r}", code=EXIT_USAGE)
    name = "_toolkit_file_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CommandError(f"{str(path)!r} cannot be imported as Python", code=EXIT_USAGE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that dataclasses and pydantic find the module's names
    with _searched(str(path.resolve().parent)):  # its sibling modules, as `python FILE` has
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:
            del sys.modules[name]
            raise _import_failed(f"file {str(path)!r}", error) from error
    return module


@contextlib.contextmanager
def _searched(directory: str) -> Generator[None, None, None]:
    """``directory`` first on ``sys.path`` while importing (the ``toolkit`` script, unlike
    ``python -m``, does not search the current directory)."""
    if directory in sys.path:
        yield
        return
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(directory)


def _import_failed(what: str, error: BaseException) -> CommandError:
    return CommandError(f"importing {what} failed: {type(error).__name__}: {error}")


def _offered(module: types.ModuleType) -> list[str]:
    """The public names of ``module`` a TARGET could name: its tools and packs, and the
    functions, classes and lists it defines."""
    names: list[str] = []
    for name, value in vars(module).items():
        if name.startswith("_"):
            continue
        own = getattr(value, "__module__", None) == module.__name__
        if isinstance(value, (Tool, Pack, list)) or (
            own and (inspect.isfunction(value) or inspect.isclass(value))
        ):
            names.append(name)
    return names


def _listing(names: list[str], empty: str) -> str:
    if not names:
        return empty
    shown = ", ".join(names[:_LISTED])
    return shown if len(names) <= _LISTED else f"{shown} and {len(names) - _LISTED} more"
