"""``toolkit packs``: the installed packs, each imported to list its tools and status."""

from __future__ import annotations

import argparse
import contextlib
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any

from toolkit.cli._common import EXIT_FAILED, EXIT_OK, Subparsers, add_command, print_json
from toolkit.cli._targets import required_fields
from toolkit.cli._terminal import Painted, Style, shorten, table
from toolkit.packs import PackError, PackInfo, PackWarning, installed_packs, load_pack
from toolkit.packs._installed import strict_packs
from toolkit.registry import Registry
from toolkit.tool import Tool

__all__ = ["register"]

DESCRIPTION = """\
List the installed tool packs: distribution, version, summary, tools and status.

A pack is a set of tools that a Python distribution declares in the 'toolkit.packs'
entry-point group ('toolkit new' starts one). Each pack is imported to list its tools; a
pack that fails to import or build is listed with the cause, and the others still are."""

EPILOG = """\
status:
  ok             the pack loads; its tools are listed
  needs config   its configuration has fields without defaults: pass them with --config
                 to 'toolkit schema' or 'toolkit call'
  needs secrets  a secret its tools need is not set in the environment
  error          it fails to import or to build (the cause is shown under the tables)

examples:
  toolkit packs
  toolkit packs --json

environment:
  TOOLKIT_PACKS_STRICT   1: a pack that fails is an error (exit status 1)
  NO_COLOR, FORCE_COLOR  colour off; colour on even when not writing to a terminal"""

_STATUS_COLOURS = {"ok": "green", "error": "red"}  # the rest, yellow
_DESCRIPTION_CHARS = 72


@dataclass
class _Listed:
    """An installed pack, as far as loading it went."""

    info: PackInfo
    status: str = "ok"
    problem: str | None = None
    summary: str = ""
    tools: list[Tool[..., Any]] = field(default_factory=list[Tool[..., Any]])
    evals: int = 0
    missing_secrets: list[str] = field(default_factory=list[str])
    required_config: list[str] = field(default_factory=list[str])


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "packs",
        _command,
        summary="list the installed tool packs, their tools and status",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")


def _command(args: argparse.Namespace) -> int:
    listed = [_inspect(info) for info in installed_packs()]
    if args.json:
        print_json({"packs": [_as_json(item) for item in listed]})
    else:
        _print(listed, Style.for_stream(sys.stdout))
    failed = [item.info.name for item in listed if item.status == "error"]
    if failed and strict_packs():
        sys.stderr.write(
            f"toolkit packs: error: {len(failed)} pack(s) failed to load ({', '.join(failed)})"
            " and TOOLKIT_PACKS_STRICT is set\n"
        )
        return EXIT_FAILED
    return EXIT_OK


def _inspect(info: PackInfo) -> _Listed:
    """Load and build ``info``'s pack with its default configuration, catching everything
    (one broken pack never hides the others). Whatever the pack prints goes to stderr."""
    listed = _Listed(info, summary=info.summary)
    if info.problem is not None:
        listed.status, listed.problem = "error", info.problem
        return listed
    registry = Registry()
    try:
        with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.simplefilter("ignore", PackWarning)  # missing secrets: a status here
            pack = load_pack(info)
            listed.summary = pack.description or info.summary
            listed.evals = len(pack.evals)
            listed.required_config = required_fields(pack.config_model())
            if listed.required_config:
                listed.status = "needs config"
                listed.problem = f"its configuration needs {', '.join(listed.required_config)}"
                return listed
            listed.tools = registry.add_pack(pack)
    except (Exception, SystemExit) as error:  # a pack may do anything, exit included
        listed.status = "error"
        listed.problem = str(error) if isinstance(error, PackError) else _described(error)
        return listed
    needed = dict.fromkeys(name for item in listed.tools for name in item.secrets)
    listed.missing_secrets = registry.secret_values(needed)[1]
    if listed.missing_secrets:
        listed.status = "needs secrets"
        names = ", ".join(listed.missing_secrets)
        listed.problem = (
            f"set {names} in the environment (its tools answer with an error until then)"
        )
    return listed


def _print(listed: list[_Listed], style: Style) -> None:
    write = sys.stdout.write
    if not listed:
        write(
            "No tool packs are installed. A pack is a distribution that declares an entry"
            " point\nin the 'toolkit.packs' group: 'toolkit new NAME' starts one.\n"
        )
        return
    rows = [
        [
            Painted(item.info.name, "bold"),
            Painted(item.status, _STATUS_COLOURS.get(item.status, "yellow")),
            item.info.version or "-",
            item.info.distribution or "-",
            str(len(item.tools)) if item.status in ("ok", "needs secrets") else "-",
            shorten(item.summary, _DESCRIPTION_CHARS, style.ellipsis),
        ]
        for item in listed
    ]
    headers = ["PACK", "STATUS", "VERSION", "DISTRIBUTION", "TOOLS", "SUMMARY"]
    lines = table(headers, rows, style)
    tools = [(item.info.name, each) for item in listed for each in item.tools]
    if tools:
        rows = [
            [
                Painted(each.name, "bold"),
                pack,
                _notes(each),
                shorten(each.description, _DESCRIPTION_CHARS, style.ellipsis),
            ]
            for pack, each in tools
        ]
        lines += ["", *table(["TOOL", "PACK", "NOTES", "DESCRIPTION"], rows, style)]
    problems = [item for item in listed if item.problem is not None]
    if problems:
        lines += ["", style.paint("Problems:", "bold")]
        lines += [f"  {style.paint(item.info.name, 'bold')}: {item.problem}" for item in problems]
    write("\n".join(lines) + "\n")


def _notes(item: Tool[..., Any]) -> str:
    notes: list[str] = []
    if item.needs_approval:
        notes.append("needs approval")
    if item.secrets:
        notes.append(f"secrets: {','.join(item.secrets)}")
    if item.tags:
        notes.append(f"tags: {','.join(sorted(item.tags))}")
    return "; ".join(notes)


def _as_json(item: _Listed) -> dict[str, Any]:
    return {
        "name": item.info.name,
        "distribution": item.info.distribution,
        "version": item.info.version,
        "summary": item.summary,
        "entry_point": item.info.value,
        "status": item.status,
        "problem": item.problem,
        "tools": [
            {
                "name": each.name,
                "description": each.description,
                "tags": sorted(each.tags),
                "secrets": list(each.secrets),
                "needs_approval": each.needs_approval,
            }
            for each in item.tools
        ],
        "evals": item.evals,
        "missing_secrets": item.missing_secrets,
        "required_config": item.required_config,
    }


def _described(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
