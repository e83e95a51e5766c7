"""A throwaway PostgreSQL server for tests/test_store.py: PostgreSQL's own programs, found on
this machine, run a new cluster in a temporary directory, listening on 127.0.0.1 only; it is
stopped and removed when the test session ends, whatever happened.

Without the server programs (or psycopg) the tests that need a server skip, saying why,
unless TOOLKIT_REQUIRE_POSTGRES=1 (CI sets it): then they fail.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from _postgres_programs import server_programs

SUPERUSER = "toolkit"
_schemas = itertools.count()


@dataclass(frozen=True)
class Cluster:
    """A running server, reached over TCP as the superuser, without a password."""

    port: int
    host: str = "127.0.0.1"

    def conninfo(self, schema: str | None = None) -> str:
        """The libpq connection string of the ``postgres`` database, whose unqualified
        tables live in ``schema`` when one is given."""
        base = f"host={self.host} port={self.port} user={SUPERUSER} dbname=postgres"
        base += " connect_timeout=10"
        return base if schema is None else f"{base} options='-c search_path={schema}'"

    def fresh_conninfo(self) -> str:
        """A connection string whose tables go to a new, empty schema: a store made with it
        starts from nothing (a schema is much faster to make than a database)."""
        import psycopg
        from psycopg import sql

        schema = f"test_{next(_schemas)}"
        with psycopg.connect(self.conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        return self.conninfo(schema)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("TOOLKIT_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"TOOLKIT_REQUIRE_POSTGRES=1, but {reason}", pytrace=False)
    pytest.skip(f"{reason} (TOOLKIT_REQUIRE_POSTGRES=1 makes this a failure)")


def _as_owner(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        _as_owner(command), cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_cluster() -> Generator[Cluster, None, None]:
    """A new server for as long as the block runs (skips or fails the test when there
    can be none; see the module's docstring)."""
    programs = server_programs()
    if programs is None:
        _unavailable(
            "no PostgreSQL server programs (initdb, pg_ctl) on PATH, in `pg_config --bindir` "
            "or in /usr/lib/postgresql/*/bin"
        )
    if importlib.util.find_spec("psycopg") is None:
        _unavailable("psycopg is not installed")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root, without runuser to run PostgreSQL as another user")
    root = Path(tempfile.mkdtemp(prefix="toolkit-pg-"))  # short: the socket's path is limited
    data = root / "data"
    ctl = [str(programs / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log")]
    started = False
    try:
        if os.geteuid() == 0:
            try:
                shutil.chown(root, "postgres", "postgres")
            except LookupError:
                _unavailable("running as root, and there is no `postgres` user to run it as")
        _run(
            [str(programs / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust", "-N"], root
        )
        # Trusted over TCP from this machine only; no line for the Unix socket.
        (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{root}'",
            "fsync": "off",  # a throwaway cluster: speed over durability
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
        }
        with (data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        port = _free_port()
        try:
            _run([*ctl, "-o", f"-p {port}", "-w", "-t", "60", "start"], root)
        except RuntimeError as error:
            log = root / "server.log"
            raise RuntimeError(f"{error}\n{log.read_text() if log.exists() else ''}") from None
        started = True
        yield Cluster(port)
    finally:
        if started:
            subprocess.run(
                _as_owner([*ctl, "-m", "immediate", "-w", "stop"]),
                cwd=root,
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Cluster]:
    """The session's PostgreSQL server (see the module's docstring)."""
    with running_cluster() as cluster:
        yield cluster
