"""The ``toolkit`` command (also ``python -m toolkit``), on the standard library's argparse.

One module per subcommand (``_packs``, ``_schema``, ``_call``, ``_run``, ``_eval``, ``_mcp``,
``_new``), each with a ``register(subparsers)`` that adds its parser and handler; what they
share is in ``_common`` (exit statuses, ``CommandError``, JSON), ``_terminal`` (colour, tables),
``_targets`` (the TARGET grammar) and ``_endpoint`` (the model endpoint). ``main`` parses,
dispatches, and turns every expected failure into a message and an exit status: nothing a
user can cause ends in a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from collections.abc import Generator, Sequence
from typing import TextIO

import toolkit
from toolkit.cli import _call, _eval, _mcp, _new, _packs, _run, _schema
from toolkit.cli._common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, CommandError, Handler
from toolkit.errors import ToolkitError
from toolkit.packs import PackWarning

__all__ = ["main"]

DESCRIPTION = """\
toolkit turns Python functions into LLM tools. This command lists the installed tool packs,
prints tool definitions in each provider's format, calls tools, runs prompts and
evaluations against a model, serves tools to MCP clients, and starts new packs."""

EPILOG = """\
Run 'toolkit COMMAND --help' for a command's arguments, examples and environment.

exit status:
  0 done; 1 the work failed (an error result, a failing evaluation, a pack that does not
  load); 2 the command line cannot be acted on (a usage error, an unknown target, no model
  endpoint); 130 interrupted"""


def _parser() -> argparse.ArgumentParser:
    """The whole command line: ``toolkit`` and its subcommands."""
    top = argparse.ArgumentParser(
        prog="toolkit",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"toolkit {toolkit.__version__}")
    commands = top.add_subparsers(title="commands", metavar="COMMAND")
    for module in (_packs, _schema, _call, _run, _eval, _mcp, _new):
        module.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``toolkit`` command with ``argv`` (default: the process's arguments) and
    return its exit status."""
    command = _parser()
    try:
        args = command.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error (already printed)
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        command.print_help(sys.stderr)
        return EXIT_USAGE
    name = f"toolkit {args.command}"
    try:
        with _readable_warnings():
            return handler(args)
    except CommandError as error:
        return _fail(name, error.message, error.code)
    except ToolkitError as error:  # a pack that fails to load, a schema a format cannot say
        return _fail(name, str(error), EXIT_FAILED)
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`toolkit schema ... | head`)
        _silence_stdout()
        return EXIT_FAILED


def _fail(name: str, message: str, code: int) -> int:
    sys.stderr.write(f"{name}: error: {message}\n")
    return code


@contextlib.contextmanager
def _readable_warnings() -> Generator[None, None, None]:
    """Show each ``PackWarning`` once, as ``warning: <message>`` on stderr, without the
    file and line Python's default format adds; other warnings are left as they are."""
    seen: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", PackWarning)  # repeats are dropped here, per run
        shown_before = warnings.showwarning

        def show(  # noqa: PLR0917 - the signature of warnings.showwarning
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if not issubclass(category, PackWarning):
                shown_before(message, category, filename, lineno, file, line)
                return
            text = str(message)
            if text not in seen:
                seen.add(text)
                sys.stderr.write(f"warning: {text}\n")

        warnings.showwarning = show
        yield


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises nothing more."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
