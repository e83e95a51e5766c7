"""What the installed SDKs can do, for tests that use an SDK feature newer than the lowest
version toolkit supports (the `lowest` nox session runs the suite at those versions)."""

from __future__ import annotations

import importlib.metadata

import pytest


def version(distribution: str) -> tuple[int, ...]:
    """The installed version's numeric release, e.g. (1, 66, 0)."""
    parts = importlib.metadata.version(distribution).split(".")
    return tuple(int(p) for p in parts if p.isdigit())


OPENAI_RESPONSE_MODELS = pytest.mark.skipif(
    version("openai") < (1, 67),
    reason="openai<1.67's Response model requires fields the API now leaves out",
)
OPENAI_CHAT_STREAM_HELPER = pytest.mark.skipif(
    version("openai") < (1, 92),
    reason="openai<1.92 has the chat stream helper under client.beta",
)
