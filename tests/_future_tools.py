"""Tools defined under ``from __future__ import annotations``: every annotation is a string.

Imported by tests/test_schema.py and tests/test_tool.py; kept apart so that the postponed
evaluation applies to this module only.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from toolkit import Context, Injected, Tool, tool


class Node(BaseModel):
    """A tree node that refers to itself."""

    label: str
    children: list[Node] = []


class Settings(BaseModel):
    level: int


@tool
def walk(
    root: Node,
    depth: Annotated[int, Field(ge=0)] = 1,
    *,
    order: Literal["pre", "post"] = "pre",
    since: datetime.date | None = None,
) -> list[str]:
    """Walk a tree and list its labels.

    Args:
        root: The tree to walk.
        depth: How deep to go.
        order: Visit order.
        since: Only nodes newer than this.
    """
    labels = [root.label]
    if depth > 0:
        for child in root.children:
            labels.extend(walk(child, depth - 1, order=order, since=since))
    return labels if order == "pre" else labels[::-1]


@tool
def configure(ctx: Context[Settings], name: str, extra: Annotated[Settings, Injected]) -> str:
    """Read the settings from the context."""
    return f"{name}:{ctx.deps.level}:{extra.level}"


def make_local_tool() -> Tool[..., int]:
    """A tool whose parameter type exists only in this function's scope."""

    class Point(BaseModel):
        x: int
        y: int

    @tool
    def norm1(p: Point) -> int:
        return abs(p.x) + abs(p.y)

    return norm1
