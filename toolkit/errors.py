"""Every exception toolkit raises, in one tree.

```
ToolkitError                      base of everything below
├── ToolDefinitionError           a developer mistake, found when a tool is defined or rendered
│                                 (unsupported parameter, bad name, docstring mismatch,
│                                 a schema a provider format cannot express)
├── ToolNameConflict              two tools under one name in a Registry, or two names that
│                                 become one wire name in a provider format (also ValueError)
├── ToolError                     raised on purpose by tool code: its message goes to the model
├── ModelError                    the model endpoint answered with an error (a backend toolkit
│                                 speaks to over HTTP itself; SDK backends raise the SDK's own)
└── StateError                    a saved state cannot be used: corrupt, written for another
    │                             protocol, or a pause already resumed (also ValueError)
    └── ConversationConflict      another writer saved the same session since it was loaded
```

Warnings (``warnings.warn``, never raised):

```
ContentLossWarning (UserWarning)  a tool result held an image or file that the protocol in
                                  use cannot carry; the model was told what was left out
```

Definition errors never stop at the first mistake: they collect every problem of the
function and render them together, each naming the function, the parameter and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ContentLossWarning",
    "ConversationConflict",
    "DefinitionProblem",
    "ModelError",
    "Retry",
    "RunStopped",
    "StateError",
    "ToolDefinitionError",
    "ToolError",
    "ToolNameConflict",
    "ToolkitError",
]


class ToolkitError(Exception):
    """Base class of every exception raised by toolkit."""


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One mistake in a tool definition.

    Attributes:
        function: The qualified name of the function being turned into a tool.
        parameter: The parameter at fault, or ``None`` when the problem is the whole tool.
        message: What is wrong and how to fix it.
    """

    function: str
    parameter: str | None
    message: str

    def __str__(self) -> str:
        where = (
            f"parameter {self.parameter!r} of {self.function}" if self.parameter else self.function
        )
        return f"{where}: {self.message}"


class ToolDefinitionError(ToolkitError, TypeError):
    """A function cannot become a tool as written, or its schema cannot be rendered.

    Raised when ``@tool`` is applied (or when a definition is requested for a provider
    format that cannot express the schema). ``problems`` lists every mistake found.
    It subclasses ``TypeError`` because it is a mistake in how code is typed or declared.
    """

    problems: tuple[DefinitionProblem, ...]

    def __init__(self, problems: Sequence[DefinitionProblem]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            text = f"{len(self.problems)} problems in tool definition:\n{lines}"
        super().__init__(text)

    @classmethod
    def single(cls, function: str, parameter: str | None, message: str) -> ToolDefinitionError:
        """Build the error for exactly one problem."""
        return cls([DefinitionProblem(function, parameter, message)])


class ToolNameConflict(ToolkitError, ValueError):
    """Two tools would answer to the same name.

    Raised by ``Registry.add`` for a name already taken (pass ``replace=True`` or
    ``prefix_name=...``), and by ``Registry.definitions`` when two names become the same
    wire name in a format (``"a.b"`` and ``"a_b"`` are both ``"a_b"`` for OpenAI).
    """


class ToolError(ToolkitError):
    """Raise inside a tool to send exactly this message to the model as an error result.

    Use it for failures the model can act on ("no flight on that date; try another day"),
    as opposed to bugs, whose type and message are reported instead.
    """

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Retry(ToolError):
    """Raise inside a tool to ask the model to call again, with ``message`` as the reason.

    ```python
    if when < today:
        raise Retry("use a date in the future")
    ```

    The model receives ``message`` as the call's error result (like ``ToolError``), and the
    call counts against the tool's retry budget in a run (its ``max_retries``, else
    ``Limits.max_retries``), as arguments that fail validation do: past it, the run ends with
    ``stop_reason == "max_retries"``. Its error kind is ``"retry"``.
    """


class ModelError(ToolkitError):
    """The model endpoint answered with an error.

    Raised by backends that speak HTTP themselves (Workers AI) for an error status or an
    error envelope (``"success": false``), and by stream assemblers for an ``error`` event.
    Backends built on a provider SDK let the SDK's own exceptions through instead.

    Attributes:
        status: The HTTP status, when there was one.
        errors: The provider's error details as sent (e.g. Cloudflare's ``errors`` list).
    """

    def __init__(self, message: str, *, status: int | None = None, errors: Any = None) -> None:
        self.status = status
        self.errors = errors
        super().__init__(message)


class StateError(ToolkitError, ValueError):
    """A saved state cannot be used.

    Raised when loading a ``Conversation``, a ``PendingApproval`` or a stored session whose
    JSON is not what toolkit wrote (the message names the field and what was expected), when
    it was written for another protocol than the runner's, and when a pause is resumed a
    second time. Nothing is changed when it is raised.
    """


class ConversationConflict(StateError):
    """Another writer saved the session since this conversation loaded it.

    Raised by a store's ``save``; nothing was written. Load the session again and redo the
    turn (or merge by hand): no turn is ever dropped in silence.
    """


class RunStopped(ToolkitError):
    """A run ended without the model's answer: raised by ``RunResult.raise_for_stop()``.

    Attributes:
        result: The run's result (its ``text``, ``messages`` and ``steps`` are all there).
        stop_reason: Why the run ended (``result.stop_reason``).
    """

    def __init__(self, result: Any) -> None:
        self.result = result
        self.stop_reason: str = result.stop_reason
        super().__init__(result.explanation)


class ContentLossWarning(UserWarning):
    """A tool result held an image or file that the protocol in use cannot carry.

    Issued once per result by a codec's ``result_messages`` (Workers AI carries text only;
    Chat Completions carries no file but a PDF; no protocol carries every file type...),
    naming the protocol, the tool, the call id and the media types. The model is told in
    the result's text what was left out; this tells the host. Turn it into an error with
    ``warnings.simplefilter("error", ContentLossWarning)``, or silence it the same way.
    """
