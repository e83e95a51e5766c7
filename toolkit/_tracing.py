"""OpenTelemetry spans and metrics, by the GenAI semantic conventions, when it is installed.

Nothing here imports OpenTelemetry until a run or a tool call asks for the tracer, and
then only if ``opentelemetry-api`` is installed: without it every function here is a
cheap ``None`` check. Installed but with no tracer provider set (the API's default proxy)
or the API's ``NoOpTracerProvider``, tracing is off too and costs one check per run and
per call; any other provider switches it on.

- ``invoke_agent`` (INTERNAL): one per run, under the caller's current span;
- ``chat {model}`` (CLIENT): one per model request, under the run's span;
- ``execute_tool {name}`` (INTERNAL): one per tool call, under the run's span, current
  while the tool runs (in its thread or task), so the tool's own spans nest under it;
- ``tools/call {name}`` (CLIENT) around a call toolkit's MCP client sends, its trace
  context in the request's ``_meta`` (``traceparent``, ``tracestate``, ``baggage``: MCP's
  SEP-414), and ``tools/call {name}`` (SERVER) around one toolkit's MCP server answers,
  under the context the request carried: one trace across the processes.

Arguments, results and messages are recorded only when content capture is switched on,
as the conventions ask: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``; and
then clipped to ``MAX_CONTENT_CHARS``.
https://opentelemetry.io/docs/specs/semconv/gen-ai/
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Generator, Mapping
from contextlib import contextmanager
from typing import Any, cast

__all__ = [
    "MAX_CONTENT_CHARS",
    "AgentRun",
    "agent_context",
    "agent_run",
    "capture_content",
    "chat",
    "mcp_call",
    "mcp_error",
    "mcp_serve",
    "traced_tool",
    "tracer",
    "use",
]

MAX_CONTENT_CHARS = 4_000
"""Captured content (arguments, results, messages) is clipped to this many characters."""

_CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

# The conventions' provider names (gen_ai.provider.name), by toolkit's format name.
_PROVIDERS = {
    "openai": "openai",
    "openai-responses": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "workers-ai": "cloudflare.workers_ai",
}

_UNSET: Any = object()
_state: Any = _UNSET  # None (no OpenTelemetry) or (tracer, meter instruments, api modules)


def tracer() -> Any | None:
    """OpenTelemetry's API state for toolkit, or ``None`` when it is not installed (looked
    up once) or no tracer provider is set (looked at each time: one may be set later)."""
    global _state  # noqa: PLW0603 - one lookup per process
    if _state is _UNSET:
        _state = _load()
    state = _state
    if state is None or state.own:
        return state
    # The API's get_tracer_provider() reads the environment at every call (about a
    # microsecond, a third of a whole dispatch): the global it sets is read instead, and
    # the public call is the fallback should a later API rename it.
    provider = getattr(state.trace, "_TRACER_PROVIDER", _UNSET)
    if provider is _UNSET:
        provider = state.trace.get_tracer_provider()
    if provider is None or isinstance(provider, state.off):
        return None  # no provider set, or the API's no-op one: nothing would be recorded
    return state


def use(tracer_provider: Any = None, meter_provider: Any = None) -> None:
    """Trace with these providers instead of the global ones (``None``, ``None``: back to
    the global ones). For tests, which cannot unset a global provider once set."""
    global _state  # noqa: PLW0603 - one state per process
    own = tracer_provider is not None or meter_provider is not None
    _state = _load(tracer_provider, meter_provider) if own else _UNSET


def _load(tracer_provider: Any = None, meter_provider: Any = None) -> Any | None:
    if importlib.util.find_spec("opentelemetry") is None:
        return None
    try:
        from opentelemetry import context, metrics, propagate, trace  # the optional extra
    except ImportError:
        return None
    package = sys.modules.get("toolkit")  # loaded by now; read, not imported (layers)
    version: str = getattr(package, "__version__", "")
    meter = metrics.get_meter("toolkit", version, meter_provider=meter_provider)
    return _Otel(
        trace=trace,
        off=(trace.ProxyTracerProvider, trace.NoOpTracerProvider),
        context=context,
        propagate=propagate,
        tracer=trace.get_tracer("toolkit", version, tracer_provider=tracer_provider),
        own=tracer_provider is not None,
        tokens=meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Tokens used"
        ),
        duration=meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="GenAI operation duration"
        ),
    )


class _Otel:
    __slots__ = ("context", "duration", "off", "own", "propagate", "tokens", "trace", "tracer")

    def __init__(self, **parts: Any) -> None:
        for name, value in parts.items():
            setattr(self, name, value)


def capture_content() -> bool:
    """Whether content capture is switched on (read at each use: a test may switch it)."""
    return os.environ.get(_CAPTURE, "").strip().lower() in ("true", "1", "yes")


def _clip(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= MAX_CONTENT_CHARS else text[:MAX_CONTENT_CHARS] + "..."


def provider_of(format_name: str) -> str:
    return _PROVIDERS.get(format_name, format_name)


# -- a run ---------------------------------------------------------------------------------------


class AgentRun:
    """A run's ``invoke_agent`` span while the run lasts (``span`` is ``None`` when tracing
    is off or the span has ended); ``finish`` ends it once, later calls do nothing."""

    __slots__ = ("span",)

    def __init__(self, span: Any | None) -> None:
        self.span = span

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        """End the span with the run's outcome (a ``RunResult``, or the error it raised)."""
        span, self.span = self.span, None
        if span is None:
            return
        if result is not None:
            span.set_attribute("gen_ai.usage.input_tokens", result.usage.input_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", result.usage.output_tokens)
            span.set_attribute("toolkit.stop_reason", result.stop_reason)
            if result.stop_reason not in ("end", "approval_required"):
                span.set_attribute("error.type", result.stop_reason)
        if isinstance(error, GeneratorExit):  # the consumer stopped streaming: not a failure
            span.set_attribute("toolkit.stop_reason", "closed")
        elif error is not None:
            _failed(span, error)
        span.end()


@contextmanager
def agent_run(format_name: str, model: str | None) -> Generator[AgentRun, None, None]:
    """The run's ``invoke_agent`` span, under the caller's current span, ended when the
    block ends (with its error, if one escapes) unless ``finish`` ended it first. Not made
    current: a run's generator yields to its consumer in between."""
    otel = tracer()
    span = None
    if otel is not None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.provider.name": provider_of(format_name),
        }
        if model:
            attributes["gen_ai.request.model"] = model
        span = otel.tracer.start_span(
            "invoke_agent", kind=otel.trace.SpanKind.INTERNAL, attributes=attributes
        )
    run = AgentRun(span)
    try:
        yield run
    except BaseException as error:
        run.finish(error=error)
        raise
    finally:
        run.finish()


@contextmanager
def agent_context(run: AgentRun) -> Generator[None, None, None]:
    """The run's span made current, for the tool calls that run now (they parent on it)."""
    otel = tracer()
    span = run.span
    if span is None or otel is None:
        yield
        return
    token = otel.context.attach(otel.trace.set_span_in_context(span))
    try:
        yield
    finally:
        otel.context.detach(token)


# -- a model request -----------------------------------------------------------------------------


class ChatSpan:
    """One request's ``chat`` span: started by ``chat``, ended by ``done``/``failed``."""

    __slots__ = ("_format", "_model", "_span", "_started")

    def __init__(self, span: Any, format_name: str, model: str | None) -> None:
        self._span, self._format, self._model = span, format_name, model
        self._started = time.monotonic()

    def done(self, reply: Any) -> None:
        span = self._span
        if reply.response_id:
            span.set_attribute("gen_ai.response.id", reply.response_id)
        span.set_attribute("gen_ai.response.finish_reasons", [reply.stop])
        span.set_attribute("gen_ai.usage.input_tokens", reply.usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", reply.usage.output_tokens)
        if capture_content():
            output: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.calls:
                output["tool_calls"] = [
                    {"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.calls
                ]
            span.set_attribute("gen_ai.output.messages", _clip([output]))
        self._record(reply.usage.input_tokens, reply.usage.output_tokens)
        span.end()

    def failed(self, error: BaseException) -> None:
        _failed(self._span, error)
        self._record(None, None, error)
        self._span.end()

    def _record(
        self, input_tokens: int | None, output_tokens: int | None, error: Any = None
    ) -> None:
        otel = tracer()
        if otel is None:  # pragma: no cover - a span exists only with OpenTelemetry
            return
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": provider_of(self._format),
        }
        if self._model:
            attributes["gen_ai.request.model"] = self._model
        if error is not None:
            attributes["error.type"] = type(error).__qualname__
        otel.duration.record(time.monotonic() - self._started, attributes)
        for kind, count in (("input", input_tokens), ("output", output_tokens)):
            if count is not None:
                otel.tokens.record(count, {**attributes, "gen_ai.token.type": kind})


class _Untraced:
    __slots__ = ()

    def done(self, reply: Any) -> None:
        pass


_UNTRACED = _Untraced()


@contextmanager
def chat(
    run: AgentRun, request: Any, format_name: str
) -> Generator[ChatSpan | _Untraced, None, None]:
    """A ``chat {model}`` span for ``request`` under the run's span, for the block that
    sends it: the block calls ``done(reply)`` with the reply; an error that escapes it ends
    the span as failed."""
    span = _chat_span(run.span, request, format_name)
    if span is None:
        yield _UNTRACED
        return
    try:
        yield span
    except BaseException as error:
        span.failed(error)
        raise


def _chat_span(agent: Any | None, request: Any, format_name: str) -> ChatSpan | None:
    otel = tracer()
    if otel is None or agent is None:
        return None
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider_of(format_name),
    }
    if request.model:
        attributes["gen_ai.request.model"] = request.model
    settings: Mapping[str, Any] = request.settings
    for key in ("max_tokens", "temperature", "top_p", "seed"):
        if key in settings:
            attributes[f"gen_ai.request.{key}"] = settings[key]
    if capture_content():
        attributes["gen_ai.input.messages"] = _clip(list(request.messages))
        if request.system:
            attributes["gen_ai.system_instructions"] = _clip(request.system)
    name = f"chat {request.model}" if request.model else "chat"
    parent = otel.trace.set_span_in_context(agent)
    span = otel.tracer.start_span(
        name, context=parent, kind=otel.trace.SpanKind.CLIENT, attributes=attributes
    )
    return ChatSpan(span, format_name, request.model)


# -- a tool call ---------------------------------------------------------------------------------


def traced_tool(
    fn: Callable[..., Any], *, name: str, call_id: str, description: str, arguments: Any
) -> Callable[..., Any]:
    """``fn`` run inside an ``execute_tool {name}`` span, current while it runs (or ``fn``
    itself without OpenTelemetry). The span's parent is the context current where the
    wrapper runs: the caller's, which the registry carries into worker threads."""
    otel = tracer()
    if otel is None:
        return fn
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": name,
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.type": "function",
    }
    if description:
        attributes["gen_ai.tool.description"] = description[:MAX_CONTENT_CHARS]
    capture = capture_content()
    if capture:
        attributes["gen_ai.tool.call.arguments"] = _clip(arguments)
    span_name = f"execute_tool {name}"
    kind = otel.trace.SpanKind.INTERNAL

    def settle(span: Any, value: Any) -> Any:
        if capture:
            span.set_attribute("gen_ai.tool.call.result", _clip(value))
        return value

    if inspect.iscoroutinefunction(fn):

        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            with otel.tracer.start_as_current_span(
                span_name, kind=kind, attributes=attributes, record_exception=False
            ) as span:
                try:
                    return settle(span, await fn(*args, **kwargs))
                except BaseException as error:
                    _failed(span, error)
                    raise

        return traced_async

    def traced(*args: Any, **kwargs: Any) -> Any:
        with otel.tracer.start_as_current_span(
            span_name, kind=kind, attributes=attributes, record_exception=False
        ) as span:
            try:
                return settle(span, fn(*args, **kwargs))
            except BaseException as error:
                _failed(span, error)
                raise

    return traced


# -- an MCP call, on both sides ------------------------------------------------------------------

# The W3C keys MCP carries in a request's _meta (SEP-414), and the most of each kept from a
# request: W3C bounds tracestate at 512 characters and baggage at 8,192; a longer value is
# not one, and is dropped rather than parsed.
_CARRIED = {"traceparent": 55, "tracestate": 512, "baggage": 8192}


def _mcp_attributes(tool_name: str, request_id: Any = None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "mcp.method.name": "tools/call",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": tool_name,
    }
    if request_id is not None:
        attributes["jsonrpc.request.id"] = str(request_id)
    return attributes


@contextmanager
def mcp_call(server: str, tool_name: str) -> Generator[dict[str, str] | None, None, None]:
    """A ``tools/call {tool_name}`` CLIENT span around a call to an MCP server's tool,
    yielding the ``_meta`` entries that carry it to the server (``None`` when tracing is
    off: the request then carries none)."""
    otel = tracer()
    if otel is None:
        yield None
        return
    attributes = _mcp_attributes(tool_name)
    attributes["toolkit.mcp.server"] = server
    with _mcp_span(otel, tool_name, otel.trace.SpanKind.CLIENT, attributes, None):
        carrier: dict[str, str] = {}
        otel.propagate.inject(carrier)  # the configured propagators: W3C by default
        yield carrier


@contextmanager
def mcp_serve(tool_name: str, meta: Any, request_id: Any) -> Generator[None, None, None]:
    """A ``tools/call {tool_name}`` SERVER span around answering a call, current while
    the registry runs it, under the trace context the request's ``_meta`` carried (the
    client's span) when it carried a valid one, else under the current context."""
    otel = tracer()
    if otel is None:
        yield
        return
    carrier: dict[str, str] = {}
    if isinstance(meta, Mapping):  # a client's: anything may be there
        for key, longest in _CARRIED.items():
            value = cast("Mapping[str, Any]", meta).get(key)
            if isinstance(value, str) and len(value) <= longest:
                carrier[key] = value
    parent = otel.propagate.extract(carrier) if carrier else None
    attributes = _mcp_attributes(tool_name, request_id)
    with _mcp_span(otel, tool_name, otel.trace.SpanKind.SERVER, attributes, parent):
        yield


@contextmanager
def _mcp_span(
    otel: Any, tool_name: str, kind: Any, attributes: dict[str, Any], parent: Any
) -> Generator[None, None, None]:
    """A current ``tools/call {tool_name}`` span for the block, failed by what escapes it."""
    with otel.tracer.start_as_current_span(
        f"tools/call {tool_name}",
        context=parent,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except BaseException as error:
            _failed(span, error)
            raise


def mcp_error(kind: str) -> None:
    """Mark the current MCP span failed with ``error.type`` ``kind`` (an error result is
    an answer, not an exception, but a failed call all the same)."""
    otel = tracer()
    if otel is None:
        return
    span = otel.trace.get_current_span()
    span.set_attribute("error.type", kind)
    span.set_status(otel.trace.Status(otel.trace.StatusCode.ERROR))


def _failed(span: Any, error: BaseException) -> None:
    otel = tracer()
    span.set_attribute("error.type", type(error).__qualname__)
    if otel is not None:
        span.set_status(otel.trace.Status(otel.trace.StatusCode.ERROR, str(error)[:200]))
