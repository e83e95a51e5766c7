"""Cloudflare Workers AI over its REST API, with ``httpx2`` (imported on first use).

``POST {base_url}/accounts/{account_id}/ai/run/{model}`` with a Bearer API token; answers come
in Cloudflare's v4 envelope ``{"result", "success", "errors", "messages"}``, or as SSE
``data: {...}`` events ending in ``data: [DONE]`` when the body asks for ``"stream": true``.
https://developers.cloudflare.com/api/resources/ai/methods/run/
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar, cast

from toolkit.errors import ModelError
from toolkit.formats.workers_ai import CODEC, WorkersAICodec
from toolkit.model import StreamDelta

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from types import TracebackType

    import httpx2

    from toolkit.model import ModelReply, ModelRequest

__all__ = ["DEFAULT_BASE_URL", "WorkersAI"]

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"


class WorkersAI:
    """A backend for Workers AI text-generation models, sync and async.

    The model (``ModelRequest.model``, e.g. ``"@cf/meta/llama-3.3-70b-instruct-fp8-fast"``)
    goes in the URL; the body is ``WorkersAICodec.build_request``'s. Without
    ``http_client`` a client is made on first use and closed by ``close()`` (or the ``with``
    block); without ``async_http_client`` each async request opens its own, so the backend
    can serve several event loops. Clients passed in are used as they are and never closed.

    Args:
        account_id: The Cloudflare account id.
        api_token: An API token with Workers AI permission.
        base_url: The API root, up to ``/client/v4``.
        http_client: An ``httpx2.Client`` to send sync requests with.
        async_http_client: An ``httpx2.AsyncClient`` to send async requests with.
        timeout: Seconds for the clients this backend makes.

    Errors: an HTTP error status, ``"success": false`` or an error event raise
    ``toolkit.errors.ModelError`` with Cloudflare's message, ``status`` and ``errors``;
    network failures raise httpx2's own exceptions.

    Raises:
        ValueError: ``api_token`` is empty.
    """

    needs_model: ClassVar[bool] = True
    """A runner over this backend must name the model (it is part of the URL)."""

    def __init__(
        self,
        account_id: str,
        api_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http_client: httpx2.Client | None = None,
        async_http_client: httpx2.AsyncClient | None = None,
        timeout: float = 60.0,
    ) -> None:
        if not api_token.strip():
            raise ValueError("WorkersAI: api_token is empty")
        self.account_id = account_id
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._api_token = api_token
        self._http_client = http_client
        self._async_http_client = async_http_client
        self._owned: httpx2.Client | None = None

    def __repr__(self) -> str:
        return f"WorkersAI(account_id={self.account_id!r}, base_url={self.base_url!r})"

    @property
    def codec(self) -> WorkersAICodec:
        """The Workers AI codec."""
        return CODEC

    def url(self, model: str | None) -> str:
        """Where requests for ``model`` are sent.

        Raises:
            ValueError: no model name.
        """
        if not model:
            raise ValueError(
                "workers-ai: the request has no model name; pass Runner(..., model=...)"
            )
        return f"{self.base_url}/accounts/{self.account_id}/ai/run/{model}"

    # -- sync

    def complete(self, request: ModelRequest) -> ModelReply:
        """Run ``request`` and parse the answer."""
        body = CODEC.build_request(request)
        body.pop("stream", None)
        response = self._client().post(
            self.url(request.model), json=body, headers=self._headers(), **_timeout(request)
        )
        return CODEC.parse_reply(_envelope(response.status_code, response.content))

    def stream(self, request: ModelRequest) -> Iterator[StreamDelta | ModelReply]:
        """Run ``request`` streamed: a ``StreamDelta`` per fragment, then the ``ModelReply``.

        A model that answers a streamed request with plain JSON (some do) is read whole.
        """
        body = CODEC.build_request(request)
        body["stream"] = True
        with self._client().stream(
            "POST", self.url(request.model), json=body, headers=self._headers(), **_timeout(request)
        ) as response:
            if response.status_code >= 400 or not _is_sse(response):
                yield from _whole(_envelope(response.status_code, response.read()))
                return
            assembler = CODEC.stream_assembler()
            events = _Events()
            for line in response.iter_lines():
                data = events.line(line)
                if data == "[DONE]":
                    break
                if data is not None:
                    yield from assembler.feed(_event(data))
        yield assembler.reply()

    def close(self) -> None:
        """Close the HTTP client this backend made (not one passed in)."""
        if self._owned is not None:
            self._owned.close()
            self._owned = None

    def __enter__(self) -> WorkersAI:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- async

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        """Run ``request`` with the async client and parse the answer."""
        body = CODEC.build_request(request)
        body.pop("stream", None)
        url, headers = self.url(request.model), self._headers()
        options = _timeout(request)
        if self._async_http_client is not None:
            response = await self._async_http_client.post(
                url, json=body, headers=headers, **options
            )
        else:
            client = self._new_async_client()
            async with client:
                response = await client.post(url, json=body, headers=headers, **options)
        return CODEC.parse_reply(_envelope(response.status_code, response.content))

    def stream_async(self, request: ModelRequest) -> AsyncIterator[StreamDelta | ModelReply]:
        """The async twin of ``stream``."""
        body = CODEC.build_request(request)
        body["stream"] = True
        return self._stream_async(self.url(request.model), body, _timeout(request))

    async def _stream_async(
        self, url: str, body: dict[str, Any], options: dict[str, Any]
    ) -> AsyncIterator[StreamDelta | ModelReply]:
        if self._async_http_client is not None:
            async for item in self._stream_with(self._async_http_client, url, body, options):
                yield item
            return
        client = self._new_async_client()
        async with client:
            async for item in self._stream_with(client, url, body, options):
                yield item

    async def _stream_with(
        self, client: httpx2.AsyncClient, url: str, body: dict[str, Any], options: dict[str, Any]
    ) -> AsyncIterator[StreamDelta | ModelReply]:
        headers = self._headers()
        async with client.stream("POST", url, json=body, headers=headers, **options) as response:
            if response.status_code >= 400 or not _is_sse(response):
                for item in _whole(_envelope(response.status_code, await response.aread())):
                    yield item
                return
            assembler = CODEC.stream_assembler()
            events = _Events()
            async for line in response.aiter_lines():
                data = events.line(line)
                if data == "[DONE]":
                    break
                if data is not None:
                    for delta in assembler.feed(_event(data)):
                        yield delta
        yield assembler.reply()

    # -- plumbing

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_token}"}

    def _client(self) -> httpx2.Client:
        if self._http_client is not None:
            return self._http_client
        if self._owned is None:
            import httpx2

            self._owned = httpx2.Client(timeout=self.timeout)
        return self._owned

    def _new_async_client(self) -> httpx2.AsyncClient:
        import httpx2

        return httpx2.AsyncClient(timeout=self.timeout)


def _timeout(request: ModelRequest) -> dict[str, Any]:
    """The request's own timeout (the run's deadline), as httpx2 takes it."""
    if request.timeout is None:
        return {}
    return {"timeout": max(request.timeout, 0.001)}


class _Events:
    """SSE framing, sans-I/O: feed lines, get each event's ``data`` when it ends."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def line(self, line: str) -> str | None:
        line = line.rstrip("\r\n")
        if not line:  # a blank line ends the event
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data = []
            return data
        if line.startswith("data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None  # comments, event:, id: and retry: lines carry nothing we use


def _is_sse(response: httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _event(data: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as error:
        raise ModelError(f"workers-ai: stream event is not JSON: {data[:200]!r}") from error


def _envelope(status: int, content: bytes) -> Any:
    """The parsed JSON answer, or ``ModelError`` for an HTTP error or a failure envelope."""
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = None
    envelope = cast("dict[str, Any]", body) if isinstance(body, dict) else {}
    errors: Any = envelope.get("errors")
    if status < 400 and isinstance(body, dict) and envelope.get("success") is not False:
        return envelope
    if isinstance(errors, list) and errors:
        described = "; ".join(_describe_error(error) for error in cast("list[Any]", errors))
    elif body is None:
        described = content[:200].decode("utf-8", "replace") or "(empty body)"
    else:
        described = json.dumps(body)[:200]
    where = f"HTTP {status}" if status >= 400 else "the request failed"
    raise ModelError(
        f"workers-ai: {where}: {described}", status=status, errors=errors if errors else body
    )


def _describe_error(error: Any) -> str:
    if isinstance(error, dict):
        entry = cast("dict[str, Any]", error)
        message = entry.get("message", entry)
        return f"{message} (code {entry['code']})" if "code" in entry else str(message)
    return str(error)


def _whole(response: Any) -> Iterator[StreamDelta | ModelReply]:
    """A whole answer to a streamed request, replayed as fragments and the reply."""
    reply = CODEC.parse_reply(response)
    if reply.text:
        yield StreamDelta(text=reply.text)
    for position, call in enumerate(reply.calls):
        arguments = call.arguments
        yield StreamDelta(
            call_index=position,
            call_id=call.id,
            call_name=call.name,
            arguments=arguments if isinstance(arguments, str) else json.dumps(arguments or {}),
        )
    yield reply
