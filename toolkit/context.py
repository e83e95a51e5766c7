"""Values the registry and runner hand to a tool at call time, hidden from the model.

A parameter annotated with ``Context`` (or ``Context[Deps]``) receives the call's context;
a parameter annotated ``Annotated[T, Injected]`` receives the context's ``deps``. Neither
appears in the tool's schema, whatever its position in the signature::

    @tool
    def lookup(ctx: Context[Database], sku: str) -> Item:
        return ctx.deps.items[sku]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, final

from typing_extensions import TypeVar

__all__ = ["Context", "Injected"]

DepsT = TypeVar("DepsT", default=Any)


@dataclass(frozen=True, slots=True, kw_only=True)
class Context(Generic[DepsT]):
    """What a tool learns about the call it serves.

    Attributes:
        deps: The application object passed to the registry or runner (a database handle,
            an HTTP client, the current user...). ``None`` when nothing was passed.
        tool_name: The name of the tool being called.
        call_id: The provider's id for this call, when it has one.
    """

    deps: DepsT
    tool_name: str = ""
    call_id: str | None = None


@final
class _InjectedMarker:
    __slots__ = ()

    def __repr__(self) -> str:
        return "Injected"


Injected: Any = _InjectedMarker()
"""Marks a parameter as supplied from ``Context.deps``: ``db: Annotated[Database, Injected]``."""


def is_injected_marker(value: object) -> bool:
    """Whether ``value`` is the ``Injected`` marker (for the schema builder)."""
    return isinstance(value, _InjectedMarker)
