"""Model backends: one per client library or REST API.

``model_for(client)`` picks the backend for an SDK client; anything that already implements
``toolkit.model.SyncModel`` or ``AsyncModel`` is used as it is.
"""

from __future__ import annotations

from typing import Any

from toolkit.model import AsyncModel, SyncModel

__all__ = ["model_for"]


def model_for(client: Any) -> SyncModel | AsyncModel:
    """The backend that speaks to ``client``.

    ``openai.OpenAI`` / ``AsyncOpenAI`` speak Chat Completions (wrap the client in
    ``OpenAIResponses`` for the Responses API); ``anthropic.Anthropic`` / ``AsyncAnthropic``
    speak Messages.

    Raises:
        TypeError: ``client`` is neither a known SDK client nor a backend.
    """
    if isinstance(client, (SyncModel, AsyncModel)):
        return client
    package = type(client).__module__.partition(".")[0]
    if package == "openai":
        from toolkit.backends.openai import OpenAIChat  # noqa: PLC0415 - SDK glue on demand

        return OpenAIChat(client)
    if package == "anthropic":
        from toolkit.backends.anthropic import AnthropicMessages  # noqa: PLC0415

        return AnthropicMessages(client)
    raise TypeError(
        f"no backend for {type(client).__qualname__}; pass an openai or anthropic client, "
        "or an object implementing toolkit.model.SyncModel / AsyncModel"
    )
