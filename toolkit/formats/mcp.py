"""Model Context Protocol: ``Tool`` objects as a server lists them (``tools/list``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._names import NameRule
from toolkit.schema import return_json_schema

if TYPE_CHECKING:
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "MCPCodec"]

NAMES = NameRule("a-zA-Z0-9_.-", 128)


class MCPCodec:
    """MCP tools: ``inputSchema``, ``outputSchema`` from the return annotation, and the
    behaviour ``annotations`` (read-only, destructive, idempotent, open-world hints)."""

    name: Literal["mcp"] = "mcp"

    def wire_name(self, name: str) -> str:
        """Letters, digits, ``_ - .``, 1 to 128 characters."""
        return NAMES.legal(name)

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """``{"name", "title"?, "description", "inputSchema", "outputSchema"?, "annotations"?}``.

        A return type that is not an object is wrapped as ``{"result": ...}``, since MCP's
        structured content must be an object.
        """
        name, changes = NAMES.renamed(tool.name)
        definition: dict[str, Any] = {"name": name}
        hints = tool.annotations
        if hints is not None and hints.title:
            definition["title"] = hints.title
        definition["description"] = tool.description
        definition["inputSchema"] = tool.parameters
        output = return_json_schema(tool.return_annotation)
        if output is not None:
            if output.get("type") != "object":
                defs = output.pop("$defs", None)
                output = {
                    "type": "object",
                    "properties": {"result": output},
                    "required": ["result"],
                }
                if defs:
                    output["$defs"] = defs
            definition["outputSchema"] = output
        if hints is not None:
            wire = {
                "title": hints.title,
                "readOnlyHint": hints.read_only,
                "destructiveHint": hints.destructive,
                "idempotentHint": hints.idempotent,
                "openWorldHint": hints.open_world,
            }
            present = {k: v for k, v in wire.items() if v is not None}
            if present:
                definition["annotations"] = present
        return definition, changes


CODEC = MCPCodec()
