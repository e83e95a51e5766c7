"""OpenAI Chat Completions: ``{"type": "function", "function": {...}}`` tool definitions,
requests, replies and streamed chunks.

Sans-I/O: nothing here imports the ``openai`` SDK or sends anything. SDK objects are read by
attribute and plain JSON dicts by key, so the same code serves the SDK, raw HTTP and tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from toolkit import media
from toolkit.formats._base import ConversationBase, HistoryEntry
from toolkit.formats._dialects import OPENAI_STRICT, parameters_for
from toolkit.formats._media import Media, filename, text_with_placeholders, uploaded_note
from toolkit.formats._names import NameRule
from toolkit.formats._parse import (
    arguments_text,
    as_list,
    build_call,
    describe,
    field,
    has,
    token_count,
    unique_ids,
)
from toolkit.formats._settings import Spelling
from toolkit.formats._text_calls import split_text_calls, text_calls, text_of
from toolkit.model import ModelReply, ReplyStop, StreamDelta, Usage

if TYPE_CHECKING:
    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change, ToolCodec
    from toolkit.model import ModelRequest, ToolChoice
    from toolkit.tool import Tool

__all__ = ["CODEC", "OpenAIChatCodec", "OpenAIChatStreamAssembler"]

NAMES = NameRule("a-zA-Z0-9_-", 64)


class OpenAIChatCodec(ConversationBase):
    """The Chat Completions protocol (also spoken by vLLM, SGLang, Together, Baseten...)."""

    # ``max_tokens``, not ``max_completion_tokens``: the servers that speak this protocol
    # besides OpenAI's (llama.cpp, vLLM, Together...) all read it; OpenAI's reasoning
    # models want ``max_completion_tokens``, which passes through as it is.
    _SETTINGS: ClassVar[Spelling] = {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "stop": "stop",
        "seed": "seed",
    }

    @property
    def name(self) -> Literal["openai"]:
        """``"openai"``."""
        return "openai"

    def wire_name(self, name: str) -> str:
        """``^[a-zA-Z0-9_-]{1,64}$``."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"type": "function", "function": {"name", "description", "parameters", "strict"}}``."""
        name, renamed = NAMES.renamed(tool.name)
        parameters, changes = parameters_for(
            tool.parameters, OPENAI_STRICT if strict else None, tool.__qualname__
        )
        function: dict[str, Any] = {"name": name}
        if tool.description:
            function["description"] = tool.description
        function["parameters"] = parameters
        if strict:
            function["strict"] = True
        return {"type": "function", "function": function}, renamed + changes

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The calls in a ``ChatCompletion`` (its first choice), a ``ChatCompletionMessage``,
        either as a dict, or a list of tool calls.

        ``message.tool_calls[i]`` gives ``ToolCall(id, function.name, function.arguments)``
        with the arguments as the raw JSON string. A message without ``tool_calls`` is read
        for Hermes-style ``<tool_call>`` blocks in its text, which models served without a
        tool parser write instead.
        https://platform.openai.com/docs/api-reference/chat/object
        """
        calls = as_list(reply)
        if calls is not None:
            return unique_ids(self._tool_calls(calls))
        message = self._message(reply)
        tool_calls = field(message, "tool_calls")
        if tool_calls is not None:
            calls = as_list(tool_calls)
            if calls is None:
                raise ValueError(f"openai: 'tool_calls' is not a list: {describe(tool_calls)}")
            if calls:
                return unique_ids(self._tool_calls(calls))
        return text_calls(self.name, text_of(field(message, "content")))

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"role": "tool", "tool_call_id", "content"}`` message per result.

        Tool messages carry text only. Images (``{"type": "image_url", "image_url":
        {"url"}}``) and PDFs given as bytes (``{"type": "file", "file": {"filename",
        "file_data"}}``) go in one user message after all the tool messages (which must
        follow the assistant message directly), each result's behind a text part naming
        its call; the tool message holds a placeholder for each. Other files cannot be
        carried: their placeholder says so, and ``ContentLossWarning`` tells the host.
        https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages
        (the "Tool message" variant; ``openai.types.chat.ChatCompletionToolMessageParam``,
        ``ChatCompletionContentPartParam``)
        """
        messages: list[dict[str, Any]] = []
        attached: list[dict[str, Any]] = []
        for r in results:
            content = r.content
            if r.parts:
                content, carried = text_with_placeholders(self.name, r, _chat_carries)
                if carried:
                    attached.append({"type": "text", "text": uploaded_note(r)})
                    attached.extend(_chat_part(part) for part in carried)
            messages.append({"role": "tool", "tool_call_id": r.call_id, "content": content})
        if attached:
            messages.append({"role": "user", "content": attached})
        return messages

    def user_message(self, text: str) -> dict[str, Any]:
        """``{"role": "user", "content": text}``."""
        return {"role": "user", "content": text}

    def assistant_message(self, text: str, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        """``{"role": "assistant", "content", "tool_calls"?}``, as ``parse_reply`` keeps it."""
        return _assistant_message(text, "", calls)

    def tool_choice(self, choice: ToolChoice, *, parallel: bool | None = None) -> Any:
        """``"auto"``, ``"none"``, ``"required"``, or ``{"type": "function", "function":
        {"name"}}`` for a tool name (``parallel_tool_calls`` is a separate parameter)."""
        if choice in ("auto", "none", "required"):
            return choice
        return {"type": "function", "function": {"name": self.wire_name(choice)}}

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        """The keyword arguments of ``client.chat.completions.create`` for ``request``.

        The system prompt becomes a leading ``{"role": "system"}`` message. ``tool_choice``
        and ``parallel_tool_calls`` are only sent with tools (the API rejects them alone); a
        tool name as ``tool_choice`` becomes ``{"type": "function", "function": {"name"}}``.
        ``request.settings`` go in last, so they can set anything (``temperature``,
        ``max_completion_tokens``, ``extra_body``...).
        https://platform.openai.com/docs/api-reference/chat/create

        Raises:
            ValueError: the request has no model name.
        """
        if not request.model:
            raise ValueError("openai: the request has no model name; pass Runner(..., model=...)")
        messages: list[Any] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend(request.messages)
        kwargs: dict[str, Any] = {"model": request.model, "messages": messages}
        if request.tools:
            kwargs["tools"] = list(request.tools)
            kwargs["tool_choice"] = self.tool_choice(request.tool_choice)
            if request.parallel_tool_calls is not None:
                kwargs["parallel_tool_calls"] = request.parallel_tool_calls
        if request.output_tool is not None:
            function = request.output_tool["function"]
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": function["name"],
                    "schema": function["parameters"],
                    "strict": bool(function.get("strict")),
                },
            }
        kwargs.update(self.translate_settings(request.settings))
        return kwargs

    def parse_reply(self, response: Any) -> ModelReply:
        """A ``ChatCompletion`` (SDK object or JSON dict) as a ``ModelReply``; choice 0 only.

        ``message`` is a fresh assistant message holding only what the API takes back
        (``content``, ``refusal``, ``tool_calls``), so no output-only field (``audio``,
        ``annotations``, ``refusal: null``) is echoed into the history. Calls a model wrote
        as ``<tool_call>`` text are listed in ``tool_calls`` too, so their results have
        calls to answer (the content keeps them as written; ``text`` is the content
        without them). ``text`` is the content, or the refusal when there is none.

        Raises:
            ValueError: ``response`` is not a completion with a message.
        """
        message = self._message(response)
        choices = as_list(field(response, "choices")) or [{}]
        return _chat_reply(
            content=text_of(field(message, "content")),
            refusal=field(message, "refusal"),
            calls=self.parse_calls(message),
            written=not field(message, "tool_calls"),
            finish_reason=field(choices[0], "finish_reason"),
            usage=field(response, "usage"),
            raw=response,
        )

    def stream_assembler(self) -> OpenAIChatStreamAssembler:
        """A fresh assembler for one streamed completion."""
        return OpenAIChatStreamAssembler()

    def _starts_turn(self, item: Any, previous: Any) -> bool:
        """A user message, unless it follows the tool messages (it then carries their
        images, the only place Chat Completions takes them)."""
        return chat_starts_turn(item, previous)

    def _history_entry(self, item: Any) -> HistoryEntry:
        """A ``tool`` message answers its ``tool_call_id``; an assistant message makes its
        ``tool_calls`` and is where the last turn starts."""
        return chat_history_entry(self, item)

    def _message(self, reply: Any) -> Any:
        """The message in a completion, or ``reply`` itself when it is one."""
        if has(reply, "choices"):
            choices = as_list(field(reply, "choices"))
            if not choices:
                raise ValueError("openai: the completion has no choices")
            message = field(choices[0], "message")
            if message is None:
                raise ValueError("openai: choice 0 has no 'message'")
            return message
        if any(has(reply, key) for key in ("role", "content", "tool_calls")):
            return reply
        raise ValueError(
            "openai: expected a ChatCompletion, a message or a list of tool calls;"
            f" got {describe(reply)}"
        )

    def _tool_calls(self, items: list[Any]) -> list[ToolCall]:
        calls: list[ToolCall] = []
        for position, item in enumerate(items):
            where = f"tool call {position}"
            kind = field(item, "type")
            if kind not in (None, "function"):
                raise ValueError(f"openai: {where} has type {kind!r}; only function calls run")
            function = field(item, "function")
            if function is None:
                raise ValueError(f"openai: {where} has no 'function': {describe(item)}")
            call = build_call(
                self.name,
                where,
                call_id=field(item, "id"),
                name=field(function, "name"),
                arguments=field(function, "arguments"),
                position=position,
            )
            calls.append(call)
        return calls


_FINISH_REASONS: dict[str, ReplyStop] = {
    "stop": "end",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "length": "length",
    "content_filter": "content_filter",
}


def _chat_reply(
    *,
    content: str,
    refusal: Any,
    calls: list[ToolCall],
    written: bool,
    finish_reason: Any,
    usage: Any,
    raw: Any,
) -> ModelReply:
    """The reply, and the assistant message to keep, from the parts of a completion (whole
    or assembled from a stream). ``written``: the calls were written as ``<tool_call>``
    text, which the message keeps as the model wrote it and ``text`` leaves out."""
    refusal_text = refusal if isinstance(refusal, str) else ""
    prose = split_text_calls(CODEC.name, content)[1].strip() if written and calls else content
    message = _assistant_message(content, refusal_text, calls)
    stop: ReplyStop
    if refusal_text:
        stop = "refusal"
    elif finish_reason is None:
        stop = "tool_calls" if calls else "end"
    else:
        stop = _FINISH_REASONS.get(str(finish_reason), "other")
        if calls and stop == "end":  # servers that say "stop" after tool calls (vLLM, Ollama)
            stop = "tool_calls"
    return ModelReply(
        message=message,
        text=prose or refusal_text,
        calls=tuple(calls),
        stop=stop,
        usage=_usage(usage),
        raw=raw,
    )


def _assistant_message(content: str, refusal: str, calls: Sequence[ToolCall]) -> dict[str, Any]:
    """The assistant message the API takes back: ``content`` (``None`` beside calls, ``""``
    without), the refusal when there is one, and the calls with JSON-text arguments."""
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if refusal:
        message["refusal"] = refusal
    if calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": arguments_text(call.arguments)},
            }
            for call in calls
        ]
    elif not content:
        message["content"] = ""  # content is required when there are no tool calls
    return message


def chat_history_entry(codec: ToolCodec, item: Any) -> HistoryEntry:
    """One Chat-Completions-shaped history item for ``unanswered_calls`` (Workers AI
    keeps its history in the same shape)."""
    if not isinstance(item, dict):
        return [], set(), False
    message = cast("dict[str, Any]", item)
    role = message.get("role")
    if role == "tool":
        call_id = message.get("tool_call_id")
        return [], ({call_id} if isinstance(call_id, str) else set()), True
    if role == "assistant" and message.get("tool_calls"):
        return codec.parse_calls(message), set(), False
    return [], set(), False


def chat_starts_turn(item: Any, previous: Any) -> bool:
    """A Chat-Completions-shaped user message opens a turn, unless it follows a ``tool``
    message (then it carries the results' images)."""
    if not isinstance(item, dict) or cast("dict[str, Any]", item).get("role") != "user":
        return False
    return not (
        isinstance(previous, dict) and cast("dict[str, Any]", previous).get("role") == "tool"
    )


def _chat_carries(part: Media) -> bool:
    """Images, and PDFs given as bytes (the API takes no file by link)."""
    return isinstance(part, media.Image) or (part.media_type == "application/pdf" and part.inline)


def _chat_part(part: Media) -> dict[str, Any]:
    """A user message content part for an image or a PDF."""
    if isinstance(part, media.Image):
        return {
            "type": "image_url",
            "image_url": {"url": part.data_url() if part.inline else part.url},
        }
    return {"type": "file", "file": {"filename": filename(part), "file_data": part.data_url()}}


def _usage(usage: Any) -> Usage:
    if usage is None:
        return Usage()
    return Usage(token_count(usage, "prompt_tokens"), token_count(usage, "completion_tokens"))


@dataclasses.dataclass(slots=True)
class _PartialCall:
    """A tool call being assembled from stream fragments."""

    id: str | None = None
    name: str | None = None
    arguments: list[str] = dataclasses.field(default_factory=list[str])


class OpenAIChatStreamAssembler:
    """Builds one ``ModelReply`` from ``chat.completion.chunk`` objects, fragment by fragment.

    Sans-I/O: feed it each chunk as it arrives (SDK object or JSON dict), forward the
    ``StreamDelta`` objects it returns, then ask for ``reply()``, which equals what
    ``OpenAIChatCodec.parse_reply`` gives for the same completion unstreamed.

    Tool-call fragments are routed robustly, because OpenAI-compatible servers differ: a
    fragment with a new ``id`` starts a new call even when its ``index`` repeats (some
    servers put every call at index 0) unless the call it would continue has no id yet, a
    fragment with a known ``id`` continues that call, and a fragment without an ``index``
    continues the latest call (unless it names a tool while the latest call already has a
    name and arguments, which starts a new one). Only choice 0 is read.
    """

    def __init__(self) -> None:
        self._content: list[str] = []
        self._refusal: list[str] = []
        self._calls: list[_PartialCall] = []
        self._by_index: dict[int, int] = {}  # wire index -> position of its latest call
        self._by_id: dict[str, int] = {}
        self._finish_reason: Any = None
        self._usage: Any = None

    def feed(self, event: Any) -> list[StreamDelta]:
        """Take one chunk; return its fragments as deltas (text, then call fragments)."""
        chunk = event
        usage = field(chunk, "usage")
        if usage is not None:  # the include_usage chunk, or servers that always send it
            self._usage = usage
        deltas: list[StreamDelta] = []
        for choice in as_list(field(chunk, "choices")) or []:
            if (field(choice, "index") or 0) != 0:
                continue
            delta = field(choice, "delta")
            if delta is not None:
                content = field(delta, "content")
                if isinstance(content, str) and content:
                    self._content.append(content)
                    deltas.append(StreamDelta(text=content))
                refusal = field(delta, "refusal")
                if isinstance(refusal, str) and refusal:
                    self._refusal.append(refusal)
                    deltas.append(StreamDelta(text=refusal))
                for fragment in as_list(field(delta, "tool_calls")) or []:
                    deltas.append(self._call_fragment(fragment))
            finish_reason = field(choice, "finish_reason")
            if finish_reason is not None:
                self._finish_reason = finish_reason
        return deltas

    def reply(self) -> ModelReply:
        """The whole reply, from everything fed so far.

        Raises:
            ValueError: a streamed call never got a tool name.
        """
        content = "".join(self._content)
        if self._calls:
            calls = unique_ids(
                [
                    build_call(
                        CODEC.name,
                        f"streamed tool call {position}",
                        call_id=partial.id,
                        name=partial.name,
                        arguments="".join(partial.arguments),
                        position=position,
                    )
                    for position, partial in enumerate(self._calls)
                ]
            )
        else:
            calls = text_calls(CODEC.name, content)
        return _chat_reply(
            content=content,
            refusal="".join(self._refusal),
            written=not self._calls,
            calls=calls,
            finish_reason=self._finish_reason,
            usage=self._usage,
            raw=None,
        )

    def _call_fragment(self, fragment: Any) -> StreamDelta:
        index = field(fragment, "index")
        call_id = field(fragment, "id") or None
        function = field(fragment, "function")
        name = (field(function, "name") or None) if function is not None else None
        arguments = field(function, "arguments") if function is not None else None
        position = self._position(index if isinstance(index, int) else None, call_id, name)
        partial = self._calls[position]
        revealed_id = revealed_name = None
        if isinstance(call_id, str) and partial.id is None:
            partial.id = revealed_id = call_id
            self._by_id[call_id] = position
        if isinstance(name, str) and partial.name is None:
            partial.name = revealed_name = name
        text = arguments if isinstance(arguments, str) else ""
        if text:
            partial.arguments.append(text)
        return StreamDelta(
            call_index=position, call_id=revealed_id, call_name=revealed_name, arguments=text
        )

    def _position(self, index: int | None, call_id: Any, name: Any) -> int:
        """Which call a fragment belongs to (see the class docstring)."""
        if isinstance(call_id, str):
            known = self._by_id.get(call_id)
            if known is not None:
                return known
            current = self._current(index)
            if current is not None and self._calls[current].id is None:  # id after the head
                return current
            return self._start(index)
        if index is not None:
            known = self._by_index.get(index)
            return known if known is not None else self._start(index)
        current = self._current(None)
        if current is None:
            return self._start(None)
        partial = self._calls[current]
        if name and partial.name and partial.arguments:
            return self._start(None)
        return current

    def _current(self, index: int | None) -> int | None:
        if index is not None:
            return self._by_index.get(index)
        return len(self._calls) - 1 if self._calls else None

    def _start(self, index: int | None) -> int:
        self._calls.append(_PartialCall())
        position = len(self._calls) - 1
        if index is not None:
            self._by_index[index] = position
        return position


CODEC = OpenAIChatCodec()
