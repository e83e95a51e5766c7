"""Anthropic Messages: ``{"name", "description", "input_schema"}`` tool definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import ANTHROPIC_STRICT, parameters_for
from toolkit.formats._names import NameRule
from toolkit.formats._parse import as_list, build_call, describe, field

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "AnthropicCodec"]

NAMES = NameRule("a-zA-Z0-9_-", 128)


class AnthropicCodec:
    """The Messages protocol (``tool_use`` / ``tool_result`` content blocks)."""

    name: Literal["anthropic"] = "anthropic"

    def wire_name(self, name: str) -> str:
        """``^[a-zA-Z0-9_-]{1,128}$``."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"name", "description", "input_schema", "strict"}``."""
        name, renamed = NAMES.renamed(tool.name)
        schema, changes = parameters_for(
            tool.parameters, ANTHROPIC_STRICT if strict else None, tool.__qualname__
        )
        definition: dict[str, Any] = {"name": name}
        if tool.description:
            definition["description"] = tool.description
        definition["input_schema"] = schema
        if strict:
            definition["strict"] = True
        return definition, renamed + changes

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The ``tool_use`` blocks of a ``Message`` (object or dict) or of a content list:
        ``ToolCall(id, name, input)``, the input as the mapping the API sent. Text, thinking
        and server-tool blocks are skipped.
        https://docs.anthropic.com/en/docs/build-with-claude/tool-use
        """
        blocks = as_list(reply)
        if blocks is None:
            content = field(reply, "content")
            if content is None:
                raise ValueError(
                    "anthropic: expected a Message or a list of content blocks;"
                    f" got {describe(reply)}"
                )
            if isinstance(content, str):  # a plain text message
                return []
            blocks = as_list(content)
            if blocks is None:
                raise ValueError(f"anthropic: 'content' is not a list: {describe(content)}")
        calls: list[ToolCall] = []
        for index, block in enumerate(blocks):
            kind = field(block, "type")
            if kind is None:
                raise ValueError(f"anthropic: content block {index} has no 'type'")
            if kind == "tool_use":
                calls.append(
                    build_call(
                        self.name,
                        f"content block {index}",
                        call_id=field(block, "id"),
                        name=field(block, "name"),
                        arguments=field(block, "input"),
                        position=len(calls),
                    )
                )
        return calls

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One user message holding a ``tool_result`` block per result, in call order, and
        nothing else (the API wants the results first in that message); ``is_error`` only
        on failures. No results, no message.
        https://docs.anthropic.com/en/docs/build-with-claude/tool-use/implement-tool-use#handling-tool-use-and-tool-result-content-blocks
        """
        blocks: list[dict[str, Any]] = []
        for r in results:
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": r.call_id,
                "content": r.content,
            }
            if r.is_error:
                block["is_error"] = True
            blocks.append(block)
        return [{"role": "user", "content": blocks}] if blocks else []


CODEC = AnthropicCodec()
