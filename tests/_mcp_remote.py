"""MCP servers written with the official ``mcp`` SDK alone (no toolkit), which the tests of
toolkit's MCP client start as subprocesses:

    python tests/_mcp_remote.py KIND [--http] [--token TOKEN]

Without ``--http`` the server speaks over standard input and output. With it, it serves
streamable HTTP at ``http://127.0.0.1:PORT/mcp`` on a free port, and prints one line,
``READY http://127.0.0.1:PORT/mcp``, once it takes connections; ``--token T`` then answers
every request to the endpoint without ``Authorization: Bearer T`` with HTTP 401 (the SDK's
own bearer-token check). Every kind speaks both protocol eras the SDK does: the handshake
one (``initialize``, up to 2025-11-25), and the 2026-07-28 one, where each request carries
its own envelope (``Client(mode="auto")``, the SDK client's default, picks it).

The kinds:

- ``well``: a well-behaved server. ``add`` (annotated read-only, idempotent, titled "Add
  two numbers"), ``weather`` (a pydantic model: structured output with an outputSchema),
  ``echo``, ``image`` (a PNG, ``RED_DOT_PNG``, and a text part), ``resource`` (a text and a
  blob embedded resource), ``fail`` (destructive; raises, so the result has ``isError``
  and the message), ``progress`` (reports steps 1..N), ``env`` (a variable of the
  process's environment), ``pid``, and ``grow``, which adds the tool ``grown`` and tells
  the client that the list changed. Instructions: "Test server".
- ``sloppy``: a low-level server listing the raw definitions of ``SLOPPY_TOOLS``, sloppy
  on purpose as many real servers are (no top-level ``type``, an empty schema, names with
  a slash, a space, 80 characters (``LONG_NAME``), ``definitions``, ``$defs`` and
  recursion, OpenAPI's ``nullable``...). A call answers, as JSON text, ``{"tool": NAME,
  "arguments": ARGUMENTS}`` as they arrived, except ``bad_output``, whose structured
  content breaks its own outputSchema.
- ``slow``: ``sleep(seconds)`` and ``quick()``. A cancelled ``sleep`` appends the line
  ``cancelled`` to the file named by ``MCP_TEST_MARKS`` (when set).
- ``crash``: ``crash()`` ends the process (status 3) with the call unanswered, ``ok()``
  answers ``ok PID``, ``hang()`` sleeps an hour. If ``MCP_TEST_BROKEN`` names a file
  that exists, the process writes "broken" to stderr and exits with status 4 at once.

What the SDK (2.3) does, found in its source and checked by driving these servers with
its own client:

- The tools of ``well``, ``slow`` and ``crash`` are written with ``MCPServer``'s decorator
  (schemas, structured output, ``Context``) and served by a low-level ``Server`` that asks
  it for its listing and its calls. ``MCPServer`` never announces ``tools.listChanged`` to
  a handshake-era client (it runs with default ``NotificationOptions``, and the HTTP
  session manager asks the server for its options), so ``well`` overrides
  ``create_initialization_options``; at 2026-07-28 the flag follows from serving
  ``subscriptions/listen``, which ``ListenHandler`` does.
- A list change reaches a handshake-era client as ``notifications/tools/list_changed``,
  sent here on the stream of the ``grow`` request (``ctx.session.send_notification(...,
  related_request_id=...)``), so that it arrives before the result over HTTP as well (the
  connection's own stream, what ``ctx.session.send_tool_list_changed()`` uses, is over
  HTTP the GET stream, which the client opens on its own time). At 2026-07-28 the SDK drops
  a bare change notification: only a ``subscriptions/listen`` stream the client opened
  (``client.listen(tools_list_changed=True)``) carries one, published with
  ``ctx.notify_tools_changed()``; the client hands it to ``message_handler`` too.
- Cancellation: over a stream (stdio, and handshake-era HTTP) the server's dispatcher
  cancels the handler's scope when ``notifications/cancelled`` arrives, in both eras; over
  2026-07-28 HTTP, where there are no client notifications, closing the request's
  response stream cancels it, which is what the SDK client does when a call is abandoned.
- Output schemas: the low-level server checks only that a result has the shape of a
  ``CallToolResult``, never a tool's outputSchema, so ``bad_output`` goes out as written.
  The SDK's client does check (``call_tool`` raises ``RuntimeError``), after listing the
  tools if it has not. Both sides check a ``tools/list`` result against the protocol's
  types, which want ``"type": "object"`` at the top of every inputSchema: ``sloppy`` puts
  its raw definitions in past the server's check (a middleware, on the checked result),
  and the SDK's client refuses the listing (a pydantic ``ValidationError``), and with it
  every ``call_tool`` of ``sloppy``, which lists first to check the output.
- A server that dies during a call (``crash``): on stdio and handshake-era HTTP the SDK's
  client fails the pending call with ``MCPError``; over 2026-07-28 HTTP, where the answer
  to a POST has not begun, its transport lets ``httpx2.RemoteProtocolError`` out of its
  task group instead, which ends the whole ``async with Client(...)``.
"""

# No `from __future__ import annotations`: MCPServer reads a tool's annotations with
# inspect.signature(eval_str=True), in the module's globals, so string annotations naming
# what the builders below import or define locally (Weather, Context) would not resolve.
# The SDK is imported inside the builders: importing this module (for SLOPPY_TOOLS) stays
# cheap, and a broken `crash` exits before paying for it.

import argparse
import base64
import logging
import os
import struct
import sys
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.context import ServerRequestContext
    from mcp.server.lowlevel import Server
    from mcp.server.mcpserver import MCPServer

KINDS = ("well", "sloppy", "slow", "crash")

LONG_NAME = "fetch_the_complete_list_of_all_open_pull_requests_for_a_repository_and_its_forks"
"""A tool name of exactly 80 characters (of ``sloppy``)."""


def _nested(depth: int) -> dict[str, Any]:
    """Arrays of arrays: ``depth`` levels of schema, about as many of JSON (a JSON parser
    refuses a message nested much deeper than 128, before any client could look at it)."""
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "array", "items": schema}
    return {"type": "object", "properties": {"deeper": schema}}


HOSTILE_TOOLS: list[Any] = [
    {"description": "A tool without a name.", "inputSchema": {"type": "object"}},
    {"name": "stringy", "inputSchema": {"type": "string"}},
    {"name": "deep", "inputSchema": _nested(90)},
    {"name": "wordy", "description": "word " * 50_000, "inputSchema": {"type": "object"}},
    {"name": "m\u00e9t\u00e9o \u2600", "inputSchema": {"type": "object"}},
]
"""Listed by ``sloppy`` too when MCP_TEST_HOSTILE is set: what a client must survive."""


def _png_of_one_red_pixel() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8 bits a channel, RGB
    row = b"\x00\xff\x00\x00"  # filter "none", then the one pixel
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row))
        + chunk(b"IEND", b"")
    )


RED_DOT_PNG = base64.b64encode(_png_of_one_red_pixel()).decode("ascii")
"""The base64 of the PNG that ``well``'s ``image`` tool returns."""

SLOPPY_TOOLS: list[dict[str, Any]] = [
    {
        "name": "files.read.v2",
        "description": "Read a file.",
        "inputSchema": {"properties": {"path": {"type": "string"}}, "required": ["path"]},
    },
    {
        "name": "github/search_issues",
        "description": "Search the issues of GitHub.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1},
                "labels": {"type": "array", "items": {"type": "string"}},
                "state": {"enum": ["open", "closed"]},
            },
        },
    },
    {
        "name": LONG_NAME,
        "description": "A tool with a long name.",
        "inputSchema": {"type": "object", "properties": {"repository": {"type": "string"}}},
    },
    {
        "name": "weather lookup",
        "description": "The weather of a city.",
        "inputSchema": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {
        "name": "address",
        "description": "Send a letter.",
        "inputSchema": {
            "type": "object",
            "properties": {"to": {"$ref": "#/definitions/Address"}},
            "required": ["to"],
            "definitions": {
                "Address": {
                    "type": "object",
                    "properties": {
                        "street": {"type": "string"},
                        "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                    },
                    "required": ["street", "zip"],
                }
            },
        },
    },
    {
        "name": "tag",
        "description": "Tag something.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "metadata": {"type": "object"},
                "note": {"type": "string", "nullable": True},
                "count": {"type": ["integer", "null"]},
                "level": {"enum": [1, 2, 3]},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
            },
        },
    },
    {
        "name": "tree",
        "description": "Walk a tree.",
        "inputSchema": {
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Node"}},
            "required": ["root"],
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                    },
                    "required": ["name"],
                }
            },
        },
    },
    {
        "name": "untyped",
        "description": "Takes anything.",
        "inputSchema": {},
    },
    {
        "name": "nested",
        "description": "A point.",
        "inputSchema": {
            "type": "object",
            "properties": {
                "point": {
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    "required": ["x", "y"],
                }
            },
            "required": ["point"],
        },
    },
    {
        "name": "bad_output",
        "description": "Breaks its own output schema.",
        "inputSchema": {"type": "object"},
        "outputSchema": {
            "type": "object",
            "properties": {"n": {"type": "integer"}},
            "required": ["n"],
        },
    },
    {
        "name": "echo",
        "description": "Echo a text.",
        "inputSchema": {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        },
    },
]
"""The raw tool definitions ``sloppy`` lists (name, description, inputSchema[, outputSchema])."""


def _served_by_lowlevel(
    tools: "MCPServer",
    name: str,
    *,
    instructions: str | None = None,
    announce_list_changed: bool = False,
) -> "Server[Any]":
    """A low-level server listing and calling the tools of ``tools`` (as ``MCPServer``
    itself does), which can announce ``tools.listChanged`` to handshake-era clients."""
    from mcp import types
    from mcp.server.lowlevel import NotificationOptions, Server
    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
    from mcp.server.models import InitializationOptions
    from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler

    bus = InMemorySubscriptionBus()

    async def list_tools(
        ctx: "ServerRequestContext[Any, Any]", params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await tools.list_tools())

    async def call_tool(
        ctx: "ServerRequestContext[Any, Any]", params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        context: Context[Any, Any] = Context(
            request_context=ctx, mcp_server=tools, subscriptions=bus
        )
        try:
            return await tools.call_tool(params.name, params.arguments or {}, context)
        except ToolError as error:  # what MCPServer answers too: the message, as an error
            if isinstance(error, UnexpectedToolError):
                logging.getLogger("_mcp_remote").exception("tool %r crashed", params.name)
            text = types.TextContent(type="text", text=str(error))
            return types.CallToolResult(content=[text], is_error=True)

    class Announcing(Server[Any]):
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

    server_class = Announcing if announce_list_changed else Server
    return server_class(
        name,
        version="1.0",
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_subscriptions_listen=ListenHandler(bus),
    )


def _well() -> "Server[Any]":
    from mcp import types
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types.version import MODERN_PROTOCOL_VERSIONS
    from pydantic import BaseModel

    class Weather(BaseModel):
        city: str
        celsius: float

    tools = MCPServer("well", log_level="WARNING")

    @tools.tool(
        title="Add two numbers",
        annotations=types.ToolAnnotations(
            title="Add two numbers", read_only_hint=True, idempotent_hint=True
        ),
    )
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @tools.tool()
    def weather(city: str) -> Weather:
        """The weather of a city."""
        return Weather(city=city, celsius=21.5)

    @tools.tool()
    def echo(text: str) -> str:
        """Echo a text."""
        return text

    @tools.tool()
    def image() -> list[types.ImageContent | types.TextContent]:
        """A picture of a red dot."""
        return [
            types.ImageContent(type="image", data=RED_DOT_PNG, mime_type="image/png"),
            types.TextContent(type="text", text="a red dot"),
        ]

    @tools.tool()
    def resource() -> list[types.EmbeddedResource]:
        """A text resource and a binary one."""
        note = types.TextResourceContents(
            uri="note://hello", mime_type="text/plain", text="hello from a resource"
        )
        data = types.BlobResourceContents(
            uri="file:///data.bin",
            mime_type="application/octet-stream",
            blob=base64.b64encode(b"\x00\x01\x02").decode("ascii"),
        )
        return [
            types.EmbeddedResource(type="resource", resource=note),
            types.EmbeddedResource(type="resource", resource=data),
        ]

    @tools.tool(annotations=types.ToolAnnotations(destructive_hint=True))
    def fail(message: str) -> str:
        """Fail with this message."""
        raise ToolError(message)

    @tools.tool()
    async def progress(steps: int, ctx: Context[Any, Any]) -> str:
        """Report progress steps 1..steps."""
        for step in range(1, steps + 1):
            await ctx.report_progress(step, steps, f"step {step}")
        return "done"

    @tools.tool()
    def env(name: str) -> str:
        """A variable of the server's environment ("" when unset)."""
        return os.environ.get(name, "")

    @tools.tool()
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    def grown() -> str:
        """A tool added by grow."""
        return "grown"

    @tools.tool()
    async def grow(ctx: Context[Any, Any]) -> str:
        """Add the tool grown, and tell the client that the list changed."""
        tools.add_tool(grown)
        if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
            await ctx.notify_tools_changed()  # to the client's subscriptions/listen streams
        else:
            await ctx.session.send_notification(
                types.ToolListChangedNotification(),
                related_request_id=ctx.request_context.request_id,
            )
        return "grew"

    return _served_by_lowlevel(
        tools, "well", instructions="Test server", announce_list_changed=True
    )


def _sloppy() -> "Server[Any]":
    import json

    from mcp import types
    from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
    from mcp.server.lowlevel import Server

    by_name = {tool["name"]: tool for tool in SLOPPY_TOOLS}

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=[])  # the middleware puts SLOPPY_TOOLS in

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        if params.name not in by_name:
            text = types.TextContent(type="text", text=f"Unknown tool: {params.name}")
            return types.CallToolResult(content=[text], is_error=True)
        if params.name == "bad_output":
            wrong = {"n": "not a number"}
            text = types.TextContent(type="text", text=json.dumps(wrong))
            return types.CallToolResult(content=[text], structured_content=wrong)
        arrived = (ctx.params or {}).get("arguments")  # as received, before any validation
        echoed = json.dumps({"tool": params.name, "arguments": arrived})
        return types.CallToolResult(content=[types.TextContent(type="text", text=echoed)])

    async def raw_listing(
        ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        # The SDK checks a listing against the protocol's types, which want "type":
        # "object" in every inputSchema; the raw definitions replace the checked (empty)
        # list in the finished result, envelope and all.
        result = await call_next(ctx)
        if ctx.method == "tools/list" and isinstance(result, dict):
            hostile = HOSTILE_TOOLS if os.environ.get("MCP_TEST_HOSTILE") else []
            return {**result, "tools": [*SLOPPY_TOOLS, *hostile]}
        return result

    server: Server[Any] = Server(
        "sloppy",
        version="0.0.1",
        get_tool_input_schema=lambda name: by_name.get(name, {}).get("inputSchema"),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    server.middleware.append(raw_listing)
    return server


def _slow() -> "Server[Any]":
    import anyio
    from mcp.server.mcpserver import MCPServer

    tools = MCPServer("slow", log_level="WARNING")

    @tools.tool()
    async def sleep(seconds: float) -> str:
        """Sleep this long."""
        try:
            await anyio.sleep(seconds)
        except anyio.get_cancelled_exc_class():
            marks = os.environ.get("MCP_TEST_MARKS")
            if marks:
                with open(marks, "a", encoding="utf-8") as file:
                    file.write("cancelled\n")
            raise
        return "slept"

    @tools.tool()
    def quick() -> str:
        """Answer at once."""
        return "quick"

    return _served_by_lowlevel(tools, "slow")


def _crash() -> "Server[Any]":
    import anyio
    from mcp.server.mcpserver import MCPServer

    tools = MCPServer("crash", log_level="WARNING")

    @tools.tool()
    def crash() -> str:
        """End the server's process, with this call unanswered."""
        os._exit(3)

    @tools.tool()
    def ok() -> str:
        """Answer, with the server's process id."""
        return f"ok {os.getpid()}"

    @tools.tool()
    async def hang() -> str:
        """Sleep an hour."""
        await anyio.sleep(3600)
        return "woke"

    return _served_by_lowlevel(tools, "crash")


async def _serve_stdio(server: "Server[Any]") -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


async def _serve_http(server: "Server[Any]", token: str | None) -> None:
    import hmac
    import socket

    import anyio
    import uvicorn
    from mcp.server.auth.provider import AccessToken
    from mcp.server.auth.settings import AuthSettings
    from pydantic import AnyHttpUrl

    class OneToken:
        """The SDK's ``TokenVerifier``, accepting one token."""

        def __init__(self, expected: str) -> None:
            self._expected = expected.encode()

        async def verify_token(self, token: str) -> AccessToken | None:
            if hmac.compare_digest(token.encode(), self._expected):
                return AccessToken(token=token, client_id="tests", scopes=[])
            return None

    # TCP named, so that asyncio turns Nagle's algorithm off on each connection (with it
    # on, every response waited ~40 ms for the client's delayed acknowledgement)
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    url = f"http://127.0.0.1:{listening.getsockname()[1]}/mcp"
    if token is None:
        app = server.streamable_http_app(streamable_http_path="/mcp", host="127.0.0.1")
    else:
        auth = AuthSettings(issuer_url=AnyHttpUrl(url), resource_server_url=None)
        app = server.streamable_http_app(
            streamable_http_path="/mcp", host="127.0.0.1", auth=auth, token_verifier=OneToken(token)
        )
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    web = uvicorn.Server(config)
    stopped = anyio.Event()

    async def serve() -> None:
        try:
            await web.serve(sockets=[listening])
        finally:
            stopped.set()

    async with anyio.create_task_group() as group:
        group.start_soon(serve)
        while not web.started and not stopped.is_set():
            await anyio.sleep(0.01)
        if web.started:
            print(f"READY {url}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="An MCP server for toolkit's tests.")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP")
    parser.add_argument("--token", help="the bearer token HTTP requests must carry")
    args = parser.parse_args(argv)
    kind: str = args.kind
    token: str | None = args.token
    if token is not None and not args.http:
        parser.error("--token needs --http")
    if kind == "crash":
        broken = os.environ.get("MCP_TEST_BROKEN")
        if broken and os.path.exists(broken):
            sys.stderr.write("broken\n")
            sys.stderr.flush()
            sys.exit(4)

    import anyio

    build = {"well": _well, "sloppy": _sloppy, "slow": _slow, "crash": _crash}[kind]
    server = build()
    if args.http:
        anyio.run(_serve_http, server, token)
    else:
        anyio.run(_serve_stdio, server)


if __name__ == "__main__":
    main()
