"""``toolkit schema``: the definitions a provider receives for a TARGET, and what its format
could not say."""

from __future__ import annotations

import argparse
import json
import sys

from toolkit.cli._common import EXIT_OK, Subparsers, add_command, parse_config, print_json
from toolkit.cli._targets import GRAMMAR, resolve
from toolkit.cli._terminal import Style
from toolkit.formats import FORMATS, Change
from toolkit.registry import Registry

__all__ = ["register"]

DESCRIPTION = f"""\
Print the tool definitions of TARGET in a provider's format, as a request sends them, and
what that format could not say: each tool's changes to its schema (a constraint moved into a
description, a keyword dropped...), which the validator still enforces.

The definitions (a JSON list) go to standard output and the changes to standard error, so
'> tools.json' keeps just the definitions; with --json both are in one JSON object.

{GRAMMAR}"""

EPILOG = """\
examples:
  toolkit schema weather --format openai
  toolkit schema weather_forecast --format gemini
  toolkit schema weather_tools:get_forecast --format anthropic --strict
  toolkit schema tools/weather.py:TOOLS --format mcp --json
  toolkit schema files --format openai --config '{"root": "/srv/notes"}'"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "schema",
        _command,
        summary="print tool definitions in a provider's format",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument("target", metavar="TARGET", help="what to describe (see above)")
    parser.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        metavar="FORMAT",
        help=f"the provider format: {', '.join(FORMATS)}",
    )
    parser.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="render in strict mode, or not (default: each tool's own setting)",
    )
    parser.add_argument("--config", metavar="JSON", help="the pack's configuration, a JSON object")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object: definitions and changes"
    )


def _command(args: argparse.Namespace) -> int:
    target = resolve(args.target, parse_config(args.config))
    strict: bool | None = args.strict
    registry = Registry(target.tools)
    definitions = registry.definitions(args.format, strict=strict)
    changes = {each.name: each.changes(args.format, strict=strict) for each in target.tools}
    if args.json:
        print_json(
            {
                "target": target.label,
                "format": args.format,
                "strict": strict,
                "tools": [
                    {
                        "name": each.name,
                        "definition": definition,
                        "changes": [
                            {"path": c.path, "message": c.message, "lossy": c.lossy}
                            for c in changes[each.name]
                        ],
                    }
                    for each, definition in zip(target.tools, definitions, strict=True)
                ],
            }
        )
        return EXIT_OK
    sys.stdout.write(json.dumps(definitions, indent=2, ensure_ascii=False) + "\n")
    _print_changes(args.format, changes, Style.for_stream(sys.stderr))
    return EXIT_OK


def _print_changes(format: str, changes: dict[str, tuple[Change, ...]], style: Style) -> None:
    """Each tool's changes, on stderr: ``lossy`` ones hide something from the model (the
    validator still enforces it), ``lossless`` ones only reshape the schema."""
    changed = {name: found for name, found in changes.items() if found}
    write = sys.stderr.write
    if not changed:
        write(f"The {format} format says everything the tools' schemas say.\n")
        return
    heading = f"Changes made for the {format} format (the validator still checks the original):"
    write(style.paint(heading, "bold") + "\n")
    for name, found in changed.items():
        write(f"  {style.paint(name, 'bold')}\n")
        for change in found:
            kind = style.paint("lossy", "yellow") if change.lossy else "lossless"
            write(f"    {change.path}: {change.message} ({kind})\n")
