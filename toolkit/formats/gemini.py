"""Google Gemini: a ``FunctionDeclaration`` in Gemini's OpenAPI-subset schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import GEMINI, parameters_for
from toolkit.formats._names import NameRule

if TYPE_CHECKING:
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "GeminiCodec"]

NAMES = NameRule("a-zA-Z0-9_.:-", 64)


class GeminiCodec:
    """Gemini function declarations: no ``$ref``, no ``additionalProperties``, upper-case
    types, ``nullable`` instead of null unions, string-only enums."""

    name: Literal["gemini"] = "gemini"

    def wire_name(self, name: str) -> str:
        """Letters, digits, ``_ . : -``, at most 64 characters."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"name", "description", "parameters"}``; ``parameters`` is left out when the
        function takes none (Gemini rejects an OBJECT without properties)."""
        name, renamed = NAMES.renamed(tool.name)
        parameters, changes = parameters_for(tool.parameters, GEMINI, tool.__qualname__)
        definition: dict[str, Any] = {"name": name, "description": tool.description}
        if parameters.get("properties"):
            definition["parameters"] = parameters
        return definition, renamed + changes


CODEC = GeminiCodec()
