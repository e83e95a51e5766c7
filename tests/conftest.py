"""Test-wide guards: every rendered definition is checked against its provider's rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import check_definition

from toolkit import FORMATS
from toolkit.formats import Change, get_format

Render = Callable[..., tuple[dict[str, Any], tuple[Change, ...]]]


def _checked(format: str, render: Render) -> Render:
    def render_and_check(tool: Any, *, strict: bool) -> tuple[dict[str, Any], tuple[Change, ...]]:
        definition, changes = render(tool, strict=strict)
        violations = check_definition(format, definition, strict=strict)
        if violations:
            listed = "\n  ".join(violations)
            raise AssertionError(f"{format} definition of {tool!r} breaks the rules:\n  {listed}")
        return definition, changes

    return render_and_check


# Wrap each codec once, for the whole session: no schema a test produces escapes the check.
for _format in FORMATS:
    _codec: Any = get_format(_format)
    _codec.render_tool = _checked(_format, _codec.render_tool)
