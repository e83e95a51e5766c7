"""The neutral shapes of a model's tool call and of its result, whatever the protocol.

Codecs turn a provider's reply into ``ToolCall`` objects and ``ToolResult`` objects back
into the provider's messages; the registry only ever sees these two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, final

from toolkit.media import File, Image

__all__ = ["ArgumentProblem", "CallError", "ErrorKind", "ToolCall", "ToolResult"]

ErrorKind = Literal[
    "unknown_tool",
    "invalid_json",
    "invalid_arguments",
    "exception",
    "tool_error",
    "retry",
    "timeout",
    "vetoed",
    "refused",
    "cancelled",
    "missing_secret",
]
"""Why a call produced an error result instead of a value: ``retry`` when the tool raised
``toolkit.Retry``, ``vetoed`` by a ``before_call`` hook or a denied approval, ``refused`` by
one of the runner's limits (the call was never started), ``cancelled`` when it was
interrupted, ``missing_secret`` when a secret the tool declared is not set."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCall:
    """One call a model asked for.

    Attributes:
        id: The provider's call id (generated, stable, when the protocol has none).
        name: The tool name as the model sent it.
        arguments: The arguments exactly as received: a JSON string (OpenAI), a mapping
            (Anthropic, Workers AI), or ``None`` when the model sent nothing.
    """

    id: str
    name: str
    arguments: str | Mapping[str, Any] | None

    def __repr__(self) -> str:
        return f"ToolCall(id={self.id!r}, name={self.name!r}, arguments={self.arguments!r})"

    def __hash__(self) -> int:
        # By value, arguments included, so that a decision keyed by a call binds to exactly
        # that call (the same id with edited arguments is another key).
        arguments = self.arguments
        if arguments is not None and not isinstance(arguments, str):
            try:
                arguments = json.dumps(arguments, sort_keys=True, default=str)
            except (RecursionError, ValueError, TypeError):
                arguments = repr(type(arguments))
        return hash((self.id, self.name, arguments))


@dataclass(frozen=True, slots=True)
class ArgumentProblem:
    """One failing argument: where, what was expected, and what was sent.

    Attributes:
        location: The path to the value, e.g. ``("address", "zip")``.
        message: What was expected, in pydantic's words.
        input: The value the model sent there (``None`` for a missing one).
    """

    location: tuple[str | int, ...]
    message: str
    input: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CallError:
    """Why a call failed, in a structured form (the model sees ``ToolResult.content``).

    Attributes:
        kind: The family of failure.
        message: A one-line summary.
        problems: For ``invalid_arguments``, every failing argument.
        exception: The exception raised by the tool, for ``exception`` and ``tool_error``.
    """

    kind: ErrorKind
    message: str
    problems: tuple[ArgumentProblem, ...] = ()
    exception: BaseException | None = field(default=None, repr=False, compare=False)


# Not frozen: a frozen dataclass's __init__ sets every field through object.__setattr__,
# which measured as a third of a whole registry dispatch. Not keyword-only either: the
# registry builds results positionally, which costs less than half of a keyword call (a
# result per call is most of the per-call work left). Treat results as read-only.
@final
@dataclass(slots=True)
class ToolResult:
    """The outcome of one call, ready to send back.

    Attributes:
        call_id: The id of the call this answers.
        name: The tool name as the model sent it.
        value: What the function returned (``None`` for an error).
        content: The text the model receives; for a result with images or files, the text
            rendering of ``parts`` (each image or file as a placeholder such as
            ``[image: image/png, 12.3 KB]``), for whatever reads text only.
        is_error: Whether the call failed.
        error: The structured failure, when ``is_error``.
        duration: Seconds spent from validation to the end of the call.
        parts: For a tool that returned an ``Image``, a ``File`` or a list holding them:
            its texts, images and files in order, which codecs send in their protocol's
            own form. Empty (the usual case) when the result is text only.
    """

    call_id: str
    name: str
    value: Any
    content: str
    is_error: bool = False
    error: CallError | None = None
    duration: float = 0.0
    parts: tuple[str | Image | File, ...] = ()

    def __repr__(self) -> str:
        status = f"error={self.error.kind!r}" if self.error else "ok"
        head = f"ToolResult(call_id={self.call_id!r}, name={self.name!r}, {status}"
        media = f", parts={len(self.parts)}" if self.parts else ""
        return f"{head}, content={self.content[:60]!r}{media})"
