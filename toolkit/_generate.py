"""The parts of pydantic that generate schemas, loaded only when the first tool is built."""

from __future__ import annotations

import warnings
from typing import Any, cast

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

    # pydantic rebuilds this table of ~90 bound methods for every generator; the lookup by
    # name is the same for every instance of the class, so it is done once per class.
    def build_schema_type_to_method(self) -> dict[Any, Any]:
        names = _METHOD_NAMES.get(type(self))
        if names is None:
            table = super().build_schema_type_to_method()
            _METHOD_NAMES[type(self)] = {key: method.__name__ for key, method in table.items()}
            return table
        return {key: getattr(self, name) for key, name in names.items()}

    # pydantic builds a TypeAdapter for every default it encodes; JSON-native defaults (the
    # usual "celsius", 1, None, []) are already encoded.
    def encode_default(self, dft: Any) -> Any:
        if _is_json_native(dft):
            return dft
        return super().encode_default(dft)

    # pydantic 2.12 and 2.13 give a Decimal's string form a look-ahead `pattern`, which
    # Anthropic's strict mode refuses (2.14 dropped it): the validator checks the digits
    # anyway, so the pattern goes on every version.
    def decimal_schema(self, schema: Any) -> Any:
        rendered = super().decimal_schema(schema)
        for branch in [rendered, *rendered.get("anyOf", ())]:
            if branch.get("type") == "string":
                branch.pop("pattern", None)
        return rendered

    # A default pydantic cannot serialise is left out of the schema; that is not worth a
    # warning at decoration time because the validator still applies it.
    def emit_warning(self, kind: Any, detail: str) -> None:
        return None

    # Whether a float sits inside a model, dataclass or TypedDict, noted on the way: those
    # validate under their own config (a model with its own validator), which toolkit then
    # adjusts or checks for non-finite floats. Knowing it here spares every other tool a
    # walk of its models' schemas.
    floats_in_classes = False
    _class_depth = 0

    def float_schema(self, schema: Any) -> Any:
        if self._class_depth:
            self.floats_in_classes = True
        return super().float_schema(schema)

    def model_schema(self, schema: Any) -> Any:
        self._class_depth += 1
        try:
            return super().model_schema(schema)
        finally:
            self._class_depth -= 1

    def dataclass_schema(self, schema: Any) -> Any:
        self._class_depth += 1
        try:
            return super().dataclass_schema(schema)
        finally:
            self._class_depth -= 1

    def typed_dict_schema(self, schema: Any) -> Any:
        self._class_depth += 1
        try:
            return super().typed_dict_schema(schema)
        finally:
            self._class_depth -= 1


_METHOD_NAMES: dict[type[GenerateJsonSchema], dict[Any, str]] = {}


def _is_json_native(value: Any, depth: int = 0) -> bool:
    if value is None or type(value) in (str, int, float, bool):
        return True
    if depth >= 3:
        return False
    if type(value) is list:
        items = cast("list[Any]", value)
        return all(_is_json_native(v, depth + 1) for v in items)
    if type(value) is dict:
        entries = cast("dict[Any, Any]", value)
        return all(type(k) is str and _is_json_native(v, depth + 1) for k, v in entries.items())
    return False


def json_schema_of(core: CoreSchema) -> tuple[dict[str, Any], bool]:
    """The validation-side JSON Schema of a core schema, without titles' warnings, and
    whether a model, dataclass or TypedDict in it holds a float."""
    generator = _QuietJsonSchema()
    return generator.generate(core), generator.floats_in_classes


def return_schema_of(annotation: Any) -> dict[str, Any]:
    """The serialisation-side JSON Schema of a type (what a tool returns)."""
    return TypeAdapter(annotation).json_schema(
        mode="serialization", schema_generator=_QuietJsonSchema
    )
