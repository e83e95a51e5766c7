"""One codec per wire protocol, looked up by format name.

Each module under ``toolkit.formats`` owns everything about one protocol. Codecs are
imported on first use, so naming a format costs nothing until it is rendered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from toolkit.formats._change import Change

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.calls import ToolCall, ToolResult
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
    """What toolkit needs from a wire protocol: describe tools to it, read the calls a model
    makes in it, and answer them in it."""

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

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The tool calls in a model's reply, in order (empty when it made none).

        ``reply`` is what the provider's SDK returns or its raw JSON as plain dicts, at any
        reasonable depth (the whole response, one message, or just its list of calls). SDK
        objects are read by attribute, so no SDK is imported. Arguments are kept as
        received: a broken JSON string passes through for the registry to report to the
        model. Calls without an id get a stable one made from their position and content.

        Raises:
            ValueError: the reply does not have this protocol's shape (a call without a
                name, a field of the wrong type, an unknown envelope), naming the format
                and the problem.
        """
        ...

    def result_messages(self, results: Sequence[ToolResult]) -> list[dict[str, Any]]:
        """The messages that answer ``results`` (in call order), to append to the
        conversation as they are."""
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
