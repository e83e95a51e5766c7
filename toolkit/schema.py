"""From a Python callable to one frozen plan: name, description, JSON Schema and validator.

This module knows nothing of providers. It reads the signature, the type hints and the
docstring once, builds a pydantic ``arguments-v3`` core schema (which accepts every
parameter by name, positional-only ones included), compiles its validator and derives the
neutral JSON Schema of the arguments from the same core schema, so that what the model is
told and what the validator accepts can never drift apart.
"""

from __future__ import annotations

import functools
import inspect
import re
import sys
import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin, get_type_hints

from pydantic_core import CoreSchema, SchemaValidator, core_schema

from toolkit.context import Context, is_injected_marker
from toolkit.docstrings import parse_docstring
from toolkit.errors import DefinitionProblem, ToolDefinitionError

__all__ = ["FunctionSchema", "InjectionKind", "build_function_schema", "return_json_schema"]

InjectionKind = Literal["context", "deps"]
"""How an injected parameter is filled: the whole ``Context``, or ``Context.deps``."""

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-/]*$")
_METHOD_RECEIVERS = frozenset({"self", "cls"})
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True, slots=True)
class Injection:
    """One parameter supplied at call time instead of by the model."""

    name: str
    kind: InjectionKind
    positional: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionSchema:
    """Everything toolkit learns from a callable, computed once.

    Attributes:
        name: The tool name (explicit, or the function's ``__name__``).
        qualname: Where the function comes from, for error messages.
        description: Docstring summary and body without the parameter sections.
        parameters: The neutral JSON Schema of the arguments (an object schema).
        validator: The compiled pydantic validator of an arguments mapping; it returns
            ``(args, kwargs)`` ready for the call.
        injections: Parameters filled from the context, in signature order.
        call_order: For each positional parameter in signature order, either ``None``
            (taken from the validated arguments) or the injection that fills it.
        is_async: Whether calling the function returns an awaitable.
        return_annotation: The resolved return annotation (``inspect.Parameter.empty`` if none).
    """

    name: str
    qualname: str
    description: str
    parameters: dict[str, Any]
    validator: SchemaValidator
    injections: tuple[Injection, ...]
    call_order: tuple[Injection | None, ...]
    is_async: bool
    return_annotation: Any


def build_function_schema(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    param_descriptions: Mapping[str, str] | None = None,
    require_types: bool = False,
    docstring_mismatch: Literal["error", "warn"] = "error",
    localns: Mapping[str, Any] | None = None,
) -> FunctionSchema:
    """Read ``fn`` once and return its frozen plan, or raise ``ToolDefinitionError``.

    Args:
        fn: A function, async function, bound method, ``functools.partial`` or callable object.
        name: The tool name; defaults to the function's name.
        description: Overrides the docstring's description.
        param_descriptions: Per-parameter descriptions that win over every other source.
        require_types: Refuse parameters without a type annotation.
        docstring_mismatch: What to do when the docstring documents a parameter that the
            signature lacks: raise, or warn.
        localns: Extra names for resolving string annotations (the decorating scope).
    """
    target = _underlying_function(fn)
    qualname = getattr(target, "__qualname__", None) or type(fn).__qualname__
    problems: list[DefinitionProblem] = []

    tool_name = name if name is not None else _default_name(fn, target)
    if not _NAME_RE.match(tool_name) or len(tool_name) > 128:
        problems.append(
            DefinitionProblem(
                qualname,
                None,
                f"{tool_name!r} is not a usable tool name; pass name='...' made of letters, "
                "digits and '_ - . : /' (start with a letter or '_'), at most 128 characters",
            )
        )

    # A classmethod object (``@tool`` above ``@classmethod``) is not callable, so
    # inspect.signature rejects it; read its function (``cls`` is skipped below).
    readable: Any = fn
    if isinstance(readable, classmethod):
        readable = readable.__func__  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    try:
        signature = inspect.signature(readable)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError.single(
            qualname, None, f"has no readable signature ({exc})"
        ) from exc
    hints = _resolve_hints(target, localns, qualname, problems)
    parsed_doc = parse_docstring(_docstring_of(fn, target))

    skip_receiver = _is_unbound_method(fn, target, signature)
    bound_by_partial = _partial_keywords(fn)
    kept: list[inspect.Parameter] = []
    annotations: dict[str, Any] = {}
    annotated_docs: dict[str, str] = {}
    injections: list[Injection] = []
    call_order: list[Injection | None] = []
    for index, param in enumerate(signature.parameters.values()):
        # def method(self, ...) decorated in a class body: the instance is bound later
        if index == 0 and skip_receiver:
            continue
        # partial(f, rate=0.9): inspect keeps `rate` as an overridable keyword; the model
        # must not override what the developer bound
        if param.name in bound_by_partial:
            continue
        hint = hints.get(param.name, param.annotation)
        injection_kind = _injection_kind(hint)
        if injection_kind is not None:
            # def f(ctx: Context[Deps], ...) or db: Annotated[Db, Injected]: filled at call time
            injection = Injection(param.name, injection_kind, param.kind in _POSITIONAL)
            injections.append(injection)
            if injection.positional:
                call_order.append(injection)
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            # def f(*args): a model sends named arguments only, so there is nothing to map to
            problems.append(
                DefinitionProblem(
                    qualname,
                    param.name,
                    f"*{param.name} cannot be filled from named JSON arguments; replace it "
                    f"with a list parameter, e.g. {param.name}: list[str]",
                )
            )
            continue
        if hint is inspect.Parameter.empty:
            # def f(x): untyped, accepted as Any unless the caller asked for strictness
            if require_types or param.kind is inspect.Parameter.VAR_KEYWORD:
                what = f"**{param.name}" if param.kind is inspect.Parameter.VAR_KEYWORD else ""
                problems.append(
                    DefinitionProblem(
                        qualname,
                        param.name,
                        f"{what or 'it'} has no type annotation; annotate it "
                        # the fix for **kwargs is `**kwargs: str`, not `kwargs: str`
                        f"(e.g. {what or param.name}: str) so the model knows what to send",
                    )
                )
                continue
            hint = Any
        if param.kind in _POSITIONAL:
            call_order.append(None)
        annotated_doc = _annotated_description(hint)
        if annotated_doc is not None:
            annotated_docs[param.name] = annotated_doc
        annotations[param.name] = hint
        kept.append(param.replace(annotation=hint))

    _check_documented_params(
        parsed_doc.params,
        target=target,
        signature=signature,
        qualname=qualname,
        mode=docstring_mismatch,
        problems=problems,
    )
    if param_descriptions:
        known = {p.name for p in kept}
        problems.extend(
            DefinitionProblem(
                qualname, p, "has a description in param_descriptions but no such parameter"
            )
            for p in param_descriptions
            if p not in known
        )
    if problems:
        # Report unsupported types too, so one error lists everything to fix.
        problems.extend(_type_problems(kept, qualname))
        raise ToolDefinitionError(problems)

    core = _arguments_core_schema(kept, annotations, qualname)
    parameters = _arguments_json_schema(core, qualname)
    _describe_properties(parameters, param_descriptions or {}, annotated_docs, parsed_doc.params)

    return FunctionSchema(
        name=tool_name,
        qualname=qualname,
        description=description if description is not None else parsed_doc.description,
        parameters=parameters,
        validator=SchemaValidator(_lean(core)),
        injections=tuple(injections),
        call_order=tuple(call_order) if injections else (),
        is_async=_is_async(fn, target),
        return_annotation=hints.get("return", signature.return_annotation),
    )


def _underlying_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The plain function whose annotations and docstring describe ``fn``."""
    while True:
        if isinstance(fn, functools.partial):
            fn = fn.func  # pyright: ignore[reportUnknownMemberType]
        elif isinstance(fn, (types.MethodType, staticmethod, classmethod)):
            fn = fn.__func__  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        elif hasattr(fn, "__wrapped__"):
            fn = inspect.unwrap(fn)
            if hasattr(fn, "__wrapped__"):  # unwrap stopped on a loop
                return fn
        elif not isinstance(fn, (types.FunctionType, types.BuiltinFunctionType)):
            call = _class_call(fn)
            if call is None or isinstance(fn, type):
                return fn
            fn = call
        else:
            return fn


def _partial_keywords(fn: Callable[..., Any]) -> frozenset[str]:
    names: set[str] = set()
    while isinstance(fn, functools.partial):
        names.update(fn.keywords)  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        fn = fn.func  # pyright: ignore[reportUnknownMemberType]
    return frozenset(names)


def _class_call(fn: object) -> Any:
    """The ``__call__`` function of ``fn``'s class (what a callable object runs)."""
    return type(fn).__dict__.get("__call__") or getattr(type(fn), "__call__", None)  # noqa: B004


def _default_name(fn: Callable[..., Any], target: Callable[..., Any]) -> str:
    if isinstance(fn, types.FunctionType | types.MethodType | functools.partial) or (
        target is not _class_call(fn)
    ):
        return str(getattr(target, "__name__", type(fn).__name__))  # pyright: ignore[reportUnknownArgumentType]
    return type(fn).__name__  # a callable object is named after its class


def _docstring_of(fn: Callable[..., Any], target: Callable[..., Any]) -> str | None:
    doc = getattr(target, "__doc__", None)
    if doc is None and target is _class_call(fn):
        doc = type(fn).__doc__
    return doc


def _is_async(fn: Callable[..., Any], target: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(target)


def _is_unbound_method(
    fn: Callable[..., Any], target: Callable[..., Any], signature: inspect.Signature
) -> bool:
    """True for ``def m(self, ...)`` reached through the class body, not through an instance."""
    if isinstance(fn, classmethod):
        return True
    if not isinstance(fn, types.FunctionType):
        return False
    scope = fn.__qualname__.rsplit(".", 2)
    first = next(iter(signature.parameters), None)
    return len(scope) >= 2 and scope[-2] != "<locals>" and first in _METHOD_RECEIVERS


def _resolve_hints(
    target: Callable[..., Any],
    localns: Mapping[str, Any] | None,
    qualname: str,
    problems: list[DefinitionProblem],
) -> dict[str, Any]:
    local = dict(localns) if localns else None
    try:
        return get_type_hints(target, localns=local, include_extras=True)
    except Exception:
        pass
    # Find which annotation fails, so the error can name it.
    hints: dict[str, Any] = {}
    raw: dict[str, Any] = dict(getattr(target, "__annotations__", {}))
    globalns = getattr(target, "__globals__", {})
    for key, annotation in raw.items():
        probe = types.FunctionType((lambda: None).__code__, globalns)
        probe.__annotations__ = {key: annotation}
        try:
            hints[key] = get_type_hints(probe, localns=local, include_extras=True)[key]
        except Exception as exc:
            where = None if key == "return" else key
            problems.append(
                DefinitionProblem(
                    qualname,
                    where,
                    f"annotation {annotation!r} cannot be resolved ({exc}); define or import "
                    "the type at module level",
                )
            )
    return hints


def _injection_kind(hint: Any) -> InjectionKind | None:
    if get_origin(hint) is Annotated:
        inner, *metadata = get_args(hint)
        if any(is_injected_marker(m) for m in metadata):
            return "deps"
        hint = inner
    if get_origin(hint) in (Union, types.UnionType):
        # ctx: Context | None = None (so that direct calls may omit it) is still the call's
        # context; left in the schema, it would let the model forge one.
        members = [a for a in get_args(hint) if a is not type(None)]
        if len(members) == 1:
            hint = members[0]
    if hint is Context or get_origin(hint) is Context:
        return "context"
    return None


def _annotated_description(hint: Any) -> str | None:
    """``Annotated[int, "How many"]``: the bare string is the parameter's description."""
    if get_origin(hint) is not Annotated:
        return None
    for item in get_args(hint)[1:]:
        if isinstance(item, str):
            return item
    return None


def _check_documented_params(
    documented: Mapping[str, str],
    *,
    target: Callable[..., Any],
    signature: inspect.Signature,
    qualname: str,
    mode: Literal["error", "warn"],
    problems: list[DefinitionProblem],
) -> None:
    if not documented:
        return
    try:
        known = set(inspect.signature(target).parameters) | set(signature.parameters)
    except (TypeError, ValueError):
        known = set(signature.parameters)
    for name in documented:
        if name in known:
            continue
        message = (
            "is documented in the docstring but is not a parameter; fix the docstring "
            "or the signature (or pass docstring_mismatch='warn')"
        )
        if mode == "warn":
            warnings.warn(f"{qualname}: parameter {name!r} {message}", UserWarning, stacklevel=4)
        else:
            problems.append(DefinitionProblem(qualname, name, message))


def _arguments_core_schema(
    params: list[inspect.Parameter], annotations: dict[str, Any], qualname: str
) -> CoreSchema:
    def carrier() -> None: ...

    # pydantic reads the signature and the (already resolved) annotations of this stand-in,
    # which has exactly the parameters the model fills, whatever `fn` was.
    carrier.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    carrier.__annotations__ = annotations
    carrier.__qualname__ = qualname
    try:
        if not params:
            return core_schema.arguments_v3_schema([])
        return _generate().arguments_schema(carrier)
    except (*_generate().GENERATION_ERRORS, TypeError, NameError) as exc:
        raise _diagnose(params, qualname, exc) from exc


def _lean(schema: Any) -> Any:
    """A copy of the core schema without the ``metadata`` pydantic keeps for JSON Schema
    generation: the validator holds its schema for life, and that metadata (field infos,
    JSON Schema hooks) is most of a tool's memory. Only our own nodes are copied; the
    schemas of models and other shared types (and the definitions list) stay shared."""
    if isinstance(schema, dict):
        node = cast("dict[str, Any]", schema)
        kind = node.get("type")
        if kind in _SHARED_SCHEMA_TYPES:
            return node
        if kind == "definitions":  # the arguments sit under "schema"; the defs are shared
            return {**node, "schema": _lean(node["schema"])}
        return {k: _lean(v) for k, v in node.items() if k != "metadata"}
    if isinstance(schema, list):
        return [_lean(item) for item in cast("list[Any]", schema)]
    return schema


_SHARED_SCHEMA_TYPES = frozenset({"model", "dataclass", "definition-ref"})


def _arguments_json_schema(core: CoreSchema, qualname: str) -> dict[str, Any]:
    try:
        generated: dict[str, Any] = _generate().json_schema_of(core)
    except Exception as exc:  # pydantic raises several types here; all mean the same
        raise ToolDefinitionError.single(
            qualname, None, f"its arguments have no JSON Schema ({exc})"
        ) from exc
    schema: dict[str, Any] = {"type": "object", "properties": generated.get("properties", {})}
    if generated.get("required"):
        schema["required"] = generated["required"]
    extra = generated.get("additionalProperties", False)
    schema["additionalProperties"] = extra
    if "$defs" in generated:
        schema["$defs"] = generated["$defs"]
    _strip_titles(schema)
    return schema


def _diagnose(
    params: list[inspect.Parameter], qualname: str, exc: Exception
) -> ToolDefinitionError:
    """Point at the parameter whose type pydantic cannot handle."""
    problems = _type_problems(params, qualname)
    if not problems:
        problems.append(DefinitionProblem(qualname, None, str(exc).splitlines()[0]))
    return ToolDefinitionError(problems)


def _type_problems(params: list[inspect.Parameter], qualname: str) -> list[DefinitionProblem]:
    """One problem per parameter whose type pydantic cannot build a schema for."""
    problems: list[DefinitionProblem] = []
    for param in params:
        try:
            _generate().TypeAdapter(param.annotation)
        except Exception as inner:
            first_line = str(inner).splitlines()[0]
            problems.append(
                DefinitionProblem(
                    qualname,
                    param.name,
                    f"type {param.annotation!r} is not supported ({first_line}); use a type "
                    "pydantic can validate (BaseModel, dataclass, TypedDict, builtins...)",
                )
            )
    return problems


def _describe_properties(
    schema: dict[str, Any],
    explicit: Mapping[str, str],
    annotated: Mapping[str, str],
    documented: Mapping[str, str],
) -> None:
    """Fill property descriptions: decorator argument > Field/Annotated > docstring."""
    for prop_name, prop in schema["properties"].items():
        text = explicit.get(prop_name)
        if text is None and "description" not in prop:
            text = annotated.get(prop_name) or documented.get(prop_name)
        if text:
            prop["description"] = text


def _strip_titles(schema: Any) -> None:
    """Remove the ``title`` keyword (never a property that happens to be named title)."""
    if isinstance(schema, dict):
        schema.pop("title", None)  # pyright: ignore[reportUnknownMemberType]
        for key, value in schema.items():  # pyright: ignore[reportUnknownVariableType]
            if key in ("properties", "$defs", "patternProperties"):
                for sub in value.values():  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
                    _strip_titles(sub)
            elif key not in ("default", "enum", "const", "examples"):
                _strip_titles(value)
    elif isinstance(schema, list):
        for item in schema:  # pyright: ignore[reportUnknownVariableType]
            _strip_titles(item)


def _generate() -> types.ModuleType:
    """pydantic's schema generation, imported on first use: it is most of pydantic's import
    time, and ``import toolkit`` must stay cheap for programs that only import it."""
    from toolkit import _generate as module  # noqa: PLC0415 - deferred on purpose

    return module


def caller_namespace(depth: int) -> dict[str, Any] | None:
    """The local names of the scope ``depth`` frames up, to resolve local forward references."""
    frame = sys._getframe(depth + 1)  # pyright: ignore[reportPrivateUsage]
    if frame.f_code.co_name == "<module>":
        return None  # module scope: globals already cover it
    return dict(frame.f_locals)


def return_json_schema(annotation: Any) -> dict[str, Any] | None:
    """The JSON Schema of what a function returns (serialisation side), or ``None`` when the
    return is unannotated or ``None``."""
    if annotation is inspect.Parameter.empty or annotation is None or annotation is type(None):
        return None
    schema = _generate().return_schema_of(annotation)
    _strip_titles(schema)
    return schema
