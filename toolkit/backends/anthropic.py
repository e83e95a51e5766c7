"""Anthropic Messages through the official ``anthropic`` client, sync or async.

The client is the caller's (configured, retried and closed by them); this backend only
translates with the Anthropic codec. The SDK is never imported here: the client is used by
duck typing, so ``AnthropicBedrock`` and ``AnthropicVertex`` clients work too.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar

from toolkit.backends._client import client_for
from toolkit.formats.anthropic import CODEC, AnthropicCodec

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from toolkit.model import ModelReply, ModelRequest, StreamDelta

__all__ = ["AnthropicMessages"]


class AnthropicMessages:
    """A backend over ``anthropic.Anthropic`` (``complete``, ``stream``) or
    ``anthropic.AsyncAnthropic`` (``complete_async``, ``stream_async``).

    It satisfies both ``toolkit.model.SyncModel`` and ``AsyncModel``; calling the methods
    of the other kind raises ``TypeError`` naming the client to use. Requests are built by
    ``AnthropicCodec.build_request`` (``max_tokens`` defaults to 4096; settings pass through
    as keyword arguments of ``messages.create``; those this SDK version has no parameter for,
    such as ``temperature`` in anthropic 2.x, go in ``extra_body``). SDK errors
    (``anthropic.APIError``...) are raised as they are.

    Args:
        client: An ``anthropic.Anthropic`` or ``anthropic.AsyncAnthropic`` (or any object
            with a compatible ``messages.create``).

    Raises:
        TypeError: ``client`` has no ``messages.create``.
    """

    needs_model: ClassVar[bool] = True
    """A runner over this backend must name the model."""

    native_output: ClassVar[bool] = True
    """A typed answer is asked for as ``output_config`` (structured outputs keep tools)."""

    def __init__(self, client: Any) -> None:
        create = getattr(getattr(client, "messages", None), "create", None)
        if not callable(create):
            raise TypeError(
                "AnthropicMessages needs an anthropic.Anthropic or anthropic.AsyncAnthropic "
                f"client; got {type(client).__qualname__}"
            )
        self.client = client
        # The SDK wraps create() in a plain-function decorator: look through it.
        function = inspect.unwrap(create)
        self.is_async = inspect.iscoroutinefunction(function)
        self._keywords = _keywords(function)

    def __repr__(self) -> str:
        return f"AnthropicMessages({type(self.client).__qualname__})"

    @property
    def codec(self) -> AnthropicCodec:
        """The Messages codec."""
        return CODEC

    def complete(self, request: ModelRequest) -> ModelReply:
        """Send ``request`` with the sync client and parse the ``Message``."""
        self._need(sync=True, method="complete")
        kwargs = self._kwargs(request, stream=False)
        return CODEC.parse_reply(client_for(self.client, request).messages.create(**kwargs))

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        """Send ``request`` with the async client and parse the ``Message``."""
        self._need(sync=False, method="complete_async")
        kwargs = self._kwargs(request, stream=False)
        return CODEC.parse_reply(await client_for(self.client, request).messages.create(**kwargs))

    def stream(self, request: ModelRequest) -> Iterator[StreamDelta | ModelReply]:
        """Stream ``request`` with the sync client: a ``StreamDelta`` per text or
        tool-argument fragment, then the finished ``ModelReply``. The HTTP stream is closed
        when the iterator ends or is closed early."""
        self._need(sync=True, method="stream")
        return self._stream(client_for(self.client, request), self._kwargs(request, stream=True))

    def stream_async(self, request: ModelRequest) -> AsyncIterator[StreamDelta | ModelReply]:
        """The async twin of ``stream``, with the async client."""
        self._need(sync=False, method="stream_async")
        client = client_for(self.client, request)
        return self._stream_async(client, self._kwargs(request, stream=True))

    def _stream(self, client: Any, kwargs: dict[str, Any]) -> Iterator[StreamDelta | ModelReply]:
        assembler = CODEC.stream_assembler()
        with client.messages.create(**kwargs) as events:
            for event in events:
                yield from assembler.feed(event)
        yield assembler.reply()

    async def _stream_async(
        self, client: Any, kwargs: dict[str, Any]
    ) -> AsyncIterator[StreamDelta | ModelReply]:
        assembler = CODEC.stream_assembler()
        events = await client.messages.create(**kwargs)
        async with events:
            async for event in events:
                for delta in assembler.feed(event):
                    yield delta
        yield assembler.reply()

    def _kwargs(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        kwargs = CODEC.build_request(request)
        kwargs.pop("stream", None)
        if self._keywords is not None:
            extra = {key: kwargs.pop(key) for key in list(kwargs) if key not in self._keywords}
            if extra:
                kwargs["extra_body"] = {**extra, **(kwargs.get("extra_body") or {})}
        if stream:
            kwargs["stream"] = True
        if request.timeout is not None and "timeout" not in kwargs:
            kwargs["timeout"] = max(request.timeout, 0.001)  # the run's deadline
        return kwargs

    def _need(self, *, sync: bool, method: str) -> None:
        if sync and self.is_async:
            raise TypeError(
                f"AnthropicMessages.{method}() needs a sync anthropic.Anthropic client, but "
                "this one wraps an AsyncAnthropic: use complete_async()/stream_async() "
                "(Runner.run_async), or pass anthropic.Anthropic()"
            )
        if not sync and not self.is_async:
            raise TypeError(
                f"AnthropicMessages.{method}() needs an anthropic.AsyncAnthropic client, but "
                "this one wraps a sync Anthropic: use complete()/stream() (Runner.run), "
                "or pass anthropic.AsyncAnthropic()"
            )


def _keywords(function: Any) -> frozenset[str] | None:
    """The keyword parameters of ``create``, or ``None`` when it takes any (``**kwargs``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return frozenset(p.name for p in parameters)
