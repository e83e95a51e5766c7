"""MCP servers' tools as toolkit ``Tool``s: ``MCPClient`` keeps one connection per server
(the official SDK's ``mcp.Client``) and keeps a ``Registry`` in step with their tools.

- One task holds each connection, from start to close: the SDK's transports use anyio
  task groups, which must be entered and left by the same task. Calls are made from any
  task of the same loop; from any other loop or thread they hop onto it.
- ``with`` opens the connections on toolkit's background loop (where the sync
  ``Registry.execute`` runs async tools, so their calls need no hop); ``async with`` on
  the running loop.
- Each server tool becomes ``Tool.from_schema``: its schema repaired and compiled once,
  so arguments are validated here, before anything is sent. The tool's name is the
  server's (made legal where it is not), prefixed with the server's name where two
  servers (or a tool already in the registry) share it; each format's own spelling and
  the way back are the registry's, as for every tool.
- A call returns the server's ``CallToolResult`` (the result's ``value``); its text is the
  model's, and its images and binary resources become ``Image`` and ``File`` parts of the
  result, which the runner forwards in the model's protocol (audio, resource links, and
  images or blobs toolkit cannot take are described in words). ``isError`` results,
  protocol errors, output that breaks the tool's ``outputSchema`` and a server that stops
  are error results naming the server. A server that stopped is started again at the next call.
- ``notifications/tools/list_changed`` re-lists that server's tools into the registry.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO, TypeVar, cast
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CONNECTION_CLOSED,
    AudioContent,
    BlobResourceContents,
    CallToolRequest,
    CallToolRequestParams,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    TextContent,
    TextResourceContents,
    ToolListChangedNotification,
)
from mcp_types.jsonrpc import JSONRPCResponse
from pydantic import ValidationError
from pydantic_core import SchemaValidator

from toolkit import _tracing
from toolkit._execution import run_on_loop
from toolkit._json_schema import normalise, value_validator
from toolkit.errors import ToolDefinitionError, ToolError
from toolkit.formats import FORMATS
from toolkit.media import File, Image, Part
from toolkit.registry import Registry
from toolkit.schema import name_problem, namespace_problem, namespaced
from toolkit.tool import Tool, ToolAnnotations

__all__ = ["MCPClient", "MCPConnectionError", "MCPWarning", "Stdio", "StreamableHTTP"]

T = TypeVar("T")

_STDERR_TAIL = 2_000
"""Characters of a stdio server's standard error quoted when it fails."""
_CLOSE_SECONDS = 10.0
"""How long closing one connection may take (the SDK ends the process within it)."""
_MAX_NAME = 128
_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.:\-/]")


@dataclass(frozen=True, slots=True)
class Stdio:
    """An MCP server started as a process, spoken to over its standard input and output.

    Attributes:
        command: The program (``"python"``, ``"npx"``, ``"uvx"``...).
        args: Its arguments.
        env: Environment variables set for it, over the few the SDK passes on (``PATH``,
            ``HOME``...); the rest of this process's environment is not passed.
        cwd: Its working directory (default: this process's).
    """

    command: str
    args: Sequence[str] = ()
    env: Mapping[str, str] | None = None
    cwd: str | Path | None = None


@dataclass(frozen=True, slots=True)
class StreamableHTTP:
    """An MCP server reached over streamable HTTP.

    Attributes:
        url: Its endpoint, e.g. ``"http://127.0.0.1:8000/mcp"``.
        headers: Sent with every request (``{"Authorization": "Bearer ..."}``).
    """

    url: str
    headers: Mapping[str, str] | None = None


ServerSpec = Stdio | StreamableHTTP


class MCPWarning(UserWarning):
    """Some tools of an MCP server cannot be used, or not with every provider (each
    named with why); the other tools are registered. Also kept in ``MCPClient.problems``."""


class MCPConnectionError(ToolError):
    """An MCP server could not be started, reached or listed; the message names it and
    says why (with the end of a stdio server's standard error)."""


class MCPClient:
    """Connections to MCP servers, whose tools it keeps in a ``Registry``.

    ```python
    from toolkit.mcp import MCPClient, Stdio

    with MCPClient({"weather": Stdio("python", ["weather.py"])}) as mcp:
        runner = Runner(client, mcp.registry, model="gpt-4.1")
    ```

    Use it as a context manager: ``with`` (for sync code, and async code on any loop)
    or ``async with`` (connections on the running loop). Entering starts every server
    and lists its tools; leaving closes the connections, ends the processes and takes
    the tools out of the registry, also when the block raises or is cancelled.

    Args:
        servers: One server, or servers by name (the name prefixes a tool whose name
            another server or the registry already has: ``weather_search``).
        registry: Where the tools go (default: a new one, ``.registry``); tools already
            there keep their names.
        timeout: Seconds a call may take before its error result (and a cancellation
            sent to the server); default: the registry's.
        prefix: ``"collisions"`` (default): prefix only names that collide; ``"always"``:
            every tool's name is ``{server}_{tool}``.
        strict: Render the tools' definitions in strict mode.
        connect_timeout: Seconds starting and listing one server may take.

    Raises:
        ValueError: a server name is not usable as a prefix.
        TypeError: ``servers`` is not a server or a mapping of names to servers.
    """

    def __init__(
        self,
        servers: ServerSpec | Mapping[str, ServerSpec],
        *,
        registry: Registry | None = None,
        timeout: float | None = None,
        prefix: Literal["collisions", "always"] = "collisions",
        strict: bool = False,
        connect_timeout: float = 30.0,
    ) -> None:
        named = {_default_name(servers): servers} if isinstance(servers, ServerSpec) else servers
        if not isinstance(named, Mapping) or not named:  # pyright: ignore[reportUnnecessaryIsInstance] - user input
            raise TypeError(
                "MCPClient takes a Stdio or StreamableHTTP, or a mapping of names to them, "
                f"not {servers!r}"
            )
        for name, spec in named.items():
            if not isinstance(spec, ServerSpec):  # pyright: ignore[reportUnnecessaryIsInstance] - user input
                raise TypeError(
                    f"MCP server {name!r}: expected a Stdio or StreamableHTTP, not {spec!r}"
                )
            problem = namespace_problem(name)
            if problem is not None:
                raise ValueError(f"MCP server name {name!r}: {problem}")
        if prefix not in ("collisions", "always"):
            raise ValueError(f"prefix must be 'collisions' or 'always', not {prefix!r}")
        self.registry = Registry() if registry is None else registry
        self.timeout = timeout
        self.prefix = prefix
        self.strict = strict
        self.connect_timeout = connect_timeout
        self._connections = {
            name: _Connection(self, name, spec) for name, spec in dict(named).items()
        }
        self._names: dict[str, str] = {}  # registered tool name -> its server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self.problems: tuple[str, ...] = ()
        """Tools that could not be used, each with why (also warned about)."""

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> MCPClient:
        run_on_loop(self._open())
        return self

    def __exit__(self, *exc_info: object) -> None:
        run_on_loop(self._close())

    async def __aenter__(self) -> MCPClient:
        await self._open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._close()

    async def _open(self) -> None:
        if self._loop is not None:
            raise RuntimeError("this MCPClient is already open")
        self._loop = asyncio.get_running_loop()
        try:
            await asyncio.gather(*(c.start() for c in self._connections.values()))
        except BaseException:
            await self._close()
            raise
        self._publish()

    async def _close(self) -> None:
        await asyncio.gather(
            *(c.stop() for c in self._connections.values()), return_exceptions=True
        )
        with self._lock:
            for name in list(self._names):
                with contextlib.suppress(KeyError):
                    self.registry.remove(name)
            self._names.clear()
        self._loop = None

    # -- the tools ---------------------------------------------------------------------------

    @property
    def tools(self) -> list[Tool[..., Any]]:
        """The servers' tools, as registered."""
        return [self.registry[name] for name in self._names if name in self.registry]

    def server_of(self, name: str) -> str | None:
        """The server the tool ``name`` (as registered) comes from, or ``None``."""
        return self._names.get(name)

    def instructions(self, server: str) -> str | None:
        """What a server tells its clients about using its tools, if anything."""
        return self._connections[server].instructions

    def _publish(self) -> None:
        """Register every server's current tools, replacing this client's earlier ones."""
        with self._lock:
            listed = {name: c.listed for name, c in self._connections.items()}
            names = self._choose_names(listed)
            tools: list[tuple[str, Tool[..., Any]]] = []
            problems = [p for c in self._connections.values() for p in c.unreadable]
            for (server, remote), name in names.items():
                try:
                    tools.append((server, self._connections[server].tool(remote, name)))
                except ToolDefinitionError as error:
                    problems.append(str(error))
            for name in list(self._names):
                with contextlib.suppress(KeyError):
                    self.registry.remove(name)
            self._names = {}
            for server, made in tools:
                problems.extend(_format_problems(made))
                self.registry.add(made, replace=True)
                self._names[made.name] = server
            self.problems = tuple(problems)
        fresh = [p for p in problems if p not in self._warned]
        if fresh:
            self._warned.update(fresh)
            warnings.warn(
                "some MCP tools cannot be used everywhere:\n" + "\n".join(fresh),
                MCPWarning,
                stacklevel=3,
            )

    def _choose_names(
        self, listed: Mapping[str, Mapping[str, _Listed]]
    ) -> dict[tuple[str, str], str]:
        """The registered name of each (server, tool): legal, and prefixed by the server's
        name where two servers, or a tool already in the registry, would share it."""
        legal = {
            (server, remote): _legal_name(remote)
            for server, tools in listed.items()
            for remote in tools
        }
        count: dict[str, int] = {}
        for name in legal.values():
            count[name] = count.get(name, 0) + 1
        taken = set(self.registry.names) - set(self._names)
        chosen: dict[tuple[str, str], str] = {}
        for (server, remote), plain in legal.items():
            name = plain
            if self.prefix == "always" or count[plain] > 1 or plain in taken:
                name = _legal_name(namespaced(server, plain))
            if name in chosen.values() or name in taken:  # "a b" and "a_b" of one server
                name = _hashed(name, f"{server}/{remote}")
            chosen[server, remote] = name
        return chosen

    def _on_owner_loop(self, work: Coroutine[Any, Any, T]) -> Awaitable[T]:
        """``work`` run on the loop holding the connections, awaitable from any loop."""
        owner = self._loop
        if owner is None:
            work.close()
            raise ToolError("the MCPClient was closed; open it again to call its tools")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is owner:
            return work
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, owner))


class _Connection:
    """One server: the task holding its ``mcp.Client``, its tools as last listed, and
    the calls made through it."""

    def __init__(self, owner: MCPClient, name: str, spec: ServerSpec) -> None:
        self.owner = owner
        self.name = name
        self.spec = spec
        self.listed: dict[str, _Listed] = {}
        self.instructions: str | None = None
        self._client: Client | None = None
        self._holder: asyncio.Task[None] | None = None
        self._closing: asyncio.Event | None = None
        self._stopped: str | None = None  # why the connection ended, while it is down
        self._starting: asyncio.Lock | None = None
        self._stderr: TextIO | None = None
        self.unreadable: list[str] = []  # tools of the last listing that could not be read
        self._raw: dict[str, Any] = {}  # the last tools/list page as sent, by tool name

    # -- start and stop ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the server, connect, list its tools; raise ``MCPConnectionError``."""
        ready: asyncio.Future[Client] = asyncio.get_running_loop().create_future()
        self._closing = asyncio.Event()
        self._stopped = None
        self._holder = asyncio.create_task(
            self._hold(ready, self._closing), name=f"mcp {self.name}"
        )
        try:
            self._client, self.listed = await asyncio.wait_for(
                self._connected(ready), self.owner.connect_timeout
            )
        except BaseException as error:
            await self.stop()
            if isinstance(error, MCPConnectionError):
                raise
            if isinstance(error, asyncio.TimeoutError):
                raise self._failure(
                    f"did not answer within {self.owner.connect_timeout:g} s"
                ) from None
            if isinstance(error, Exception):
                raise self._failure(_describe(error)) from error
            raise
        self.instructions = self._client.instructions

    async def _connected(self, ready: asyncio.Future[Client]) -> tuple[Client, dict[str, _Listed]]:
        client = await asyncio.shield(ready)
        return client, await self._list(client)

    async def stop(self) -> None:
        holder, self._holder, self._client = self._holder, None, None
        if self._closing is not None:
            self._closing.set()
        if holder is not None and not holder.done():
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(holder), _CLOSE_SECONDS)
            if not holder.done():
                holder.cancel()
                with contextlib.suppress(BaseException):
                    await holder
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    async def _hold(self, ready: asyncio.Future[Client], closing: asyncio.Event) -> None:
        """Enter the SDK's client, hand it over, and leave it when told to (this task
        alone enters and leaves the transport's task groups)."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                client = Client(
                    await self._transport(stack), message_handler=self._message, mode="auto"
                )
                await stack.enter_async_context(client)
                ready.set_result(client)
                listening = asyncio.create_task(self._listen(client))
                try:
                    await closing.wait()
                finally:
                    listening.cancel()
                    with contextlib.suppress(BaseException):
                        await listening
        except BaseException as error:  # the server stopped, or never started
            reason = _describe(error) if isinstance(error, Exception) else "cancelled"
            self._stopped = self._stopped or reason
            if not ready.done():
                ready.set_exception(self._failure(reason))
            if not isinstance(error, Exception):
                raise
        else:
            self._stopped = self._stopped or "closed"
        finally:
            self._client = None

    async def _transport(self, stack: contextlib.AsyncExitStack) -> Any:
        spec = self.spec
        if isinstance(spec, Stdio):
            if self._stderr is None:
                self._stderr = cast(
                    "TextIO",
                    # kept open for the connection's life, closed by stop()
                    tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace"),  # noqa: SIM115
                )
            parameters = StdioServerParameters(
                command=spec.command,
                args=list(spec.args),
                env=dict(spec.env) if spec.env is not None else None,
                cwd=spec.cwd,
            )
            return _Lenient(stdio_client(parameters, errlog=self._stderr), self._raw, self.name)
        http = httpx2.AsyncClient(
            headers=dict(spec.headers or {}), timeout=httpx2.Timeout(30.0, read=300.0)
        )
        stack.push_async_callback(http.aclose)
        return _Lenient(streamable_http_client(spec.url, http_client=http), self._raw, self.name)

    async def _listen(self, client: Client) -> None:
        """Changes of the tool list on a 2026-era connection: a ``subscriptions/listen``
        stream (2025-era servers send notifications, which ``_message`` takes)."""
        with contextlib.suppress(Exception):
            async with client.listen(tools_list_changed=True) as subscription:
                async for _ in subscription:
                    await self._relist()

    async def _message(self, message: Any) -> None:
        if isinstance(message, ToolListChangedNotification):
            asyncio.get_running_loop().create_task(self._relist())

    async def _relist(self) -> None:
        client = self._client
        if client is None:
            return
        with contextlib.suppress(Exception):
            self.listed = await self._list(client)
            self.owner._publish()  # pyright: ignore[reportPrivateUsage]

    async def _list(self, client: Client) -> dict[str, _Listed]:
        """The server's tools, each read from what the server sent (see ``_Lenient``):
        a tool that cannot be used is reported and left out, the others are kept."""
        tools: dict[str, _Listed] = {}
        unreadable: list[str] = []
        cursor: str | None = None
        for _ in range(1_000):  # a server whose cursors never end is not followed forever
            self._raw.clear()
            page = await client.list_tools(cursor=cursor, cache_mode="refresh")
            unreadable.extend(self._raw.pop("", ()))
            for item in page.tools:
                sent = self._raw.get(item.name, item.model_dump(by_alias=True, exclude_none=True))
                found = _Listed.read(sent, self.name)
                if isinstance(found, str):
                    unreadable.append(found)
                else:
                    tools.setdefault(found.name, found)
            cursor = page.next_cursor
            if not cursor:
                break
        self.unreadable = unreadable
        return tools

    async def _ready(self) -> Client:
        """The connected client, started again if the server stopped."""
        client = self._client
        if client is not None and self._holder is not None and not self._holder.done():
            return client
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self._client is not None and self._holder is not None and not self._holder.done():
                return self._client
            why = self._stopped or "not started"
            await self.stop()  # what is left of the last connection
            try:
                await self.start()
            except MCPConnectionError as error:
                raise MCPConnectionError(
                    f"MCP server {self.name!r} stopped ({why}) and could not be started "
                    f"again: {error}"
                ) from None
            assert self._client is not None
            self.owner._publish()  # pyright: ignore[reportPrivateUsage] - its tools may differ now
            return self._client

    def _failure(self, reason: str) -> MCPConnectionError:
        text = f"MCP server {self.name!r} ({_describe_spec(self.spec)}): {reason}"
        tail = self._stderr_tail()
        return MCPConnectionError(
            f"{text}\nits standard error ends with:\n{tail}" if tail else text
        )

    def _stderr_tail(self) -> str:
        if self._stderr is None:
            return ""
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - _STDERR_TAIL))
            return self._stderr.read().strip()
        except (OSError, ValueError):
            return ""

    # -- tools and calls -----------------------------------------------------------------------

    def tool(self, remote: str, name: str) -> Tool[..., Any]:
        """The toolkit tool standing for the server's tool ``remote``."""
        listed = self.listed[remote]
        owner = self.owner

        async def call(**arguments: Any) -> CallToolResult:
            # Here, in the caller's task: its span is the parent the server's will name.
            with _tracing.mcp_call(self.name, listed.name) as meta:
                work = self.call(listed, arguments, meta)
                return await owner._on_owner_loop(work)  # pyright: ignore[reportPrivateUsage]

        call.__name__ = call.__qualname__ = name
        return Tool.from_schema(
            call,
            listed.input_schema,
            name=name,
            description=listed.description,
            owner=f"tool {remote!r} of MCP server {self.name!r}",
            strict=owner.strict,
            timeout=owner.timeout,
            # The serializer may give parts as well as a text (the registry takes both);
            # Tool's annotation says text only.
            serializer=cast("Callable[[Any], str]", _result_of),
            annotations=listed.annotations,
        )

    async def call(
        self, listed: _Listed, arguments: dict[str, Any], meta: dict[str, str] | None = None
    ) -> CallToolResult:
        client = await self._ready()
        params = CallToolRequestParams(name=listed.name, arguments=arguments)
        if meta:  # the trace context (only when tracing is on)
            params.meta = cast("Any", meta)
        request = CallToolRequest(params=params)
        try:
            # The session's own call_tool would check the output against a listing the
            # SDK parses strictly (see _list); the output is checked below instead.
            result = await client.session.send_request(request, CallToolResult)
        except MCPError as error:
            if error.code == CONNECTION_CLOSED or self._client is not client:
                raise self._stopped_during_call() from None
            raise ToolError(f"MCP server {self.name!r} refused the call: {error}") from None
        except ValidationError as error:
            raise ToolError(
                f"MCP server {self.name!r} answered with a malformed result: {_errors(error)}"
            ) from None
        except (OSError, httpx2.HTTPError, EOFError, *_STREAM_ERRORS) as error:
            raise self._stopped_during_call(_describe(error)) from None
        if result.is_error:
            raise ToolError(_text_of(result) or f"MCP server {self.name!r} reported an error")
        if listed.output is not None:
            self._check_output(listed, result)
        return result

    def _check_output(self, listed: _Listed, result: CallToolResult) -> None:
        """Structured content against the tool's ``outputSchema`` (with toolkit's own
        validator: the same precise locations as for arguments)."""
        assert listed.output is not None
        where = f"MCP server {self.name!r}: tool {listed.name!r}"
        if result.structured_content is None:
            raise ToolError(f"{where} has an output schema but returned no structured content")
        try:
            listed.output.validate_python(result.structured_content)
        except ValidationError as error:
            raise ToolError(
                f"{where} returned structured content that does not match its output "
                f"schema: {_errors(error)}"
            ) from None

    def _stopped_during_call(self, reason: str | None = None) -> ToolError:
        why = reason or self._stopped or "connection closed"
        self._stopped = why
        self._client = None  # the next call starts the server again
        if self._closing is not None:
            self._closing.set()  # and the task holding the dead connection ends
        return ToolError(
            f"MCP server {self.name!r} stopped during the call ({why}); the next call "
            "starts it again"
        )


_STREAM_ERRORS = (anyio.ClosedResourceError, anyio.BrokenResourceError, anyio.EndOfStream)
"""What anyio's streams raise when the peer went away."""


class _Lenient:
    """A transport whose ``tools/list`` results are kept as sent, then made acceptable to
    the SDK, which refuses a whole listing for one tool's sloppy schema (a missing
    ``type``), exactly what toolkit repairs. The SDK gets each tool with a minimal
    ``inputSchema`` where the sent one would fail its checks; toolkit reads the tool as
    sent. A tool without a name is left out and reported (under the key ``""``)."""

    def __init__(self, transport: Any, raw: dict[str, Any], server: str) -> None:
        self._transport = transport
        self._raw = raw
        self._server = server

    async def __aenter__(self) -> tuple[Any, Any]:
        read, write = await self._transport.__aenter__()
        return _LenientReads(read, self._kept), write

    async def __aexit__(self, *exc_info: Any) -> Any:
        return await self._transport.__aexit__(*exc_info)

    def _kept(self, tools: list[Any]) -> list[Any]:
        kept: list[Any] = []
        nameless: list[str] = []
        for sent in tools:
            name = cast("dict[str, Any]", sent).get("name") if isinstance(sent, dict) else None
            if not isinstance(name, str):
                nameless.append(
                    f"MCP server {self._server!r} listed a tool without a name: "
                    f"{str(cast('object', sent))[:200]}"
                )
                continue
            item = cast("dict[str, Any]", sent)
            self._raw.setdefault(name, item)
            shown = {k: v for k, v in item.items() if k in _SDK_TOOL_KEYS and _sdk_accepts(k, v)}
            schema = item.get("inputSchema")
            if (
                not isinstance(schema, dict)
                or cast("dict[str, Any]", schema).get("type") != "object"
            ):
                shown["inputSchema"] = {"type": "object"}
            kept.append(shown)
        if nameless:
            self._raw[""] = nameless
        return kept


class _LenientReads:
    """The transport's read stream, each ``tools/list`` result passed through ``kept``."""

    def __init__(self, inner: Any, kept: Callable[[list[Any]], list[Any]]) -> None:
        self._inner = inner
        self._kept = kept

    async def receive(self) -> Any:
        item = await self._inner.receive()
        message = getattr(item, "message", None)
        if isinstance(message, JSONRPCResponse):
            tools = message.result.get("tools")
            if isinstance(tools, list):
                message.result["tools"] = self._kept(cast("list[Any]", tools))
        return item

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> _LenientReads:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> _LenientReads:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()


_SDK_TOOL_KEYS = frozenset(
    {"name", "title", "description", "inputSchema", "outputSchema", "annotations", "_meta", "icons"}
)


def _sdk_accepts(key: str, value: Any) -> bool:
    """Whether the SDK's tool model takes ``value`` for ``key`` (what it would refuse is
    left out of its view; toolkit reads the tool as sent)."""
    if key in ("title", "description"):
        return isinstance(value, str)
    if key == "outputSchema":
        return isinstance(value, dict) and cast("dict[str, Any]", value).get("type") == "object"
    if key in ("annotations", "_meta"):
        return isinstance(value, dict)
    return key in ("name", "inputSchema", "icons")


@dataclass(frozen=True, slots=True)
class _Listed:
    """One tool of a server, as listed: what a toolkit ``Tool`` is made from."""

    name: str
    description: str
    input_schema: Any
    annotations: ToolAnnotations | None
    output: SchemaValidator | None

    @classmethod
    def read(cls, item: dict[str, Any], server: str) -> _Listed | str:
        """The tool ``item`` (as the server sent it, named), or why it cannot be used."""
        name: str = item["name"]
        title = _text(item.get("title"))
        description = _text(item.get("description")) or title or ""
        hints: Any = item.get("annotations")
        hints = cast("dict[str, Any]", hints) if isinstance(hints, dict) else {}
        annotations = ToolAnnotations(
            title=title or _text(hints.get("title")),
            read_only=_flag(hints.get("readOnlyHint")),
            destructive=_flag(hints.get("destructiveHint")),
            idempotent=_flag(hints.get("idempotentHint")),
            open_world=_flag(hints.get("openWorldHint")),
        )
        output = None
        if item.get("outputSchema") is not None:
            owner = f"the output of tool {name!r} of MCP server {server!r}"
            try:
                schema, _ = normalise(item["outputSchema"], owner)
                output = value_validator(schema, name)
            except ToolDefinitionError as error:
                return str(error)
        return cls(
            name=name,
            description=description,
            input_schema=item.get("inputSchema", {}),
            annotations=None if annotations == ToolAnnotations() else annotations,
            output=output,
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _errors(error: ValidationError) -> str:
    """A validation error in one line: each location and message (the first five)."""
    found = error.errors(include_url=False)
    shown = [f"{'.'.join(str(p) for p in e['loc']) or 'the value'}: {e['msg']}" for e in found[:5]]
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return "; ".join(shown) + more


# -- names ---------------------------------------------------------------------------------------


def _legal_name(name: str) -> str:
    """``name`` if toolkit accepts it as a tool name, else a stand-in that keeps its
    readable part (each format then spells it as its provider accepts)."""
    if name_problem(name) is None:
        return name
    legal = _BAD_NAME_CHARS.sub("_", name)
    if not legal or not (legal[0].isalpha() or legal[0] == "_") or not legal.isascii():
        legal = f"_{legal}"
    if len(legal) > _MAX_NAME or legal != name:
        legal = _hashed(legal[: _MAX_NAME - 9], name)
    return legal


def _hashed(name: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9]}_{digest}"


def _default_name(spec: ServerSpec) -> str:
    """A server's name when none is given: the script's or program's stem, or the host."""
    if isinstance(spec, Stdio):
        words = [a for a in spec.args if not a.startswith("-")] or [spec.command]
        stem = Path(words[-1 if len(words) == 1 else 0]).stem
        for word in words:
            if "." in Path(word).name:
                stem = Path(word).stem
                break
    else:
        stem = httpx2.URL(spec.url).host.split(".")[0]
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")[:32].strip("_")
    return cleaned if cleaned and cleaned[0].isalpha() else f"mcp{cleaned}"[:32] or "mcp"


def _format_problems(made: Tool[..., Any]) -> list[str]:
    """Why ``made`` cannot be rendered for some formats (the others are unaffected)."""
    problems: list[str] = []
    for format in FORMATS:
        try:
            made.definition(format)
        except ToolDefinitionError as error:
            problems.append(f"{made.name} ({format}): {error}")
    return problems


# -- results ---------------------------------------------------------------------------------------


def _result_of(result: Any) -> str | tuple[Part, ...]:
    """What the model receives of a server's result: its text, or, when it holds images or
    binary resources toolkit can take, its parts in order (texts, ``Image``, ``File``)."""
    if not isinstance(result, CallToolResult):
        return str(result)
    parts: list[Part] = []
    found = False
    for block in result.content:
        media = _media_of(block)
        if media is None:
            parts.append(_block_text(block))
        else:
            parts.append(media)
            found = True
    if not found:
        return _text_of(result)
    return tuple(parts)


def _media_of(block: Any) -> Image | File | None:
    """An image or a binary resource as an ``Image`` or ``File``, checked as any other: a
    type, a size or base64 toolkit refuses leaves the block to be described in words."""
    try:
        if isinstance(block, ImageContent):
            return Image(url=f"data:{block.mime_type};base64,{block.data}")
        if isinstance(block, EmbeddedResource) and isinstance(block.resource, BlobResourceContents):
            item = block.resource
            url = f"data:{item.mime_type or 'application/octet-stream'};base64,{item.blob}"
            name = Path(urlsplit(item.uri).path).name or None
            try:
                return File(url=url, filename=name)
            except ValueError:
                return File(url=url)  # a name File refuses (too long, control characters)
    except ValueError:
        return None
    return None


def _text_of(result: Any) -> str:
    """What the model reads of a server's result: its text, and its other parts in words."""
    if not isinstance(result, CallToolResult):
        return str(result)
    parts = [_block_text(block) for block in result.content]
    if not parts and result.structured_content is not None:
        return json.dumps(result.structured_content, ensure_ascii=False)
    return "\n".join(parts)


def _block_text(block: ContentBlock) -> str:
    """One content block as text: a text as it is, anything else in words."""
    if isinstance(block, TextContent):
        return block.text
    if isinstance(block, (ImageContent, AudioContent)):
        kind = "image" if isinstance(block, ImageContent) else "audio"
        return f"[{kind}: {block.mime_type}, {_decoded_size(block.data):,} bytes]"
    if isinstance(block, EmbeddedResource):
        item = block.resource
        media = item.mime_type or "unknown type"
        if isinstance(item, TextResourceContents):
            return f"[resource {item.uri} ({media})]\n{item.text}"
        size = _decoded_size(getattr(item, "blob", ""))
        return f"[resource {item.uri}: {media}, {size:,} bytes]"
    return f"[resource link {block.uri}: {block.name}]"  # a ResourceLink, the one kind left


def _decoded_size(data: str) -> int:
    """Bytes of base64 ``data``, without decoding it."""
    text = data.rstrip("=")
    return len(text) * 3 // 4


def _describe(error: BaseException) -> str:
    inner = getattr(error, "exceptions", None)  # an exception group (3.10: anyio's backport)
    if isinstance(inner, tuple):
        return "; ".join(_describe(e) for e in cast("tuple[BaseException, ...]", inner)[:3])
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _describe_spec(spec: ServerSpec) -> str:
    if isinstance(spec, Stdio):
        return " ".join([spec.command, *spec.args])[:200]
    return spec.url
