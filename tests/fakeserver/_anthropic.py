"""Anthropic Messages API: ``POST /v1/messages``.

Validation mirrors the live API's 400s (wording taken from errors users have reported from
api.anthropic.com); rendering follows the ``message`` object and the streaming event sequence
of the API reference: ``message_start``, ``ping``, then per block ``content_block_start`` /
``content_block_delta`` / ``content_block_stop``, then ``message_delta`` and ``message_stop``.
"""

from __future__ import annotations

import json
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
    fragments,
    is_invalid_json,
    words,
)
from ._media import IMAGE_TYPES, decode, image_problem

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
TOOL_CHOICE_TYPES = ("auto", "any", "tool", "none")


def anthropic_error(
    message: str, *, status: int = 400, type: str = "invalid_request_error"
) -> ApiError:
    """An error in Anthropic's shape: ``{"type": "error", "error": {type, message}}``."""
    return ApiError(status, {"type": "error", "error": {"type": type, "message": message}})


# -- validation --------------------------------------------------------------------------------


def _check_headers(headers: Mapping[str, str]) -> None:
    api_key = headers.get("x-api-key", "").strip()
    bearer = headers.get("authorization", "").strip()
    if not api_key and not bearer.lower().startswith("bearer "):
        raise anthropic_error(
            "x-api-key header is required", status=401, type="authentication_error"
        )
    if not headers.get("anthropic-version"):
        raise anthropic_error("anthropic-version: header is required")


def _check_fields(body: Any) -> dict[str, Any]:
    if is_invalid_json(body):
        raise anthropic_error("Request body is not valid JSON.")  # wording not confirmed
    request = as_object(body)
    if request is None:
        raise anthropic_error("Input should be a valid dictionary")
    for key in ("model", "max_tokens", "messages"):
        if key not in request:
            raise anthropic_error(f"{key}: Field required")
    max_tokens = request["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise anthropic_error("max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        raise anthropic_error("max_tokens: Input should be greater than or equal to 1")
    return request


def _blocks(index: int, message: dict[str, Any]) -> list[dict[str, Any]]:
    """A message's content as blocks (a string is one text block)."""
    content = message.get("content")
    if "content" not in message:
        raise anthropic_error(f"messages.{index}.content: Field required")
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    values = as_list(content)
    if values is None:
        raise anthropic_error(f"messages.{index}.content: Input should be a valid list")
    blocks: list[dict[str, Any]] = []
    for position, value in enumerate(values):
        block = as_object(value)
        if block is None or "type" not in block:
            raise anthropic_error(f"messages.{index}.content.{position}.type: Field required")
        blocks.append(block)
    return blocks


def _messages(server: FakeServer, request: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """Roles and content blocks, after the role and alternation checks."""
    values = as_list(request["messages"])
    if values is None:
        raise anthropic_error("messages: Input should be a valid list")
    if not values:
        raise anthropic_error("messages: at least one message is required")
    turns: list[tuple[str, list[Any]]] = []
    for index, value in enumerate(values):
        message = as_object(value)
        if message is None:
            raise anthropic_error(f"messages.{index}: Input should be a valid dictionary")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise anthropic_error(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        blocks = _blocks(index, message)
        if not blocks and not (index == len(values) - 1 and role == "assistant"):
            raise anthropic_error(
                f"messages.{index}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        if turns and turns[-1][0] == role:
            if server.strict_alternation:
                raise anthropic_error(
                    'messages: roles must alternate between "user" and "assistant", but found '
                    f'multiple "{role}" roles in a row'
                )
            turns[-1][1].extend(blocks)  # the live API merges consecutive same-role turns
            continue
        turns.append((str(role), list(blocks)))
    return turns


def _check_tool_pairing(turns: list[tuple[str, list[Any]]]) -> None:
    for index, (role, blocks) in enumerate(turns):
        if role == "user":
            previous: list[Any] = turns[index - 1][1] if index > 0 else []
            offered = {
                str(block.get("id")) for block in previous if block.get("type") == "tool_use"
            }
            for position, block in enumerate(blocks):
                if block.get("type") != "tool_result":
                    continue
                tool_use_id = str(block.get("tool_use_id"))
                if tool_use_id not in offered:
                    raise anthropic_error(
                        f"messages.{index}.content.{position}: unexpected `tool_use_id` found in "
                        f"`tool_result` blocks: {tool_use_id}. Each `tool_result` block must have "
                        "a corresponding `tool_use` block in the previous message."
                    )
            continue
        uses = [str(block.get("id")) for block in blocks if block.get("type") == "tool_use"]
        if not uses:
            continue
        following = turns[index + 1][1] if index + 1 < len(turns) else []
        leading: set[str] = set()
        for block in following:
            if block.get("type") != "tool_result":
                break
            leading.add(str(block.get("tool_use_id")))
        missing = [use for use in uses if use not in leading]
        if not missing:
            continue
        later = {
            str(block.get("tool_use_id"))
            for block in following
            if block.get("type") == "tool_result"
        }
        if set(missing) <= later:
            raise anthropic_error(
                f"messages.{index + 1}: Did not find {len(uses)} tool_result block(s) at the "
                "beginning of this message. Messages following tool_use blocks must begin with "
                "a matching number of tool_result blocks."
            )
        raise anthropic_error(
            f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
            f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
            "corresponding `tool_result` block in the next message."
        )


_RESULT_BLOCKS = ("text", "image", "search_result", "document", "tool_reference")


def _check_tool_results(turns: list[tuple[str, list[Any]]]) -> None:
    """Every ``tool_result.content``: a string, or a list of text, image and document
    blocks in the shapes the API takes (images decoded and checked against their type)."""
    for index, (role, blocks) in enumerate(turns):
        if role != "user":
            continue
        for position, block in enumerate(blocks):
            if block.get("type") != "tool_result" or "content" not in block:
                continue
            where = f"messages.{index}.content.{position}.tool_result.content"
            content = block["content"]
            if isinstance(content, str):
                continue
            items = as_list(content)
            if items is None:
                raise anthropic_error(f"{where}: Input should be a valid list")
            for number, value in enumerate(items):
                _check_result_block(f"{where}.{number}", value)


def _check_result_block(where: str, value: Any) -> None:
    item = as_object(value)
    if item is None or "type" not in item:
        raise anthropic_error(f"{where}.type: Field required")
    kind = item["type"]
    if kind not in _RESULT_BLOCKS:
        allowed = ", ".join(f"'{k}'" for k in _RESULT_BLOCKS)
        raise anthropic_error(
            f"{where}: Input tag '{kind}' found using 'type' does not match any of the"
            f" expected tags: {allowed}"
        )
    if kind == "text":
        text = item.get("text")
        if not isinstance(text, str):
            raise anthropic_error(f"{where}.text.text: Field required")
        if not text:
            raise anthropic_error("messages: text content blocks must be non-empty")
    elif kind == "image":
        _check_source(f"{where}.image.source", item.get("source"), image=True)
    elif kind == "document":
        _check_source(f"{where}.document.source", item.get("source"), image=False)
        if "title" in item and not isinstance(item["title"], str | None):
            raise anthropic_error(f"{where}.document.title: Input should be a valid string")


def _check_source(where: str, value: Any, *, image: bool) -> None:
    source = as_object(value)
    if source is None:
        raise anthropic_error(f"{where}: Field required")
    kind = source.get("type")
    kinds = ("base64", "url", "file") if image else ("base64", "text", "url", "content", "file")
    if kind not in kinds:
        allowed = ", ".join(f"'{k}'" for k in kinds)
        raise anthropic_error(
            f"{where}: Input tag '{kind}' found using 'type' does not match any of the"
            f" expected tags: {allowed}"
        )
    if kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise anthropic_error(f"{where}.url.url: Input should be a valid URL")
        return
    if kind not in ("base64", "text"):
        return
    media_type = source.get("media_type")
    data = source.get("data")
    if not isinstance(data, str):
        raise anthropic_error(f"{where}.{kind}.data: Field required")
    if kind == "text":
        if media_type != "text/plain":
            raise anthropic_error(f"{where}.text.media_type: Input should be 'text/plain'")
        return
    allowed_types = IMAGE_TYPES if image else ("application/pdf",)
    if media_type not in allowed_types:
        listed = " or ".join(f"'{t}'" for t in allowed_types)
        raise anthropic_error(f"{where}.base64.media_type: Input should be {listed}")
    decoded = decode(data)
    if decoded is None:
        raise anthropic_error(f"{where}.base64.data: Invalid base64 data")
    if image:
        problem = image_problem(str(media_type), decoded)
        if problem is not None:
            raise anthropic_error(f"{where}.base64: {problem}")
    elif not decoded.startswith(b"%PDF-"):
        raise anthropic_error("The PDF specified was not valid.")


def _check_tools(request: dict[str, Any]) -> list[str]:
    if request.get("tools") is None:
        return []
    tools = as_list(request["tools"])
    if tools is None:
        raise anthropic_error("tools: Input should be a valid list")
    names: list[str] = []
    objects = [as_object(value) or {} for value in tools]
    deferred = [t for t in objects if t.get("defer_loading") is True]
    searches = [t for t in objects if str(t.get("type", "")).startswith("tool_search_tool_")]
    if deferred and not searches:
        raise anthropic_error(
            "tools: defer_loading needs a tool search tool (tool_search_tool_bm25 or _regex)"
        )
    if any(t.get("defer_loading") is True for t in searches):
        raise anthropic_error("tools: the tool search tool itself cannot be deferred")
    for index, value in enumerate(tools):
        tool = as_object(value)
        if tool is None:
            raise anthropic_error(f"tools.{index}: Input should be a valid dictionary")
        if "defer_loading" in tool and not isinstance(tool["defer_loading"], bool):
            raise anthropic_error(f"tools.{index}.defer_loading: Input should be a valid boolean")
        if tool.get("type", "custom") != "custom":
            names.append(str(tool.get("name")))  # server and client-defined Anthropic tools
            continue
        for key in ("name", "input_schema"):
            if key not in tool:
                raise anthropic_error(f"tools.{index}.custom.{key}: Field required")
        name = tool["name"]
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise anthropic_error(
                f"tools.{index}.custom.name: String should match pattern '{TOOL_NAME.pattern}'"
            )
        schema = as_object(tool["input_schema"])
        if schema is None:
            raise anthropic_error(
                f"tools.{index}.custom.input_schema: Input should be a valid dictionary"
            )
        if schema.get("type") != "object":
            raise anthropic_error(
                f"tools.{index}.custom.input_schema.type: Input should be 'object'"
            )
        names.append(name)
    return names


def _check_tool_choice(request: dict[str, Any], names: list[str]) -> None:
    if request.get("tool_choice") is None:
        return
    choice = as_object(request["tool_choice"])
    if choice is None:
        raise anthropic_error("tool_choice: Input should be a valid dictionary")
    kind = choice.get("type")
    if kind not in TOOL_CHOICE_TYPES:
        expected = ", ".join(f"'{tag}'" for tag in TOOL_CHOICE_TYPES)
        raise anthropic_error(
            f"tool_choice: Input tag '{kind}' found using 'type' does not match any of the "
            f"expected tags: {expected}"
        )
    if kind in ("any", "tool") and not names:
        raise anthropic_error("tool_choice may only be specified while providing tools.")
    if kind == "tool":
        name = choice.get("name")
        if not isinstance(name, str):
            raise anthropic_error("tool_choice.tool.name: Field required")
        if name not in names:
            # Wording not confirmed against the live API.
            raise anthropic_error(f"tool_choice.name: tool '{name}' not found in 'tools'")


# -- rendering ---------------------------------------------------------------------------------


def _stop_reason(reply: Reply) -> str:
    mapping = {
        "length": "max_tokens",
        "pause_turn": "pause_turn",
        "refusal": "refusal",
        "content_filter": "refusal",
    }
    if reply.stop in mapping:
        return mapping[reply.stop]
    return "tool_use" if reply.tool_calls else "end_turn"


def _content(
    server: FakeServer, reply: Reply, request: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.content:
        blocks.append({"type": "text", "text": reply.content})
    unloaded = _deferred(request or {}) - _loaded(request or {})
    for call in reply.tool_calls:
        if call.name in unloaded:
            # As the live API does with deferred tools: its tool search runs first, in the
            # same response, and loads the tool the model then calls.
            unloaded.discard(call.name)
            blocks.extend(_tool_search(server, call.name))
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id or server.new_id("toolu"),
                "name": call.name,
                "input": call.arguments_object(),
            }
        )
    return blocks


def _deferred(request: dict[str, Any]) -> set[str]:
    tools = [as_object(t) or {} for t in as_list(request.get("tools")) or []]
    return {str(t.get("name")) for t in tools if t.get("defer_loading") is True}


def _loaded(request: dict[str, Any]) -> set[str]:
    """The deferred tools an earlier tool search of this conversation loaded."""
    names: set[str] = set()
    for message in as_list(request.get("messages")) or []:
        content = (as_object(message) or {}).get("content")
        for block in as_list(content) or []:
            found = as_object(block) or {}
            if found.get("type") != "tool_search_tool_result":
                continue
            result = as_object(found.get("content")) or {}
            for reference in as_list(result.get("tool_references")) or []:
                names.add(str((as_object(reference) or {}).get("tool_name")))
    return names


def _tool_search(server: FakeServer, name: str) -> list[dict[str, Any]]:
    search_id = server.new_id("srvtoolu")
    return [
        {
            "type": "server_tool_use",
            "id": search_id,
            "name": "tool_search_tool_bm25",
            "input": {"query": name.replace("_", " ")},
        },
        {
            "type": "tool_search_tool_result",
            "tool_use_id": search_id,
            "content": {
                "type": "tool_search_tool_search_result",
                "tool_references": [{"type": "tool_reference", "tool_name": name}],
            },
        },
    ]


def _usage(reply: Reply, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "service_tier": "standard",
    }


def _message(
    message_id: str, model: str, content: list[dict[str, Any]], reply: Reply, *, final: bool
) -> dict[str, Any]:
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": _stop_reason(reply) if final else None,
        "stop_sequence": None,
        "usage": _usage(reply, reply.completion_tokens() if final else 1),
    }


def _stream(
    server: FakeServer,
    exchange: Exchange,
    *,
    message_id: str,
    model: str,
    reply: Reply,
    content: list[dict[str, Any]],
) -> None:
    def send(kind: str, **fields: Any) -> None:
        exchange.send_event({"type": kind, **fields}, kind)

    exchange.start_stream({"request-id": exchange.request_id})
    send("message_start", message=_message(message_id, model, [], reply, final=False))
    send("ping")
    for index, block in enumerate(content):
        if block["type"] == "text":
            send("content_block_start", index=index, content_block={"type": "text", "text": ""})
            for piece in words(block["text"]):
                send(
                    "content_block_delta", index=index, delta={"type": "text_delta", "text": piece}
                )
        elif "input" not in block:  # a server tool's result arrives whole
            send("content_block_start", index=index, content_block=block)
        else:
            send(
                "content_block_start",
                index=index,
                content_block={**block, "input": {}},
            )
            arguments = json.dumps(block["input"], separators=(",", ":"))
            for piece in ["", *fragments(arguments, server.fragment_size)]:
                send(
                    "content_block_delta",
                    index=index,
                    delta={"type": "input_json_delta", "partial_json": piece},
                )
        send("content_block_stop", index=index)
    send(
        "message_delta",
        delta={"stop_reason": _stop_reason(reply), "stop_sequence": None},
        usage={"output_tokens": reply.completion_tokens()},
    )
    send("message_stop")
    exchange.end_stream()


def handle(server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]) -> None:
    """Validate one Messages API request and answer it from the script."""
    try:
        _check_headers(headers)
        request = _check_fields(body)
        turns = _messages(server, request)
        names = _check_tools(request)
        _check_tool_choice(request, names)
        _check_tool_pairing(turns)
        _check_tool_results(turns)
    except ApiError as error:
        error.body["request_id"] = exchange.request_id
        exchange.send_json(error.status, error.body, {"request-id": exchange.request_id})
        return
    reply = server.next_reply("anthropic", request)
    content = _content(server, reply, request)
    message_id = server.new_id("msg")
    model = str(request["model"])
    if request.get("stream"):
        _stream(server, exchange, message_id=message_id, model=model, reply=reply, content=content)
    else:
        exchange.send_json(
            200,
            _message(message_id, model, content, reply, final=True),
            {"request-id": exchange.request_id},
        )


def handle_count_tokens(
    server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]
) -> None:
    """``POST /v1/messages/count_tokens``: the same checks as a message, without
    ``max_tokens``; counts a token per four characters of the messages, system and tools."""
    try:
        _check_headers(headers)
        request = _check_fields({"max_tokens": 1, **(as_object(body) or {})})
        turns = _messages(server, request)
        names = _check_tools(request)
        _check_tool_choice(request, names)
        _check_tool_pairing(turns)
    except ApiError as error:
        exchange.send_json(error.status, error.body, {"request-id": exchange.request_id})
        return
    counted = {key: request.get(key) for key in ("messages", "system", "tools")}
    tokens = len(json.dumps(counted)) // 4
    exchange.send_json(200, {"input_tokens": tokens}, {"request-id": exchange.request_id})
