"""OpenAI Responses API: flat ``{"type": "function", "name": ...}`` tool definitions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from toolkit.formats._dialects import OPENAI_STRICT, parameters_for
from toolkit.formats._names import NameRule
from toolkit.formats._parse import as_list, build_call, describe, field

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
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

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The ``function_call`` items of a ``Response`` (object or dict) or of a list of
        output items: ``ToolCall(call_id, name, arguments)``, the arguments as the raw JSON
        string. The id is ``call_id``, which ``function_call_output`` must echo (not the
        item's own ``id``). Messages, reasoning and built-in tool items are skipped.
        https://platform.openai.com/docs/api-reference/responses/object#responses/object-output
        """
        items = as_list(reply)
        if items is None:
            output = field(reply, "output")
            if output is None:
                raise ValueError(
                    "openai-responses: expected a Response or a list of output items;"
                    f" got {describe(reply)}"
                )
            items = as_list(output)
            if items is None:
                raise ValueError(f"openai-responses: 'output' is not a list: {describe(output)}")
        calls: list[ToolCall] = []
        for index, item in enumerate(items):
            kind = field(item, "type")
            if kind is None:
                raise ValueError(f"openai-responses: output item {index} has no 'type'")
            if kind == "function_call":
                call = build_call(
                    self.name,
                    f"output item {index}",
                    call_id=field(item, "call_id"),
                    name=field(item, "name"),
                    arguments=field(item, "arguments"),
                    position=len(calls),
                )
                calls.append(call)
        return calls

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """One ``{"type": "function_call_output", "call_id", "output"}`` input item per result.

        https://platform.openai.com/docs/guides/function-calling (Responses tab);
        ``openai.types.responses.response_input_param.FunctionCallOutput``
        """
        return [
            {"type": "function_call_output", "call_id": r.call_id, "output": r.content}
            for r in results
        ]


CODEC = OpenAIResponsesCodec()
