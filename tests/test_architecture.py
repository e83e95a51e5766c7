"""The package's shape: one documented home per public name, and imports that point down.

The layer table below is the one in the design notes (DESIGN.md, "Where each idea lives").
Every ``import`` of a toolkit module, at module level or inside a function (lazy imports
are still imports), must name a module of the same layer or a lower one. Imports under
``if TYPE_CHECKING:`` are for the type checker only and are not counted.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import toolkit

PACKAGE = Path(toolkit.__file__).parent

# module (or package prefix) -> layer; the most specific prefix wins.
LAYERS: dict[str, int] = {
    # 1: the neutral foundation: data, errors, words for the model
    "toolkit.errors": 1,
    "toolkit.calls": 1,
    "toolkit.media": 1,
    "toolkit.context": 1,
    "toolkit.model": 1,
    "toolkit.docstrings": 1,
    "toolkit._lossless": 1,
    "toolkit._generate": 1,
    "toolkit._feedback": 1,
    "toolkit._tracing": 1,  # OpenTelemetry, imported only when installed and a run starts
    # 2: a function read once into a plan (schema + validator)
    "toolkit.schema": 2,
    "toolkit._json_schema": 2,
    # 3: one codec per protocol, behind the declared contract
    "toolkit.formats": 3,
    # 4: the tool, which asks a codec to render it
    "toolkit.tool": 4,
    # 5: executing calls; talking to clients
    "toolkit.registry": 5,
    "toolkit.tool_search": 5,  # an index over a registry's tools, and a tool to search it
    "toolkit._execution": 5,
    "toolkit.backends": 5,
    "toolkit.packs": 5,  # a pack is tools; the registry loads packs
    "toolkit.packs._evals": 6,  # scoring a pack against a model, through a backend
    # 6: the loop and everything around it
    "toolkit.runner": 6,
    # 7: built on everything
    "toolkit.testing": 7,
    "toolkit.cli": 7,
    "toolkit.mcp": 7,
    "toolkit.__main__": 7,
}

PUBLIC_MODULES = [
    "toolkit",
    "toolkit.model",
    "toolkit.formats",
    "toolkit.packs",
    "toolkit.testing",
    "toolkit.mcp",
]

EXPORTED = {
    "toolkit": [
        "AfterCall",
        "AnthropicMessages",
        "ApprovalPolicy",
        "Approve",
        "Approver",
        "ArgumentProblem",
        "ArgumentsDelta",
        "BeforeCall",
        "CallError",
        "Change",
        "ContentLossWarning",
        "Context",
        "Conversation",
        "ConversationConflict",
        "ConversationStore",
        "Decision",
        "DefinitionProblem",
        "Deny",
        "ErrorKind",
        "Event",
        "FORMATS",
        "File",
        "FormatName",
        "GeminiBackend",
        "HistoryPolicy",
        "Image",
        "Injected",
        "Limits",
        "ModelError",
        "OpenAIChat",
        "OpenAIResponses",
        "PartialOutput",
        "PendingApproval",
        "PostgresStore",
        "Registry",
        "Retry",
        "RunFinished",
        "RunResult",
        "RunState",
        "RunStopped",
        "Runner",
        "SQLiteStore",
        "Secrets",
        "StateError",
        "StepFinished",
        "StoredSession",
        "TextDelta",
        "Tool",
        "ToolAnnotations",
        "ToolCall",
        "ToolCallComplete",
        "ToolCallStarted",
        "ToolDefinitionError",
        "ToolError",
        "ToolMatch",
        "ToolNameConflict",
        "ToolResult",
        "ToolResultEvent",
        "ToolSearch",
        "ToolkitError",
        "Veto",
        "WorkersAI",
        "tool",
    ],
    "toolkit.model": [
        "AsyncModel",
        "ModelReply",
        "ModelRequest",
        "ModelSettings",
        "ReplyStop",
        "Step",
        "StopReason",
        "StreamDelta",
        "SyncModel",
        "ToolChoice",
        "Usage",
    ],
    "toolkit.formats": [
        "ConversationCodec",
        "ConversationFormat",
        "StreamAssembler",
        "ToolCodec",
        "get_format",
    ],
    "toolkit.packs": [
        "ENTRY_POINT_GROUP",
        "CaseOutcome",
        "EvalCase",
        "EvalReport",
        "Expect",
        "Matcher",
        "Pack",
        "PackError",
        "PackInfo",
        "PackWarning",
        "anything",
        "approx",
        "installed_packs",
        "load_pack",
        "matches",
        "one_of",
        "run_evals",
    ],
    "toolkit.testing": ["FunctionModel", "ReplySpec", "ScriptedModel", "TestModel", "call"],
    "toolkit.mcp": [
        "MCPClient",
        "MCPConnectionError",
        "MCPWarning",
        "Stdio",
        "StreamableHTTP",
        "mcp_server",
        "serve_http",
        "serve_http_async",
        "serve_stdio",
        "serve_stdio_async",
    ],
}


def _layer(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for prefix, layer in LAYERS.items():
        matches = module == prefix or module.startswith(prefix + ".")
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), layer)
    return None if best is None else best[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every runtime import of a toolkit module in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        is_type_checking = isinstance(node, ast.If) and (
            (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
            or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")
        )
        if is_type_checking:
            skipped.update(id(inner) for inner in ast.walk(node))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("toolkit")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: from the module's own package
                package = _module_name(path if path.name == "__init__.py" else path.parent)
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{module}" if module else base
            if module == "toolkit":
                # `from toolkit import _feedback` names a module, not a name of toolkit
                names = [f"toolkit.{a.name}" for a in node.names]
                found += [(node.lineno, n) for n in names if _layer(n) is not None]
            elif module.startswith("toolkit"):
                found.append((node.lineno, module))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


@pytest.mark.parametrize("path", MODULES, ids=_module_name)
def test_imports_point_down_the_layers(path: Path) -> None:
    here = _module_name(path)
    own = _layer(here)
    assert own is not None, f"{here} is in no layer: add it to LAYERS (and to DESIGN.md)"
    upward = [
        f"line {line}: {module} (layer {_layer(module)})"
        for line, module in _imports(path)
        if (_layer(module) or 0) > own
    ]
    assert upward == [], f"{here} (layer {own}) imports upward: {upward}"


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "from toolkit.registry import Registry\n"
        "if TYPE_CHECKING:\n    from toolkit.runner import Runner\n"
        "def f():\n    from toolkit import runner\n"
    )
    assert _imports(probe) == [(2, "toolkit.registry"), (6, "toolkit.runner")]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_exported_names_are_pinned_sorted_and_resolve(module: str) -> None:
    if module == "toolkit.mcp":
        pytest.importorskip("mcp", reason="the mcp extra is not installed")
    loaded = importlib.import_module(module)
    names = list(loaded.__all__)
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert sorted(names) == sorted(EXPORTED[module])
    for name in names:
        assert getattr(loaded, name) is not None, f"{module}.{name} does not resolve"


def test_every_public_name_has_one_home() -> None:
    seen: dict[str, str] = {}
    for module in PUBLIC_MODULES:
        for name in EXPORTED[module]:  # each module's __all__, as the test above pins it
            assert name not in seen, f"{name} is exported by {seen[name]} and {module}"
            seen[name] = module


def test_import_toolkit_loads_no_sdk_and_no_runner() -> None:
    code = (
        "import sys, toolkit\n"
        "heavy = ('openai', 'anthropic', 'httpx2', 'mcp', 'toolkit.registry', 'toolkit.runner',"
        " 'toolkit.backends', 'toolkit.mcp', 'toolkit.tool_search', 'google.genai',"
        " 'opentelemetry', 'psycopg', 'dask', 'distributed')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
