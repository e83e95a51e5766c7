"""The server core: scripted replies, request records, HTTP plumbing and routing.

The protocol modules (``_openai_chat``, ``_openai_responses``, ``_anthropic``, ``_workers_ai``)
only validate a parsed request and render a :class:`Reply`; everything about sockets, threads,
SSE framing and the script queue lives here.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, cast

ProtocolName = Literal["openai_chat", "openai_responses", "anthropic", "workers_ai", "gemini"]
"""Which wire protocol a request spoke; passed to callable scripts and kept on each record."""

Stop = Literal["end", "length", "pause_turn", "refusal", "content_filter", "malformed_call"]
"""Why the scripted turn ended; see :class:`Reply` for how each protocol renders it."""

IndexMode = Literal["normal", "omit", "repeat"]
"""How streamed Chat Completions tool-call deltas carry ``index`` (see ``FakeServer``)."""

DEFAULT_ACCOUNT_ID = "fake-account"


# -- the scripted model ----------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One tool call the fake model makes.

    Attributes:
        name: The tool's name, sent back verbatim (the server does not check it is defined:
            models do call tools that do not exist, and runners must cope).
        arguments: The arguments object, or a string sent verbatim as the arguments JSON
            (use a malformed string to simulate a model emitting broken JSON).
        id: The call id; when ``None`` the server makes one in the protocol's style
            (``call_…`` for OpenAI, ``toolu_…`` for Anthropic).
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict[str, Any])
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as the JSON text a model would emit."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), separators=(",", ":"))

    def arguments_object(self) -> dict[str, Any]:
        """The arguments as an object (protocols that send objects, not JSON strings).

        Raises:
            ScriptError: ``arguments`` is a string that is not a JSON object.
        """
        if not isinstance(self.arguments, str):
            return dict(self.arguments)
        try:
            parsed = json.loads(self.arguments)
        except json.JSONDecodeError as error:
            raise ScriptError(
                f"call {self.name!r}: arguments {self.arguments!r} are not JSON, and this "
                "protocol sends arguments as an object"
            ) from error
        parsed_object = as_object(parsed)
        if parsed_object is None:
            raise ScriptError(f"call {self.name!r}: arguments must be a JSON object")
        return parsed_object


@dataclass(frozen=True)
class Reply:
    """One scripted model turn, neutral to the protocol it will be rendered in.

    Build one with :meth:`text`, :meth:`calls`, :meth:`text_and_calls` or :meth:`refuse`;
    every constructor takes the keyword options below.

    Attributes:
        content: The assistant's text ("" for none).
        tool_calls: The tool calls, in order (several means parallel calls).
        stop: Why the turn ended. ``None`` or ``"end"``: naturally (OpenAI ``finish_reason``
            "tool_calls" when there are calls, else "stop"; Anthropic "tool_use"/"end_turn";
            Responses status "completed"). ``"length"``: cut off by the token limit (OpenAI
            "length"; Anthropic "max_tokens"; Responses status "incomplete" with reason
            "max_output_tokens"). ``"pause_turn"``: Anthropic "pause_turn" (other protocols end
            naturally). ``"refusal"``: Anthropic "refusal" (OpenAI protocols carry
            ``refusal`` instead). ``"content_filter"``: OpenAI "content_filter"; Responses
            "incomplete" with reason "content_filter"; Anthropic "refusal".
        refusal: A refusal message: Chat Completions ``message.refusal``, a Responses
            ``refusal`` content part, Workers AI ``response``; Anthropic has no refusal text
            (only ``stop_reason: "refusal"``), so there it is not sent.
        input_tokens: Reported prompt tokens.
        output_tokens: Reported completion tokens (``None``: about one per four characters).
    """

    content: str = ""
    tool_calls: tuple[Call, ...] = ()
    stop: Stop | None = None
    refusal: str | None = None
    input_tokens: int = 10
    output_tokens: int | None = None

    @classmethod
    def text(
        cls,
        text: str,
        *,
        stop: Stop | None = None,
        refusal: str | None = None,
        input_tokens: int = 10,
        output_tokens: int | None = None,
    ) -> Reply:
        """A plain text answer."""
        return cls(text, (), stop, refusal, input_tokens, output_tokens)

    @classmethod
    def calls(
        cls,
        *calls: Call,
        stop: Stop | None = None,
        input_tokens: int = 10,
        output_tokens: int | None = None,
    ) -> Reply:
        """One or more tool calls and no text."""
        return cls("", calls, stop, None, input_tokens, output_tokens)

    @classmethod
    def text_and_calls(
        cls,
        text: str,
        *calls: Call,
        stop: Stop | None = None,
        input_tokens: int = 10,
        output_tokens: int | None = None,
    ) -> Reply:
        """Some text followed by tool calls (Anthropic's usual "let me check" turn)."""
        return cls(text, calls, stop, None, input_tokens, output_tokens)

    @classmethod
    def refuse(cls, refusal: str = "I can't help with that.", *, input_tokens: int = 10) -> Reply:
        """A refusal: OpenAI ``refusal`` text, Anthropic ``stop_reason: "refusal"``."""
        return cls("", (), "refusal", refusal, input_tokens, None)

    def completion_tokens(self) -> int:
        """``output_tokens``, or an estimate from the text and arguments."""
        if self.output_tokens is not None:
            return self.output_tokens
        size = len(self.content) + len(self.refusal or "")
        size += sum(len(call.name) + len(call.arguments_json()) for call in self.tool_calls)
        return max(1, size // 4)

    def is_truncated(self) -> bool:
        """Whether the turn was cut off by the token limit."""
        return self.stop == "length"


Script = Callable[[ProtocolName, Any], Reply]
"""A callable script: ``fn(protocol, request_json) -> Reply``, asked once per valid request."""


class ScriptError(Exception):
    """The test's script cannot answer (exhausted, raised, or asked for the impossible).

    The server answers such a request with HTTP 500 in the provider's format and remembers
    the problem; leaving the ``with FakeServer()`` block then raises it as an AssertionError.
    """


# -- errors and records ----------------------------------------------------------------------


class ApiError(Exception):
    """A rejection the fake API sends as-is: a status and the provider's JSON error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status}: {json.dumps(body)}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received, valid or not.

    Attributes:
        method: The HTTP method ("POST").
        path: The URL path without the query string.
        headers: The request headers, names in lower case.
        body: The parsed JSON body (``None`` when it was empty or not JSON).
        protocol: The protocol the path belongs to (``None`` for unknown paths).
        status: The HTTP status the server answered with.
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    protocol: ProtocolName | None
    status: int


def as_object(value: Any) -> dict[str, Any] | None:
    """``value`` typed as a JSON object, or ``None`` when it is not one."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def as_list(value: Any) -> list[Any] | None:
    """``value`` typed as a JSON array, or ``None`` when it is not one."""
    return cast("list[Any]", value) if isinstance(value, list) else None


def json_type_name(value: Any) -> str:
    """The JSON type name providers use in "expected X, but got Y" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def fragments(text: str, size: int) -> list[str]:
    """``text`` cut into pieces of ``size`` characters (at least one piece)."""
    if not text:
        return [""]
    return [text[start : start + size] for start in range(0, len(text), size)]


_WORDS = re.compile(r"\s*\S+|\s+")


def words(text: str) -> list[str]:
    """``text`` cut before each word, the way token streams usually arrive."""
    return _WORDS.findall(text) or [""]


# -- one HTTP exchange -----------------------------------------------------------------------


class Exchange:
    """The response side of one request, handed to a protocol handler.

    Send exactly one of: :meth:`send_json`, or :meth:`start_stream` followed by any number of
    :meth:`send_event` calls and :meth:`end_stream`.
    """

    def __init__(self, handler: _Handler, request_id: str, record: Callable[[int], None]) -> None:
        self._handler = handler
        self._record = record
        self.request_id = request_id
        self.status = 0

    def _begin(self, status: int) -> None:
        # Record before answering, so a client that sees the answer also sees the record.
        self.status = status
        self._record(status)
        self._handler.send_response(status)

    def send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        """Answer with one JSON document."""
        payload = json.dumps(body).encode()
        handler = self._handler
        self._begin(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
        handler.wfile.flush()

    def start_stream(self, headers: Mapping[str, str] | None = None) -> None:
        """Begin a ``text/event-stream`` answer, sent with chunked transfer encoding."""
        handler = self._handler
        self._begin(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()

    def send_event(self, data: Any, event: str | None = None) -> None:
        """Send one SSE event; ``data`` is JSON-encoded unless it is already a string."""
        text = data if isinstance(data, str) else json.dumps(data)
        frame = (f"event: {event}\n" if event else "") + f"data: {text}\n\n"
        self._write_chunk(frame.encode())

    def end_stream(self) -> None:
        """Finish the chunked stream (the connection stays open for the next request)."""
        self._write_chunk(b"")

    def _write_chunk(self, payload: bytes) -> None:
        wfile = self._handler.wfile
        wfile.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
        wfile.flush()


# -- the server ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Route:
    protocol: ProtocolName
    handle: Callable[[FakeServer, Exchange, Any, Mapping[str, str]], None]


_WORKERS_AI_PATH = re.compile(r"^/client/v4/accounts/(?P<account>[^/]+)/ai/run/(?P<model>.+)$")
_GEMINI_PATH = re.compile(
    r"^/v1(?:beta|alpha)?/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)


class FakeServer:
    """A local HTTP server speaking the OpenAI, Anthropic and Workers AI wire protocols.

    Use it as a context manager; it listens on ``127.0.0.1`` on a free port from ``__enter__``
    until ``__exit__``, which also raises any script problem (see :class:`ScriptError`).

    Args:
        strict_alternation: Reject Anthropic requests with two user (or two assistant)
            messages in a row, with the error the API used to send. The live API now merges
            such turns instead; keep this on to catch runners that build them by mistake.
        chat_tool_call_index: How streamed Chat Completions tool-call deltas carry ``index``:
            ``"normal"`` (OpenAI: each call its own index), ``"omit"`` (no ``index`` key, as
            some compatible servers do) or ``"repeat"`` (every call at index 0, each new call
            recognisable only by its ``id``).
        fragment_size: Characters per streamed tool-argument fragment.
        account_id: The Cloudflare account id in :attr:`workers_ai_base_url`.
    """

    def __init__(
        self,
        *,
        strict_alternation: bool = True,
        chat_tool_call_index: IndexMode = "normal",
        fragment_size: int = 8,
        account_id: str = DEFAULT_ACCOUNT_ID,
    ) -> None:
        self.strict_alternation = strict_alternation
        self.chat_tool_call_index: IndexMode = chat_tool_call_index
        self.fragment_size = fragment_size
        self.account_id = account_id
        self.requests: list[RecordedRequest] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._script_fn: Script | None = None
        self._counter = 0
        self._stored_responses: dict[str, list[dict[str, Any]]] = {}
        self._connections: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.failures:
            raise AssertionError("FakeServer script problems:\n  " + "\n  ".join(self.failures))

    def start(self) -> None:
        """Bind a free port and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("FakeServer is already running")
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections and wait for every handler thread."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None:
            return
        httpd.shutdown()
        thread.join()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        httpd.server_close()  # joins the handler threads
        self._httpd = None
        self._thread = None

    # -- addresses

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._httpd is None:
            raise RuntimeError("FakeServer is not running: use it in a `with` block")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """The ``base_url`` for ``openai.OpenAI`` (ends in ``/v1``)."""
        return f"{self.base_url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        """The ``base_url`` for ``anthropic.Anthropic`` (the SDK appends ``/v1/messages``)."""
        return self.base_url

    @property
    def gemini_base_url(self) -> str:
        """The ``base_url`` for ``google.genai.Client(http_options=...)`` (the SDK appends
        ``/{api_version}/models/{model}:generateContent``)."""
        return self.base_url

    @property
    def workers_ai_base_url(self) -> str:
        """``…/client/v4/accounts/{account_id}/ai/run``: append ``/{model}`` and POST."""
        return f"{self.base_url}/client/v4/accounts/{self.account_id}/ai/run"

    # -- scripting

    def script(self, replies: Script | Reply | list[Reply] | tuple[Reply, ...]) -> None:
        """Say what the model answers.

        A list (or one :class:`Reply`) is queued: each valid request takes the next reply,
        and scripting again appends. A callable replaces the queue and is asked for every
        valid request: ``fn(protocol, request_json) -> Reply``. Requests the server rejects
        (400/401) never consume a reply.
        """
        with self._lock:
            if callable(replies):
                self._script_fn = replies
                self._queue.clear()
            else:
                self._script_fn = None
                self._queue.extend([replies] if isinstance(replies, Reply) else replies)

    @property
    def pending_replies(self) -> int:
        """How many queued replies no request has taken yet."""
        with self._lock:
            return len(self._queue)

    def requests_for(self, protocol: ProtocolName) -> list[RecordedRequest]:
        """The recorded requests of one protocol, oldest first."""
        with self._lock:
            return [request for request in self.requests if request.protocol == protocol]

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request."""
        with self._lock:
            if not self.requests:
                raise LookupError("FakeServer has received no request")
            return self.requests[-1]

    def response_context(self, response_id: str) -> list[dict[str, Any]]:
        """A stored Responses API response's full item list: its context, then its output."""
        with self._lock:
            return list(self._stored_responses[response_id])

    # -- used by the protocol modules

    def next_reply(self, protocol: ProtocolName, body: Any) -> Reply:
        """The scripted answer to a valid request.

        Raises:
            ScriptError: the queue is empty, or the callable raised or returned no Reply.
        """
        with self._lock:
            script_fn = self._script_fn
            if script_fn is None:
                if not self._queue:
                    raise ScriptError(f"{protocol} request arrived but the script is exhausted")
                return self._queue.popleft()
        try:
            reply = script_fn(protocol, body)
        except Exception as error:
            raise ScriptError(f"the script raised {error!r}") from error
        if not isinstance(reply, Reply):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ScriptError(f"the script returned {reply!r}, not a Reply")
        return reply

    def new_id(self, prefix: str, separator: str = "_") -> str:
        """A fresh id such as ``call_fake0001`` (unique within this server)."""
        with self._lock:
            self._counter += 1
            return f"{prefix}{separator}fake{self._counter:04d}"

    def store_response(self, response_id: str, items: list[dict[str, Any]]) -> None:
        """Remember a Responses API response for ``previous_response_id``."""
        with self._lock:
            self._stored_responses[response_id] = items

    def stored_response(self, response_id: str) -> list[dict[str, Any]] | None:
        """A stored response's items, or ``None``."""
        with self._lock:
            found = self._stored_responses.get(response_id)
            return None if found is None else list(found)

    # -- internals used by the handler

    def _route(self, path: str) -> _Route | None:
        from . import _anthropic, _gemini, _openai_chat, _openai_responses, _workers_ai

        if path == "/v1/chat/completions":
            return _Route("openai_chat", _openai_chat.handle)
        if path == "/v1/responses":
            return _Route("openai_responses", _openai_responses.handle)
        if path == "/v1/messages":
            return _Route("anthropic", _anthropic.handle)
        if path == "/v1/messages/count_tokens":
            return _Route("anthropic", _anthropic.handle_count_tokens)
        if _WORKERS_AI_PATH.match(path):
            return _Route("workers_ai", _workers_ai.handle)
        gemini = _GEMINI_PATH.match(path)
        if gemini:
            streamed = gemini["method"] == "streamGenerateContent"
            return _Route("gemini", _gemini.handle_stream if streamed else _gemini.handle)
        return None

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _fail(self, message: str) -> None:
        with self._lock:
            self.failures.append(message)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops a burst of connections (a hundred
    # concurrent runs): they fail or wait for SYN retries.
    request_queue_size = 128
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response (the sync SDK stops reading a stream at
        # [DONE]) is normal for a server; anything else still goes to stderr.
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm on, the body waits
    # for the client's delayed ACK of the headers, about 40 ms per response on Linux.
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeServer:
        return cast("_HTTPServer", self.server).fake

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:  # pyright: ignore[reportPrivateUsage]
            self.fake._connections.add(self.connection)  # pyright: ignore[reportPrivateUsage]

    def finish(self) -> None:
        with self.fake._lock:  # pyright: ignore[reportPrivateUsage]
            self.fake._connections.discard(self.connection)  # pyright: ignore[reportPrivateUsage]
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.fake
        path = self.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = _INVALID_JSON
        route = fake._route(path)  # pyright: ignore[reportPrivateUsage]

        def record(status: int) -> None:
            fake._record(  # pyright: ignore[reportPrivateUsage]
                RecordedRequest(
                    self.command,
                    path,
                    headers,
                    None if body is _INVALID_JSON else body,
                    None if route is None else route.protocol,
                    status,
                )
            )

        exchange = Exchange(self, fake.new_id("req"), record)
        if route is None or self.command != "POST":
            exchange.send_json(
                404,
                {
                    "error": {
                        "message": f"Invalid URL ({self.command} {path})",
                        "type": "invalid_request_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
        else:
            try:
                route.handle(fake, exchange, body, headers)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            except Exception as error:  # a script problem, or a bug in the fake itself
                message = str(error) if isinstance(error, ScriptError) else repr(error)
                fake._fail(message)  # pyright: ignore[reportPrivateUsage]
                if exchange.status == 0:
                    exchange.send_json(500, _server_error(route.protocol, message))
                else:
                    self.close_connection = True

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class _InvalidJson:
    """Marks a body that was sent but is not JSON."""


_INVALID_JSON: Any = _InvalidJson()


def is_invalid_json(body: Any) -> bool:
    """Whether the request body was present but not valid JSON."""
    return body is _INVALID_JSON


def _server_error(protocol: ProtocolName, message: str) -> dict[str, Any]:
    text = f"FakeServer: {message}"
    if protocol == "anthropic":
        return {"type": "error", "error": {"type": "api_error", "message": text}}
    if protocol == "gemini":
        return {"error": {"code": 500, "message": text, "status": "INTERNAL"}}
    if protocol == "workers_ai":
        return {
            "result": None,
            "success": False,
            "errors": [{"code": 5000, "message": text}],
            "messages": [],
        }
    return {"error": {"message": text, "type": "server_error", "param": None, "code": None}}


def now() -> int:
    """The current Unix time in whole seconds (the providers' ``created`` fields)."""
    return int(time.time())


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, or ``None``."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
