"""Gemini API: ``POST /{version}/models/{model}:generateContent`` and
``:streamGenerateContent`` (answered as SSE, what ``?alt=sse`` asks for and google-genai
always asks).

Validation mirrors the live API's 400s: the conversation rules in the wording users have
reported from generativelanguage.googleapis.com, field names checked the way its JSON parser
checks them, and function declarations against ``tests/conformance.py``'s Gemini rules.
Rendering follows ``GenerateContentResponse``: text and ``functionCall`` parts in the first
candidate, ``finishReason``, ``usageMetadata``; a stream sends whole parts, one per chunk,
the last content chunk carrying ``finishReason`` and the full usage.

Thought signatures behave as on Gemini 3: the first ``functionCall`` part of every reply
carries a ``thoughtSignature`` (opaque bytes, base64 in JSON). Any signature that comes back
must be the one sent for that call ("Corrupted thought signature."), and in the current turn
(the contents after the last user text) a function call that lost its signature is refused.
https://ai.google.dev/api/generate-content and
https://ai.google.dev/gemini-api/docs/thought-signatures
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from conformance import check_definition

from ._app import ApiError, Exchange, FakeServer, Reply, as_list, as_object, is_invalid_json, words

MODEL_VERSION = "gemini-fake-001"
MODES = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
PART_DATA = (
    "text",
    "inlineData",
    "functionCall",
    "functionResponse",
    "fileData",
    "executableCode",
    "codeExecutionResult",
)
PART_EXTRAS = ("thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution")
REQUEST_FIELDS = (
    "contents",
    "tools",
    "toolConfig",
    "safetySettings",
    "systemInstruction",
    "generationConfig",
    "cachedContent",
    "labels",  # Vertex AI
)
GENERATION_FIELDS = (
    "stopSequences",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "candidateCount",
    "maxOutputTokens",
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseLogprobs",
    "logprobs",
    "enableEnhancedCivicAnswers",
    "speechConfig",
    "thinkingConfig",
    "imageConfig",
    "mediaResolution",
)
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
_MISSING_SIGNATURE = (
    "Function call is missing a thought_signature in functionCall parts. This is required "
    "for tools to work correctly, and missing thought_signature may lead to degraded model "
    "performance. Additional data, function call `default_api:{name}` , position {position}. "
    "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)


def gemini_error(message: str, *, status: int = 400, code: str = "INVALID_ARGUMENT") -> ApiError:
    """An error in Google's shape: ``{"error": {"code", "message", "status"}}``."""
    return ApiError(status, {"error": {"code": status, "message": message, "status": code}})


def thought_signature(call: Mapping[str, Any]) -> str:
    """The signature the fake model gives a ``functionCall`` (base64 of bytes made from its
    name and arguments, so that a signature sent back can be checked without state)."""
    arguments = json.dumps(call.get("args") or {}, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"fake-thought\0{call.get('name')}\0{arguments}".encode()).digest()
    return base64.b64encode(digest[:30]).decode()


# -- validation --------------------------------------------------------------------------------


def _names(spelled: tuple[str, ...]) -> set[str]:
    """Field names as the API's JSON parser takes them: lowerCamel or the proto's snake_case."""
    return {*spelled, *(_SNAKE.sub("_", name).lower() for name in spelled)}


def _get(obj: Mapping[str, Any], name: str) -> Any:
    """A field in either spelling."""
    if name in obj:
        return obj[name]
    return obj.get(_SNAKE.sub("_", name).lower())


def _check_known(obj: Mapping[str, Any], known: set[str], where: str | None) -> None:
    for key in obj:
        if key not in known:
            at = f" at '{where}'" if where else ""
            raise gemini_error(
                f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.'
            )


def _check_headers(headers: Mapping[str, str]) -> None:
    if headers.get("x-goog-api-key", "").strip():
        return
    if headers.get("authorization", "").lower().startswith("bearer "):
        return
    raise gemini_error(
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API.",
        status=403,
        code="PERMISSION_DENIED",
    )


def _check_fields(body: Any) -> dict[str, Any]:
    if is_invalid_json(body):
        raise gemini_error("Invalid JSON payload received.")  # wording not confirmed
    request = as_object(body)
    if request is None:
        raise gemini_error("Invalid JSON payload received. Expected an object.")
    _check_known(request, _names(REQUEST_FIELDS), None)
    generation = _get(request, "generationConfig")
    if generation is not None:
        config = as_object(generation)
        if config is None:
            raise gemini_error("Invalid value at 'generation_config': expected an object.")
        _check_known(config, _names(GENERATION_FIELDS), "generation_config")
    return request


def _parts(where: str, content: dict[str, Any]) -> list[dict[str, Any]]:
    parts = as_list(content.get("parts"))
    if not parts:
        raise gemini_error(
            f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty."
        )
    checked: list[dict[str, Any]] = []
    for index, value in enumerate(parts):
        part = as_object(value)
        at = f"{where}.parts[{index}]"
        if part is None:
            raise gemini_error(f"Invalid value at '{at}': expected an object.")
        _check_known(part, _names(PART_DATA + PART_EXTRAS), at)
        data = [name for name in PART_DATA if _get(part, name) is not None]
        if len(data) != 1:
            raise gemini_error(
                f"* GenerateContentRequest.{at}.data: required oneof field 'data' must have "
                "one initialized field"
            )
        _check_part_data(at, part, data[0])
        signature = _get(part, "thoughtSignature")
        if signature is not None and _bytes(signature) is None:
            raise gemini_error(
                f"Invalid value at '{at}.thought_signature' (TYPE_BYTES), Base64 decoding "
                f'failed for "{signature}"'
            )
        checked.append(part)
    return checked


def _check_part_data(at: str, part: dict[str, Any], kind: str) -> None:
    value = _get(part, kind)
    if kind == "text" and not isinstance(value, str):
        raise gemini_error(f"Invalid value at '{at}.text' (TYPE_STRING)")
    if kind in ("functionCall", "functionResponse"):
        made = as_object(value)
        if made is None or not isinstance(made.get("name"), str) or not made["name"]:
            raise gemini_error(f"* GenerateContentRequest.{at}.{kind}.name: Name cannot be empty.")
        payload = "args" if kind == "functionCall" else "response"
        if made.get(payload) is not None and as_object(made[payload]) is None:
            raise gemini_error(
                f"Invalid value at '{at}.{kind}.{payload}' "
                "(type.googleapis.com/google.protobuf.Struct)"
            )


def _bytes(value: Any) -> bytes | None:
    """A JSON bytes field decoded (standard or URL-safe base64, as the API's parser takes)."""
    if not isinstance(value, str):
        return None
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def _contents(request: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    values = as_list(request.get("contents"))
    if not values:
        raise gemini_error("* GenerateContentRequest.contents: contents is not specified")
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for index, value in enumerate(values):
        content = as_object(value)
        if content is None:
            raise gemini_error(f"Invalid value at 'contents[{index}]': expected an object.")
        _check_known(content, {"role", "parts"}, f"contents[{index}]")
        role = content.get("role", "user")
        if role not in ("user", "model"):
            raise gemini_error("Please use a valid role: user, model.")
        turns.append((str(role), _parts(f"contents[{index}]", content)))
    return turns


def _calls(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [call for part in parts if (call := as_object(_get(part, "functionCall"))) is not None]


def _responses(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [as_object(_get(part, "functionResponse")) for part in parts]
    return [response for response in found if response is not None]


def _check_turns(turns: list[tuple[str, list[dict[str, Any]]]]) -> None:
    for index, (role, parts) in enumerate(turns):
        previous = turns[index - 1] if index else None
        if previous is not None and previous[0] == role:
            raise gemini_error(
                "Please ensure that multiturn requests alternate between user and model."
            )
        if role == "model":
            calls = _calls(parts)
            if calls and previous is None:
                raise gemini_error(
                    "Please ensure that function call turn comes immediately after a user turn "
                    "or after a function response turn."
                )
            if calls:
                following = turns[index + 1][1] if index + 1 < len(turns) else []
                _check_answers(calls, _responses(following))
            continue
        responses = _responses(parts)
        if responses and (previous is None or not _calls(previous[1])):
            raise gemini_error(
                "Please ensure that function response turn comes immediately after a function "
                "call turn."
            )
    if turns[-1][0] != "user":
        raise gemini_error(
            "Please ensure that multiturn requests ends with a user role or a function response."
        )


def _check_answers(calls: list[dict[str, Any]], responses: list[dict[str, Any]]) -> None:
    if len(responses) != len(calls):
        raise gemini_error(
            "Please ensure that the number of function response parts is equal to the number "
            "of function call parts of the function call turn."
        )
    for call, response in zip(calls, responses, strict=True):
        # Wording not confirmed: the API pairs responses with calls in order (and by id).
        if response.get("name") != call.get("name") or (
            call.get("id") and response.get("id") != call.get("id")
        ):
            raise gemini_error(
                f"Function response {response.get('name')!r} (id {response.get('id')!r}) does "
                f"not answer the function call {call.get('name')!r} (id {call.get('id')!r}) "
                "in its position."
            )


def _check_signatures(turns: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """Every signature sent back is the one given; in the current turn none is missing."""
    current = 0  # where the current turn starts: after the last user text
    for index, (role, parts) in enumerate(turns):
        if role == "user" and any(_get(part, "functionResponse") is None for part in parts):
            current = index
    for index, (role, parts) in enumerate(turns):
        if role != "model":
            continue
        first = True
        for part in parts:
            call = as_object(_get(part, "functionCall"))
            if call is None:
                continue
            signature = _get(part, "thoughtSignature")
            if signature is not None and _bytes(signature) != _bytes(thought_signature(call)):
                raise gemini_error("Corrupted thought signature.")
            if first and signature is None and index > current:
                raise gemini_error(_MISSING_SIGNATURE.format(name=call.get("name"), position=index))
            first = False


def _check_tools(request: dict[str, Any]) -> list[str]:
    tools = _get(request, "tools")
    if tools is None:
        return []
    listed = as_list(tools)
    if listed is None:
        raise gemini_error("Invalid value at 'tools': expected a list.")
    names: list[str] = []
    for index, value in enumerate(listed):
        tool = as_object(value)
        if tool is None:
            raise gemini_error(f"Invalid value at 'tools[{index}]': expected an object.")
        declarations = _get(tool, "functionDeclarations")
        for position, declaration in enumerate(as_list(declarations) or []):
            where = f"tools[{index}].function_declarations[{position}]"
            found = as_object(declaration)
            if found is None:
                raise gemini_error(f"Invalid value at '{where}': expected an object.")
            name = found.get("name")
            if not isinstance(name, str) or not re.fullmatch(
                r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}", name
            ):
                raise gemini_error(
                    f"* GenerateContentRequest.{where}.name: Invalid function name. Must start "
                    "with a letter or an underscore. Must be alphameric (a-z, A-Z, 0-9), "
                    "underscores (_), dots (.), colons (:), or dashes (-), with a maximum "
                    "length of 64."
                )
            problems = check_definition("gemini", found)
            if problems:
                raise gemini_error(f"* GenerateContentRequest.{where}: {problems[0]}")
            if name in names:
                raise gemini_error(f"Duplicate function declaration: {name}")  # wording approximate
            names.append(name)
    return names


def _check_tool_config(request: dict[str, Any], names: list[str]) -> None:
    config = _get(request, "toolConfig")
    if config is None:
        return
    calling = as_object(_get(as_object(config) or {}, "functionCallingConfig")) or {}
    mode = calling.get("mode", "MODE_UNSPECIFIED")
    if mode not in MODES:
        raise gemini_error(
            "Invalid value at 'tool_config.function_calling_config.mode' "
            "(type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig"
            f'.Mode), "{mode}"'
        )
    allowed = _get(calling, "allowedFunctionNames")
    # Wording of the three errors below not confirmed against the live API.
    if mode == "ANY" and not names:
        raise gemini_error(
            "Function calling mode `ANY` is set, but no function declarations are provided."
        )
    if allowed is not None:
        if mode not in ("ANY", "VALIDATED"):
            raise gemini_error(
                "* GenerateContentRequest.tool_config.function_calling_config."
                "allowed_function_names: only allowed when the function calling mode is ANY "
                "or VALIDATED."
            )
        for name in as_list(allowed) or []:
            if name not in names:
                raise gemini_error(f"Function {name!r} in allowed_function_names is not declared.")


def _check_system(request: dict[str, Any]) -> None:
    system = _get(request, "systemInstruction")
    if system is None:
        return
    content = as_object(system)
    if content is None:
        raise gemini_error("Invalid value at 'system_instruction': expected a Content object.")
    _parts("system_instruction", content)


# -- rendering ---------------------------------------------------------------------------------


def _finish_reason(reply: Reply) -> str:
    mapping = {
        "length": "MAX_TOKENS",
        "refusal": "SAFETY",
        "content_filter": "SAFETY",
        "malformed_call": "MALFORMED_FUNCTION_CALL",  # sent with no content
    }
    return mapping.get(reply.stop or "end", "STOP")


def _reply_parts(reply: Reply) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if reply.content:
        parts.append({"text": reply.content})
    for index, call in enumerate(reply.tool_calls):
        made: dict[str, Any] = {"name": call.name, "args": call.arguments_object()}
        if call.id:
            made["id"] = call.id
        part: dict[str, Any] = {"functionCall": made}
        if index == 0:  # Gemini 3 signs the first call of a step
            part["thoughtSignature"] = thought_signature(made)
        parts.append(part)
    return parts


def _usage(reply: Reply, *, final: bool = True) -> dict[str, int]:
    if not final:
        return {"promptTokenCount": reply.input_tokens, "totalTokenCount": reply.input_tokens}
    output = reply.completion_tokens()
    return {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": output,
        "totalTokenCount": reply.input_tokens + output,
    }


def _response(
    response_id: str, parts: list[dict[str, Any]], reply: Reply, *, final: bool
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    if final:
        candidate["finishReason"] = _finish_reason(reply)
        if reply.stop == "malformed_call":
            candidate["finishMessage"] = "Malformed function call: get_weather(city=Paris"
    return {
        "candidates": [candidate],
        "usageMetadata": _usage(reply, final=final),
        "modelVersion": MODEL_VERSION,
        "responseId": response_id,
    }


def _stream(
    exchange: Exchange, response_id: str, reply: Reply, parts: list[dict[str, Any]]
) -> None:
    pieces: list[dict[str, Any]] = []
    for part in parts:
        if "text" in part:
            pieces += [{"text": piece} for piece in words(part["text"])]
        else:
            pieces.append(part)
    exchange.start_stream()
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        exchange.send_event(_response(response_id, [piece], reply, final=last))
    if not pieces:
        exchange.send_event(_response(response_id, [], reply, final=True))
    exchange.end_stream()


def _handle(
    server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str], *, stream: bool
) -> None:
    try:
        _check_headers(headers)
        request = _check_fields(body)
        turns = _contents(request)
        _check_turns(turns)
        _check_signatures(turns)
        names = _check_tools(request)
        _check_tool_config(request, names)
        _check_system(request)
    except ApiError as error:
        exchange.send_json(error.status, error.body)
        return
    reply = server.next_reply("gemini", request)
    parts = _reply_parts(reply)  # before streaming starts, so a bad script still gets a 500
    response_id = server.new_id("resp")
    if stream:
        _stream(exchange, response_id, reply, parts)
    else:
        exchange.send_json(200, _response(response_id, parts, reply, final=True))


def handle(server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]) -> None:
    """Validate one ``generateContent`` request and answer it from the script."""
    _handle(server, exchange, body, headers, stream=False)


def handle_stream(
    server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]
) -> None:
    """Validate one ``streamGenerateContent`` request and answer it as SSE chunks."""
    _handle(server, exchange, body, headers, stream=True)
