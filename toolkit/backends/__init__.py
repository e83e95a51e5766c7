"""Model backends: one per client library or REST API.

``model_for(client)`` picks the backend for an SDK client; anything that already implements
``toolkit.model.SyncModel`` or ``AsyncModel`` is used as it is. Each backend holds the codec
of its protocol and exposes it as ``codec``: the runner asks it for everything it needs.
"""

from __future__ import annotations

from typing import Any

from toolkit.model import AsyncModel, SyncModel

__all__ = ["model_for"]


def model_for(client: Any, model: str | None = None) -> SyncModel | AsyncModel:
    """The backend that speaks to ``client``.

    ``openai.OpenAI`` / ``AsyncOpenAI`` speak Chat Completions (wrap the client in
    ``OpenAIResponses`` for the Responses API); ``anthropic.Anthropic`` / ``AsyncAnthropic``
    speak Messages; ``google.genai.Client`` speaks Gemini's ``generateContent``, sync and
    async (its ``.aio`` alone: async only).

    Raises:
        TypeError: ``client`` is neither a known SDK client nor a backend, or it talks to a
            hosted API and ``model`` is ``None``.
    """
    if isinstance(client, (SyncModel, AsyncModel)):
        backend: SyncModel | AsyncModel = client
    else:
        package = type(client).__module__.partition(".")[0]
        if package == "openai":
            from toolkit.backends.openai import OpenAIChat  # noqa: PLC0415 - SDK glue on demand

            backend = OpenAIChat(client)
        elif package == "anthropic":
            from toolkit.backends.anthropic import AnthropicMessages  # noqa: PLC0415

            backend = AnthropicMessages(client)
        elif package == "google":  # google.genai.Client, or its .aio
            from toolkit.backends.gemini import GeminiBackend  # noqa: PLC0415

            backend = GeminiBackend(client)
        else:
            raise TypeError(
                f"no backend for {type(client).__qualname__}; pass an openai, anthropic or "
                "google.genai client, or an object implementing toolkit.model.SyncModel / "
                "AsyncModel"
            )
    if model is None and getattr(backend, "needs_model", False):
        raise TypeError(
            f"{type(backend).__name__} talks to a hosted API: pass the model name, "
            "Runner(client, model='...')"
        )
    return backend
