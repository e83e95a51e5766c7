"""The parts of pydantic that generate schemas, loaded only when the first tool is built."""

from __future__ import annotations

import warnings
from typing import Any

from pydantic import PydanticSchemaGenerationError, PydanticUserError, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema

with warnings.catch_warnings():
    # The arguments-schema builder is marked experimental; it is the only public way to
    # validate positional-only parameters by name, so we accept the pin on pydantic 2.11+.
    warnings.simplefilter("ignore")
    from pydantic.experimental.arguments_schema import generate_arguments_schema

__all__ = [
    "GENERATION_ERRORS",
    "TypeAdapter",
    "arguments_schema",
    "json_schema_of",
    "return_schema_of",
]

GENERATION_ERRORS = (PydanticSchemaGenerationError, PydanticUserError)
arguments_schema = generate_arguments_schema


class _QuietJsonSchema(GenerateJsonSchema):
    # Titles repeat the property names ("City" for "city") and cost tokens on every request.
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    # A default pydantic cannot serialise is left out of the schema; that is not worth a
    # warning at decoration time because the validator still applies it.
    def emit_warning(self, kind: Any, detail: str) -> None:
        return None


def json_schema_of(core: CoreSchema) -> dict[str, Any]:
    """The validation-side JSON Schema of a core schema, without titles' warnings."""
    return _QuietJsonSchema().generate(core)


def return_schema_of(annotation: Any) -> dict[str, Any]:
    """The serialisation-side JSON Schema of a type (what a tool returns)."""
    return TypeAdapter(annotation).json_schema(
        mode="serialization", schema_generator=_QuietJsonSchema
    )
