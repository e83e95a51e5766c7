"""Anthropic Messages: ``{"name", "description", "input_schema"}`` tool definitions, and
the request, reply and stream shapes of ``POST /v1/messages``.

Sans-I/O: nothing here sends a request or imports the SDK. SDK objects (``Message``, content
blocks, raw stream events) are read by attribute or through their ``model_dump``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from toolkit import media
from toolkit.calls import ToolCall
from toolkit.errors import DefinitionProblem, ModelError, ToolDefinitionError
from toolkit.formats._base import ConversationBase, HistoryEntry
from toolkit.formats._dialects import ANTHROPIC_STRICT, parameters_for
from toolkit.formats._media import Media, report_lost
from toolkit.formats._names import NameRule
from toolkit.formats._parse import (
    as_list,
    build_call,
    describe,
    field,
    plain,
    rename_calls,
    token_count,
    unique_ids,
)
from toolkit.formats._settings import Spelling, sequences
from toolkit.model import ModelReply, StreamDelta, Usage

if TYPE_CHECKING:
    from toolkit.calls import ToolResult
    from toolkit.formats import Change
    from toolkit.model import ModelRequest, ReplyStop, ToolChoice
    from toolkit.tool import Tool

__all__ = [
    "CODEC",
    "DEFAULT_MAX_TOKENS",
    "STRICT_LIMITS",
    "AnthropicCodec",
    "AnthropicStreamAssembler",
]

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` when the settings give none (the API requires it on every request)."""

# https://docs.anthropic.com/en/api/messages#response-stop-reason
_STOPS: dict[str, ReplyStop] = {
    "end_turn": "end",
    "stop_sequence": "end",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "pause_turn": "pause",
    "refusal": "refusal",
}

NAMES = NameRule("a-zA-Z0-9_-", 128)

STRICT_LIMITS = {"strict tools": 20, "optional parameters": 24, "union-typed parameters": 16}
"""What one request may hold across all its strict tools (docs/providers.md, Anthropic)."""
_EMPTY_TURNS: dict[object, str] = {"refusal": "(The model declined to answer.)"}


TOOL_SEARCH_BM25 = "tool_search_tool_bm25_20251119"
"""Anthropic's server-side tool search over deferred tools, by natural-language query."""


class AnthropicCodec(ConversationBase):
    """The Messages protocol (``tool_use`` / ``tool_result`` content blocks)."""

    _SETTINGS: ClassVar[Spelling] = {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "stop": ("stop_sequences", sequences),
        "seed": None,  # Messages takes no seed
    }

    @property
    def name(self) -> Literal["anthropic"]:
        """``"anthropic"``."""
        return "anthropic"

    def wire_name(self, name: str) -> str:
        """``^[a-zA-Z0-9_-]{1,128}$``."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"name", "description", "input_schema", "strict"}``."""
        name, renamed = NAMES.renamed(tool.name)
        schema, changes = parameters_for(
            tool.parameters, ANTHROPIC_STRICT if strict else None, tool.__qualname__
        )
        definition: dict[str, Any] = {"name": name}
        if tool.description:
            definition["description"] = tool.description
        definition["input_schema"] = schema
        if strict:
            definition["strict"] = True
        return definition, renamed + changes

    def render_tools(
        self, tools: Sequence[Tool[..., Any]], *, strict: bool | None
    ) -> list[dict[str, Any]]:
        """Each tool's definition, after checking the limits Anthropic puts on the strict
        tools of one request together (``STRICT_LIMITS``: strict tools, optional
        parameters, union-typed parameters, counted at every depth of their schemas).

        Raises:
            ToolDefinitionError: the strict tools together exceed a limit; the message names
                each tool's share and the fix.
        """
        definitions = [t.definition(self.name, strict=strict) for t in tools]
        counted = {
            t.name: _strict_counts(d["input_schema"])
            for t, d in zip(tools, definitions, strict=True)
            if d.get("strict")
        }
        totals = {
            "strict tools": len(counted),
            "optional parameters": sum(c[0] for c in counted.values()),
            "union-typed parameters": sum(c[1] for c in counted.values()),
        }
        over = [what for what, limit in STRICT_LIMITS.items() if totals[what] > limit]
        if over:
            shares = ", ".join(
                f"{name} ({optional} optional, {unions} union-typed)"
                for name, (optional, unions) in counted.items()
            )
            broken = "; ".join(
                f"{totals[what]} {what}, more than {STRICT_LIMITS[what]}" for what in over
            )
            raise ToolDefinitionError(
                [
                    DefinitionProblem(
                        ", ".join(counted),
                        None,
                        f"Anthropic strict tool use allows per request at most "
                        f"{STRICT_LIMITS['strict tools']} strict tools, "
                        f"{STRICT_LIMITS['optional parameters']} optional parameters and "
                        f"{STRICT_LIMITS['union-typed parameters']} union-typed parameters; "
                        f"these tools have {broken} ({shares}). Send fewer tools in strict "
                        "mode (strict=False on some, or Runner(strict=False)), or make "
                        "parameters required",
                    )
                ]
            )
        return definitions

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The ``tool_use`` blocks of a ``Message`` (object or dict) or of a content list:
        ``ToolCall(id, name, input)``, the input as the mapping the API sent. Text, thinking
        and server-tool blocks are skipped.
        https://docs.anthropic.com/en/docs/build-with-claude/tool-use
        """
        blocks = as_list(reply)
        if blocks is None:
            content = field(reply, "content")
            if content is None:
                raise ValueError(
                    "anthropic: expected a Message or a list of content blocks;"
                    f" got {describe(reply)}"
                )
            if isinstance(content, str):  # a plain text message
                return []
            blocks = as_list(content)
            if blocks is None:
                raise ValueError(f"anthropic: 'content' is not a list: {describe(content)}")
        calls: list[ToolCall] = []
        for index, block in enumerate(blocks):
            kind = field(block, "type")
            if kind is None:
                raise ValueError(f"anthropic: content block {index} has no 'type'")
            if kind == "tool_use":
                calls.append(
                    build_call(
                        self.name,
                        f"content block {index}",
                        call_id=field(block, "id"),
                        name=field(block, "name"),
                        arguments=field(block, "input"),
                        position=len(calls),
                    )
                )
        return unique_ids(calls)

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One user message holding a ``tool_result`` block per result, in call order, and
        nothing else (the API wants the results first in that message); ``is_error`` only
        on failures. No results, no message.

        The ``content`` of a result with images or files is a list of blocks, in order:
        ``text``; ``image`` with a ``base64`` or ``url`` source; ``document`` for a PDF
        (``base64`` or ``url`` source) or a text/plain file (``text`` source), titled by
        its filename. Other files cannot be carried: a text block says what was left out,
        and ``ContentLossWarning`` tells the host.
        https://docs.anthropic.com/en/docs/build-with-claude/tool-use/implement-tool-use#handling-tool-use-and-tool-result-content-blocks
        (``anthropic.types.ToolResultBlockParam``)
        """
        blocks: list[dict[str, Any]] = []
        for r in results:
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": r.call_id,
                "content": _result_content(r) if r.parts else r.content,
            }
            if r.is_error:
                block["is_error"] = True
            blocks.append(block)
        return [{"role": "user", "content": blocks}] if blocks else []

    def user_message(self, text: str) -> dict[str, Any]:
        """``{"role": "user", "content": text}``."""
        return {"role": "user", "content": text}

    def assistant_message(self, text: str, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        """``{"role": "assistant", "content": [text block?, tool_use blocks...]}`` with
        each call's input as an object (a JSON text that is not one becomes ``{}``)."""
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        blocks += [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": _input(c.arguments)}
            for c in calls
        ]
        return {"role": "assistant", "content": blocks or [{"type": "text", "text": ""}]}

    def tool_choice(self, choice: ToolChoice, *, parallel: bool | None = None) -> Any:
        """``{"type": "auto"}``, ``{"type": "any"}`` (``"required"``), ``{"type": "none"}``
        or ``{"type": "tool", "name"}``; ``parallel=False`` adds
        ``disable_parallel_tool_use`` (except to ``none``, which takes no options).
        https://docs.anthropic.com/en/api/messages#body-tool-choice
        """
        if choice == "none":
            return {"type": "none"}
        if choice == "auto":
            translated: dict[str, Any] = {"type": "auto"}
        elif choice == "required":
            translated = {"type": "any"}
        else:
            translated = {"type": "tool", "name": self.wire_name(choice)}
        if parallel is False:
            translated["disable_parallel_tool_use"] = True
        return translated

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        """The keyword arguments of ``client.messages.create`` for ``request``.

        The system prompt is the top-level ``system`` parameter (Messages has no system
        role). ``max_tokens`` is required by the API: ``settings["max_tokens"]`` or
        ``DEFAULT_MAX_TOKENS``. With tools, ``tool_choice`` becomes ``{"type": "auto"}``,
        ``{"type": "any"}`` (``"required"``), ``{"type": "none"}`` or ``{"type": "tool",
        "name": ...}``, and ``parallel_tool_calls=False`` adds ``disable_parallel_tool_use``
        (not to ``none``, which takes no options); without tools it is left out. Settings
        are merged last, unchanged.
        https://docs.anthropic.com/en/api/messages#body-tool-choice

        Raises:
            ValueError: the request has no model name.
        """
        if not request.model:
            raise ValueError(
                "anthropic: the request has no model name; pass Runner(..., model=...)"
            )
        kwargs: dict[str, Any] = {
            "model": request.model,
            "max_tokens": DEFAULT_MAX_TOKENS,
            "messages": list(request.messages),
        }
        if request.system is not None:
            kwargs["system"] = request.system
        if request.tools:
            kwargs["tools"] = list(request.tools)
            kwargs["tool_choice"] = self.tool_choice(
                request.tool_choice, parallel=request.parallel_tool_calls
            )
        if request.output_tool is not None:
            schema = request.output_tool["input_schema"]
            kwargs["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        kwargs.update(self.translate_settings(request.settings))
        return kwargs

    def parse_reply(self, response: Any) -> ModelReply:
        """A ``ModelReply`` from a ``Message`` (SDK object or its JSON).

        ``message`` is ``{"role": "assistant", "content": [...]}`` with every content block
        as the API sent it (thinking and redacted thinking blocks with their signatures,
        which must go back unchanged), ``None`` fields dropped. ``text`` joins the text
        blocks; ``stop`` maps ``stop_reason``; ``usage`` counts cache reads and writes as
        input tokens (the API's ``input_tokens`` leaves them out).

        Raises:
            ValueError: ``response`` has no content list.
        """
        content = field(response, "content")
        items = as_list(content)
        if items is None:
            raise ValueError(
                f"anthropic: expected a Message with a 'content' list; got {describe(response)}"
            )
        blocks = [_block(item) for item in items]
        calls = self.parse_calls(blocks)
        rename_calls(blocks, calls, kind="tool_use", id_key="id")
        text = "".join(
            block["text"]
            for block in blocks
            if block.get("type") == "text" and isinstance(block.get("text"), str)
        )
        stop_reason = field(response, "stop_reason")
        kept = blocks or [
            # The API rejects an assistant turn without content when the history is sent
            # again, so an empty reply (a refusal, say) is kept as a placeholder text.
            {"type": "text", "text": _EMPTY_TURNS.get(str(stop_reason), "(empty reply)")}
        ]
        return ModelReply(
            message={"role": "assistant", "content": kept},
            text=text,
            calls=tuple(calls),
            stop=_STOPS.get(stop_reason, "other") if isinstance(stop_reason, str) else "other",
            usage=_usage(field(response, "usage")),
            response_id=field(response, "id"),
            raw=response,
        )

    def stream_assembler(self) -> AnthropicStreamAssembler:
        """A fresh assembler for one streamed reply."""
        return AnthropicStreamAssembler()

    def append_messages(self, history: list[Any], messages: Any) -> None:
        """Append, merging consecutive turns of one role with block contents into one:
        Anthropic requires alternating roles, so a user text right after a message of tool
        results joins it, and the continuation of a paused turn joins the paused assistant
        message."""
        items: list[Any] = messages if isinstance(messages, list) else [messages]  # pyright: ignore[reportUnknownVariableType]
        for item in items:
            if history and _mergeable(history[-1], item):
                history[-1] = {**history[-1], "content": _blocks(history[-1]) + _blocks(item)}
            else:
                history.append(item)

    def native_tool_search(
        self, definitions: Sequence[Mapping[str, Any]], always: Sequence[str]
    ) -> list[dict[str, Any]] | None:
        """Every tool but ``always`` marked ``defer_loading``, then Anthropic's BM25 tool
        search tool, which finds deferred tools and loads them into the model's context.
        https://docs.claude.com/en/docs/agents-and-tools/tool-use/tool-search-tool
        """
        kept = {self.wire_name(name) for name in always}
        tools = [
            dict(d) if d.get("name") in kept else {**d, "defer_loading": True} for d in definitions
        ]
        tools.append({"type": TOOL_SEARCH_BM25, "name": "tool_search_tool_bm25"})
        return tools

    def _starts_turn(self, item: Any, previous: Any) -> bool:
        """A user message holding something besides ``tool_result`` blocks (a turn merged
        into the results' message starts there too)."""
        if not isinstance(item, dict):
            return False
        message = cast("dict[str, Any]", item)
        if message.get("role") != "user":
            return False
        content = message.get("content")
        if not isinstance(content, list):
            return True
        kinds = [
            cast("dict[str, Any]", b).get("type") if isinstance(b, dict) else None
            for b in cast("list[Any]", content)
        ]
        return any(kind != "tool_result" for kind in kinds)

    def _history_entry(self, item: Any) -> HistoryEntry:
        """A user message's ``tool_result`` blocks answer their ``tool_use_id``s; an
        assistant message makes its ``tool_use`` blocks and is where the last turn starts."""
        if not isinstance(item, dict):
            return [], set(), False
        message = cast("dict[str, Any]", item)
        content = message.get("content")
        if not isinstance(content, list):
            return [], set(), False
        if message.get("role") == "assistant":
            return self.parse_calls(cast("list[Any]", content)), set(), False
        blocks = [
            cast("dict[str, Any]", b) for b in cast("list[Any]", content) if isinstance(b, dict)
        ]
        answered = {str(b.get("tool_use_id")) for b in blocks if b.get("type") == "tool_result"}
        return [], answered, bool(answered)


class AnthropicStreamAssembler:
    """Assembles one streamed Messages reply from its raw events, without I/O.

    Feed every event (``RawMessageStreamEvent`` objects from ``messages.create(...,
    stream=True)``, or their JSON) to ``feed``, which returns the fragments to show now;
    ``reply()`` then gives what ``parse_reply`` gives for the finished ``Message``.
    https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
    """

    def __init__(self) -> None:
        self._message: dict[str, Any] = {}
        self._blocks: dict[int, dict[str, Any]] = {}
        self._json: dict[int, str] = {}  # index -> partial JSON of a tool_use input
        self._calls: dict[int, int] = {}  # index -> position among the reply's calls
        self._usage: dict[str, Any] = {}

    def feed(self, event: Any) -> list[StreamDelta]:
        """Take one event; return the text and tool-call fragments it carries.

        Raises:
            ModelError: an ``error`` event (the API failed mid-stream).
            ValueError: a delta for a block that never started.
        """
        kind = field(event, "type")
        if kind == "message_start":
            self._message = _plain(field(event, "message"))
            self._update_usage(self._message.get("usage"))
            for index, block in enumerate(self._message.get("content") or []):
                self._blocks[index] = _block(block)
        elif kind == "content_block_start":
            return self._start(field(event, "index"), _block(field(event, "content_block")))
        elif kind == "content_block_delta":
            return self._delta(field(event, "index"), _plain(field(event, "delta")))
        elif kind == "content_block_stop":
            self._finish(field(event, "index"))
        elif kind == "message_delta":
            delta = _plain(field(event, "delta"))
            self._message.update({k: v for k, v in delta.items() if v is not None})
            self._update_usage(field(event, "usage"))
        elif kind == "error":
            error = _plain(field(event, "error"))
            raise ModelError(f"anthropic: error event in stream: {error}", errors=error)
        return []  # ping, message_stop, and event types added later

    def reply(self) -> ModelReply:
        """The finished reply, equal to ``parse_reply`` of the complete ``Message``."""
        for index in list(self._json):
            self._finish(index)
        message = {
            **self._message,
            "content": [self._blocks[index] for index in sorted(self._blocks)],
            "usage": self._usage,
        }
        return CODEC.parse_reply(message)

    def _start(self, index: int, block: dict[str, Any]) -> list[StreamDelta]:
        self._blocks[index] = block
        if block.get("type") == "tool_use":
            position = len(self._calls)
            self._calls[index] = position
            self._json[index] = ""
            return [
                StreamDelta(
                    call_index=position, call_id=block.get("id"), call_name=block.get("name")
                )
            ]
        if "input" in block:  # server tools stream their input too
            self._json[index] = ""
        text = block.get("text")
        if block.get("type") == "text" and isinstance(text, str) and text:
            return [StreamDelta(text=text)]
        return []

    def _delta(self, index: int, delta: dict[str, Any]) -> list[StreamDelta]:
        block = self._blocks.get(index)
        if block is None:
            raise ValueError(f"anthropic: content_block_delta for block {index}, never started")
        kind = delta.get("type")
        if kind == "text_delta":
            text = str(delta.get("text") or "")
            block["text"] = str(block.get("text") or "") + text
            return [StreamDelta(text=text)] if text else []
        if kind == "input_json_delta":
            fragment = str(delta.get("partial_json") or "")
            self._json[index] = self._json.get(index, "") + fragment
            position = self._calls.get(index)
            if position is None or not fragment:
                return []
            return [StreamDelta(call_index=position, arguments=fragment)]
        if kind == "thinking_delta":
            block["thinking"] = str(block.get("thinking") or "") + str(delta.get("thinking") or "")
        elif kind == "signature_delta":
            block["signature"] = str(block.get("signature") or "") + str(
                delta.get("signature") or ""
            )
        elif kind == "citations_delta":
            citations = cast("list[Any]", block.setdefault("citations", []))
            citations.append(_plain(delta.get("citation")))
        return []

    def _finish(self, index: int) -> None:
        text = self._json.pop(index, None)
        block = self._blocks.get(index)
        if text is None or block is None:
            return
        if not text:
            block["input"] = {}
            return
        try:
            block["input"] = json.loads(text)
        except ValueError:
            block["input"] = text  # cut off mid-JSON: passed on for the registry to report

    def _update_usage(self, usage: Any) -> None:
        if usage is None:
            return
        self._usage.update({k: v for k, v in _plain(usage).items() if v is not None})


def _plain(value: Any) -> dict[str, Any]:
    return plain(value, "anthropic")


def _input(arguments: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """A call's arguments as the object a ``tool_use`` block carries."""
    if isinstance(arguments, str):
        try:
            decoded = json.loads(arguments)
        except (ValueError, RecursionError):
            return {}
        return cast("dict[str, Any]", decoded) if isinstance(decoded, dict) else {}
    return dict(arguments) if arguments is not None else {}


def _strict_counts(schema: Any) -> tuple[int, int]:
    """(optional properties, union-typed properties) at every depth of a strict schema."""
    optional = unions = 0
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(cast("list[Any]", node))
            continue
        if not isinstance(node, dict):
            continue
        current = cast("dict[str, Any]", node)
        properties = current.get("properties")
        if isinstance(properties, dict):
            required: set[Any] = set(current.get("required") or ())
            for key, sub in cast("dict[str, Any]", properties).items():
                optional += key not in required
                shape = cast("dict[str, Any]", sub) if isinstance(sub, dict) else {}
                unions += "anyOf" in shape or isinstance(shape.get("type"), list)
        skipped = {"enum", "const", "default"}  # values, not schemas
        stack.extend(v for k, v in current.items() if k not in skipped)
    return optional, unions


def _mergeable(previous: Any, item: Any) -> bool:
    if not isinstance(previous, dict) or not isinstance(item, dict):
        return False
    before = cast("dict[str, Any]", previous)
    after = cast("dict[str, Any]", item)
    return (
        before.get("role") in ("user", "assistant")
        and after.get("role") == before.get("role")
        and isinstance(before.get("content"), list)
        and (after.get("role") == "user" or isinstance(after.get("content"), list))
    )


def _blocks(message: dict[str, Any]) -> list[Any]:
    content = message.get("content")
    if isinstance(content, list):
        return list(content)  # pyright: ignore[reportUnknownArgumentType]
    return [{"type": "text", "text": content}] if content else []


def _block(value: Any) -> dict[str, Any]:
    """A content block as the API accepts it back: every field as sent, ``None`` dropped."""
    block = {key: item for key, item in _plain(value).items() if item is not None}
    if "type" not in block:
        raise ValueError(f"anthropic: content block without 'type': {describe(value)}")
    return block


def _usage(usage: Any) -> Usage:
    input_tokens = (
        token_count(usage, "input_tokens")
        + token_count(usage, "cache_creation_input_tokens")
        + token_count(usage, "cache_read_input_tokens")
    )
    return Usage(input_tokens, token_count(usage, "output_tokens"))


CODEC = AnthropicCodec()


def _result_content(result: ToolResult) -> list[dict[str, Any]]:
    """The blocks of a ``tool_result`` with images or files (empty texts left out: the API
    refuses empty text blocks)."""
    blocks: list[dict[str, Any]] = []
    lost: list[Media] = []
    for part in result.parts:
        if isinstance(part, str):
            if part:
                blocks.append({"type": "text", "text": part})
            continue
        block = _media_block(part)
        if block is None:
            lost.append(part)
            block = {"type": "text", "text": media.describe(part, left_out=True)}
        blocks.append(block)
    report_lost("anthropic", result, lost)
    return blocks


def _media_block(part: Media) -> dict[str, Any] | None:
    """An ``image`` or ``document`` block for ``part``; ``None`` for a file type a tool
    result cannot hold."""
    if isinstance(part, media.Image):
        return {"type": "image", "source": _source(part)}
    if part.media_type == "application/pdf":
        block: dict[str, Any] = {"type": "document", "source": _source(part)}
    elif part.media_type == "text/plain" and part.data is not None:
        text = part.data.decode("utf-8", errors="replace")
        block = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": text},
        }
    else:
        return None
    if part.filename is not None:
        block["title"] = part.filename
    return block


def _source(part: Media) -> dict[str, Any]:
    """A ``base64`` source for bytes, a ``url`` source for a link."""
    if part.inline:
        return {"type": "base64", "media_type": part.media_type, "data": part.base64()}
    return {"type": "url", "url": part.url}
