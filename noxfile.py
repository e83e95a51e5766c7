"""Development tasks: `nox` runs tests, lint, typecheck and examples; `nox -s bench` measures."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
# A missing Python must fail loudly, never turn the README's commands into silent skips.
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "lint", "typecheck", "examples"]

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


_expose_pyenv_interpreters()


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the test suite (pass pytest options after `--`)."""
    session.install("-e", ".", *nox.project.dependency_groups(PYPROJECT, "test"))
    session.run("pytest", "--cov", "--cov-report=term:skip-covered", *session.posargs)


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


@nox.session(python="3.12")
def examples(session: nox.Session) -> None:
    """Run every example offline (set the variables each file names to use a real endpoint)."""
    session.install("-e", ".")
    for path in sorted((ROOT / "examples").glob("*.py")):
        session.log(f"example: {path.name}")
        session.run("python", str(path))


@nox.session(python="3.12", default=False)
def local_model(session: nox.Session) -> None:
    """Run the examples against a real small model served on 127.0.0.1 (optional).

    ../shared/local-model/serve.sh builds llama.cpp's server and fetches a 1.1 GB model the
    first time (about 7 minutes; cached afterwards), then serves it OpenAI-compatibly. The
    examples check loosely with a real model (it may phrase or even choose differently).
    The server is stopped when the session ends.
    """
    serve = ROOT.parent / "shared" / "local-model" / "serve.sh"
    if not serve.is_file():
        session.skip(f"no local model server script at {serve}")
    session.install("-e", ".")
    session.log("starting the local model (the first run builds it: about 7 minutes)")
    # Outside the session's virtualenv on purpose: serve.sh runs `python3 -m pip download`,
    # and a uv-made virtualenv has no pip.
    started = subprocess.run(["bash", str(serve)], stdout=subprocess.PIPE, text=True, check=False)
    found = re.search(
        r"OPENAI_BASE_URL=(\S+) OPENAI_API_KEY=(\S+) MODEL=(\S+)(?: \(pid (\d+)\))?",
        started.stdout,
    )
    if started.returncode != 0 or found is None:
        session.error(f"the local model did not start:\n{started.stdout}")
    base_url, api_key, model, pid = found.groups()
    env = {"TOOLKIT_BASE_URL": base_url, "TOOLKIT_API_KEY": api_key, "TOOLKIT_MODEL": model}
    try:
        for path in sorted((ROOT / "examples").glob("*.py")):
            session.log(f"example: {path.name} against {model} at {base_url}")
            session.run("python", str(path), env=env)
    finally:
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)  # the server serve.sh started for us


@nox.session(python="3.12", default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks against pydantic and the peer libraries: build time, memory and import
    (bench_build.py), then per-call dispatch, parallel calls and error results
    (bench_dispatch.py), then the runner's loop against a hand-written one over the fake
    server (bench_loop.py). Options after `--` (`--quick`...) go to all three scripts."""
    session.install("-e", ".", *_bench_peers())
    session.run("python", "tests/bench/bench_build.py", *session.posargs)
    session.run("python", "tests/bench/bench_dispatch.py", *session.posargs)
    session.run("python", "tests/bench/bench_loop.py", *session.posargs)


def _bench_peers() -> list[str]:
    return [
        "openai-agents",
        "pydantic-ai-slim",
        "langchain-core",
        "fastmcp",
        "anthropic",
    ]
