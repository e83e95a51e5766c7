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
import math
import re
import sys
import types
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin, get_type_hints

from pydantic_core import CoreConfig, CoreSchema, SchemaValidator, ValidationError, core_schema

from toolkit._json_schema import Repair, arguments_validator, normalise
from toolkit._lossless import decode_json_text
from toolkit.context import Context, is_injected_marker
from toolkit.docstrings import parse_docstring
from toolkit.errors import DefinitionProblem, ToolDefinitionError

__all__ = [
    "MAX_NAMESPACE_CHARS",
    "FunctionSchema",
    "InjectionKind",
    "build_function_schema",
    "name_problem",
    "namespace_problem",
    "namespaced",
    "plan_from_json_schema",
    "renamed",
    "return_json_schema",
]

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
        repairs: What was changed in a JSON Schema received from elsewhere to make it the
            neutral schema (``plan_from_json_schema``); empty for a function's own.
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
    repairs: tuple[Repair, ...] = ()


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
    naming = name_problem(tool_name)
    if naming is not None:
        problems.append(DefinitionProblem(qualname, None, naming))

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
    parameters, floats_in_classes = _arguments_json_schema(core, qualname)
    _describe_properties(parameters, param_descriptions or {}, annotated_docs, parsed_doc.params)

    return FunctionSchema(
        name=tool_name,
        qualname=qualname,
        description=description if description is not None else parsed_doc.description,
        parameters=parameters,
        validator=SchemaValidator(
            _validation_schema(core, floats_in_classes),
            CoreConfig(title=tool_name, allow_inf_nan=False),
        ),
        injections=tuple(injections),
        call_order=tuple(call_order) if injections else (),
        is_async=_is_async(fn, target),
        return_annotation=hints.get("return", signature.return_annotation),
    )


def plan_from_json_schema(
    fn: Callable[..., Any],
    parameters: object,
    *,
    name: str,
    description: str = "",
    owner: str | None = None,
) -> FunctionSchema:
    """The plan of a tool whose arguments a JSON Schema describes (not a signature): the
    schema normalised (its repairs kept in ``repairs``) and compiled into a validator that
    returns ``((), arguments)``, so ``fn`` is called as ``fn(**arguments)``.

    Raises:
        ToolDefinitionError: the name is not usable, or the schema cannot be used.
    """
    qualname = owner or f"tool {name!r}"
    naming = name_problem(name)
    if naming is not None:
        raise ToolDefinitionError.single(qualname, None, naming)
    neutral, repairs = normalise(parameters, qualname)
    return FunctionSchema(
        name=name,
        qualname=qualname,
        description=description,
        parameters=neutral,
        validator=arguments_validator(neutral, name),
        injections=(),
        call_order=(),
        is_async=inspect.iscoroutinefunction(fn),
        return_annotation=inspect.Parameter.empty,
        repairs=repairs,
    )


def name_problem(name: str) -> str | None:
    """What is wrong with ``name`` as a tool name, or ``None`` when it is usable."""
    if isinstance(name, str) and _NAME_RE.match(name) and len(name) <= 128:  # pyright: ignore[reportUnnecessaryIsInstance] - callers pass anything
        return None
    return (
        f"{name!r} is not a usable tool name; pass name='...' made of letters, "
        "digits and '_ - . : /' (start with a letter or '_'), at most 128 characters"
    )


# A namespace joins its tool names with one "_": made of letters and digits in runs that
# single "_" or "-" separate, so no joined name has a doubled, leading or trailing separator.
_NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)*$")
MAX_NAMESPACE_CHARS = 32
# What every provider accepts in a function name: OpenAI, Anthropic and Gemini allow 64
# characters of letters, digits, "_" and "-".
_PORTABLE_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")


def namespaced(namespace: str, name: str) -> str:
    """``name`` in ``namespace``: ``"files"`` and ``"read"`` give ``"files_read"``
    (the name's leading underscores dropped, so the separator is never doubled)."""
    return f"{namespace}_{name.lstrip('_')}"


def namespace_problem(namespace: str, name: str | None = None) -> str | None:
    """What is wrong with ``namespace`` (and the tool ``name`` joined to it), or ``None``."""
    if not (
        isinstance(namespace, str)  # pyright: ignore[reportUnnecessaryIsInstance] - callers pass anything
        and _NAMESPACE_RE.match(namespace)
        and len(namespace) <= MAX_NAMESPACE_CHARS
    ):
        return (
            f"{namespace!r} is not a usable namespace: use letters and digits, with single"
            f" '_' or '-' between them, starting with a letter, at most {MAX_NAMESPACE_CHARS}"
            " characters (e.g. 'unit_convert')"
        )
    if name is not None:
        if not name.strip("_"):  # joined, it would end in a doubled separator
            return f"the tool name {name!r} is only underscores: give it a name to namespace"
        joined = namespaced(namespace, name)
        if not _PORTABLE_NAME_RE.match(joined):
            return (
                f"{joined!r} (tool {name!r} in namespace {namespace!r}) is not a name every"
                " provider accepts: at most 64 letters, digits, '_' and '-';"
                " rename the tool or choose a shorter namespace"
            )
    return None


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


@functools.cache
def _fail_fast_kinds() -> frozenset[str]:
    """The container schemas this pydantic-core can stop at their first error (asked once:
    older releases know the option for fewer kinds)."""
    probes: dict[str, CoreSchema] = {
        "list": core_schema.list_schema(core_schema.int_schema()),
        "tuple": core_schema.tuple_schema([core_schema.int_schema()]),
        "set": core_schema.set_schema(core_schema.int_schema()),
        "frozenset": core_schema.frozenset_schema(core_schema.int_schema()),
        "dict": core_schema.dict_schema(core_schema.str_schema(), core_schema.int_schema()),
    }
    known: set[str] = set()
    for kind, probe in probes.items():
        try:
            SchemaValidator(cast("CoreSchema", {**probe, "fail_fast": True}))
        except Exception:  # an unknown option: this kind cannot stop early here
            continue
        known.add(kind)
    return frozenset(known)


def _lean(schema: Any, finite: _FiniteFloats | None = None) -> Any:
    """A copy of the core schema without the ``metadata`` pydantic keeps for JSON Schema
    generation: the validator holds its schema for life, and that metadata (field infos,
    JSON Schema hooks) is most of a tool's memory. Only our own nodes are copied; the
    schemas of models and other shared types (and the definitions list) stay shared.

    On the way, a TypedDict gets toolkit's ``allow_inf_nan=False`` unless it sets its own,
    and with ``finite``, a model or dataclass holding a float is followed by a check of its
    floats (see ``_FiniteFloats``)."""
    if isinstance(schema, dict):
        node = cast("dict[str, Any]", schema)
        kind = node.get("type")
        if kind in _SHARED_SCHEMA_TYPES:
            return node if finite is None else finite.shared(node)
        if kind == "definitions":  # the arguments sit under "schema"; the defs are shared
            definitions = node["definitions"]
            if finite is not None:
                definitions = finite.walk_items(definitions, definitions=True)[0]
            return {**node, "schema": _lean(node["schema"], finite), "definitions": definitions}
        copied = {k: _lean(v, finite) for k, v in node.items() if k != "metadata"}
        if kind in _fail_fast_kinds() and "fail_fast" not in copied:
            # Stop a container at its first bad item: a model sending a million invalid
            # values costs one error, not a million (the model is told the first problems).
            copied["fail_fast"] = True
        if kind == "typed-dict":
            config: dict[str, Any] = copied.get("config") or {}
            if "allow_inf_nan" not in config:
                copied["config"] = {**config, "allow_inf_nan": False}
        return copied
    if isinstance(schema, (list, tuple)):
        items = [_lean(item, finite) for item in cast("list[Any]", schema)]
        return items if isinstance(schema, list) else tuple(items)
    return schema


_SHARED_SCHEMA_TYPES = frozenset({"model", "dataclass", "definition-ref"})


def _validation_schema(core: CoreSchema, floats_in_classes: bool) -> CoreSchema:
    """The core schema the validator runs: lean (see ``_lean``), with the JSON text sent for
    a parameter of unknown type decoded, and non-finite floats refused by default.

    The validator's own config (``allow_inf_nan=False``) reaches every float of the
    arguments themselves; ``_lean`` carries the same default into TypedDicts, and into
    models and dataclasses (which validate under their own config) when they hold a float.
    """
    finite = _FiniteFloats(cast("dict[str, Any]", core)) if floats_in_classes else None
    lean = cast("dict[str, Any]", _lean(core, finite))
    arguments = lean["schema"] if lean.get("type") == "definitions" else lean
    for parameter in arguments.get("arguments_schema", ()):
        if parameter.get("mode", "").startswith("var_"):
            continue  # **kwargs: its entries are values of their own, not JSON text
        parameter["schema"] = _decoding_json_text(parameter["schema"])
    return cast("CoreSchema", lean)


# Wrappers that validate their inner schema against the same input.
_SAME_INPUT = frozenset(
    {"default", "nullable", "function-after", "function-before", "function-wrap"}
)


def _decoding_json_text(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each place that takes a value of unknown type directly (``Any``, an
    untyped parameter, ``Any | None``) decoding JSON text first (``decode_json_text``).
    Changes only the lean copy (our own nodes); a tool without such a parameter keeps its
    schema and pays nothing per call."""
    kind = schema.get("type")
    if kind == "any":
        return cast(
            "dict[str, Any]",
            core_schema.no_info_before_validator_function(decode_json_text, cast("Any", schema)),
        )
    if kind in _SAME_INPUT:
        schema["schema"] = _decoding_json_text(schema["schema"])
    elif kind == "union":
        choices: list[Any] = schema["choices"]
        schema["choices"] = [_choice_decoding_json_text(choice) for choice in choices]
    return schema


def _choice_decoding_json_text(choice: Any) -> Any:
    """A union choice: a schema, or a ``(schema, label)`` pair."""
    if isinstance(choice, tuple):
        schema, label = cast("tuple[dict[str, Any], str]", choice)
        return (_decoding_json_text(schema), label)
    return _decoding_json_text(cast("dict[str, Any]", choice))


# -- non-finite floats ---------------------------------------------------------------------------
#
# pydantic validates each model, dataclass and TypedDict under its own config, not the
# enclosing one, and pydantic-core reuses a model's (or pydantic dataclass's) own compiled
# validator wherever the model appears, whatever its schema says there. So the validator's
# config reaches the arguments' own floats only. Beyond them:
#
# - a TypedDict is compiled from the tool's schema: its config gets ``allow_inf_nan=False``;
# - a model or dataclass keeps its own validator, followed by a check of the floats it
#   validated (a plan made once from its schema; nothing runs for one without such floats).
#
# pydantic writes ``allow_inf_nan`` into a class's core config only when the class sets it,
# so an explicit setting (``ConfigDict(allow_inf_nan=True)``, or False) is left to decide,
# as is ``Field(allow_inf_nan=...)`` on a single float.

# Keys of a core schema that hold the schemas it validates with (serialisation and metadata
# keys are left out: they do not validate).
_SUBSCHEMA_KEYS = frozenset(
    {
        "schema",
        "items_schema",
        "keys_schema",
        "values_schema",
        "choices",
        "fields",
        "arguments_schema",
        "definitions",
        "steps",
        "lax_schema",
        "strict_schema",
        "json_schema",
        "python_schema",
        "return_schema",
        "var_args_schema",
        "var_kwargs_schema",
        "extras_schema",
        "extras_keys_schema",
    }
)
_CLASSES = frozenset({"model", "dataclass"})
_MAX_REPORTED = 20  # non-finite floats reported per value; the rest would say nothing new

# A plan says where the floats to check are in a validated value:
#   ("float",)                     the value itself
#   ("class", cls, plan)           the value, if it is an instance of ``cls``
#   ("attrs", ((name, loc, plan), ...))  attributes of a model or dataclass instance
#   ("keys", ((name, loc, plan), ...))   keys of a TypedDict
#   ("items", plan)                every item of a list, tuple, set or frozenset
#   ("positions", (plan | None, ...))  the items of a fixed tuple, each with its own plan
#   ("values", plan)               every value of a dict
#   ("any", (plan, ...))           each plan in turn (a union)
#   ("ref", [plan | None])         a definition's plan, filled once known (recursion)
#   ("root", plan)                 the ``root`` of a RootModel
_Plan = tuple[Any, ...]
_FLOAT: _Plan = ("float",)


class _FiniteFloats:
    """One walk over a tool's (lean) core schema; see the comment above."""

    def __init__(self, root: dict[str, Any]) -> None:
        listed: list[Any] = root.get("definitions", []) if root.get("type") == "definitions" else []
        self.defs: dict[str, dict[str, Any]] = {d["ref"]: d for d in listed if "ref" in d}
        self.plans: dict[str, list[_Plan | None]] = {}
        self.pending: set[str] = set()

    def shared(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A model, dataclass or reference in the tool's own schema, checked if need be."""
        if schema.get("type") in _CLASSES:
            return self.checked(schema, self.class_plan(schema))
        target = self.defs.get(schema.get("schema_ref", ""), {})
        if target.get("type") in _CLASSES:
            return self.checked(schema, self.ref_plan(schema["schema_ref"]))
        return schema  # the definition itself is handled with the definitions

    def walk(self, node: Any) -> tuple[Any, bool]:
        """``node`` ready to refuse non-finite floats, and whether it holds a float left to
        the enclosing config. Nodes are copied only on the way to a change: shared schemas
        stay shared."""
        if isinstance(node, (list, tuple)):
            return self.walk_items(cast("list[Any] | tuple[Any, ...]", node))
        if not isinstance(node, dict):
            return node, False
        schema = cast("dict[str, Any]", node)
        kind = schema.get("type")
        if kind == "float":
            return schema, "allow_inf_nan" not in schema  # Field(allow_inf_nan=...) decides
        if kind in _CLASSES:
            return self.checked(schema, self.class_plan(schema)), False
        if kind == "definition-ref":
            target = self.defs.get(schema["schema_ref"], {})
            if target.get("type") in _CLASSES:
                return self.checked(schema, self.ref_plan(schema["schema_ref"])), False
            return schema, False  # the definition itself is walked with the definitions
        # A schema walks its sub-schema keys; a mapping of fields or choices walks every
        # value (a field may be named "type", so only a string type marks a schema).
        is_schema = isinstance(kind, str)
        loose = False
        updates: dict[str, Any] = {}
        for key, value in schema.items():
            if (is_schema and key not in _SUBSCHEMA_KEYS) or not isinstance(
                value, (dict, list, tuple)
            ):
                continue
            if kind == "definitions" and key == "definitions":
                new, value_loose = self.walk_items(cast("list[Any]", value), definitions=True)
            else:
                new, value_loose = self.walk(value)
            loose = loose or value_loose
            if new is not value:
                updates[key] = new
        if kind == "typed-dict":
            config: dict[str, Any] = schema.get("config") or {}
            if loose and "allow_inf_nan" not in config:
                updates["config"] = {**config, "allow_inf_nan": False}
            loose = False  # its floats follow its own config, not the enclosing one
        return ({**schema, **updates} if updates else schema), loose

    def walk_items(
        self, items: list[Any] | tuple[Any, ...], *, definitions: bool = False
    ) -> tuple[Any, bool]:
        loose = False
        changed: list[Any] | None = None
        for index, item in enumerate(items):
            if definitions and isinstance(item, dict) and cast("Any", item).get("type") in _CLASSES:
                continue  # a model among the definitions: checked where it is referenced
            new, item_loose = self.walk(item)
            loose = loose or item_loose
            if new is not item:
                changed = changed if changed is not None else list(items)
                changed[index] = new
        if changed is None:
            return items, loose
        return (tuple(changed) if isinstance(items, tuple) else changed), loose

    def checked(self, schema: dict[str, Any], plan: _Plan | None) -> dict[str, Any]:
        """``schema`` followed by a check of the floats ``plan`` points at."""
        if plan is None or not _reaches_float(plan, set()):
            return schema  # (a recursive model without floats has a plan of references)
        inner = {k: v for k, v in schema.items() if k != "ref"}
        return cast(
            "dict[str, Any]",
            core_schema.no_info_after_validator_function(
                _finite_check(plan), cast("Any", inner), ref=schema.get("ref")
            ),
        )

    # -- plans: where a model or dataclass holds a float its own config lets through ---------

    def ref_plan(self, ref: str) -> _Plan | None:
        holder = self.plans.get(ref)
        if holder is None:
            holder = self.plans[ref] = [None]
            self.pending.add(ref)  # a recursive definition reaches itself: the holder fills
            holder[0] = self.plan(self.defs.get(ref), explicit=False)
            self.pending.discard(ref)
        return ("ref", holder) if holder[0] is not None or ref in self.pending else None

    def class_plan(self, schema: dict[str, Any]) -> _Plan | None:
        config: dict[str, Any] = schema.get("config") or {}
        inner = self.plan(schema.get("schema"), explicit="allow_inf_nan" in config)
        if inner is None:
            return None
        return ("class", schema["cls"], ("root", inner) if schema.get("root_model") else inner)

    def plan(self, node: Any, *, explicit: bool) -> _Plan | None:
        """The plan of ``node`` under a config that sets ``allow_inf_nan`` (``explicit``) or
        not; ``None`` when it holds no float to check."""
        if not isinstance(node, dict):
            return None
        schema = cast("dict[str, Any]", node)
        kind = schema.get("type")
        if kind == "float":
            return None if explicit or "allow_inf_nan" in schema else _FLOAT
        if kind in _CLASSES:
            return self.class_plan(schema)
        if kind == "definition-ref":
            return self.ref_plan(schema["schema_ref"])
        if kind == "definitions":
            for definition in schema.get("definitions", []):
                self.defs.setdefault(definition.get("ref", ""), definition)
            return self.plan(schema.get("schema"), explicit=explicit)
        if kind in ("model-fields", "typed-dict"):
            fields: dict[str, Any] = schema.get("fields", {})
            own = kind == "typed-dict" and "allow_inf_nan" in (schema.get("config") or {})
            return self.fields_plan(
                "attrs" if kind == "model-fields" else "keys", fields.items(), explicit or own
            )
        if kind == "dataclass-args":
            listed = [(f["name"], f) for f in schema.get("fields", [])]
            return self.fields_plan("attrs", listed, explicit)
        if kind in ("list", "set", "frozenset", "dict"):
            key = "values_schema" if kind == "dict" else "items_schema"
            inner = self.plan(schema.get(key), explicit=explicit)
            return None if inner is None else ("values" if kind == "dict" else "items", inner)
        if kind == "tuple":
            items: list[Any] = schema.get("items_schema", [])
            if "variadic_item_index" in schema:
                inner = self.any_of(items, explicit)
                return None if inner is None else ("items", inner)
            plans = tuple(self.plan(item, explicit=explicit) for item in items)
            return ("positions", plans) if any(plans) else None
        if kind in ("union", "tagged-union"):
            choices: Any = schema.get("choices", [])
            listed: list[Any] = list(choices.values() if isinstance(choices, dict) else choices)  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
            return self.any_of([c[0] if isinstance(c, tuple) else c for c in listed], explicit)
        if kind in ("lax-or-strict", "json-or-python"):
            sides = ("lax_schema", "strict_schema", "json_schema", "python_schema")
            return self.any_of([schema.get(side) for side in sides], explicit)
        return self.plan(schema.get("schema"), explicit=explicit)  # nullable, default, ...

    def any_of(self, nodes: list[Any], explicit: bool) -> _Plan | None:
        found = tuple(p for p in (self.plan(n, explicit=explicit) for n in nodes) if p)
        if not found:
            return None
        return found[0] if len(found) == 1 else ("any", found)

    def fields_plan(self, kind: str, fields: Any, explicit: bool) -> _Plan | None:
        entries: list[tuple[str, Any, _Plan]] = []
        for name, field in fields:
            inner = self.plan(field.get("schema"), explicit=explicit)
            if inner is not None:
                alias = field.get("validation_alias")
                entries.append((name, alias if isinstance(alias, str) else name, inner))
        return (kind, tuple(entries)) if entries else None


def _finite_check(plan: _Plan) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        found: list[tuple[tuple[str | int, ...], float]] = []
        _find_non_finite(value, plan, (), found)
        if found:
            raise ValidationError.from_exception_data(
                "finite",
                [{"type": "finite_number", "loc": loc, "input": bad} for loc, bad in found],
            )
        return value

    return check


def _find_non_finite(
    value: Any,
    plan: _Plan,
    loc: tuple[str | int, ...],
    found: list[tuple[tuple[str | int, ...], float]],
) -> None:
    if len(found) >= _MAX_REPORTED:
        return
    kind = plan[0]
    if kind == "float":
        if isinstance(value, float) and not math.isfinite(value):
            found.append((loc, value))
    elif kind == "class":
        if isinstance(value, plan[1]):
            _find_non_finite(value, plan[2], loc, found)
    elif kind == "attrs":
        for name, key, inner in plan[1]:
            item = getattr(value, name, _ABSENT)
            if item is not _ABSENT:
                _find_non_finite(item, inner, (*loc, key), found)
    elif kind == "keys":
        if isinstance(value, dict):
            mapping = cast("dict[str, Any]", value)
            for name, key, inner in plan[1]:
                if name in mapping:
                    _find_non_finite(mapping[name], inner, (*loc, key), found)
    elif kind == "items":
        if isinstance(value, (list, tuple, set, frozenset)):
            for index, item in enumerate(cast("Any", value)):
                _find_non_finite(item, plan[1], (*loc, index), found)
    elif kind == "positions":
        if isinstance(value, tuple):
            for index, (item, inner) in enumerate(zip(cast("Any", value), plan[1], strict=False)):
                if inner is not None:
                    _find_non_finite(item, inner, (*loc, index), found)
    elif kind == "values":
        if isinstance(value, dict):
            for key, item in cast("dict[Any, Any]", value).items():
                _find_non_finite(item, plan[1], (*loc, key), found)
    elif kind == "any":
        before = len(found)
        for inner in plan[1]:
            _find_non_finite(value, inner, loc, found)
            if len(found) > before:
                return
    elif kind == "ref":
        inner = plan[1][0]
        if inner is not None:
            _find_non_finite(value, inner, loc, found)
    elif kind == "root":
        _find_non_finite(getattr(value, "root", None), plan[1], loc, found)


_ABSENT = object()


def _reaches_float(plan: _Plan | None, seen: set[int]) -> bool:
    """Whether ``plan`` leads to a float at all (through references, each followed once)."""
    if plan is None:
        return False
    kind = plan[0]
    if kind == "float":
        return True
    if kind == "ref":
        holder = cast("list[_Plan | None]", plan[1])
        if id(holder) in seen:
            return False
        seen.add(id(holder))
        return _reaches_float(holder[0], seen)
    if kind == "class":
        return _reaches_float(plan[2], seen)
    if kind in ("attrs", "keys"):
        return any(_reaches_float(inner, seen) for _, _, inner in plan[1])
    if kind in ("any", "positions"):
        return any(_reaches_float(inner, seen) for inner in plan[1])
    return _reaches_float(plan[1], seen)  # items, values, root


def _arguments_json_schema(core: CoreSchema, qualname: str) -> tuple[dict[str, Any], bool]:
    """The neutral JSON Schema of the arguments, and whether a model, dataclass or TypedDict
    in them holds a float."""
    try:
        generated, floats_in_classes = cast(
            "tuple[dict[str, Any], bool]", _generate().json_schema_of(core)
        )
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
    return schema, floats_in_classes


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


def renamed(schema: FunctionSchema, name: str) -> FunctionSchema:
    """``schema`` for a copy of the tool named ``name``: the same plan, with a validator
    whose errors are titled ``name`` (compiled again, so only when the name changes)."""
    if name == schema.name:
        return schema
    # A SchemaValidator pickles as (core schema, config, ...): what it was compiled from.
    arguments = cast("tuple[Any, ...]", schema.validator.__reduce__()[1])
    titled = cast("CoreConfig", {**(arguments[1] or {}), "title": name})
    return replace(schema, name=name, validator=SchemaValidator(arguments[0], titled))


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
