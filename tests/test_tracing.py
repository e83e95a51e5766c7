"""OpenTelemetry spans and metrics of a run, by the GenAI semantic conventions.

The OpenTelemetry SDK's in-memory exporter and metric reader record what toolkit emits;
``_tracing.use`` points toolkit at them (a test cannot unset a global provider once set).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("opentelemetry.sdk", reason="the OpenTelemetry SDK is not installed")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import Histogram, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from toolkit import (
    Deny,
    Limits,
    Runner,
    _tracing,  # pyright: ignore[reportPrivateUsage]
    tool,
)
from toolkit.testing import ScriptedModel, call


class Recorded:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meters = MeterProvider(metric_readers=[self.reader])
        self.tracer = self.provider.get_tracer("test")

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, name: str) -> list[ReadableSpan]:
        return [s for s in self.spans() if s.name == name]

    def one(self, name: str) -> ReadableSpan:
        [span] = self.named(name)
        return span


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    found = Recorded()
    _tracing.use(found.provider, found.meters)
    try:
        yield found
    finally:
        _tracing.use()  # back to the global providers (none is set in the tests)
        found.provider.shutdown()
        found.meters.shutdown()


@tool
def get_weather(city: str) -> str:
    """Get the weather in a city."""
    return f"{city}: sunny"


@tool
def explode() -> str:
    """Read the broken weather station."""
    raise RuntimeError("the station is down")


@tool(needs_approval=True)
def pay(to: str) -> str:
    """Pay someone."""
    return f"paid {to}"


def _parent(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def _trace(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.trace_id


def _id(span: ReadableSpan) -> int:
    assert span.context is not None
    return span.context.span_id


def test_a_run_with_parallel_calls_an_error_and_a_denial(recorded: Recorded) -> None:
    model = ScriptedModel(
        [
            [call("get_weather", city="Paris"), call("explode")],
            [call("pay", to="bob")],
            "Done.",
        ]
    )
    runner = Runner(
        model,
        model="m",
        tools=[get_weather, explode, pay],
        approve=lambda c: Deny("not today"),
        settings={"max_tokens": 50, "temperature": 0.5},
    )
    with recorded.tracer.start_as_current_span("request") as outer:
        result = runner.run("weather, then pay bob")
    assert result.stop_reason == "end"

    names = sorted(s.name for s in recorded.spans())
    assert names == sorted(
        [
            "request",
            "invoke_agent",
            "chat m",
            "chat m",
            "chat m",
            "execute_tool get_weather",
            "execute_tool explode",
        ]
    )  # pay was denied: it never ran, so no span of its own
    agent = recorded.one("invoke_agent")
    assert _parent(agent) == outer.get_span_context().span_id  # under the caller's span
    assert agent.kind is SpanKind.INTERNAL
    assert agent.attributes is not None
    assert agent.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert agent.attributes["gen_ai.provider.name"] == "openai"
    assert agent.attributes["toolkit.stop_reason"] == "end"
    assert "error.type" not in agent.attributes

    chats = recorded.named("chat m")
    assert {_parent(c) for c in chats} == {_id(agent)}
    for chat in chats:
        assert chat.kind is SpanKind.CLIENT
        attributes = dict(chat.attributes or {})
        assert attributes["gen_ai.operation.name"] == "chat"
        assert attributes["gen_ai.request.model"] == "m"
        assert attributes["gen_ai.request.max_tokens"] == 50
        assert attributes["gen_ai.request.temperature"] == 0.5
        assert "gen_ai.input.messages" not in attributes  # content capture is off
    reasons = [
        tuple(cast("list[str]", dict(c.attributes or {})["gen_ai.response.finish_reasons"]))
        for c in chats
    ]
    assert sorted(reasons) == [("end",), ("tool_calls",), ("tool_calls",)]

    weather = recorded.one("execute_tool get_weather")
    failed = recorded.one("execute_tool explode")
    assert {_parent(weather), _parent(failed)} == {_id(agent)}
    assert weather.kind is SpanKind.INTERNAL
    tool_attributes = dict(weather.attributes or {})
    assert tool_attributes["gen_ai.operation.name"] == "execute_tool"
    assert tool_attributes["gen_ai.tool.name"] == "get_weather"
    assert tool_attributes["gen_ai.tool.call.id"] == result.tool_calls[0].id
    assert tool_attributes["gen_ai.tool.type"] == "function"
    assert tool_attributes["gen_ai.tool.description"] == "Get the weather in a city."
    assert "gen_ai.tool.call.arguments" not in tool_attributes
    assert dict(failed.attributes or {})["error.type"] == "RuntimeError"
    assert failed.status.status_code is StatusCode.ERROR


def test_a_run_stopped_by_a_limit_says_so_on_its_span(recorded: Recorded) -> None:
    model = ScriptedModel([call("get_weather", city="Oslo")])
    runner = Runner(model, tools=[get_weather], limits=Limits(max_steps=1))
    assert runner.run("weather").stop_reason == "max_steps"
    attributes = dict(recorded.one("invoke_agent").attributes or {})
    assert attributes["toolkit.stop_reason"] == "max_steps"
    assert attributes["error.type"] == "max_steps"


def test_a_request_that_fails_ends_both_spans_with_its_error(recorded: Recorded) -> None:
    runner = Runner(ScriptedModel([]), tools=[get_weather])
    with pytest.raises(AssertionError, match="ran out of replies"):
        runner.run("hi")
    chat = recorded.one("chat")
    agent = recorded.one("invoke_agent")
    assert dict(chat.attributes or {})["error.type"] == "AssertionError"
    assert dict(agent.attributes or {})["error.type"] == "AssertionError"
    assert agent.status.status_code is StatusCode.ERROR


def _nesting_tools(recorded: Recorded) -> list[Any]:
    @tool
    def in_thread() -> str:
        """A sync tool, run in a worker thread (the default per-call timeout)."""
        with recorded.tracer.start_as_current_span("inside sync"):
            return "ok"

    @tool
    async def in_task() -> str:
        """An async tool, run as a task."""
        with recorded.tracer.start_as_current_span("inside async"):
            await asyncio.sleep(0)
            return "ok"

    return [in_thread, in_task]


def _assert_nested(recorded: Recorded) -> None:
    for tool_name, inner in (("in_thread", "inside sync"), ("in_task", "inside async")):
        assert _parent(recorded.one(inner)) == _id(recorded.one(f"execute_tool {tool_name}"))
        assert _parent(recorded.one(f"execute_tool {tool_name}")) == _id(
            recorded.one("invoke_agent")
        )


def test_a_tools_own_spans_nest_under_its_call_in_threads_and_tasks(recorded: Recorded) -> None:
    model = ScriptedModel([[call("in_thread"), call("in_task")], "ok"])
    Runner(model, tools=_nesting_tools(recorded)).run("go")
    _assert_nested(recorded)


def test_spans_nest_the_same_way_in_an_async_run(recorded: Recorded) -> None:
    model = ScriptedModel([[call("in_thread"), call("in_task")], "ok"])
    runner = Runner(model, tools=_nesting_tools(recorded))

    async def main() -> None:
        with recorded.tracer.start_as_current_span("request"):
            await runner.run_async("go")

    asyncio.run(main())
    _assert_nested(recorded)
    assert _parent(recorded.one("invoke_agent")) == _id(recorded.one("request"))


def test_a_streamed_run_has_the_same_spans(recorded: Recorded) -> None:
    model = ScriptedModel([call("get_weather", city="Rome"), "Sunny."])
    list(Runner(model, tools=[get_weather]).stream("weather"))
    names = sorted(s.name for s in recorded.spans())
    assert names == ["chat", "chat", "execute_tool get_weather", "invoke_agent"]


def test_content_is_recorded_only_when_capture_is_on_and_then_clipped(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    model = ScriptedModel([call("get_weather", city="x" * 10_000), "Done."])
    Runner(model, tools=[get_weather], system="Be brief.").run("weather")
    tool_attributes = dict(recorded.one("execute_tool get_weather").attributes or {})
    arguments = str(tool_attributes["gen_ai.tool.call.arguments"])
    assert arguments.startswith('{"city": "xxx')
    assert len(arguments) <= _tracing.MAX_CONTENT_CHARS + 3
    assert str(tool_attributes["gen_ai.tool.call.result"]).endswith("...")
    first_chat = dict(recorded.named("chat")[0].attributes or {})
    assert "weather" in str(first_chat["gen_ai.input.messages"])
    assert first_chat["gen_ai.system_instructions"] == "Be brief."
    assert "gen_ai.output.messages" in first_chat


def test_token_usage_and_durations_are_recorded_as_metrics(recorded: Recorded) -> None:
    model = ScriptedModel(["Hello."])
    Runner(model, model="m").run("hi")
    data = recorded.reader.get_metrics_data()
    assert data is not None
    metrics = {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    usage = metrics["gen_ai.client.token.usage"]
    assert isinstance(usage.data, Histogram)
    kinds = {
        str(dict(point.attributes or {})["gen_ai.token.type"]) for point in usage.data.data_points
    }
    assert kinds == {"input", "output"}
    duration = metrics["gen_ai.client.operation.duration"]
    assert isinstance(duration.data, Histogram)
    [point] = duration.data.data_points
    assert dict(point.attributes or {})["gen_ai.request.model"] == "m"
    assert point.count == 1


def test_without_a_provider_nothing_is_traced() -> None:
    _tracing.use()
    assert _tracing.tracer() is None  # no global provider is set in the tests
    result = Runner(ScriptedModel([call("get_weather", city="Oslo"), "ok"]), tools=[get_weather])
    assert result.run("go").text == "ok"


def test_a_stream_closed_early_ends_its_span_without_an_error(recorded: Recorded) -> None:
    model = ScriptedModel([call("get_weather", city="Rome"), "Sunny."])
    events = cast(
        "Generator[Any, None, None]", Runner(model, tools=[get_weather]).stream("weather")
    )
    next(events)
    events.close()
    agent = recorded.one("invoke_agent")
    assert dict(agent.attributes or {})["toolkit.stop_reason"] == "closed"
    assert agent.status.status_code is not StatusCode.ERROR


# -- across an MCP call ----------------------------------------------------------------------------


class _MCPOverHTTP:
    """toolkit's MCP server for ``registry`` on 127.0.0.1 in a thread of its own (its own
    loop: nothing of the client's context reaches it but what the request carries)."""

    def __init__(self, registry: Any) -> None:
        import concurrent.futures
        import threading

        from toolkit.mcp import mcp_server, serve_http_async

        started: concurrent.futures.Future[str] = concurrent.futures.Future()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

        async def serve() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            serving = asyncio.ensure_future(
                serve_http_async(mcp_server(registry), port=0, on_start=started.set_result)
            )
            await self._stop.wait()
            serving.cancel()
            await asyncio.gather(serving, return_exceptions=True)

        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), name="mcp-http")
        self._thread.start()
        self.url = started.result(timeout=30)

    def close(self) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=30)


def test_one_trace_runs_through_an_mcp_call_to_the_servers_tool(recorded: Recorded) -> None:
    pytest.importorskip("mcp", reason="the mcp extra is not installed")
    from toolkit import Registry, ToolCall
    from toolkit.mcp import MCPClient, StreamableHTTP

    @tool
    def forecast(city: str) -> str:
        """Forecast the weather in a city."""
        with recorded.tracer.start_as_current_span("station lookup"):
            return f"{city}: rain"

    @tool
    def flood_gauge(river: str) -> str:
        """Read a river's flood gauge."""
        raise RuntimeError(f"the {river} gauge is offline")

    server = _MCPOverHTTP(Registry([forecast, flood_gauge]))
    try:
        with (
            MCPClient({"weather": StreamableHTTP(server.url)}) as client,
            recorded.tracer.start_as_current_span("request"),
        ):
            results = client.registry.execute(
                [
                    ToolCall(id="c1", name="forecast", arguments='{"city": "Oslo"}'),
                    ToolCall(id="c2", name="flood_gauge", arguments='{"river": "Glomma"}'),
                ]
            )
    finally:
        server.close()
    assert results[0].content == "Oslo: rain"
    assert results[1].is_error
    assert "gauge is offline" in results[1].content

    request = recorded.one("request")
    by_id = {_id(s): s for s in recorded.spans()}

    def parent(span: ReadableSpan) -> ReadableSpan:
        assert span.parent is not None, f"{span.name} has no parent"
        return by_id[span.parent.span_id]

    [station] = recorded.named("station lookup")
    server_tool = parent(station)
    server_call = parent(server_tool)
    client_call = parent(server_call)
    client_tool = parent(client_call)
    chain = [station, server_tool, server_call, client_call, client_tool]
    assert [(s.name, s.kind) for s in chain] == [
        ("station lookup", SpanKind.INTERNAL),
        ("execute_tool forecast", SpanKind.INTERNAL),
        ("tools/call forecast", SpanKind.SERVER),
        ("tools/call forecast", SpanKind.CLIENT),
        ("execute_tool forecast", SpanKind.INTERNAL),
    ]
    assert parent(client_tool) is request
    assert {_trace(s) for s in recorded.spans()} == {_trace(request)}
    assert server_call.parent is not None
    assert server_call.parent.is_remote
    for span in (server_call, client_call):
        attributes = dict(span.attributes or {})
        assert attributes["mcp.method.name"] == "tools/call"
        assert attributes["gen_ai.tool.name"] == "forecast"
        assert attributes["gen_ai.operation.name"] == "execute_tool"
        assert "error.type" not in attributes
    assert dict(client_call.attributes or {})["toolkit.mcp.server"] == "weather"
    assert "jsonrpc.request.id" in dict(server_call.attributes or {})

    # A failing tool: an error result on the server, a ToolError in the client.
    failed = {s.kind: s for s in recorded.named("tools/call flood_gauge")}
    assert set(failed) == {SpanKind.CLIENT, SpanKind.SERVER}
    assert failed[SpanKind.SERVER].parent is not None
    assert _parent(failed[SpanKind.SERVER]) == _id(failed[SpanKind.CLIENT])
    assert dict(failed[SpanKind.SERVER].attributes or {})["error.type"] == "exception"
    assert dict(failed[SpanKind.CLIENT].attributes or {})["error.type"] == "ToolError"
    for span in failed.values():
        assert span.status.status_code is StatusCode.ERROR


def test_without_tracing_an_mcp_call_carries_no_trace_context() -> None:
    with _tracing.mcp_call("weather", "forecast") as meta:
        assert meta is None


@settings(max_examples=200, deadline=None)
@given(
    meta=st.one_of(
        st.none(),
        st.integers(),
        st.dictionaries(
            st.sampled_from(["traceparent", "tracestate", "baggage", "other"]),
            st.one_of(
                st.none(),
                st.integers(),
                st.text(max_size=80),
                st.text(alphabet="0123456789abcdef-", min_size=50, max_size=60),
                st.just("00-" + "a" * 32 + "-" + "b" * 16 + "-01"),
                st.just("k=" + "v" * 9000),
            ),
        ),
    )
)
def test_any_meta_a_client_sends_is_read_without_failing(meta: Any) -> None:
    """A client's ``_meta`` is untrusted: whatever it holds, the server's span starts, and
    parents on it only when it is a valid W3C traceparent."""
    found = Recorded()
    _tracing.use(found.provider, found.meters)
    try:
        with _tracing.mcp_serve("forecast", meta, 7):
            pass
    finally:
        _tracing.use()
        found.provider.shutdown()
        found.meters.shutdown()
    [span] = found.spans()
    sent = cast("dict[str, Any]", meta) if isinstance(meta, dict) else {}
    valid = sent.get("traceparent") == "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    if valid:
        assert span.parent is not None
        assert span.parent.span_id == int("b" * 16, 16)
        assert _trace(span) == int("a" * 32, 16)
    else:
        assert span.parent is None


def test_a_call_in_a_process_pool_is_traced_here_and_still_runs(recorded: Recorded) -> None:
    """The span stays in this process; what goes to the pool is the bare function, which
    pickles (a tracing wrapper would not)."""
    import concurrent.futures
    import os

    import _process_tools

    from toolkit import Registry, ToolCall

    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        registry = Registry([_process_tools.worker_pid], executor=pool)
        with recorded.tracer.start_as_current_span("request"):
            [result] = registry.execute([ToolCall(id="c1", name="worker_pid", arguments="{}")])
            [again] = asyncio.run(
                registry.execute_async([ToolCall(id="c2", name="worker_pid", arguments="{}")])
            )
    for each in (result, again):
        assert not each.is_error, each.content
        assert each.value != os.getpid()
    spans = recorded.named("execute_tool worker_pid")
    assert len(spans) == 2
    request = recorded.one("request")
    assert {_parent(s) for s in spans} == {_id(request)}
