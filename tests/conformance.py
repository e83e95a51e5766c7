"""Offline conformance checkers for the tool definitions each provider accepts.

Every checker encodes the rules a provider *publishes* for a tool (function) definition and
returns each violation as ``"<JSON path>: <what is wrong>"``; an empty list means the
definition conforms. ``docs/providers.md`` summarises the same rules as a table.

Reading rules:

* Where a provider's own documents disagree (an older page against a newer one, the Gemini
  Developer API against Vertex AI), the checker keeps the stricter reading, so a definition
  that passes is accepted everywhere the format is used. Each such choice is commented.
* Strict-mode keyword lists are allow-lists built from the documented *supported* features:
  a keyword the provider does not list is reported, whether or not a rejection was seen.
* Limits that providers apply per request (Anthropic) are checked per definition, which is
  the most a single definition can be held to.

Formats (the ``format`` argument of :func:`check_definition`):

``openai``            Chat Completions ``{"type": "function", "function": {...}}``
``openai-responses``  Responses API flat ``{"type": "function", "name", ...}``
``anthropic``         Messages API ``{"name", "description", "input_schema"}``
``workers-ai``        Cloudflare Workers AI flat ``{"name", "description", "parameters"}``
``gemini``            Gemini ``FunctionDeclaration`` with an OpenAPI-subset ``parameters``
``mcp``               MCP ``Tool`` object (``tools/list`` entry)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator

__all__ = [
    "FORMATS",
    "STRICT_FORMATS",
    "check_anthropic",
    "check_definition",
    "check_gemini",
    "check_mcp",
    "check_openai_chat",
    "check_openai_responses",
    "check_workers_ai",
]

FORMATS: Final = ("openai", "openai-responses", "anthropic", "workers-ai", "gemini", "mcp")
"""Every format :func:`check_definition` knows."""

STRICT_FORMATS: Final = ("openai", "openai-responses", "anthropic")
"""The formats that have a strict (grammar-constrained) mode."""

# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------
# OpenAI
#   function calling (strict mode): https://platform.openai.com/docs/guides/function-calling
#   supported schemas:  https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
#   Chat tool object:   https://platform.openai.com/docs/api-reference/chat/create#chat-create-tools
#   Responses tool:     https://platform.openai.com/docs/api-reference/responses/create#responses-create-tools
# Anthropic
#   define tools:       https://platform.claude.com/docs/en/agents-and-tools/tool-use/define-tools
#   strict tool use:    https://platform.claude.com/docs/en/agents-and-tools/tool-use/strict-tool-use
#   schema limitations: https://platform.claude.com/docs/en/build-with-claude/structured-outputs#json-schema-limitations
# Cloudflare Workers AI
#   traditional calls:  https://developers.cloudflare.com/workers-ai/features/function-calling/traditional/
#   model input schema: https://developers.cloudflare.com/workers-ai/models/llama-3.3-70b-instruct-fp8-fast/
# Gemini
#   FunctionDeclaration: https://ai.google.dev/api/caching#FunctionDeclaration
#   Schema:              https://ai.google.dev/api/caching#Schema
#   Vertex AI:           https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/Tool
#   function calling:    https://ai.google.dev/gemini-api/docs/function-calling
# MCP (revision 2025-11-25)
#   tools:   https://modelcontextprotocol.io/specification/2025-11-25/server/tools
#   schema:  https://github.com/modelcontextprotocol/modelcontextprotocol/blob/main/schema/2025-11-25/schema.ts


def _words(text: str) -> frozenset[str]:
    """A set of keywords written as one space-separated string (tables read better so)."""
    return frozenset(text.split())


JSON_TYPES: Final = _words("string number integer boolean object array null")

# ---------------------------------------------------------------------------------------------
# Small JSON helpers
# ---------------------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")


def _join(path: str, key: str | int) -> str:
    """Extend a JSON path: ``$.a.b``, ``$.a[0]``, ``$.a['odd key']``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{key!r}]"


def _mapping(value: object) -> Mapping[str, Any] | None:
    """``value`` as a JSON object, or ``None`` when it is not one."""
    if isinstance(value, Mapping):
        return cast("Mapping[str, Any]", value)
    return None


def _array(value: object) -> Sequence[Any] | None:
    """``value`` as a JSON array, or ``None`` when it is not one (strings are not arrays)."""
    if isinstance(value, (list, tuple)):
        return cast("Sequence[Any]", value)
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _types(schema: Mapping[str, Any]) -> list[str]:
    """The JSON types a schema's ``type`` names (a string or a list of strings)."""
    value = schema.get("type")
    if isinstance(value, str):
        return [value]
    items = _array(value)
    return [item for item in items if isinstance(item, str)] if items is not None else []


def _is_object_schema(schema: Mapping[str, Any]) -> bool:
    return "object" in _types(schema) or "properties" in schema


def _is_container_schema(schema: Mapping[str, Any]) -> bool:
    types = _types(schema)
    return "object" in types or "array" in types or "properties" in schema or "items" in schema


def _resolve(root: Mapping[str, Any], ref: str) -> object | None:
    """Resolve a same-document ``$ref`` (``#`` or a ``#/...`` JSON pointer), else ``None``."""
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node: object = root
    for raw in ref[2:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        as_map = _mapping(node)
        as_list = _array(node)
        if as_map is not None and token in as_map:
            node = as_map[token]
        elif as_list is not None and token.isdigit() and int(token) < len(as_list):
            node = as_list[int(token)]
        else:
            return None
    return node


# ---------------------------------------------------------------------------------------------
# Schema walking
# ---------------------------------------------------------------------------------------------

# Keywords whose value is one subschema, a list of subschemas, or a map of name -> subschema.
_ONE_SCHEMA: Final = _words(
    "items additionalProperties additionalItems contains not if then else propertyNames"
    " unevaluatedItems unevaluatedProperties"
)
_SCHEMA_LIST: Final = _words("anyOf allOf oneOf prefixItems items")
_SCHEMA_MAP: Final = _words("properties patternProperties dependentSchemas $defs definitions")
_DEFINITIONS: Final = frozenset({"$defs", "definitions"})
# Keywords that describe the *contents* of an instance: stepping through one of them is one
# more level of data nesting (anyOf / allOf / ... describe the same level).
_NESTING: Final = _words(
    "properties patternProperties additionalProperties unevaluatedProperties"
    " items prefixItems additionalItems contains unevaluatedItems"
)


@dataclass(frozen=True, slots=True)
class _Node:
    """One (sub)schema met while walking: where it is and how deep its data nests."""

    path: str
    schema: Mapping[str, Any]
    depth: int  # the root schema is level 1; each step through a _NESTING keyword adds one


def _walk(
    schema: Mapping[str, Any], path: str, *, depth: int = 1, into_definitions: bool = True
) -> Iterator[_Node]:
    """Yield ``schema`` and every subschema under it, depth first.

    Definitions (``$defs`` / ``definitions``) restart at level 1, since they are used
    wherever they are referenced; references themselves are not followed.
    """
    yield _Node(path, schema, depth)
    for key, value in schema.items():
        if key in _DEFINITIONS and not into_definitions:
            continue
        here = _join(path, key)
        if key in _DEFINITIONS:
            child_depth = 1
        elif key in _NESTING:
            child_depth = depth + 1
        else:
            child_depth = depth
        children: list[tuple[str, object]] = []
        as_map = _mapping(value)
        as_list = _array(value)
        if key in _SCHEMA_MAP and as_map is not None:
            children = [(_join(here, name), sub) for name, sub in as_map.items()]
        elif key in _SCHEMA_LIST and as_list is not None:
            children = [(_join(here, index), sub) for index, sub in enumerate(as_list)]
        elif key in _ONE_SCHEMA and as_map is not None:
            children = [(here, as_map)]
        for child_path, child in children:
            sub = _mapping(child)
            if sub is not None:
                yield from _walk(sub, child_path, depth=child_depth, into_definitions=True)


# ---------------------------------------------------------------------------------------------
# Checks shared by several formats
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _NameRule:
    pattern: re.Pattern[str]
    summary: str


_NAME_RULES: Final[Mapping[str, _NameRule]] = {
    # OpenAI Chat: "Must be a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum
    # length of 64." The Responses API states no rule; the same one is applied.
    "openai": _NameRule(
        re.compile(r"[A-Za-z0-9_-]{1,64}"), "1 to 64 characters from a-z, A-Z, 0-9, '_', '-'"
    ),
    # Anthropic define-tools page (current): ^[a-zA-Z0-9_-]{1,128}$ (older pages said 64).
    "anthropic": _NameRule(
        re.compile(r"[A-Za-z0-9_-]{1,128}"), "1 to 128 characters from a-z, A-Z, 0-9, '_', '-'"
    ),
    # Gemini Developer API: a-z, A-Z, 0-9, '_', ':', '.', '-', max 64 (newer pages: 128).
    # Vertex AI adds: must start with a letter or an underscore. Strictest reading kept.
    "gemini": _NameRule(
        re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}"),
        "a letter or '_' then a-z, A-Z, 0-9, '_', '.', ':', '-', at most 64 characters",
    ),
    # MCP 2025-11-25 "Tool Names": 1-128 characters, ASCII letters, digits, '_', '-', '.'.
    "mcp": _NameRule(
        re.compile(r"[A-Za-z0-9_.-]{1,128}"),
        "1 to 128 characters from a-z, A-Z, 0-9, '_', '-', '.'",
    ),
    # Cloudflare publishes no name rule beyond "string".
    "workers-ai": _NameRule(re.compile(r".+", re.DOTALL), "a non-empty string"),
}


def _check_keys(
    obj: Mapping[str, Any], path: str, *, allowed: frozenset[str], required: frozenset[str]
) -> list[str]:
    problems = [f"{path}: missing required key '{key}'" for key in sorted(required - obj.keys())]
    problems += [
        f"{_join(path, key)}: unexpected key '{key}' (allowed: {', '.join(sorted(allowed))})"
        for key in obj
        if key not in allowed
    ]
    return problems


def _check_name(obj: Mapping[str, Any], path: str, rule: _NameRule) -> list[str]:
    if "name" not in obj:
        return []
    name = obj["name"]
    here = _join(path, "name")
    if not isinstance(name, str):
        return [f"{here}: must be a string"]
    if not rule.pattern.fullmatch(name):
        return [f"{here}: {name!r} does not match the name rule ({rule.summary})"]
    return []


def _check_string(
    obj: Mapping[str, Any], key: str, path: str, *, nullable: bool = False
) -> list[str]:
    if key not in obj:
        return []
    value = obj[key]
    if isinstance(value, str) or (nullable and value is None):
        return []
    return [f"{_join(path, key)}: must be a string{' or null' if nullable else ''}"]


def _check_strict_flag(
    obj: Mapping[str, Any], path: str, *, requested: bool, nullable: bool = False
) -> tuple[list[str], bool]:
    """Check the definition's own ``strict`` flag; return problems and whether strict applies."""
    problems: list[str] = []
    value = obj.get("strict")
    here = _join(path, "strict")
    if "strict" in obj and not isinstance(value, bool) and not (nullable and value is None):
        problems.append(f"{here}: must be a boolean{' or null' if nullable else ''}")
    if requested and value is not True:
        problems.append(f"{here}: must be true when strict mode is requested")
    return problems, requested or value is True


def _check_object_root(schema: Mapping[str, Any], path: str) -> list[str]:
    if schema.get("type") != "object":
        return [f'{path}.type: the root schema must have "type": "object"']
    return []


def _check_declared_required(node: _Node) -> list[str]:
    """``required`` must be a list of strings naming declared properties."""
    schema = node.schema
    if "required" not in schema:
        return []
    here = _join(node.path, "required")
    names = _array(schema["required"])
    if names is None or not all(isinstance(name, str) for name in names):
        return [f"{here}: must be an array of property names"]
    declared = _mapping(schema.get("properties")) or {}
    return [
        f"{here}: '{name}' is not a declared property" for name in names if name not in declared
    ]


_DIALECTS: Final[Mapping[str, type[Validator]]] = {
    str(cls.META_SCHEMA.get("$id") or cls.META_SCHEMA.get("id")).rstrip("#"): cls
    for cls in (
        Draft202012Validator,
        Draft201909Validator,
        Draft7Validator,
        Draft6Validator,
        Draft4Validator,
    )
}


def _json_schema_errors(schema: Mapping[str, Any], path: str) -> list[str]:
    """Check ``schema`` against its dialect's meta-schema (JSON Schema 2020-12 by default)."""
    validator: type[Validator] = Draft202012Validator
    dialect = schema.get("$schema")
    if dialect is not None:
        known = _DIALECTS.get(str(dialect).rstrip("#"))
        if known is None:
            return [f"{path}.$schema: unknown JSON Schema dialect {dialect!r}"]
        validator = known
    try:
        validator.check_schema(dict(schema))
    except SchemaError as error:  # the meta-schema's best match for what is wrong
        return [f"{path}{error.json_path[1:]}: not a valid JSON Schema ({error.message})"]
    return []


def _check_json_types(node: _Node) -> list[str]:
    if "type" not in node.schema:
        return []
    value = node.schema["type"]
    listed = [value] if isinstance(value, str) else _array(value)
    if listed is None or any(item not in JSON_TYPES for item in listed):
        return [f"{_join(node.path, 'type')}: {value!r} is not a JSON Schema type"]
    return []


# ---------------------------------------------------------------------------------------------
# Strict-mode profiles (OpenAI Structured Outputs, Anthropic strict tool use)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _StrictProfile:
    """The documented JSON Schema subset of one provider's strict mode."""

    keywords: frozenset[str]  # every keyword a strict schema may use
    formats: frozenset[str]  # the string formats it accepts
    ref_prefixes: tuple[str, ...]  # the $ref forms it resolves
    all_properties_required: bool
    ref_must_stand_alone: bool
    recursion_allowed: bool


# OpenAI: "Supported types ... String, Number, Boolean, Integer, Object, Array, Enum, anyOf";
# supported properties: pattern, format; multipleOf, maximum, exclusiveMaximum, minimum,
# exclusiveMinimum; minItems, maxItems. Definitions ($defs) and recursion ("#") supported.
# "Not yet supported": allOf, not, dependentRequired, dependentSchemas, if, then, else.
# Not listed, so reported: minLength/maxLength (the page lists them only among the keywords
# *fine-tuned* models lack, which leaves base-model support undocumented), oneOf, uniqueItems,
# prefixItems, patternProperties, min/maxProperties, default (known rejection:
# "'default' is not permitted"), $schema, examples.
_OPENAI_STRICT: Final = _StrictProfile(
    keywords=_words(
        "type properties required additionalProperties items anyOf enum const $ref $defs"
        " description title"
        " pattern format"  # strings
        " multipleOf maximum exclusiveMaximum minimum exclusiveMinimum"  # numbers
        " minItems maxItems"  # arrays
    ),
    formats=_words("date-time time date duration email hostname ipv4 ipv6 uuid"),
    ref_prefixes=("#/$defs/",),  # plus "#" itself (root recursion)
    all_properties_required=True,
    # Known rejection: "$ref cannot have keywords {'description'}".
    ref_must_stand_alone=True,
    recursion_allowed=True,
)

# Anthropic: supported: all basic types, enum (primitives only), const, anyOf, allOf (not with
# $ref), $ref / $def / definitions (internal only), default, required, additionalProperties
# (must be false), string formats (10 listed), array minItems (0 or 1), pattern (simple
# regexes). Not supported: recursive schemas, numerical constraints, minLength/maxLength,
# array constraints beyond minItems 0/1, additionalProperties other than false.
_ANTHROPIC_STRICT: Final = _StrictProfile(
    keywords=_words(
        "type properties required additionalProperties items anyOf allOf enum const"
        " $ref $defs definitions default description title"
        " format pattern"  # strings (formats and simple regexes only)
        " minItems"  # arrays (0 or 1 only)
    ),
    formats=_words("date-time time date duration email hostname uri ipv4 ipv6 uuid"),
    ref_prefixes=("#/$defs/", "#/definitions/"),
    all_properties_required=False,
    ref_must_stand_alone=False,
    recursion_allowed=False,
)


def _check_strict_node(node: _Node, root: Mapping[str, Any], profile: _StrictProfile) -> list[str]:
    """Per-(sub)schema rules shared by the strict profiles."""
    schema, path = node.schema, node.path
    problems = [
        f"{path}: keyword '{key}' is not supported in strict mode"
        for key in schema
        if key not in profile.keywords
    ]
    problems += _check_json_types(node)

    if _is_object_schema(schema):
        if "additionalProperties" not in schema:
            problems.append(
                f"{path}: keyword 'additionalProperties' must be set to false on every object "
                "in strict mode"
            )
        elif schema["additionalProperties"] is not False:
            problems.append(f"{_join(path, 'additionalProperties')}: must be false in strict mode")
        if profile.all_properties_required:
            # Known rejection: "'required' is required to be supplied and to be an array
            # including every key in properties. Missing 'x'."
            declared = _mapping(schema.get("properties")) or {}
            listed = _array(schema.get("required")) or []
            if "properties" in schema and "required" not in schema:
                problems.append(f"{path}: keyword 'required' must be supplied in strict mode")
            problems += [
                f"{_join(_join(path, 'properties'), name)}: property '{name}' must be listed in "
                "'required' in strict mode"
                for name in declared
                if name not in listed
            ]

    fmt = schema.get("format")
    if "format" in schema and fmt not in profile.formats:
        problems.append(
            f"{_join(path, 'format')}: format {fmt!r} is not supported in strict mode "
            f"(supported: {', '.join(sorted(profile.formats))})"
        )

    if "$ref" in schema:
        problems += _check_strict_ref(node, root, profile)
    return problems


def _check_strict_ref(node: _Node, root: Mapping[str, Any], profile: _StrictProfile) -> list[str]:
    schema, here = node.schema, _join(node.path, "$ref")
    ref = schema["$ref"]
    if not isinstance(ref, str):
        return [f"{here}: must be a string"]
    problems: list[str] = []
    if profile.ref_must_stand_alone and len(schema) > 1:
        others = sorted(key for key in schema if key != "$ref")
        problems.append(
            f"{here}: keyword '$ref' cannot have sibling keywords {others} in strict mode"
        )
    if ref != "#" and not ref.startswith(profile.ref_prefixes):
        kind = "external" if not ref.startswith("#") else "unsupported"
        problems.append(
            f"{here}: {kind} reference {ref!r} (strict mode resolves only "
            f"{', '.join(repr(p + '...') for p in profile.ref_prefixes)} and '#')"
        )
    elif _resolve(root, ref) is None:
        problems.append(f"{here}: reference {ref!r} does not resolve")
    return problems


def _definition_scopes(
    root: Mapping[str, Any], path: str
) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """The reference targets of a schema: ``#`` and each root definition, with their paths."""
    scopes: dict[str, tuple[str, Mapping[str, Any]]] = {"#": (path, root)}
    for keyword in sorted(_DEFINITIONS):
        for name, sub in (_mapping(root.get(keyword)) or {}).items():
            schema = _mapping(sub)
            if schema is not None:
                key = f"#/{keyword}/{name}"
                scopes[key] = (_join(_join(path, keyword), name), schema)
    return scopes


def _recursive_refs(root: Mapping[str, Any], path: str) -> list[str]:
    """Paths of the ``$ref`` sites that make the schema recursive."""
    scopes = _definition_scopes(root, path)

    def scope_of(ref: str) -> str | None:
        if ref == "#":
            return "#"
        matches = [
            key for key in scopes if key != "#" and (ref == key or ref.startswith(key + "/"))
        ]
        return matches[0] if matches else None

    edges: dict[str, list[tuple[str, str]]] = {key: [] for key in scopes}
    for key, (scope_path, scope_schema) in scopes.items():
        for node in _walk(scope_schema, scope_path, into_definitions=False):
            ref = node.schema.get("$ref")
            target = scope_of(ref) if isinstance(ref, str) else None
            if target is not None:
                edges[key].append((target, _join(node.path, "$ref")))

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        stack = [start]
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(target for target, _ in edges[current])
        return False

    return [
        site for source, out in edges.items() for target, site in out if reaches(target, source)
    ]


# --- OpenAI limits ("Objects have limitations on nesting depth and size", "Limitations on
# total string size", "Limitations on enum size").
_OPENAI_MAX_PROPERTIES: Final = 5000
_OPENAI_MAX_DEPTH: Final = 10
_OPENAI_MAX_STRING_TOTAL: Final = 120_000
_OPENAI_MAX_ENUM_VALUES: Final = 1000
_OPENAI_LARGE_ENUM: Final = 250
_OPENAI_LARGE_ENUM_MAX_CHARS: Final = 15_000


def _text_length(value: object) -> int:
    return len(value) if isinstance(value, str) else len(json.dumps(value))


def _check_openai_limits(root: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    property_count = enum_count = text_total = 0
    deepest: _Node | None = None
    for node in _walk(root, path):
        schema = node.schema
        properties = _mapping(schema.get("properties")) or {}
        property_count += len(properties)
        text_total += sum(len(name) for name in properties)
        for keyword in _DEFINITIONS:
            text_total += sum(len(name) for name in _mapping(schema.get(keyword)) or {})
        if "const" in schema:
            text_total += _text_length(schema["const"])
        values = _array(schema.get("enum"))
        if values is not None:
            enum_count += len(values)
            text_total += sum(_text_length(value) for value in values)
            chars = sum(len(value) for value in values if isinstance(value, str))
            if (
                len(values) > _OPENAI_LARGE_ENUM
                and all(isinstance(value, str) for value in values)
                and chars > _OPENAI_LARGE_ENUM_MAX_CHARS
            ):
                problems.append(
                    f"{_join(node.path, 'enum')}: {len(values)} string values totalling {chars} "
                    f"characters (limit {_OPENAI_LARGE_ENUM_MAX_CHARS} characters when there are "
                    f"more than {_OPENAI_LARGE_ENUM} values)"
                )
        too_deep = _is_container_schema(schema) and node.depth > _OPENAI_MAX_DEPTH
        if too_deep and (deepest is None or node.depth > deepest.depth):
            deepest = node
    if deepest is not None:
        problems.append(
            f"{deepest.path}: nesting depth {deepest.depth} exceeds the strict-mode limit of "
            f"{_OPENAI_MAX_DEPTH} levels"
        )
    if property_count > _OPENAI_MAX_PROPERTIES:
        problems.append(
            f"{path}: {property_count} object properties in total (strict-mode limit "
            f"{_OPENAI_MAX_PROPERTIES})"
        )
    if enum_count > _OPENAI_MAX_ENUM_VALUES:
        problems.append(
            f"{path}: {enum_count} enum values in total (strict-mode limit "
            f"{_OPENAI_MAX_ENUM_VALUES})"
        )
    if text_total > _OPENAI_MAX_STRING_TOTAL:
        problems.append(
            f"{path}: property names, definition names, enum and const values total {text_total} "
            f"characters (strict-mode limit {_OPENAI_MAX_STRING_TOTAL})"
        )
    return problems


def _check_openai_strict(root: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    if "anyOf" in root:
        problems.append(
            f"{path}.anyOf: the root schema must be an object, not anyOf, in strict mode"
        )
    for node in _walk(root, path):
        problems += _check_strict_node(node, root, _OPENAI_STRICT)
        if "type" not in node.schema and not ({"anyOf", "$ref"} & node.schema.keys()):
            # Known rejection: "schema must have a 'type' key".
            problems.append(f"{node.path}: keyword 'type' is required in strict mode")
    return problems + _check_openai_limits(root, path)


# --- Anthropic extra rules.
_ANTHROPIC_MAX_OPTIONAL: Final = 24  # "Optional parameters" (per request, all strict schemas)
_ANTHROPIC_MAX_UNIONS: Final = 16  # "Parameters with union types" (anyOf or type arrays)
# "Pattern support (regex)": NOT supported: backreferences, lookahead/lookbehind, \b, \B.
_ANTHROPIC_REGEX_UNSUPPORTED: Final = (
    (re.compile(r"\\[1-9]"), "backreferences"),
    (re.compile(r"\(\?<?[=!]"), "lookahead/lookbehind assertions"),
    (re.compile(r"\\[bB]"), "word boundaries"),
)
_PRIMITIVE: Final = (str, int, float, bool, type(None))


def _check_anthropic_strict(root: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    optional = unions = 0
    for node in _walk(root, path):
        schema = node.schema
        problems += _check_strict_node(node, root, _ANTHROPIC_STRICT)
        min_items = schema.get("minItems")
        if "minItems" in schema and min_items not in (0, 1):
            problems.append(
                f"{_join(node.path, 'minItems')}: only 0 and 1 are supported in strict mode"
            )
        values = _array(schema.get("enum")) or []
        problems += [
            f"{_join(_join(node.path, 'enum'), index)}: complex types within enums are not "
            "supported in strict mode"
            for index, value in enumerate(values)
            if not isinstance(value, _PRIMITIVE)
        ]
        for index, branch in enumerate(_array(schema.get("allOf")) or []):
            if "$ref" in (_mapping(branch) or {}):
                problems.append(
                    f"{_join(_join(node.path, 'allOf'), index)}: allOf with $ref is not "
                    "supported in strict mode"
                )
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            problems += [
                f"{_join(node.path, 'pattern')}: regex {what} are not supported in strict mode"
                for regex, what in _ANTHROPIC_REGEX_UNSUPPORTED
                if regex.search(pattern)
            ]
        properties = _mapping(schema.get("properties")) or {}
        required = _array(schema.get("required")) or []
        optional += sum(1 for name in properties if name not in required)
        for sub in properties.values():
            prop = _mapping(sub) or {}
            if "anyOf" in prop or _array(prop.get("type")) is not None:
                unions += 1
    if not _ANTHROPIC_STRICT.recursion_allowed:
        problems += [
            f"{site}: recursive schemas are not supported in strict mode"
            for site in _recursive_refs(root, path)
        ]
    if optional > _ANTHROPIC_MAX_OPTIONAL:
        problems.append(
            f"{path}: {optional} optional parameters (strict-mode limit {_ANTHROPIC_MAX_OPTIONAL} "
            "per request, across all strict tools)"
        )
    if unions > _ANTHROPIC_MAX_UNIONS:
        problems.append(
            f"{path}: {unions} parameters with union types (strict-mode limit "
            f"{_ANTHROPIC_MAX_UNIONS} per request, across all strict tools)"
        )
    return problems


def _check_json_schema_parameters(
    obj: Mapping[str, Any], key: str, path: str, *, nullable: bool = False
) -> tuple[list[str], Mapping[str, Any] | None]:
    """Common checks of a JSON Schema parameters object: an object root, valid, sane required."""
    here = _join(path, key)
    if key not in obj or (nullable and obj[key] is None):
        return [], None
    schema = _mapping(obj[key])
    if schema is None:
        return [f"{here}: must be a JSON Schema object"], None
    problems = _check_object_root(schema, here) + _json_schema_errors(schema, here)
    for node in _walk(schema, here):
        problems += _check_declared_required(node)
    return problems, schema


# ---------------------------------------------------------------------------------------------
# OpenAI
# ---------------------------------------------------------------------------------------------

_OPENAI_CHAT_TOOL_KEYS: Final = frozenset({"type", "function"})
_OPENAI_FUNCTION_KEYS: Final = _words("name description parameters strict")
# Responses FunctionTool: name, parameters and strict are required keys (parameters and strict
# may be null); the SDK also knows defer_loading, allowed_callers and output_schema.
_OPENAI_RESPONSES_KEYS: Final = _words(
    "type name description parameters strict defer_loading allowed_callers output_schema"
)
_OPENAI_RESPONSES_REQUIRED: Final = _words("type name parameters strict")


class _Checker(Protocol):
    def __call__(self, definition: Mapping[str, Any], *, strict: bool = False) -> list[str]: ...


def check_openai_chat(definition: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Check a Chat Completions tool ``{"type": "function", "function": {...}}``.

    Strict rules apply when ``strict`` is requested or the function sets ``"strict": true``.
    """
    problems = _check_keys(
        definition, "$", allowed=_OPENAI_CHAT_TOOL_KEYS, required=_OPENAI_CHAT_TOOL_KEYS
    )
    if "type" in definition and definition["type"] != "function":
        problems.append("$.type: must be 'function'")
    if "function" not in definition:
        return problems
    function = _mapping(definition["function"])
    if function is None:
        return [*problems, "$.function: must be an object"]
    path = "$.function"
    problems += _check_keys(
        function, path, allowed=_OPENAI_FUNCTION_KEYS, required=frozenset({"name"})
    )
    problems += _check_name(function, path, _NAME_RULES["openai"])
    problems += _check_string(function, "description", path)
    flag_problems, strict_active = _check_strict_flag(
        function, path, requested=strict, nullable=True
    )
    problems += flag_problems
    schema_problems, schema = _check_json_schema_parameters(function, "parameters", path)
    problems += schema_problems
    if strict_active and schema is not None:
        problems += _check_openai_strict(schema, _join(path, "parameters"))
    return problems


def check_openai_responses(definition: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Check a Responses API function tool ``{"type": "function", "name", "parameters", ...}``.

    Strict rules apply when ``strict`` is requested or the tool sets ``"strict": true``.
    (With ``"strict": null`` the API itself tries to make the schema strict and falls back to
    best effort, so null is not treated as strict.)
    """
    problems = _check_keys(
        definition, "$", allowed=_OPENAI_RESPONSES_KEYS, required=_OPENAI_RESPONSES_REQUIRED
    )
    if "type" in definition and definition["type"] != "function":
        problems.append("$.type: must be 'function'")
    problems += _check_name(definition, "$", _NAME_RULES["openai"])
    problems += _check_string(definition, "description", "$", nullable=True)
    flag_problems, strict_active = _check_strict_flag(
        definition, "$", requested=strict, nullable=True
    )
    problems += flag_problems
    schema_problems, schema = _check_json_schema_parameters(
        definition, "parameters", "$", nullable=True
    )
    problems += schema_problems
    if strict_active and schema is not None:
        problems += _check_openai_strict(schema, "$.parameters")
    if definition.get("output_schema") is not None:
        output = _mapping(definition["output_schema"])
        if output is None:
            problems.append("$.output_schema: must be a JSON Schema object")
        else:
            problems += _json_schema_errors(output, "$.output_schema")
    return problems


# ---------------------------------------------------------------------------------------------
# Anthropic
# ---------------------------------------------------------------------------------------------

# ToolParam (custom tool) fields; only name and input_schema are required.
_ANTHROPIC_KEYS: Final = _words(
    "name description input_schema strict type cache_control input_examples defer_loading"
    " allowed_callers eager_input_streaming"
)


def check_anthropic(definition: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Check a Messages API custom tool ``{"name", "description", "input_schema"}``.

    Strict rules apply when ``strict`` is requested or the tool sets ``"strict": true``.
    """
    problems = _check_keys(
        definition,
        "$",
        allowed=_ANTHROPIC_KEYS,
        required=frozenset({"name", "input_schema"}),
    )
    if definition.get("type", "custom") not in ("custom", None):
        problems.append("$.type: must be 'custom' when present")
    problems += _check_name(definition, "$", _NAME_RULES["anthropic"])
    problems += _check_string(definition, "description", "$")
    flag_problems, strict_active = _check_strict_flag(definition, "$", requested=strict)
    problems += flag_problems
    schema_problems, schema = _check_json_schema_parameters(definition, "input_schema", "$")
    problems += schema_problems
    if strict_active and schema is not None:
        problems += _check_anthropic_strict(schema, "$.input_schema")
    return problems


# ---------------------------------------------------------------------------------------------
# Cloudflare Workers AI
# ---------------------------------------------------------------------------------------------

_WORKERS_AI_KEYS: Final = frozenset({"name", "description", "parameters"})


def check_workers_ai(definition: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Check a Workers AI flat tool ``{"name", "description", "parameters"}``.

    The models' published input schema requires all three keys; ``parameters`` needs
    ``type`` and ``properties`` (``required`` optional), and every entry of ``properties``
    needs a string ``type`` and a string ``description``.
    """
    if strict:
        raise ValueError("Workers AI tool definitions have no strict mode")
    problems = _check_keys(definition, "$", allowed=_WORKERS_AI_KEYS, required=_WORKERS_AI_KEYS)
    problems += _check_name(definition, "$", _NAME_RULES["workers-ai"])
    problems += _check_string(definition, "description", "$")
    schema_problems, schema = _check_json_schema_parameters(definition, "parameters", "$")
    problems += schema_problems
    if schema is None:
        return problems
    if "properties" not in schema:
        problems.append("$.parameters: missing required key 'properties'")
    properties = _mapping(schema.get("properties")) or {}
    for name, sub in properties.items():
        here = _join("$.parameters.properties", name)
        prop = _mapping(sub)
        if prop is None:
            problems.append(f"{here}: must be an object")
            continue
        if "type" not in prop:
            problems.append(f"{here}: missing required key 'type'")
        elif not isinstance(prop["type"], str):
            problems.append(
                f"{here}.type: must be a single type name (a string), not {prop['type']!r}"
            )
        if "description" not in prop:
            problems.append(f"{here}: missing required key 'description'")
        elif not isinstance(prop["description"], str):
            problems.append(f"{here}.description: must be a string")
    return problems


# ---------------------------------------------------------------------------------------------
# Gemini
# ---------------------------------------------------------------------------------------------

_GEMINI_KEYS: Final = _words(
    "name description parameters parametersJsonSchema response responseJsonSchema behavior"
)
_GEMINI_BEHAVIORS: Final = frozenset({"UNSPECIFIED", "BLOCKING", "NON_BLOCKING"})
# The `Schema` fields of the Gemini Developer API (a subset of the OpenAPI 3.0 schema object).
# Not fields, so rejected ("Unknown name ... Cannot find field"): $ref, $defs, $schema,
# additionalProperties, const, oneOf, allOf, not, exclusiveMinimum, exclusiveMaximum,
# multipleOf, uniqueItems, prefixItems, examples, ...
_GEMINI_SCHEMA_FIELDS: Final = _words(
    "type format title description nullable enum default example anyOf"
    " properties required propertyOrdering minProperties maxProperties"  # OBJECT
    " items minItems maxItems"  # ARRAY
    " minLength maxLength pattern"  # STRING
    " minimum maximum"  # INTEGER, NUMBER
)
# `Type` enum values. The API reference spells them in upper case; Google's REST examples use
# lower case, and both are accepted, so the checker compares case-insensitively.
_GEMINI_TYPES: Final = _words("STRING NUMBER INTEGER BOOLEAN ARRAY OBJECT NULL")
_GEMINI_COUNTS: Final = (
    "maxItems",
    "minItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
)
_GEMINI_STRINGS: Final = ("format", "title", "description", "pattern")
# Vertex AI: "Parameter names must start with a letter or an underscore and must only contain
# chars a-z, A-Z, 0-9, or underscores with a maximum length of 64."
_GEMINI_PARAMETER_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _gemini_type(schema: Mapping[str, Any]) -> str | None:
    value = schema.get("type")
    return value.upper() if isinstance(value, str) else None


def _check_gemini_node(node: _Node) -> list[str]:
    schema, path = node.schema, node.path
    problems = [
        f"{path}: keyword '{key}' is not supported by the Gemini Schema"
        for key in schema
        if key not in _GEMINI_SCHEMA_FIELDS
    ]
    kind = _gemini_type(schema)
    if "type" not in schema:
        if "anyOf" not in schema:
            problems.append(f"{path}: missing required key 'type'")
    elif kind not in _GEMINI_TYPES:
        problems.append(
            f"{path}.type: {schema['type']!r} is not a Gemini type (one of "
            f"{', '.join(sorted(_GEMINI_TYPES))}, any case; type lists are not supported)"
        )

    properties = _mapping(schema.get("properties"))
    if "properties" in schema and properties is None:
        problems.append(f"{path}.properties: must be an object")
    if kind == "OBJECT" and not properties:
        # Known rejection: "parameters.properties: should be non-empty for OBJECT type".
        problems.append(f"{path}.properties: should be non-empty for OBJECT type")
    if kind == "ARRAY" and "items" not in schema:
        # Known rejection: "...items: missing field".
        problems.append(f"{path}: keyword 'items' is required for ARRAY type")
    problems += _check_declared_required(node)
    if "propertyOrdering" in schema:
        order = _array(schema["propertyOrdering"])
        here = f"{path}.propertyOrdering"
        if order is None or not all(isinstance(name, str) for name in order):
            problems.append(f"{here}: must be an array of property names")
        else:
            problems += [
                f"{here}: '{name}' is not a declared property"
                for name in order
                if name not in (properties or {})
            ]

    if "enum" in schema:
        values = _array(schema["enum"])
        if values is None or not all(isinstance(value, str) for value in values):
            problems.append(f"{path}.enum: values must be strings")
        if kind != "STRING":
            problems.append(f"{path}.enum: enum is only supported for type STRING")
    if "anyOf" in schema and not _array(schema["anyOf"]):
        problems.append(f"{path}.anyOf: must be a non-empty array of schemas")
    if "nullable" in schema and not isinstance(schema["nullable"], bool):
        problems.append(f"{path}.nullable: must be a boolean")
    for key in _GEMINI_STRINGS:
        if key in schema and not isinstance(schema[key], str):
            problems.append(f"{path}.{key}: must be a string")
    for key in _GEMINI_COUNTS:
        # int64 fields: a JSON number or a decimal string, never negative.
        value = schema.get(key)
        if key in schema and not (
            (_is_int(value) and cast("int", value) >= 0)
            or (isinstance(value, str) and value.isdigit())
        ):
            problems.append(f"{path}.{key}: must be a non-negative integer")
    for key in ("minimum", "maximum"):
        value = schema.get(key)
        if key in schema and (isinstance(value, bool) or not isinstance(value, (int, float))):
            problems.append(f"{path}.{key}: must be a number")
    return problems


def _check_gemini_schema(schema: Mapping[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    for node in _walk(schema, path):
        problems += _check_gemini_node(node)
    return problems


def check_gemini(definition: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Check a Gemini ``FunctionDeclaration`` whose ``parameters`` is a Gemini ``Schema``.

    Gemini has no strict mode; asking for one raises ``ValueError``.
    """
    if strict:
        raise ValueError("Gemini function declarations have no strict mode")
    problems = _check_keys(
        definition, "$", allowed=_GEMINI_KEYS, required=frozenset({"name", "description"})
    )
    problems += _check_name(definition, "$", _NAME_RULES["gemini"])
    problems += _check_string(definition, "description", "$")
    if "behavior" in definition and definition["behavior"] not in _GEMINI_BEHAVIORS:
        problems.append(f"$.behavior: must be one of {', '.join(sorted(_GEMINI_BEHAVIORS))}")
    for schema_key, json_key in (
        ("parameters", "parametersJsonSchema"),
        ("response", "responseJsonSchema"),
    ):
        if schema_key in definition and json_key in definition:
            problems.append(f"$.{json_key}: mutually exclusive with '{schema_key}'")

    if "parameters" in definition:
        parameters = _mapping(definition["parameters"])
        if parameters is None:
            problems.append("$.parameters: must be a Schema object")
        else:
            if _gemini_type(parameters) != "OBJECT":
                # Vertex AI: "parameters schema should be of type OBJECT".
                problems.append("$.parameters.type: the parameters schema must be of type OBJECT")
            problems += _check_gemini_schema(parameters, "$.parameters")
            problems += [
                f"{_join('$.parameters.properties', name)}: parameter name {name!r} must start "
                "with a letter or '_' and use only a-z, A-Z, 0-9, '_' (at most 64 characters)"
                for name in _mapping(parameters.get("properties")) or {}
                if not _GEMINI_PARAMETER_NAME.fullmatch(name)
            ]
    if "response" in definition:
        response = _mapping(definition["response"])
        if response is None:
            problems.append("$.response: must be a Schema object")
        else:
            problems += _check_gemini_schema(response, "$.response")
    if "parametersJsonSchema" in definition:
        json_problems, _ = _check_json_schema_parameters(definition, "parametersJsonSchema", "$")
        problems += json_problems
    return problems


# ---------------------------------------------------------------------------------------------
# MCP
# ---------------------------------------------------------------------------------------------

_MCP_KEYS: Final = _words(
    "name title description icons inputSchema outputSchema annotations execution _meta"
)
_MCP_HINTS: Final = _words("readOnlyHint destructiveHint idempotentHint openWorldHint")
_MCP_ANNOTATION_KEYS: Final = _MCP_HINTS | {"title"}
_MCP_TASK_SUPPORT: Final = frozenset({"forbidden", "optional", "required"})


def _check_mcp_schema(definition: Mapping[str, Any], key: str) -> list[str]:
    """``inputSchema`` / ``outputSchema``: a valid JSON Schema with ``"type": "object"``."""
    problems, _ = _check_json_schema_parameters(definition, key, "$")
    return problems


def check_mcp(definition: Mapping[str, Any], *, strict: bool = False) -> list[str]:
    """Check an MCP ``Tool`` (protocol revision 2025-11-25).

    MCP has no strict mode; asking for one raises ``ValueError``.
    """
    if strict:
        raise ValueError("MCP tools have no strict mode")
    problems = _check_keys(
        definition, "$", allowed=_MCP_KEYS, required=frozenset({"name", "inputSchema"})
    )
    problems += _check_name(definition, "$", _NAME_RULES["mcp"])
    problems += _check_string(definition, "title", "$")
    problems += _check_string(definition, "description", "$")
    problems += _check_mcp_schema(definition, "inputSchema")
    problems += _check_mcp_schema(definition, "outputSchema")

    if "annotations" in definition:
        annotations = _mapping(definition["annotations"])
        if annotations is None:
            problems.append("$.annotations: must be an object")
        else:
            problems += _check_keys(
                annotations, "$.annotations", allowed=_MCP_ANNOTATION_KEYS, required=frozenset()
            )
            problems += _check_string(annotations, "title", "$.annotations")
            problems += [
                f"$.annotations.{hint}: must be a boolean"
                for hint in sorted(_MCP_HINTS)
                if hint in annotations and not isinstance(annotations[hint], bool)
            ]
    if "execution" in definition:
        execution = _mapping(definition["execution"])
        if execution is None:
            problems.append("$.execution: must be an object")
        elif "taskSupport" in execution and execution["taskSupport"] not in _MCP_TASK_SUPPORT:
            problems.append(
                f"$.execution.taskSupport: must be one of {', '.join(sorted(_MCP_TASK_SUPPORT))}"
            )
    if "icons" in definition:
        icons = _array(definition["icons"])
        if icons is None:
            problems.append("$.icons: must be an array")
        else:
            problems += [
                f"$.icons[{index}]: must be an object with a string 'src'"
                for index, icon in enumerate(icons)
                if not isinstance((_mapping(icon) or {}).get("src"), str)
            ]
    if "_meta" in definition and _mapping(definition["_meta"]) is None:
        problems.append("$._meta: must be an object")
    return problems


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------

_CHECKERS: Final[Mapping[str, _Checker]] = {
    "openai": check_openai_chat,
    "openai-responses": check_openai_responses,
    "anthropic": check_anthropic,
    "workers-ai": check_workers_ai,
    "gemini": check_gemini,
    "mcp": check_mcp,
}


def check_definition(
    format: str, definition: Mapping[str, Any], *, strict: bool = False
) -> list[str]:
    """Return every violation of the provider's published rules (empty list when conforming).

    Args:
        format: One of :data:`FORMATS`.
        definition: The tool definition exactly as it would be sent to the provider.
        strict: Check the provider's strict-mode rules too (only for :data:`STRICT_FORMATS`;
            the definition must then also carry ``"strict": true``).

    Raises:
        ValueError: For an unknown format, or ``strict=True`` on a format without strict mode.
    """
    checker = _CHECKERS.get(format)
    if checker is None:
        raise ValueError(f"unknown format {format!r}; expected one of {', '.join(FORMATS)}")
    as_map = _mapping(definition)
    if as_map is None:
        return ["$: a tool definition must be a JSON object"]
    return checker(as_map, strict=strict)
