"""What every subcommand shares: its parser's shape, the error it raises, JSON in and out.

Exit statuses, the same for every command:

- 0: done;
- 1: the work ran and failed (an error result, a failing evaluation, a pack that does not
  load, a model request that failed);
- 2: the command line cannot be acted on (a usage error, an unknown target, a ``--config``
  that is not a JSON object, no model endpoint configured);
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "Handler",
    "Subparsers",
    "add_command",
    "add_configs_option",
    "parse_config",
    "parse_configs",
    "print_json",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

Handler = Callable[[argparse.Namespace], int]
"""A subcommand: the parsed arguments in, the exit status out."""


class Subparsers(Protocol):
    """What ``ArgumentParser.add_subparsers()`` returns, as far as the commands use it."""

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser: ...


class CommandError(Exception):
    """A command cannot go on: ``message`` is shown after ``toolkit COMMAND: error:``, and
    the command exits with ``code`` (1: it failed; 2: the command line is at fault)."""

    def __init__(self, message: str, *, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def add_command(
    subparsers: Subparsers,
    name: str,
    handler: Handler,
    *,
    summary: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """A subcommand's parser: ``summary`` in the list of commands, ``description`` and
    ``epilog`` (examples, environment) printed as written by ``toolkit NAME --help``."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler, command=name)
    return parser


def parse_config(text: str | None) -> dict[str, Any] | None:
    """The ``--config`` option: a JSON object, or ``None`` when not given.

    Raises:
        CommandError: (status 2) the text is not a JSON object.
    """
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as error:
        raise CommandError(f"--config is not valid JSON: {error}", code=EXIT_USAGE) from None
    if not isinstance(value, dict):
        raise CommandError(
            f"--config must be a JSON object ({{...}}), got {type(value).__name__}",
            code=EXIT_USAGE,
        )
    return cast("dict[str, Any]", value)


def add_configs_option(parser: argparse.ArgumentParser) -> None:
    """The repeatable ``--config NAME=JSON`` option of the commands that take several packs
    (read it with ``parse_configs``)."""
    parser.add_argument(
        "--config",
        metavar="NAME=JSON",
        action="append",
        default=[],
        help="the configuration of the pack NAME, a JSON object (repeatable); for a --tool"
        " MODULE:ATTR, NAME is that TARGET",
    )


def parse_configs(options: list[str]) -> dict[str, dict[str, Any]]:
    """The repeatable ``--config NAME=JSON`` option (of ``run`` and ``mcp``), by name.

    Raises:
        CommandError: (status 2) an option is not NAME=JSON, or its JSON not an object.
    """
    found: dict[str, dict[str, Any]] = {}
    for option in options:
        name, equals, text = option.partition("=")
        if not equals or not name:
            raise CommandError(
                f'--config {option}: write NAME=JSON, e.g. files=\'{{"root": "."}}\'',
                code=EXIT_USAGE,
            )
        found[name] = parse_config(text) or {}
    return found


def print_json(value: Mapping[str, Any]) -> None:
    """``value`` as indented JSON on standard output; anything JSON cannot hold is written
    as its ``str``."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
