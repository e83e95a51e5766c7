"""Every text toolkit writes for the model, in one place.

Error results, refusals and denials are part of toolkit's interface with the model: their
wording lives here, shared by the registry and the runner's loop, and is tested exactly
(``tests/test_feedback.py``). Each function returns the whole text the model receives.

Everything here is bounded: names and values are clipped, lists of problems and of tools
are capped, and ``redact`` runs only linear regular expressions over clipped text.
"""

from __future__ import annotations

import os
import re
import reprlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.calls import ArgumentProblem

__all__ = [
    "MAX_PROBLEMS_SHOWN",
    "MAX_TOOLS_LISTED",
    "call_limit",
    "calls_per_reply_limit",
    "cancelled",
    "clip",
    "cut_off",
    "deadline_passed",
    "denied",
    "describe_exception",
    "failed",
    "interrupted",
    "invalid_arguments",
    "invalid_json",
    "missing_secrets",
    "not_offered",
    "output_ended_run",
    "output_invalid",
    "output_once",
    "preview",
    "redact",
    "repeated",
    "timed_out",
    "truncated",
    "unknown_tool",
    "unsendable",
]

MAX_PROBLEMS_SHOWN = 20
"""Invalid arguments: at most this many problems are listed (then how many more)."""

MAX_TOOLS_LISTED = 20
"""Unknown tool: at most this many available names are listed (then how many more)."""

_NAME_CHARS = 100  # a tool name as the model sent it, clipped
_VALUE_CHARS = 100  # a value the model sent, in an error line
_JSON_PREVIEW_CHARS = 200  # broken JSON arguments, quoted back
_REDACT_SCAN_CHARS = 100_000  # exception texts longer than this are clipped before redaction

_repr = reprlib.Repr()
_repr.maxlevel = 3  # depth-bounded: a value nested 10,000 deep is shown, not recursed into
_repr.maxstring = _VALUE_CHARS
_repr.maxother = _VALUE_CHARS
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with ``...`` when it was longer."""
    return text if len(text) <= limit else text[:limit] + "..."


def preview(value: Any) -> str:
    """A short ``repr`` of something a model sent: bounded in length and depth, and never
    raising (a value whose ``repr`` fails is shown by its type)."""
    try:
        return clip(_repr.repr(value), _VALUE_CHARS)
    except Exception:
        return f"<{type(value).__name__}>"


# -- the registry's error results ---------------------------------------------------------


def unknown_tool(name: str, shown: Sequence[str], total: int, close: Sequence[str]) -> str:
    """A call named a tool that does not exist: ``shown`` are the first names of the
    ``total`` available, ``close`` the ones suggested."""
    text = f"Unknown tool {clip(name, _NAME_CHARS)!r}."
    if not total:
        return text + " No tools are available."
    if close:
        text += f" Did you mean {' or '.join(repr(n) for n in close)}?"
    listed = ", ".join(shown[:MAX_TOOLS_LISTED])
    more = total - min(len(shown), MAX_TOOLS_LISTED)
    return text + f" Available tools: {listed}{f' and {more} more' if more > 0 else ''}."


def not_offered(name: str, offered: Sequence[str]) -> str:
    """A call named a tool that exists but was not offered in this request."""
    text = f"The tool {clip(name, _NAME_CHARS)!r} is not available now."
    if not offered:
        return text + " No tools are available now."
    listed = ", ".join(offered[:MAX_TOOLS_LISTED])
    more = len(offered) - min(len(offered), MAX_TOOLS_LISTED)
    return text + f" Available tools: {listed}{f' and {more} more' if more > 0 else ''}."


def invalid_json(name: str, arguments: str, detail: str) -> str:
    """The arguments were not JSON; ``detail`` says where the parser stopped."""
    return (
        f"The arguments for {name} are not valid JSON: {clip(detail, _JSON_PREVIEW_CHARS)}.\n"
        f"Received ({len(arguments)} characters): {clip(arguments, _JSON_PREVIEW_CHARS)}\n"
        f"Send the arguments as one JSON object and call {name} again."
    )


def invalid_arguments(name: str, problems: Sequence[ArgumentProblem], total: int) -> str:
    """One line per problem (``problems`` already capped; ``total`` counts them all)."""
    lines = [f"Invalid arguments for {name}:"]
    for problem in problems:
        line = f"- {_location(problem.location)}: {problem.message}"
        shown = problem.input is not None or (
            problem.location and not problem.message.startswith("Missing")
        )
        if shown:
            line += f" (got {preview(problem.input)})"
        lines.append(line)
    if total > len(problems):
        lines.append(f"- and {total - len(problems)} more problems")
    lines.append(f"Fix the arguments and call {name} again.")
    return "\n".join(lines)


def failed(name: str, error: BaseException, traceback_text: str | None = None) -> str:
    """The tool raised ``error`` (a bug, not a ``ToolError``): its type and message, and the
    traceback when asked for. The caller redacts."""
    text = f"Tool {name} failed: {describe_exception(error)}"
    return text if traceback_text is None else f"{text}\n{traceback_text}"


def missing_secrets(name: str, missing: Sequence[str]) -> str:
    """The tool needs secrets nobody set (a problem of the setup, not of the arguments)."""
    listed = ", ".join(missing)
    plural = "s are" if len(missing) > 1 else " is"
    return (
        f"Tool {name} cannot run: the secret{plural} not set ({listed}). The application's"
        f" operator must set the environment variable{'s' if len(missing) > 1 else ''}"
        f" {listed}; retrying will not help."
    )


def timed_out(name: str, seconds: float) -> str:
    """The call did not finish in time."""
    return f"Tool {name} did not finish within {float(seconds)} s."


def cancelled(name: str) -> str:
    """The call was cancelled (by the caller, or by a tool's own ``CancelledError``)."""
    return f"Tool {name} was cancelled."


def unsendable(name: str, error: BaseException) -> str:
    """The tool returned a value that cannot be turned into text."""
    return f"Tool {name} returned a value that cannot be sent: {describe_exception(error)}"


def truncated(content: str, limit: int) -> str:
    """``content`` cut to ``limit`` characters, saying so."""
    if len(content) <= limit:
        return content
    note = f"[truncated: {len(content)} characters, showing the first {limit}]"
    return f"{content[:limit]}...\n{note}"


def describe_exception(error: BaseException) -> str:
    """``Type: message``, or just the type; never raises, whatever ``__str__`` does."""
    try:
        text = str(error)
    except Exception:
        text = "(its message could not be read)"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# -- the runner's refusals -------------------------------------------------------------------


def cut_off() -> str:
    """The reply hit the output token limit before the call was complete."""
    return (
        "Your reply was cut off by the output token limit before this call was complete, "
        "so it was not run. Call it again with shorter arguments."
    )


def malformed_call() -> str:
    """The provider could not parse the call the model tried to make (no call came)."""
    return (
        "Your last function call was malformed and could not be parsed, so nothing was run. "
        "Call the function again, with a JSON object of arguments that matches its schema."
    )


def output_invalid(problem: str, tool: str, *, native: bool) -> str:
    """A final answer did not match the required structure; ``problem`` is what checking
    it said (the same text a call with bad arguments gets)."""
    how = (
        "Answer again with only the JSON the required format asks for."
        if native
        else f"Give your final answer by calling {tool}."
    )
    return f"Your final answer does not have the required structure. {problem}\n{how}"


def output_ended_run() -> str:
    """A call that came with a valid final answer, in the same reply."""
    return "Not run: your final answer in this reply ended the run."


def output_once() -> str:
    """A second final answer in one reply."""
    return "Not used: a reply gives one final answer; the first one was checked."


def call_limit(limit: int) -> str:
    """The run's ``max_tool_calls`` was reached."""
    return f"Not run: the limit of {limit} tool calls was reached."


def calls_per_reply_limit(limit: int) -> str:
    """The reply asked for more calls than one reply may make."""
    return f"Not run: at most {limit} tool calls are run per reply. Make fewer calls at once."


def repeated(name: str, earlier: int) -> str:
    """The same call (same tool, same arguments) was already made ``earlier`` times."""
    times = "once" if earlier == 1 else f"{earlier} times"
    return (
        f"Not run: {name} was already called with these arguments {times} "
        "and the result will not change. Use the results you have."
    )


def interrupted() -> str:
    """A call whose run was interrupted (an error, a cancellation, a crash)."""
    return "This call was interrupted before it finished."


def deadline_passed() -> str:
    """The run's deadline passed before the call could finish."""
    return "Not finished: the time allowed for this request ran out."


def denied() -> str:
    """The default message of a ``Deny()``."""
    return "The user denied this call."


# -- redaction ----------------------------------------------------------------------------

_SECRET_NAMES = re.compile(
    r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS\b|CREDENTIAL|AUTH|COOKIE|SESSION|PRIVATE|DSN",
    re.IGNORECASE,
)
# Each pattern is linear: no nested or adjacent overlapping quantifiers.
_SECRET_PATTERNS = [
    # name=value / name: value for the usual secret names (the value up to a delimiter)
    re.compile(
        r"(?i)\b((?:api[_-]?key|access[_-]?key|secret(?:[_-]?key)?|client[_-]?secret|"
        r"password|passwd|pwd|token|auth[_-]?token|private[_-]?key)[\"']?\s*[:=]\s*[\"']?)"
        r"[^\s\"',;&]+"
    ),
    # Authorization headers and bearer tokens
    re.compile(r"(?i)\b((?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\s\"',;]+"),
    # credentials in URLs: scheme://user:password@host
    re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\s:/@]+:)[^\s/@]+(?=@)"),
    # well-known key shapes
    re.compile(r"()\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}"),
    re.compile(r"()\b(?:ghp|gho|ghu|ghs|ghr|github_pat)_[A-Za-z0-9_]{16,}"),
    re.compile(r"()\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"()\bAKIA[0-9A-Z]{16}\b"),
    re.compile(r"()\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
]
_REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with what looks like a secret replaced by ``[redacted]``: values of
    environment variables with secret-sounding names (and every other environment value of
    16 characters or more), ``name=value`` pairs for keys, tokens and passwords, bearer and
    authorization headers, passwords in URLs and well-known key shapes; the home directory
    is written ``~``. Linear in the text, which is clipped first."""
    text = clip(text, _REDACT_SCAN_CHARS)
    for value in _environment_secrets():
        if value in text:
            text = text.replace(value, _REDACTED)
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + _REDACTED, text)
    home = os.path.expanduser("~")
    if len(home) > 1 and home in text:
        text = text.replace(home, "~")
    return text


def _environment_secrets() -> list[str]:
    """The environment values to hide, longest first (so a value containing another goes
    first). Read each time: the environment may change while a process runs."""
    values = {
        value
        for name, value in os.environ.items()
        if (len(value) >= 4 and _SECRET_NAMES.search(name)) or len(value) >= 16
    }
    return sorted(values, key=len, reverse=True)


def _location(location: tuple[str | int, ...]) -> str:
    text = ""
    for part in location:
        shown = clip(str(part), _NAME_CHARS)
        text += f"[{shown}]" if isinstance(part, int) else (f".{shown}" if text else shown)
    return text or "arguments"
