"""Tool calls a model wrote as text, Hermes style, when the server had no tool parser:

    Let me check.
    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Paris"}}
    </tool_call>

Hermes 2 Pro and Qwen chat templates ask for exactly this; Llama-style templates say
``"parameters"`` instead of ``"arguments"``, and some models wrap the JSON in a ```json fence
or put a list of calls in one block. An unclosed last block (generation stopped at the
closing tag) still counts.

The text is the model's, so it is read as hostile: the work is linear in its length (no
backtracking regex runs over it), and text that does not read as a call stays text, never
an error. A block is ``<tool_call>``, its body, then the first ``</tool_call>`` after it (or
the end of the text). The body, after an optional ```json fence, is a call when it is

- a JSON object with a non-empty string ``"name"``, or a non-empty JSON list of them; or
- broken JSON that clearly starts like one: ``{`` (or ``[{``) then a ``"name": "<string>"``
  member. The name is kept and the raw argument text goes on, so the registry can tell the
  model what is wrong with its JSON.

Anything else (a model writing *about* ``<tool_call>`` tags) is text: the opening tag is
skipped and the search goes on after it.

Why the scan is linear: openings and closings are found with ``str.find`` from positions
that only move forward, each searched for again only once the scan has passed it. A body is
examined with ``re.match`` at fixed positions, for patterns that cannot backtrack more than
they advance (a whitespace run, one JSON string), then at most once with ``json.loads``:

- a block that is a call is consumed whole, so no later block reads its body again;
- a block that is not a call is rejected after its leading spaces, fence and ``{"name": "``
  prefix, unless no other opening lies inside it: only then is its body parsed as JSON, and
  the next block starts after it. Spaces end at the next ``<``, so no two blocks skip the
  same ones. A name string that does not close within its block makes the block text;
  no block inside that string can start like a call (that takes an unescaped quote, which
  would have closed the string), so each of those is rejected before reaching its end.

So every character is read a bounded number of times, whatever the mix of tags, fences,
braces, quotes and backslashes. The price, two corner cases: a ``</tool_call>`` inside a
JSON string still ends the block (the call is then reported as broken), and a valid call
whose ``"name"`` is not its first member is text when another ``<tool_call>`` appears inside
it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from toolkit.calls import ToolCall
from toolkit.formats._parse import as_list, build_call, field

__all__ = ["CallBlock", "call_blocks", "split_text_calls", "text_calls", "text_of"]

_OPEN = "<tool_call>"
_CLOSE = "</tool_call>"
_FENCE = "```"
# Both only ever run with ``match`` at a known position. ``\s*`` cannot backtrack into
# anything; in the string pattern each step starts with a different character (a plain
# one, or a backslash), so a failed match gives back each step once.
_SPACE = re.compile(r"\s*")
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_ARGUMENT_KEYS = ('"arguments"', '"parameters"')


@dataclass(frozen=True, slots=True, kw_only=True)
class CallBlock:
    """One ``<tool_call>`` block that read as calls: ``text[start:end]``, and its calls."""

    start: int
    end: int
    calls: tuple[ToolCall, ...]


def text_calls(protocol: str, text: str) -> list[ToolCall]:
    """The calls in the ``<tool_call>`` blocks of ``text``, in order, with stable ids."""
    return [call for block in call_blocks(protocol, text) for call in block.calls]


def split_text_calls(protocol: str, text: str) -> tuple[list[ToolCall], str]:
    """The calls in the ``<tool_call>`` blocks of ``text``, and the text without those
    blocks (blocks that are not calls stay, as do the spaces around a cut block)."""
    calls: list[ToolCall] = []
    kept: list[str] = []
    done = 0
    for block in call_blocks(protocol, text):
        calls.extend(block.calls)
        kept.append(text[done : block.start])
        done = block.end
    kept.append(text[done:])
    return calls, "".join(kept)


def call_blocks(protocol: str, text: str) -> list[CallBlock]:
    """The ``<tool_call>`` blocks of ``text`` that read as calls, in order. Never raises."""
    blocks: list[CallBlock] = []
    count = 0  # calls so far: each call's position, for its generated id
    opening = text.find(_OPEN)
    closing = -1  # the first closing tag at or after the current body, once searched for
    while opening >= 0:
        body = opening + len(_OPEN)
        if closing < body:
            closing = text.find(_CLOSE, body)
            if closing < 0:
                closing = len(text)  # no closing tag from here on: blocks run to the end
        following = text.find(_OPEN, body)  # the next opening: a candidate of its own
        found = _read_block(text, body, closing, inner_opening=0 <= following < closing)
        if found is None:
            opening = following
            continue
        end = min(closing + len(_CLOSE), len(text))
        where = f"<tool_call> block {len(blocks)}"
        calls: list[ToolCall] = []
        for name, arguments in found:
            call = build_call(
                protocol, where, call_id=None, name=name, arguments=arguments, position=count
            )
            calls.append(call)
            count += 1
        blocks.append(CallBlock(start=opening, end=end, calls=tuple(calls)))
        opening = following if following < 0 or following >= end else text.find(_OPEN, end)
    return blocks


def _read_block(
    text: str, start: int, end: int, *, inner_opening: bool
) -> list[tuple[str, Any]] | None:
    """The ``(name, arguments)`` pairs in the body ``text[start:end]``, or ``None`` when the
    body is not a call. ``inner_opening``: another ``<tool_call>`` starts inside the body."""
    at = _skip_space(text, start, end)
    fenced = text.startswith(_FENCE, at, end)
    if fenced:
        at += len(_FENCE)
        if text.startswith("json", at, end):
            at += len("json")
        at = _skip_space(text, at, end)
    if not text.startswith(("{", "["), at, end):
        return None
    name = _leading_name(text, at, end)
    if name is None and inner_opening:
        # Not a call's start, and parsing the body would read into the next block: text.
        return None
    payload = text[at:end].rstrip()
    if fenced and payload.endswith(_FENCE):
        payload = payload[: -len(_FENCE)].rstrip()
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):  # broken, or nested too deep to read
        data = None
    found = _calls_in(data)
    if found is not None:
        return found
    if name is None:
        return None
    return [(name, _salvaged_arguments(payload))]


def _calls_in(data: Any) -> list[tuple[str, Any]] | None:
    """The calls in a block's JSON: one call object or a non-empty list of them, else None."""
    entries = as_list(data)
    if entries is None:
        entries = [data]
    found: list[tuple[str, Any]] = []
    for entry in entries:
        if not isinstance(entry, Mapping):
            return None
        written = cast("Mapping[str, Any]", entry)
        name = written.get("name")
        if not isinstance(name, str) or not name:
            return None
        found.append((name, written.get("arguments", written.get("parameters"))))
    return found or None


def _leading_name(text: str, start: int, end: int) -> str | None:
    """The name when ``text[start:end]`` starts like a call object, ``{"name": "<name>"``
    (or a list of them, ``[{"name": ...``), else None."""
    at = start
    if text.startswith("[", at, end):
        at = _skip_space(text, at + 1, end)
    if not text.startswith("{", at, end):
        return None
    at = _skip_space(text, at + 1, end)
    if not text.startswith('"name"', at, end):
        return None
    at = _skip_space(text, at + len('"name"'), end)
    if not text.startswith(":", at, end):
        return None
    at = _skip_space(text, at + 1, end)
    written = _STRING.match(text, at, end)
    if written is None:
        return None
    try:
        name = json.loads(written.group(), strict=False)
    except ValueError:  # a bad escape: keep the name as written
        name = written.group()[1:-1]
    return name if isinstance(name, str) and name else None


def _salvaged_arguments(payload: str) -> str:
    """The raw text after the first ``"arguments":`` (or ``"parameters":``) of a call whose
    JSON is broken, without the call object's own closing brace; the whole payload when
    there is no such key."""
    value = -1
    first = len(payload)
    for key in _ARGUMENT_KEYS:
        at = payload.find(key, 0, first)
        while at >= 0:
            colon = _skip_space(payload, at + len(key), len(payload))
            if payload.startswith(":", colon):
                first, value = at, colon + 1
                break
            at = payload.find(key, at + 1, first)
    if value < 0:
        return payload
    arguments = payload[value:].strip()
    if payload.startswith("[") and arguments.endswith("]"):  # a list of calls: its bracket
        arguments = arguments[:-1].rstrip()
    # Drop the call object's own closing brace, when it is there.
    if arguments.endswith("}") and arguments.count("}") > arguments.count("{"):
        arguments = arguments[:-1].rstrip()
    return arguments


def _skip_space(text: str, start: int, end: int) -> int:
    """The first position at or after ``start`` (before ``end``) that is not whitespace."""
    found = _SPACE.match(text, start, end)
    return found.end() if found else start


def text_of(content: Any) -> str:
    """The text of a message's content: a string, or the text parts of a content list."""
    if isinstance(content, str):
        return content
    parts = as_list(content) or []
    return "".join(text for part in parts if isinstance(text := field(part, "text"), str))
