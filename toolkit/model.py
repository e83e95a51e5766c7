"""The model protocol: what the runner sends a model, what comes back, and what a backend
implements to plug any provider in.

The runner's loop never sees a provider's wire format: it sends a ``ModelRequest`` and gets a
``ModelReply`` whose ``message`` is already in the provider's native shape (so history is
kept exactly as the provider wants it back). Backends translate with their codec, which they
expose as ``codec``; the runner asks that codec for everything else (user turns, history).
This module sits below ``toolkit.formats`` and the runner, so either may use its types (the
backend protocols name the codec type for the type checker only).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from toolkit.calls import ToolCall, ToolResult

if TYPE_CHECKING:
    from toolkit.formats import ConversationCodec

__all__ = [
    "AsyncModel",
    "ModelReply",
    "ModelRequest",
    "ReplyStop",
    "Step",
    "StopReason",
    "StreamDelta",
    "SyncModel",
    "ToolChoice",
    "Usage",
]

ToolChoice = Literal["auto", "none", "required"] | str
"""``"auto"``, ``"none"``, ``"required"``, or the name of the one tool the model must call."""

ReplyStop = Literal["end", "tool_calls", "length", "refusal", "pause", "content_filter", "other"]
"""Why the model stopped one reply, in neutral terms.

``end``: it answered; ``tool_calls``: it asked for calls; ``length``: cut off by the token
limit; ``refusal``: it refused; ``pause``: it paused a long turn (Anthropic ``pause_turn``)
and expects to be sent the conversation again; ``content_filter``: the provider withheld
output; ``other``: anything else the provider reported.
"""

StopReason = Literal[
    "end",
    "max_steps",
    "max_tool_calls",
    "deadline",
    "token_budget",
    "no_progress",
    "refusal",
    "content_filter",
    "length",
    "approval_required",
    "error",
]
"""Why a run ended."""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts, added up across requests."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input and output tokens together."""
        return self.input_tokens + self.output_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRequest:
    """One request of the loop, before any protocol is applied.

    Attributes:
        model: The model name (``None``: none given; backends of hosted APIs refuse that).
        messages: The conversation so far, in the backend's native message format.
        system: The system prompt, or ``None``.
        tools: Tool definitions, already rendered in the backend's format.
        tool_choice: What the model may or must do with the tools.
        parallel_tool_calls: Allow several calls in one reply (``None``: provider default).
        settings: Other model settings passed through unchanged (temperature, max_tokens...).
        timeout: Seconds the request may take (the run's deadline, when it has one);
            backends pass it to their client, and async drivers cancel the request after
            it. ``None``: the client's own timeout.
    """

    model: str | None
    messages: Sequence[Mapping[str, Any]]
    system: str | None = None
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: ToolChoice = "auto"
    parallel_tool_calls: bool | None = None
    settings: Mapping[str, Any] = field(default_factory=dict[str, Any])
    timeout: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelReply:
    """One reply of the model, neutral where the loop needs it, native where history does.

    Attributes:
        message: The assistant message (or Responses output items) to append to the
            history, in the backend's native format.
        text: The reply's text, joined.
        calls: The tool calls it asked for, in order.
        stop: Why the reply ended.
        usage: Tokens of this request.
        response_id: The provider's id for this response, when it has one (Responses API).
        raw: The provider's response object, untouched.
    """

    message: Any
    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    stop: ReplyStop = "end"
    usage: Usage = Usage()
    response_id: str | None = None
    raw: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamDelta:
    """A fragment of a reply as it streams (the runner turns these into events).

    Attributes:
        text: Text to append, or ``""``.
        call_index: For a tool-call fragment, which call of the reply it belongs to.
        call_id: The call's id, when this fragment reveals it.
        call_name: The call's tool name, when this fragment reveals it.
        arguments: A fragment of the call's JSON arguments.
    """

    text: str = ""
    call_index: int | None = None
    call_id: str | None = None
    call_name: str | None = None
    arguments: str = ""


@runtime_checkable
class SyncModel(Protocol):
    """What ``Runner.run`` and ``Runner.stream`` need from a backend, sync.

    ``codec`` is the protocol the backend speaks (``toolkit.formats.get_format("openai")``
    for Chat Completions shapes...): the runner renders the tools, builds user turns and
    keeps the history with it. ``complete`` answers one request; ``stream`` yields a
    ``StreamDelta`` per fragment and ends with the whole ``ModelReply``.
    """

    @property
    def codec(self) -> ConversationCodec: ...

    def complete(self, request: ModelRequest) -> ModelReply: ...

    def stream(self, request: ModelRequest) -> Iterator[StreamDelta | ModelReply]: ...


@runtime_checkable
class AsyncModel(Protocol):
    """What ``Runner.run_async`` and ``Runner.stream_async`` need: the async twin of
    ``SyncModel``."""

    @property
    def codec(self) -> ConversationCodec: ...

    async def complete_async(self, request: ModelRequest) -> ModelReply: ...

    def stream_async(self, request: ModelRequest) -> AsyncIterator[StreamDelta | ModelReply]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One model reply and the calls it led to.

    Attributes:
        reply: What the model sent.
        results: One result per call, in call order (empty when it answered).
        duration: Seconds for the request and the calls.
    """

    reply: ModelReply
    results: tuple[ToolResult, ...] = ()
    duration: float = 0.0

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """The calls the model asked for in this step (``reply.calls``)."""
        return self.reply.calls
