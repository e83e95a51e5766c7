"""OpenAI Chat Completions: ``POST /v1/chat/completions``.

Validation mirrors the live API's 400s (wording taken from errors users have reported from
api.openai.com); rendering follows the ``chat.completion`` and ``chat.completion.chunk``
objects of the API reference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._app import (
    ApiError,
    Exchange,
    FakeServer,
    Reply,
    as_list,
    as_object,
    bearer_token,
    fragments,
    is_invalid_json,
    json_type_name,
    now,
    words,
)
from ._media import IMAGE_TYPES, data_url, image_problem, is_link

MESSAGE_ROLES = ("system", "assistant", "user", "function", "tool", "developer")
TOOL_CHOICE_MODES = ("none", "auto", "required")
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]+$")
NAME_MAX_LENGTH = 64

NO_API_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with "
    "blank username) if you're accessing the API from your browser and are prompted for a "
    "username and password. You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
    "sent was not valid JSON. If you have trouble figuring out how to fix this, please contact "
    "us through our help center at help.openai.com.)"
)


# -- errors shared with the Responses API ----------------------------------------------------


def openai_error(
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    status: int = 400,
    type: str = "invalid_request_error",
) -> ApiError:
    """An error in OpenAI's shape: ``{"error": {message, type, param, code}}``."""
    return ApiError(
        status, {"error": {"message": message, "type": type, "param": param, "code": code}}
    )


def missing(param: str) -> ApiError:
    """``Missing required parameter: 'x'.``"""
    return openai_error(
        f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
    )


def wrong_type(param: str, expected: str, value: Any) -> ApiError:
    """``Invalid type for 'x': expected an object, but got a string instead.``"""
    article = "an" if expected[0] in "aeiou" else "a"
    got = json_type_name(value)
    got_article = "an" if got[0] in "aeiou" else "a"
    return openai_error(
        f"Invalid type for '{param}': expected {article} {expected}, but got {got_article} "
        f"{got} instead.",
        param=param,
        code="invalid_type",
    )


def bad_value(param: str, value: str, allowed: tuple[str, ...]) -> ApiError:
    """``Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'.``"""
    quoted = [f"'{choice}'" for choice in allowed]
    listed = ", ".join(quoted[:-1]) + f", and {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    return openai_error(
        f"Invalid value: '{value}'. Supported values are: {listed}.",
        param=param,
        code="invalid_value",
    )


def empty_array(param: str) -> ApiError:
    """``Invalid 'x': empty array. Expected an array with minimum length 1, …``."""
    return openai_error(
        f"Invalid '{param}': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        param=param,
        code="empty_array",
    )


def check_openai_request(headers: Mapping[str, str], body: Any) -> dict[str, Any]:
    """Authentication, JSON and ``model``: the checks every OpenAI endpoint makes first."""
    if bearer_token(headers) is None:
        raise openai_error(NO_API_KEY, status=401)
    if is_invalid_json(body):
        raise openai_error(NOT_JSON)
    request = as_object(body)
    if request is None:
        raise openai_error(NOT_JSON if body is None else "Invalid body: expected a JSON object.")
    if not isinstance(request.get("model"), str) or not request["model"]:
        raise openai_error("you must provide a model parameter")
    return request


def check_function_name(name: Any, param: str) -> str:
    """A function name: a string of ``[a-zA-Z0-9_-]``, at most 64 characters."""
    if name is None:
        raise missing(param)
    if not isinstance(name, str):
        raise wrong_type(param, "string", name)
    if not NAME_PATTERN.match(name):
        raise openai_error(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches "
            f"the pattern '{NAME_PATTERN.pattern}'.",
            param=param,
            code="invalid_value",
        )
    if len(name) > NAME_MAX_LENGTH:
        raise openai_error(
            f"Invalid '{param}': string too long. Expected a string with maximum length "
            f"{NAME_MAX_LENGTH}, but got a string with length {len(name)} instead.",
            param=param,
            code="string_above_max_length",
        )
    return name


def check_parameters_schema(schema: Any, param: str, name: str) -> None:
    """A function's ``parameters``: a JSON Schema object whose ``type`` is ``"object"``."""
    if schema is None:
        return
    schema_object = as_object(schema)
    if schema_object is None:
        raise wrong_type(param, "object", schema)
    if schema_object.get("type") != "object":
        raise openai_error(
            f"Invalid schema for function '{name}': schema must be a JSON Schema of 'type: "
            f'"object"\', got \'type: "{schema_object.get("type")}"\'.',
            param=param,
            code="invalid_function_parameters",
        )


# -- validation --------------------------------------------------------------------------------


def _check_tools(request: dict[str, Any]) -> list[str]:
    """The ``tools`` array; returns the defined function names."""
    if "tools" not in request or request["tools"] is None:
        return []
    tools = as_list(request["tools"])
    if tools is None:
        raise wrong_type("tools", "array", request["tools"])
    if not tools:
        raise empty_array("tools")
    names: list[str] = []
    for index, value in enumerate(tools):
        where = f"tools[{index}]"
        tool = as_object(value)
        if tool is None:
            raise wrong_type(where, "object", value)
        kind = tool.get("type")
        if kind is None:
            raise missing(f"{where}.type")
        if kind == "custom":
            custom = as_object(tool.get("custom"))
            if custom is None:
                raise missing(f"{where}.custom")
            names.append(check_function_name(custom.get("name"), f"{where}.custom.name"))
            continue
        if kind != "function":
            raise bad_value(f"{where}.type", str(kind), ("function", "custom"))
        if "function" not in tool:
            raise missing(f"{where}.function")
        function = as_object(tool["function"])
        if function is None:
            raise wrong_type(f"{where}.function", "object", tool["function"])
        name = check_function_name(function.get("name"), f"{where}.function.name")
        check_parameters_schema(function.get("parameters"), f"{where}.function.parameters", name)
        names.append(name)
    return names


def _check_tool_choice(request: dict[str, Any], names: list[str]) -> None:
    for option in ("tool_choice", "parallel_tool_calls"):
        if request.get(option) is not None and not names:
            raise openai_error(
                f"Invalid value for '{option}': '{option}' is only allowed when 'tools' are "
                "specified.",
                param=option,
            )
    choice = request.get("tool_choice")
    if choice is None:
        return
    if isinstance(choice, str):
        if choice not in TOOL_CHOICE_MODES:
            raise bad_value("tool_choice", choice, TOOL_CHOICE_MODES)
        return
    named = as_object(choice)
    if named is None:
        raise wrong_type("tool_choice", "object", choice)
    if named.get("type") == "allowed_tools":
        return
    if named.get("type") != "function":
        raise bad_value("tool_choice.type", str(named.get("type")), ("function",))
    function = as_object(named.get("function"))
    if function is None:
        raise missing("tool_choice.function")
    name = function.get("name")
    if not isinstance(name, str):
        raise missing("tool_choice.function.name")
    if name not in names:
        # Wording not confirmed against the live API.
        raise openai_error(
            f"Invalid value for 'tool_choice': function '{name}' is not defined in 'tools'.",
            param="tool_choice",
        )


def _check_assistant_tool_calls(index: int, message: dict[str, Any]) -> list[str]:
    """An assistant message's ``tool_calls``; returns their ids."""
    calls = message.get("tool_calls")
    if calls is None:
        return []
    call_list = as_list(calls)
    if call_list is None:
        raise wrong_type(f"messages[{index}].tool_calls", "array", calls)
    ids: list[str] = []
    for position, value in enumerate(call_list):
        where = f"messages[{index}].tool_calls[{position}]"
        call = as_object(value)
        if call is None:
            raise wrong_type(where, "object", value)
        for key in ("id", "type", "function"):
            if key not in call:
                raise missing(f"{where}.{key}")
        function = as_object(call["function"])
        if function is None:
            raise wrong_type(f"{where}.function", "object", call["function"])
        for key in ("name", "arguments"):
            if key not in function:
                raise missing(f"{where}.function.{key}")
        if not isinstance(function["arguments"], str):
            raise wrong_type(f"{where}.function.arguments", "string", function["arguments"])
        ids.append(str(call["id"]))
    return ids


USER_PART_TYPES = ("text", "image_url", "input_audio", "file")


def check_image_url(url: Any, param: str) -> None:
    """An image URL: ``http(s)``, or a base64 data URL of an image (decoded and checked)."""
    if not isinstance(url, str):
        raise wrong_type(param, "string", url)
    if is_link(url):
        return
    parsed = data_url(url)
    if parsed is None:
        raise openai_error(
            f"Invalid '{param}'. Expected a base64-encoded data URL with an image MIME type"
            " (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got a value with an"
            " invalid format.",
            param=param,
            code="invalid_value",
        )
    media_type, data = parsed
    if media_type not in IMAGE_TYPES:
        raise openai_error(
            f"Invalid '{param}'. Expected a base64-encoded data URL with an image MIME type"
            f" (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), but got unsupported MIME"
            f" type '{media_type}'.",
            param=param,
            code="invalid_value",
        )
    if image_problem(media_type, data) is not None:
        raise openai_error(
            "You uploaded an unsupported image. Please make sure your image has of one the"
            " following formats: ['png', 'jpeg', 'gif', 'webp'].",
            param=param,
            code="invalid_image_format",
        )


def check_file_data(file_data: Any, filename: Any, param: str, *, pdf_only: bool) -> None:
    """Inline file data: a base64 data URL, with a filename beside it."""
    if not isinstance(file_data, str):
        raise wrong_type(f"{param}.file_data", "string", file_data)
    if filename is None:
        raise missing(f"{param}.filename")
    parsed = data_url(file_data)
    if parsed is None:
        raise openai_error(
            f"Invalid '{param}.file_data'. Expected a base64-encoded data URL.",
            param=f"{param}.file_data",
            code="invalid_value",
        )
    if pdf_only and (parsed[0] != "application/pdf" or not parsed[1].startswith(b"%PDF-")):
        raise openai_error(
            "Invalid input: Expected file type to be a supported format: .pdf but got"
            f" {parsed[0]}.",
            param=f"{param}.file_data",
            code="invalid_value",
        )


def _check_content(index: int, role: str, content: Any) -> None:
    """A message's content: a string or an array of parts; tool messages take text parts
    only, user messages text, images, audio and (PDF) files."""
    where = f"messages[{index}].content"
    if content is None or isinstance(content, str):
        return
    parts = as_list(content)
    if parts is None:
        raise wrong_type(where, "string", content)
    for position, value in enumerate(parts):
        here = f"{where}[{position}]"
        part = as_object(value)
        if part is None:
            raise wrong_type(here, "object", value)
        kind = part.get("type")
        if kind is None:
            raise missing(f"{here}.type")
        if role != "user" and kind == "image_url":
            raise openai_error(
                f"Invalid 'messages[{index}]'. Image URLs are only allowed for messages with"
                f" role 'user', but this message with role '{role}' contains an image URL.",
                param=f"messages[{index}]",
                code="invalid_value",
            )
        allowed = {"user": USER_PART_TYPES, "assistant": ("text", "refusal")}.get(role, ("text",))
        if kind not in allowed:
            raise bad_value(f"{here}.type", str(kind), allowed)
        if kind == "text" and not isinstance(part.get("text"), str):
            raise missing(f"{here}.text")
        if kind == "image_url":
            image = as_object(part.get("image_url"))
            if image is None:
                raise missing(f"{here}.image_url")
            if "url" not in image:
                raise missing(f"{here}.image_url.url")
            check_image_url(image["url"], f"{here}.image_url.url")
        if kind == "file":
            file = as_object(part.get("file"))
            if file is None:
                raise missing(f"{here}.file")
            if "file_data" in file:
                check_file_data(
                    file["file_data"], file.get("filename"), f"{here}.file", pdf_only=True
                )
            elif "file_id" not in file:
                raise missing(f"{here}.file.file_data")


def _unanswered(pending: list[str], index: int) -> ApiError:
    return openai_error(
        "An assistant message with 'tool_calls' must be followed by tool messages responding to "
        "each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        + ", ".join(pending),
        param=f"messages.[{index}].role",
    )


def _check_messages(request: dict[str, Any]) -> None:
    if "messages" not in request:
        raise missing("messages")
    messages = as_list(request["messages"])
    if messages is None:
        raise wrong_type("messages", "array", request["messages"])
    if not messages:
        raise empty_array("messages")
    pending: list[str] = []  # tool_call_ids still owed a tool message
    answering = False  # inside the run of tool messages after an assistant's tool_calls
    for index, value in enumerate(messages):
        message = as_object(value)
        if message is None:
            raise wrong_type(f"messages[{index}]", "object", value)
        role = message.get("role")
        if role is None:
            raise missing(f"messages[{index}].role")
        if role not in MESSAGE_ROLES:
            raise bad_value(f"messages[{index}].role", str(role), MESSAGE_ROLES)
        _check_content(index, str(role), message.get("content"))
        if role == "tool":
            if "tool_call_id" not in message:
                raise missing(f"messages[{index}].tool_call_id")
            call_id = str(message["tool_call_id"])
            if not answering:
                raise openai_error(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    param=f"messages.[{index}].role",
                )
            if call_id not in pending:
                raise openai_error(
                    f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                    "'tool_calls' of previous message.",
                    param=f"messages.[{index}].tool_call_id",
                )
            pending.remove(call_id)
            continue
        if pending:
            raise _unanswered(pending, index)
        answering = False
        if role == "assistant":
            pending = _check_assistant_tool_calls(index, message)
            answering = bool(pending)
    if pending:
        raise _unanswered(pending, len(messages) - 1)


def _check_request(request: dict[str, Any]) -> None:
    _check_messages(request)
    names = _check_tools(request)
    _check_tool_choice(request, names)
    if request.get("stream_options") is not None and not request.get("stream"):
        raise openai_error(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )


# -- rendering ---------------------------------------------------------------------------------


def _finish_reason(reply: Reply) -> str:
    if reply.stop == "length":
        return "length"
    if reply.stop == "content_filter":
        return "content_filter"
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(reply: Reply) -> dict[str, Any]:
    completion = reply.completion_tokens()
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.input_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _call_ids(server: FakeServer, reply: Reply) -> list[str]:
    return [call.id or server.new_id("call") for call in reply.tool_calls]


def _completion(server: FakeServer, model: str, reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content or None,
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_json()},
            }
            for call, call_id in zip(reply.tool_calls, _call_ids(server, reply), strict=True)
        ]
    return {
        "id": server.new_id("chatcmpl", "-"),
        "object": "chat.completion",
        "created": now(),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(reply),
            }
        ],
        "usage": _usage(reply),
        "service_tier": "default",
        "system_fingerprint": "fp_fake",
    }


def _stream(server: FakeServer, exchange: Exchange, request: dict[str, Any], reply: Reply) -> None:
    include_usage = bool((as_object(request.get("stream_options")) or {}).get("include_usage"))
    completion_id = server.new_id("chatcmpl", "-")
    created = now()
    model = str(request["model"])

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [
                {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            ],
        }
        if include_usage:
            event["usage"] = None
        return event

    exchange.start_stream()
    exchange.send_event(
        chunk({"role": "assistant", "content": "" if reply.content else None, "refusal": None})
    )
    if reply.content:
        for piece in words(reply.content):
            exchange.send_event(chunk({"content": piece}))
    if reply.refusal:
        for piece in words(reply.refusal):
            exchange.send_event(chunk({"refusal": piece}))
    mode = server.chat_tool_call_index
    for position, (call, call_id) in enumerate(
        zip(reply.tool_calls, _call_ids(server, reply), strict=True)
    ):
        index = {"normal": {"index": position}, "repeat": {"index": 0}, "omit": {}}[mode]
        head = {"id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        exchange.send_event(chunk({"tool_calls": [{**index, **head}]}))
        for piece in fragments(call.arguments_json(), server.fragment_size):
            exchange.send_event(
                chunk({"tool_calls": [{**index, "function": {"arguments": piece}}]})
            )
    exchange.send_event(chunk({}, _finish_reason(reply)))
    if include_usage:
        usage_chunk = chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = _usage(reply)
        exchange.send_event(usage_chunk)
    exchange.send_event("[DONE]")
    exchange.end_stream()


def handle(server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]) -> None:
    """Validate one Chat Completions request and answer it from the script."""
    try:
        request = check_openai_request(headers, body)
        _check_request(request)
    except ApiError as error:
        exchange.send_json(error.status, error.body, {"x-request-id": exchange.request_id})
        return
    reply = server.next_reply("openai_chat", request)
    if request.get("stream"):
        _stream(server, exchange, request, reply)
    else:
        exchange.send_json(
            200,
            _completion(server, str(request["model"]), reply),
            {"x-request-id": exchange.request_id},
        )
