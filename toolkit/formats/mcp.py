"""Model Context Protocol: ``Tool`` objects as a server lists them (``tools/list``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from pydantic_core import to_jsonable_python

from toolkit import media
from toolkit.formats._base import CodecBase
from toolkit.formats._names import NameRule
from toolkit.formats._parse import build_call, describe, field, has
from toolkit.schema import return_json_schema

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "MCPCodec"]

NAMES = NameRule("a-zA-Z0-9_.-", 128)


class MCPCodec(CodecBase):
    """MCP tools: ``inputSchema``, ``outputSchema`` from the return annotation, and the
    behaviour ``annotations`` (read-only, destructive, idempotent, open-world hints)."""

    @property
    def name(self) -> Literal["mcp"]:
        """``"mcp"``."""
        return "mcp"

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

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The one call in a ``tools/call`` request: its params ``{"name", "arguments"}``, or
        the whole JSON-RPC request, whose ``id`` (as a string) becomes the call id.
        https://modelcontextprotocol.io/specification/2025-06-18/server/tools#calling-tools
        """
        params, request_id = reply, None
        if has(reply, "method"):
            method = field(reply, "method")
            if method != "tools/call":
                raise ValueError(f"mcp: expected a 'tools/call' request, got method {method!r}")
            params = field(reply, "params")
            if params is None:
                raise ValueError("mcp: the tools/call request has no 'params'")
            request_id = field(reply, "id")
            if isinstance(request_id, int) and not isinstance(request_id, bool):
                request_id = str(request_id)
        elif not has(reply, "name"):
            raise ValueError(
                "mcp: expected tools/call params {'name', 'arguments'} or a JSON-RPC"
                f" tools/call request; got {describe(reply)}"
            )
        call = build_call(
            self.name,
            "the tools/call params",
            call_id=request_id,
            name=field(params, "name"),
            arguments=field(params, "arguments"),
            position=0,
        )
        return [call]

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``CallToolResult`` per result: ``{"content": [{"type": "text", "text"}],
        "isError", "structuredContent"?}``.

        A successful result also carries its value as ``structuredContent``: as it is when
        it serialises to a JSON object, else wrapped as ``{"result": value}``, the same
        wrapping as ``outputSchema`` (an image or file in it is its placeholder text).
        Failures carry only the text. The content of a result with images or files is, in
        order: ``text``; ``{"type": "image", "data", "mimeType"}``; a file as an embedded
        resource ``{"type": "resource", "resource": {"uri", "mimeType", "blob"}}``; an
        image or file given by link as ``{"type": "resource_link", "uri", "name",
        "mimeType"}``.
        https://modelcontextprotocol.io/specification/2025-06-18/server/tools#tool-result
        """
        messages: list[dict[str, Any]] = []
        for r in results:
            content = _content(r) if r.parts else [{"type": "text", "text": r.content}]
            message: dict[str, Any] = {"content": content, "isError": r.is_error}
            if not r.is_error:
                value = to_jsonable_python(r.value, fallback=str)
                message["structuredContent"] = (
                    value if isinstance(value, dict) else {"result": value}
                )
            messages.append(message)
        return messages


def _content(result: ToolResult) -> list[dict[str, Any]]:
    """A result's parts as MCP content blocks (empty texts left out)."""
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(result.parts):
        if isinstance(part, str):
            if part:
                blocks.append({"type": "text", "text": part})
        elif not part.inline:
            blocks.append(
                {
                    "type": "resource_link",
                    "uri": part.url,
                    "name": _link_name(part),
                    "mimeType": part.media_type,
                }
            )
        elif isinstance(part, media.Image):
            blocks.append({"type": "image", "data": part.base64(), "mimeType": part.media_type})
        else:
            resource = {"uri": _resource_uri(result, index, part), "mimeType": part.media_type}
            resource["blob"] = part.base64()
            blocks.append({"type": "resource", "resource": resource})
    return blocks


def _resource_uri(result: ToolResult, index: int, part: media.File) -> str:
    """A name for a file the result embeds: unique within the server's results (the call
    id) and showing the filename when there is one."""
    name = part.filename or f"part-{index}"
    return f"toolkit://results/{quote(result.call_id, safe='')}/{quote(name, safe='')}"


def _link_name(part: media.Image | media.File) -> str:
    if isinstance(part, media.File) and part.filename:
        return part.filename
    path = urlsplit(part.url or "").path
    return path.rsplit("/", 1)[-1] or part.KIND


CODEC = MCPCodec()
