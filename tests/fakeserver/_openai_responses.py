"""OpenAI Responses API: ``POST /v1/responses``.

Responses are stored (unless ``"store": false``) so a later request can continue one with
``previous_response_id``: the stored context and output are put in front of the new ``input``
before the tool-call pairing is checked, as the live API does.
"""

from __future__ import annotations

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
    now,
    words,
)
from ._openai_chat import (
    TOOL_CHOICE_MODES,
    bad_value,
    check_file_data,
    check_function_name,
    check_image_url,
    check_openai_request,
    check_parameters_schema,
    missing,
    openai_error,
    wrong_type,
)

# -- validation --------------------------------------------------------------------------------


def _check_tools(request: dict[str, Any]) -> tuple[bool, list[str]]:
    """The ``tools`` array; returns whether any tool is defined, and the function names."""
    if request.get("tools") is None:
        return False, []
    tools = as_list(request["tools"])
    if tools is None:
        raise wrong_type("tools", "array", request["tools"])
    names: list[str] = []
    for index, value in enumerate(tools):
        where = f"tools[{index}]"
        tool = as_object(value)
        if tool is None:
            raise wrong_type(where, "object", value)
        if "type" not in tool:
            raise missing(f"{where}.type")
        if tool["type"] != "function":
            continue  # hosted tools (web_search, file_search, mcp, …) pass through
        name = check_function_name(tool.get("name"), f"{where}.name")
        check_parameters_schema(tool.get("parameters"), f"{where}.parameters", name)
        names.append(name)
    return bool(tools), names


def _check_tool_choice(request: dict[str, Any], has_tools: bool, names: list[str]) -> None:
    choice = request.get("tool_choice")
    if choice is None:
        return
    demanding = choice == "required" or isinstance(choice, dict)
    if demanding and not has_tools:
        # Chat Completions' wording; not confirmed for the Responses API.
        raise openai_error(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
            "specified.",
            param="tool_choice",
        )
    if isinstance(choice, str):
        if choice not in TOOL_CHOICE_MODES:
            raise bad_value("tool_choice", choice, TOOL_CHOICE_MODES)
        return
    named = as_object(choice)
    if named is None:
        raise wrong_type("tool_choice", "object", choice)
    if named.get("type") != "function":
        return  # hosted-tool and allowed_tools choices
    name = named.get("name")
    if not isinstance(name, str):
        raise missing("tool_choice.name")
    if name not in names:
        # Wording not confirmed against the live API.
        raise openai_error(
            f"Invalid value for 'tool_choice': function '{name}' is not defined in 'tools'.",
            param="tool_choice",
        )


def _input_items(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The request's ``input`` as a list of items (a string is one user message)."""
    given = request.get("input")
    if given is None:
        return []
    if isinstance(given, str):
        return [{"type": "message", "role": "user", "content": given}]
    values = as_list(given)
    if values is None:
        raise wrong_type("input", "array", given)
    items: list[dict[str, Any]] = []
    for index, value in enumerate(values):
        item = as_object(value)
        if item is None:
            raise wrong_type(f"input[{index}]", "object", value)
        kind = item.get("type", "message" if "role" in item else None)
        if kind is None:
            raise missing(f"input[{index}].type")
        required = {
            "function_call": ("call_id", "name", "arguments"),
            "function_call_output": ("call_id", "output"),
            "message": ("role", "content"),
        }.get(str(kind), ())
        for key in required:
            if key not in item:
                raise missing(f"input[{index}].{key}")
        if kind == "function_call_output":
            _check_output(f"input[{index}].output", item["output"])
        items.append({**item, "type": kind})
    return items


_OUTPUT_TYPES = ("input_text", "input_image", "input_file")


def _check_output(where: str, output: Any) -> None:
    """A function call's output: a string, or an array of ``input_text``, ``input_image``
    (a URL or data URL) and ``input_file`` (data URL with a filename, a URL or an id)."""
    if isinstance(output, str):
        return
    parts = as_list(output)
    if parts is None:
        raise wrong_type(where, "string", output)
    for position, value in enumerate(parts):
        here = f"{where}[{position}]"
        part = as_object(value)
        if part is None:
            raise wrong_type(here, "object", value)
        kind = part.get("type")
        if kind not in _OUTPUT_TYPES:
            raise bad_value(f"{here}.type", str(kind), _OUTPUT_TYPES)
        if kind == "input_text" and not isinstance(part.get("text"), str):
            raise missing(f"{here}.text")
        if kind == "input_image":
            if part.get("image_url") is not None:
                check_image_url(part["image_url"], f"{here}.image_url")
            elif part.get("file_id") is None:
                raise missing(f"{here}.image_url")
        if kind == "input_file":
            if part.get("file_data") is not None:
                check_file_data(part["file_data"], part.get("filename"), here, pdf_only=False)
            elif part.get("file_url") is not None:
                if not isinstance(part["file_url"], str) or not part["file_url"].startswith(
                    ("http://", "https://")
                ):
                    raise openai_error(
                        f"Invalid '{here}.file_url': Expected a valid URL.",
                        param=f"{here}.file_url",
                        code="invalid_value",
                    )
            elif part.get("file_id") is None:
                raise missing(f"{here}.file_data")


def _check_pairing(items: list[dict[str, Any]]) -> None:
    """Every function call is answered later; every output answers an earlier call."""
    called: set[str] = set()
    answered: set[str] = set()
    for item in items:
        if item["type"] == "function_call":
            called.add(str(item["call_id"]))
        elif item["type"] == "function_call_output":
            call_id = str(item["call_id"])
            if call_id not in called:
                raise openai_error(
                    f"No tool call found for function call output with call_id {call_id}.",
                    param="input",
                )
            answered.add(call_id)
    for item in items:
        if item["type"] == "function_call" and str(item["call_id"]) not in answered:
            raise openai_error(
                f"No tool output found for function call {item['call_id']}.", param="input"
            )


def _context(server: FakeServer, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The whole conversation: the previous response's items, then this ``input``."""
    previous_id = request.get("previous_response_id")
    earlier: list[dict[str, Any]] = []
    if previous_id is not None:
        stored = server.stored_response(str(previous_id))
        if stored is None:
            raise openai_error(
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        earlier = stored
    items = _input_items(request)
    if not earlier and not items:
        raise missing("input")
    return earlier + items


# -- rendering ---------------------------------------------------------------------------------


def _incomplete_reason(reply: Reply) -> str | None:
    if reply.stop == "length":
        return "max_output_tokens"
    if reply.stop == "content_filter":
        return "content_filter"
    return None


def _usage(reply: Reply) -> dict[str, Any]:
    output = reply.completion_tokens()
    return {
        "input_tokens": reply.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": reply.input_tokens + output,
    }


def _output_items(server: FakeServer, reply: Reply) -> list[dict[str, Any]]:
    """The finished output items: a message (text or refusal), then the function calls."""
    item_status = "incomplete" if _incomplete_reason(reply) else "completed"
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    if reply.content:
        parts.append(
            {"type": "output_text", "text": reply.content, "annotations": [], "logprobs": []}
        )
    if reply.refusal:
        parts.append({"type": "refusal", "refusal": reply.refusal})
    if parts or not reply.tool_calls:
        items.append(
            {
                "id": server.new_id("msg"),
                "type": "message",
                "status": item_status,
                "role": "assistant",
                "content": parts,
            }
        )
    for call in reply.tool_calls:
        items.append(
            {
                "id": server.new_id("fc"),
                "type": "function_call",
                "status": "completed",
                "call_id": call.id or server.new_id("call"),
                "name": call.name,
                "arguments": call.arguments_json(),
            }
        )
    return items


def _response(
    request: dict[str, Any],
    response_id: str,
    reply: Reply,
    output: list[dict[str, Any]],
    *,
    final: bool,
) -> dict[str, Any]:
    reason = _incomplete_reason(reply)
    status = ("incomplete" if reason else "completed") if final else "in_progress"
    return {
        "id": response_id,
        "object": "response",
        "created_at": now(),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": {"reason": reason} if final and reason else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": request["model"],
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": request.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": request.get("store", True),
        "temperature": request.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": _usage(reply) if final else None,
        "user": None,
        "metadata": request.get("metadata") or {},
    }


class _Events:
    """Numbers and sends Responses stream events."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.sequence = 0

    def send(self, kind: str, **fields: Any) -> None:
        self.exchange.send_event({"type": kind, **fields, "sequence_number": self.sequence}, kind)
        self.sequence += 1


def _stream_message(events: _Events, index: int, item: dict[str, Any]) -> None:
    events.send(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "content": []},
    )
    item_id = item["id"]
    for part_index, part in enumerate(item["content"]):
        where = {"item_id": item_id, "output_index": index, "content_index": part_index}
        if part["type"] == "output_text":
            events.send(
                "response.content_part.added",
                **where,
                part={"type": "output_text", "text": "", "annotations": [], "logprobs": []},
            )
            for piece in words(part["text"]):
                events.send("response.output_text.delta", **where, delta=piece, logprobs=[])
            events.send("response.output_text.done", **where, text=part["text"], logprobs=[])
        else:
            events.send(
                "response.content_part.added", **where, part={"type": "refusal", "refusal": ""}
            )
            for piece in words(part["refusal"]):
                events.send("response.refusal.delta", **where, delta=piece)
            events.send("response.refusal.done", **where, refusal=part["refusal"])
        events.send("response.content_part.done", **where, part=part)
    events.send("response.output_item.done", output_index=index, item=item)


def _stream_call(events: _Events, index: int, item: dict[str, Any], size: int) -> None:
    events.send(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "arguments": ""},
    )
    where = {"item_id": item["id"], "output_index": index}
    for piece in fragments(item["arguments"], size):
        events.send("response.function_call_arguments.delta", **where, delta=piece)
    events.send(
        "response.function_call_arguments.done",
        **where,
        name=item["name"],
        arguments=item["arguments"],
    )
    events.send("response.output_item.done", output_index=index, item=item)


def _stream(
    server: FakeServer,
    exchange: Exchange,
    *,
    request: dict[str, Any],
    response_id: str,
    reply: Reply,
    output: list[dict[str, Any]],
) -> None:
    events = _Events(exchange)
    exchange.start_stream({"x-request-id": exchange.request_id})
    started = _response(request, response_id, reply, [], final=False)
    events.send("response.created", response=started)
    events.send("response.in_progress", response=started)
    for index, item in enumerate(output):
        if item["type"] == "message":
            _stream_message(events, index, item)
        else:
            _stream_call(events, index, item, server.fragment_size)
    final = _response(request, response_id, reply, output, final=True)
    events.send(f"response.{final['status']}", response=final)
    exchange.end_stream()


def handle(server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]) -> None:
    """Validate one Responses API request and answer it from the script."""
    try:
        request = check_openai_request(headers, body)
        has_tools, names = _check_tools(request)
        _check_tool_choice(request, has_tools, names)
        context = _context(server, request)
        _check_pairing(context)
    except ApiError as error:
        exchange.send_json(error.status, error.body, {"x-request-id": exchange.request_id})
        return
    reply = server.next_reply("openai_responses", request)
    response_id = server.new_id("resp")
    output = _output_items(server, reply)
    if request.get("store", True):
        server.store_response(response_id, context + output)
    if request.get("stream"):
        _stream(
            server, exchange, request=request, response_id=response_id, reply=reply, output=output
        )
    else:
        exchange.send_json(
            200,
            _response(request, response_id, reply, output, final=True),
            {"x-request-id": exchange.request_id},
        )
