"""Packs as users meet them: built, installed into a fresh virtual environment with toolkit
from this checkout, and used from there.

One environment serves the whole module: uv (a declared test dependency) builds the wheels
of toolkit and of the example pack (examples/packs/toolkit-files), makes the environment
and installs them, taking the other packages from its cache (PyPI the first time). Each
test then runs that environment's own programs: its Python for discovery and for a
``Runner`` driving the real ``openai`` client against the local fake server, its ``toolkit``
command, its pytest for the example pack's tests and for those of a pack ``toolkit new``
generates. The scaffold's own checks (names, an existing directory) need no environment.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakeserver import Call, FakeServer, Reply

import toolkit
from toolkit.cli._scaffold import scaffold

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "packs" / "toolkit-files"
TOOLS = ["files_list", "files_read", "files_search", "files_write", "files_delete", "files_share"]
KEY = "share-key-never-shown-0123456789"

# Building and installing take a few seconds with uv's cache warm, and longer the first
# time, when uv downloads toolkit's dependencies: room for that, above pytest's 120 s.
pytestmark = pytest.mark.timeout(600)


@dataclass(frozen=True)
class Environment:
    """The virtual environment the packs are installed in."""

    root: Path
    uv: tuple[str, ...]

    @property
    def python(self) -> Path:
        return self.program("python")

    def program(self, name: str) -> Path:
        """An installed program (``python``, ``toolkit``)."""
        scripts = self.root / ("Scripts" if os.name == "nt" else "bin")
        return scripts / (f"{name}.exe" if os.name == "nt" else name)

    def install(self, *requirements: str | Path) -> None:
        """``uv pip install`` into the environment (from uv's cache when it can)."""
        command = [*self.uv, "pip", "install", "--quiet", "--python", str(self.python)]
        _run([*command, *map(str, requirements)])

    def run(
        self,
        program: str,
        *arguments: str | Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run one of the environment's programs, with a clean environment (plus ``env``)."""
        if not self.program(program).exists():
            pytest.fail(
                f"the environment has no program {program!r}: toolkit's wheel installs the"
                " 'toolkit' command from [project.scripts] in pyproject.toml",
                pytrace=False,
            )
        return _run(
            [str(self.program(program)), *map(str, arguments)],
            env={**_clean_environment(), **(env or {})},
            cwd=cwd,
            check=check,
        )


def _uv() -> tuple[str, ...]:
    """The uv command: installed beside this Python (the test group), as its module, or on
    PATH. It is a declared test dependency, so its absence fails the tests, never skips."""
    beside = shutil.which("uv", path=str(Path(sys.executable).parent))
    if beside is not None:
        return (beside,)
    if importlib.util.find_spec("uv") is not None:
        return (sys.executable, "-m", "uv")
    on_path = shutil.which("uv")
    if on_path is not None:
        return (on_path,)
    pytest.fail(
        "uv is not installed, and these tests need it to build and install packs: it is in"
        " the 'test' dependency group (nox -s tests installs it; or pip install uv)",
        pytrace=False,
    )


_DROPPED_VARIABLES = {
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "TOOLKIT_PACKS",
    "TOOLKIT_PACKS_STRICT",
    "FILES_SHARE_KEY",
}


def _clean_environment() -> dict[str, str]:
    """This process's environment without what would change what the programs find: no
    PYTHONPATH into the checkout, no pack selection, no share key, no colour."""
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_VARIABLES}
    env.update({"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUTF8": "1"})
    return env


def _run(
    command: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(command),
        stdin=subprocess.DEVNULL,  # never a terminal: nothing may wait for an answer
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
        check=False,
    )
    if check and done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)}\nexited with status {done.returncode}\n"
            f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}",
            pytrace=False,
        )
    return done


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Environment:
    work = tmp_path_factory.mktemp("packs")
    uv = _uv()
    wheels = work / "wheels"
    for project in (ROOT, EXAMPLE):  # wheels, as PyPI would serve them
        build = [*uv, "build", "--wheel", "--quiet", "--python", sys.executable]
        _run([*build, "--out-dir", str(wheels), str(project)])
    _run([*uv, "venv", "--quiet", "--python", sys.executable, str(work / "venv")])
    environment = Environment(work / "venv", uv)
    environment.install(*sorted(wheels.glob("*.whl")), "pytest")
    return environment


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """A directory for the pack's ``root``, with a file, and a file beside it."""
    root = tmp_path / "notes"
    root.mkdir()
    (root / "todo.txt").write_text("buy milk\ncall the dentist\n")
    (tmp_path / "outside.txt").write_text("not for the model")
    return root


def _signed(link: str) -> bool:
    """Whether ``link`` carries the HMAC-SHA256 of the rest of it, under KEY (the link format
    of the example pack's ``share``)."""
    signed, _, signature = link.rpartition("&signature=")
    expected = hmac.new(KEY.encode(), signed.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, expected)


def _only_passed(report: str) -> bool:
    """Whether pytest's last line says that every test passed: none failed, was skipped or
    warned."""
    return re.fullmatch(r"\d+ passed in [\d.]+s", report.strip().splitlines()[-1]) is not None


# -- discovery -------------------------------------------------------------------------------

DISCOVER = """\
import json, sys
from toolkit.packs import installed_packs, load_pack

found = {info.name: info for info in installed_packs()}
imported = "toolkit_files" in sys.modules  # listing reads metadata only
info = found["files"]
pack = load_pack("files")
tools = pack.build({"root": sys.argv[1]})
print(json.dumps({
    "imported_by_listing": imported,
    "distribution": info.distribution,
    "version": info.version,
    "summary": info.summary,
    "value": info.value,
    "problem": info.problem,
    "pack_version": pack.version,
    "description": pack.description,
    "tools": [t.base_name for t in tools],
    "evals": len(pack.evals),
}))
"""


def test_the_installed_pack_is_discovered_without_importing_it(
    environment: Environment, notes: Path
) -> None:
    done = environment.run("python", "-c", DISCOVER, notes)
    found = json.loads(done.stdout)
    assert found == {
        "imported_by_listing": False,
        "distribution": "toolkit-files",
        "version": "1.0.0",
        "summary": "The files of one directory as LLM tools: the toolkit pack 'files'.",
        "value": "toolkit_files:pack",
        "problem": None,
        "pack_version": "1.0.0",
        "description": "List, read, search, write, delete and share the files of one directory.",
        "tools": [name.removeprefix("files_") for name in TOOLS],
        "evals": 6,
    }


def test_the_example_pack_passes_its_own_tests(environment: Environment) -> None:
    done = environment.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=EXAMPLE)
    assert _only_passed(done.stdout), done.stdout


# -- the command line -----------------------------------------------------------------------


def test_toolkit_packs_lists_the_pack(environment: Environment) -> None:
    done = environment.run("toolkit", "packs", "--json")
    packs = {pack["name"]: pack for pack in json.loads(done.stdout)["packs"]}
    files = packs["files"]
    assert files["distribution"] == "toolkit-files"
    assert files["version"] == "1.0.0"
    assert files["entry_point"] == "toolkit_files:pack"
    assert files["status"] == "needs config"  # its root has no default
    assert files["required_config"] == ["root"]
    assert files["evals"] == 6


def test_toolkit_schema_renders_the_pack(environment: Environment, notes: Path) -> None:
    config = json.dumps({"root": str(notes)})
    done = environment.run(
        "toolkit", "schema", "files", "--format", "openai", "--config", config, "--json"
    )
    tools = json.loads(done.stdout)["tools"]
    assert [tool["name"] for tool in tools] == TOOLS
    share = next(tool["definition"] for tool in tools if tool["name"] == "files_share")
    assert list(share["function"]["parameters"]["properties"]) == ["path"]  # no ctx, no key
    assert "FILES_SHARE_KEY" not in done.stdout


def test_toolkit_call_runs_a_tool_as_a_model_would(environment: Environment, notes: Path) -> None:
    config = json.dumps({"root": str(notes)})
    read = environment.run(
        "toolkit", "call", "files_read", '{"path": "todo.txt"}', "--config", config
    )
    assert read.stdout.rstrip("\n") == "buy milk\ncall the dentist"
    escape = environment.run(
        "toolkit",
        "call",
        "files_read",
        '{"path": "../outside.txt"}',
        "--config",
        config,
        check=False,
    )
    assert escape.returncode == 1
    assert "goes up with '..'" in escape.stderr
    assert "not for the model" not in escape.stdout + escape.stderr


def test_toolkit_call_reads_the_secret_and_never_shows_it(
    environment: Environment, notes: Path
) -> None:
    config = json.dumps({"root": str(notes)})
    arguments = ["call", "files_share", '{"path": "todo.txt"}', "--config", config, "--json"]
    missing = environment.run("toolkit", *arguments, check=False)
    assert missing.returncode == 1
    assert "FILES_SHARE_KEY" in json.loads(missing.stdout)["content"]
    shared = environment.run("toolkit", *arguments, env={"FILES_SHARE_KEY": KEY})
    link = json.loads(shared.stdout)["content"]
    assert link.startswith("https://files.example.com/share/todo.txt?expires=")
    assert _signed(link)
    assert KEY not in shared.stdout + shared.stderr


def test_toolkit_run_denies_a_destructive_call_nobody_approved(
    environment: Environment, notes: Path
) -> None:
    with FakeServer() as server:
        server.script(
            [
                Reply.calls(Call("files_write", {"path": "plan.txt", "content": "x"})),
                Reply.text("I could not save it."),
            ]
        )
        done = environment.run(
            "toolkit",
            "run",
            "Save my plan.",
            "--pack",
            "files",
            "--config",
            "files=" + json.dumps({"root": str(notes)}),
            "--approve",
            "destructive",
            "--model",
            "fake-model",
            env={"OPENAI_BASE_URL": server.openai_base_url, "OPENAI_API_KEY": "fake-api-key"},
        )
        denied = server.requests[1].body["messages"][-1]
    assert "I could not save it." in done.stdout
    assert "files_write" in done.stderr
    assert denied["role"] == "tool"
    assert not (notes / "plan.txt").exists()  # no terminal to ask, no --yes: denied


def test_python_dash_m_toolkit_is_the_same_command(environment: Environment) -> None:
    done = environment.run("python", "-m", "toolkit", "packs", "--json")
    assert "files" in {pack["name"] for pack in json.loads(done.stdout)["packs"]}


# -- a runner over a real client ------------------------------------------------------------

RUN = """\
import json, sys

import openai

from toolkit import Registry, Runner

root, base_url = sys.argv[1], sys.argv[2]
registry = Registry()
registry.add_pack("files", config={"root": root})
asked = []


def approve(call):
    asked.append(call.name)
    return call.name != "files_delete"  # a person approves the write, refuses the delete


client = openai.OpenAI(base_url=base_url, api_key="fake-api-key", max_retries=0)
runner = Runner(
    client, model="fake-model", tools=registry, approval="destructive", approve=approve
)
result = runner.run("Note that I must buy bread, then share the note with Sam.")
print(json.dumps({
    "text": result.text,
    "stop_reason": result.stop_reason,
    "asked": asked,
    "results": [[r.name, r.is_error, r.content] for r in result.tool_results],
}))
"""


def test_a_runner_drives_the_pack_through_the_openai_client(
    environment: Environment, notes: Path, tmp_path: Path
) -> None:
    note = {"path": "shared/bread.txt"}
    script = tmp_path / "run.py"
    script.write_text(RUN)
    with FakeServer() as server:
        server.script(
            [
                Reply.calls(Call("files_write", {**note, "content": "buy bread"})),
                Reply.calls(
                    Call("files_read", note),
                    Call("files_share", note),
                    Call("files_read", {"path": "../outside.txt"}),
                    Call("files_delete", note),
                ),
                Reply.text("Saved, and here is the link for Sam."),
            ]
        )
        done = environment.run(
            "python", script, notes, server.openai_base_url, env={"FILES_SHARE_KEY": KEY}
        )
        requests = [request.body for request in server.requests]
    outcome: dict[str, Any] = json.loads(done.stdout)
    assert outcome["text"] == "Saved, and here is the link for Sam."
    assert outcome["stop_reason"] == "end"
    assert outcome["asked"] == ["files_write", "files_delete"]  # the destructive calls only
    made = [[name, is_error] for name, is_error, _ in outcome["results"]]
    assert made == [
        ["files_write", False],
        ["files_read", False],
        ["files_share", False],
        ["files_read", True],
        ["files_delete", True],  # denied: the file stays
    ]
    contents = [content for _, _, content in outcome["results"]]
    assert contents[:2] == ["wrote 9 bytes to shared/bread.txt", "buy bread"]
    assert _signed(contents[2])
    assert contents[3] == "'../outside.txt' goes up with '..': give a path inside the root"
    assert (notes / "shared" / "bread.txt").read_text() == "buy bread"
    assert [tool["function"]["name"] for tool in requests[0]["tools"]] == TOOLS
    tool_messages = [m["content"] for m in requests[2]["messages"] if m["role"] == "tool"]
    assert "buy bread" in tool_messages
    sent = json.dumps(requests) + done.stdout + done.stderr
    assert KEY not in sent


# -- a new pack -----------------------------------------------------------------------------


def test_a_new_pack_installs_and_passes_its_test(environment: Environment, tmp_path: Path) -> None:
    # `toolkit new` of the installed wheel: the scaffold and its templates ship in it.
    created = environment.run("toolkit", "new", "greetings", "--directory", tmp_path)
    project = tmp_path / "greetings"
    assert "Created" in created.stdout
    environment.install(project)
    done = environment.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert _only_passed(done.stdout), done.stdout
    listed = environment.run("toolkit", "packs", "--json")
    greetings = next(p for p in json.loads(listed.stdout)["packs"] if p["name"] == "greetings")
    assert (greetings["distribution"], greetings["status"]) == ("toolkit-greetings", "ok")
    called = environment.run("toolkit", "call", "greetings_greet", '{"name": "Ada"}')
    assert called.stdout.rstrip("\n") == "Hello, Ada!"


def test_scaffold_writes_the_pack_distribution(tmp_path: Path) -> None:
    project = scaffold("unit-convert", tmp_path)
    files = sorted(p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/toolkit_unit_convert/__init__.py",
        "tests/test_unit_convert.py",
    ]
    pyproject = (project / "pyproject.toml").read_text()
    assert 'name = "toolkit-unit-convert"' in pyproject
    assert f'dependencies = ["toolkit-llm>={toolkit.__version__}"]' in pyproject
    assert (
        '[project.entry-points."toolkit.packs"]\nunit-convert = "toolkit_unit_convert:pack"'
        in pyproject
    )
    source = (project / "src" / "toolkit_unit_convert" / "__init__.py").read_text()
    compile(source, "__init__.py", "exec")  # the templates fill in as valid Python
    compile((project / "tests" / "test_unit_convert.py").read_text(), "test.py", "exec")
    assert 'name="unit-convert"' in source


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "is not a usable namespace"),
        ("2fast", "is not a usable namespace"),
        ("my pack", "is not a usable namespace"),
        ("a__b", "is not a usable namespace"),
        ("x" * 33, "at most 32 characters"),
        ("../escape", "is not a usable namespace"),
        ("Weather", "use 'weather'"),
    ],
)
def test_scaffold_refuses_a_name_that_cannot_be_a_pack(
    tmp_path: Path, name: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem.replace("(", r"\(")):
        scaffold(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_scaffold_refuses_an_existing_directory(tmp_path: Path) -> None:
    (tmp_path / "weather").mkdir()
    (tmp_path / "weather" / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError, match="already exists: choose another pack name"):
        scaffold("weather", tmp_path)
    assert (tmp_path / "weather" / "mine.txt").read_text() == "keep me"
