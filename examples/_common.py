"""Shared by the pattern examples: use the offline model, or a real endpoint when configured.

The examples run offline by default, with a ``toolkit.testing.FunctionModel`` that plays the
model. Set these variables to run them against a real model instead:

    TOOLKIT_BASE_URL   the API's base URL, e.g. https://api.together.xyz/v1
    TOOLKIT_API_KEY    its API key
    TOOLKIT_MODEL      the model name, e.g. Qwen/Qwen2.5-7B-Instruct-Turbo
    TOOLKIT_PROVIDER   "openai" (default: any OpenAI-compatible Chat Completions API) or
                       "anthropic" (then TOOLKIT_BASE_URL is e.g. https://api.anthropic.com)

Run as a script, this module prints which of the two the examples would use.
"""

from __future__ import annotations

import json
import os
from typing import Any

from toolkit import RunResult
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel

OFFLINE = not os.environ.get("TOOLKIT_BASE_URL")
"""True when the examples play the model themselves (no TOOLKIT_BASE_URL set)."""


def client_and_model(offline: FunctionModel) -> tuple[Any, str]:
    """What to give ``Runner``: ``offline`` and a dummy name, or a real client and model."""
    if OFFLINE:
        return offline, "offline"
    base_url = os.environ["TOOLKIT_BASE_URL"]
    api_key = os.environ.get("TOOLKIT_API_KEY", "")
    model = os.environ.get("TOOLKIT_MODEL", "")
    if os.environ.get("TOOLKIT_PROVIDER", "openai") == "anthropic":
        import anthropic

        return anthropic.Anthropic(base_url=base_url, api_key=api_key), model
    import openai

    return openai.OpenAI(base_url=base_url, api_key=api_key), model


def user_text(request: ModelRequest) -> str:
    """The latest user text in a (Chat Completions) request: what the offline model reads."""
    for message in reversed(request.messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


def tool_outputs(request: ModelRequest, *, this_turn: bool = True) -> list[dict[str, Any]]:
    """The JSON results of the tools called so far (in this user turn, or in the whole
    conversation), as the offline model sees them."""
    messages = list(request.messages)
    if this_turn:
        users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
        messages = messages[users[-1] :] if users else messages
    return [json.loads(m["content"]) for m in messages if m.get("role") == "tool"]


def report(result: RunResult) -> None:
    """Print the calls a run made and its answer (and, with a real model, check loosely)."""
    for found in result.tool_results:
        print(f"  called {found.name}: {found.content}")
    print(f"  answer: {result.text}")
    if not OFFLINE:
        # A real (possibly small) model may phrase, or even choose, differently: only ask
        # that the run ended with an answer or after using the tools.
        assert result.text.strip() or result.tool_results, "the model neither answered nor called"


if __name__ == "__main__":
    if OFFLINE:
        print("offline: the examples play the model (set TOOLKIT_BASE_URL to use a real one)")
    else:
        print(f"real model {os.environ.get('TOOLKIT_MODEL')!r} at {os.environ['TOOLKIT_BASE_URL']}")
