"""``toolkit new``: start a pack distribution (the files come from ``_scaffold``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from toolkit.cli._common import EXIT_OK, EXIT_USAGE, CommandError, Subparsers, add_command

__all__ = ["register"]

DESCRIPTION = """\
Create DIR/NAME: the distribution toolkit-NAME of a new tool pack named NAME, declared in
the 'toolkit.packs' entry-point group, with a configuration model, one tool, an evaluation
case, a test and a README. It installs and passes its test as generated; once installed,
'toolkit packs' lists it and its tools are called NAME_<tool>."""

EPILOG = """\
examples:
  toolkit new weather
  toolkit new weather --directory ~/src"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "new",
        _command,
        summary="create a new tool pack distribution",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument(
        "name",
        metavar="NAME",
        help="the pack's name: lower-case letters and digits, single '_' or '-' between them",
    )
    parser.add_argument(
        "--directory",
        metavar="DIR",
        default=".",
        help="the directory to create it in (default: the current one)",
    )


def _command(args: argparse.Namespace) -> int:
    # Imported here: the templates are needed by this one command only.
    from toolkit.cli._scaffold import scaffold  # noqa: PLC0415

    try:
        created = scaffold(args.name, Path(args.directory))
    except ValueError as error:  # a bad name, or the directory exists
        raise CommandError(str(error), code=EXIT_USAGE) from None
    shown = _shown(created)
    sys.stdout.write(
        f"Created {shown}\n"
        "\n"
        "Next steps:\n"
        f"  cd {shown}\n"
        "  python -m pip install -e . pytest   # install it: toolkit finds it by its entry point\n"
        "  python -m pytest                    # run its tests\n"
        "  toolkit packs                       # see it listed, with its status\n"
        f"  toolkit schema {args.name} --format openai\n"
    )
    return EXIT_OK


def _shown(path: Path) -> str:
    """``path`` relative to the current directory when it is inside it."""
    try:
        inside = path.resolve().is_relative_to(Path.cwd().resolve())
        return os.path.relpath(path) if inside else str(path)
    except ValueError:  # another drive (Windows)
        return str(path)
