"""Tools that tests/test_mcp_server.py serves over MCP, in a subprocess (stdio, through
``_mcp_server.py``) and in a thread (streamable HTTP): one of every kind of outcome."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any

from pydantic import BaseModel, Field

from toolkit import Context, Registry, ToolAnnotations, ToolError, tool

SECRET = "tok-5ecret-9f8e7d6c5b4a"
"""The value of the secret ``whoami`` declares (the registry's, not the environment's)."""

STARTED: set[str] = set()
CANCELLED: set[str] = set()


@tool(annotations=ToolAnnotations(title="Add numbers", read_only=True, idempotent=True))
def add(a: int, b: Annotated[int, Field(ge=0, description="A count, not negative.")] = 0) -> int:
    """Add two numbers."""
    return a + b


class Point(BaseModel):
    x: int
    y: int


@tool(annotations=ToolAnnotations(destructive=False, open_world=False))
def point(x: int, y: int) -> Point:
    """Make a point."""
    return Point(x=x, y=y)


def lookup(key: str) -> dict[str, int] | None:
    """Look a key up (a union: its structured content is wrapped, even when a dict)."""
    return {"length": len(key)} if key else None


def shout(text: str):  # no return annotation: no outputSchema, no structured content
    """Say it louder."""
    print("shouting")  # over stdio, to standard error: never into the protocol
    return text.upper()


@tool(annotations=ToolAnnotations(destructive=True))
def delete(path: str) -> str:
    """Delete a file."""
    raise ToolError(f"{path} is read-only: pick a file under notes/")


def crash() -> str:
    """Fail."""
    raise RuntimeError("the disk is on fire")


@tool(timeout=0.1)
async def sleepy() -> str:
    """Take too long."""
    await asyncio.sleep(30)
    return "awake"


async def wait(key: str) -> str:
    """Wait until cancelled."""
    STARTED.add(key)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        CANCELLED.add(key)
        raise
    return "never"


def seen(key: str) -> dict[str, bool]:
    """Whether the wait with this key started, and whether it was cancelled."""
    return {"started": key in STARTED, "cancelled": key in CANCELLED}


async def count(ctx: Context, to: int) -> int:
    """Count, reporting progress."""
    for step in range(1, to + 1):
        ctx.report_progress(step, to, f"{step} of {to}")
        await asyncio.sleep(0.01)
    return to


def count_in_thread(ctx: Context, to: int) -> int:
    """Count in a worker thread, reporting progress."""
    for step in range(1, to + 1):
        ctx.report_progress(step, to)
        time.sleep(0.01)
    return to


@tool(secrets=["MCP_TEST_TOKEN"])
def whoami(ctx: Context) -> dict[str, Any]:
    """Who the token belongs to."""
    token = ctx.secrets["MCP_TEST_TOKEN"]
    ctx.report_progress(1, 1, f"checked {token}")
    return {"user": "ada", "token": token, token: [f"Bearer {token}"]}


TOOLS = [
    add,
    point,
    lookup,
    shout,
    delete,
    crash,
    sleepy,
    wait,
    seen,
    count,
    count_in_thread,
    whoami,
]


def build() -> Registry:
    """The registry served: ``TOOLS``, and ``grow``, which adds a tool to it (or removes
    one), as a tool that loads more tools would."""
    registry = Registry(TOOLS, secrets={"MCP_TEST_TOKEN": SECRET})

    def grow(name: str, remove: bool = False) -> list[str]:
        """Add a tool, or remove one."""
        if remove:
            registry.remove(name)
        else:
            registry.add(tool(lambda: name, name=name, description="Grown."))
        return registry.names

    registry.add(grow)
    return registry
