"""Google Gemini through the official ``google-genai`` client, sync and async.

The client is the caller's (configured, retried and closed by them); this backend only
translates with the Gemini codec. ``genai.Client`` carries both halves (``client.models`` and
``client.aio.models``), so one backend over it serves ``Runner.run`` and ``Runner.run_async``
alike. The SDK is imported only to learn which settings its config takes, on the first
request: an object with the same ``models`` works without it.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.formats.gemini import CODEC, GeminiCodec

if TYPE_CHECKING:
    from toolkit.model import ModelReply, ModelRequest, StreamDelta

__all__ = ["GeminiBackend"]

# Why a method cannot run on this client, and what to do instead.
_ADVICE = {
    "sync": "a sync client: pass google.genai.Client (not client.aio), or use run_async",
    "async": "an async client: pass google.genai.Client or its .aio, or use run",
}


class GeminiBackend:
    """A backend over ``google.genai.Client`` (``complete`` / ``stream`` through
    ``client.models``, ``complete_async`` / ``stream_async`` through ``client.aio.models``),
    or over ``client.aio`` alone (async only).

    Requests are built by ``GeminiCodec.build_request`` and passed to
    ``generate_content(model=..., contents=..., config=...)`` as the plain dicts the SDK
    reads, in the REST API's camelCase: the system instruction, tools, tool config and the
    generation settings the SDK's config knows go in ``config``; settings it does not know
    (newer than the installed SDK) go in ``config.http_options.extra_body``, under
    ``generationConfig``, as they are. The SDK's automatic function calling is turned off:
    the runner runs the tools. ``ModelRequest.timeout`` becomes the request's own
    ``http_options.timeout`` (milliseconds). SDK errors (``google.genai.errors.APIError``...)
    are raised as they are.

    Args:
        client: A ``google.genai.Client``, its ``.aio`` (an ``AsyncClient``), or any object
            with a compatible ``models.generate_content``.

    Raises:
        TypeError: ``client`` has no ``models.generate_content``.
    """

    needs_model: ClassVar[bool] = True
    """A runner over this backend must name the model."""

    def __init__(self, client: Any) -> None:
        models: Any = getattr(client, "models", None)
        if not callable(getattr(models, "generate_content", None)):
            raise TypeError(
                "GeminiBackend needs a google.genai.Client (or its .aio); got "
                f"{type(client).__qualname__}"
            )
        self.client = client
        aio_models = getattr(getattr(client, "aio", None), "models", None)
        if callable(getattr(aio_models, "generate_content", None)):
            self._sync_models, self._async_models = models, aio_models
        elif _is_async(models.generate_content):
            self._sync_models, self._async_models = None, models
        else:
            self._sync_models, self._async_models = models, None

    def __repr__(self) -> str:
        return f"GeminiBackend({type(self.client).__qualname__})"

    @property
    def codec(self) -> GeminiCodec:
        """The Gemini codec."""
        return CODEC

    def complete(self, request: ModelRequest) -> ModelReply:
        """Send ``request`` with ``client.models`` and parse the response.

        Raises:
            TypeError: the client is async only.
        """
        models = self._models("complete", asynchronous=False)
        return CODEC.parse_reply(models.generate_content(**_arguments(request)))

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        """Send ``request`` with ``client.aio.models`` and parse the response.

        Raises:
            TypeError: the client is sync only.
        """
        models = self._models("complete_async", asynchronous=True)
        return CODEC.parse_reply(await models.generate_content(**_arguments(request)))

    def stream(self, request: ModelRequest) -> Generator[StreamDelta | ModelReply, None, None]:
        """Stream ``request`` with ``client.models``: a ``StreamDelta`` per text fragment
        or call, then the finished ``ModelReply``. The HTTP stream is closed however
        iteration ends.

        Raises:
            TypeError: the client is async only (raised here, before iterating).
        """
        models = self._models("stream", asynchronous=False)
        return _stream(models, _arguments(request))

    def stream_async(self, request: ModelRequest) -> AsyncGenerator[StreamDelta | ModelReply, None]:
        """The async twin of ``stream``, with ``client.aio.models``.

        Raises:
            TypeError: the client is sync only (raised here, before iterating).
        """
        models = self._models("stream_async", asynchronous=True)
        return _stream_async(models, _arguments(request))

    def _models(self, method: str, *, asynchronous: bool) -> Any:
        models = self._async_models if asynchronous else self._sync_models
        if models is None:
            need = _ADVICE["async" if asynchronous else "sync"]
            raise TypeError(f"GeminiBackend.{method}() needs {need}")
        return models


def _stream(models: Any, kwargs: dict[str, Any]) -> Generator[StreamDelta | ModelReply, None, None]:
    assembler = CODEC.stream_assembler()
    chunks = models.generate_content_stream(**kwargs)
    try:
        for chunk in chunks:
            yield from assembler.feed(chunk)
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
    yield assembler.reply()


async def _stream_async(
    models: Any, kwargs: dict[str, Any]
) -> AsyncGenerator[StreamDelta | ModelReply, None]:
    assembler = CODEC.stream_assembler()
    chunks = await models.generate_content_stream(**kwargs)
    try:
        async for chunk in chunks:
            for delta in assembler.feed(chunk):
                yield delta
    finally:
        aclose: Any = getattr(chunks, "aclose", None)  # an async generator's
        if aclose is not None:
            await aclose()
    yield assembler.reply()


def _arguments(request: ModelRequest) -> dict[str, Any]:
    """The keyword arguments of ``generate_content`` for ``request``.

    The SDK's ``GenerateContentConfig`` is the REST request's fields and its
    ``generationConfig`` flattened into one object, and it refuses a key it does not know;
    the SDK writes the REST body back from it.
    """
    body = CODEC.build_request(request)
    contents = body.pop("contents")
    generation: dict[str, Any] = body.pop("generationConfig", {})
    known = _config_fields()
    unknown = {k: v for k, v in generation.items() if known is not None and k not in known}
    config: dict[str, Any] = {k: v for k, v in generation.items() if k not in unknown}
    config.update(body)
    http_options: dict[str, Any] = {}
    if unknown:
        http_options["extraBody"] = {"generationConfig": unknown}
    if request.timeout is not None:  # the run's deadline, in the SDK's milliseconds
        http_options["timeout"] = max(1, math.ceil(request.timeout * 1000))
    if http_options:
        config["httpOptions"] = {**_plain_dict(config.get("httpOptions")), **http_options}
    config["automaticFunctionCalling"] = {"disable": True}  # toolkit runs the tools
    return {"model": request.model, "contents": contents, "config": config}


def _plain_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownArgumentType]


@functools.cache
def _config_fields() -> frozenset[str] | None:
    """The keys ``GenerateContentConfig`` takes, in both spellings (``max_output_tokens``,
    ``maxOutputTokens``); ``None`` (take them all) without the SDK (a look-alike client)."""
    try:
        from google.genai import types  # the SDK, on the first request
    except ImportError:
        return None
    fields = types.GenerateContentConfig.model_fields
    return frozenset({*fields, *(f.alias for f in fields.values() if f.alias)})


def _is_async(method: Any) -> bool:
    function = getattr(method, "__func__", method)
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        inspect.unwrap(function)
    )
