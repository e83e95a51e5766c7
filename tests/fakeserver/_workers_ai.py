"""Cloudflare Workers AI REST: ``POST /client/v4/accounts/{account_id}/ai/run/{model}``.

Answers in Cloudflare's v4 envelope, ``{"result", "success", "errors", "messages"}``, with
``result`` holding ``response`` (the text) and, for tool calls, the traditional function-calling
``tool_calls: [{"name", "arguments": {…}}]`` (arguments as an object, and no call ids).

With ``"stream": true`` the answer is SSE ``data: {"response": "…"}`` events ending in
``data: [DONE]``; tool calls come in one event before the usage event. Error codes other
than 10000 (authentication) are approximations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._app import ApiError, Exchange, FakeServer, Reply, as_object, bearer_token, words


def workers_ai_error(message: str, *, code: int, status: int) -> ApiError:
    """An error in Cloudflare's v4 envelope."""
    return ApiError(
        status,
        {
            "result": None,
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
        },
    )


def _check(headers: Mapping[str, str], body: Any) -> dict[str, Any]:
    if bearer_token(headers) is None:
        raise workers_ai_error("Authentication error", code=10000, status=401)
    request = as_object(body)
    if request is None or ("messages" not in request and "prompt" not in request):
        raise workers_ai_error(
            "AiError: Bad input: Error: oneOf at '/' not met, 0 matches", code=5006, status=400
        )
    return request


def _usage(reply: Reply) -> dict[str, int]:
    completion = reply.completion_tokens()
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": completion,
        "total_tokens": reply.input_tokens + completion,
    }


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [{"name": call.name, "arguments": call.arguments_object()} for call in reply.tool_calls]


def _text(reply: Reply) -> str:
    return reply.content or reply.refusal or ""


def _result(reply: Reply) -> dict[str, Any]:
    result: dict[str, Any] = {"response": _text(reply)}
    if reply.tool_calls:
        result["tool_calls"] = _tool_calls(reply)
    result["usage"] = _usage(reply)
    return result


def _stream(exchange: Exchange, reply: Reply) -> None:
    exchange.start_stream()
    for piece in words(_text(reply)):
        exchange.send_event({"response": piece})
    if reply.tool_calls:
        exchange.send_event({"response": "", "tool_calls": _tool_calls(reply)})
    exchange.send_event({"response": "", "usage": _usage(reply)})
    exchange.send_event("[DONE]")
    exchange.end_stream()


def handle(server: FakeServer, exchange: Exchange, body: Any, headers: Mapping[str, str]) -> None:
    """Validate one Workers AI run request and answer it from the script."""
    try:
        request = _check(headers, body)
    except ApiError as error:
        exchange.send_json(error.status, error.body)
        return
    reply = server.next_reply("workers_ai", request)
    result = _result(reply)  # before streaming starts, so a bad script still gets a 500
    if request.get("stream"):
        _stream(exchange, reply)
    else:
        exchange.send_json(200, {"result": result, "success": True, "errors": [], "messages": []})
