"""The runner's implementation: the loop, its two drivers, events, state and stores.

Its public names are exported from ``toolkit`` itself (``from toolkit import Runner,
Conversation, Limits, Approve...``), their one documented home.
"""

from __future__ import annotations

__all__: list[str] = []
