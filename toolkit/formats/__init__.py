"""One codec per wire protocol, looked up by format name.

Each module under ``toolkit.formats`` owns everything about one protocol. Codecs are
imported on first use, so naming a format costs nothing until it is rendered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from toolkit.formats._transform import Change

if TYPE_CHECKING:
    from toolkit.tool import Tool

__all__ = ["FORMATS", "Change", "Codec", "FormatName", "get_format"]

FormatName = Literal["openai", "openai-responses", "anthropic", "workers-ai", "gemini", "mcp"]
"""The protocols toolkit renders tool definitions for."""

FORMATS: tuple[FormatName, ...] = get_args(FormatName)

_MODULES: dict[str, str] = {
    "openai": "openai_chat",
    "openai-responses": "openai_responses",
    "anthropic": "anthropic",
    "workers-ai": "workers_ai",
    "gemini": "gemini",
    "mcp": "mcp",
}


class Codec(Protocol):
    """What toolkit needs from a wire protocol to describe tools to it."""

    @property
    def name(self) -> FormatName:
        """The format name, as passed to ``Tool.definition``."""
        ...

    def wire_name(self, name: str) -> str:
        """The tool name as this protocol must spell it (deterministic)."""
        ...

    def render_tool(
        self, tool: Tool[..., Any], *, strict: bool
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        """The tool definition, and what had to change to express it."""
        ...


_loaded: dict[str, Codec] = {}


def get_format(name: str) -> Codec:
    """The codec for ``name``.

    Raises:
        ValueError: ``name`` is not one of ``FORMATS``.
    """
    codec = _loaded.get(name)
    if codec is None:
        module = _MODULES.get(name)
        if module is None:
            known = ", ".join(repr(f) for f in FORMATS)
            raise ValueError(f"unknown tool format {name!r}; expected one of {known}")
        codec = importlib.import_module(f"toolkit.formats.{module}").CODEC
        _loaded[name] = codec
    return codec
