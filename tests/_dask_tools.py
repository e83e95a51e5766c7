"""Tools for the Dask tests, in a module the workers import: the functions are pickled by
name (module and function name). Most are plain functions, wrapped with ``tool(...)`` where
they are registered; ``decorated`` is a ``@tool`` (its name finds the ``Tool``, which the
registry sends by reference)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path

from pydantic import BaseModel

from toolkit import Context, ToolError, tool


class Reading(BaseModel):
    """A weather reading."""

    city: str
    celsius: float


def where(n: int) -> dict[str, int]:
    """Say which process ran call ``n``."""
    return {"n": n, "pid": os.getpid()}


@tool
def decorated(n: int) -> dict[str, int]:
    """Say which process ran call ``n``, as a ``@tool``."""
    return {"n": n, "pid": os.getpid()}


def square(value: int) -> int:
    """Square a number."""
    return value * value


def reading(city: str) -> Reading:
    """The weather in a city."""
    return Reading(city=city, celsius=21.5)


def fail(reason: str) -> str:
    """Always fails, with ``reason``."""
    raise ValueError(f"the station is down: {reason}")


def refuse(reason: str) -> str:
    """Always refuses, with ``reason`` for the model."""
    raise ToolError(f"refused: {reason}")


def span(n: int, seconds: float) -> dict[str, float]:
    """Sleep ``seconds``; say in which process and when (wall clock) call ``n`` ran."""
    start = time.time()
    time.sleep(seconds)
    return {"n": n, "pid": os.getpid(), "start": start, "end": time.time()}


def held(folder: str, n: int) -> int:
    """Mark call ``n`` as started in ``folder``, then wait (at most 10 s) until a file
    ``release`` appears there."""
    place = Path(folder)
    (place / f"started-{n}").touch()
    deadline = time.monotonic() + 10
    while not (place / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return n


def ticket() -> str:
    """A fresh ticket: never the same twice."""
    return f"{os.getpid()}-{uuid.uuid4().hex}"


def keywords(*, key: str, workers: int, pure: bool, priority: int, retries: int) -> str:
    """Keyword-only parameters named like the keywords of Dask's ``Client.submit``."""
    return f"{key} {workers} {pure} {priority} {retries}"


def lookup(ctx: Context[dict[str, str]], sku: str) -> dict[str, str | int | None]:
    """Find an item in the catalog passed as the call's context."""
    return {"item": ctx.deps[sku], "tool": ctx.tool_name, "call": ctx.call_id, "pid": os.getpid()}


def lock() -> object:
    """A lock of the worker's process: a value that cannot be pickled back."""
    return threading.Lock()
