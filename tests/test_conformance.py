"""Tests of the conformance checkers themselves (tests/conformance.py).

Each format gets a known-good definition that must pass, and known-bad variants, one per
rule, that must produce a violation naming the JSON path and the offending keyword or rule.
These tests deliberately do not import toolkit.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from conformance import FORMATS, STRICT_FORMATS, check_definition

JSON = dict[str, Any]
Key = str | int


def with_value(base: JSON, path: tuple[Key, ...], value: object) -> JSON:
    """A deep copy of ``base`` with ``value`` set at ``path`` (dict keys or list indexes)."""
    result = copy.deepcopy(base)
    node: Any = result
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return result


def without(base: JSON, path: tuple[Key, ...]) -> JSON:
    """A deep copy of ``base`` with the key at ``path`` removed."""
    result = copy.deepcopy(base)
    node: Any = result
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return result


def assert_violation(violations: list[str], path: str, *words: str) -> None:
    """Some violation is reported at exactly ``path`` and mentions every one of ``words``."""
    matching = [
        message
        for message in violations
        if message.startswith(f"{path}:") and all(word in message for word in words)
    ]
    assert matching, f"expected a violation at {path} mentioning {words}, got {violations}"


# ---------------------------------------------------------------------------------------------
# Known-good definitions
# ---------------------------------------------------------------------------------------------

STRICT_PARAMETERS: JSON = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name", "pattern": "^[A-Z]"},
        "unit": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", None]},
        "days": {"type": "integer", "minimum": 1, "maximum": 14},
        "when": {"type": "string", "format": "date"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5},
        "place": {"$ref": "#/$defs/Place"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["city", "unit", "days", "when", "tags", "place", "note"],
    "additionalProperties": False,
    "$defs": {
        "Place": {
            "type": "object",
            "title": "Place",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat", "lon"],
            "additionalProperties": False,
        }
    },
}

OPENAI_CHAT: JSON = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather forecast.",
        "parameters": STRICT_PARAMETERS,
        "strict": True,
    },
}

OPENAI_RESPONSES: JSON = {
    "type": "function",
    "name": "get_weather",
    "description": "Get the weather forecast.",
    "parameters": STRICT_PARAMETERS,
    "strict": True,
}

ANTHROPIC: JSON = {
    "name": "get_weather",
    "description": "Get the weather forecast.",
    "strict": True,
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "place": {"$ref": "#/$defs/Place", "description": "Where"},
            "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
        },
        "required": ["city"],
        "additionalProperties": False,
        "$defs": {
            "Place": {
                "type": "object",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
                "additionalProperties": False,
            }
        },
    },
}

WORKERS_AI: JSON = {
    "name": "getWeather",
    "description": "Return the weather for a latitude and longitude",
    "parameters": {
        "type": "object",
        "properties": {
            "latitude": {"type": "string", "description": "The latitude"},
            "days": {"type": "integer", "description": "How many days"},
        },
        "required": ["latitude"],
    },
}

GEMINI: JSON = {
    "name": "get_weather",
    "description": "Get the weather forecast.",
    "parameters": {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "nullable": True},
            "days": {"type": "INTEGER", "minimum": 1, "maximum": 14, "format": "int32"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": "5"},
            "place": {
                "type": "OBJECT",
                "properties": {"lat": {"type": "NUMBER"}, "lon": {"type": "NUMBER"}},
                "required": ["lat", "lon"],
                "propertyOrdering": ["lat", "lon"],
            },
            "either": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
        "required": ["city"],
    },
}

MCP: JSON = {
    "name": "weather.get_forecast",
    "title": "Weather forecast",
    "description": "Get the weather forecast.",
    "inputSchema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "default": 3},
        },
        "required": ["city"],
        "additionalProperties": False,
    },
    "outputSchema": {
        "type": "object",
        "properties": {"summary": {"type": "string"}},
        "required": ["summary"],
    },
    "annotations": {"title": "Forecast", "readOnlyHint": True, "openWorldHint": True},
}

GOOD: dict[str, JSON] = {
    "openai": OPENAI_CHAT,
    "openai-responses": OPENAI_RESPONSES,
    "anthropic": ANTHROPIC,
    "workers-ai": WORKERS_AI,
    "gemini": GEMINI,
    "mcp": MCP,
}


@pytest.mark.parametrize("format", FORMATS)
def test_known_good_definition_passes(format: str) -> None:
    assert check_definition(format, GOOD[format]) == []


@pytest.mark.parametrize("format", STRICT_FORMATS)
def test_known_good_definition_passes_in_strict_mode(format: str) -> None:
    assert check_definition(format, GOOD[format], strict=True) == []


def test_non_strict_openai_accepts_any_json_schema() -> None:
    loose: JSON = {
        "type": "object",
        "properties": {"name": {"type": "string", "minLength": 1, "default": "x"}},
        "required": [],
    }
    definition = with_value(OPENAI_CHAT, ("function", "parameters"), loose)
    definition = without(definition, ("function", "strict"))
    assert check_definition("openai", definition) == []


def test_openai_function_without_parameters_passes() -> None:
    definition = without(OPENAI_CHAT, ("function", "parameters"))
    assert check_definition("openai", definition) == []


def test_anthropic_non_strict_accepts_constraints() -> None:
    definition = without(ANTHROPIC, ("strict",))
    definition = with_value(definition, ("input_schema", "properties", "city", "minLength"), 1)
    definition = without(definition, ("input_schema", "additionalProperties"))
    assert check_definition("anthropic", definition) == []


def test_gemini_declaration_without_parameters_passes() -> None:
    assert check_definition("gemini", without(GEMINI, ("parameters",))) == []


def test_mcp_accepts_draft_07_and_parameterless_tools() -> None:
    definition = with_value(
        MCP,
        ("inputSchema",),
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": False,
        },
    )
    assert check_definition("mcp", definition) == []


# ---------------------------------------------------------------------------------------------
# Known-bad definitions: (format, strict, definition, path, words the message must contain)
# ---------------------------------------------------------------------------------------------

P = ("function", "parameters")  # where the OpenAI Chat parameters live
OP = "$.function.parameters"

BAD: list[tuple[str, str, bool, JSON, str, tuple[str, ...]]] = [
    # --- OpenAI Chat: envelope and name
    (
        "openai-type",
        "openai",
        False,
        with_value(OPENAI_CHAT, ("type",), "tool"),
        "$.type",
        ("function",),
    ),
    (
        "openai-extra-key",
        "openai",
        False,
        with_value(OPENAI_CHAT, ("function", "title"), "x"),
        "$.function.title",
        ("unexpected key",),
    ),
    (
        "openai-name-space",
        "openai",
        False,
        with_value(OPENAI_CHAT, ("function", "name"), "get weather"),
        "$.function.name",
        ("name rule",),
    ),
    (
        "openai-name-65",
        "openai",
        False,
        with_value(OPENAI_CHAT, ("function", "name"), "a" * 65),
        "$.function.name",
        ("64",),
    ),
    (
        "openai-name-dot",
        "openai",
        False,
        with_value(OPENAI_CHAT, ("function", "name"), "get.weather"),
        "$.function.name",
        ("name rule",),
    ),
    (
        "openai-root-not-object",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "type"), "array"),
        f"{OP}.type",
        ("object",),
    ),
    (
        "openai-invalid-json-schema",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "city", "type"), "text"),
        f"{OP}.properties.city.type",
        ("not a valid JSON Schema",),
    ),
    (
        "openai-required-undeclared",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "required"), [*STRICT_PARAMETERS["required"], "ghost"]),
        f"{OP}.required",
        ("ghost",),
    ),
    (
        "openai-strict-flag-missing",
        "openai",
        True,
        without(OPENAI_CHAT, ("function", "strict")),
        "$.function.strict",
        ("must be true",),
    ),
    # --- OpenAI strict rules (the definition's own "strict": true switches them on)
    (
        "openai-strict-minLength",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "city", "minLength"), 2),
        f"{OP}.properties.city",
        ("minLength", "strict"),
    ),
    (
        "openai-strict-maxLength",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "city", "maxLength"), 9),
        f"{OP}.properties.city",
        ("maxLength",),
    ),
    (
        "openai-strict-default",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "days", "default"), 3),
        f"{OP}.properties.days",
        ("default",),
    ),
    (
        "openai-strict-uniqueItems",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "tags", "uniqueItems"), True),
        f"{OP}.properties.tags",
        ("uniqueItems",),
    ),
    (
        "openai-strict-allOf",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "note"), {"allOf": [{"type": "string"}]}),
        f"{OP}.properties.note",
        ("allOf",),
    ),
    (
        "openai-strict-oneOf",
        "openai",
        False,
        with_value(
            OPENAI_CHAT,
            (*P, "properties", "note"),
            {"oneOf": [{"type": "string"}, {"type": "null"}]},
        ),
        f"{OP}.properties.note",
        ("oneOf",),
    ),
    (
        "openai-strict-prefixItems",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "tags", "prefixItems"), [{"type": "string"}]),
        f"{OP}.properties.tags",
        ("prefixItems",),
    ),
    (
        "openai-strict-patternProperties",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "patternProperties"), {"^x": {"type": "string"}}),
        OP,
        ("patternProperties",),
    ),
    (
        "openai-strict-format",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "when", "format"), "uri"),
        f"{OP}.properties.when.format",
        ("uri",),
    ),
    (
        "openai-strict-additionalProperties-missing",
        "openai",
        False,
        without(OPENAI_CHAT, (*P, "additionalProperties")),
        OP,
        ("additionalProperties",),
    ),
    (
        "openai-strict-additionalProperties-true",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "$defs", "Place", "additionalProperties"), True),
        f"{OP}.$defs.Place.additionalProperties",
        ("false",),
    ),
    (
        "openai-strict-not-required",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "required"), ["city"]),
        f"{OP}.properties.unit",
        ("unit", "required"),
    ),
    (
        "openai-strict-required-missing",
        "openai",
        False,
        without(OPENAI_CHAT, (*P, "$defs", "Place", "required")),
        f"{OP}.$defs.Place",
        ("'required'", "supplied"),
    ),
    (
        "openai-strict-ref-sibling",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "place", "description"), "Where"),
        f"{OP}.properties.place.$ref",
        ("$ref", "description"),
    ),
    (
        "openai-strict-ref-dangling",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "place", "$ref"), "#/$defs/Nowhere"),
        f"{OP}.properties.place.$ref",
        ("does not resolve",),
    ),
    (
        "openai-strict-ref-definitions",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "place", "$ref"), "#/definitions/Place"),
        f"{OP}.properties.place.$ref",
        ("#/definitions/Place",),
    ),
    (
        "openai-strict-ref-external",
        "openai",
        False,
        with_value(
            OPENAI_CHAT, (*P, "properties", "place", "$ref"), "https://example.com/place.json"
        ),
        f"{OP}.properties.place.$ref",
        ("external",),
    ),
    (
        "openai-strict-no-type",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "properties", "days"), {"description": "anything"}),
        f"{OP}.properties.days",
        ("'type'",),
    ),
    (
        "openai-strict-root-anyOf",
        "openai",
        False,
        with_value(OPENAI_CHAT, (*P, "anyOf"), [{"type": "object"}]),
        f"{OP}.anyOf",
        ("anyOf",),
    ),
    # --- OpenAI Responses
    (
        "responses-missing-strict",
        "openai-responses",
        False,
        without(OPENAI_RESPONSES, ("strict",)),
        "$",
        ("strict",),
    ),
    (
        "responses-missing-parameters",
        "openai-responses",
        False,
        without(OPENAI_RESPONSES, ("parameters",)),
        "$",
        ("parameters",),
    ),
    (
        "responses-nested-function",
        "openai-responses",
        False,
        with_value(OPENAI_RESPONSES, ("function",), {}),
        "$.function",
        ("unexpected key",),
    ),
    (
        "responses-name",
        "openai-responses",
        False,
        with_value(OPENAI_RESPONSES, ("name",), "a/b"),
        "$.name",
        ("name rule",),
    ),
    (
        "responses-strict-minLength",
        "openai-responses",
        False,
        with_value(OPENAI_RESPONSES, ("parameters", "properties", "city", "minLength"), 1),
        "$.parameters.properties.city",
        ("minLength",),
    ),
    (
        "responses-strict-requested",
        "openai-responses",
        True,
        with_value(OPENAI_RESPONSES, ("strict",), None),
        "$.strict",
        ("must be true",),
    ),
    # --- Anthropic
    (
        "anthropic-missing-schema",
        "anthropic",
        False,
        without(ANTHROPIC, ("input_schema",)),
        "$",
        ("input_schema",),
    ),
    (
        "anthropic-name-129",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("name",), "a" * 129),
        "$.name",
        ("128",),
    ),
    (
        "anthropic-name-dot",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("name",), "get.weather"),
        "$.name",
        ("name rule",),
    ),
    (
        "anthropic-root-type",
        "anthropic",
        False,
        without(ANTHROPIC, ("input_schema", "type")),
        "$.input_schema.type",
        ("object",),
    ),
    (
        "anthropic-parameters-key",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("parameters",), {}),
        "$.parameters",
        ("unexpected key",),
    ),
    (
        "anthropic-strict-minimum",
        "anthropic",
        False,
        with_value(
            ANTHROPIC, ("input_schema", "$defs", "Place", "properties", "lat", "minimum"), -90
        ),
        "$.input_schema.$defs.Place.properties.lat",
        ("minimum", "strict"),
    ),
    (
        "anthropic-strict-maxLength",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "city", "maxLength"), 9),
        "$.input_schema.properties.city",
        ("maxLength",),
    ),
    (
        "anthropic-strict-maxItems",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "tags", "maxItems"), 3),
        "$.input_schema.properties.tags",
        ("maxItems",),
    ),
    (
        "anthropic-strict-minItems-2",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "tags", "minItems"), 2),
        "$.input_schema.properties.tags.minItems",
        ("0 and 1",),
    ),
    (
        "anthropic-strict-oneOf",
        "anthropic",
        False,
        with_value(
            ANTHROPIC, ("input_schema", "properties", "city"), {"oneOf": [{"type": "string"}]}
        ),
        "$.input_schema.properties.city",
        ("oneOf",),
    ),
    (
        "anthropic-strict-additionalProperties",
        "anthropic",
        False,
        without(ANTHROPIC, ("input_schema", "$defs", "Place", "additionalProperties")),
        "$.input_schema.$defs.Place",
        ("additionalProperties",),
    ),
    (
        "anthropic-strict-additionalProperties-schema",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "additionalProperties"), {"type": "string"}),
        "$.input_schema.additionalProperties",
        ("false",),
    ),
    (
        "anthropic-strict-format",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "when", "format"), "ipv4-address"),
        "$.input_schema.properties.when.format",
        ("ipv4-address",),
    ),
    (
        "anthropic-strict-complex-enum",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "unit", "enum"), ["c", {"f": 1}]),
        "$.input_schema.properties.unit.enum[1]",
        ("complex types",),
    ),
    (
        "anthropic-strict-allOf-ref",
        "anthropic",
        False,
        with_value(
            ANTHROPIC,
            ("input_schema", "properties", "place"),
            {"allOf": [{"$ref": "#/$defs/Place"}]},
        ),
        "$.input_schema.properties.place.allOf[0]",
        ("allOf", "$ref"),
    ),
    (
        "anthropic-strict-external-ref",
        "anthropic",
        False,
        with_value(
            ANTHROPIC, ("input_schema", "properties", "place", "$ref"), "http://example.com/place"
        ),
        "$.input_schema.properties.place.$ref",
        ("external",),
    ),
    (
        "anthropic-strict-regex-lookahead",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "code", "pattern"), "^(?=A)[A-Z]+$"),
        "$.input_schema.properties.code.pattern",
        ("lookahead",),
    ),
    (
        "anthropic-strict-regex-backreference",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "code", "pattern"), r"^(a)\1$"),
        "$.input_schema.properties.code.pattern",
        ("backreferences",),
    ),
    (
        "anthropic-strict-regex-boundary",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "code", "pattern"), r"\bword\b"),
        "$.input_schema.properties.code.pattern",
        ("word boundaries",),
    ),
    (
        "anthropic-strict-root-recursion",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("input_schema", "properties", "child"), {"$ref": "#"}),
        "$.input_schema.properties.child.$ref",
        ("recursive",),
    ),
    (
        "anthropic-strict-requested",
        "anthropic",
        True,
        without(ANTHROPIC, ("strict",)),
        "$.strict",
        ("must be true",),
    ),
    (
        "anthropic-strict-flag-type",
        "anthropic",
        False,
        with_value(ANTHROPIC, ("strict",), "yes"),
        "$.strict",
        ("boolean",),
    ),
    # --- Workers AI
    (
        "workers-missing-description",
        "workers-ai",
        False,
        without(WORKERS_AI, ("description",)),
        "$",
        ("description",),
    ),
    (
        "workers-missing-parameters",
        "workers-ai",
        False,
        without(WORKERS_AI, ("parameters",)),
        "$",
        ("parameters",),
    ),
    (
        "workers-openai-envelope",
        "workers-ai",
        False,
        with_value(WORKERS_AI, ("type",), "function"),
        "$.type",
        ("unexpected key",),
    ),
    (
        "workers-missing-properties",
        "workers-ai",
        False,
        without(WORKERS_AI, ("parameters", "properties")),
        "$.parameters",
        ("properties",),
    ),
    (
        "workers-root-type",
        "workers-ai",
        False,
        with_value(WORKERS_AI, ("parameters", "type"), "array"),
        "$.parameters.type",
        ("object",),
    ),
    (
        "workers-property-description",
        "workers-ai",
        False,
        without(WORKERS_AI, ("parameters", "properties", "days", "description")),
        "$.parameters.properties.days",
        ("description",),
    ),
    (
        "workers-property-type",
        "workers-ai",
        False,
        without(WORKERS_AI, ("parameters", "properties", "days", "type")),
        "$.parameters.properties.days",
        ("type",),
    ),
    (
        "workers-property-type-list",
        "workers-ai",
        False,
        with_value(WORKERS_AI, ("parameters", "properties", "days", "type"), ["integer", "null"]),
        "$.parameters.properties.days.type",
        ("single type",),
    ),
    (
        "workers-required-undeclared",
        "workers-ai",
        False,
        with_value(WORKERS_AI, ("parameters", "required"), ["lat"]),
        "$.parameters.required",
        ("lat",),
    ),
    (
        "workers-empty-name",
        "workers-ai",
        False,
        with_value(WORKERS_AI, ("name",), ""),
        "$.name",
        ("name rule",),
    ),
    # --- Gemini
    (
        "gemini-missing-description",
        "gemini",
        False,
        without(GEMINI, ("description",)),
        "$",
        ("description",),
    ),
    (
        "gemini-name-digit",
        "gemini",
        False,
        with_value(GEMINI, ("name",), "1st_tool"),
        "$.name",
        ("name rule",),
    ),
    ("gemini-name-65", "gemini", False, with_value(GEMINI, ("name",), "a" * 65), "$.name", ("64",)),
    (
        "gemini-name-slash",
        "gemini",
        False,
        with_value(GEMINI, ("name",), "a/b"),
        "$.name",
        ("name rule",),
    ),
    (
        "gemini-root-type",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "type"), "STRING"),
        "$.parameters.type",
        ("OBJECT",),
    ),
    (
        "gemini-ref",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "place"), {"$ref": "#/$defs/Place"}),
        "$.parameters.properties.place",
        ("$ref",),
    ),
    (
        "gemini-defs",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "$defs"), {}),
        "$.parameters",
        ("$defs",),
    ),
    (
        "gemini-additionalProperties",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "additionalProperties"), False),
        "$.parameters",
        ("additionalProperties",),
    ),
    (
        "gemini-const",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "unit", "const"), "celsius"),
        "$.parameters.properties.unit",
        ("const",),
    ),
    (
        "gemini-oneOf",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "either"), {"oneOf": [{"type": "STRING"}]}),
        "$.parameters.properties.either",
        ("oneOf",),
    ),
    (
        "gemini-allOf",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "either"), {"allOf": [{"type": "STRING"}]}),
        "$.parameters.properties.either",
        ("allOf",),
    ),
    (
        "gemini-exclusiveMinimum",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "days", "exclusiveMinimum"), 0),
        "$.parameters.properties.days",
        ("exclusiveMinimum",),
    ),
    (
        "gemini-type-list",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "city", "type"), ["STRING", "NULL"]),
        "$.parameters.properties.city.type",
        ("type lists",),
    ),
    (
        "gemini-type-unknown",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "city", "type"), "TEXT"),
        "$.parameters.properties.city.type",
        ("TEXT",),
    ),
    (
        "gemini-missing-type",
        "gemini",
        False,
        without(GEMINI, ("parameters", "properties", "city", "type")),
        "$.parameters.properties.city",
        ("type",),
    ),
    (
        "gemini-empty-object",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "place", "properties"), {}),
        "$.parameters.properties.place.properties",
        ("non-empty",),
    ),
    (
        "gemini-empty-parameters",
        "gemini",
        False,
        with_value(GEMINI, ("parameters",), {"type": "OBJECT", "properties": {}}),
        "$.parameters.properties",
        ("non-empty",),
    ),
    (
        "gemini-array-items",
        "gemini",
        False,
        without(GEMINI, ("parameters", "properties", "tags", "items")),
        "$.parameters.properties.tags",
        ("items",),
    ),
    (
        "gemini-int-enum",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "days", "enum"), [1, 2]),
        "$.parameters.properties.days.enum",
        ("strings",),
    ),
    (
        "gemini-nullable-type",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "unit", "nullable"), "yes"),
        "$.parameters.properties.unit.nullable",
        ("boolean",),
    ),
    (
        "gemini-required-undeclared",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "required"), ["town"]),
        "$.parameters.required",
        ("town",),
    ),
    (
        "gemini-ordering-undeclared",
        "gemini",
        False,
        with_value(
            GEMINI, ("parameters", "properties", "place", "propertyOrdering"), ["lat", "alt"]
        ),
        "$.parameters.properties.place.propertyOrdering",
        ("alt",),
    ),
    (
        "gemini-parameter-name",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "first-name"), {"type": "STRING"}),
        "$.parameters.properties.first-name",
        ("parameter name",),
    ),
    (
        "gemini-negative-count",
        "gemini",
        False,
        with_value(GEMINI, ("parameters", "properties", "tags", "minItems"), -1),
        "$.parameters.properties.tags.minItems",
        ("non-negative",),
    ),
    (
        "gemini-both-parameter-forms",
        "gemini",
        False,
        with_value(GEMINI, ("parametersJsonSchema",), {"type": "object"}),
        "$.parametersJsonSchema",
        ("mutually exclusive",),
    ),
    # --- MCP
    (
        "mcp-missing-input-schema",
        "mcp",
        False,
        without(MCP, ("inputSchema",)),
        "$",
        ("inputSchema",),
    ),
    (
        "mcp-input-schema-null",
        "mcp",
        False,
        with_value(MCP, ("inputSchema",), None),
        "$.inputSchema",
        ("JSON Schema object",),
    ),
    (
        "mcp-input-root-type",
        "mcp",
        False,
        with_value(MCP, ("inputSchema", "type"), "array"),
        "$.inputSchema.type",
        ("object",),
    ),
    (
        "mcp-output-root-type",
        "mcp",
        False,
        with_value(MCP, ("outputSchema", "type"), "string"),
        "$.outputSchema.type",
        ("object",),
    ),
    (
        "mcp-invalid-json-schema",
        "mcp",
        False,
        with_value(MCP, ("inputSchema", "required"), "city"),
        "$.inputSchema.required",
        ("not a valid JSON Schema",),
    ),
    (
        "mcp-unknown-dialect",
        "mcp",
        False,
        with_value(MCP, ("inputSchema", "$schema"), "https://example.com/my-dialect"),
        "$.inputSchema.$schema",
        ("dialect",),
    ),
    (
        "mcp-name-space",
        "mcp",
        False,
        with_value(MCP, ("name",), "get forecast"),
        "$.name",
        ("name rule",),
    ),
    ("mcp-name-129", "mcp", False, with_value(MCP, ("name",), "a" * 129), "$.name", ("128",)),
    ("mcp-name-empty", "mcp", False, with_value(MCP, ("name",), ""), "$.name", ("name rule",)),
    (
        "mcp-annotation-not-bool",
        "mcp",
        False,
        with_value(MCP, ("annotations", "readOnlyHint"), "true"),
        "$.annotations.readOnlyHint",
        ("boolean",),
    ),
    (
        "mcp-annotation-unknown",
        "mcp",
        False,
        with_value(MCP, ("annotations", "dangerousHint"), True),
        "$.annotations.dangerousHint",
        ("unexpected key",),
    ),
    (
        "mcp-annotation-title",
        "mcp",
        False,
        with_value(MCP, ("annotations", "title"), 3),
        "$.annotations.title",
        ("string",),
    ),
    (
        "mcp-unknown-key",
        "mcp",
        False,
        with_value(MCP, ("parameters",), {}),
        "$.parameters",
        ("unexpected key",),
    ),
    (
        "mcp-task-support",
        "mcp",
        False,
        with_value(MCP, ("execution",), {"taskSupport": "always"}),
        "$.execution.taskSupport",
        ("forbidden",),
    ),
]


@pytest.mark.parametrize(
    ("format", "strict", "definition", "path", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
)
def test_known_bad_definition_is_reported(
    format: str, strict: bool, definition: JSON, path: str, words: tuple[str, ...]
) -> None:
    assert_violation(check_definition(format, definition, strict=strict), path, *words)


# ---------------------------------------------------------------------------------------------
# OpenAI strict-mode limits
# ---------------------------------------------------------------------------------------------


def strict_object(properties: JSON) -> JSON:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def openai_with(parameters: JSON) -> JSON:
    return with_value(OPENAI_CHAT, ("function", "parameters"), parameters)


def test_openai_nesting_depth_limit() -> None:
    def nested(levels: int) -> JSON:
        schema = strict_object({"leaf": {"type": "string"}})
        for _ in range(levels - 1):
            schema = strict_object({"child": schema})
        return schema

    assert check_definition("openai", openai_with(nested(10))) == []
    violations = check_definition("openai", openai_with(nested(11)))
    assert_violation(violations, OP + ".properties.child" * 10, "nesting depth 11", "10")


def test_openai_total_properties_limit() -> None:
    many = strict_object({f"p{index}": {"type": "string"} for index in range(5001)})
    assert_violation(check_definition("openai", openai_with(many)), OP, "5001", "5000")


def test_openai_total_enum_values_limit() -> None:
    schema = strict_object(
        {
            "a": {"type": "integer", "enum": list(range(600))},
            "b": {"type": "integer", "enum": list(range(401))},
        }
    )
    assert_violation(check_definition("openai", openai_with(schema)), OP, "1001", "enum")


def test_openai_large_string_enum_limit() -> None:
    values = [f"{index:03d}" + "x" * 57 for index in range(251)]  # 251 values of 60 chars
    schema = strict_object({"code": {"type": "string", "enum": values}})
    violations = check_definition("openai", openai_with(schema))
    assert_violation(violations, f"{OP}.properties.code.enum", "251", "15000")

    few = strict_object({"code": {"type": "string", "enum": values[:250]}})
    assert check_definition("openai", openai_with(few)) == []


def test_openai_total_string_length_limit() -> None:
    long_values = ["v" * 1000 + str(index) for index in range(121)]
    schema = strict_object({"code": {"type": "string", "enum": long_values}})
    assert_violation(check_definition("openai", openai_with(schema)), OP, "120000")


def test_openai_recursion_is_allowed() -> None:
    schema: JSON = {
        **strict_object(
            {"value": {"type": "number"}, "children": {"type": "array", "items": {"$ref": "#"}}}
        ),
    }
    assert check_definition("openai", openai_with(schema)) == []


# ---------------------------------------------------------------------------------------------
# Anthropic strict-mode complexity limits
# ---------------------------------------------------------------------------------------------


def anthropic_with(input_schema: JSON) -> JSON:
    return with_value(ANTHROPIC, ("input_schema",), input_schema)


def test_anthropic_optional_parameter_limit() -> None:
    def schema(optional: int) -> JSON:
        return {
            "type": "object",
            "properties": {f"p{index}": {"type": "string"} for index in range(optional)},
            "additionalProperties": False,
        }

    assert check_definition("anthropic", anthropic_with(schema(24))) == []
    assert_violation(
        check_definition("anthropic", anthropic_with(schema(25))), "$.input_schema", "25", "24"
    )


def test_anthropic_union_parameter_limit() -> None:
    def schema(unions: int) -> JSON:
        properties = {f"p{index}": {"type": ["string", "null"]} for index in range(unions)}
        return {
            "type": "object",
            "properties": properties,
            "required": list(properties),
            "additionalProperties": False,
        }

    assert check_definition("anthropic", anthropic_with(schema(16))) == []
    assert_violation(
        check_definition("anthropic", anthropic_with(schema(17))), "$.input_schema", "17", "16"
    )


def test_anthropic_mutual_recursion_is_reported() -> None:
    schema: JSON = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "required": ["a"],
        "additionalProperties": False,
        "$defs": {
            "A": {
                "type": "object",
                "properties": {"b": {"$ref": "#/$defs/B"}},
                "additionalProperties": False,
            },
            "B": {
                "type": "object",
                "properties": {"a": {"$ref": "#/$defs/A"}},
                "additionalProperties": False,
            },
        },
    }
    violations = check_definition("anthropic", anthropic_with(schema))
    assert_violation(violations, "$.input_schema.$defs.A.properties.b.$ref", "recursive")
    assert_violation(violations, "$.input_schema.$defs.B.properties.a.$ref", "recursive")
    assert not any(v.startswith("$.input_schema.properties.a.$ref") for v in violations)


# ---------------------------------------------------------------------------------------------
# Gemini details and the entry point
# ---------------------------------------------------------------------------------------------


def test_gemini_types_are_case_insensitive() -> None:
    lower = with_value(GEMINI, ("parameters", "type"), "object")
    lower = with_value(lower, ("parameters", "properties", "city", "type"), "string")
    assert check_definition("gemini", lower) == []


def test_gemini_accepts_names_with_dots_colons_and_dashes() -> None:
    assert check_definition("gemini", with_value(GEMINI, ("name",), "_ns:tool.get-x")) == []


def test_every_violation_names_a_json_path() -> None:
    broken = with_value(GEMINI, ("parameters", "properties", "x"), {"type": "array", "const": 1})
    violations = check_definition("gemini", broken)
    assert violations
    assert all(message.startswith("$") and ": " in message for message in violations)


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        check_definition("cohere", {})


@pytest.mark.parametrize("format", sorted(set(FORMATS) - set(STRICT_FORMATS)))
def test_strict_on_a_format_without_strict_mode_is_rejected(format: str) -> None:
    with pytest.raises(ValueError, match="no strict mode"):
        check_definition(format, GOOD[format], strict=True)


@pytest.mark.parametrize("format", FORMATS)
def test_a_definition_must_be_an_object(format: str) -> None:
    bad: Any = ["not", "an", "object"]
    assert check_definition(format, bad) == ["$: a tool definition must be a JSON object"]
