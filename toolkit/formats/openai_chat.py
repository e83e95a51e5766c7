"""OpenAI Chat Completions: ``{"type": "function", "function": {...}}`` tool definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import OPENAI_STRICT, parameters_for
from toolkit.formats._names import NameRule

if TYPE_CHECKING:
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


CODEC = OpenAIChatCodec()
