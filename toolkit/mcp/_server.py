"""A ``Registry`` as the MCP SDK's low-level ``Server``: two handlers and a watch.

The SDK owns the protocol (both of its eras, every transport, cancellation, progress
tokens); this module only answers ``tools/list`` and ``tools/call`` from the registry:

- ``tools/list``: ``registry.definitions("mcp")``, as the MCP codec renders each tool.
- ``tools/call``: one ``ToolCall`` through ``registry.execute_async``, so validation,
  timeouts, hooks, secrets and context injection are the registry's, and every failure is
  the registry's error result, sent with ``isError: true``. The SDK validates nothing of
  a call's arguments itself: a bad argument never becomes a protocol error.
- Progress: a tool's ``Context`` carries an ``on_progress`` that forwards
  ``ctx.report_progress(...)`` to the client, as progress notifications when it sent a
  progress token (the SDK drops them otherwise).
- Cancellation: the SDK cancels the request's handler, which cancels ``execute_async``
  and with it the running tool.
- ``list_changed``: ``_Watch`` compares the registry's tools with the ones it saw last,
  after every call, at every listing and every ``watch_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, cast

import anyio
from mcp.server.caching import CacheHint
from mcp.server.connection import Connection
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ContentBlock,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
)
from mcp.types import Tool as McpTool
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS
from pydantic_core import to_jsonable_python

from toolkit import __version__, _tracing
from toolkit.calls import ToolCall, ToolResult
from toolkit.context import Context
from toolkit.formats import get_format
from toolkit.registry import Registry
from toolkit.schema import return_json_schema
from toolkit.tool import Tool

__all__ = ["mcp_server"]

_NOTIFY_SECONDS = 5.0
"""How long telling one connection of a change may take before it is given up on."""


def mcp_server(
    registry: Registry,
    *,
    name: str = "toolkit",
    version: str | None = None,
    instructions: str | None = None,
    context: Any = None,
    watch_interval: float | None = 1.0,
) -> Server[Any]:
    """The MCP SDK's low-level ``Server`` serving the tools of ``registry``.

    Serve it with ``serve_stdio`` or ``serve_http`` (or any of the SDK's transports, or
    in-process with ``mcp.Client(server)``). The tools are read from the registry at each
    ``tools/list``, so tools added or removed while serving are seen, and clients are told
    (``notifications/tools/list_changed``, or a ``subscriptions/listen`` stream's event).

    Args:
        registry: The tools, and how their calls run (validation, timeouts, hooks,
            secrets).
        name: The server's name, as clients show it.
        version: The server's version (default: toolkit's).
        instructions: Told to the client at connection: how to use these tools together.
        context: Handed to tools that take a ``Context``, as ``Registry.execute`` takes it
            (its ``deps``, or a ``Context`` used as the template).
        watch_interval: Seconds between two looks at the registry for tools added or
            removed from outside a call (``None``: look only at each call and listing).

    Raises:
        ToolNameConflict: two tools of the registry have the same name in MCP's spelling.
        ToolDefinitionError: a tool cannot be expressed as an MCP tool.
    """
    if watch_interval is not None and not watch_interval > 0:
        raise ValueError(
            f"watch_interval must be a positive number of seconds, got {watch_interval}"
        )
    registry.definitions("mcp")  # a registry that cannot be listed fails here, not per client
    watch = _Watch(registry)
    tools = _Tools(registry, context, watch)
    return _ToolkitServer(
        name,
        version=__version__ if version is None else version,
        instructions=instructions,
        lifespan=_lifespan(watch, watch_interval),
        # The tools change while serving: a client must never answer tools/list from a cache.
        cache_hints={"tools/list": CacheHint(ttl_ms=0, scope="private")},
        # For the Mcp-Param header check of HTTP calls: a lookup, not a whole tools/list.
        get_tool_input_schema=tools.input_schema,
        on_list_tools=tools.list_tools,
        on_call_tool=tools.call_tool,
        on_subscriptions_listen=ListenHandler(watch.bus),
    )


class _ToolkitServer(Server[Any]):
    """The SDK's ``Server``, announcing ``listChanged`` for tools to handshake-era clients
    whichever transport asks for its initialization options."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        if notification_options is None:
            notification_options = NotificationOptions(tools_changed=True)
        return super().create_initialization_options(
            notification_options, experimental_capabilities, extensions
        )


_Request = ServerRequestContext[Any, Any]


class _Tools:
    """The ``tools/list`` and ``tools/call`` handlers over one registry."""

    def __init__(self, registry: Registry, context: Any, watch: _Watch) -> None:
        self.registry = registry
        self.context = context
        self.watch = watch
        # Whether a tool's structured content is wrapped as {"result": ...} (None: it
        # has no outputSchema), by tool name, for the tool object it was worked out for.
        self._shapes: dict[str, tuple[Tool[..., Any], bool | None]] = {}

    def input_schema(self, name: str) -> Mapping[str, Any] | None:
        found = self.registry.get(name)
        return None if found is None else found.parameters

    async def list_tools(
        self, ctx: _Request, params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        await self.watch.check()  # a change seen here is told to the other clients too
        self.watch.follow(ctx)
        definitions = self.registry.definitions("mcp")
        return ListToolsResult(tools=[McpTool.model_validate(each) for each in definitions])

    async def call_tool(self, ctx: _Request, params: CallToolRequestParams) -> CallToolResult:
        call = ToolCall(id=str(ctx.request_id), name=params.name, arguments=params.arguments)
        found = self.registry.get(params.name)
        hide = self._hider(found)
        with _tracing.mcp_serve(params.name, params.meta, ctx.request_id):
            if found is None or not found.takes_context:  # no Context: no progress to report
                [result] = await self.registry.execute_async([call], context=self.context)
            else:
                result = await self._reporting(ctx, call, hide)
            if result.error is not None:
                _tracing.mcp_error(result.error.kind)
        await self.watch.check()  # the tool may have added or removed tools
        return self._answer(found, result, hide)

    async def _reporting(
        self, ctx: _Request, call: ToolCall, hide: Callable[[str], str] | None
    ) -> ToolResult:
        """Run ``call`` with its progress reports sent to the client beside it."""
        progress = _Progress(ctx.session, hide)
        context = _with_progress(self.context, progress.report)
        results: list[ToolResult] = []
        async with anyio.create_task_group() as group:
            group.start_soon(progress.send)
            try:
                results = await self.registry.execute_async([call], context=context)
            finally:
                progress.close()
        return results[0]

    def _answer(
        self, found: Tool[..., Any] | None, result: ToolResult, hide: Callable[[str], str] | None
    ) -> CallToolResult:
        """The model's text (with its images and files, as the MCP codec writes them), and
        the value as structured content when the tool has an ``outputSchema`` (wrapped as
        that schema wraps it)."""
        content = _content(result)
        if result.is_error or found is None:
            return CallToolResult(content=content, is_error=result.is_error)
        wrapped = self._wrapped(found)
        if wrapped is None:
            return CallToolResult(content=content)
        try:
            value = to_jsonable_python(result.value, fallback=str, inf_nan_mode="strings")
        except Exception:  # past what the text could say: send the text alone
            return CallToolResult(content=content)
        if hide is not None:
            value = _hidden(value, hide)
        if wrapped:
            return CallToolResult(content=content, structured_content={"result": value})
        if isinstance(value, dict):
            return CallToolResult(content=content, structured_content=value)
        return CallToolResult(content=content)  # the tool broke its own annotation

    def _wrapped(self, found: Tool[..., Any]) -> bool | None:
        known = self._shapes.get(found.name)
        if known is not None and known[0] is found:
            return known[1]
        wrapped: bool | None = None
        if "outputSchema" in found.definition("mcp"):
            # The MCP codec's rule: a return type that is not an object is wrapped.
            output = return_json_schema(found.return_annotation)
            wrapped = output is None or output.get("type") != "object"
        self._shapes[found.name] = (found, wrapped)
        return wrapped

    def _hider(self, found: Tool[..., Any] | None) -> Callable[[str], str] | None:
        """What removes the values of the tool's secrets from a text, as the registry
        removes them from the result's content (``None``: the tool declares none)."""
        if found is None or not found.secrets:
            return None
        return self.registry.secret_hider(found.secrets)


def _content(result: ToolResult) -> list[ContentBlock]:
    """The content blocks of a result: its text, or its parts (texts, ``ImageContent``,
    embedded resources, resource links) as the MCP codec writes them."""
    if not result.parts:
        return [TextContent(text=result.content)]
    [message] = get_format("mcp").result_messages([result])
    return CallToolResult.model_validate({"content": message["content"]}).content


def _hidden(value: Any, hide: Callable[[str], str]) -> Any:
    """``value`` (JSON data) with ``hide`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return hide(value)
    if isinstance(value, dict):
        items = cast("dict[Any, Any]", value)
        return {hide(k) if isinstance(k, str) else k: _hidden(v, hide) for k, v in items.items()}
    if isinstance(value, list):
        return [_hidden(item, hide) for item in cast("list[Any]", value)]
    return value


def _with_progress(template: Any, report: Callable[..., None]) -> Context[Any]:
    """The context template of a call whose progress the client follows."""
    if isinstance(template, Context):
        return dataclasses.replace(template, on_progress=report)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    return Context(deps=template, on_progress=report)


_Report = tuple[float, "float | None", "str | None"]


class _Progress:
    """A call's progress reports, from its tool (on any thread) to the client, in order.

    ``report`` never blocks: it leaves the report for ``send``, which runs beside the call
    on the server's loop. Reports that come faster than they can be sent are merged, the
    latest kept. ``close`` (once the call has returned) lets ``send`` finish with what is
    left; a report after that (from a timed-out tool's thread, say) is dropped.
    """

    def __init__(self, session: ServerSession, hide: Callable[[str], str] | None) -> None:
        self._session = session
        self._hide = hide
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._waiting = asyncio.Event()
        self._latest: _Report | None = None
        self._open = True

    def report(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        if message is not None and self._hide is not None:
            message = self._hide(message)
        item: _Report = (float(progress), None if total is None else float(total), message)
        if threading.get_ident() == self._thread:
            self._keep(item)  # an async tool, on the loop: before the call can return
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the call is long over
            self._loop.call_soon_threadsafe(self._keep, item)  # queued before the result

    def _keep(self, item: _Report) -> None:
        if self._open:
            self._latest = item
            self._waiting.set()

    def close(self) -> None:
        self._open = False
        self._waiting.set()

    async def send(self) -> None:
        while True:
            await self._waiting.wait()
            self._waiting.clear()
            item, self._latest = self._latest, None
            if item is not None:
                await self._session.report_progress(*item)
            if not self._open and self._latest is None:
                return


class _Watch:
    """Tells clients when the registry's tools change.

    Clients of the 2026 protocol follow changes on a ``subscriptions/listen`` stream: the
    change is published on ``bus``, which the SDK's ``ListenHandler`` serves. Clients of
    the handshake era are sent ``notifications/tools/list_changed`` on their connection,
    once they have listed the tools (``follow``).
    """

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.bus = InMemorySubscriptionBus()
        self._seen = self._tools() or ()
        self._connections: weakref.WeakSet[Connection] = weakref.WeakSet()

    def _tools(self) -> tuple[Tool[..., Any], ...] | None:
        try:
            return tuple(self.registry)
        except RuntimeError:  # changed by another thread while read: look again next time
            return None

    def follow(self, ctx: _Request) -> None:
        """Tell this request's connection of later changes (handshake era only)."""
        if ctx.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
            return
        # The SDK's request context does not expose the connection yet (its Context
        # rework); the session holds it.
        connection = getattr(ctx.session, "_connection", None)
        if isinstance(connection, Connection) and connection not in self._connections:
            self._connections.add(connection)
            connection.exit_stack.callback(self._connections.discard, connection)

    async def check(self) -> None:
        """Tell every client if the tools changed since the last look."""
        tools = self._tools()
        if tools is None or _same(tools, self._seen):
            return
        self._seen = tools
        await self.bus.publish(ToolsListChanged())
        for connection in list(self._connections):
            with anyio.move_on_after(_NOTIFY_SECONDS):
                await connection.send_tool_list_changed()

    async def poll(self, interval: float) -> None:
        while True:
            await anyio.sleep(interval)
            await self.check()


def _same(tools: tuple[Tool[..., Any], ...], seen: tuple[Tool[..., Any], ...]) -> bool:
    return len(tools) == len(seen) and all(a is b for a, b in zip(tools, seen, strict=True))


def _lifespan(
    watch: _Watch, interval: float | None
) -> Callable[[Server[Any]], AbstractAsyncContextManager[dict[str, Any]]]:
    """The server's lifespan (entered once per ``run``, or once by the HTTP manager):
    the watch's look at the registry every ``interval`` seconds."""

    @asynccontextmanager
    async def lifespan(_server: Server[Any]) -> AsyncGenerator[dict[str, Any], None]:
        async with anyio.create_task_group() as group:
            if interval is not None:
                group.start_soon(watch.poll, interval)
            yield {}
            group.cancel_scope.cancel()

    return lifespan
