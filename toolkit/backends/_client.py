"""What the SDK-based backends share about the caller's client."""

from __future__ import annotations

import weakref
from typing import Any

from toolkit.model import ModelRequest

__all__ = ["client_for"]

_without_retries: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def client_for(client: Any, request: ModelRequest) -> Any:
    """``client``, or, for a request with a timeout, its copy that sends once.

    The openai and anthropic SDKs retry a timed-out request (twice by default), so a
    request given ``timeout`` seconds could take three times that. The copy shares the
    client's connection pool (``with_options``); it is made once per client.
    """
    if request.timeout is None:
        return client
    try:
        copy = _without_retries.get(client)
    except TypeError:  # not weak-referenceable: a stand-in client of a test
        return client
    if copy is None:
        with_options = getattr(client, "with_options", None)
        if not callable(with_options):
            return client
        copy = with_options(max_retries=0)
        _without_retries[client] = copy
    return copy
