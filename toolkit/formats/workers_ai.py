"""Cloudflare Workers AI: the flat ``{"name", "description", "parameters"}`` format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import WORKERS_AI, parameters_for
from toolkit.formats._names import NameRule
from toolkit.formats._parse import as_list, build_call, describe, field, has
from toolkit.formats._text_calls import text_calls

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "WorkersAICodec"]

NAMES = NameRule("a-zA-Z0-9_-", 64)


class WorkersAICodec:
    """Workers AI's own tool format (open models behind a chat template).

    ``$ref``s are inlined (except recursive ones): the schema lands in a prompt, and small
    models follow an inline schema far better than a reference.
    """

    name: Literal["workers-ai"] = "workers-ai"

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
        """
        return [
            {"role": "tool", "name": r.name, "tool_call_id": r.call_id, "content": r.content}
            for r in results
        ]

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
        return calls


CODEC = WorkersAICodec()
