"""OpenAI Chat Completions: ``{"type": "function", "function": {...}}`` tool definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import OPENAI_STRICT, parameters_for
from toolkit.formats._names import NameRule
from toolkit.formats._parse import as_list, build_call, describe, field, has
from toolkit.formats._text_calls import text_calls, text_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "OpenAIChatCodec"]

NAMES = NameRule("a-zA-Z0-9_-", 64)


class OpenAIChatCodec:
    """The Chat Completions protocol (also spoken by vLLM, SGLang, Together, Baseten...)."""

    name: Literal["openai"] = "openai"

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
            return self._tool_calls(calls)
        message = self._message(reply)
        tool_calls = field(message, "tool_calls")
        if tool_calls is not None:
            calls = as_list(tool_calls)
            if calls is None:
                raise ValueError(f"openai: 'tool_calls' is not a list: {describe(tool_calls)}")
            if calls:
                return self._tool_calls(calls)
        return text_calls(self.name, text_of(field(message, "content")))

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"role": "tool", "tool_call_id", "content"}`` message per result.

        https://platform.openai.com/docs/api-reference/chat/create#chat-create-messages
        (the "Tool message" variant; ``openai.types.chat.ChatCompletionToolMessageParam``)
        """
        return [{"role": "tool", "tool_call_id": r.call_id, "content": r.content} for r in results]

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


CODEC = OpenAIChatCodec()
