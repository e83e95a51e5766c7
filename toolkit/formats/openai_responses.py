"""OpenAI Responses API: flat ``{"type": "function", "name": ...}`` tool definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import OPENAI_STRICT, parameters_for
from toolkit.formats._names import NameRule

if TYPE_CHECKING:
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "OpenAIResponsesCodec"]

NAMES = NameRule("a-zA-Z0-9_-", 64)


class OpenAIResponsesCodec:
    """The Responses protocol (``function_call`` / ``function_call_output`` items)."""

    name: Literal["openai-responses"] = "openai-responses"

    def wire_name(self, name: str) -> str:
        """``^[a-zA-Z0-9_-]{1,64}$``."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"type": "function", "name", "description", "parameters", "strict"}``.

        ``strict`` is always written: the Responses API treats a missing flag as strict.
        """
        name, renamed = NAMES.renamed(tool.name)
        parameters, changes = parameters_for(
            tool.parameters, OPENAI_STRICT if strict else None, tool.__qualname__
        )
        definition: dict[str, Any] = {"type": "function", "name": name}
        if tool.description:
            definition["description"] = tool.description
        definition["parameters"] = parameters
        definition["strict"] = strict
        return definition, renamed + changes


CODEC = OpenAIResponsesCodec()
