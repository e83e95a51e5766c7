"""Serving: over stdio (the SDK's transport) and over streamable HTTP (the SDK's ASGI app,
run by uvicorn on a socket bound here, so that port 0 works and the address is known)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Callable, Generator
from typing import Any

import anyio
import uvicorn
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from toolkit.mcp._server import mcp_server
from toolkit.registry import Registry

__all__ = ["serve_http", "serve_http_async", "serve_stdio", "serve_stdio_async"]

_SHUTDOWN_SECONDS = 3
"""How long requests still running (an open event stream...) may delay a shutdown."""


def serve_stdio(server: Registry | Server[Any]) -> None:
    """Serve over standard input and output until the client closes them (blocking).

    Args:
        server: A registry (served by ``mcp_server(server)``), or a server made by
            ``mcp_server(...)`` with options.

    Standard output carries the protocol alone: while serving, what the process prints
    there (a tool's ``print``) goes to standard error instead.
    """
    asyncio.run(serve_stdio_async(server))


async def serve_stdio_async(server: Registry | Server[Any]) -> None:
    """``serve_stdio``, in the running event loop (an asyncio one: tools run on it)."""
    chosen = _server_of(server)
    async with stdio_server() as (read, write):
        # The SDK points file descriptor 1 at stderr while it serves; Python's own stdout
        # buffers, and would write what it holds after that. What was printed before goes
        # out now (to stderr), and what is printed while serving goes to stderr at once.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        with contextlib.redirect_stdout(sys.stderr):
            await chosen.run(read, write, chosen.create_initialization_options())


def serve_http(
    server: Registry | Server[Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    path: str = "/mcp",
    on_start: Callable[[str], None] | None = None,
) -> None:
    """Serve over streamable HTTP at ``http://HOST:PORT/PATH`` until interrupted
    (blocking; Ctrl-C shuts it down cleanly, then raises ``KeyboardInterrupt``).

    Args:
        server: A registry, or a server made by ``mcp_server(...)``.
        host: The address to listen on. The default, ``127.0.0.1``, takes connections from
            this machine only (and refuses requests for another host name, against DNS
            rebinding); ``0.0.0.0`` takes them from anywhere.
        port: The port (``0``: any free one; ``on_start`` is told which).
        path: Where the endpoint is.
        on_start: Called with the endpoint's URL once the server takes connections.

    Raises:
        OSError: the address cannot be listened on (in use, not this machine's...).
    """
    asyncio.run(serve_http_async(server, host=host, port=port, path=path, on_start=on_start))


async def serve_http_async(
    server: Registry | Server[Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    path: str = "/mcp",
    on_start: Callable[[str], None] | None = None,
) -> None:
    """``serve_http``, in the running event loop (an asyncio one). Cancelling it shuts the
    server down cleanly first."""
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/', got {path!r}")
    chosen = _server_of(server)
    app = chosen.streamable_http_app(streamable_http_path=path, host=host)
    listening = _tcp_listener(host, port)
    config = uvicorn.Config(
        app,
        lifespan="on",
        log_config=None,  # leave the process's logging as it is: warnings reach stderr
        access_log=False,
        timeout_graceful_shutdown=_SHUTDOWN_SECONDS,
    )
    web = _Uvicorn(config)
    serving = asyncio.ensure_future(web.serve(sockets=[listening]))
    try:
        while not web.started and not serving.done():
            await asyncio.sleep(0.01)
        if web.started and on_start is not None:
            on_start(_url(host, listening.getsockname()[1], path))
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        web.should_exit = True
        with anyio.CancelScope(shield=True):
            await serving
        raise
    finally:
        listening.close()


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, leaving signals alone: a library call does not take over the
    process's Ctrl-C. ``asyncio.run`` turns Ctrl-C into a cancellation of the serving task
    (or raises it in the loop, before Python 3.11, and then cancels the task), which
    ``serve_http_async`` answers with a clean shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _tcp_listener(host: str, port: int) -> socket.socket:
    """A listening socket whose protocol number says TCP. asyncio turns Nagle's algorithm
    off only on connections from such a socket (``socket.create_server`` leaves it 0); with
    Nagle on, each response's body, written after its headers, waited about 40 ms for the
    client's delayed acknowledgement."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if sys.platform != "win32":  # as create_server: a restarted server can rebind at once
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind((host, port))
        listening.listen()
    except BaseException:
        listening.close()
        raise
    return listening


def _server_of(server: Registry | Server[Any]) -> Server[Any]:
    return mcp_server(server) if isinstance(server, Registry) else server


def _url(host: str, port: int, path: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"
