"""Where PostgreSQL's server programs are on this machine: for tests/_postgres.py, which
starts a throwaway server, and for noxfile.py, which installs them when there are none.
The standard library only, so that nox can load it without the test tools."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def server_programs() -> Path | None:
    """The directory holding initdb and pg_ctl: initdb's on PATH, then ``pg_config
    --bindir``, then the newest of Debian's /usr/lib/postgresql/<version>/bin."""
    candidates: list[Path] = []
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)  # a symlink's target, by its pg_ctl
    pg_config = shutil.which("pg_config")
    if pg_config:
        asked = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False, timeout=30
        )
        if asked.returncode == 0 and asked.stdout.strip():
            candidates.append(Path(asked.stdout.strip()))
    debian = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(debian, key=lambda p: _version(p.parent.name), reverse=True)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    return None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())
