"""``@tool`` and ``Tool``: a Python callable that also knows how to present itself to a model.

A ``Tool`` is called exactly like the function it wraps. It also carries the tool name,
description and JSON Schema, validates untrusted arguments with the validator compiled at
decoration time, and renders itself for every provider format (cached per format).
"""

from __future__ import annotations

import inspect
import json
import sys
import types
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, Literal, cast, overload

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError, SchemaValidator, to_json
from typing_extensions import ParamSpec, Self, TypeVar

from toolkit._lossless import repair_arguments
from toolkit.context import Context
from toolkit.errors import ToolDefinitionError
from toolkit.formats import Change, get_format
from toolkit.schema import (
    FunctionSchema,
    build_function_schema,
    caller_namespace,
    name_problem,
    namespace_problem,
    namespaced,
    plan_from_json_schema,
    renamed,
)

if TYPE_CHECKING:
    from toolkit.formats import FormatName

__all__ = ["Tool", "ToolAnnotations", "tool"]

P = ParamSpec("P")
R = TypeVar("R")
_BoundP = ParamSpec("_BoundP")  # a method's parameters once bound to its instance
_BoundR = TypeVar("_BoundR")


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolAnnotations:
    """Hints about a tool's behaviour, sent where a protocol has a place for them (MCP).

    Attributes:
        title: A human-readable title.
        read_only: The tool does not modify its environment.
        destructive: The tool may perform destructive updates.
        idempotent: Calling it again with the same arguments has no further effect.
        open_world: The tool reaches entities outside a closed domain (the web, say).
    """

    title: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


_UNSET: Any = object()  # with_options: "keep the current value" (None is a value there)


class _FromFunction:
    """``__doc__`` of a ``Tool``: the class's own docstring on the class, the wrapped
    function's on an instance, so ``help()``, Sphinx and mkdocstrings show the function."""

    def __init__(self, class_doc: str | None) -> None:
        self.class_doc = class_doc

    def __get__(self, instance: object, owner: type[Any] | None = None) -> str | None:
        if instance is None:
            return self.class_doc
        return getattr(object.__getattribute__(instance, "__wrapped__"), "__doc__", None)


class _ModuleOfFunction(str):
    """``__module__`` of a ``Tool``. ``type.__module__`` reads the class's entry as it is (so
    it must be a ``str``: the class's own module); on an instance it is a descriptor giving
    the wrapped function's module, which documentation tools read to place the tool."""

    __slots__ = ()

    def __get__(self, instance: object, owner: type[Any] | None = None) -> str:
        if instance is None:
            return str(self)
        function = object.__getattribute__(instance, "__wrapped__")
        module = getattr(function, "__module__", None)
        return module if isinstance(module, str) else str(self)


class Tool(Generic[P, R]):
    """A callable with a name, a description, a JSON Schema and a compiled validator.

    Create one with ``@tool``. Calling it calls the wrapped function unchanged. A ``Tool`` is
    read-only: ``with_options(...)`` returns a changed copy (its rendered definitions are
    cached per copy, so nothing can go stale).

    Attributes:
        name: The tool name the model calls.
        description: What the tool does, for the model.
        parameters: The neutral JSON Schema of the arguments (shared: do not mutate).
        strict: Whether definitions are rendered in strict mode unless told otherwise.
        annotations: Behaviour hints, or ``None``.
        sequential: A ``Registry`` runs this tool alone, never alongside other calls.
        timeout: Seconds a ``Registry`` waits for this tool before reporting a timeout.
        serializer: Turns the return value into the text the model receives (``None``: the
            registry's default, JSON for everything but ``str``).
        needs_approval: A ``Runner`` pauses before running a call of this tool until the
            call is approved, edited or denied.
        max_retries: Failed calls of this tool a ``Runner`` lets the model try again in one
            run (``None``: the run's ``Limits.max_retries``).
        tags: Labels for choosing tools (``Registry.add_pack(..., include_tags=...)``).
        secrets: Names of the secrets the tool needs (environment variables, or keys of
            the registry's ``secrets`` mapping): a ``Registry`` checks them before each call
            and hands them over in ``Context.secrets``, never to the model.
        namespace: The tool pack's namespace, or ``None``: ``name`` is then
            ``"{namespace}_{base_name}"``.
        base_name: The name without the namespace (``name`` when there is none).
    """

    __slots__ = (
        "__name__",
        "__qualname__",
        "__wrapped__",
        "_definitions",
        "_is_coroutine_marker",
        "_schema",
        "annotations",
        "base_name",
        "description",
        "max_retries",
        "name",
        "namespace",
        "needs_approval",
        "secrets",
        "sequential",
        "serializer",
        "strict",
        "tags",
        "timeout",
    )

    name: str
    base_name: str
    namespace: str | None
    tags: frozenset[str]
    secrets: tuple[str, ...]
    description: str
    strict: bool
    annotations: ToolAnnotations | None
    sequential: bool
    timeout: float | None
    serializer: Callable[[Any], str] | None
    needs_approval: bool
    max_retries: int | None
    __wrapped__: Callable[P, R]
    _schema: FunctionSchema
    _definitions: dict[tuple[str, bool], tuple[dict[str, Any], tuple[Change, ...]]]

    def __init__(
        self,
        fn: Callable[P, R],
        schema: FunctionSchema,
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        annotations: ToolAnnotations | None = None,
        sequential: bool = False,
        timeout: float | None = None,
        serializer: Callable[[Any], str] | None = None,
        needs_approval: bool = False,
        tags: Iterable[str] = (),
        secrets: Iterable[str] = (),
        namespace: str | None = None,
        max_retries: int | None = None,
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"tool {schema.name!r}: timeout must be a positive number of seconds")
        retries = cast("object", max_retries)
        if retries is not None and (
            isinstance(retries, bool) or not isinstance(retries, int) or retries < 0
        ):
            raise ValueError(
                f"tool {schema.name!r}: max_retries must be a whole number of at least 0, "
                f"got {max_retries!r}"
            )
        base = schema.name if name is None else name
        chosen = base if namespace is None else namespaced(namespace, base)
        # (the schema's own name was checked when it was built)
        problem = None if base == schema.name else name_problem(base)
        if problem is None and namespace is not None:
            problem = namespace_problem(namespace, base)
        if problem is not None:
            raise ToolDefinitionError.single(schema.qualname, None, problem)
        schema = renamed(schema, chosen)  # validation errors are titled with the name
        tag_set = _labels(tags, "tag", schema.qualname)
        secret_names = tuple(
            dict.fromkeys(_labels(secrets, "secret", schema.qualname, ordered=True))
        )
        setting = object.__setattr__
        setting(self, "__wrapped__", fn)
        setting(self, "_schema", schema)
        setting(self, "name", chosen)
        setting(self, "base_name", base)
        setting(self, "namespace", namespace)
        setting(self, "tags", tag_set)
        setting(self, "secrets", secret_names)
        setting(self, "description", schema.description if description is None else description)
        setting(self, "strict", strict)
        setting(self, "annotations", annotations)
        setting(self, "sequential", sequential)
        setting(self, "timeout", timeout)
        setting(self, "serializer", serializer)
        setting(self, "needs_approval", needs_approval)
        setting(self, "max_retries", max_retries)
        setting(self, "_definitions", {})
        setting(self, "__name__", getattr(fn, "__name__", schema.name))
        setting(self, "__qualname__", schema.qualname)
        # inspect.iscoroutinefunction(tool) answers like it does for the function (3.12+)
        setting(self, "_is_coroutine_marker", None)
        if sys.version_info >= (3, 12) and schema.is_async:
            inspect.markcoroutinefunction(self)

    @classmethod
    def from_schema(
        cls,
        function: Callable[..., Any],
        parameters: Mapping[str, Any],
        *,
        name: str,
        description: str = "",
        owner: str | None = None,
        strict: bool = False,
        annotations: ToolAnnotations | None = None,
        sequential: bool = False,
        timeout: float | None = None,
        serializer: Callable[[Any], str] | None = None,
        needs_approval: bool = False,
        tags: Iterable[str] = (),
        secrets: Iterable[str] = (),
        max_retries: int | None = None,
    ) -> Tool[..., Any]:
        """A tool whose arguments a JSON Schema describes instead of a signature (a tool of
        an MCP server, an OpenAPI operation): ``function`` (sync or async) is called with
        the validated arguments as keywords, ``function(**arguments)``.

        The schema is untrusted: it is bounded in size and depth, repaired where real
        schemas are sloppy (a missing ``type``, ``definitions``, OpenAPI ``nullable``...;
        each repair is listed by ``changes()``) and compiled into a validator with the same
        precise errors as a decorated function's. Keywords toolkit does not check (``not``,
        ``if``/``then``, a pattern its regex engine does not read...) are dropped and
        reported, and are left to the schema's owner.

        Args:
            function: What a validated call runs.
            parameters: The JSON Schema of the arguments (an object schema).
            name: The tool name.
            description: What the tool does, for the model.
            owner: Who the tool belongs to, for error messages (default ``tool 'name'``).
            strict, annotations, sequential, timeout, serializer, needs_approval, tags,
            secrets, max_retries: As for ``@tool``.

        Raises:
            ToolDefinitionError: the name or the schema cannot be used, naming the place.
        """
        schema = plan_from_json_schema(
            function, parameters, name=name, description=description, owner=owner
        )
        return cls(
            function,
            schema,
            strict=strict,
            annotations=annotations,
            sequential=sequential,
            timeout=timeout,
            serializer=serializer,
            needs_approval=needs_approval,
            tags=tags,
            secrets=secrets,
            max_retries=max_retries,
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_is_coroutine_marker":  # set by inspect.markcoroutinefunction
            object.__setattr__(self, name, value)
            return
        raise AttributeError(
            f"Tool {self.name!r} is read-only: use tool.with_options({name}=...) for a changed copy"
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Tool {self.name!r} is read-only")

    def with_options(
        self,
        *,
        name: str = _UNSET,
        description: str = _UNSET,
        strict: bool = _UNSET,
        annotations: ToolAnnotations | None = _UNSET,
        sequential: bool = _UNSET,
        timeout: float | None = _UNSET,
        serializer: Callable[[Any], str] | None = _UNSET,
        needs_approval: bool = _UNSET,
        tags: Iterable[str] = _UNSET,
        secrets: Iterable[str] = _UNSET,
        namespace: str | None = _UNSET,
        max_retries: int | None = _UNSET,
    ) -> Tool[P, R]:
        """A copy of this tool with the given options changed (the others kept), sharing the
        schema and validator, with its own cache of rendered definitions.

        ``name`` sets the base name (the namespace, if any, is kept in front of it);
        ``namespace="files"`` turns ``read`` into ``files_read``, ``namespace=None`` back.

        Raises:
            ToolDefinitionError: the new name or namespace is not usable.
            ValueError: the timeout is not positive.
        """
        return type(self)(
            self.__wrapped__,
            self._schema,
            name=self.base_name if name is _UNSET else name,
            description=self.description if description is _UNSET else description,
            strict=self.strict if strict is _UNSET else strict,
            annotations=self.annotations if annotations is _UNSET else annotations,
            sequential=self.sequential if sequential is _UNSET else sequential,
            timeout=self.timeout if timeout is _UNSET else timeout,
            serializer=self.serializer if serializer is _UNSET else serializer,
            needs_approval=self.needs_approval if needs_approval is _UNSET else needs_approval,
            tags=self.tags if tags is _UNSET else tags,
            secrets=self.secrets if secrets is _UNSET else secrets,
            namespace=self.namespace if namespace is _UNSET else namespace,
            max_retries=self.max_retries if max_retries is _UNSET else max_retries,
        )

    # -- the function, unchanged -------------------------------------------------------------

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the wrapped function exactly as if it were not decorated."""
        return self.__wrapped__(*args, **kwargs)

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: Tool[Concatenate[Any, _BoundP], _BoundR],
        instance: object,
        owner: type[Any] | None = None,
    ) -> Tool[_BoundP, _BoundR]: ...
    def __get__(self, instance: object, owner: type[Any] | None = None) -> Any:
        # A method decorated in a class body: bind it like a function would be, keeping
        # the schema (which never included self/cls) and the rendered definitions.
        fn: Any = self.__wrapped__
        if isinstance(fn, classmethod):
            bound = fn.__get__(instance, owner)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        elif isinstance(fn, staticmethod) or instance is None:
            return self
        else:
            bound = types.MethodType(fn, instance)
        clone = object.__new__(type(self))
        for slot in Tool.__slots__:
            object.__setattr__(clone, slot, object.__getattribute__(self, slot))
        object.__setattr__(clone, "__wrapped__", bound)
        return clone

    def __repr__(self) -> str:
        return f"<Tool {self.name!r} of {self.__qualname__}>"

    # -- the model's side ----------------------------------------------------------------------

    @property
    def function(self) -> Callable[..., Any]:
        """The wrapped callable (bound, for a method reached through an instance)."""
        return self.__wrapped__

    @property
    def validator(self) -> SchemaValidator:
        """The compiled pydantic validator of the arguments: ``validate_json(text)`` and
        ``validate_python(mapping)`` return ``(args, kwargs)`` for ``function``, without the
        repairs of strict-mode shapes and the injected parameters that ``validate`` adds."""
        return self._schema.validator

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments the model sends (an object schema)."""
        return self._schema.parameters

    @property
    def is_async(self) -> bool:
        """Whether the wrapped function is a coroutine function."""
        return self._schema.is_async

    @property
    def takes_context(self) -> bool:
        """Whether the function has parameters filled from the call's ``Context`` (hidden
        from the model): ``validate(..., context=...)`` fills them."""
        return bool(self._schema.injections)

    @property
    def return_annotation(self) -> Any:
        """The resolved return annotation (``inspect.Parameter.empty`` when there is none)."""
        return self._schema.return_annotation

    def definition(
        self, format: FormatName = "openai", *, strict: bool | None = None
    ) -> dict[str, Any]:
        """The tool definition in a provider's wire format, ready to send.

        Args:
            format: ``"openai"``, ``"openai-responses"``, ``"anthropic"``, ``"workers-ai"``,
                ``"gemini"`` or ``"mcp"``.
            strict: Render for strict mode (closed objects; for OpenAI every property
                required and optional ones nullable, for Anthropic optional ones kept
                optional). Defaults to the tool's own ``strict``; ignored by formats without
                a strict mode.

        The result is cached and shared between calls: copy it before changing it.

        Raises:
            ToolDefinitionError: the schema cannot be expressed in that format.
            ValueError: the format is unknown.
        """
        return self._render(format, strict)[0]

    def changes(
        self, format: FormatName = "openai", *, strict: bool | None = None
    ) -> tuple[Change, ...]:
        """What rendering for ``format`` had to change in the neutral schema, and whether
        information was lost (a constraint moved into a description, a keyword dropped...)."""
        return self._render(format, strict)[1]

    def _render(
        self, format: FormatName, strict: bool | None
    ) -> tuple[dict[str, Any], tuple[Change, ...]]:
        key = (format, self.strict if strict is None else strict)
        cached = self._definitions.get(key)
        if cached is None:
            cached = get_format(format).render_tool(self, strict=key[1])
            if self._schema.repairs:  # a received schema: its repairs come first
                repairs = tuple(Change(r.path, r.message, r.lossy) for r in self._schema.repairs)
                cached = (cached[0], repairs + cached[1])
            self._definitions[key] = cached
        return cached

    # -- validated calls -------------------------------------------------------------------------

    def validate(
        self,
        arguments: str | bytes | Mapping[str, Any],
        *,
        strict: bool = False,
        context: Context[Any] | None = None,
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Validate a model's arguments (a JSON string or a mapping) against the signature.

        Arguments sent in the shapes strict-mode schemas use (``null`` for a parameter with a
        default, a list of key/value pairs for a dict, structured values sent as JSON strings)
        are mapped back first. Returns the positional and keyword arguments for
        ``tool.function``: with the parameters filled from ``context`` when one is given,
        else without them.

        Args:
            arguments: What the model sent.
            strict: Validate in pydantic's strict JSON mode: no coercion (``"3"`` is not an
                int), though values JSON cannot express (dates, UUIDs...) stay strings.
            context: The call's context, for the parameters annotated ``Context`` or
                ``Injected``.

        Raises:
            pydantic.ValidationError: the arguments do not fit, with every failing location
                (titled with the tool's name).
        """
        if type(arguments) is str and arguments[:1] == "{" and not strict and context is None:
            try:  # the usual case, as short as it can be: most of a registry's dispatch
                return self._schema.validator.validate_json(arguments)
            except ValidationError as error:
                return self._repaired_or_raise(arguments, False, error)
        validated = self._validated(arguments, strict)
        if context is not None and self._schema.injections:
            return self._bind(validated, context)
        return validated

    def call(
        self, arguments: str | bytes | Mapping[str, Any], *, context: Context[Any] | None = None
    ) -> R:
        """Validate ``arguments`` and call the function (sync tools; use ``call_async`` for
        async ones).

        Raises:
            pydantic.ValidationError: invalid arguments; the function was not called.
            TypeError: the tool is async.
        """
        if self._schema.is_async:
            raise TypeError(f"tool {self.name!r} is async: use 'await tool.call_async(...)'")
        args, kwargs = self._bind(self._validated(arguments, False), context)
        return self.__wrapped__(*args, **kwargs)  # pyright: ignore[reportCallIssue]

    async def call_async(
        self, arguments: str | bytes | Mapping[str, Any], *, context: Context[Any] | None = None
    ) -> Any:
        """Validate ``arguments`` and call the function, awaiting it if it is async.

        A sync tool runs in the calling thread; the registry decides about thread pools.
        """
        args, kwargs = self._bind(self._validated(arguments, False), context)
        result = self.__wrapped__(*args, **kwargs)  # pyright: ignore[reportCallIssue]
        if self._schema.is_async:
            return await cast("Awaitable[Any]", result)
        return result

    def _validated(
        self, arguments: str | bytes | Mapping[str, Any], strict: bool
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        validator = self._schema.validator
        if _is_array(arguments):
            # pydantic's arguments schema would take a JSON array as positional arguments;
            # the protocols only ever send named arguments, so an array is a mistake.
            raise ValidationError.from_exception_data(
                self.name, [{"type": "dict_type", "loc": (), "input": arguments}]
            )
        try:
            if isinstance(arguments, (str, bytes)):
                return validator.validate_json(arguments, strict=strict or None)
            if strict:
                return validator.validate_json(self._as_json(arguments), strict=True)
            return validator.validate_python(arguments)
        except ValidationError as error:
            return self._repaired_or_raise(arguments, strict, error)

    def _repaired_or_raise(
        self, arguments: str | bytes | Mapping[str, Any], strict: bool, error: ValidationError
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Validate the arguments mapped back from strict-mode shapes, or raise ``error`` (the
        first validation's) when nothing could be mapped."""
        repaired = _repaired(arguments, self._schema.parameters)
        if repaired is None:
            raise error
        validator = self._schema.validator
        if strict:
            return validator.validate_json(self._as_json(repaired), strict=True)
        return validator.validate_python(repaired)

    def _as_json(self, arguments: Any) -> bytes:
        """Mapping arguments as JSON, for strict validation; a value JSON cannot hold (a lone
        surrogate, a Python-only object) is a validation error like any other."""
        try:
            return to_json(arguments)
        except (PydanticSerializationError, RecursionError, ValueError) as error:
            raise ValidationError.from_exception_data(
                self.name,
                [
                    {
                        "type": "json_invalid",
                        "loc": (),
                        "input": "",
                        "ctx": {"error": f"the arguments cannot be written as JSON ({error})"},
                    }
                ],
            ) from None

    def _bind(
        self, validated: tuple[tuple[Any, ...], dict[str, Any]], context: Context[Any] | None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Insert the injected parameters into the validated arguments."""
        schema = self._schema
        if not schema.injections:
            return validated
        args, kwargs = validated
        if context is None:
            context = Context(deps=None, tool_name=self.name)
        positional = iter(args)
        full_args = tuple(
            (_injected_value(slot.kind, context) if slot is not None else next(positional))
            for slot in schema.call_order
        )
        kwargs = dict(kwargs)
        for injection in schema.injections:
            if not injection.positional:
                kwargs[injection.name] = _injected_value(injection.kind, context)
        return full_args, kwargs


# A Tool shows the wrapped function's docstring and module (see the two classes above).
Tool.__doc__ = _FromFunction(Tool.__doc__)  # type: ignore[assignment]
type.__setattr__(Tool, "__module__", _ModuleOfFunction(Tool.__module__))


def _is_array(arguments: object) -> bool:
    if isinstance(arguments, str):
        head = arguments[:1]
        return head == "[" or (head.isspace() and arguments.lstrip()[:1] == "[")
    if isinstance(arguments, bytes):
        return arguments.lstrip()[:1] == b"["
    return isinstance(arguments, (list, tuple))


def public_methods(obj: object) -> list[Callable[..., Any]]:
    """The public methods of ``obj`` (not starting with ``_``), bound, in definition order
    through its class and bases: the tools of a toolbox object."""
    names: dict[str, None] = {}
    for cls in reversed(type(obj).__mro__[:-1]):  # without ``object``
        for name, value in vars(cls).items():
            if not name.startswith("_") and isinstance(
                value, (types.FunctionType, Tool, classmethod, staticmethod)
            ):
                names[name] = None
    return [getattr(obj, name) for name in names]


def _labels(values: Iterable[str], what: str, owner: str, *, ordered: bool = False) -> Any:
    """Tags or secret names as a frozenset (or a tuple, ``ordered``), each a non-empty
    string: a lone string is refused, as it would be read letter by letter."""
    if isinstance(values, str):
        raise TypeError(f"tool {owner!r}: {what}s must be a list of strings, not one string")
    found = tuple(values)
    for value in found:
        if not isinstance(value, str) or not value.strip():  # pyright: ignore[reportUnnecessaryIsInstance] - user input
            raise TypeError(
                f"tool {owner!r}: each {what} must be a non-empty string, got {value!r}"
            )
    return found if ordered else frozenset(found)


def _injected_value(kind: Literal["context", "deps"], context: Context[Any]) -> Any:
    return context if kind == "context" else context.deps


def _repaired(arguments: str | bytes | Mapping[str, Any], schema: dict[str, Any]) -> Any | None:
    """The arguments mapped back from strict-mode shapes, or ``None`` if nothing changed."""
    if isinstance(arguments, (str, bytes)):
        try:
            arguments = json.loads(arguments)
        except (ValueError, RecursionError):
            return None
    repaired = repair_arguments(arguments, schema)
    return None if repaired is arguments else repaired


@overload
def tool(
    fn: Callable[P, R],
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    param_descriptions: Mapping[str, str] | None = None,
    docstring_mismatch: Literal["error", "warn"] = "error",
    annotations: ToolAnnotations | None = None,
    sequential: bool = False,
    timeout: float | None = None,
    serializer: Callable[[Any], str] | None = None,
    needs_approval: bool = False,
    tags: Iterable[str] = (),
    secrets: Iterable[str] = (),
    max_retries: int | None = None,
) -> Tool[P, R]: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    param_descriptions: Mapping[str, str] | None = None,
    docstring_mismatch: Literal["error", "warn"] = "error",
    annotations: ToolAnnotations | None = None,
    sequential: bool = False,
    timeout: float | None = None,
    serializer: Callable[[Any], str] | None = None,
    needs_approval: bool = False,
    tags: Iterable[str] = (),
    secrets: Iterable[str] = (),
    max_retries: int | None = None,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...
def tool(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    param_descriptions: Mapping[str, str] | None = None,
    docstring_mismatch: Literal["error", "warn"] = "error",
    annotations: ToolAnnotations | None = None,
    sequential: bool = False,
    timeout: float | None = None,
    serializer: Callable[[Any], str] | None = None,
    needs_approval: bool = False,
    tags: Iterable[str] = (),
    secrets: Iterable[str] = (),
    max_retries: int | None = None,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Turn a function into a ``Tool``: ``@tool`` or ``@tool(name=..., ...)``.

    Works on functions and async functions, methods in a class body, bound methods,
    classmethods and staticmethods, ``functools.partial`` objects, callable objects and
    ``functools.wraps`` wrappers. Everything is read and checked once, here.

    Args:
        fn: The callable (when used as ``@tool`` without parentheses).
        name: The tool name; defaults to the function's ``__name__`` (required for lambdas).
        description: Overrides the description taken from the docstring.
        strict: Render definitions in strict mode by default, and refuse untyped parameters.
        param_descriptions: Parameter descriptions that win over ``Field``/``Annotated`` and
            the docstring.
        docstring_mismatch: ``"error"`` (default) or ``"warn"`` when the docstring documents a
            parameter the signature lacks.
        annotations: Behaviour hints (read-only, destructive...) for protocols that carry them.
        sequential: A ``Registry`` runs calls of this tool alone and in order, never in
            parallel with other calls (for tools with side effects that must not overlap).
        timeout: Seconds a ``Registry`` waits for a call before answering with a timeout
            error (overrides the registry's own ``timeout``).
        serializer: Turns the return value into the text the model receives, instead of
            the registry's default (``str`` as is, anything else as compact JSON).
        needs_approval: A ``Runner`` pauses before each call of this tool until it is
            approved (possibly with edited arguments) or denied.
        tags: Labels to choose tools by (``include_tags``/``exclude_tags`` of packs).
        secrets: Names of the secrets the tool needs, e.g. ``["WEATHER_API_KEY"]``: read
            from the environment (or the registry's ``secrets`` mapping) at each call and
            given to the tool in ``Context.secrets``; a call without them gets an error
            result naming the variable to set. Never part of a schema or a message.
        max_retries: Failed calls of this tool (arguments that fail validation, or
            ``toolkit.Retry`` raised) a ``Runner`` lets the model try again in one run;
            the next failure ends the run (``None``: ``Limits.max_retries``).

    Raises:
        ToolDefinitionError: listing every problem found, each naming the parameter and the fix.
    """
    localns = caller_namespace(1)

    def decorate(function: Callable[P, R]) -> Tool[P, R]:
        schema = build_function_schema(
            function,
            name=name,
            description=description,
            param_descriptions=param_descriptions,
            require_types=strict,
            docstring_mismatch=docstring_mismatch,
            localns=localns,
        )
        return Tool(
            function,
            schema,
            strict=strict,
            annotations=annotations,
            sequential=sequential,
            timeout=timeout,
            serializer=serializer,
            needs_approval=needs_approval,
            tags=tags,
            secrets=secrets,
            max_retries=max_retries,
        )

    if fn is not None:
        return decorate(fn)
    return decorate
