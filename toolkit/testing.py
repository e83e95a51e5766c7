"""Offline models for tests: plug them into ``Runner`` instead of a client.

```python
from toolkit import Runner, tool
from toolkit.testing import ScriptedModel, call

@tool
def add(a: int, b: int) -> int:
    '''Add two integers.'''
    return a + b

model = ScriptedModel([call("add", a=2, b=3), "2 + 3 = 5"])
result = Runner(model, tools=[add]).run("What is 2 + 3?")
assert result.text == "2 + 3 = 5"
assert result.tool_results[0].value == 5
```

Each model speaks the Chat Completions message format by default (``format=`` any protocol
the runner speaks: ``"openai-responses"``, ``"anthropic"``, ``"workers-ai"``), building its
messages with that protocol's codec; it answers sync and async, and streams in small
pieces. No model name is needed.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast, get_args

from toolkit.calls import ToolCall
from toolkit.formats import ConversationCodec, ConversationFormat, get_format
from toolkit.model import ModelReply, ModelRequest, ReplyStop, StreamDelta, Usage

__all__ = ["FunctionModel", "ReplySpec", "ScriptedModel", "TestModel", "call"]

ReplySpec = str | ToolCall | Sequence[ToolCall] | ModelReply
"""A scripted reply: text, one call, several calls, or a full ``ModelReply``."""


def call(name: str, /, **arguments: Any) -> ToolCall:
    """A tool call for a script (its id is assigned when the reply is made)."""
    return ToolCall(id="", name=name, arguments=json.dumps(arguments))


class _OfflineModel:
    """The shared half of the offline models: native messages, streaming, async twins."""

    def __init__(self, format: ConversationFormat = "openai") -> None:
        if format not in get_args(ConversationFormat):
            known = ", ".join(repr(f) for f in get_args(ConversationFormat))
            raise ValueError(f"offline models speak {known}; not {format!r}")
        self._codec = get_format(format)
        self._ids = itertools.count(1)
        self.requests: list[ModelRequest] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(format={self._codec.name!r})"

    @property
    def codec(self) -> ConversationCodec:
        """The protocol the model writes its messages in."""
        return self._codec

    def _decide(self, request: ModelRequest) -> ReplySpec:
        raise NotImplementedError

    def complete(self, request: ModelRequest) -> ModelReply:
        """The next reply."""
        self.requests.append(request)
        return self._reply(self._decide(request))

    async def complete_async(self, request: ModelRequest) -> ModelReply:
        """The next reply (async twin)."""
        return self.complete(request)

    def stream(self, request: ModelRequest) -> Iterator[StreamDelta | ModelReply]:
        """The next reply in pieces: text in words, each call's arguments in halves."""
        reply = self.complete(request)
        for word in reply.text.split(" "):
            if word:
                yield StreamDelta(text=word + " ")
        for index, made in enumerate(reply.calls):
            text = made.arguments if isinstance(made.arguments, str) else json.dumps(made.arguments)
            half = len(text) // 2
            yield StreamDelta(call_index=index, call_id=made.id, call_name=made.name)
            yield StreamDelta(call_index=index, arguments=text[:half])
            yield StreamDelta(call_index=index, arguments=text[half:])
        yield reply

    async def stream_async(self, request: ModelRequest) -> AsyncIterator[StreamDelta | ModelReply]:
        """The next reply in pieces (async twin)."""
        for item in self.stream(request):
            yield item

    def _reply(self, spec: ReplySpec) -> ModelReply:
        if isinstance(spec, ModelReply):
            return spec
        if isinstance(spec, str):
            return self._made(spec, (), "end")
        calls = (spec,) if isinstance(spec, ToolCall) else tuple(spec)
        calls = tuple(
            c
            if c.id
            else ToolCall(id=f"call_{next(self._ids)}", name=c.name, arguments=c.arguments)
            for c in calls
        )
        return self._made("", calls, "tool_calls")

    def _made(self, text: str, calls: tuple[ToolCall, ...], stop: ReplyStop) -> ModelReply:
        message = self._codec.assistant_message(text, calls)
        sizes = [len(c.arguments) if isinstance(c.arguments, str) else 8 for c in calls]
        words = len(text.split()) + sum(size // 4 for size in sizes)
        return ModelReply(
            message=message, text=text, calls=calls, stop=stop, usage=Usage(10, max(words, 1))
        )


class ScriptedModel(_OfflineModel):
    """Answers with the given replies, in order.

    Args:
        replies: Each a text, a ``call(...)``, a list of calls, or a ``ModelReply``.
        format: The protocol of the messages (``"openai"`` by default).

    Raises:
        AssertionError: on a request after the script ran out (a test should know).
    """

    def __init__(
        self, replies: Iterable[ReplySpec], *, format: ConversationFormat = "openai"
    ) -> None:
        super().__init__(format)
        self._replies = list(replies)
        self._next = 0

    def _decide(self, request: ModelRequest) -> ReplySpec:
        if self._next >= len(self._replies):
            raise AssertionError(
                f"ScriptedModel ran out of replies after {len(self._replies)} requests"
            )
        self._next += 1
        return self._replies[self._next - 1]


class FunctionModel(_OfflineModel):
    """Answers with whatever ``decide(request)`` returns (it sees the whole conversation)."""

    def __init__(
        self,
        decide: Callable[[ModelRequest], ReplySpec],
        *,
        format: ConversationFormat = "openai",
    ) -> None:
        super().__init__(format)
        self._decide_with = decide

    def _decide(self, request: ModelRequest) -> ReplySpec:
        return self._decide_with(request)


class TestModel(_OfflineModel):
    """Calls every tool once with arguments generated from its schema, then answers with a
    JSON summary of what the tools returned. Exercises a whole tool set with no network."""

    __test__ = False  # not a pytest test class, despite the name

    def _decide(self, request: ModelRequest) -> ReplySpec:
        if len(self.requests) == 1 and request.tools and request.tool_choice != "none":
            return [
                ToolCall(id="", name=name, arguments=json.dumps(example_value(schema, schema)))
                for name, schema in (_name_and_schema(t) for t in request.tools)
            ]
        return json.dumps({"requests": len(self.requests)})


def example_value(schema: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    """A value valid under a JSON Schema (as toolkit generates them): the first choice of
    each union and enum, the smallest numbers and strings that meet the constraints."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    node: dict[str, Any] = schema  # pyright: ignore[reportUnknownVariableType]
    if "$ref" in node:
        target = root.get("$defs", {}).get(str(node["$ref"]).rsplit("/", 1)[-1], {})
        return example_value(target, root, depth + 1)
    if "const" in node:
        return node["const"]
    if node.get("enum"):
        return node["enum"][0]
    for union in ("anyOf", "oneOf"):
        if node.get(union):
            return example_value(node[union][0], root, depth + 1)
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = cast("list[str]", kind)
        kind = next((k for k in kinds if k != "null"), "null")
    if kind == "object":
        properties: dict[str, Any] = node.get("properties", {})
        required = node.get("required", list(properties))
        return {k: example_value(properties[k], root, depth + 1) for k in required}
    if kind == "array":
        count = int(node.get("minItems", 1))
        if "prefixItems" in node:
            return [example_value(item, root, depth + 1) for item in node["prefixItems"]]
        return [example_value(node.get("items", {}), root, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = node.get("minimum", node.get("exclusiveMinimum", -1) + 1)
        return int(low) if kind == "integer" else float(low)
    if kind == "boolean":
        return True
    if kind == "string":
        return _example_string(node)
    return None


def _example_string(node: Mapping[str, Any]) -> str:
    formats = {
        "date-time": "2026-01-01T00:00:00Z",
        "date": "2026-01-01",
        "time": "12:00:00",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "email": "user@example.com",
        "uri": "https://example.com",
    }
    text = formats.get(str(node.get("format")), "x")
    return text.ljust(int(node.get("minLength", 0)), "x")


def _name_and_schema(definition: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    function = cast("Mapping[str, Any]", definition.get("function", definition))
    schema: Any = function.get("parameters") or function.get("input_schema") or {}
    return str(function["name"]), cast("dict[str, Any]", schema)
