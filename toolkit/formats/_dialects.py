"""The JSON Schema dialects of the providers, as ``Rules`` for the schema walker.

Sources and the full rule tables are in ``docs/providers.md``.
"""

from __future__ import annotations

from typing import Any

from toolkit.formats._transform import Change, Rules, convert_schema

__all__ = ["ANTHROPIC_STRICT", "GEMINI", "OPENAI_STRICT", "WORKERS_AI", "parameters_for"]

_STANDARD = frozenset(
    {
        "enum",
        "const",
        "default",
        "examples",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
        "propertyNames",
    }
)

OPENAI_STRICT = Rules(
    keywords=frozenset(
        {
            "enum",
            "const",
            "pattern",
            "format",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
            "minItems",
            "maxItems",
        }
    ),
    strict=True,
    require_all=True,
    ref_siblings=False,
    formats=frozenset(
        {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
    ),
    one_of=False,
    tuples=False,
    any_values=False,
    dialect="OpenAI strict mode",
)

ANTHROPIC_STRICT = Rules(
    keywords=frozenset({"enum", "const", "pattern", "format", "default", "minItems"}),
    min_items_at_most=1,
    strict=True,
    formats=frozenset(
        {
            "date-time",
            "time",
            "date",
            "duration",
            "email",
            "hostname",
            "uri",
            "ipv4",
            "ipv6",
            "uuid",
        }
    ),
    one_of=False,
    tuples=False,
    recursion=False,
    any_values=False,
    dialect="Anthropic strict tool use",
)

WORKERS_AI = Rules(
    keywords=_STANDARD,
    refs="non-recursive",
    type_lists=False,
    drop_null_branch=True,
    describe_properties=True,
    typed_properties=True,
    dialect="Workers AI",
)

GEMINI = Rules(
    keywords=frozenset(
        {
            "enum",
            "format",
            "minimum",
            "maximum",
            "minItems",
            "maxItems",
            "minLength",
            "maxLength",
            "pattern",
            "minProperties",
            "maxProperties",
            "default",
        }
    ),
    refs="all",
    type_lists=False,
    nullable_keyword=True,
    free_objects=False,
    typed_extra=False,
    tuples=False,
    one_of=False,
    string_enums_only=True,
    upper_types=True,
    formats=frozenset({"date-time", "enum", "int32", "int64", "float", "double"}),
    any_values=False,
    dialect="Gemini",
)


def parameters_for(
    schema: dict[str, Any], rules: Rules | None, qualname: str
) -> tuple[dict[str, Any], tuple[Change, ...]]:
    """The arguments schema under ``rules`` (``None``: the neutral schema, unchanged)."""
    if rules is None:
        return schema, ()
    converted, changes = convert_schema(schema, rules, qualname)
    return converted, tuple(changes)
