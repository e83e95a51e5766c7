"""Typed final output: what ``Runner(output_type=...)`` adds to a run.

The output is checked by a tool of its own, ``final_answer(answer: T)``, in a registry of its
own: the same validation as any tool's call (pydantic, precise error locations, strict-mode
shapes mapped back), the same error text for the model, and a value of type ``T``. How the
model gives it depends on the mode:

- ``"tool"``: the model is offered ``final_answer`` beside the other tools and ends the run
  by calling it. Works on every protocol, with tools, and on servers that stop calling tools
  when a response format is set (llama.cpp's grammar does).
- ``"native"``: the request asks for JSON of the tool's parameters schema (OpenAI
  ``response_format`` / ``text.format`` strict, Anthropic ``output_config``, Gemini
  ``responseJsonSchema``, Workers AI ``response_format``); the reply's text is checked as
  the tool's arguments.

Either way an output that fails is answered with its problems, and the model tries again
within ``Limits.max_retries``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from toolkit.registry import Registry
from toolkit.tool import Tool, tool

if TYPE_CHECKING:
    from toolkit.formats import ConversationCodec

__all__ = ["OUTPUT_TOOL", "Output", "OutputMode", "check_mode", "output_for"]

OutputMode = Literal["auto", "native", "tool"]
"""How a typed output is asked for (see ``Runner``'s ``output_mode``)."""

OUTPUT_TOOL = "final_answer"

_DESCRIPTION = (
    "Give your final answer, in the required structure, once you have everything you need. "
    "Call it alone, as your last step."
)


@dataclass(frozen=True, slots=True)
class Output:
    """A run's typed output: its checking tool, its own registry, and the chosen mode."""

    type: Any
    tool: Tool[..., Any]
    registry: Registry
    native: bool

    def definition(self, codec: ConversationCodec, strict: bool | None) -> dict[str, Any]:
        """The ``final_answer`` tool's definition in ``codec``'s format (strict unless told
        otherwise: it is what a structured reply is asked to match, too)."""
        return self.tool.definition(codec.name, strict=True if strict is None else strict)

    def is_call(self, name: str) -> bool:
        return not self.native and self.registry.get(name) is not None


def output_for(output_type: Any, mode: OutputMode, native_available: bool) -> Output:
    """The ``Output`` of ``output_type``.

    Raises:
        ValueError: ``mode`` is not one of ``OutputMode``.
        ToolDefinitionError: pydantic cannot validate ``output_type``.
    """
    check_mode(mode)

    def final_answer(answer: Any) -> Any:
        return answer

    final_answer.__annotations__ = {"answer": output_type, "return": output_type}
    final_answer.__doc__ = _DESCRIPTION
    checker = tool(final_answer, name=OUTPUT_TOOL, strict=True)
    native = mode == "native" or (mode == "auto" and native_available)
    return Output(output_type, checker, Registry([checker]), native)


def check_mode(mode: object) -> None:
    """Raises ``ValueError`` unless ``mode`` is an ``OutputMode``."""
    if mode not in ("auto", "native", "tool"):
        raise ValueError(f"output_mode must be 'auto', 'native' or 'tool', got {mode!r}")
