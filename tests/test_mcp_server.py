"""toolkit's MCP server, end to end: the official ``mcp`` SDK's client against it.

Over stdio (the server in a subprocess, ``_mcp_server.py`` or the ``toolkit mcp``
command), over streamable HTTP (``serve_http_async`` in a thread, on 127.0.0.1) and
in-process (the SDK's client given the server object), in both eras of the protocol: the
2025 handshake (``mode="legacy"``) and the 2026-07-28 per-request protocol
(``mode="auto"``, which the SDK's client prefers). One client per transport and era is
kept open for the whole module (``Peer``), so each test costs a few round trips, not a
process start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import pickle
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

import pytest

# The mcp extra: `nox -s lowest` leaves it out (it needs a newer httpx2 than toolkit's floor).
pytest.importorskip("mcp", reason="the mcp extra is not installed")

import anyio
from _dists import Distributions
from _mcp_tools import SECRET, build
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ToolListChangedNotification
from pydantic import BaseModel

from toolkit import Context, Registry, ToolCall, Veto, tool
from toolkit.cli import main
from toolkit.mcp import mcp_server, serve_http_async

ROOT = Path(__file__).parent.parent
SCRIPT = Path(__file__).parent / "_mcp_server.py"
TOOLS_FILE = "tests/_mcp_tools.py:TOOLS"
ERAS = {"2025": "legacy", "2026": "auto"}
"""Protocol era -> the SDK client's ``mode``."""
WAIT = 10.0
"""Seconds any one step may take before the test fails (nothing waits this long when it
passes)."""

T = TypeVar("T")


# -- the harness -------------------------------------------------------------------------------


class Peer:
    """An ``mcp.Client``, connected, on an event loop in a thread of its own; a test hands
    it coroutine functions (``peer.run(lambda client: client.list_tools())``). What the
    server sends unasked (notifications, transport errors) is kept in ``received``."""

    def __init__(
        self, server: Any, mode: str, label: str, registry: Registry | None = None
    ) -> None:
        self.label = label
        self.registry = registry  # the registry served, when in this process (not stdio)
        self.era = "2025" if mode == "legacy" else "2026"
        self.received: list[Any] = []
        self._ready: concurrent.futures.Future[Client] = concurrent.futures.Future()
        self._closing: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(
            target=asyncio.run, args=(self._hold(server, mode),), name=f"peer {label}"
        )
        self._thread.start()
        self.client = self._ready.result(timeout=WAIT * 3)

    async def _hold(self, server: Any, mode: str) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = asyncio.Event()
        try:
            async with Client(server, mode=mode, message_handler=self._message) as client:
                self._ready.set_result(client)
                await self._closing.wait()
        except BaseException as error:
            if not self._ready.done():
                self._ready.set_exception(error)
                return
            raise

    async def _message(self, message: Any) -> None:
        self.received.append(message)

    def run(self, work: Callable[[Client], Awaitable[T]], timeout: float = WAIT) -> T:
        assert self._loop is not None

        async def bounded() -> T:
            with anyio.fail_after(timeout):
                return await work(self.client)

        return asyncio.run_coroutine_threadsafe(bounded(), self._loop).result(timeout + 5)

    def call(self, name: str, arguments: dict[str, Any] | None = None) -> CallToolResult:
        return self.run(lambda client: client.call_tool(name, arguments or {}))

    def close(self) -> None:
        if self._loop is not None and self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        self._thread.join(timeout=WAIT * 2)
        assert not self._thread.is_alive(), f"the {self.label} client did not close"


class HTTPServer:
    """``serve_http_async`` on 127.0.0.1, a free port, in a thread; ``close`` cancels it,
    which shuts it down cleanly."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._started: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), name="http")
        self._thread.start()
        self.url = self._started.result(timeout=WAIT * 3)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        server = mcp_server(self.registry, watch_interval=0.05)
        try:
            await serve_http_async(server, port=0, on_start=self._started.set_result)
        except asyncio.CancelledError:
            pass
        except BaseException as error:
            if not self._started.done():
                self._started.set_exception(error)
                return
            raise

    def close(self) -> None:
        assert self._loop is not None
        assert self._task is not None
        self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=WAIT * 2)
        assert not self._thread.is_alive(), "the HTTP server did not stop"


def _environment(**extra: str) -> dict[str, str]:
    """This process's environment (the SDK would pass only a safe few variables)."""
    return {**os.environ, **extra}


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TextIO]:
    """Where the stdio servers' standard error goes."""
    with (tmp_path_factory.mktemp("mcp") / "stderr.txt").open("w+") as log:
        yield log


@pytest.fixture(scope="module")
def http_server() -> Iterator[HTTPServer]:
    server = HTTPServer(build())
    yield server
    server.close()


PEERS = ["stdio 2025", "stdio 2026", "http 2025", "http 2026", "memory 2025", "memory 2026"]
"""Each transport in each era; "memory" is the SDK's in-process connection to a server
object (an in-memory stream for the 2025 era, direct calls for the 2026 one)."""


@pytest.fixture(scope="module", params=PEERS)
def peer(request: pytest.FixtureRequest, server_log: TextIO) -> Iterator[Peer]:
    transport, era = str(request.param).split()
    target: Any
    registry: Registry | None = None
    if transport == "stdio":
        parameters = StdioServerParameters(
            command=sys.executable, args=[str(SCRIPT)], env=_environment(), cwd=str(ROOT)
        )
        target = stdio_client(parameters, errlog=server_log)
    elif transport == "http":
        http: HTTPServer = request.getfixturevalue("http_server")
        target, registry = http.url, http.registry
    else:
        registry = build()
        target = mcp_server(registry, watch_interval=0.05)
    connected = Peer(target, ERAS[era], str(request.param), registry)
    yield connected
    connected.close()
    errors = [item for item in connected.received if isinstance(item, Exception)]
    assert errors == [], f"the {request.param} client received broken messages"


def expected(name: str, arguments: dict[str, Any]) -> str:
    """What a registry answers to this call: the text the client must read."""
    [result] = build().execute([ToolCall(id="local", name=name, arguments=arguments)])
    return result.content


def text(result: CallToolResult) -> str:
    [block] = result.content
    assert block.type == "text"
    return block.text


def _wait_until(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` (in the test's thread) until it holds, for at most ``WAIT``."""
    event = threading.Event()
    for _ in range(int(WAIT / 0.02)):
        if check():
            return
        event.wait(0.02)
    raise AssertionError(f"timed out waiting until {what}")


# -- tools/list --------------------------------------------------------------------------------


def test_tools_are_listed_as_the_mcp_codec_renders_them(peer: Peer) -> None:
    listed = {t.name: t for t in peer.run(lambda client: client.list_tools()).tools}
    for local in build():
        wire = listed[local.name].model_dump(by_alias=True, exclude_none=True)
        assert wire == local.definition("mcp"), local.name
    add = listed["add"]
    assert add.title == "Add numbers"
    assert add.annotations is not None
    assert (add.annotations.read_only_hint, add.annotations.idempotent_hint) == (True, True)
    assert add.input_schema["properties"]["b"] == {
        "type": "integer",
        "minimum": 0,
        "default": 0,
        "description": "A count, not negative.",
    }
    assert add.output_schema == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }
    assert listed["point"].output_schema is not None
    assert listed["point"].output_schema["properties"] == {
        "x": {"type": "integer"},
        "y": {"type": "integer"},
    }
    assert listed["shout"].output_schema is None
    delete = listed["delete"].annotations
    assert delete is not None
    assert delete.destructive_hint is True


def test_the_server_says_who_it_is_and_that_its_tools_change(peer: Peer) -> None:
    capabilities = peer.client.server_capabilities
    assert capabilities.tools is not None
    assert capabilities.tools.list_changed is True
    if peer.label.startswith("stdio"):  # (the others keep the default name)
        assert peer.client.instructions == "Use add to add."
        if peer.era == "2025":
            assert peer.client.server_info is not None
            assert peer.client.server_info.name == "toolkit-tests"


# -- tools/call --------------------------------------------------------------------------------


def test_a_call_answers_with_the_text_and_the_structured_value(
    peer: Peer, server_log: TextIO
) -> None:
    added = peer.call("add", {"a": 2, "b": 3})
    assert (text(added), added.structured_content, added.is_error) == ("5", {"result": 5}, False)
    made = peer.call("point", {"x": 1, "y": 2})
    assert text(made) == '{"x":1,"y":2}'
    assert made.structured_content == {"x": 1, "y": 2}  # an object: not wrapped
    found = peer.call("lookup", {"key": "abc"})
    assert found.structured_content == {"result": {"length": 3}}  # wrapped as its schema says
    assert peer.call("lookup", {"key": ""}).structured_content == {"result": None}
    printed = _read(server_log).count("shouting")
    shouted = peer.call("shout", {"text": "hi"})
    assert (text(shouted), shouted.structured_content) == ("HI", None)  # no outputSchema
    if peer.label.startswith("stdio"):  # its print went to stderr, not into the protocol
        _wait_until(lambda: _read(server_log).count("shouting") > printed, "the print showed")


@pytest.mark.parametrize(
    "arguments",
    [{"a": 1, "b": -1}, {"a": "one"}, {}, {"a": 1, "c": 2, "b": "x"}],
    ids=["constraint", "type", "missing", "several"],
)
def test_invalid_arguments_are_an_error_result_with_the_registry_s_text(
    peer: Peer, arguments: dict[str, Any]
) -> None:
    result = peer.call("add", arguments)
    assert result.is_error
    assert text(result) == expected("add", arguments)
    assert text(result).startswith("Invalid arguments for add:\n")
    assert result.structured_content is None


def test_an_unknown_tool_is_an_error_result_naming_the_close_one(peer: Peer) -> None:
    result = peer.call("ad", {"a": 1})
    assert result.is_error
    assert text(result).startswith("Unknown tool 'ad'. Did you mean 'add'? Available tools: add,")


def test_what_a_tool_raises_is_an_error_result(peer: Peer) -> None:
    crashed = peer.call("crash")
    assert crashed.is_error
    assert text(crashed) == "Tool crash failed: RuntimeError: the disk is on fire"
    refused = peer.call("delete", {"path": "/etc/passwd"})
    assert refused.is_error
    assert text(refused) == "/etc/passwd is read-only: pick a file under notes/"


def test_a_call_past_its_timeout_is_an_error_result(peer: Peer) -> None:
    result = peer.call("sleepy")
    assert result.is_error
    assert text(result) == "Tool sleepy did not finish within 0.1 s."


def test_cancelling_a_call_cancels_the_running_tool(peer: Peer) -> None:
    key = f"cancel {peer.label}"

    async def seen(client: Client) -> dict[str, bool]:
        state = (await client.call_tool("seen", {"key": key})).structured_content
        assert state is not None
        return state

    async def call_then_give_up(client: Client) -> None:
        async def waiting() -> None:
            await client.call_tool("wait", {"key": key})
            raise AssertionError("the wait ended on its own")

        async with anyio.create_task_group() as group:
            group.start_soon(waiting)
            while not (await seen(client))["started"]:  # (answered while the wait runs)
                await anyio.sleep(0.01)
            group.cancel_scope.cancel()  # the caller gives up: the SDK cancels the request

    peer.run(call_then_give_up)
    _wait_until(lambda: peer.run(seen)["cancelled"], "the tool was cancelled")


def test_progress_reaches_the_client_from_async_and_sync_tools(peer: Peer) -> None:
    for name, message in [("count", "3 of 3"), ("count_in_thread", None)]:
        reports: list[tuple[float, float | None, str | None]] = []

        async def follow(
            progress: float,
            total: float | None,
            message: str | None,
            reports: list[tuple[float, float | None, str | None]] = reports,
        ) -> None:
            reports.append((progress, total, message))

        async def counting(client: Client, name: str = name) -> CallToolResult:
            return await client.call_tool(name, {"to": 3}, progress_callback=follow)

        result = peer.run(counting)
        assert (text(result), result.is_error) == ("3", False)
        last = (3.0, 3.0, message)
        _wait_until(lambda last=last, reports=reports: last in reports, f"{name} reported its end")
        # Reports faster than they can be sent are merged: some may be missing, never
        # out of order, and the last one always arrives.
        steps = [progress for progress, _, _ in reports]
        assert steps == sorted(set(steps))
        assert reports[-1] == (3.0, 3.0, message)


def test_no_secret_reaches_the_client(peer: Peer) -> None:
    reports: list[str | None] = []

    async def follow(progress: float, total: float | None, message: str | None) -> None:
        reports.append(message)

    async def asking(client: Client) -> CallToolResult:
        return await client.call_tool("whoami", {}, progress_callback=follow)

    result = peer.run(asking)
    assert not result.is_error
    assert result.structured_content == {
        "user": "ada",
        "token": "[secret]",
        "[secret]": ["Bearer [secret]"],
    }
    assert text(result) == '{"user":"ada","token":"[secret]","[secret]":["Bearer [secret]"]}'
    _wait_until(lambda: reports == ["checked [secret]"], "the progress report arrived")
    listed = peer.run(lambda client: client.list_tools())
    everything = [result, listed, *peer.received]
    for message in everything:
        dumped = message.model_dump_json() if isinstance(message, BaseModel) else repr(message)
        assert SECRET not in dumped


def test_a_changed_tool_list_is_told_to_the_client(peer: Peer) -> None:
    name = "grown_" + re.sub(r"\W", "_", peer.label)
    registry = peer.registry

    def change(remove: bool) -> None:
        if registry is None:  # through a tool: the server looks after every call
            peer.call("grow", {"name": name, "remove": remove})
        elif remove:  # from outside any call: the server's periodic look finds it
            registry.remove(name)
        else:
            registry.add(tool(lambda: name, name=name, description="Grown."))

    def names() -> list[str]:
        return [t.name for t in peer.run(lambda client: client.list_tools()).tools]

    assert name not in names()
    if peer.era == "2025":  # notifications/tools/list_changed, to a client that listed
        before = _changes(peer)
        change(remove=False)
        _wait_until(lambda: _changes(peer) > before, "list_changed arrived")
        assert name in names()
        change(remove=True)
        _wait_until(lambda: _changes(peer) > before + 1, "a second list_changed arrived")
        assert name not in names()
    else:  # the 2026 protocol: an event on a subscriptions/listen stream

        async def listen_while(remove: bool) -> None:
            async with peer.client.listen(tools_list_changed=True) as subscription:
                await anyio.to_thread.run_sync(change, remove)
                async for event in subscription:
                    assert type(event).__name__ == "ToolsListChanged"
                    return

        peer.run(lambda _: listen_while(False))
        assert name in names()
        peer.run(lambda _: listen_while(True))
        assert name not in names()


def _changes(peer: Peer) -> int:
    return sum(isinstance(item, ToolListChangedNotification) for item in peer.received)


def _read(log: TextIO) -> str:
    log.flush()
    return Path(log.name).read_text()


# -- the toolkit mcp command -------------------------------------------------------------------

GREETER = '''
print("hello from an import")  # over stdio, this must reach standard error, not the client
from pydantic import BaseModel
from toolkit.packs import Pack

class Settings(BaseModel):
    greeting: str

class Greeter:
    def __init__(self, settings: Settings) -> None:
        self.greeting = settings.greeting

    def greet(self, name: str) -> str:
        """Greet someone."""
        return f"{self.greeting}, {name}!"

pack = Pack(name="greeter", tools=Greeter, description="Greetings.")
'''


@pytest.fixture
def greeter(fake_distributions: Distributions) -> Distributions:
    fake_distributions.add(
        "greeter-pack", {"greeter": "mcp_greeter:pack"}, {"mcp_greeter": GREETER}
    )
    return fake_distributions


def test_toolkit_mcp_serves_a_pack_and_tools_over_stdio(
    greeter: Distributions, tmp_path: Path
) -> None:
    command = ["-m", "toolkit", "mcp", "greeter", "--config", 'greeter={"greeting": "Hi"}']
    parameters = StdioServerParameters(
        command=sys.executable,
        args=[*command, "--tool", TOOLS_FILE],
        env=_environment(PYTHONPATH=str(greeter.root)),
        cwd=str(ROOT),
    )
    received: list[Any] = []

    async def keep(message: Any) -> None:
        received.append(message)

    async def session() -> tuple[list[str], CallToolResult]:
        with (tmp_path / "stderr.txt").open("w") as log, anyio.fail_after(WAIT * 3):
            transport = stdio_client(parameters, errlog=log)
            # The 2025 handshake, as Claude Desktop speaks it.
            async with Client(transport, mode="legacy", message_handler=keep) as client:
                listed = await client.list_tools()
                greeted = await client.call_tool("greeter_greet", {"name": "Ada"})
                return [t.name for t in listed.tools], greeted

    names, greeted = anyio.run(session)
    assert names == ["greeter_greet", *(t.name for t in build() if t.name != "grow")]
    assert (text(greeted), greeted.structured_content) == ("Hi, Ada!", {"result": "Hi, Ada!"})
    assert [item for item in received if isinstance(item, Exception)] == []
    log = (tmp_path / "stderr.txt").read_text()
    assert "hello from an import" in log
    assert f"toolkit mcp: serving {len(names)} tools over stdio" in log


def test_toolkit_mcp_http_serves_until_interrupted() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "mcp", "--tool", TOOLS_FILE, "--http", "127.0.0.1:0"],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.fullmatch(
            r"toolkit mcp: serving \d+ tools at (http://127\.0\.0\.1:\d+/mcp)\n", line
        )
        assert found is not None, line + server.stderr.read()

        async def session() -> CallToolResult:
            with anyio.fail_after(WAIT):
                async with Client(found.group(1)) as client:
                    return await client.call_tool("add", {"a": 40, "b": 2})

        assert anyio.run(session).structured_content == {"result": 42}
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=WAIT * 2)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert (server.returncode, out) == (130, "")
    assert err.endswith("interrupted\n")


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        ([], 2, "name at least one PACK or --tool TARGET to serve"),
        (["nope"], 2, "PACK nope: no installed pack has that name"),
        (["--tool", TOOLS_FILE, "--http", "8000"], 2, "--http 8000: write HOST:PORT"),
        (["--tool", TOOLS_FILE, "--path", "mcp"], 2, "--path mcp: it must start with '/'"),
        (["--tool", TOOLS_FILE, "--config", "x={}"], 2, "no PACK or --tool uses 'x'"),
        (["--tool", TOOLS_FILE, "--config", "x"], 2, "--config x: write NAME=JSON"),
    ],
)
def test_toolkit_mcp_refuses_what_it_cannot_serve(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["mcp", *argv]) == code
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("toolkit mcp: error: ")
    assert message in err


def test_toolkit_mcp_without_the_extra_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "toolkit.mcp", None)  # as if it could not be imported
    assert main(["mcp", "--tool", TOOLS_FILE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("toolkit mcp: error: serving MCP needs the mcp extra, pip install")
    code = "import sys; sys.modules['mcp'] = None; import toolkit.mcp"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "ModuleNotFoundError: toolkit.mcp needs the mcp extra (mcp is not installed):"
        " pip install 'toolkit-llm[mcp]'"
    )


def test_toolkit_mcp_on_a_busy_port_fails(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    monkeypatch.chdir(ROOT)
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        assert main(["mcp", "--tool", TOOLS_FILE, "--http", f"127.0.0.1:{port}"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"toolkit mcp: error: cannot serve on 127.0.0.1:{port}: ")


# -- the API around the server -----------------------------------------------------------------


def test_calls_go_through_the_registry_s_hooks_and_context() -> None:
    @tool
    def whoami(ctx: Context[dict[str, str]]) -> str:
        """Who is asking."""
        ctx.report_progress(1, 1)
        return f"{ctx.deps['user']} ({ctx.call_id})"

    def remove(path: str) -> str:
        """Remove a file."""
        return f"removed {path}"

    def guard(call: ToolCall, _tool: Any, arguments: dict[str, Any]) -> Veto | None:
        refused = "/etc" in arguments.get("path", "")
        return Veto("Not under /etc: pick a project file.") if refused else None

    template = Context(deps={"user": "ada"})
    server = mcp_server(Registry([whoami, remove], before_call=guard), context=template)

    async def session() -> list[CallToolResult]:
        async with Client(server) as client:
            return [
                await client.call_tool("whoami", {}),
                await client.call_tool("remove", {"path": "/etc/hosts"}),
                await client.call_tool("remove", {"path": "notes.txt"}),
            ]

    asked, vetoed, removed = anyio.run(session)
    assert re.fullmatch(r"ada \(\d+\)", text(asked))  # the call id: the request's id
    assert (vetoed.is_error, text(vetoed)) == (True, "Not under /etc: pick a project file.")
    assert text(removed) == "removed notes.txt"


def test_progress_is_a_no_op_unless_someone_listens_and_stays_in_this_process() -> None:
    Context(deps=None).report_progress(1, 2, "nobody listens")
    reports: list[tuple[float, float | None, str | None]] = []

    def keep(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    context = Context(deps=7, call_id="c", on_progress=keep)
    context.report_progress(1, 2, "half")
    context.report_progress(2)
    assert reports == [(1, 2, "half"), (2, None, None)]
    copied = pickle.loads(pickle.dumps(context))  # as a process pool sends it
    assert (copied.deps, copied.call_id, copied.on_progress) == (7, "c", None)
    assert "on_progress" not in repr(context)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="watch_interval must be a positive number"):
        mcp_server(Registry(), watch_interval=0)
    with pytest.raises(ValueError, match="path must start with '/'"):
        asyncio.run(serve_http_async(Registry(), path="mcp"))


def test_the_sdk_is_imported_only_when_serving() -> None:
    code = (
        "import sys, toolkit, toolkit.cli, toolkit.registry\n"
        "heavy = ('mcp', 'uvicorn', 'starlette', 'toolkit.mcp')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_http_connections_have_nagles_algorithm_off() -> None:
    """With Nagle's algorithm on, every HTTP response's body (written after its headers)
    waited ~40 ms for the client's delayed acknowledgement: the listening socket must say
    TCP, for asyncio to set TCP_NODELAY on each connection it accepts."""
    import socket

    from toolkit.mcp._serve import _tcp_listener  # pyright: ignore[reportPrivateUsage]

    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listening = _tcp_listener("127.0.0.1", 0)
        server = await asyncio.get_running_loop().create_server(Probe, sock=listening)
        async with server:
            port = listening.getsockname()[1]
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            nodelay = await asyncio.wait_for(accepted, WAIT)
            writer.close()
            return nodelay

    assert asyncio.run(main()) != 0
