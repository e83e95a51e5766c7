# /// script
# dependencies = ["nox[uv]>=2025.2"]
# ///
# (With nox installed but not uv, nox first makes itself a virtualenv with both, in .nox/.)
"""Development tasks.

`nox` runs the default sessions: tests (Python 3.10 to 3.13), lowest (the lowest declared
dependencies), lint, typecheck and examples. `nox -s examples` needs only the Python running
nox. `nox -s bench` measures; `nox -s local_model` runs the examples against a real model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.version import Version

nox.needs_version = ">=2025.2"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
# A missing Python must fail loudly, never turn the README's commands into silent skips.
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "lowest", "lint", "typecheck", "examples"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
ROOT = Path(__file__).parent
PYPROJECT = nox.project.load_toml("pyproject.toml")


def _expose_pyenv_interpreters() -> None:
    # pyenv's shims answer only for the active versions; activating every installed one
    # lets nox find python3.10 ... python3.13 on a machine that manages them with pyenv.
    # A shim that started nox itself has already set PYENV_VERSION to its own version: that
    # one stays first (so `python3` does not change) and the others are added after it.
    if shutil.which("pyenv") is None:
        return
    found = subprocess.run(
        ["pyenv", "versions", "--bare"], capture_output=True, text=True, check=False
    )
    active = [v for v in os.environ.get("PYENV_VERSION", "").split(":") if v]
    installed = sorted(
        (v for v in found.stdout.split() if v[:1].isdigit() and "/" not in v),
        key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")],
        reverse=True,  # newest first, for a bare `python3` when nothing was active
    )
    versions = active + [v for v in installed if v not in active]
    if versions:
        os.environ["PYENV_VERSION"] = ":".join(versions)


def _one_python() -> str:
    """The Python for sessions that need just one: the one running nox when toolkit
    supports it (found without a PATH search), else the newest supported one on PATH."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running in PYTHONS:
        return running
    on_path = [v for v in PYTHONS if shutil.which(f"python{v}")]
    return on_path[-1] if on_path else PYTHONS[-1]  # none: nox says so, and fails


_expose_pyenv_interpreters()
ONE_PYTHON = _one_python()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest options after `--`)."""
    _ensure_postgresql(session)
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", "--cov", "--cov-report=term:skip-covered", *session.posargs)


@nox.session(python=PYTHONS[0], venv_backend="uv")
def lowest(session: nox.Session) -> None:
    """Run the test suite against the lowest versions pyproject.toml allows for the direct
    dependencies (the test tools stay current): a minimum set too low fails here first."""
    _ensure_postgresql(session)
    session.install("--resolution", "lowest-direct", "-e", ".")
    # Second, so that the direct dependencies keep their lowest versions unless a test tool
    # truly needs a newer one (then the versions logged below say so).
    # Without the mcp and gemini extras: mcp needs a newer httpx2 than toolkit's own floor,
    # google-genai a newer pydantic (>=2.12.5), which this session is here to test (their
    # tests skip themselves).
    tools = nox.project.dependency_groups(PYPROJECT, "test")
    extras = {"mcp", "google-genai"}
    session.install(*(t for t in tools if Requirement(t).name not in extras))
    _log_lowest_versions(session)
    # The lowest typing-extensions holds anyio back to a version whose pytest plugin imports
    # a name pytest 9.2 deprecates (an error here, warnings being errors). No test uses it.
    # Tests of an SDK feature newer than the minimum skip themselves (tests/_versions.py).
    session.run("pytest", "-p", "no:anyio", *session.posargs)


def _postgresql_programs() -> Path | None:
    """Where initdb and pg_ctl are, found as the tests find them (tests/_postgres_programs.py,
    loaded by path: the standard library only)."""
    path = ROOT / "tests" / "_postgres_programs.py"
    spec = importlib.util.spec_from_file_location("_postgres_programs", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.server_programs()


def _ensure_postgresql(session: nox.Session) -> None:
    """Install PostgreSQL's server programs (Debian's `postgresql` package) when they are
    missing, for tests/test_store.py's throwaway server. Without apt-get (or when installing
    fails) the PostgreSQL tests skip, or fail under TOOLKIT_REQUIRE_POSTGRES=1."""
    found = _postgresql_programs()
    if found is not None:
        session.log(f"PostgreSQL: the server programs are in {found}")
        return
    if shutil.which("apt-get") is None:
        session.log("PostgreSQL: no server programs and no apt-get: its tests will skip")
        return
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    if sudo and shutil.which("sudo") is None:
        session.log(
            "PostgreSQL: no server programs, and no sudo to install them: its tests will skip"
        )
        return
    session.log("PostgreSQL: installing Debian's postgresql package (apt-get)")
    quiet = ["env", "DEBIAN_FRONTEND=noninteractive"]  # through sudo, which resets the env
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "postgresql"],
    ):
        if subprocess.run([*sudo, *quiet, *command], check=False).returncode != 0:
            session.warn(
                f"PostgreSQL: {' '.join(command)} failed; its tests will skip (or fail, with "
                "TOOLKIT_REQUIRE_POSTGRES=1)"
            )
            return
    session.log(f"PostgreSQL: installed in {_postgresql_programs()}")


def _log_lowest_versions(session: nox.Session) -> None:
    declared = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    names = [r.name for r in declared]
    program = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    output = session.run("python", "-c", program, *names, silent=True)
    installed = json.loads(str(output).strip().splitlines()[-1])
    for requirement in declared:
        minimum = next((s.version for s in requirement.specifier if s.operator == ">="), None)
        version = installed[requirement.name]
        if minimum is not None and Version(version) < Version(minimum):
            session.error(f"{requirement.name} {version} is below its minimum {minimum}")
        higher = minimum is not None and Version(version) > Version(minimum)
        note = f"  (declared >={minimum}: another dependency needs more)" if higher else ""
        session.log(f"lowest: {requirement.name} {version}{note}")


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.12")
def typecheck(session: nox.Session) -> None:
    """pyright in strict mode over the package and its tests."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "typecheck"))
    session.run("pyright")


@nox.session(python=[ONE_PYTHON])  # a list: its virtualenv is per version
def examples(session: nox.Session) -> None:
    """Run every example: offline unless TOOLKIT_MODEL is set (see examples/_common.py)."""
    session.install("-e", ".[mcp]")  # examples/mcp_tools.py uses the extra
    _run_examples(session)


def _run_examples(session: nox.Session, env: dict[str, str] | None = None) -> None:
    for path in sorted((ROOT / "examples").glob("*.py")):
        session.log(f"example: {path.name}")
        session.run("python", str(path), env=env)


@nox.session(python=[ONE_PYTHON], default=False)
def local_model(session: nox.Session) -> None:
    """Run the examples, tests/live (typed answers, a turn rolled back past the context
    window, a request timeout) and `toolkit eval` of the example pack, against a real small
    model served on 127.0.0.1 (optional).

    scripts/local_model.py builds llama.cpp's server and assembles a 1.1 GB model the first
    time (about 7 minutes; cached in ~/.cache/toolkit-local-model), then serves it
    OpenAI-compatibly. The examples check a real model's answers loosely (it may phrase or
    even choose differently). The session skips, saying why, when this machine cannot build
    or download; it stops the server it started when it ends.
    """
    session.install("-e", ".[mcp]")
    script = ROOT / "scripts" / "local_model.py"
    session.log("starting the local model (the first run builds it: about 7 minutes)")
    # With nox's own Python, not the session's: the script downloads with pip, and a
    # virtualenv made by uv has none. Its progress goes to the terminal; stdout is JSON.
    started = subprocess.run(
        [sys.executable, str(script), "serve", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    answer = json.loads(started.stdout.strip().splitlines()[-1]) if started.stdout.strip() else {}
    if "unavailable" in answer:
        session.skip(f"the local model cannot run here: {answer['unavailable']}")
    if started.returncode != 0 or "base_url" not in answer:
        session.error("the local model did not start (its messages are above)")
    env = {
        "TOOLKIT_MODEL": answer["model"],
        "TOOLKIT_PROVIDER": "openai",
        "TOOLKIT_BASE_URL": answer["base_url"],
        "TOOLKIT_API_KEY": answer["api_key"],
    }
    session.log(f"model {answer['model']} at {answer['base_url']} (pid {answer['pid']})")
    try:
        _run_examples(session, env)
        # Typed answers, a rolled-back turn and a request timeout, against the real model.
        session.install("pytest", "pytest-timeout")
        session.run("pytest", "-p", "no:cacheprovider", "tests/live", env=env)
        _evaluate_example_pack(session, env)
    finally:
        if answer["started"]:  # never stop a server someone else started
            subprocess.run([sys.executable, str(script), "stop"], check=False)


def _evaluate_example_pack(session: nox.Session, env: dict[str, str]) -> None:
    """`toolkit eval files` against the model: how well it uses the example pack's tools.
    A small model misses some cases; the scores are printed, and only a failure to run the
    evaluation at all fails the session."""
    session.install(str(ROOT / "examples" / "packs" / "toolkit-files"))
    notes = Path(session.create_tmp()).resolve() / "notes"
    notes.mkdir(exist_ok=True)
    config = json.dumps({"root": str(notes)})
    env = {**env, "FILES_SHARE_KEY": "local-model-evaluation"}  # share needs it to be offered
    session.run("toolkit", "eval", "files", "--config", config, "--min-accuracy", "0", env=env)


@nox.session(python="3.12", default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against pydantic and the peer libraries: build time, memory and import
    (bench_build.py), then per-call dispatch, parallel calls and error results
    (bench_dispatch.py), then the runner's loop against a hand-written one over the fake
    server (bench_loop.py), then the listing of installed packs (bench_packs.py), then a
    tools/call round trip through toolkit's MCP server against the SDK's low-level server
    with a hand-written handler, and through toolkit's MCP client against the SDK's
    `Client` (bench_mcp.py), then the first request's size with 200 tools, with and without
    ToolSearch (bench_tool_search.py), then many concurrent `run_async` over a testing
    model and over the fake server, against a hand-written async loop
    (bench_concurrency.py). Options after `--` (`--quick`...) go to every script."""
    session.install("-e", ".[mcp]", "opentelemetry-sdk", *_bench_peers())
    session.run("python", "tests/bench/bench_build.py", *session.posargs)
    session.run("python", "tests/bench/bench_dispatch.py", *session.posargs)
    session.run("python", "tests/bench/bench_loop.py", *session.posargs)
    session.run("python", "tests/bench/bench_packs.py", *session.posargs)
    session.run("python", "tests/bench/bench_mcp.py", *session.posargs)
    session.run("python", "tests/bench/bench_tool_search.py", *session.posargs)
    session.run("python", "tests/bench/bench_concurrency.py", *session.posargs)


def _bench_peers() -> list[str]:
    return [
        "openai-agents",
        "pydantic-ai-slim",
        "langchain-core",
        "fastmcp",
        "anthropic",
    ]
