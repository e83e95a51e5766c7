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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.calls import ArgumentProblem, CallError, ToolCall, ToolResult
from toolkit.context import Context, Injected
from toolkit.errors import (
    DefinitionProblem,
    ModelError,
    ToolDefinitionError,
    ToolError,
    ToolkitError,
    ToolNameConflict,
)
from toolkit.formats import FORMATS, Change, FormatName
from toolkit.tool import Tool, ToolAnnotations, tool

if TYPE_CHECKING:
    from toolkit.registry import Registry, Veto
    from toolkit.runner import Conversation, Runner, RunResult

__all__ = [
    "FORMATS",
    "ArgumentProblem",
    "CallError",
    "Change",
    "Context",
    "Conversation",
    "DefinitionProblem",
    "FormatName",
    "Injected",
    "ModelError",
    "Registry",
    "RunResult",
    "Runner",
    "Tool",
    "ToolAnnotations",
    "ToolCall",
    "ToolDefinitionError",
    "ToolError",
    "ToolNameConflict",
    "ToolResult",
    "ToolkitError",
    "Veto",
    "tool",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The registry brings asyncio and thread pools: load it when first named, so that
    # ``import toolkit`` stays as light as defining tools needs.
    if name in ("Registry", "Veto"):
        from toolkit import registry  # noqa: PLC0415 - deferred on purpose

        return getattr(registry, name)
    if name in ("Runner", "Conversation", "RunResult"):
        from toolkit import runner  # noqa: PLC0415 - deferred on purpose

        return getattr(runner, name)
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")
