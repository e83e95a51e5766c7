"""Any ``Registry`` (and so any pack) as a Model Context Protocol server.

```python
from toolkit import Registry
from toolkit.mcp import serve_stdio

registry = Registry()
registry.add_pack("files", config={"root": "notes"})
serve_stdio(registry)  # or serve_http(registry, host="127.0.0.1", port=8000)
```

Built on the official ``mcp`` SDK (the ``toolkit-llm[mcp]`` extra), whose low-level
server speaks the protocol; toolkit answers ``tools/list`` with its own definitions and
runs ``tools/call`` through the registry.
"""

from __future__ import annotations

try:
    from toolkit.mcp._client import (
        MCPClient,
        MCPConnectionError,
        MCPWarning,
        Stdio,
        StreamableHTTP,
    )
    from toolkit.mcp._serve import serve_http, serve_http_async, serve_stdio, serve_stdio_async
    from toolkit.mcp._server import mcp_server
except ModuleNotFoundError as error:  # the extra is not installed
    missing = (error.name or "").partition(".")[0]
    if missing not in {"mcp", "uvicorn", "anyio", "httpx2"}:
        raise
    raise ModuleNotFoundError(
        f"toolkit.mcp needs the mcp extra ({missing} is not installed):"
        " pip install 'toolkit-llm[mcp]'",
        name=missing,
    ) from error

__all__ = [
    "MCPClient",
    "MCPConnectionError",
    "MCPWarning",
    "Stdio",
    "StreamableHTTP",
    "mcp_server",
    "serve_http",
    "serve_http_async",
    "serve_stdio",
    "serve_stdio_async",
]
