"""The pack as installed: found through its entry point, loaded into a ``Registry`` and
called the way a model calls it (JSON arguments), hostile arguments included.

Run from this directory, with the pack installed: ``python -m pytest``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from toolkit_files import SHARE_KEY, _toolbox, verify_link

from toolkit import Registry, ToolCall, ToolResult
from toolkit.packs import PackError, PackWarning, installed_packs, load_pack

KEY = "a-test-key-that-signs-links"
TOOLS = ["files_list", "files_read", "files_search", "files_write", "files_delete", "files_share"]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "todo.txt").write_text("buy milk\nCall the DENTIST\n")
    (root / "report.txt").write_text("Quarterly report\n")
    (tmp_path / "secret.txt").write_text("outside the root")
    return root


@pytest.fixture
def registry(root: Path) -> Registry:
    registry = Registry(secrets={SHARE_KEY: KEY})
    registry.add_pack("files", config={"root": str(root)})
    return registry


def call(registry: Registry, tool: str, **arguments: Any) -> ToolResult:
    """One call of ``files_<tool>``, with JSON arguments as a model sends them."""
    request = ToolCall(id="call_1", name=f"files_{tool}", arguments=json.dumps(arguments))
    return registry.execute([request])[0]


def content(registry: Registry, tool: str, **arguments: Any) -> Any:
    """The result of a call that must succeed, decoded when it is JSON."""
    result = call(registry, tool, **arguments)
    assert not result.is_error, result.content
    return result.value


def error(registry: Registry, tool: str, **arguments: Any) -> str:
    """The message of a call that must fail."""
    result = call(registry, tool, **arguments)
    assert result.is_error, result.content
    return result.content


def test_the_pack_is_found_through_its_entry_point() -> None:
    info = next(info for info in installed_packs() if info.name == "files")
    assert (info.distribution, info.value, info.problem) == (
        "toolkit-files",
        "toolkit_files:pack",
        None,
    )
    pack = load_pack("files")
    assert pack.version == info.version
    assert pack.description.startswith("List, read, search")


def test_the_tools_are_namespaced_tagged_and_hinted(registry: Registry) -> None:
    assert registry.names == TOOLS
    assert registry.origin("files_read") == "files"
    changing = {t.name for t in registry if t.annotations and t.annotations.destructive}
    assert changing == {"files_write", "files_delete"}
    assert {t.name for t in registry if "write" in t.tags} == changing
    assert registry["files_share"].secrets == (SHARE_KEY,)
    assert "ctx" not in registry["files_share"].parameters["properties"]


def test_tags_choose_the_tools(root: Path) -> None:
    registry = Registry(secrets={SHARE_KEY: KEY})
    registry.add_pack("files", config={"root": str(root)}, exclude_tags={"write", "share"})
    assert registry.names == ["files_list", "files_read", "files_search"]


def test_the_configuration_is_validated(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="root"):
        Registry().add_pack("files", config={})
    with pytest.raises(PackError, match="root"):
        Registry().add_pack("files", config={"root": str(tmp_path / "missing")})
    with pytest.raises(PackError, match="max_bytes"):
        Registry().add_pack("files", config={"root": str(tmp_path), "max_bytes": 0})


def test_list_read_and_search(registry: Registry) -> None:
    assert content(registry, "list") == ["notes/", "report.txt (17 bytes)"]
    assert content(registry, "list", path="notes") == ["todo.txt (26 bytes)"]
    assert content(registry, "read", path="notes/todo.txt") == "buy milk\nCall the DENTIST\n"
    assert content(registry, "search", text="dentist") == ["notes/todo.txt:2: Call the DENTIST"]
    assert content(registry, "search", text="nowhere") == []


def test_a_long_file_is_read_in_parts(root: Path) -> None:
    registry = Registry()
    registry.add_pack("files", config={"root": str(root), "max_bytes": 10}, include_tags={"read"})
    text = "héllo wörld, ça va? " * 3  # characters of two bytes, cut between parts
    (root / "long.txt").write_text(text, encoding="utf-8")
    parts: list[str] = []
    offset = 0
    while True:
        part: str = content(registry, "read", path="long.txt", offset=offset)
        body, _, note = part.partition("\n[")
        parts.append(body)
        if not note:
            break
        offset = int(note.rsplit("offset=", 1)[1].rstrip("]"))
    assert "".join(parts) == text
    assert "past the end" in error(registry, "read", path="long.txt", offset=10_000)


def test_write_and_delete(registry: Registry, root: Path) -> None:
    assert content(registry, "write", path="new/shopping.txt", content="buy milk") == (
        "wrote 8 bytes to new/shopping.txt"
    )
    assert (root / "new" / "shopping.txt").read_text() == "buy milk"
    assert "overwrite=true" in error(registry, "write", path="new/shopping.txt", content="x")
    content(registry, "write", path="new/shopping.txt", content="eggs", overwrite=True)
    assert (root / "new" / "shopping.txt").read_text() == "eggs"
    assert "not empty" in error(registry, "delete", path="new").lower()
    assert content(registry, "delete", path="new/shopping.txt") == "deleted new/shopping.txt"
    assert content(registry, "delete", path="new") == "deleted new"
    assert "does not exist" in error(registry, "delete", path="new")


def test_sizes_are_bounded(root: Path) -> None:
    registry = Registry()
    registry.add_pack("files", config={"root": str(root), "max_bytes": 100}, exclude_tags={"share"})
    assert "at most 100 bytes" in error(registry, "write", path="big.txt", content="x" * 101)
    (root / "big.txt").write_text("needle " * 100)
    assert content(registry, "search", text="needle") == []  # too large to search
    (root / "data.bin").write_bytes(b"\x00\x01")
    assert "binary" in error(registry, "read", path="data.bin")


def test_listings_and_searches_are_bounded(
    registry: Registry, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(5):
        (root / f"many-{index}.txt").write_text("match\n" * 5)
    monkeypatch.setattr(_toolbox, "_MAX_ENTRIES", 3)
    monkeypatch.setattr(_toolbox, "_MAX_MATCHES", 4)
    listed = content(registry, "list")
    assert listed[3:] == ["[and 4 more: list a subdirectory]"]
    found = content(registry, "search", text="match")
    assert found[:2] == ["many-0.txt:1: match", "many-0.txt:2: match"]
    assert found[4:] == ["[stopped at 4 lines: search for more words]"]
    monkeypatch.setattr(_toolbox, "_MAX_LOOKED_AT", 5)
    assert content(registry, "search", text="match") == [
        "[stopped after 5 entries: search a subdirectory]"
    ]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../secret.txt", "goes up with '..'"),
        ("notes/../../secret.txt", "goes up with '..'"),
        ("/etc/passwd", "is absolute"),
        ("C:\\Windows\\win.ini", "is absolute"),
        ("\\\\server\\share\\x", "is absolute"),
        ("..\\secret.txt", "goes up with '..'"),
        ("notes\x00.txt", "NUL character"),
        ("a/" * 600, "at most 1024"),
    ],
)
def test_hostile_paths_are_refused(registry: Registry, path: str, problem: str) -> None:
    for tool, arguments in [
        ("list", {}),
        ("read", {}),
        ("search", {"text": "x"}),
        ("write", {"content": "x"}),
        ("delete", {}),
        ("share", {}),
    ]:
        assert problem in error(registry, tool, path=path, **arguments)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links on this system")
def test_links_out_of_the_root_lead_nowhere(registry: Registry, root: Path) -> None:
    outside = root.parent / "secret.txt"
    (root / "escape.txt").symlink_to(outside)
    (root / "away").symlink_to(root.parent, target_is_directory=True)
    (root / "circle").symlink_to(root / "circle")
    for path in ["escape.txt", "away/secret.txt", "away"]:
        assert "out of the root" in error(registry, "read", path=path)
    assert "out of the root" in error(registry, "write", path="away/new.txt", content="x")
    assert "'circle'" in error(registry, "read", path="circle")  # a loop: no hang
    assert content(registry, "search", text="outside") == []  # links are not followed
    # Deleting a link deletes the link, never the file it points to.
    assert content(registry, "delete", path="escape.txt") == "deleted escape.txt"
    assert outside.read_text() == "outside the root"
    assert not (root.parent / "new.txt").exists()


def test_errors_never_show_the_host_paths(registry: Registry, root: Path) -> None:
    messages = [
        error(registry, "read", path="missing.txt"),
        error(registry, "read", path="notes"),
        error(registry, "list", path="report.txt"),
        error(registry, "write", path="report.txt/x", content="x"),
    ]
    assert all(str(root) not in message for message in messages), messages


def test_share_signs_a_link_without_showing_the_key(registry: Registry) -> None:
    result = call(registry, "share", path="notes/todo.txt")
    link = result.content
    assert link.startswith("https://files.example.com/share/notes/todo.txt?expires=")
    assert KEY not in link
    assert verify_link(link, KEY)
    assert not verify_link(link, "another key")
    assert not verify_link(link.replace("todo.txt", "other.txt"), KEY)
    assert not verify_link(link, KEY, now=time.time() + 3_601)  # expired


def test_share_without_its_secret_answers_with_an_error(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SHARE_KEY, raising=False)
    registry = Registry()
    with pytest.warns(PackWarning, match=SHARE_KEY):
        registry.add_pack("files", config={"root": str(root)})
    assert SHARE_KEY in error(registry, "share", path="report.txt")
    assert content(registry, "list") == ["notes/", "report.txt (17 bytes)"]  # the others work


def test_the_evaluation_cases_name_the_tools_and_their_arguments(root: Path) -> None:
    pack = load_pack("files")
    tools = {t.base_name: t for t in pack.build({"root": str(root)})}
    assert len(pack.evals) >= 5
    for case in pack.evals:
        for expected in case.expect:
            assert expected.tool in tools, case.title
            assert set(expected.arguments) <= set(tools[expected.tool].parameters["properties"])
