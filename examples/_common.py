"""Shared by the pattern examples: use the offline model, or a real endpoint when configured.

The examples run offline by default, with a ``toolkit.testing.FunctionModel`` that plays the
model: no key, no network. One variable selects a real model:

    TOOLKIT_MODEL      the model's name, e.g. gpt-4o-mini: set, the examples call that model;
                       unset, they run offline
    TOOLKIT_PROVIDER   "openai" (default: OpenAI's API or any OpenAI-compatible Chat
                       Completions server) or "anthropic" (Anthropic's Messages API)

Where the model is, and the key; for each, the first variable set wins:

    base URL   TOOLKIT_BASE_URL, then the provider SDK's own variable (OPENAI_BASE_URL, or
               ANTHROPIC_BASE_URL), then the SDK's default (OpenAI's or Anthropic's API)
    API key    TOOLKIT_API_KEY, then OPENAI_API_KEY, or ANTHROPIC_API_KEY

The SDK variables alone never leave offline mode, so a key kept in the shell for other work
does not turn ``nox -s examples`` into paid requests. TOOLKIT_BASE_URL or TOOLKIT_API_KEY
without TOOLKIT_MODEL is refused rather than ignored.

Run as a script, this module prints which model the examples would use.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolkit import RunResult
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel

PROVIDERS = {
    # provider: (its SDK's base URL variable, its SDK's key variable, its default base URL)
    "openai": ("OPENAI_BASE_URL", "OPENAI_API_KEY", "https://api.openai.com/v1"),
    "anthropic": ("ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY", "https://api.anthropic.com"),
}


@dataclass(frozen=True)
class Endpoint:
    """A real model to run the examples against, and where each setting came from."""

    provider: str
    model: str
    base_url: str
    base_url_from: str
    api_key: str
    api_key_from: str

    def describe(self) -> str:
        return (
            f"{self.provider} model {self.model!r} at {self.base_url} "
            f"(base URL from {self.base_url_from}, key from {self.api_key_from})"
        )


def endpoint(environ: Mapping[str, str] = os.environ) -> Endpoint | None:
    """The real model the variables select, or ``None`` to run offline.

    Raises:
        SystemExit: the variables are set half-way or name an unknown provider.
    """
    model = environ.get("TOOLKIT_MODEL", "").strip()
    if not model:
        stray = [name for name in ("TOOLKIT_BASE_URL", "TOOLKIT_API_KEY") if environ.get(name)]
        if stray:
            raise SystemExit(
                f"examples: {' and '.join(stray)} set but TOOLKIT_MODEL is not: set "
                "TOOLKIT_MODEL to the model's name to use that endpoint, or unset "
                f"{' and '.join(stray)} to run offline"
            )
        return None
    provider = environ.get("TOOLKIT_PROVIDER", "").strip() or "openai"
    if provider not in PROVIDERS:
        raise SystemExit(
            f"examples: TOOLKIT_PROVIDER={provider!r}; use one of {', '.join(PROVIDERS)}"
        )
    url_variable, key_variable, default_url = PROVIDERS[provider]
    base_url, base_url_from = _first(environ, "TOOLKIT_BASE_URL", url_variable)
    if not base_url:
        base_url, base_url_from = default_url, f"the {provider} SDK's default"
    api_key, api_key_from = _first(environ, "TOOLKIT_API_KEY", key_variable)
    if not api_key:
        raise SystemExit(
            f"examples: no API key for {model!r}: set TOOLKIT_API_KEY or {key_variable} "
            "(any non-empty value for a local server that checks none)"
        )
    return Endpoint(provider, model, base_url, base_url_from, api_key, api_key_from)


def _first(environ: Mapping[str, str], *names: str) -> tuple[str, str]:
    """The first non-empty variable of ``names``: its value and its name."""
    for name in names:
        if value := environ.get(name, "").strip():
            return value, name
    return "", ""


ENDPOINT = endpoint()
OFFLINE = ENDPOINT is None
"""True when the examples play the model themselves (TOOLKIT_MODEL unset)."""


def client_and_model(offline: FunctionModel) -> tuple[Any, str]:
    """What to give ``Runner``: ``offline`` and a dummy name, or a real client and model."""
    if ENDPOINT is None:
        print("model: offline, a FunctionModel plays it (set TOOLKIT_MODEL for a real one)")
        return offline, "offline"
    print(f"model: {ENDPOINT.describe()}")
    client: Any
    if ENDPOINT.provider == "anthropic":
        import anthropic

        client = anthropic.Anthropic(base_url=ENDPOINT.base_url, api_key=ENDPOINT.api_key)
    else:
        import openai

        client = openai.OpenAI(base_url=ENDPOINT.base_url, api_key=ENDPOINT.api_key)
    return client, ENDPOINT.model


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


WHY_NO_ANSWER = {
    "end": "the model ended its turn without writing any text",
    "max_steps": "the run reached its limit of model requests (max_steps) first",
    "max_tool_calls": "the run reached its limit of tool calls (max_tool_calls) first",
    "deadline": "the run's deadline passed first",
    "token_budget": "the run used up its token budget first",
    "no_progress": "the model kept repeating a call that was refused, so the run ended",
    "refusal": "the model refused",
    "content_filter": "the provider's content filter withheld the output",
    "length": "the reply was cut off at the output token limit",
    "approval_required": "a call waits for approval (see result.pending)",
    "timeout": "a model request ran out of time (the timeout setting)",
    "max_retries": "a tool's calls kept failing past its retry budget (max_retries)",
    "error": "the run ended on an error",
}
"""Each ``RunResult.stop_reason`` in words, for a run that ended without an answer."""


def report(result: RunResult) -> None:
    """Print the calls a run made, its answer (or why there is none) and its stop reason;
    with a real model, check loosely that it did something."""
    for found in result.tool_results:
        print(f"  called {found.name}: {found.content}")
    if result.text.strip():
        print(f"  answer: {result.text}")
    else:
        why = WHY_NO_ANSWER.get(result.stop_reason, "the run stopped")
        print(f"  answer: none: {why}")
    print(f"  stop reason: {result.stop_reason}")
    if not OFFLINE:
        # A real (possibly small) model may phrase, or even choose, differently: only ask
        # that the run ended with an answer or after using the tools.
        assert result.text.strip() or result.tool_results, "the model neither answered nor called"


if __name__ == "__main__":
    if ENDPOINT is None:
        print("offline: the examples play the model (set TOOLKIT_MODEL to use a real one)")
    else:
        print(f"real: {ENDPOINT.describe()}")
