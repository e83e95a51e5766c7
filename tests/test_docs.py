"""Every Python snippet in README.md and docs/ runs as written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _snippets() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for index, block in enumerate(_BLOCK.findall(path.read_text())):
            found.append((f"{path.name}[{index}]", block))
    return found


@pytest.mark.parametrize(("where", "code"), _snippets(), ids=[w for w, _ in _snippets()])
def test_snippet_runs(where: str, code: str) -> None:
    if where.startswith("mcp.md"):
        pytest.importorskip("mcp", reason="the mcp extra is not installed")
    # A real module, so dataclasses and pydantic can resolve the snippet's own names.
    module = types.ModuleType(f"snippet_{where.replace('.', '_')}")
    sys.modules[module.__name__] = module
    try:
        code_object = compile(code, where, "exec", dont_inherit=True)
        exec(code_object, module.__dict__)  # our own documentation
    finally:
        del sys.modules[module.__name__]
