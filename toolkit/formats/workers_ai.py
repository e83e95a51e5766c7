"""Cloudflare Workers AI: the flat ``{"name", "description", "parameters"}`` format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import WORKERS_AI, parameters_for
from toolkit.formats._names import NameRule

if TYPE_CHECKING:
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


CODEC = WorkersAICodec()
