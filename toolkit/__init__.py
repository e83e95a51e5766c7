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

from toolkit.context import Context, Injected
from toolkit.errors import DefinitionProblem, ToolDefinitionError, ToolError, ToolkitError
from toolkit.formats import FORMATS, Change, FormatName
from toolkit.tool import Tool, ToolAnnotations, tool

__all__ = [
    "FORMATS",
    "Change",
    "Context",
    "DefinitionProblem",
    "FormatName",
    "Injected",
    "Tool",
    "ToolAnnotations",
    "ToolDefinitionError",
    "ToolError",
    "ToolkitError",
    "tool",
]

__version__ = "0.1.0"
