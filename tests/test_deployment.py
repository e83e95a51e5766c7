"""docs/deployment.md's tracing setup, as written, sends a run's spans and metrics over
OTLP/HTTP: a process runs the guide's snippet against a collector on 127.0.0.1 (this
test's), and the collector decodes what arrives with OpenTelemetry's own protobuf types."""

from __future__ import annotations

import gzip
import http.server
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the OpenTelemetry SDK is not installed")
pytest.importorskip(
    "opentelemetry.exporter.otlp.proto.http", reason="the OTLP/HTTP exporter is not installed"
)

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

GUIDE = Path(__file__).parent.parent / "docs" / "deployment.md"


def guide_snippet(heading: str) -> str:
    """The first ```py block under ``heading`` in the deployment guide."""
    text = GUIDE.read_text()
    start = text.index(heading)
    found = re.search(r"```py\n(.*?)```", text[start:], re.DOTALL)
    assert found is not None, f"no ```py block under {heading!r}"
    return found.group(1)


class Collector(http.server.ThreadingHTTPServer):
    """The two OTLP/HTTP endpoints, keeping every request's body by path."""

    def __init__(self) -> None:
        self.received: dict[str, list[bytes]] = {}
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        cast("Collector", self.server).received.setdefault(self.path, []).append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


APPLICATION = """
from toolkit import Runner, tool
from toolkit.testing import ScriptedModel, call


@tool
def get_weather(city: str) -> str:
    \"\"\"Get the weather in a city.\"\"\"
    return f"{city}: sunny"


setup_tracing("weather-desk")
runner = Runner(ScriptedModel([call("get_weather", city="Oslo"), "Sunny."]), tools=[get_weather])
with trace.get_tracer("weather-desk").start_as_current_span("handle request"):
    assert runner.run("Weather in Oslo?").text == "Sunny."
# The SDK's providers flush and shut down at exit: the batch goes out then.
"""


def test_the_guides_tracing_setup_exports_spans_and_metrics_over_otlp(
    collector: Collector, tmp_path: Path
) -> None:
    script = tmp_path / "app.py"
    script.write_text(guide_snippet("### Sending traces") + textwrap.dedent(APPLICATION))
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_EXPORTER_OTLP_TIMEOUT": "5",  # seconds
    }
    env.pop("OTEL_SDK_DISABLED", None)
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr

    spans: dict[str, Any] = {}
    services: set[str] = set()
    for body in collector.received.get("/v1/traces", []):
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            for attribute in resource_spans.resource.attributes:
                if attribute.key == "service.name":
                    services.add(attribute.value.string_value)
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    spans[span.name] = span
    assert services == {"weather-desk"}
    assert {"handle request", "invoke_agent", "chat", "execute_tool get_weather"} <= set(spans)
    [trace_id] = {span.trace_id for span in spans.values()}  # one trace
    assert trace_id

    metric_names: set[str] = set()
    for body in collector.received.get("/v1/metrics", []):
        request = ExportMetricsServiceRequest.FromString(body)
        for resource_metrics in request.resource_metrics:
            for scope in resource_metrics.scope_metrics:
                metric_names.update(metric.name for metric in scope.metrics)
    assert "gen_ai.client.operation.duration" in metric_names
