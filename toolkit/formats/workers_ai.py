"""Cloudflare Workers AI: the flat ``{"name", "description", "parameters"}`` format, and the
request, reply and stream shapes of ``POST /accounts/{account_id}/ai/run/{model}``.

Sans-I/O: nothing here sends a request. The native input schemas have no ``tool_choice``
and no ``parallel_tool_calls`` (e.g. ``Ai_Cf_Meta_Llama_4_Messages`` in
``@cloudflare/workers-types``), so ``build_request`` approximates them; see its docstring.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from toolkit.errors import ModelError
from toolkit.formats._base import ConversationBase, HistoryEntry
from toolkit.formats._dialects import WORKERS_AI, parameters_for
from toolkit.formats._media import text_with_placeholders
from toolkit.formats._names import NameRule
from toolkit.formats._parse import (
    arguments_text,
    as_list,
    build_call,
    describe,
    field,
    has,
    json_text,
    token_count,
    unique_ids,
)
from toolkit.formats._settings import Spelling
from toolkit.formats._text_calls import split_text_calls, text_calls
from toolkit.formats.openai_chat import chat_history_entry, chat_starts_turn
from toolkit.model import ModelReply, StreamDelta, Usage

if TYPE_CHECKING:
    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.model import ModelRequest, ToolChoice
    from toolkit.tool import Tool

__all__ = ["CODEC", "WorkersAICodec", "WorkersAIStreamAssembler"]

NAMES = NameRule("a-zA-Z0-9_-", 64)


class WorkersAICodec(ConversationBase):
    """Workers AI's own tool format (open models behind a chat template).

    ``$ref``s are inlined (except recursive ones): the schema lands in a prompt, and small
    models follow an inline schema far better than a reference.
    """

    _SETTINGS: ClassVar[Spelling] = {
        "max_tokens": "max_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "stop": None,  # the text-generation models' input schema has no stop sequences
        "seed": "seed",
    }

    @property
    def name(self) -> Literal["workers-ai"]:
        """``"workers-ai"``."""
        return "workers-ai"

    def wire_name(self, name: str) -> str:
        """``^[a-zA-Z0-9_-]{1,64}$``, as for OpenAI-compatible servers."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"name", "description", "parameters"}``; there is no strict mode."""
        name, renamed = NAMES.renamed(tool.name)
        parameters, changes = parameters_for(tool.parameters, WORKERS_AI, tool.__qualname__)
        definition = {"name": name, "description": tool.description, "parameters": parameters}
        return definition, renamed + changes

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The calls in a REST response ``{"result": {"response", "tool_calls"}, ...}``, in
        its inner ``result``, or in a bare ``tool_calls`` list.

        Each call is ``{"name", "arguments"}`` with the arguments an object (sometimes a JSON
        string); a few models answer OpenAI-style ``{"id", "function": {...}}`` items, read
        too. Calls have no ids, so each gets a stable generated one. Without
        ``tool_calls``, Hermes-style ``<tool_call>`` blocks in ``response`` are read.
        https://developers.cloudflare.com/workers-ai/features/function-calling/traditional/
        """
        items = as_list(reply)
        if items is not None:
            return self._tool_calls(items)
        if field(reply, "success") is False:
            raise ValueError(f"workers-ai: the request failed: {field(reply, 'errors')!r}")
        result = field(reply, "result") if has(reply, "result") else reply
        if not (has(result, "tool_calls") or has(result, "response")):
            raise ValueError(
                "workers-ai: expected a response with 'result', a result with 'response' or"
                f" 'tool_calls', or a list of tool calls; got {describe(result)}"
            )
        tool_calls = field(result, "tool_calls")
        if tool_calls is not None:
            items = as_list(tool_calls)
            if items is None:
                raise ValueError(f"workers-ai: 'tool_calls' is not a list: {describe(tool_calls)}")
            if items:
                return self._tool_calls(items)
        text = field(result, "response")
        return text_calls(self.name, text) if isinstance(text, str) else []

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"role": "tool", "name", "tool_call_id", "content"}`` message per result.

        The tool name is what models without call ids match results by (as Cloudflare's
        embedded function calling sends them); ``tool_call_id`` is in the models' input
        schema and required by some (Mistral), e.g.
        https://developers.cloudflare.com/workers-ai/models/mistral-small-3.1-24b-instruct/

        The models take text only: an image or file a tool returned is a placeholder that
        says it was left out, and ``ContentLossWarning`` tells the host.
        """
        return [
            {"role": "tool", "name": r.name, "tool_call_id": r.call_id, "content": _result_text(r)}
            for r in results
        ]

    def user_message(self, text: str) -> dict[str, Any]:
        """``{"role": "user", "content": text}``."""
        return {"role": "user", "content": text}

    def assistant_message(self, text: str, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        """The assistant turn ``parse_reply`` keeps: see there."""
        return _assistant_message(text, calls)

    def tool_choice(self, choice: ToolChoice, *, parallel: bool | None = None) -> Any:
        """``None``: the native API has no ``tool_choice`` (``build_request`` approximates
        it by the tools it sends)."""
        return None

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body for ``POST .../ai/run/{model}`` (the model is in the URL, not here).

        ``{"messages": [system first, if any, then the history], "tools": [...], **settings}``.
        The native API has no ``tool_choice`` (Cloudflare's own AI SDK provider does not
        send one either), so: ``"none"`` sends no tools; a tool name sends only that tool
        (what ``workers-ai-provider`` does for a forced tool); ``"required"`` sends the
        tools and cannot force a call. ``parallel_tool_calls`` has no equivalent and is
        ignored. Settings (``max_tokens``, ``temperature``, ``seed``...) are merged last,
        so a model that does take ``tool_choice`` can be given it there.
        https://developers.cloudflare.com/workers-ai/features/function-calling/traditional/

        Raises:
            ValueError: ``tool_choice`` names a tool that is not in ``tools``, or the
                request has no model name.
        """
        if not request.model:
            raise ValueError(
                "workers-ai: the request has no model name; pass Runner(..., model=...)"
            )
        messages: list[Any] = []
        if request.system is not None:
            messages.append({"role": "system", "content": request.system})
        messages.extend(request.messages)
        body: dict[str, Any] = {"messages": messages}
        tools = list(request.tools)
        choice = request.tool_choice
        if tools and choice != "none":
            if choice not in ("auto", "required"):
                choice = self.wire_name(choice)  # the tool's name, as the tools spell it
                tools = [tool for tool in tools if _tool_name(tool) == choice]
                if not tools:
                    raise ValueError(f"workers-ai: tool_choice names {choice!r}, not in tools")
            body["tools"] = tools
        if request.output_tool is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": request.output_tool["parameters"],
            }
        body.update(self.translate_settings(request.settings))
        return body

    def parse_reply(self, response: Any) -> ModelReply:
        """A ``ModelReply`` from a run response: the v4 envelope ``{"result": {...},
        "success": true, ...}`` or its ``result``.

        ``text`` is ``response`` (a number or an object, which some models send, becomes
        its JSON text; ``<tool_call>`` blocks read as calls are cut out of it). ``message``
        is the assistant turn to send back: ``{"role": "assistant", "content", "tool_calls":
        [{"id", "type": "function", "function": {"name", "arguments"}}]}``, the shape
        Cloudflare's AI SDK provider sends, with the arguments as a JSON string and, when
        there is no text, the calls written as ``{"name", "parameters"}`` JSON in
        ``content`` for chat templates that read only the text. There is no finish reason:
        ``stop`` is ``"tool_calls"`` with calls, else ``"end"``.
        https://github.com/cloudflare/ai/blob/main/packages/workers-ai-provider/src/convert-to-workersai-chat-messages.ts

        Raises:
            ModelError: the envelope says ``"success": false``.
            ValueError: the response has neither ``response`` nor ``tool_calls``.
        """
        if field(response, "success") is False:
            errors = field(response, "errors")
            raise ModelError(f"workers-ai: the request failed: {errors!r}", errors=errors)
        result = field(response, "result") if has(response, "result") else response
        raw_text = _text(field(result, "response"))
        calls = tuple(self.parse_calls(result))
        text = raw_text
        if calls and not field(result, "tool_calls"):  # the calls were written in the text
            text = split_text_calls(self.name, raw_text)[1].strip()
        usage = field(result, "usage")
        return ModelReply(
            message=_assistant_message(raw_text, calls),
            text=text,
            calls=calls,
            stop="tool_calls" if calls else "end",
            usage=Usage(
                token_count(usage, "prompt_tokens"), token_count(usage, "completion_tokens")
            ),
            raw=response,
        )

    def stream_assembler(self) -> WorkersAIStreamAssembler:
        """A fresh assembler for one streamed reply."""
        return WorkersAIStreamAssembler()

    def _starts_turn(self, item: Any, previous: Any) -> bool:
        """As in Chat Completions: a user message not following tool messages."""
        return chat_starts_turn(item, previous)

    def _history_entry(self, item: Any) -> HistoryEntry:
        """As in Chat Completions: ``tool`` messages answer, an assistant message calls."""
        return chat_history_entry(self, item)

    def _tool_calls(self, items: list[Any]) -> list[ToolCall]:
        calls: list[ToolCall] = []
        for position, item in enumerate(items):
            source = field(item, "function")
            if source is None:
                source = item
            call = build_call(
                self.name,
                f"tool call {position}",
                call_id=field(item, "id"),
                name=field(source, "name"),
                arguments=field(source, "arguments"),
                position=position,
            )
            calls.append(call)
        return unique_ids(calls)


class WorkersAIStreamAssembler:
    """Assembles one streamed Workers AI reply from its SSE events, without I/O.

    Feed the JSON of each ``data:`` line (not the final ``[DONE]``) to ``feed``. Events
    carry text in ``response`` (some models send OpenAI-style ``choices[0].delta.content``
    instead), ``usage``, and ``tool_calls``: whole ``{"name", "arguments"}`` calls (how
    the native API sends them, in one event near the end), or OpenAI-style fragments with an
    ``index`` whose ``function.arguments`` pieces are joined, as Cloudflare's AI SDK
    provider merges them. ``reply()`` equals ``parse_reply`` of the same reply unstreamed.
    https://developers.cloudflare.com/workers-ai/features/streaming/
    """

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: list[dict[str, Any]] = []
        self._by_index: dict[int, int] = {}  # OpenAI-style index -> position in _calls
        self._usage: Any = None

    def feed(self, event: Any) -> list[StreamDelta]:
        """Take one event's JSON; return the text and tool-call fragments it carries.

        Raises:
            ModelError: an event reporting an error.
        """
        if not isinstance(event, Mapping):
            raise ValueError(f"workers-ai: expected a JSON object event; got {describe(event)}")
        data = cast("Mapping[str, Any]", event)
        if data.get("success") is False or data.get("errors"):
            errors = data.get("errors")
            raise ModelError(f"workers-ai: error in stream: {errors!r}", errors=errors)
        deltas: list[StreamDelta] = []
        text = data.get("response")
        if text is None:
            choices = as_list(data.get("choices")) or []
            text = field(field(choices[0], "delta"), "content") if choices else None
        if text is not None and text != "":
            piece = _text(text)
            self._text.append(piece)
            deltas.append(StreamDelta(text=piece))
        for item in as_list(data.get("tool_calls")) or []:
            deltas.extend(self._tool_call(item))
        if data.get("usage") is not None:
            self._usage = data["usage"]
        return deltas

    def reply(self) -> ModelReply:
        """The finished reply, equal to ``parse_reply`` of the unstreamed response."""
        result: dict[str, Any] = {"response": "".join(self._text)}
        if self._calls:
            result["tool_calls"] = [
                {key: value for key, value in call.items() if value is not None}
                for call in self._calls
            ]
        if self._usage is not None:
            result["usage"] = self._usage
        return CODEC.parse_reply(result)

    def _tool_call(self, item: Any) -> list[StreamDelta]:
        source = field(item, "function")
        if source is None:
            source = item
        name = field(source, "name")
        arguments = field(source, "arguments")
        call_id = field(item, "id")
        index = field(item, "index")
        position = self._by_index.get(index) if isinstance(index, int) else None
        if position is None:  # a new call: whole, or the first fragment of an indexed one
            position = len(self._calls)
            self._calls.append({"id": call_id, "name": name, "arguments": arguments})
            if isinstance(index, int):
                self._by_index[index] = position
            elif not call_id and isinstance(name, str) and name:
                # A whole call without an id: announce the id parse_calls will give it.
                call_id = build_call(
                    CODEC.name,
                    f"tool call {position}",
                    call_id=None,
                    name=name,
                    arguments=arguments,
                    position=position,
                ).id
        else:  # a later fragment of an indexed call
            call = self._calls[position]
            if call_id:
                call["id"] = call_id
            if name:
                call["name"] = name
            if isinstance(arguments, str):
                previous = call["arguments"]
                call["arguments"] = (previous if isinstance(previous, str) else "") + arguments
            elif arguments is not None:
                call["arguments"] = arguments
        if arguments is None:
            fragment = ""
        elif isinstance(arguments, str):
            fragment = arguments
        else:
            fragment = json.dumps(arguments)
        return [
            StreamDelta(
                call_index=position,
                call_id=call_id or None,
                call_name=name or None,
                arguments=fragment,
            )
        ]


def _tool_name(tool: Any) -> Any:
    """The name of a flat ``{"name", ...}`` or OpenAI-style ``{"function": {"name"}}`` tool."""
    function = field(tool, "function")
    return field(function if function is not None else tool, "name")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value)


def _assistant_message(text: str, calls: Sequence[ToolCall]) -> dict[str, Any]:
    """``{"role": "assistant", "content", "tool_calls": [{"id", "type": "function",
    "function": {"name", "arguments"}}]}``, the shape Cloudflare's AI SDK provider sends,
    with the arguments as a JSON string and, when there is no text, the calls written as
    ``{"name", "parameters"}`` JSON in ``content`` for chat templates that read only text."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        if not text:
            message["content"] = _calls_as_text(calls)
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": arguments_text(call.arguments)},
            }
            for call in calls
        ]
    return message


def _calls_as_text(calls: Sequence[ToolCall]) -> str:
    """The calls as Llama-style ``{"name", "parameters"}`` JSON (a list for several)."""
    written: list[dict[str, Any]] = []
    for call in calls:
        arguments: Any = call.arguments
        if isinstance(arguments, str):
            with contextlib.suppress(ValueError, RecursionError):
                arguments = json.loads(arguments)
        written.append(
            {"name": call.name, "parameters": arguments if arguments is not None else {}}
        )
    return json_text(written[0] if len(written) == 1 else written)


CODEC = WorkersAICodec()


def _result_text(result: ToolResult) -> str:
    """A result's text; an image or file in it is reported left out."""
    if not result.parts:
        return result.content
    return text_with_placeholders("workers-ai", result, _carries_none)[0]


def _carries_none(part: object) -> bool:
    return False
