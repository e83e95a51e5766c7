"""OpenAI backends: Chat Completions and Responses, over the official ``openai`` client.

Each backend is a thin driver: the codec builds the request and reads the reply (or
assembles the stream), the backend only calls ``client.chat.completions.create`` or
``client.responses.create``. Both work with ``openai.OpenAI`` (``complete``, ``stream``) and
``openai.AsyncOpenAI`` (``complete_async``, ``stream_async``), and with any OpenAI-compatible server
(vLLM, SGLang, Together, gateways) through the client's ``base_url`` alone.

The SDK is never imported here: the client is used by duck typing.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from typing import Any, ClassVar

from toolkit.backends._client import client_for
from toolkit.formats.openai_chat import CODEC as CHAT
from toolkit.formats.openai_chat import OpenAIChatCodec
from toolkit.formats.openai_responses import CODEC as RESPONSES
from toolkit.formats.openai_responses import OpenAIResponsesCodec
from toolkit.model import ModelReply, ModelRequest, StreamDelta

__all__ = ["OpenAIChat", "OpenAIResponses"]

_ADVICE = {
    "complete": "a sync client (openai.OpenAI); use run_async with AsyncOpenAI",
    "stream": "a sync client (openai.OpenAI); use stream_async with AsyncOpenAI",
    "complete_async": "an async client (openai.AsyncOpenAI); use run with OpenAI",
    "stream_async": "an async client (openai.AsyncOpenAI); use stream with OpenAI",
}


def _is_async(method: Callable[..., Any]) -> bool:
    """Whether ``method`` is a coroutine function, looking through ``functools.wraps``
    wrappers (the SDK wraps ``AsyncCompletions.create`` in a plain function). Asked on
    every request, so answered once per function."""
    function = getattr(method, "__func__", method)
    try:
        return _function_is_async(function)
    except TypeError:  # an unhashable callable: ask it directly
        return _function_is_async.__wrapped__(function)


@functools.lru_cache(maxsize=64)
def _function_is_async(function: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        inspect.unwrap(function)
    )


def _checked(owner: str, action: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` when it suits ``action`` (sync or async), else a ``TypeError``."""
    wants_async = action.endswith("_async")
    if _is_async(method) != wants_async:
        raise TypeError(f"{owner}.{action} needs {_ADVICE[action]}")
    return method


def _sync_result(owner: str, action: str, result: Any) -> Any:
    """``result``, refusing an awaitable (a sync-looking wrapper around an async client)."""
    if inspect.isawaitable(result):
        close = getattr(result, "close", None)
        if callable(close):
            close()  # never awaited: close it so Python does not warn
        raise TypeError(f"{owner}.{action} needs {_ADVICE[action]}")
    return result


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


async def _close_async(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        result = close()
        if inspect.isawaitable(result):
            await result


def _with_timeout(kwargs: dict[str, Any], request: ModelRequest) -> dict[str, Any]:
    """The SDK's per-request ``timeout`` from the run's deadline (settings may set one)."""
    if request.timeout is not None and "timeout" not in kwargs:
        kwargs["timeout"] = max(request.timeout, 0.001)
    return kwargs


class OpenAIChat:
    """Chat Completions through an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` client.

    ```python
    model = OpenAIChat(openai.OpenAI())  # or OpenAI(base_url="http://localhost:8000/v1")
    reply = model.complete(ModelRequest(model="gpt-4.1-mini", messages=[...]))
    ```

    Streams ask for ``stream_options={"include_usage": True}`` so streamed replies carry
    their usage too (settings may override it).

    Attributes:
        client: An ``openai.OpenAI`` (for ``complete`` / ``stream``) or
            ``openai.AsyncOpenAI`` (for ``complete_async`` / ``stream_async``), or anything
            with the same ``chat.completions.create``.
    """

    __slots__ = ("client",)

    needs_model: ClassVar[bool] = True
    """A runner over this backend must name the model."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def native_output(self) -> bool:
        """Whether a typed answer is asked for as a ``response_format``: on OpenAI's own
        API, where the model keeps calling tools with one. OpenAI-compatible servers often
        constrain the whole reply to the format (llama.cpp's grammar), so no tool is ever
        called there: a ``final_answer`` tool is used instead."""
        base_url = str(getattr(self.client, "base_url", ""))
        return base_url.startswith("https://api.openai.com/")

    def __repr__(self) -> str:
        return f"OpenAIChat({type(self.client).__name__})"

    @property
    def codec(self) -> OpenAIChatCodec:
        """The Chat Completions codec."""
        return CHAT

    def complete(self, request: ModelRequest) -> ModelReply:
        """One completion, with a sync client.

        Raises:
            TypeError: the client is async.
        """
        create = _checked(
            "OpenAIChat", "complete", client_for(self.client, request).chat.completions.create
        )
        kwargs = _with_timeout(CHAT.build_request(request), request)
        response = _sync_result("OpenAIChat", "complete", create(**kwargs))
        return CHAT.parse_reply(response)

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        """One completion, with an async client.

        Raises:
            TypeError: the client is sync.
        """
        create = _checked(
            "OpenAIChat", "complete_async", client_for(self.client, request).chat.completions.create
        )
        kwargs = _with_timeout(CHAT.build_request(request), request)
        return CHAT.parse_reply(await create(**kwargs))

    def stream(self, request: ModelRequest) -> Generator[StreamDelta | ModelReply, None, None]:
        """One streamed completion, with a sync client: a ``StreamDelta`` per fragment, then
        the assembled ``ModelReply``. The HTTP stream is closed however iteration ends.

        Raises:
            TypeError: the client is async (raised here, before iterating).
        """
        create = _checked(
            "OpenAIChat", "stream", client_for(self.client, request).chat.completions.create
        )
        return self._stream(create, self._stream_request(request))

    def stream_async(self, request: ModelRequest) -> AsyncGenerator[StreamDelta | ModelReply, None]:
        """One streamed completion, with an async client (see ``stream``).

        Raises:
            TypeError: the client is sync (raised here, before iterating).
        """
        create = _checked(
            "OpenAIChat", "stream_async", client_for(self.client, request).chat.completions.create
        )
        return self._stream_async(create, self._stream_request(request))

    @staticmethod
    def _stream_request(request: ModelRequest) -> dict[str, Any]:
        kwargs = _with_timeout(CHAT.build_request(request), request)
        options: Mapping[str, Any] = kwargs.get("stream_options") or {}
        kwargs["stream"] = True
        kwargs["stream_options"] = {"include_usage": True, **options}
        return kwargs

    @staticmethod
    def _stream(
        create: Callable[..., Any], kwargs: dict[str, Any]
    ) -> Generator[StreamDelta | ModelReply, None, None]:
        stream = _sync_result("OpenAIChat", "stream", create(**kwargs))
        assembler = CHAT.stream_assembler()
        try:
            for chunk in stream:
                yield from assembler.feed(chunk)
        finally:
            _close(stream)
        yield assembler.reply()

    @staticmethod
    async def _stream_async(
        create: Callable[..., Any], kwargs: dict[str, Any]
    ) -> AsyncGenerator[StreamDelta | ModelReply, None]:
        stream = await create(**kwargs)
        assembler = CHAT.stream_assembler()
        try:
            async for chunk in stream:
                for delta in assembler.feed(chunk):
                    yield delta
        finally:
            await _close_async(stream)
        yield assembler.reply()


class OpenAIResponses:
    """The Responses API through an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` client.

    By default every request sends the whole history as ``input`` (stateless: it works with
    ``store=False`` and across processes). With ``use_previous_response_id=True`` the
    backend remembers its last response: when the next request's history starts with
    exactly the items that response covered (its input and its output), only the new items
    are sent, with ``previous_response_id``, and the API supplies the rest. Any other
    history (a different conversation, an edited one, ``store=False`` or an explicit
    ``previous_response_id`` in the settings) is sent whole. The memory is one slot per
    backend, so alternating conversations on one backend just send whole histories.

    Attributes:
        client: An ``openai.OpenAI`` (for ``complete`` / ``stream``) or
            ``openai.AsyncOpenAI`` (for ``complete_async`` / ``stream_async``), or anything
            with the same ``responses.create``.
        use_previous_response_id: Continue the last response server-side instead of
            resending the history it covered.
    """

    __slots__ = ("_covered", "_last_id", "client", "use_previous_response_id")

    needs_model: ClassVar[bool] = True
    """A runner over this backend must name the model."""

    native_output: ClassVar[bool] = True
    """A typed answer is asked for as ``text.format`` (the Responses API keeps tools)."""

    def __init__(self, client: Any, *, use_previous_response_id: bool = False) -> None:
        self.client = client
        self.use_previous_response_id = use_previous_response_id
        self._last_id: str | None = None
        self._covered: list[Any] = []  # the history the last response ended, copied

    def __repr__(self) -> str:
        chained = ", use_previous_response_id=True" if self.use_previous_response_id else ""
        return f"OpenAIResponses({type(self.client).__name__}{chained})"

    @property
    def codec(self) -> OpenAIResponsesCodec:
        """The Responses codec."""
        return RESPONSES

    def complete(self, request: ModelRequest) -> ModelReply:
        """One response, with a sync client.

        Raises:
            TypeError: the client is async.
        """
        create = _checked(
            "OpenAIResponses", "complete", client_for(self.client, request).responses.create
        )
        result = create(**self._build(request))
        reply = RESPONSES.parse_reply(_sync_result("OpenAIResponses", "complete", result))
        return self._remember(request, reply)

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        """One response, with an async client.

        Raises:
            TypeError: the client is sync.
        """
        create = _checked(
            "OpenAIResponses", "complete_async", client_for(self.client, request).responses.create
        )
        reply = RESPONSES.parse_reply(await create(**self._build(request)))
        return self._remember(request, reply)

    def stream(self, request: ModelRequest) -> Generator[StreamDelta | ModelReply, None, None]:
        """One streamed response, with a sync client: a ``StreamDelta`` per fragment, then
        the assembled ``ModelReply``. The HTTP stream is closed however iteration ends.

        Raises:
            TypeError: the client is async (raised here, before iterating).
        """
        create = _checked(
            "OpenAIResponses", "stream", client_for(self.client, request).responses.create
        )
        return self._stream(create, request)

    def stream_async(self, request: ModelRequest) -> AsyncGenerator[StreamDelta | ModelReply, None]:
        """One streamed response, with an async client (see ``stream``).

        Raises:
            TypeError: the client is sync (raised here, before iterating).
        """
        create = _checked(
            "OpenAIResponses", "stream_async", client_for(self.client, request).responses.create
        )
        return self._stream_async(create, request)

    def _stream(
        self, create: Callable[..., Any], request: ModelRequest
    ) -> Generator[StreamDelta | ModelReply, None, None]:
        stream = _sync_result("OpenAIResponses", "stream", create(**self._build(request, True)))
        assembler = RESPONSES.stream_assembler()
        try:
            for event in stream:
                yield from assembler.feed(event)
        finally:
            _close(stream)
        yield self._remember(request, assembler.reply())

    async def _stream_async(
        self, create: Callable[..., Any], request: ModelRequest
    ) -> AsyncGenerator[StreamDelta | ModelReply, None]:
        stream = await create(**self._build(request, True))
        assembler = RESPONSES.stream_assembler()
        try:
            async for event in stream:
                for delta in assembler.feed(event):
                    yield delta
        finally:
            await _close_async(stream)
        yield self._remember(request, assembler.reply())

    def _build(self, request: ModelRequest, stream: bool = False) -> dict[str, Any]:
        """The request's kwargs, continuing the last response when its history extends it."""
        skip = self._continued(request)
        if skip:
            request = dataclasses.replace(request, messages=request.messages[skip:])
        kwargs = _with_timeout(RESPONSES.build_request(request), request)
        if skip:
            kwargs["previous_response_id"] = self._last_id
        if stream:
            kwargs["stream"] = True
        return kwargs

    def _continued(self, request: ModelRequest) -> int:
        """How many leading history items the last response already holds (0: none)."""
        if not self._chains(request) or self._last_id is None:
            return 0
        covered = len(self._covered)
        messages: Sequence[Any] = request.messages
        if len(messages) <= covered or list(messages[:covered]) != self._covered:
            return 0
        return covered

    def _chains(self, request: ModelRequest) -> bool:
        settings = request.settings
        return (
            self.use_previous_response_id
            and settings.get("store", True) is not False
            and "previous_response_id" not in settings
        )

    def _remember(self, request: ModelRequest, reply: ModelReply) -> ModelReply:
        """Keep the reply's id and the history it ends, for the next request."""
        if self._chains(request) and reply.response_id is not None:
            self._last_id = reply.response_id
            self._covered = copy.deepcopy([*request.messages, *reply.message])
        return reply
