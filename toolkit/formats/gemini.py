"""Google Gemini: a ``FunctionDeclaration`` in Gemini's OpenAPI-subset schema."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._base import CodecBase
from toolkit.formats._dialects import GEMINI, parameters_for
from toolkit.formats._names import NameRule
from toolkit.formats._parse import (
    as_list,
    build_call,
    describe,
    field,
    has,
    is_generated,
    unique_ids,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
    from toolkit.formats import Change
    from toolkit.tool import Tool

__all__ = ["CODEC", "GeminiCodec"]

NAMES = NameRule("a-zA-Z0-9_.:-", 64)


class GeminiCodec(CodecBase):
    """Gemini function declarations: no ``$ref``, no ``additionalProperties``, upper-case
    types, ``nullable`` instead of null unions, string-only enums."""

    @property
    def name(self) -> Literal["gemini"]:
        """``"gemini"``."""
        return "gemini"

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

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The ``functionCall`` parts of a ``GenerateContentResponse`` (its first
        candidate), of a candidate, of a ``Content`` or of a list of parts, as REST dicts
        (camelCase) or google-genai objects (``function_call``): ``ToolCall(id, name,
        args)``. A call without ``id`` gets a stable generated one.
        https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
        """
        parts = self._parts(reply)
        calls: list[ToolCall] = []
        for index, part in enumerate(parts):
            call = field(part, "functionCall")
            if call is None:
                call = field(part, "function_call")
            if call is None:
                continue
            calls.append(
                build_call(
                    self.name,
                    f"part {index}",
                    call_id=field(call, "id"),
                    name=field(call, "name"),
                    arguments=field(call, "args"),
                    position=len(calls),
                )
            )
        return unique_ids(calls)

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"role": "user", "parts": [{"functionResponse": ...}]}`` content holding a
        ``{"name", "id"?, "response": {"result"} or {"error"}}`` part per result. ``id``
        echoes the call's, left out when the model sent none. No results, no message.
        https://ai.google.dev/api/caching#FunctionResponse and
        https://ai.google.dev/gemini-api/docs/function-calling
        """
        parts: list[dict[str, Any]] = []
        for r in results:
            response: dict[str, Any] = {"name": r.name}
            if not is_generated(r.call_id):
                response["id"] = r.call_id
            response["response"] = {"error": r.content} if r.is_error else {"result": r.content}
            parts.append({"functionResponse": response})
        return [{"role": "user", "parts": parts}] if parts else []

    def _parts(self, reply: Any) -> list[Any]:
        """The parts of the first candidate, wherever ``reply`` starts."""
        parts = as_list(reply)
        if parts is not None:
            return parts
        if has(reply, "candidates"):
            candidates = as_list(field(reply, "candidates"))
            if not candidates:  # a blocked prompt has no candidates
                return []
            reply = field(candidates[0], "content")
        elif has(reply, "content") and not has(reply, "parts"):  # one candidate
            reply = field(reply, "content")
        elif not has(reply, "parts"):
            raise ValueError(
                "gemini: expected a GenerateContentResponse, a candidate, a Content or a list"
                f" of parts; got {describe(reply)}"
            )
        # No content (a safety stop) or content without parts (an empty answer): no calls.
        parts = field(reply, "parts")
        if parts is None:
            return []
        listed = as_list(parts)
        if listed is None:
            raise ValueError(f"gemini: 'parts' is not a list: {describe(parts)}")
        return listed


CODEC = GeminiCodec()
