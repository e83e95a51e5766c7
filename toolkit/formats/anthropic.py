"""Anthropic Messages: ``{"name", "description", "input_schema"}`` tool definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import ANTHROPIC_STRICT, parameters_for
from toolkit.formats._names import NameRule

if TYPE_CHECKING:
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


CODEC = AnthropicCodec()
