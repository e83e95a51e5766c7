"""Tool calls a model wrote as text, Hermes style, when the server had no tool parser:

    Let me check.
    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

Hermes 2 Pro and Qwen chat templates ask for exactly this; Llama-style templates say
``"parameters"`` instead of ``"arguments"``, and some models wrap the JSON in a ```json fence
or put a list of calls in one block. An unclosed last block (generation stopped at the
closing tag) still counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, cast

from toolkit.calls import ToolCall
from toolkit.formats._parse import as_list, build_call, field

__all__ = ["text_calls", "text_of"]

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)\s*```", re.DOTALL)
# For a block whose JSON is broken: recover the name, keep the arguments as raw text.
_NAME = re.compile(r'"name"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ARGUMENTS = re.compile(r'"(?:arguments|parameters)"\s*:\s*(.*)', re.DOTALL)


def text_calls(protocol: str, text: str) -> list[ToolCall]:
    """The ``<tool_call>`` blocks in ``text``, in order, with generated stable ids.

    Raises:
        ValueError: a block names no tool.
    """
    calls: list[ToolCall] = []
    for number, match in enumerate(_BLOCK.finditer(text)):
        where = f"<tool_call> block {number}"
        body = match.group(1).strip()
        fenced = _FENCE.fullmatch(body)
        if fenced:
            body = fenced.group(1)
        try:
            data = json.loads(body)
        except ValueError:
            name, arguments = _salvage(body)
            call = build_call(
                protocol, where, call_id=None, name=name, arguments=arguments, position=len(calls)
            )
            calls.append(call)
            continue
        for entry in as_list(data) or [data]:
            if not isinstance(entry, Mapping):
                raise ValueError(f"{protocol}: {where} is not a JSON object: {body[:80]!r}")
            written = cast("Mapping[str, Any]", entry)
            name = written.get("name")
            arguments = written.get("arguments", written.get("parameters"))
            call = build_call(
                protocol, where, call_id=None, name=name, arguments=arguments, position=len(calls)
            )
            calls.append(call)
    return calls


def _salvage(body: str) -> tuple[str | None, str]:
    """The name and the raw argument text of a block that is not valid JSON."""
    name_match = _NAME.search(body)
    name = None
    if name_match:
        try:
            name = json.loads(f'"{name_match.group(1)}"')
        except ValueError:
            name = name_match.group(1)
    arguments_match = _ARGUMENTS.search(body)
    if arguments_match is None:
        return name, body
    arguments = arguments_match.group(1).rstrip()
    # Drop the call object's own closing brace, when it is there.
    if arguments.endswith("}") and arguments.count("}") > arguments.count("{"):
        arguments = arguments[:-1].rstrip()
    return name, arguments


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    parts = as_list(content) or []
    return "".join(text for part in parts if isinstance(text := field(part, "text"), str))
