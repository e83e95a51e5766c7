"""Sync tools run on a Dask cluster through ``Client.get_executor()``, as they do in threads.

One ``LocalCluster`` of two single-threaded worker processes serves the module. The tools
come from ``_dask_tools``, a module the workers import to unpickle them. Arguments are
validated here, timeouts are kept here, and what a tool returns or raises on a worker reads
as it would from a thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

pytest.importorskip("distributed", reason="dask.distributed is not installed")

import _dask_tools
from distributed import Client, LocalCluster

from toolkit import Registry, Runner, ToolCall, ToolResult
from toolkit.testing import ScriptedModel, call

T = TypeVar("T")


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    options: dict[str, Any] = {  # (distributed's annotations say no to None here)
        "n_workers": 2,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
        "silence_logs": logging.CRITICAL,  # the workers' logs of the failures tested here
    }
    cluster = LocalCluster(**options)
    with cluster, Client(cluster) as dask_client:
        yield dask_client


def executor_of(client: Client, **options: Any) -> concurrent.futures.Executor:
    """``client.get_executor(**options)`` (typed: distributed's annotations are partial)."""
    made: concurrent.futures.Executor = getattr(client, "get_executor")(**options)  # noqa: B009
    return made


@pytest.fixture(scope="module")
def executor(client: Client) -> concurrent.futures.Executor:
    # pure=False: each call is a task of its own (see docs/registry.md).
    return executor_of(client, pure=False)


@pytest.fixture(scope="module")
def worker_pids(client: Client) -> set[int]:
    pids: dict[str, int] = getattr(client, "run")(os.getpid)  # noqa: B009
    return set(pids.values())


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def both(registry: Registry, calls: list[ToolCall], **options: Any) -> list[list[ToolResult]]:
    """The results of ``calls`` by ``execute``, then by ``execute_async``."""
    return [registry.execute(calls, **options), run(registry.execute_async(calls, **options))]


def comparable(result: ToolResult) -> tuple[Any, ...]:
    kind = result.error.kind if result.error else None
    return (result.call_id, result.name, result.content, result.is_error, kind)


def tools() -> list[Any]:
    return [
        _dask_tools.where,
        _dask_tools.square,
        _dask_tools.reading,
        _dask_tools.fail,
        _dask_tools.refuse,
    ]


class Counting(concurrent.futures.Executor):
    """An executor that counts what it hands on to another (a Dask client's)."""

    def __init__(self, inner: concurrent.futures.Executor) -> None:
        self.inner = inner
        self.sent = 0

    def submit(  # pyright: ignore[reportIncompatibleMethodOverride]
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        self.sent += 1
        return self.inner.submit(fn, *args, **kwargs)


def test_calls_run_on_the_workers_and_read_as_from_a_thread(
    executor: concurrent.futures.Executor, worker_pids: set[int]
) -> None:
    elsewhere = Registry(tools(), executor=executor)
    here = Registry(tools())
    calls = [
        call("where", n=1),
        ToolCall(id="2", name="square", arguments={"value": "7"}),  # "7" -> 7, here
        call("reading", city="Oslo"),
    ]
    assert os.getpid() not in worker_pids
    for results in both(elsewhere, calls):
        assert results[0].value["pid"] in worker_pids
        assert [comparable(r) for r in results[1:]] == [
            comparable(r) for r in here.execute(calls)[1:]
        ]
        assert results[1].content == "49"
        assert results[2].content == '{"city":"Oslo","celsius":21.5}'
        assert type(results[2].value) is _dask_tools.Reading
    for [alone] in both(elsewhere, [call("where", n=2)]):  # a lone call goes there too
        assert alone.value["n"] == 2
        assert alone.value["pid"] in worker_pids


def test_a_decorated_tool_runs_on_the_workers_too(
    executor: concurrent.futures.Executor, worker_pids: set[int]
) -> None:
    """``@tool`` puts a ``Tool`` where pickle looks for the function (its module and
    name): the registry sends a reference to the ``Tool`` instead, for any executor of
    other processes."""
    with concurrent.futures.ProcessPoolExecutor(1) as processes:
        for pool in (executor, processes):
            registry = Registry([_dask_tools.decorated], executor=pool)
            for [result] in both(registry, [call("decorated", n=3)]):
                assert not result.is_error, result.content
                assert result.value["n"] == 3
                assert result.value["pid"] != os.getpid()
                if pool is executor:
                    assert result.value["pid"] in worker_pids


def test_invalid_calls_are_answered_here_without_reaching_the_cluster(
    executor: concurrent.futures.Executor,
) -> None:
    counting = Counting(executor)
    elsewhere = Registry(tools(), executor=counting)
    calls = [
        ToolCall(id="1", name="square", arguments={"value": "seven"}),
        ToolCall(id="2", name="square", arguments="{broken"),
        ToolCall(id="3", name="squares", arguments={"value": 2}),
    ]
    expected = [comparable(r) for r in Registry(tools()).execute(calls)]
    for results in both(elsewhere, calls):
        assert [comparable(r) for r in results] == expected
        assert [r.error.kind for r in results if r.error] == [
            "invalid_arguments",
            "invalid_json",
            "unknown_tool",
        ]
    assert counting.sent == 0
    [valid] = elsewhere.execute([call("square", value=3)])
    assert valid.value == 9
    assert counting.sent == 1


def test_a_tools_exception_is_the_error_result_a_thread_gives(
    executor: concurrent.futures.Executor,
) -> None:
    calls = [call("fail", reason="rain"), call("refuse", reason="no"), call("square", value=2)]
    elsewhere = Registry(tools(), executor=executor)
    here = Registry(tools())
    expected = [comparable(r) for r in here.execute(calls)]
    assert expected[0][2] == "Tool fail failed: ValueError: the station is down: rain"
    assert expected[1][2:] == ("refused: no", True, "tool_error")
    for results in [*both(elsewhere, calls), elsewhere.execute(calls[:1])]:
        assert [comparable(r) for r in results] == expected[: len(results)]
        assert results[0].error is not None
        assert type(results[0].error.exception) is ValueError


def test_timeouts_answer_as_in_a_thread_and_a_call_not_started_never_runs(
    executor: concurrent.futures.Executor, tmp_path: Path
) -> None:
    elsewhere = Registry([_dask_tools.held, _dask_tools.where], executor=executor)
    here = Registry([_dask_tools.held])
    folder = str(tmp_path)

    def held(n: int) -> ToolCall:
        return ToolCall(id=str(n), name="held", arguments={"folder": folder, "n": n})

    # Both workers wait for the release file (no timeout), so the next calls are queued.
    busy: list[list[ToolResult]] = []
    holding = threading.Thread(target=lambda: busy.append(elsewhere.execute([held(1), held(2)])))
    holding.start()
    try:
        deadline = time.monotonic() + 30
        while len(list(tmp_path.glob("started-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(list(tmp_path.glob("started-*"))) == 2
        [lone] = elsewhere.execute([held(3)], default_timeout=0.2)
        batch = run(elsewhere.execute_async([held(4), call("where", n=5)], default_timeout=0.2))
        [local] = here.execute([held(9)], default_timeout=0.2)
    finally:
        (tmp_path / "release").touch()
        holding.join(30)
    assert local.content == "Tool held did not finish within 0.2 s."
    for result in [lone, *batch]:
        assert result.error is not None
        assert result.error.kind == "timeout"
    assert [lone.content, batch[0].content] == [local.content, local.content]
    assert batch[1].content == "Tool where did not finish within 0.2 s."
    assert [r.value for r in busy[0]] == [1, 2]  # the calls without a timeout went on
    # The run goes on; calls 3 and 4 were cancelled before they started: the next calls
    # would have run after them, had they still been queued.
    after = elsewhere.execute([call("where", n=6), call("where", n=7)])
    assert [r.value["n"] for r in after] == [6, 7]
    assert sorted(p.name for p in tmp_path.glob("started-*")) == [
        "started-1",
        "started-2",
        "started-9",
    ]


def test_parallel_calls_run_at_once_on_both_workers(
    executor: concurrent.futures.Executor, worker_pids: set[int]
) -> None:
    elsewhere = Registry([_dask_tools.span], executor=executor)
    calls = [ToolCall(id=str(n), name="span", arguments={"n": n, "seconds": 0.2}) for n in range(4)]
    for results in both(elsewhere, calls):
        values = [r.value for r in results]
        assert [v["n"] for v in values] == list(range(4))
        assert {v["pid"] for v in values} == worker_pids
        # Some two calls of different workers overlapped in time.
        assert any(
            a["pid"] != b["pid"] and a["start"] < b["end"] and b["start"] < a["end"]
            for a in values
            for b in values
        )


def test_arguments_named_like_submit_keywords_reach_the_tool(
    executor: concurrent.futures.Executor,
) -> None:
    elsewhere = Registry([_dask_tools.keywords], executor=executor)
    arguments = {"key": "k", "workers": 3, "pure": True, "priority": 5, "retries": 2}
    for results in both(elsewhere, [ToolCall(id="1", name="keywords", arguments=arguments)]):
        assert results[0].content == "k 3 True 5 2"


def test_equal_calls_are_run_apart_with_pure_false(
    client: Client, executor: concurrent.futures.Executor
) -> None:
    twice = [call("ticket"), call("ticket")]
    [first, second] = Registry([_dask_tools.ticket], executor=executor).execute(twice)
    assert first.value != second.value
    # Dask's default (pure=True) takes equal calls for one task: why the docs say pure=False.
    shared = Registry([_dask_tools.ticket], executor=executor_of(client)).execute(twice)
    assert shared[0].value == shared[1].value


def test_a_context_goes_with_the_call_when_its_deps_pickle(
    executor: concurrent.futures.Executor, worker_pids: set[int]
) -> None:
    elsewhere = Registry([_dask_tools.lookup], executor=executor)
    lookup = ToolCall(id="c1", name="lookup", arguments={"sku": "A1"})
    for results in both(elsewhere, [lookup], context={"A1": "anvil"}):
        value = results[0].value
        assert value["pid"] in worker_pids
        assert {k: value[k] for k in ("item", "tool", "call")} == {
            "item": "anvil",
            "tool": "lookup",
            "call": "c1",
        }
    unpicklable = {"A1": "anvil", "lock": threading.Lock()}
    for results in both(elsewhere, [lookup], context=unpicklable):
        assert results[0].content == (
            "Tool lookup failed: RuntimeError: the call could not be sent to ClientExecutor:"
            " TypeError: cannot pickle '_thread.lock' object"
        )


def test_a_tool_that_cannot_be_pickled_is_an_error_result_naming_it(
    executor: concurrent.futures.Executor,
) -> None:
    guard = threading.Lock()

    def guarded(n: int) -> int:
        """Count under a lock of this process."""
        with guard:
            return n

    elsewhere = Registry([guarded, _dask_tools.square], executor=executor)
    calls = [call("guarded", n=1), call("square", value=3)]
    batches = both(elsewhere, calls)
    for unsent in [*(results[0] for results in batches), *elsewhere.execute(calls[:1])]:
        assert unsent.content == (
            "Tool guarded failed: RuntimeError: the call could not be sent to"
            " ClientExecutor: TypeError: cannot pickle '_thread.lock' object"
        )
        assert unsent.error is not None
        assert unsent.error.kind == "exception"
    assert [results[1].value for results in batches] == [9, 9]  # the other calls ran


def test_a_run_uses_the_cluster(
    executor: concurrent.futures.Executor, worker_pids: set[int]
) -> None:
    script = [
        [call("where", n=1), call("where", n=2), call("fail", reason="hail")],
        call("square", value=4),
        "All done.",
    ]
    registry = Registry(tools(), executor=executor)
    for result in [
        Runner(ScriptedModel(script), tools=registry).run("go"),
        run(Runner(ScriptedModel(script), tools=registry).run_async("go")),
    ]:
        assert result.text == "All done."
        where = [r.value["pid"] for r in result.tool_results if r.name == "where"]
        assert len(where) == 2
        assert set(where) <= worker_pids
        assert [r.content for r in result.tool_results[2:]] == [
            "Tool fail failed: ValueError: the station is down: hail",
            "16",
        ]


def test_tracing_records_each_call_here(
    executor: concurrent.futures.Executor, worker_pids: set[int]
) -> None:
    pytest.importorskip("opentelemetry.sdk", reason="the OpenTelemetry SDK is not installed")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        InMemorySpanExporter,
    )
    from opentelemetry.trace import StatusCode

    from toolkit import _tracing  # pyright: ignore[reportPrivateUsage]

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    meters = MeterProvider()
    _tracing.use(provider, meters)
    try:
        elsewhere = Registry(tools(), executor=executor)
        with provider.get_tracer("test").start_as_current_span("request") as outer:
            [lone] = elsewhere.execute([call("where", n=1)])
            batch = elsewhere.execute([call("where", n=2), call("fail", reason="fog")])
            [in_loop] = run(elsewhere.execute_async([call("square", value=5)]))
    finally:
        _tracing.use()
        provider.shutdown()
        meters.shutdown()
    assert lone.value["pid"] in worker_pids
    assert batch[0].value["pid"] in worker_pids
    assert batch[1].content == "Tool fail failed: ValueError: the station is down: fog"
    assert in_loop.value == 25
    spans = {s.name: s for s in exporter.get_finished_spans() if s.name != "execute_tool where"}
    where = [s for s in exporter.get_finished_spans() if s.name == "execute_tool where"]
    assert len(where) == 2
    assert sorted(spans) == ["execute_tool fail", "execute_tool square", "request"]
    failed = spans["execute_tool fail"]
    assert failed.status.status_code is StatusCode.ERROR
    assert dict(failed.attributes or {})["error.type"] == "ValueError"
    for recorded in [*where, spans["execute_tool square"], failed]:
        assert recorded.parent is not None
        assert recorded.parent.span_id == outer.get_span_context().span_id


def test_a_result_that_cannot_be_pickled_back_ends_with_the_timeout(
    executor: concurrent.futures.Executor,
) -> None:
    # Dask never delivers such a result (it cannot send it): the timeout answers the call.
    elsewhere = Registry([_dask_tools.lock, _dask_tools.square], executor=executor, timeout=0.3)
    for results in both(elsewhere, [call("lock")]):
        assert results[0].content == "Tool lock did not finish within 0.3 s."
    for results in both(elsewhere, [call("square", value=6), call("square", value=7)]):
        assert [r.value for r in results] == [36, 49]
