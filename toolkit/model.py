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

import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict, cast, runtime_checkable

from toolkit.calls import ToolCall, ToolResult

if TYPE_CHECKING:
    from toolkit.formats import ConversationCodec

__all__ = [
    "AsyncModel",
    "ModelReply",
    "ModelRequest",
    "ModelSettings",
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

ReplyStop = Literal[
    "end", "tool_calls", "length", "refusal", "pause", "content_filter", "malformed_call", "other"
]
"""Why the model stopped one reply, in neutral terms.

``end``: it answered; ``tool_calls``: it asked for calls; ``length``: cut off by the token
limit; ``refusal``: it refused; ``pause``: it paused a long turn (Anthropic ``pause_turn``)
and expects to be sent the conversation again; ``content_filter``: the provider withheld
output; ``malformed_call``: the provider could not parse the call the model tried to make
(Gemini's ``MALFORMED_FUNCTION_CALL``), so the reply carries none; the runner asks the
model to call again; ``other``: anything else the provider reported.
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
    "timeout",
    "max_retries",
    "error",
]
"""Why a run ended: ``end`` when the model answered; otherwise the limit, the provider's
verdict or the failure that ended it (``RunResult.explanation`` says it in a sentence)."""


class ModelSettings(TypedDict, total=False):
    """The settings that mean the same on every backend (``Runner(settings=...)``).

    Each backend's codec writes them in its protocol's spelling (``max_tokens`` is
    ``max_output_tokens`` on the Responses API, ``stop`` is ``stop_sequences`` on Anthropic),
    and refuses one its protocol has no equivalent for. Any other key is the provider's own
    and passes through unchanged (``reasoning``, ``extra_body``, ``top_k``...).

    Attributes:
        max_tokens: Tokens the model may generate in one reply. Anthropic requires a
            value: 4096 when none is given.
        temperature: Sampling temperature.
        top_p: Nucleus sampling mass.
        stop: A sequence (or several) that ends the reply.
        seed: A seed for reproducible sampling, where the provider supports it.
        timeout: Seconds one request may take, retries included; the request is
            cancelled after it and the run ends with ``stop_reason == "timeout"``.
    """

    max_tokens: int
    temperature: float
    top_p: float
    stop: str | Sequence[str]
    seed: int
    timeout: float


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` as a new dict, once the neutral ones are checked.

    Raises:
        TypeError: a setting name is not a string, or a neutral setting has the wrong type.
        ValueError: a neutral setting is out of range.
    """
    checked: dict[str, Any] = {}
    for key, value in settings.items():
        if not isinstance(cast("object", key), str):
            raise TypeError(f"setting names are strings; got {key!r}")
        problem = _SETTING_CHECKS[key](value) if key in _SETTING_CHECKS else None
        if problem is not None:
            raise (TypeError if problem.startswith("must be a ") else ValueError)(
                f"settings[{key!r}] {problem}, got {value!r}"
            )
        checked[key] = value
    return checked


def _whole(least: int) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        return None if value >= least else f"must be at least {least}"

    return check


def _number(low: float, high: float | None, *, open_low: bool = False) -> Any:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "must be a number"
        too_low = value <= low if open_low else value < low
        if too_low or (high is not None and value > high) or math.isnan(value):
            side = "above" if open_low else "at least"
            return f"must be {side} {low}" + (f" and at most {high}" if high is not None else "")
        return None

    return check


def _stop(value: Any) -> str | None:
    if isinstance(value, str):
        return None
    if isinstance(value, (list, tuple)) and all(
        isinstance(item, str)
        for item in value  # pyright: ignore[reportUnknownVariableType]
    ):
        return None
    return "must be a text or a list of texts"


_SETTING_CHECKS: dict[str, Any] = {
    "max_tokens": _whole(1),
    "temperature": _number(0, 2),
    "top_p": _number(0, 1, open_low=True),
    "stop": _stop,
    "seed": _whole(-(2**63)),
    "timeout": _number(0, None, open_low=True),
}


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
        output_tool: Ask for a structured reply: JSON text matching the parameters of
            this tool definition (rendered for the backend's protocol, in its strict mode
            where it has one); ``None``: a text reply.
    """

    model: str | None
    messages: Sequence[Mapping[str, Any]]
    system: str | None = None
    tools: Sequence[Mapping[str, Any]] = ()
    tool_choice: ToolChoice = "auto"
    parallel_tool_calls: bool | None = None
    settings: Mapping[str, Any] = field(default_factory=dict[str, Any])
    timeout: float | None = None
    output_tool: Mapping[str, Any] | None = None


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

    Two attributes are optional, read when present: ``needs_model`` (a runner must name
    the model) and ``native_output`` (a typed answer is asked for through the protocol's
    structured output under ``output_mode="auto"``; both default to ``False``).
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
