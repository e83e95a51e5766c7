"""``toolkit mcp``: packs and targets served as an MCP server, over stdio or streamable
HTTP (``toolkit.mcp``, imported when the command runs: it needs the ``mcp`` extra)."""

from __future__ import annotations

import argparse
import contextlib
import sys

from toolkit.cli._common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    Subparsers,
    add_command,
    add_configs_option,
    parse_configs,
)
from toolkit.cli._targets import build_registry

__all__ = ["register"]

DESCRIPTION = """\
Serve the tools of the packs and targets given as a Model Context Protocol server, to MCP
clients (Claude Desktop, editors, agents): over standard input and output, for a client
that starts the command itself, or over streamable HTTP with --http.

Each call runs as a model's call runs in toolkit: validated, with the secrets its tool
declares read from the environment, and whatever goes wrong is an error result (isError)
that the client's model reads. Over stdio, standard output carries the protocol alone:
warnings, and whatever a pack or a tool prints, go to standard error."""

EPILOG = """\
examples:
  toolkit mcp files --config 'files={"root": "/srv/notes"}'
  toolkit mcp weather --http 127.0.0.1:8000
  toolkit mcp --tool tools/weather.py:get_forecast --tool clock_tools:TOOLS

Claude Desktop (claude_desktop_config.json), and other clients that start servers:
  {"mcpServers": {"files": {"command": "toolkit",
    "args": ["mcp", "files", "--config", "files={\\"root\\": \\"/srv/notes\\"}"]}}}

exit status:
  0 the client closed the connection (stdio); 1 a pack fails to load, or the address
  cannot be listened on; 2 a usage error, or the mcp extra is not installed; 130
  interrupted (how --http stops)

environment:
  the secrets the tools declare (see 'toolkit packs'), read at each call"""


def register(subparsers: Subparsers) -> None:
    parser = add_command(
        subparsers,
        "mcp",
        _command,
        summary="serve tools to MCP clients, over stdio or HTTP",
        description=DESCRIPTION,
        epilog=EPILOG,
    )
    parser.add_argument(
        "packs", metavar="PACK", nargs="*", help="an installed pack whose tools to serve"
    )
    parser.add_argument(
        "--tool",
        metavar="TARGET",
        action="append",
        default=[],
        help="serve these tools too: a TARGET as 'toolkit schema' takes it (repeatable)",
    )
    add_configs_option(parser)
    parser.add_argument(
        "--http",
        metavar="HOST:PORT",
        help="serve over streamable HTTP on this address instead of stdio (127.0.0.1:8000:"
        " this machine only; 0.0.0.0:8000: any; port 0: a free one)",
    )
    parser.add_argument(
        "--path",
        default="/mcp",
        help="the path of the HTTP endpoint (default: /mcp)",
    )


def _command(args: argparse.Namespace) -> int:
    if not args.packs and not args.tool:
        raise CommandError("name at least one PACK or --tool TARGET to serve", code=EXIT_USAGE)
    address = _address(args.http) if args.http is not None else None
    if not args.path.startswith("/"):
        raise CommandError(f"--path {args.path}: it must start with '/'", code=EXIT_USAGE)
    try:
        from toolkit.mcp import mcp_server, serve_http, serve_stdio  # noqa: PLC0415 - an extra
    except ImportError as error:  # the extra is not installed (toolkit.mcp says so)
        said = str(error)
        if "toolkit-llm[mcp]" not in said:
            said = f"serving MCP needs the mcp extra, pip install 'toolkit-llm[mcp]': {said}"
        raise CommandError(said, code=EXIT_USAGE) from None
    configs = parse_configs(args.config)
    # Over stdio, whatever a pack prints while it is imported must not reach the client.
    with contextlib.redirect_stdout(sys.stderr) if address is None else contextlib.nullcontext():
        registry = build_registry(args.packs, args.tool, configs, pack_option="PACK")
    server = mcp_server(registry)
    count = f"{len(registry)} tool{'s' if len(registry) != 1 else ''}"
    if address is None:
        sys.stderr.write(f"toolkit mcp: serving {count} over stdio\n")
        sys.stderr.flush()
        serve_stdio(server)
        return EXIT_OK

    def started(url: str) -> None:
        sys.stderr.write(f"toolkit mcp: serving {count} at {url}\n")
        sys.stderr.flush()

    host, port = address
    try:
        serve_http(server, host=host, port=port, path=args.path, on_start=started)
    except OSError as error:
        raise CommandError(
            f"cannot serve on {args.http}: {error.strerror or error}", code=EXIT_FAILED
        ) from None
    return EXIT_OK


def _address(text: str) -> tuple[str, int]:
    """``--http HOST:PORT`` (``[::1]:8000`` for IPv6)."""
    host, colon, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or int(port) > 65_535:
        raise CommandError(f"--http {text}: write HOST:PORT, e.g. 127.0.0.1:8000", code=EXIT_USAGE)
    return host, int(port)
