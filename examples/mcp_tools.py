"""MCP both ways: a tool served over MCP by ``toolkit mcp``, used by a ``Runner`` through
``toolkit.mcp.MCPClient``, as it would use any MCP server's tools.

Run: python examples/mcp_tools.py   (needs the mcp extra: pip install "toolkit-llm[mcp]")

The server is a separate process: ``python -m toolkit mcp --tool ...`` serves the weather
tool of ``pattern_1_simple.py`` over stdio. The client starts it, lists its tools into a
registry (their schemas repaired and checked for every provider), and the runner's model
calls the tool there; the arguments are validated here, before they are sent. Closing the
client ends the process.

Offline by default, like the other examples (see ``_common.py``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _common import OFFLINE, client_and_model, report, user_text

from toolkit import Runner
from toolkit.mcp import MCPClient, Stdio
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

SERVED = f"{Path(__file__).parent / 'pattern_1_simple.py'}:get_current_weather"
WEATHER = Stdio(sys.executable, ["-m", "toolkit", "mcp", "--tool", SERVED])


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: first send a wrong unit (the registry refuses it before anything
    reaches the server), then the right call, then answer with the result."""
    outputs = [str(m["content"]) for m in request.messages if m.get("role") == "tool"]
    city = "Chicago" if "chicago" in user_text(request).lower() else "New York"
    if not outputs:
        return call("get_current_weather", location=city, unit="kelvin")
    if outputs[-1].startswith("Invalid arguments"):
        return call("get_current_weather", location=city, unit="celsius")
    weather = json.loads(outputs[-1])
    return f"It is {weather['temperature']} degrees {weather['unit']} in {weather['location']}."


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    with MCPClient({"weather": WEATHER}) as mcp:
        print(f"tools from the MCP server: {mcp.registry.names}")
        runner = Runner(client, model=model, tools=mcp.registry)
        result = runner.run("What is the temperature in Chicago, in celsius?")
        report(result)

    if OFFLINE:
        refused, answered = result.tool_results
        assert refused.error is not None
        assert refused.error.kind == "invalid_arguments"  # never sent to the server
        assert answered.content == '{"location":"Chicago","temperature":"-11","unit":"celsius"}'
        assert result.text == "It is -11 degrees celsius in Chicago."
        assert "get_current_weather" not in mcp.registry  # closed: the tools are gone


if __name__ == "__main__":
    main()
