"""OpenAI Responses API: flat ``{"type": "function", "name": ...}`` tool definitions,
requests, responses and streamed events.

Sans-I/O: nothing here imports the ``openai`` SDK or sends anything. SDK objects are read by
attribute (and turned into plain dicts with their ``model_dump``), JSON dicts by key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from toolkit import media
from toolkit.calls import ToolCall
from toolkit.formats._base import ConversationBase, HistoryEntry
from toolkit.formats._dialects import OPENAI_STRICT, parameters_for
from toolkit.formats._media import filename
from toolkit.formats._names import NameRule
from toolkit.formats._parse import (
    arguments_text,
    as_list,
    build_call,
    describe,
    field,
    plain,
    rename_calls,
    token_count,
    unique_ids,
)
from toolkit.formats._settings import Spelling
from toolkit.model import ModelReply, ReplyStop, StreamDelta, Usage

if TYPE_CHECKING:
    from toolkit.calls import ToolResult
    from toolkit.formats import Change
    from toolkit.model import ModelRequest, ToolChoice
    from toolkit.tool import Tool

__all__ = ["CODEC", "OpenAIResponsesCodec", "OpenAIResponsesStreamAssembler"]

NAMES = NameRule("a-zA-Z0-9_-", 64)


class OpenAIResponsesCodec(ConversationBase):
    """The Responses protocol (``function_call`` / ``function_call_output`` items)."""

    _SETTINGS: ClassVar[Spelling] = {
        "max_tokens": "max_output_tokens",
        "temperature": "temperature",
        "top_p": "top_p",
        "stop": None,  # the Responses API has no stop sequences
        "seed": None,
    }

    @property
    def name(self) -> Literal["openai-responses"]:
        """``"openai-responses"``."""
        return "openai-responses"

    def wire_name(self, name: str) -> str:
        """``^[a-zA-Z0-9_-]{1,64}$``."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"type": "function", "name", "description", "parameters", "strict"}``.

        ``strict`` is always written: the Responses API treats a missing flag as strict.
        """
        name, renamed = NAMES.renamed(tool.name)
        parameters, changes = parameters_for(
            tool.parameters, OPENAI_STRICT if strict else None, tool.__qualname__
        )
        definition: dict[str, Any] = {"type": "function", "name": name}
        if tool.description:
            definition["description"] = tool.description
        definition["parameters"] = parameters
        definition["strict"] = strict
        return definition, renamed + changes

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The ``function_call`` items of a ``Response`` (object or dict) or of a list of
        output items: ``ToolCall(call_id, name, arguments)``, the arguments as the raw JSON
        string. The id is ``call_id``, which ``function_call_output`` must echo (not the
        item's own ``id``). Messages, reasoning and built-in tool items are skipped.
        https://platform.openai.com/docs/api-reference/responses/object#responses/object-output
        """
        items = as_list(reply)
        if items is None:
            output = field(reply, "output")
            if output is None:
                raise ValueError(
                    "openai-responses: expected a Response or a list of output items;"
                    f" got {describe(reply)}"
                )
            items = as_list(output)
            if items is None:
                raise ValueError(f"openai-responses: 'output' is not a list: {describe(output)}")
        calls: list[ToolCall] = []
        for index, item in enumerate(items):
            kind = field(item, "type")
            if kind is None:
                raise ValueError(f"openai-responses: output item {index} has no 'type'")
            if kind == "function_call":
                call = build_call(
                    self.name,
                    f"output item {index}",
                    call_id=field(item, "call_id"),
                    name=field(item, "name"),
                    arguments=field(item, "arguments"),
                    position=len(calls),
                )
                calls.append(call)
        return unique_ids(calls)

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"type": "function_call_output", "call_id", "output"}`` input item per result.

        The ``output`` of a result with images or files is a list, in order:
        ``{"type": "input_text", "text"}``, ``{"type": "input_image", "image_url"}`` (a
        data URL or the link) and ``{"type": "input_file", "filename", "file_data"}`` (a
        data URL) or ``{"type": "input_file", "file_url"}``.
        https://platform.openai.com/docs/guides/function-calling (Responses tab);
        ``openai.types.responses.response_input_param.FunctionCallOutput`` and
        ``ResponseFunctionCallOutputItemParam``
        """
        return [
            {
                "type": "function_call_output",
                "call_id": r.call_id,
                "output": _output(r.parts) if r.parts else r.content,
            }
            for r in results
        ]

    def user_message(self, text: str) -> dict[str, Any]:
        """``{"role": "user", "content": text}`` (an easy input message)."""
        return {"role": "user", "content": text}

    def assistant_message(self, text: str, calls: Sequence[ToolCall] = ()) -> list[Any]:
        """Output items: a ``message`` with one ``output_text`` part (when there is text),
        then one ``function_call`` item per call."""
        items: list[Any] = []
        if text:
            items.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text, "annotations": []}],
                }
            )
        items.extend(
            {
                "type": "function_call",
                "call_id": call.id,
                "name": call.name,
                "arguments": arguments_text(call.arguments),
            }
            for call in calls
        )
        return items

    def tool_choice(self, choice: ToolChoice, *, parallel: bool | None = None) -> Any:
        """``"auto"``, ``"none"``, ``"required"``, or ``{"type": "function", "name"}`` for a
        tool name (``parallel_tool_calls`` is a separate parameter)."""
        if choice in ("auto", "none", "required"):
            return choice
        return {"type": "function", "name": self.wire_name(choice)}

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        """The keyword arguments of ``client.responses.create`` for ``request``.

        The history is the ``input`` list and the system prompt the ``instructions`` (which
        the API does not carry over between responses, so it is sent every time).
        ``tool_choice`` and ``parallel_tool_calls`` are only sent with tools; a tool name as
        ``tool_choice`` becomes ``{"type": "function", "name"}``. ``request.settings`` go
        in last (``max_output_tokens``, ``reasoning``, ``store``, ``include``...).
        https://platform.openai.com/docs/api-reference/responses/create

        Raises:
            ValueError: the request has no model name.
        """
        if not request.model:
            raise ValueError(
                "openai-responses: the request has no model name; pass Runner(..., model=...)"
            )
        kwargs: dict[str, Any] = {"model": request.model, "input": list(request.messages)}
        if request.system:
            kwargs["instructions"] = request.system
        if request.tools:
            kwargs["tools"] = list(request.tools)
            kwargs["tool_choice"] = self.tool_choice(request.tool_choice)
            if request.parallel_tool_calls is not None:
                kwargs["parallel_tool_calls"] = request.parallel_tool_calls
        if request.output_tool is not None:
            tool = request.output_tool
            kwargs["text"] = {
                "format": {
                    "type": "json_schema",
                    "name": tool["name"],
                    "schema": tool["parameters"],
                    "strict": bool(tool.get("strict")),
                }
            }
        kwargs.update(self.translate_settings(request.settings))
        return kwargs

    def parse_reply(self, response: Any) -> ModelReply:
        """A ``Response`` (SDK object or JSON dict) as a ``ModelReply``.

        ``message`` is the list of output items as plain dicts, to extend the next
        ``input`` with, as the API asks ("append ``response.output``"): messages, function
        calls and reasoning items keep their ``id`` and ``status`` (the input schema
        requires both on an assistant message item), only ``null`` fields are dropped.
        ``text`` is the joined ``output_text`` parts, or the refusal when there is no text.
        ``stop``: a refusal part -> ``refusal``; status ``incomplete`` -> ``length`` for
        ``max_output_tokens``, ``content_filter`` for that reason, else ``other``; status
        ``completed`` -> ``tool_calls`` or ``end``; ``failed`` / ``cancelled`` -> ``other``.

        Raises:
            ValueError: ``response`` has no ``output`` list, or an item is not an object.
        """
        output = as_list(field(response, "output"))
        if output is None:
            raise ValueError(
                f"openai-responses: expected a Response with an 'output' list; got "
                f"{describe(response)}"
            )
        items = [
            plain(item, self.name, f"output item {index}") for index, item in enumerate(output)
        ]
        calls = self.parse_calls(items)
        rename_calls(items, calls, kind="function_call", id_key="call_id")
        text, refusal = _texts(items)
        status = field(response, "status")
        stop: ReplyStop
        if refusal:
            stop = "refusal"
        elif status == "incomplete":
            reason = field(field(response, "incomplete_details"), "reason")
            stop = _INCOMPLETE_REASONS.get(str(reason), "other")
        elif status in ("failed", "cancelled"):
            stop = "other"
        else:
            stop = "tool_calls" if calls else "end"
        usage = field(response, "usage")
        response_id = field(response, "id")
        return ModelReply(
            message=items,
            text=text or refusal,
            calls=tuple(calls),
            stop=stop,
            usage=Usage(token_count(usage, "input_tokens"), token_count(usage, "output_tokens")),
            response_id=response_id if isinstance(response_id, str) else None,
            raw=response,
        )

    def stream_assembler(self) -> OpenAIResponsesStreamAssembler:
        """A fresh assembler for one streamed response."""
        return OpenAIResponsesStreamAssembler()

    def _starts_turn(self, item: Any, previous: Any) -> bool:
        """A user message item (``{"role": "user", ...}``, typed ``message`` or not)."""
        if not isinstance(item, dict):
            return False
        entry = cast("dict[str, Any]", item)
        return entry.get("role") == "user" and entry.get("type", "message") == "message"

    def _history_entry(self, item: Any) -> HistoryEntry:
        """A ``function_call_output`` answers its ``call_id``; a ``function_call`` item
        makes a call; the items of one response (calls, messages, reasoning) are walked
        through, and any other item (a user or system message) starts the turn."""
        if not isinstance(item, dict):
            return [], set(), False
        entry = cast("dict[str, Any]", item)
        kind = entry.get("type")
        if kind == "function_call_output":
            call_id = entry.get("call_id")
            return [], ({call_id} if isinstance(call_id, str) else set()), True
        if kind == "function_call":
            return self.parse_calls([entry]), set(), True
        if kind == "reasoning" or (kind == "message" and entry.get("role") == "assistant"):
            return [], set(), True
        return [], set(), False


_INCOMPLETE_REASONS: dict[str, ReplyStop] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}


def _texts(items: list[dict[str, Any]]) -> tuple[str, str]:
    """The joined ``output_text`` and ``refusal`` parts of the message items."""
    text: list[str] = []
    refusal: list[str] = []
    for item in items:
        if item.get("type") != "message":
            continue
        for part in as_list(item.get("content")) or []:
            kind = field(part, "type")
            if kind == "output_text" and isinstance(value := field(part, "text"), str):
                text.append(value)
            elif kind == "refusal" and isinstance(value := field(part, "refusal"), str):
                refusal.append(value)
    return "".join(text), "".join(refusal)


_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")


class OpenAIResponsesStreamAssembler:
    """Builds one ``ModelReply`` from the ``response.*`` events of a streamed response.

    Sans-I/O: feed it each event as it arrives (SDK object or JSON dict), forward the
    ``StreamDelta`` objects it returns, then ask for ``reply()``. When the stream ended
    with ``response.completed`` (or ``.incomplete`` / ``.failed``) the reply is exactly
    ``OpenAIResponsesCodec.parse_reply`` of that final response; otherwise it is built from
    the items seen (finished ones as sent in ``output_item.done``, unfinished ones from
    their fragments) with stop ``other``.

    ``StreamDelta.call_index`` counts function calls only, in output order, matching the
    positions of ``reply().calls``; refusal text streams as text.
    """

    def __init__(self) -> None:
        self._response_id: str | None = None
        self._items: dict[int, dict[str, Any]] = {}  # by output_index
        self._finished: set[int] = set()
        self._text: dict[int, list[str]] = {}
        self._refusal: dict[int, list[str]] = {}
        self._calls: dict[int, int] = {}  # output_index -> call position
        self._final: Any = None

    def feed(self, event: Any) -> list[StreamDelta]:
        """Take one event; return the deltas it carries (none for bookkeeping events)."""
        kind = field(event, "type")
        index = field(event, "output_index")
        if kind in _FINAL_EVENTS:
            self._final = field(event, "response")
        elif kind in ("response.created", "response.in_progress"):
            response_id = field(field(event, "response"), "id")
            if isinstance(response_id, str):
                self._response_id = response_id
        elif not isinstance(index, int):
            pass  # nothing below can be placed without an output_index
        elif kind == "response.output_item.added":
            item = plain(field(event, "item"), CODEC.name, f"output item {index}")
            self._items[index] = item
            if item.get("type") == "function_call":
                name, call_id = item.get("name"), item.get("call_id")
                arguments = item.get("arguments")
                return [
                    StreamDelta(
                        call_index=self._call_position(index),
                        call_id=call_id if isinstance(call_id, str) else None,
                        call_name=name if isinstance(name, str) else None,
                        arguments=arguments if isinstance(arguments, str) else "",
                    )
                ]
        elif kind == "response.output_item.done":
            self._items[index] = plain(field(event, "item"), CODEC.name, f"output item {index}")
            self._finished.add(index)
        elif kind in ("response.output_text.delta", "response.refusal.delta"):
            delta = field(event, "delta")
            if isinstance(delta, str) and delta:
                parts = self._text if kind == "response.output_text.delta" else self._refusal
                parts.setdefault(index, []).append(delta)
                return [StreamDelta(text=delta)]
        elif kind == "response.function_call_arguments.delta":
            delta = field(event, "delta")
            if isinstance(delta, str) and delta:
                position = self._call_position(index)
                item = self._items.setdefault(index, {"type": "function_call", "arguments": ""})
                item["arguments"] = str(item.get("arguments") or "") + delta
                return [StreamDelta(call_index=position, arguments=delta)]
        return []

    def reply(self) -> ModelReply:
        """The whole reply: the final response's, or one built from the events seen.

        Raises:
            ValueError: a function call never got its name.
        """
        if self._final is not None:
            return CODEC.parse_reply(self._final)
        output: list[dict[str, Any]] = []
        for index in sorted(self._items):
            item = self._items[index]
            if index not in self._finished and item.get("type") == "message":
                item = {**item, "content": self._partial_content(index)}
            output.append(item)
        return CODEC.parse_reply(
            {"id": self._response_id, "status": "incomplete", "output": output}
        )

    def _partial_content(self, index: int) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = []
        if index in self._text:
            text = "".join(self._text[index])
            content.append({"type": "output_text", "text": text, "annotations": []})
        if index in self._refusal:
            content.append({"type": "refusal", "refusal": "".join(self._refusal[index])})
        return content

    def _call_position(self, index: int) -> int:
        position = self._calls.get(index)
        if position is None:
            position = self._calls[index] = len(self._calls)
        return position


CODEC = OpenAIResponsesCodec()


def _output(parts: Sequence[media.Part]) -> list[dict[str, Any]]:
    """A result's parts as ``function_call_output`` content (empty texts left out)."""
    items: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, str):
            if part:
                items.append({"type": "input_text", "text": part})
        elif isinstance(part, media.Image):
            url = part.data_url() if part.inline else part.url
            items.append({"type": "input_image", "image_url": url})
        elif part.inline:
            items.append(
                {"type": "input_file", "filename": filename(part), "file_data": part.data_url()}
            )
        else:
            items.append({"type": "input_file", "file_url": part.url})
    return items
