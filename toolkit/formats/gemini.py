"""Google Gemini: ``FunctionDeclaration`` tool definitions in Gemini's OpenAPI-subset schema,
and the request, reply and stream shapes of ``models.generateContent`` and
``models.streamGenerateContent``.

Sans-I/O: nothing here sends a request or imports the SDK. A conversation is kept as the REST
API's ``Content`` dicts (camelCase; a ``thoughtSignature`` as its base64 text), so it saves as
JSON and goes back to the API, or to google-genai (which reads the same dicts), unchanged.
SDK objects (``GenerateContentResponse``, its stream chunks) are read through their
``model_dump``. https://ai.google.dev/api/generate-content
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

from toolkit.errors import ModelError
from toolkit.formats._base import ConversationBase
from toolkit.formats._dialects import GEMINI, parameters_for
from toolkit.formats._media import Media, text_with_placeholders
from toolkit.formats._names import NameRule
from toolkit.formats._parse import (
    arguments_mapping,
    arguments_text,
    as_list,
    build_call,
    describe,
    field,
    has,
    is_generated,
    plain,
    token_count,
    unique_ids,
)
from toolkit.formats._settings import Spelling, sequences
from toolkit.model import ModelReply, StreamDelta, Usage

if TYPE_CHECKING:
    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.model import ModelRequest, ReplyStop, ToolChoice
    from toolkit.tool import Tool

__all__ = ["CODEC", "GeminiCodec", "GeminiStreamAssembler"]

NAMES = NameRule("a-zA-Z0-9_.:-", 64)

# https://ai.google.dev/api/generate-content#FinishReason; any other reason (LANGUAGE,
# OTHER, reasons added later) is "other".
_STOPS: dict[str, ReplyStop] = {
    "STOP": "end",
    "MAX_TOKENS": "length",
    # The provider withheld the answer (or the rest of it): safety, recitation, policy.
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    # The model tried to call a function, in a form the API could not parse: no call.
    "MALFORMED_FUNCTION_CALL": "malformed_call",
    "IMAGE_RECITATION": "content_filter",
}
_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}
_EMPTY_TURNS: dict[object, str] = {
    "content_filter": "(The provider withheld the answer.)",
    "malformed_call": "(A function call the API could not parse.)",
}


class GeminiCodec(ConversationBase):
    """The Gemini API's ``generateContent`` protocol: ``functionCall`` / ``functionResponse``
    parts in ``user`` and ``model`` contents.

    Function declarations have no ``$ref``, no ``additionalProperties``, upper-case types,
    ``nullable`` instead of null unions and string-only enums.
    """

    _SETTINGS: ClassVar[Spelling] = {
        "max_tokens": "maxOutputTokens",
        "temperature": "temperature",
        "top_p": "topP",
        "stop": ("stopSequences", sequences),
        "seed": "seed",
    }

    @property
    def name(self) -> Literal["gemini"]:
        """``"gemini"``."""
        return "gemini"

    def wire_name(self, name: str) -> str:
        """Letters, digits, ``_ . : -``, at most 64 characters."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"name", "description", "parameters"}``; ``parameters`` is left out when the
        function takes none (Gemini rejects an OBJECT without properties)."""
        name, renamed = NAMES.renamed(tool.name)
        parameters, changes = parameters_for(tool.parameters, GEMINI, tool.__qualname__)
        definition: dict[str, Any] = {"name": name, "description": tool.description}
        if parameters.get("properties"):
            definition["parameters"] = parameters
        return definition, renamed + changes

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The ``functionCall`` parts of a ``GenerateContentResponse`` (its first
        candidate), of a candidate, of a ``Content`` or of a list of parts, as REST dicts
        (camelCase) or google-genai objects (``function_call``): ``ToolCall(id, name,
        args)``. A call without ``id`` gets a stable generated one.
        https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
        """
        parts = self._parts(reply)
        calls: list[ToolCall] = []
        for index, part in enumerate(parts):
            call = field(part, "functionCall")
            if call is None:
                call = field(part, "function_call")
            if call is None:
                continue
            calls.append(
                build_call(
                    self.name,
                    f"part {index}",
                    call_id=field(call, "id"),
                    name=field(call, "name"),
                    arguments=field(call, "args"),
                    position=len(calls),
                )
            )
        return unique_ids(calls)

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"role": "user", "parts": [{"functionResponse": ...}]}`` content holding a
        ``{"name", "id"?, "response": {"result"} or {"error"}}`` part per result. ``id``
        echoes the call's, left out when the model sent none. No results, no message.

        Images (PNG, JPEG, WebP) and PDF or plain-text files given as bytes travel in the
        function response's own ``parts``, as ``{"inlineData": {"mimeType", "data"}}``
        (multimodal function responses; ``result`` holds a placeholder for each). Links
        (``fileData`` is not taken by the Gemini API) and other types cannot be carried:
        their placeholder says so, and ``ContentLossWarning`` tells the host.
        https://ai.google.dev/api/caching#FunctionResponse and
        https://ai.google.dev/gemini-api/docs/function-calling
        """
        parts: list[dict[str, Any]] = []
        for r in results:
            response: dict[str, Any] = {"name": r.name}
            if not is_generated(r.call_id):
                response["id"] = r.call_id
            text, carried = r.content, []
            if r.parts:
                text, carried = text_with_placeholders(self.name, r, _gemini_carries)
            response["response"] = {"error": text} if r.is_error else {"result": text}
            if carried:
                response["parts"] = [
                    {"inlineData": {"mimeType": part.media_type, "data": part.base64()}}
                    for part in carried
                ]
            parts.append({"functionResponse": response})
        return [{"role": "user", "parts": parts}] if parts else []

    def user_message(self, text: str) -> dict[str, Any]:
        """``{"role": "user", "parts": [{"text": text}]}``."""
        return {"role": "user", "parts": [{"text": text}]}

    def assistant_message(self, text: str, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        """``{"role": "model", "parts": [text part?, functionCall parts...]}``, each call's
        ``args`` as an object (a JSON text that is not one becomes ``{}``) and its ``id``
        left out when the model sent none."""
        parts: list[dict[str, Any]] = [{"text": text}] if text else []
        for c in calls:
            call: dict[str, Any] = {"name": c.name, "args": arguments_mapping(c.arguments)}
            if not is_generated(c.id):
                call["id"] = c.id
            parts.append({"functionCall": call})
        return {"role": "model", "parts": parts or [{"text": ""}]}

    def tool_choice(self, choice: ToolChoice, *, parallel: bool | None = None) -> Any:
        """``{"functionCallingConfig": {"mode": "AUTO" | "ANY" | "NONE"}}`` (``"required"``
        is ``ANY``); a tool's name is ``ANY`` with ``allowedFunctionNames: [name]``. Gemini
        has no switch for parallel calls, so ``parallel`` is ignored.
        https://ai.google.dev/gemini-api/docs/function-calling#function_calling_modes
        """
        mode = _MODES.get(choice)
        if mode is not None:
            return {"functionCallingConfig": {"mode": mode}}
        names = [self.wire_name(choice)]
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": names}}

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        """The JSON body of ``POST .../models/{model}:generateContent`` (the model is in the
        URL, not here).

        ``{"contents", "systemInstruction"?, "tools"?, "toolConfig"?, "generationConfig"?}``:
        the history as ``contents``; the system prompt as ``systemInstruction``; the tool
        definitions in one ``{"functionDeclarations": [...]}`` tool, with ``toolConfig``
        from ``tool_choice`` (left out, both, without tools); the settings as
        ``generationConfig`` (see ``_generation_config``).

        Raises:
            ValueError: the request has no model name, or ``tool_choice`` names a tool that
                is not among the tools sent.
        """
        if not request.model:
            raise ValueError("gemini: the request has no model name; pass Runner(..., model=...)")
        body: dict[str, Any] = {"contents": list(request.messages)}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        if request.tools:
            declarations = list(request.tools)
            choice = request.tool_choice
            names = {field(d, "name") for d in declarations}
            if choice not in _MODES and self.wire_name(choice) not in names:
                raise ValueError(
                    f"gemini: tool_choice names {choice!r}, which is not among the tools sent"
                )
            body["tools"] = [{"functionDeclarations": declarations}]
            body["toolConfig"] = self.tool_choice(choice)
        generation = self._generation_config(request)
        if generation:
            body["generationConfig"] = generation
        return body

    def parse_reply(self, response: Any) -> ModelReply:
        """A ``ModelReply`` from a ``GenerateContentResponse`` (SDK object or its JSON).

        ``message`` is the first candidate's content, ``{"role": "model", "parts": [...]}``,
        with every part as the API sent it: a ``thoughtSignature`` must go back unchanged
        (Gemini 3 refuses a history whose function calls lost theirs), and thought parts
        stay too. A reply with no parts (the provider withheld it) keeps a placeholder
        text, since the API refuses an empty content in a history. ``text`` joins the text
        parts that are not thoughts; ``stop`` maps ``finishReason`` (``STOP`` with calls is
        ``tool_calls``; a prompt blocked before any candidate is ``content_filter``);
        ``usage`` counts tool-use prompt tokens as input and thinking tokens as output.

        Raises:
            ModelError: the response is an error (``{"error": {...}}``).
            ValueError: the response does not have a GenerateContentResponse's shape.
        """
        data = plain(response, self.name, "the response")
        candidates = _candidates(data, response)
        candidate = _object(candidates[0], "candidate 0") if candidates else {}
        parts = _reply_parts(candidate)
        calls = self.parse_calls(parts)
        _keep_ids(parts, calls)
        text = "".join(
            part["text"]
            for part in parts
            if isinstance(part.get("text"), str) and not part.get("thought")
        )
        stop = _stop(candidates, candidate, data, bool(calls))
        kept = parts or [{"text": _EMPTY_TURNS.get(stop, "(empty reply)")}]
        response_id = data.get("responseId")
        return ModelReply(
            message={"role": "model", "parts": kept},
            text=text,
            calls=tuple(calls),
            stop=stop,
            usage=_usage(data.get("usageMetadata")),
            response_id=response_id if isinstance(response_id, str) else None,
            raw=response,
        )

    def stream_assembler(self) -> GeminiStreamAssembler:
        """A fresh assembler for one streamed reply."""
        return GeminiStreamAssembler()

    def append_messages(self, history: list[Any], messages: Any) -> None:
        """Append, merging a content into the last one when both have the same role:
        Gemini wants ``user`` and ``model`` turns to alternate, so a user's text right after
        the function responses joins their content."""
        items: list[Any] = messages if isinstance(messages, list) else [messages]  # pyright: ignore[reportUnknownVariableType]
        for item in items:
            if history and _mergeable(history[-1], item):
                history[-1] = {**history[-1], "parts": [*history[-1]["parts"], *item["parts"]]}
            else:
                history.append(item)

    def unanswered_calls(self, history: Sequence[Any]) -> list[ToolCall]:
        """The calls of the last ``model`` content that no later ``functionResponse``
        answers. A response answers by ``id``; one without (the API mostly sends calls
        without ids) answers the first open call of its ``name``, as the API pairs them in
        order. Linear in the history's last turn; an unreadable content ends the walk (and
        the answer is then empty)."""
        later: list[list[dict[str, Any]]] = []  # the responses of each later content, last first
        for item in reversed(history):
            parts = _history_parts(item)
            if parts is None:
                return []
            if cast("dict[str, Any]", item).get("role") == "model":
                try:
                    calls = self.parse_calls(parts)
                except ValueError:
                    return []
                return _open(calls, [r for responses in reversed(later) for r in responses])
            later.append(_responses(parts))
        return []

    def _generation_config(self, request: ModelRequest) -> dict[str, Any]:
        """The request's ``generationConfig``: its settings, the neutral ones (``max_tokens``,
        ``top_p``, ``stop``...) in Gemini's spelling (``maxOutputTokens``...), any other key
        as given (``thinkingConfig``, ``topK``, ``responseMimeType``...). The one place
        settings become Gemini's. A structured reply (``request.output_tool``) asks for
        JSON of the tool's parameters (``responseMimeType`` and ``responseSchema``, the
        same OpenAPI subset as a function declaration's)."""
        config = self.translate_settings(request.settings)
        if request.output_tool is not None:
            config.setdefault("responseMimeType", "application/json")
            config.setdefault("responseSchema", request.output_tool["parameters"])
        return config

    def _starts_turn(self, item: Any, previous: Any) -> bool:
        """A user content holding something besides ``functionResponse`` parts (a text
        merged into the responses' content starts a turn there too)."""
        if not isinstance(item, dict):
            return False
        content = cast("dict[str, Any]", item)
        if content.get("role") != "user":
            return False
        parts = content.get("parts")
        if not isinstance(parts, list):
            return True
        return any(
            not (isinstance(p, dict) and "functionResponse" in p) for p in cast("list[Any]", parts)
        )

    def _parts(self, reply: Any) -> list[Any]:
        """The parts of the first candidate, wherever ``reply`` starts."""
        parts = as_list(reply)
        if parts is not None:
            return parts
        if has(reply, "candidates"):
            candidates = as_list(field(reply, "candidates"))
            if not candidates:  # a blocked prompt has no candidates
                return []
            reply = field(candidates[0], "content")
        elif has(reply, "content") and not has(reply, "parts"):  # one candidate
            reply = field(reply, "content")
        elif not has(reply, "parts"):
            raise ValueError(
                "gemini: expected a GenerateContentResponse, a candidate, a Content or a list"
                f" of parts; got {describe(reply)}"
            )
        # No content (a safety stop) or content without parts (an empty answer): no calls.
        parts = field(reply, "parts")
        if parts is None:
            return []
        listed = as_list(parts)
        if listed is None:
            raise ValueError(f"gemini: 'parts' is not a list: {describe(parts)}")
        return listed


class GeminiStreamAssembler:
    """Assembles one streamed reply from ``streamGenerateContent`` chunks, without I/O.

    Each chunk is a ``GenerateContentResponse`` (an SDK object from
    ``generate_content_stream``, or the JSON of one SSE event) holding whole parts: text
    arrives as one part per fragment, a function call whole in one part. ``feed`` returns
    the fragments to show now; ``reply()`` joins the text fragments back into parts (a
    thought with thoughts, answer with answer, a ``thoughtSignature`` kept on the part it
    came with) and gives what ``parse_reply`` gives for the unstreamed response.
    https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
    """

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []
        self._calls = 0
        self._candidate: dict[str, Any] | None = None  # None: no chunk had a candidate
        self._response: dict[str, Any] = {}  # the latest usage, ids and prompt feedback

    def feed(self, event: Any) -> list[StreamDelta]:
        """Take one chunk; return the text and tool-call fragments it carries (a call's
        name, id and whole arguments at once). Thought parts show nothing.

        Raises:
            ModelError: the chunk is an error (``{"error": {...}}``).
            ValueError: the chunk does not have a GenerateContentResponse's shape.
        """
        chunk = plain(event, "gemini", "a stream chunk")
        candidates = _candidates(chunk, event)
        self._response.update(
            {k: v for k, v in chunk.items() if k != "candidates" and v is not None}
        )
        if not candidates:
            return []
        candidate = _object(candidates[0], "candidate 0")
        if self._candidate is None:
            self._candidate = {}
        self._candidate.update({k: v for k, v in candidate.items() if k != "content"})
        deltas: list[StreamDelta] = []
        for part in _reply_parts(candidate):
            deltas += self._add(part)
        return deltas

    def reply(self) -> ModelReply:
        """The finished reply, equal to ``parse_reply`` of the unstreamed response."""
        response = dict(self._response)
        if self._candidate is None:
            response["candidates"] = []
        else:
            content = {"role": "model", "parts": [dict(part) for part in self._parts]}
            response["candidates"] = [{**self._candidate, "content": content}]
        return CODEC.parse_reply(response)

    def _add(self, part: dict[str, Any]) -> list[StreamDelta]:
        made = part.get("functionCall")
        if made is None:
            made = part.get("function_call")
        if made is not None:
            position = self._calls
            # Named as parse_calls names it: the id sent, or one made from the position.
            call = build_call(
                "gemini",
                f"part {len(self._parts)}",
                call_id=field(made, "id"),
                name=field(made, "name"),
                arguments=field(made, "args"),
                position=position,
            )
            self._parts.append(part)
            self._calls += 1
            return [
                StreamDelta(call_index=position, call_id=call.id, call_name=call.name),
                StreamDelta(call_index=position, arguments=arguments_text(call.arguments)),
            ]
        text = part.get("text")
        if not isinstance(text, str) or not set(part) <= _TEXT_KEYS:
            self._parts.append(part)  # anything else (code, inline data...) as it came
            return []
        last = self._parts[-1] if self._parts else None
        if (
            last is not None
            and set(last) <= _TEXT_KEYS
            and isinstance(last.get("text"), str)
            and "thoughtSignature" not in last
            and bool(last.get("thought")) == bool(part.get("thought"))
        ):
            last["text"] += text
            if "thoughtSignature" in part:
                last["thoughtSignature"] = part["thoughtSignature"]
        else:
            self._parts.append(dict(part))
        return [StreamDelta(text=text)] if text and not part.get("thought") else []


_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})


def _object(value: Any, where: str) -> dict[str, Any]:
    """``value`` (a mapping or an SDK object) as a fresh dict, ``None`` fields dropped."""
    return {k: v for k, v in plain(value, "gemini", where).items() if v is not None}


def _candidates(data: dict[str, Any], original: Any) -> list[Any]:
    """The response's candidates (empty for a prompt blocked before any).

    Raises:
        ModelError: ``data`` is an error.
        ValueError: ``data`` is not a GenerateContentResponse.
    """
    if "candidates" not in data:
        error = data.get("error")
        if error is not None:
            message = field(error, "message") if isinstance(error, Mapping) else error
            raise ModelError(
                f"gemini: the response is an error: {message}",
                status=_status(field(error, "code")),
                errors=error,
            )
        if "promptFeedback" in data or "usageMetadata" in data:
            return []
        if not isinstance(original, Mapping):  # an SDK object whose candidates were None
            return []
        raise ValueError(f"gemini: expected a GenerateContentResponse; got {describe(original)}")
    candidates = data["candidates"]
    if candidates is None:
        return []
    listed = as_list(candidates)
    if listed is None:
        raise ValueError(f"gemini: 'candidates' is not a list: {describe(candidates)}")
    return listed


def _status(code: Any) -> int | None:
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _reply_parts(candidate: dict[str, Any]) -> list[dict[str, Any]]:
    """A candidate's parts as fresh dicts (no content, or no parts: none)."""
    content = candidate.get("content")
    if content is None:
        return []
    parts = field(_object(content, "a candidate's content"), "parts")
    if parts is None:
        return []
    listed = as_list(parts)
    if listed is None:
        raise ValueError(f"gemini: 'parts' is not a list: {describe(parts)}")
    return [_object(part, f"part {index}") for index, part in enumerate(listed)]


def _keep_ids(parts: list[dict[str, Any]], calls: list[ToolCall]) -> None:
    """Write into the history the ids ``unique_ids`` changed, so that the results and the
    calls kept agree (a call without an id keeps none: its generated id is found again
    from the same part)."""
    position = 0
    for index, part in enumerate(parts):
        key = "functionCall" if "functionCall" in part else "function_call"
        call = part.get(key)
        if call is None:
            continue
        made = calls[position]
        position += 1
        sent = field(call, "id")
        if sent and sent != made.id:
            parts[index] = {**part, key: {**_object(call, f"part {index}"), "id": made.id}}


def _stop(
    candidates: list[Any], candidate: dict[str, Any], data: dict[str, Any], calls: bool
) -> ReplyStop:
    if not candidates:  # the prompt itself was blocked
        blocked = field(data.get("promptFeedback"), "blockReason")
        return "content_filter" if blocked else "other"
    reason = candidate.get("finishReason")
    stop = _STOPS.get(reason, "other") if isinstance(reason, str) else "other"
    return "tool_calls" if stop == "end" and calls else stop


def _usage(usage: Any) -> Usage:
    """Input: the prompt and tool-use prompt tokens (cached ones are part of the prompt's);
    output: the candidates' tokens and the thinking tokens, billed as output."""
    return Usage(
        token_count(usage, "promptTokenCount") + token_count(usage, "toolUsePromptTokenCount"),
        token_count(usage, "candidatesTokenCount") + token_count(usage, "thoughtsTokenCount"),
    )


def _mergeable(previous: Any, item: Any) -> bool:
    if not isinstance(previous, dict) or not isinstance(item, dict):
        return False
    before = cast("dict[str, Any]", previous)
    after = cast("dict[str, Any]", item)
    return (
        before.get("role") in ("user", "model")
        and after.get("role") == before.get("role")
        and isinstance(before.get("parts"), list)
        and isinstance(after.get("parts"), list)
    )


def _history_parts(item: Any) -> list[Any] | None:
    """A history content's parts, or ``None`` when it is not a content."""
    if not isinstance(item, dict):
        return None
    parts = cast("dict[str, Any]", item).get("parts")
    return cast("list[Any]", parts) if isinstance(parts, list) else None


def _responses(parts: list[Any]) -> list[dict[str, Any]]:
    """The ``functionResponse`` objects among ``parts``."""
    found: list[dict[str, Any]] = []
    for part in parts:
        response = (
            cast("dict[str, Any]", part).get("functionResponse") if isinstance(part, dict) else None
        )
        if isinstance(response, dict):
            found.append(cast("dict[str, Any]", response))
    return found


def _open(calls: list[ToolCall], responses: list[dict[str, Any]]) -> list[ToolCall]:
    """``calls`` less those ``responses`` answer: by id, or by name in order."""
    open_ids = {call.id for call in calls}
    by_name: dict[str, list[str]] = {}
    for call in reversed(calls):  # reversed: pop() gives each name's calls in order
        by_name.setdefault(call.name, []).append(call.id)
    for response in responses:
        answered = response.get("id")
        if isinstance(answered, str) and answered:
            open_ids.discard(answered)
            continue
        waiting = by_name.get(str(response.get("name")), [])
        while waiting:
            candidate = waiting.pop()
            if candidate in open_ids:
                open_ids.discard(candidate)
                break
    return [call for call in calls if call.id in open_ids]


_GEMINI_MEDIA = frozenset(
    {"image/png", "image/jpeg", "image/webp", "application/pdf", "text/plain"}
)
"""What a function response's ``parts`` take inline (the Gemini API's list for multimodal
function responses)."""


def _gemini_carries(part: Media) -> bool:
    """Bytes of a type in ``_GEMINI_MEDIA`` (for ``result_messages``)."""
    return part.inline and part.media_type in _GEMINI_MEDIA


CODEC = GeminiCodec()
