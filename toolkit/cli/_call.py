"""``toolkit call``: run one tool as a model's call would run, through a ``Registry``."""

from __future__ import annotations

import argparse
import sys

from toolkit import Registry
from toolkit.calls import ToolCall
from toolkit.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    Subparsers,
    add_command,
    parse_config,
    print_json,
)
from toolkit.cli._targets import GRAMMAR, resolve
from toolkit.cli._terminal import Style

__all__ = ["register"]

DESCRIPTION = f"""\
Call one tool with JSON arguments, exactly as a model's call runs: the arguments are
validated, the secrets the tool declares are read from the environment, and whatever goes
wrong becomes the error result a model would read.

The result's content goes to standard output (exit status 0). An error result goes to
standard error, after a line naming its kind (exit status 1).

{GRAMMAR}
TOOL is a TARGET that names exactly one tool."""

EPILOG = """\
examples:
  toolkit call weather_forecast '{"city": "Paris", "days": 2}'
  toolkit call weather_tools:get_forecast '{"city": "Oslo"}'
  toolkit call tools/clock.py:now
  toolkit call files_read '{"path": "todo.txt"}' --config '{"root": "/srv/notes"}'

environment:
  the secrets the tool declares (see 'toolkit packs'), read as a Registry reads them"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "call",
        _command,
        summary="call one tool with JSON arguments and print its result",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument("tool", metavar="TOOL", help="the tool to call (see above)")
    parser.add_argument(
        "arguments",
        metavar="JSON",
        nargs="?",
        default="{}",
        help="the arguments, a JSON object (default: {})",
    )
    parser.add_argument("--config", metavar="JSON", help="the pack's configuration, a JSON object")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as JSON (name, is_error, error_kind, content) on standard output",
    )


def _command(args: argparse.Namespace) -> int:
    target = resolve(args.tool, parse_config(args.config))
    if len(target.tools) != 1:
        names = ", ".join(each.name for each in target.tools) or "none"
        raise CommandError(
            f"{target.label} has {len(target.tools)} tools; name one of them: {names}",
            code=EXIT_USAGE,
        )
    chosen = target.tools[0]
    call = ToolCall(id="toolkit-call", name=chosen.name, arguments=args.arguments)
    result = Registry([chosen]).execute([call])[0]
    kind = result.error.kind if result.error is not None else None
    if args.json:
        print_json(
            {
                "name": result.name,
                "is_error": result.is_error,
                "error_kind": kind,
                "content": result.content,
            }
        )
    elif result.is_error:
        style = Style.for_stream(sys.stderr)
        sys.stderr.write(style.paint(f"{result.name}: error result ({kind}):", "red+bold") + "\n")
        sys.stderr.write(_line(result.content))
    else:
        sys.stdout.write(_line(result.content))
    return EXIT_FAILED if result.is_error else EXIT_OK


def _line(text: str) -> str:
    """``text`` ending with one newline (a content that has its own keeps it)."""
    return text if text.endswith("\n") else text + "\n"
