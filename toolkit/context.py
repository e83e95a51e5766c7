"""Values the registry and runner hand to a tool at call time, hidden from the model.

A parameter annotated with ``Context`` (or ``Context[Deps]``) receives the call's context;
a parameter annotated ``Annotated[T, Injected]`` receives the context's ``deps``. Neither
appears in the tool's schema, whatever its position in the signature::

    @tool
    def lookup(ctx: Context[Database], sku: str) -> Item:
        return ctx.deps.items[sku]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, final

from typing_extensions import TypeVar

__all__ = ["Context", "Injected", "Secrets"]

DepsT = TypeVar("DepsT", default=Any)

ProgressCallback = Callable[[float, "float | None", "str | None"], None]
"""``on_progress(progress, total, message)``: receives a tool's progress reports."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Context(Generic[DepsT]):
    """What a tool learns about the call it serves.

    Attributes:
        deps: The application object passed to the registry or runner (a database handle,
            an HTTP client, the current user...). ``None`` when nothing was passed.
        tool_name: The name of the tool being called.
        call_id: The provider's id for this call, when it has one.
        secrets: The secrets the tool declared (``@tool(secrets=[...])``), by name.
        on_progress: Where ``report_progress`` sends its reports: set by whoever runs the
            call and wants them (an MCP server whose client asked for progress), else
            ``None``. Tools call ``report_progress`` rather than this.
    """

    deps: DepsT
    tool_name: str = ""
    call_id: str | None = None
    secrets: Secrets = field(default_factory=lambda: Secrets({}))
    on_progress: ProgressCallback | None = field(default=None, repr=False, compare=False)

    def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Tell whoever runs the call how far it has got: ``progress`` out of ``total``
        (when known), with an optional ``message``; values should grow from one report to
        the next. Nothing happens when nobody asked for progress. Sync and async tools
        call it alike: an ``on_progress`` returns at once and takes calls from any thread
        (the MCP server's does).
        """
        if self.on_progress is not None:
            self.on_progress(progress, total, message)

    def __reduce__(self) -> Any:
        # A Context pickled for a process pool keeps everything but ``on_progress``: a
        # callback into this process cannot be called from another one.
        return (_context, (self.deps, self.tool_name, self.call_id, self.secrets))


def _context(deps: Any, tool_name: str, call_id: str | None, secrets: Secrets) -> Context[Any]:
    return Context(deps=deps, tool_name=tool_name, call_id=call_id, secrets=secrets)


@final
class Secrets(Mapping[str, str]):
    """The secrets a tool declared, by name: ``ctx.secrets["WEATHER_API_KEY"]``.

    A read-only mapping whose ``repr`` shows the names and never the values, so printing a
    ``Context`` (in a log line, a traceback, a debugger) gives nothing away.
    """

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    def __getitem__(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(
                f"no secret {name!r} here: declare it on the tool, @tool(secrets=[{name!r}])"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Secrets({', '.join(f'{name}=***' for name in self._values)})"

    def __reduce__(self) -> Any:  # a pickled Context (a process pool) keeps its secrets
        return (Secrets, (self._values,))


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
