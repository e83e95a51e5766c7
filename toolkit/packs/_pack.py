"""``Pack``: a named set of tools with its configuration, secrets and evaluation cases.

A pack's ``tools`` can be given four ways, resolved by ``Pack.build``: a list (of tools,
functions and other packs), a toolbox class (its public methods are the tools; its
constructor takes the configuration), or a factory function (it takes the configuration
and returns one of the others). Building namespaces the tools of nested packs, checks that
every name is unique and usable by every provider, and applies the pack's filters last, so
that a filter holds whatever the pack is composed into.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ValidationError

from toolkit import _feedback
from toolkit.errors import ToolDefinitionError, ToolkitError
from toolkit.schema import namespace_problem, namespaced
from toolkit.tool import Tool, public_methods, tool

if TYPE_CHECKING:
    from toolkit.packs._evals import EvalCase

__all__ = ["Pack", "PackError", "PackWarning", "cause"]

_MAX_TOOLS_PER_PACK = 1_000  # a pack listing more is a mistake (or hostile), not a pack


class PackError(ToolkitError):
    """A tool pack cannot be used: it failed to import, its factory raised or returned the
    wrong thing, its configuration is invalid, or its names are unusable or collide. The
    message names the pack (and its distribution, when installed) and the cause."""


class PackWarning(UserWarning):
    """A tool pack was skipped or is incomplete (a failure while loading many packs, a
    missing secret): reported once per pack and cause, the other packs keep working."""


@dataclass(frozen=True, kw_only=True)
class Pack:
    """A named, versioned set of tools that applications load into a ``Registry``.

    Attributes:
        name: The pack's name, also the namespace of its tools (``files`` makes ``read``
            into ``files_read``). For an installed pack, its entry-point name.
        tools: A list of tools, functions and nested packs; a toolbox class; or a factory
            function taking the configuration and returning either.
        description: What the pack is for (shown by ``toolkit packs``).
        version: The pack's version (defaults to its distribution's).
        config: The pydantic model of the configuration, or ``None``; by default the model
            annotated on the first parameter of the toolbox class's constructor or of the
            factory.
        secrets: Secrets every tool of the pack needs (names of environment variables).
        evals: Cases for ``toolkit eval``: prompts and the calls a good model makes.
        include: Keep only the tools with these names (base or namespaced).
        exclude: Drop the tools with these names.
        include_tags: Keep only the tools with at least one of these tags.
        exclude_tags: Drop the tools with any of these tags.
    """

    name: str
    tools: Sequence[Tool[..., Any] | Callable[..., Any] | Pack] | type | Callable[..., Any] = ()
    description: str = ""
    version: str | None = None
    config: type[BaseModel] | None = None
    secrets: Sequence[str] = ()
    evals: Sequence[EvalCase] = ()
    include: frozenset[str] | None = None
    exclude: frozenset[str] = field(default_factory=frozenset[str])
    include_tags: frozenset[str] | None = None
    exclude_tags: frozenset[str] = field(default_factory=frozenset[str])

    def __post_init__(self) -> None:
        problem = namespace_problem(self.name)
        if problem is not None:
            raise PackError(f"pack {self.name!r}: {problem}")
        for name in ("include", "exclude", "include_tags", "exclude_tags"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"pack {self.name!r}: {name} must be a set of names, not a str")
            if value is not None and not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(cast("Iterable[str]", value)))
        if isinstance(self.secrets, str):
            raise TypeError(f"pack {self.name!r}: secrets must be a list of names, not a str")

    def select(
        self,
        *,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        include_tags: Iterable[str] | None = None,
        exclude_tags: Iterable[str] = (),
    ) -> Pack:
        """This pack with narrower filters: each given filter is combined with the pack's
        own (a tool must pass both), so a selection can only remove tools."""
        return dataclasses.replace(
            self,
            include=_narrowed(self.include, include),
            exclude=self.exclude | _names(exclude, "exclude"),
            include_tags=_narrowed(self.include_tags, include_tags),
            exclude_tags=self.exclude_tags | _names(exclude_tags, "exclude_tags"),
        )

    def config_model(self) -> type[BaseModel] | None:
        """The configuration model: ``config``, or the one the toolbox class or factory
        annotates on its first parameter."""
        if self.config is not None:
            return self.config
        if isinstance(self.tools, (list, tuple)):
            return None
        return _annotated_model(cast("Callable[..., Any]", self.tools))

    def build(self, config: Mapping[str, Any] | BaseModel | None = None) -> list[Tool[..., Any]]:
        """The pack's tools for ``config``: nested packs namespaced by their names, the
        pack's secrets added to each tool, its filters applied. Not namespaced by this
        pack's own name (``Registry.add_pack`` does that).

        Raises:
            PackError: the configuration is invalid, the factory or toolbox failed or
                returned the wrong thing, a tool cannot be made, or two tools share a name.
        """
        settings = self._settings(config)
        tools = self._resolve(self.tools, settings, depth=0)
        if self.secrets:
            tools = [t.with_options(secrets=(*self.secrets, *t.secrets)) for t in tools]
        seen: dict[str, Tool[..., Any]] = {}
        for item in tools:
            if item.name in seen:
                raise PackError(
                    f"pack {self.name!r}: two tools are named {item.name!r}"
                    f" ({seen[item.name].__qualname__} and {item.__qualname__});"
                    " rename one with @tool(name=...)"
                )
            seen[item.name] = item
        return self._filtered(tools)

    # -- building ------------------------------------------------------------------------------

    def _settings(self, config: Mapping[str, Any] | BaseModel | None) -> BaseModel | None:
        model = self.config_model()
        if model is None:
            if config:
                raise PackError(f"pack {self.name!r} takes no configuration, got {config!r}")
            return None
        if isinstance(config, model):
            return config
        try:
            data = config.model_dump() if isinstance(config, BaseModel) else dict(config or {})
            return model.model_validate(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in detail['loc']) or 'configuration'}:"
                f" {detail['msg']}"
                for detail in error.errors(include_url=False)[:10]
            )
            raise PackError(f"pack {self.name!r}: invalid configuration: {problems}") from None
        except (TypeError, ValueError) as error:
            raise PackError(
                f"pack {self.name!r}: the configuration must be a mapping: {error}"
            ) from None

    def _resolve(
        self, value: object, settings: BaseModel | None, depth: int
    ) -> list[Tool[..., Any]]:
        if depth > 2:  # a factory returning a factory returning a factory...
            raise PackError(f"pack {self.name!r}: its factory keeps returning factories")
        if isinstance(value, (list, tuple)):
            return self._listed(cast("Sequence[object]", value), settings)
        if isinstance(value, Tool):
            return [cast("Tool[..., Any]", value)]
        if isinstance(value, Pack):
            return _nested(value, settings)
        if isinstance(value, type):
            instance = self._invoke(value, settings, "toolbox class")
            return self._listed(public_methods(instance), settings)
        if callable(value):
            made = self._invoke(cast("Callable[..., Any]", value), settings, "factory")
            if isinstance(made, Pack):
                return _nested(made, settings, inline=True)
            if isinstance(made, (list, tuple, type)):
                return self._resolve(cast("object", made), settings, depth + 1)
            raise PackError(
                f"pack {self.name!r}: its factory returned {type(made).__name__},"
                " expected a Pack, a list of tools or a toolbox class"
            )
        raise PackError(
            f"pack {self.name!r}: tools must be a list of tools, a toolbox class or a factory,"
            f" got {type(value).__name__}"
        )

    def _listed(self, items: Sequence[object], settings: BaseModel | None) -> list[Tool[..., Any]]:
        if len(items) > _MAX_TOOLS_PER_PACK:
            raise PackError(
                f"pack {self.name!r} lists {len(items)} tools; at most {_MAX_TOOLS_PER_PACK}"
            )
        found: list[Tool[..., Any]] = []
        for index, item in enumerate(items):
            if isinstance(item, Pack):
                found.extend(_nested(item, settings))
            elif isinstance(item, Tool):
                found.append(cast("Tool[..., Any]", item))
            elif callable(item) and not isinstance(item, type):
                try:
                    found.append(tool(cast("Callable[..., Any]", item)))
                except ToolDefinitionError as error:
                    raise PackError(f"pack {self.name!r}: {error}") from None
            else:
                raise PackError(
                    f"pack {self.name!r}: item {index} of its tools is {type(item).__name__},"
                    " not a tool, a function or a pack"
                )
        return found

    def _invoke(self, target: Callable[..., Any], settings: BaseModel | None, what: str) -> Any:
        try:
            takes = _takes_argument(target)
            return target(settings) if takes else target()
        except PackError:
            raise
        except Exception as error:
            raise PackError(f"pack {self.name!r}: its {what} raised {cause(error)}") from error

    def _filtered(self, tools: list[Tool[..., Any]]) -> list[Tool[..., Any]]:
        # A tool answers to its name, its base name and its name in this pack's namespace.
        aliases = {t.name: {t.name, t.base_name, namespaced(self.name, t.name)} for t in tools}
        known = set[str]().union(*aliases.values())
        for label, names in (("include", self.include), ("exclude", self.exclude)):
            unknown = sorted((names or frozenset[str]()) - known)
            if unknown:
                raise PackError(
                    f"pack {self.name!r}: {label} names no tool of the pack: {unknown};"
                    f" its tools are {sorted(t.name for t in tools)}"
                )

        def chosen(item: Tool[..., Any]) -> bool:
            names = aliases[item.name]
            if self.include is not None and not names & self.include:
                return False
            if names & self.exclude or item.tags & self.exclude_tags:
                return False
            return self.include_tags is None or bool(item.tags & self.include_tags)

        return [item for item in tools if chosen(item)]


def cause(error: BaseException) -> str:
    """An exception as the cause in a pack's error: its type and message, clipped, and
    redacted (a pack's import or factory may have read a secret into its message)."""
    return _feedback.clip(_feedback.redact(_feedback.describe_exception(error)), 500)


def _nested(
    pack: Pack, settings: BaseModel | None, *, inline: bool = False
) -> list[Tool[..., Any]]:
    """A nested pack's tools, namespaced by its name, built with its own defaults; or
    (``inline``) a factory's pack, whose tools are the outer pack's, built with the
    outer configuration when it takes one."""
    if not inline:
        return [
            t.with_options(
                namespace=pack.name if t.namespace is None else namespaced(pack.name, t.namespace)
            )
            for t in pack.build(None)
        ]
    return pack.build(settings if pack.config_model() is not None else None)


def _takes_argument(target: Callable[..., Any]) -> bool:
    """Whether a factory or toolbox constructor takes the configuration (one parameter)."""
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return False
    return any(
        p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        for p in signature.parameters.values()
    )


def _annotated_model(target: Callable[..., Any]) -> type[BaseModel] | None:
    """The pydantic model annotated on the first parameter of ``target``, if any."""
    function: Any = target.__init__ if isinstance(target, type) else target
    try:
        hints = typing.get_type_hints(function)
        parameters = list(inspect.signature(target).parameters)
    except Exception:  # unresolvable annotations: no model; calling it will tell
        return None
    if not parameters:
        return None
    hint = hints.get(parameters[0])
    return hint if isinstance(hint, type) and issubclass(hint, BaseModel) else None


def _names(values: Iterable[str], label: str) -> frozenset[str]:
    if isinstance(values, str):
        raise TypeError(f"{label} must be a set of names, not a str")
    return frozenset(values)


def _narrowed(current: frozenset[str] | None, given: Iterable[str] | None) -> frozenset[str] | None:
    if given is None:
        return current
    names = _names(given, "include")
    return names if current is None else current & names
