"""The codec contract, and one codec per wire protocol, looked up by format name.

A codec owns everything about one protocol and nothing else: it renders tools, reads the
calls a model makes, writes their results, and (for the protocols the runner speaks) builds
requests, reads replies and streams, and keeps a conversation's history in the protocol's
own shape. The contract is declared here, once, as Protocols; pyright checks every codec
against it (``tests/test_codec_contract.py``), so no caller relies on a method that only
some codecs happen to have.

Adding a protocol means one codec module, one line in ``_MODULES`` (and its name in
``FormatName``), and, if it needs its own client, one backend. Codecs are imported on first
use, so naming a format costs nothing until it is rendered.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, overload

from toolkit.formats._change import Change

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from toolkit.calls import ToolCall, ToolResult
    from toolkit.model import ModelReply, ModelRequest, StreamDelta, ToolChoice
    from toolkit.tool import Tool

# FORMATS, FormatName and Change are defined here and exported from ``toolkit``.
__all__ = ["ConversationCodec", "ConversationFormat", "StreamAssembler", "ToolCodec", "get_format"]

FormatName = Literal["openai", "openai-responses", "anthropic", "workers-ai", "gemini", "mcp"]
"""The protocols toolkit renders tool definitions for."""

ConversationFormat = Literal["openai", "openai-responses", "anthropic", "workers-ai", "gemini"]
"""The protocols whose codecs also carry whole conversations (the runner speaks these)."""

FORMATS: tuple[FormatName, ...] = get_args(FormatName)

# One line per protocol: format name -> module under toolkit.formats.
_MODULES: dict[FormatName, str] = {
    "openai": "openai_chat",
    "openai-responses": "openai_responses",
    "anthropic": "anthropic",
    "workers-ai": "workers_ai",
    "gemini": "gemini",
    "mcp": "mcp",
}


class ToolCodec(Protocol):
    """The tool side of a protocol: describe tools to it, read the calls a model makes in
    it, and answer them in it."""

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
        """One tool's definition, and what had to change to express it (``Tool.definition``
        caches this per format and strictness)."""
        ...

    def render_tools(
        self, tools: Sequence[Tool[..., Any]], *, strict: bool | None
    ) -> list[dict[str, Any]]:
        """The definitions of the tools sent together in one request (``None``: each tool's
        own ``strict``), checked against the protocol's limits on a whole request.

        Raises:
            ToolDefinitionError: a tool cannot be expressed, or the set breaks a limit of
                the protocol, naming the tools and the limit.
        """
        ...

    def parse_calls(self, reply: Any) -> list[ToolCall]:
        """The tool calls in a model's reply, in order (empty when it made none).

        ``reply`` is what the provider's SDK returns or its raw JSON as plain dicts, at any
        reasonable depth (the whole response, one message, or just its list of calls). SDK
        objects are read by attribute, so no SDK is imported. Arguments are kept as
        received: a broken JSON string passes through for the registry to report to the
        model. Calls without an id get a stable one made from their position and content,
        and a repeated id is made unique (``"x"``, ``"x~2"``), so that a decision or a
        result always belongs to exactly one call.

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


class StreamAssembler(Protocol):
    """Builds one ``ModelReply`` from a streamed response, without I/O."""

    def feed(self, event: Any) -> list[StreamDelta]:
        """Take one streamed event (an SDK object or its JSON); return the fragments to show
        now.

        Raises:
            ModelError: the stream reports an error.
            ValueError: the event does not have this protocol's shape.
        """
        ...

    def reply(self) -> ModelReply:
        """The whole reply from everything fed so far: what ``parse_reply`` gives for the
        same response unstreamed."""
        ...


class ConversationCodec(ToolCodec, Protocol):
    """A protocol the runner can hold a conversation in: messages, requests, replies,
    streams, and the history operations the loop asks for instead of reading fields."""

    @property
    def name(self) -> ConversationFormat:
        """The format name."""
        ...

    def user_message(self, text: str) -> dict[str, Any]:
        """A user turn holding ``text``."""
        ...

    def assistant_message(self, text: str, calls: Sequence[ToolCall] = ()) -> Any:
        """An assistant turn with ``text`` and ``calls``, as ``parse_reply`` would keep it
        (a message, or a list of items for protocols that split a turn into items)."""
        ...

    def tool_choice(self, choice: ToolChoice, *, parallel: bool | None = None) -> Any:
        """``choice`` (and whether several calls are allowed, where the protocol says it in
        the same place) in the protocol's spelling; ``None`` when the protocol has no such
        parameter."""
        ...

    def build_request(self, request: ModelRequest) -> dict[str, Any]:
        """The keyword arguments (or JSON body) that send ``request``.

        Raises:
            ValueError: the request cannot be sent in this protocol (no model name, a
                ``tool_choice`` naming a tool that is not sent...).
        """
        ...

    def parse_reply(self, response: Any) -> ModelReply:
        """A whole response as a ``ModelReply``: neutral where the loop needs it, native
        (``message``) where the history does.

        Raises:
            ModelError: the response reports a failure.
            ValueError: the response does not have this protocol's shape.
        """
        ...

    def stream_assembler(self) -> StreamAssembler:
        """A fresh assembler for one streamed response."""
        ...

    def append_messages(self, history: list[Any], messages: Any) -> None:
        """Append a reply's ``message``, or a list of messages or items, to ``history`` in
        place, keeping it valid for the protocol (Anthropic merges consecutive turns of one
        role)."""
        ...

    def unanswered_calls(self, history: Sequence[Any]) -> list[ToolCall]:
        """The calls of the history's last assistant turn that no result answers yet (a
        history saved mid-step, a run interrupted); empty for anything unreadable."""
        ...

    def turn_starts(self, history: Sequence[Any]) -> list[int]:
        """Where each user turn starts in ``history``: the indices of the user's messages,
        leaving out the messages that only carry tool results (what rolling back a turn and
        trimming a history by whole turns cut at)."""
        ...

    def native_tool_search(
        self, definitions: Sequence[Mapping[str, Any]], always: Sequence[str]
    ) -> list[dict[str, Any]] | None:
        """The tools of a request that lets the provider search ``definitions`` itself (the
        tools named in ``always`` stay loaded), or ``None`` when the protocol has no such
        search (toolkit's ``ToolSearch`` then offers its own)."""
        ...

    def translate_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """``settings`` with the neutral ones (``toolkit.model.ModelSettings``: ``max_tokens``,
        ``temperature``, ``top_p``, ``stop``, ``seed``) in this protocol's spelling; other
        keys pass through unchanged.

        Raises:
            ValueError: a neutral setting has no equivalent in this protocol, or it is
                given in both spellings.
        """
        ...


_loaded: dict[str, Any] = {}


@overload
def get_format(name: ConversationFormat) -> ConversationCodec: ...
@overload
def get_format(name: str) -> ToolCodec: ...
def get_format(name: str) -> ToolCodec:
    """The codec for ``name``.

    Raises:
        ValueError: ``name`` is not one of ``FORMATS``.
    """
    codec = _loaded.get(name)
    if codec is None:
        module = _MODULES.get(name)  # pyright: ignore[reportArgumentType] - any str may come in
        if module is None:
            known = ", ".join(repr(f) for f in FORMATS)
            raise ValueError(f"unknown tool format {name!r}; expected one of {known}")
        codec = importlib.import_module(f"toolkit.formats.{module}").CODEC
        _loaded[name] = codec
    return codec
