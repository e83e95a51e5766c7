"""Images and files in tool results: what the codecs share to send them, or to report them
left out.

A protocol that cannot carry a part (Workers AI carries text only; Chat Completions no file
but a PDF...) puts a placeholder in the result's text that tells the model what was left
out, and warns the host once per result (``ContentLossWarning``): never a silent loss.
"""

from __future__ import annotations

import mimetypes
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from toolkit.errors import ContentLossWarning
from toolkit.media import File, Image, describe

if TYPE_CHECKING:
    from toolkit.calls import ToolResult

__all__ = ["Media", "filename", "report_lost", "text_with_placeholders", "uploaded_note"]

Media = Image | File

_MAX_TYPES_NAMED = 5
_NAME_CHARS = 100


def report_lost(protocol: str, result: ToolResult, lost: Sequence[Media]) -> None:
    """Warn the host, once for ``result``, of the parts ``protocol`` could not carry."""
    if not lost:
        return
    types = sorted({part.media_type for part in lost})
    named = ", ".join(types[:_MAX_TYPES_NAMED]) + (", ..." if len(types) > _MAX_TYPES_NAMED else "")
    count = f"{len(lost)} images or files" if len(lost) > 1 else f"one {lost[0].KIND}"
    warnings.warn(
        f"{protocol}: the result of tool {result.name[:_NAME_CHARS]!r} (call"
        f" {result.call_id[:_NAME_CHARS]!r}) holds {count} ({named}) that this protocol"
        " cannot carry in a tool result; the model was told what was left out",
        ContentLossWarning,
        stacklevel=4,  # the codec's caller's caller: the runner or the user's code
    )


def text_with_placeholders(
    protocol: str, result: ToolResult, carried: Callable[[Media], bool]
) -> tuple[str, list[Media]]:
    """The text of a result with parts: its texts, and a placeholder for each image or file
    (saying it was left out for those ``carried`` refuses, which are reported); and the
    parts carried, in order."""
    texts: list[str] = []
    kept: list[Media] = []
    lost: list[Media] = []
    for part in result.parts:
        if isinstance(part, str):
            texts.append(part)
        elif carried(part):
            kept.append(part)
            texts.append(describe(part))
        else:
            lost.append(part)
            texts.append(describe(part, left_out=True))
    report_lost(protocol, result, lost)
    return "\n".join(texts), kept


def filename(part: File) -> str:
    """The file's name, or ``file`` with the extension of its media type (the OpenAI APIs
    want a name with inline file data)."""
    if part.filename is not None:
        return part.filename
    return "file" + (mimetypes.guess_extension(part.media_type) or "")


def uploaded_note(result: ToolResult) -> str:
    """The text before the images and files of ``result`` where they travel apart from it
    (Chat Completions: in a user message after the tool messages)."""
    return (
        f"The images and files returned by the call {result.call_id[:_NAME_CHARS]} of tool"
        f" {result.name[:_NAME_CHARS]}:"
    )
