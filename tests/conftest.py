"""Test-wide guards: every rendered definition is checked against its provider's rules."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _dists import Distributions, open_distributions
from conformance import check_definition

from toolkit import FORMATS
from toolkit.formats import Change, get_format

Render = Callable[..., tuple[dict[str, Any], tuple[Change, ...]]]


def _checked(format: str, render: Render) -> Render:
    def render_and_check(tool: Any, *, strict: bool) -> tuple[dict[str, Any], tuple[Change, ...]]:
        definition, changes = render(tool, strict=strict)
        # Gemini and Workers AI have no strict mode: their codecs render a strict tool as
        # they render any other, and the provider's rules are those of a plain tool.
        checked_strict = strict and format not in ("gemini", "workers-ai", "mcp")
        violations = check_definition(format, definition, strict=checked_strict)
        if violations:
            listed = "\n  ".join(violations)
            raise AssertionError(f"{format} definition of {tool!r} breaks the rules:\n  {listed}")
        return definition, changes

    return render_and_check


# Wrap each codec once, for the whole session: no schema a test produces escapes the check.
for _format in FORMATS:
    _codec: Any = get_format(_format)
    _codec.render_tool = _checked(_format, _codec.render_tool)


@pytest.fixture
def fake_distributions(tmp_path: Path) -> Iterator[Distributions]:
    """Throwaway installed distributions (see ``_dists``), removed after the test; the
    pack environment variables are cleared for it."""
    saved = {name: os.environ.pop(name) for name in _PACK_VARIABLES if name in os.environ}
    distributions = open_distributions(tmp_path / "site")
    try:
        yield distributions
    finally:
        distributions.close()
        os.environ.update(saved)


_PACK_VARIABLES = ("TOOLKIT_PACKS", "TOOLKIT_PACKS_STRICT")
