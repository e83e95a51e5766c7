"""toolkit's MCP client, end to end: ``MCPClient`` against servers written with the
official ``mcp`` SDK (``_mcp_remote.py``), each a real process over stdio or streamable
HTTP on 127.0.0.1:

- ``well``: a well-behaved server (structured output, images, resources, errors,
  progress, a tool list that grows);
- ``sloppy``: dotted, slashed, spaced and 80-character names, schemas without a type,
  with ``definitions``, OpenAPI ``nullable``, recursion, an output that breaks its own
  schema, and an ``echo`` that collides with the well server's;
- ``slow``: a call that takes long, for timeouts and cancellation;
- ``crash``: a server that dies during a call.

A ``Runner`` over the local fake OpenAI and Anthropic servers then calls a tool that
lives in an MCP server process. One client per server kind is kept for the module where
a test does not change it, so most tests cost a round trip, not a process start.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("mcp", reason="the mcp extra is not installed")

import anthropic
import openai
from _mcp_remote import LONG_NAME, SLOPPY_TOOLS
from fakeserver import Call, FakeServer, Reply
from mcp.types import CallToolResult

from toolkit import File, Image, Registry, Runner, ToolCall, ToolDefinitionError, ToolResult, tool
from toolkit.formats import FORMATS
from toolkit.mcp import MCPClient, MCPConnectionError, MCPWarning, Stdio, StreamableHTTP

SCRIPT = str(Path(__file__).parent / "_mcp_remote.py")
WAIT = 10.0
"""Seconds a step may take before the test fails (nothing waits this long when it passes)."""


def server(kind: str, **env: str) -> Stdio:
    return Stdio(sys.executable, [SCRIPT, kind], env=env or None)


def call(registry: Registry, name: str, arguments: dict[str, Any] | str = "{}") -> ToolResult:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    [result] = registry.execute([ToolCall(id="c1", name=name, arguments=text)])
    return result


def wait_for(condition: Any, what: str) -> None:
    end = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"waited {WAIT} s for {what}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped) is not alive
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split(") ")[-1].startswith("Z"))


@pytest.fixture(scope="module")
def well() -> Iterator[MCPClient]:
    with MCPClient({"well": server("well", MCP_TEST_VALUE="from the test")}) as client:
        yield client


@pytest.fixture(scope="module")
def both() -> Iterator[MCPClient]:
    client = MCPClient({"well": server("well"), "sloppy": server("sloppy")})
    with pytest.warns(MCPWarning, match=r"tree \(gemini\): .*recursive type 'Node'"):
        client.__enter__()
    yield client
    client.__exit__(None, None, None)


# -- listing ---------------------------------------------------------------------------------------


def test_a_servers_tools_are_tools_of_the_registry(well: MCPClient) -> None:
    names = set(well.registry.names)
    assert {"add", "weather", "echo", "image", "resource", "fail", "env", "pid"} <= names
    add = well.registry["add"]
    assert add.parameters["required"] == ["a", "b"]
    assert add.annotations is not None
    assert add.annotations.title == "Add two numbers"
    assert add.annotations.read_only is True
    assert add.annotations.idempotent is True
    assert well.registry["fail"].annotations.destructive is True  # type: ignore[union-attr]
    assert well.server_of("add") == "well"
    assert well.instructions("well") == "Test server"
    definition = well.registry.definitions("anthropic")
    assert {d["name"] for d in definition} == names


def test_a_call_runs_on_the_server_with_validated_arguments(well: MCPClient) -> None:
    result = call(well.registry, "add", '{"a": 2, "b": "3"}')  # "3": coerced, as for any tool
    assert not result.is_error, result.content
    assert isinstance(result.value, CallToolResult)
    assert result.value.structured_content == {"result": 5}
    assert result.content == "5"


def test_invalid_arguments_are_an_error_result_and_are_not_sent(well: MCPClient) -> None:
    result = call(well.registry, "add", '{"a": "two"}')
    assert result.is_error
    assert result.error is not None
    assert result.error.kind == "invalid_arguments"
    assert [p.location for p in result.error.problems] == [("a",), ("b",)]
    assert "add" in result.content


def test_structured_output_is_the_value(well: MCPClient) -> None:
    result = call(well.registry, "weather", {"city": "Oslo"})
    assert isinstance(result.value, CallToolResult)
    assert result.value.structured_content == {"city": "Oslo", "celsius": 21.5}


def test_images_and_resources_are_kept_and_described_to_the_model(well: MCPClient) -> None:
    image = call(well.registry, "image")
    assert isinstance(image.value, CallToolResult)
    assert [block.type for block in image.value.content] == ["image", "text"]
    assert image.content.startswith("[image: image/png, ")
    assert image.content.endswith("a red dot")
    picture, caption = image.parts
    assert isinstance(picture, Image)
    assert picture.media_type == "image/png"
    assert caption == "a red dot"
    resource = call(well.registry, "resource")
    assert resource.content == (
        "[resource note://hello (text/plain)]\nhello from a resource\n"
        "[file: data.bin, application/octet-stream, 3 bytes]"
    )
    blob = resource.parts[-1]
    assert isinstance(blob, File)
    assert blob.data is not None
    assert len(blob.data) == 3


def test_an_error_result_of_the_server_is_an_error_result(well: MCPClient) -> None:
    result = call(well.registry, "fail", {"message": "the disk is full"})
    assert result.is_error
    assert result.error is not None
    assert result.error.kind == "tool_error"
    assert "the disk is full" in result.content


def test_the_environment_given_reaches_the_process(well: MCPClient) -> None:
    assert call(well.registry, "env", {"name": "MCP_TEST_VALUE"}).content == "from the test"
    # the rest of this process's environment is not passed on
    os.environ["TOOLKIT_TEST_PRIVATE"] = "secret"
    try:
        with MCPClient(server("well")) as client:
            assert call(client.registry, "env", {"name": "TOOLKIT_TEST_PRIVATE"}).content == ""
    finally:
        del os.environ["TOOLKIT_TEST_PRIVATE"]


def test_calls_run_in_parallel_through_one_connection(well: MCPClient) -> None:
    calls = [
        ToolCall(id=f"c{i}", name="add", arguments=json.dumps({"a": i, "b": i})) for i in range(20)
    ]
    results = well.registry.execute(calls)
    assert [r.content for r in results] == [str(2 * i) for i in range(20)]


def test_async_with_runs_on_the_running_loop() -> None:
    async def main() -> list[str]:
        async with MCPClient(server("well")) as client:
            results = await client.registry.execute_async(
                [ToolCall(id="1", name="add", arguments='{"a": 1, "b": 2}')]
            )
            return [r.content for r in results]

    assert asyncio.run(main()) == ["3"]


def test_a_changed_tool_list_is_listed_again() -> None:
    with MCPClient(server("well")) as client:
        assert "grown" not in client.registry
        assert call(client.registry, "grow").content == "grew"
        wait_for(lambda: "grown" in client.registry, "the new tool")
        assert call(client.registry, "grown").content == "grown"


def test_tools_join_a_registry_given_and_leave_it_at_close() -> None:
    @tool
    def local(x: int) -> int:
        """A local tool."""
        return x

    @tool
    def echo(text: str) -> str:
        """A local tool named like the server's."""
        return text

    registry = Registry([local, echo])
    with MCPClient({"well": server("well")}, registry=registry) as client:
        assert "add" in registry
        assert registry["echo"] is echo  # the registry's own tool keeps its name
        assert client.server_of("well_echo") == "well"
        assert call(registry, "well_echo", {"text": "hi"}).content == "hi"
    assert registry.names == ["local", "echo"]


# -- names and schemas of a sloppy server ----------------------------------------------------------


def test_names_become_legal_and_collisions_are_prefixed(both: MCPClient) -> None:
    names = set(both.registry.names)
    assert {"files.read.v2", "github/search_issues", LONG_NAME, "address", "tag"} <= names
    assert {"well_echo", "sloppy_echo"} <= names
    assert "echo" not in names
    spaced = [n for n in names if n.startswith("weather_lookup_")]
    assert len(spaced) == 1, names
    files = both.registry["files.read.v2"]
    spelled = {format: json.dumps(files.definition(format)) for format in FORMATS}
    for format, text in spelled.items():
        kept = format in ("gemini", "mcp")  # the protocols whose names may hold dots
        assert ('"files.read.v2"' in text) == kept, format
        assert ('"files_read_v2"' in text) == (not kept), format


def test_a_call_by_a_providers_spelling_reaches_the_servers_name(both: MCPClient) -> None:
    [openai_name] = [
        d["function"]["name"]
        for d in both.registry.definitions("openai")
        if d["function"]["name"].startswith("fetch_the_complete")
    ]
    assert len(openai_name) <= 64
    arrived = json.loads(call(both.registry, openai_name, {"owner": "me"}).content)
    assert arrived == {"tool": LONG_NAME, "arguments": {"owner": "me"}}
    arrived = json.loads(call(both.registry, "files_read_v2", {"path": "a.txt"}).content)
    assert arrived == {"tool": "files.read.v2", "arguments": {"path": "a.txt"}}
    arrived = json.loads(call(both.registry, "sloppy_echo", {"text": "x"}).content)
    assert arrived == {"tool": "echo", "arguments": {"text": "x"}}


def test_sloppy_schemas_are_repaired_and_the_repairs_reported(both: MCPClient) -> None:
    files = both.registry["files.read.v2"]
    assert files.parameters["type"] == "object"
    assert any(c.message == "added the missing type 'object'" for c in files.changes("openai"))
    address = both.registry["address"]
    assert address.parameters["properties"]["to"] == {"$ref": "#/$defs/Address"}
    messages = [c.message for c in address.changes("anthropic")]
    assert "'definitions' renamed '$defs'" in messages
    tag = both.registry["tag"]
    assert tag.parameters["properties"]["note"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert tag.parameters["properties"]["level"] == {"enum": [1, 2, 3], "type": "integer"}
    strict = tag.definition("openai", strict=True)["function"]["parameters"]
    assert strict["properties"]["metadata"]["type"] == ["string", "null"]  # JSON text


def test_every_tool_renders_for_every_format_or_is_reported(both: MCPClient) -> None:
    failed: set[tuple[str, str]] = set()
    for made in both.tools:
        for format in FORMATS:
            try:
                made.definition(format)
            except ToolDefinitionError:
                failed.add((made.name, format))
    reported = {(p.split(" (")[0], p.split(" (")[1].split(")")[0]) for p in both.problems}
    assert failed == reported == {("tree", "gemini")}


def test_arguments_are_checked_against_the_servers_schema_before_sending(
    both: MCPClient,
) -> None:
    bad = call(both.registry, "address", {"to": {"street": "Main St", "zip": "12"}})
    assert bad.is_error
    assert bad.error is not None
    assert bad.error.kind == "invalid_arguments"
    assert [p.location for p in bad.error.problems] == [("to", "zip")]
    good = call(both.registry, "address", {"to": {"street": "Main St", "zip": "12345"}})
    assert json.loads(good.content)["arguments"] == {"to": {"street": "Main St", "zip": "12345"}}
    tree: dict[str, Any] = {"root": {"name": "a", "children": [{"name": "b", "children": []}]}}
    assert json.loads(call(both.registry, "tree", tree).content)["arguments"] == tree
    assert call(both.registry, "tree", {"root": {"children": []}}).is_error


def test_a_strict_models_shapes_are_mapped_back_before_sending(both: MCPClient) -> None:
    sent = {"metadata": '{"a": [1]}', "note": None, "count": None, "level": 2, "scores": None}
    arrived = json.loads(call(both.registry, "tag", sent).content)["arguments"]
    assert arrived["metadata"] == {"a": [1]}
    assert arrived["level"] == 2


def test_output_that_breaks_the_output_schema_is_an_error(both: MCPClient) -> None:
    result = call(both.registry, "bad_output")
    assert result.is_error
    assert "sloppy" in result.content
    assert "structured content" in result.content.lower()


def test_prefix_always_prefixes_every_tool() -> None:
    client = MCPClient({"sloppy": server("sloppy")}, prefix="always")
    with pytest.warns(MCPWarning, match="sloppy_tree"):
        client.__enter__()
    try:
        assert all(name.startswith("sloppy_") for name in client.registry.names)
        assert len(client.registry) == len(SLOPPY_TOOLS)
    finally:
        client.__exit__(None, None, None)


def test_a_hostile_listing_costs_only_its_bad_tools() -> None:
    client = MCPClient({"sloppy": server("sloppy", MCP_TEST_HOSTILE="1")})
    with pytest.warns(MCPWarning) as warned:
        client.__enter__()
    try:
        text = "\n".join(str(w.message) for w in warned)
        assert "listed a tool without a name" in text
        assert (
            "tool 'stringy' of MCP server 'sloppy': the input schema must describe an object"
            in text
        )
        assert "tool 'deep' of MCP server 'sloppy': schemas nest more than 64 levels deep" in text
        names = client.registry.names
        assert "stringy" not in names
        assert "deep" not in names
        assert len(client.registry["wordy"].description) == 250_000
        [spaced] = [n for n in names if n.startswith("m_t_o__")]  # "météo ☀", made legal
        # the server receives its own name (and, listing it only, does not know it)
        assert call(client.registry, spaced).content == "Unknown tool: m\u00e9t\u00e9o \u2600"
        assert len(names) == len(SLOPPY_TOOLS) + 2
    finally:
        client.__exit__(None, None, None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "name",
                            "inputSchema",
                            "type",
                            "properties",
                            "title",
                            "annotations",
                            "outputSchema",
                            "description",
                            "x",
                        ]
                    ),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=12,
        ),
        max_size=4,
    )
)
def test_any_listing_is_read_without_crashing(tools: list[Any]) -> None:
    """What the SDK sees of any listing, and toolkit's reading of each tool in it, never
    fail with anything but a reported problem."""
    # the pieces a listing goes through
    from toolkit.mcp._client import _Lenient, _Listed  # pyright: ignore[reportPrivateUsage]

    raw: dict[str, Any] = {}
    shown = _Lenient(None, raw, "s")._kept(tools)  # pyright: ignore[reportPrivateUsage]
    for item in shown:
        assert isinstance(item["name"], str)
        assert item["inputSchema"] == item["inputSchema"] | {"type": "object"}
    for name, sent in raw.items():
        if name:
            read = _Listed.read(sent, "s")
            assert isinstance(read, (str, _Listed))


# -- over streamable HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def http_server() -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, SCRIPT, "well", "--http", "--token", "s3cret"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("READY "), line
    yield line.split()[1]
    process.terminate()
    process.wait(WAIT)
    process.stdout.close()


def test_a_server_over_http_with_headers(http_server: str) -> None:
    spec = StreamableHTTP(http_server, headers={"Authorization": "Bearer s3cret"})
    with MCPClient({"remote": spec}) as client:
        assert call(client.registry, "add", {"a": 20, "b": 22}).content == "42"


def test_an_http_server_that_goes_away_fails_clearly() -> None:
    process = subprocess.Popen(
        [sys.executable, SCRIPT, "crash", "--http"], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    try:
        url = process.stdout.readline().split()[1]
        with MCPClient({"remote": StreamableHTTP(url)}) as client:
            assert call(client.registry, "ok").content.startswith("ok")
            result = call(client.registry, "crash")
            assert result.is_error
            assert "MCP server 'remote'" in result.content
            after = call(client.registry, "ok")
            assert after.is_error
            assert "could not be started again" in after.content
            assert url in after.content
    finally:
        process.kill()
        process.wait(WAIT)
        process.stdout.close()


def test_a_refused_http_connection_names_the_server(http_server: str) -> None:
    with pytest.raises(MCPConnectionError) as raised:
        MCPClient({"remote": StreamableHTTP(http_server)}).__enter__()
    assert "'remote'" in str(raised.value)
    assert http_server in str(raised.value)


# -- slow, crashing and broken servers -------------------------------------------------------------


def test_a_timeout_is_an_error_result_and_cancels_the_call_on_the_server(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    with MCPClient(server("slow", MCP_TEST_MARKS=str(marks)), timeout=0.5) as client:
        started = time.monotonic()
        result = call(client.registry, "sleep", {"seconds": 30})
        assert time.monotonic() - started < WAIT
        assert result.is_error
        assert result.error is not None
        assert result.error.kind == "timeout"
        wait_for(lambda: marks.exists() and "cancelled" in marks.read_text(), "the cancel")
        assert call(client.registry, "quick").content == "quick"  # the connection still works


def test_cancelling_an_async_run_cancels_the_call_on_the_server(tmp_path: Path) -> None:
    marks = tmp_path / "marks"

    async def main() -> None:
        async with MCPClient(server("slow", MCP_TEST_MARKS=str(marks))) as client:
            running = asyncio.ensure_future(
                client.registry.execute_async(
                    [ToolCall(id="1", name="sleep", arguments='{"seconds": 30}')]
                )
            )
            await asyncio.sleep(0.5)
            running.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            for _ in range(int(WAIT / 0.05)):
                if marks.exists():
                    break
                await asyncio.sleep(0.05)

    asyncio.run(main())
    assert "cancelled" in marks.read_text()


def test_a_server_that_dies_fails_the_pending_call_and_is_started_again() -> None:
    with MCPClient({"crash": server("crash")}) as client:
        first = int(call(client.registry, "ok").content.split()[1])
        result = call(client.registry, "crash")
        assert result.is_error
        assert "MCP server 'crash' stopped during the call" in result.content
        second = int(call(client.registry, "ok").content.split()[1])
        assert second != first
        assert not alive(first)
    assert not alive(second)


def test_a_server_that_cannot_start_again_fails_clearly(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    with MCPClient({"crash": server("crash", MCP_TEST_BROKEN=str(broken))}) as client:
        assert not call(client.registry, "crash").content.startswith("ok")
        broken.touch()
        result = call(client.registry, "ok")
        assert result.is_error
        assert "could not be started again" in result.content
        assert "broken" in result.content  # the end of its standard error
        broken.unlink()
        assert call(client.registry, "ok").content.startswith("ok")


def test_a_server_that_does_not_start_is_an_error_and_leaks_nothing(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.touch()
    before = _children()
    servers = {"good": server("well"), "bad": server("crash", MCP_TEST_BROKEN=str(broken))}
    with pytest.raises(MCPConnectionError) as raised:
        MCPClient(servers).__enter__()
    assert "MCP server 'bad'" in str(raised.value)
    assert "broken" in str(raised.value)
    wait_for(lambda: _children() <= before, "the good server's process to end")


# Python 3.10's asyncio: a process whose start was cancelled ends (checked below) but its
# transport, dropped unreaped, warns when collected, in whichever test that happens.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_cancelling_while_servers_start_leaks_no_process() -> None:
    before = _children()

    async def main() -> None:
        opening = asyncio.ensure_future(
            MCPClient({"a": server("well"), "b": server("slow")}).__aenter__()
        )
        await asyncio.sleep(0.3)  # the processes are starting
        opening.cancel()
        with pytest.raises(asyncio.CancelledError):
            await opening

    asyncio.run(main())
    wait_for(lambda: _children() <= before, "the started processes to end")
    gc.collect()  # here, under this test's filter (see above)


def test_a_missing_program_is_an_error_naming_it() -> None:
    with pytest.raises(MCPConnectionError, match="no-such-program"):
        MCPClient({"x": Stdio("no-such-program-for-toolkit")}).__enter__()


def test_closing_ends_the_processes_and_calls_after_it_fail_clearly() -> None:
    client = MCPClient(server("well"))
    with client:
        pid = int(call(client.registry, "pid").content)
        add = client.registry["add"]
    assert not alive(pid)
    assert "add" not in client.registry
    [result] = Registry([add]).execute([ToolCall(id="1", name="add", arguments='{"a":1,"b":2}')])
    assert result.is_error
    assert "closed" in result.content


def test_bad_server_names_and_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="MCP server name 'a b'"):
        MCPClient({"a b": server("well")})
    with pytest.raises(TypeError, match="MCP server 'x': expected a Stdio or StreamableHTTP"):
        MCPClient({"x": "python server.py"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="MCPClient takes a Stdio or StreamableHTTP"):
        MCPClient([server("well")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="MCPClient takes"):
        MCPClient({})


def _children() -> set[int]:
    """The live child processes of this one (Linux)."""
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.add(int(entry.name))
    return found


# -- a Runner whose model calls a tool of an MCP server --------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeServer]:
    with FakeServer() as running:
        yield running


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_runner_calls_a_tool_living_in_an_mcp_server(
    well: MCPClient, fake: FakeServer, provider: str
) -> None:
    fake.script([Reply.calls(Call("add", {"a": 19, "b": 23})), Reply.text("It is 42.")])
    if provider == "openai":
        client: Any = openai.OpenAI(base_url=fake.openai_base_url, api_key="t", max_retries=0)
    else:
        client = anthropic.Anthropic(base_url=fake.anthropic_base_url, api_key="t", max_retries=0)
    with client:
        result = Runner(client, tools=well.registry, model="fake-model").run("What is 19 + 23?")
    assert result.text == "It is 42."
    [sent] = result.tool_results
    assert sent.content == "42"
    assert not sent.is_error


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_an_async_runner_calls_a_tool_living_in_an_mcp_server(
    fake: FakeServer, provider: str
) -> None:
    fake.script([Reply.calls(Call("add", {"a": 2, "b": 40})), Reply.text("42 it is.")])

    async def main() -> tuple[str, str]:
        if provider == "openai":
            client: Any = openai.AsyncOpenAI(
                base_url=fake.openai_base_url, api_key="t", max_retries=0
            )
        else:
            client = anthropic.AsyncAnthropic(
                base_url=fake.anthropic_base_url, api_key="t", max_retries=0
            )
        async with client, MCPClient({"well": server("well")}) as mcp:
            runner = Runner(client, tools=mcp.registry, model="fake-model")
            result = await runner.run_async("What is 2 + 40?")
        [sent] = result.tool_results
        return result.text, sent.content

    assert asyncio.run(main()) == ("42 it is.", "42")
