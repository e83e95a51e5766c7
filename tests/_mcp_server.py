"""``python tests/_mcp_server.py``: the registry of ``_mcp_tools.build()`` served over
stdio, as tests/test_mcp_server.py starts it (its folder is first on ``sys.path``)."""

from __future__ import annotations

from _mcp_tools import build

from toolkit.mcp import mcp_server, serve_stdio

if __name__ == "__main__":
    serve_stdio(mcp_server(build(), name="toolkit-tests", instructions="Use add to add."))
