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


_LINK = re.compile(r"\]\((?P<file>[\w./-]*?\.md|)(?:#(?P<anchor>[\w-]+))?\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
_FENCE = re.compile(r"```.*?```", re.DOTALL)


def _anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped but for
    hyphens and underscores, spaces as hyphens."""
    text = _FENCE.sub("", path.read_text())
    return {
        re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        for heading in _HEADING.findall(text)
    }


def test_every_link_between_the_pages_points_at_a_page_and_heading_that_exist() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken: list[str] = []
    for page in pages:
        for link in _LINK.finditer(_FENCE.sub("", page.read_text())):
            target = (page.parent / link["file"]).resolve() if link["file"] else page
            if not target.is_file():
                broken.append(f"{page.name}: {link.group(0)} (no such page)")
            elif link["anchor"] and link["anchor"] not in _anchors(target):
                broken.append(f"{page.name}: {link.group(0)} (no such heading)")
    assert broken == []
