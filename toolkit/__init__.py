"""toolkit: ordinary Python functions as validated tools for every LLM protocol.

```python
from toolkit import tool

@tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    '''Get the current weather.

    Args:
        city: City name, e.g. Paris.
        unit: Temperature unit.
    '''
    ...

get_weather.definition("openai")      # or "anthropic", "gemini", "mcp", ...
get_weather.call('{"city": "Paris"}')  # validated, then called
```

Every name used day to day lives here, its one documented home. The other public modules:
``toolkit.model`` (what a backend implements), ``toolkit.formats`` (the codec contract),
``toolkit.packs`` (tool packs), ``toolkit.mcp`` (serving over MCP, the ``mcp`` extra) and
``toolkit.testing`` (offline models for tests).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from toolkit.calls import ArgumentProblem, CallError, ErrorKind, ToolCall, ToolResult
from toolkit.context import Context, Injected, Secrets
from toolkit.errors import (
    ContentLossWarning,
    ConversationConflict,
    DefinitionProblem,
    ModelError,
    Retry,
    RunStopped,
    StateError,
    ToolDefinitionError,
    ToolError,
    ToolkitError,
    ToolNameConflict,
)
from toolkit.formats import FORMATS, Change, FormatName
from toolkit.media import File, Image
from toolkit.tool import Tool, ToolAnnotations, tool

if TYPE_CHECKING:
    from toolkit.backends.anthropic import AnthropicMessages
    from toolkit.backends.gemini import GeminiBackend
    from toolkit.backends.openai import OpenAIChat, OpenAIResponses
    from toolkit.backends.workers_ai import WorkersAI
    from toolkit.registry import AfterCall, BeforeCall, Registry, Veto
    from toolkit.runner._conversation import Conversation
    from toolkit.runner._events import (
        ArgumentsDelta,
        Event,
        PartialOutput,
        RunFinished,
        StepFinished,
        TextDelta,
        ToolCallComplete,
        ToolCallStarted,
        ToolResultEvent,
    )
    from toolkit.runner._history import HistoryPolicy
    from toolkit.runner._limits import Limits
    from toolkit.runner._postgres import PostgresStore
    from toolkit.runner._runner import ApprovalPolicy, Approver, Runner
    from toolkit.runner._state import (
        Approve,
        Decision,
        Deny,
        PendingApproval,
        RunResult,
        RunState,
    )
    from toolkit.runner._store import ConversationStore, SQLiteStore, StoredSession
    from toolkit.tool_search import ToolMatch, ToolSearch

__all__ = [
    "FORMATS",
    "AfterCall",
    "AnthropicMessages",
    "ApprovalPolicy",
    "Approve",
    "Approver",
    "ArgumentProblem",
    "ArgumentsDelta",
    "BeforeCall",
    "CallError",
    "Change",
    "ContentLossWarning",
    "Context",
    "Conversation",
    "ConversationConflict",
    "ConversationStore",
    "Decision",
    "DefinitionProblem",
    "Deny",
    "ErrorKind",
    "Event",
    "File",
    "FormatName",
    "GeminiBackend",
    "HistoryPolicy",
    "Image",
    "Injected",
    "Limits",
    "ModelError",
    "OpenAIChat",
    "OpenAIResponses",
    "PartialOutput",
    "PendingApproval",
    "PostgresStore",
    "Registry",
    "Retry",
    "RunFinished",
    "RunResult",
    "RunState",
    "RunStopped",
    "Runner",
    "SQLiteStore",
    "Secrets",
    "StateError",
    "StepFinished",
    "StoredSession",
    "TextDelta",
    "Tool",
    "ToolAnnotations",
    "ToolCall",
    "ToolCallComplete",
    "ToolCallStarted",
    "ToolDefinitionError",
    "ToolError",
    "ToolMatch",
    "ToolNameConflict",
    "ToolResult",
    "ToolResultEvent",
    "ToolSearch",
    "ToolkitError",
    "Veto",
    "WorkersAI",
    "tool",
]

__version__ = "0.2.0"

# The registry brings asyncio and threads, the runner pydantic models and the backends their
# HTTP glue: each is loaded when one of its names is first used, so that ``import toolkit``
# stays as light as defining tools needs. (No module here imports a provider SDK.)
_LAZY = {
    "toolkit.registry": ("AfterCall", "BeforeCall", "Registry", "Veto"),
    "toolkit.runner._conversation": ("Conversation",),
    "toolkit.runner._events": (
        "ArgumentsDelta",
        "Event",
        "PartialOutput",
        "RunFinished",
        "StepFinished",
        "TextDelta",
        "ToolCallComplete",
        "ToolCallStarted",
        "ToolResultEvent",
    ),
    "toolkit.runner._history": ("HistoryPolicy",),
    "toolkit.runner._limits": ("Limits",),
    "toolkit.runner._postgres": ("PostgresStore",),
    "toolkit.runner._runner": ("ApprovalPolicy", "Approver", "Runner"),
    "toolkit.runner._state": (
        "Approve",
        "Decision",
        "Deny",
        "PendingApproval",
        "RunResult",
        "RunState",
    ),
    "toolkit.runner._store": ("ConversationStore", "SQLiteStore", "StoredSession"),
    "toolkit.tool_search": ("ToolMatch", "ToolSearch"),
    "toolkit.backends.openai": ("OpenAIChat", "OpenAIResponses"),
    "toolkit.backends.anthropic": ("AnthropicMessages",),
    "toolkit.backends.gemini": ("GeminiBackend",),
    "toolkit.backends.workers_ai": ("WorkersAI",),
}
_HOME = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
