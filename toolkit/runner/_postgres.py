"""``PostgresStore``: conversations and pending approvals in PostgreSQL, through psycopg 3
(the ``postgres`` extra, imported when a store is made)."""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from typing_extensions import Self

from toolkit.errors import ConversationConflict, StateError
from toolkit.runner._store import (
    ConversationStore,
    StoredSession,
    conflict_message,
    schema_missing,
    session_of_rows,
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["PostgresStore"]

# Held while the tables are checked and created, so that two processes opening a new
# database at once do not both create them. Any fixed number would do: this is "toolkit".
_SCHEMA_LOCK = 0x746F6F6C6B6974

# Message bodies are JSON text, not jsonb: text gives back exactly what was written (jsonb
# reorders keys and drops duplicates) and accepts "\u0000", which jsonb refuses.
_SCHEMA = (
    "CREATE TABLE toolkit_sessions (session_id text PRIMARY KEY, format text NOT NULL,"
    " version bigint NOT NULL, updated_at timestamptz NOT NULL)",
    "CREATE TABLE toolkit_messages (session_id text NOT NULL, position integer NOT NULL,"
    " body text NOT NULL, PRIMARY KEY (session_id, position))",
    "CREATE TABLE toolkit_claims (key text PRIMARY KEY, claimed_at timestamptz NOT NULL)",
    "CREATE TABLE toolkit_pending (id text PRIMARY KEY, body text NOT NULL,"
    " created_at timestamptz NOT NULL)",
)


class PostgresStore(ConversationStore):
    """Conversations and pending approvals in a PostgreSQL database (psycopg 3): a row per
    session (format, version), a row per message, a row per pending approval.

    Saves check the session's version in the same statement that moves it on, so of two
    writers (threads, processes or machines) continuing one session, the second gets
    ``ConversationConflict`` and writes nothing. A store serves many threads from a few
    connections of its own, opened as they are needed (up to ``max_connections``, each
    used by one thread at a time); a connection found lost is replaced.

    The tables (``toolkit_sessions``, ``toolkit_messages``, ``toolkit_claims``,
    ``toolkit_pending``) are created in the connection's current schema when the store is
    first made, under a lock, and the schema's version is recorded (``toolkit_schema``): a
    database of a newer schema than this toolkit knows is refused rather than misread.

    Args:
        conninfo: The database, as libpq takes it: ``"postgresql://user@host/dbname"`` or
            ``"host=... dbname=... connect_timeout=10"``.
        max_connections: The most connections open at once; a thread that finds them all
            busy waits for one.

    Raises:
        ImportError: psycopg is not installed (install the ``postgres`` extra).
        psycopg.OperationalError: the server cannot be reached.
        StateError: the database has a newer schema than this toolkit knows.

    Messages must be JSON-serialisable, as every native message format of toolkit's
    backends is.
    """

    _SCHEMA_VERSION = 1

    def __init__(self, conninfo: str, *, max_connections: int = 4) -> None:
        if (
            isinstance(max_connections, bool)
            or not isinstance(max_connections, int)  # pyright: ignore[reportUnnecessaryIsInstance]
            or max_connections < 1
        ):
            raise ValueError(
                f"max_connections must be a whole number of at least 1, got {max_connections!r}"
            )
        try:
            import psycopg  # the optional extra, loaded when a store is made
        except ImportError as error:
            raise ImportError(
                "PostgresStore needs the postgres extra (psycopg 3 is not installed): "
                "pip install 'toolkit-llm[postgres]'"
            ) from error
        self._psycopg = psycopg
        self._conninfo = conninfo
        self._max = max_connections
        self._available = threading.Condition()  # guards the three below
        self._idle: list[psycopg.Connection[tuple[Any, ...]]] = []
        self._open = 1  # connections made and not yet closed, idle or in use
        self._closed = False
        first = self._connect()
        info = first.info  # without the password
        self._name = f"{info.user}@{info.host}:{info.port}/{info.dbname}"
        self._idle.append(first)
        try:
            self._create_schema()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore(<{self._name}>)"

    def read(self, session_id: str) -> StoredSession | None:
        """The stored session, or ``None``."""
        with self._transaction() as db:
            # One statement, so one snapshot: the version and the messages agree.
            rows = db.execute(
                "SELECT s.format, s.version, m.body FROM toolkit_sessions s"
                " LEFT JOIN toolkit_messages m ON m.session_id = s.session_id"
                " WHERE s.session_id = %s ORDER BY m.position",
                (_key(session_id),),
            ).fetchall()
        return session_of_rows(session_id, rows)

    def write(
        self,
        session_id: str,
        *,
        format: str,
        messages: Sequence[Any],
        start: int,
        version: int,
    ) -> int:
        """Replace the messages from ``start`` on, if the version is still ``version``."""
        bodies = [json.dumps(message) for message in messages]  # TypeError before any write
        _key(session_id)
        with self._transaction() as db:
            # The row is locked by the statement that checks its version: a concurrent
            # writer waits, then finds the version moved on (or the row there) and changes
            # nothing.
            if version == 0:
                moved = db.execute(
                    "INSERT INTO toolkit_sessions VALUES (%s, %s, 1, clock_timestamp())"
                    " ON CONFLICT (session_id) DO NOTHING",
                    (session_id, format),
                )
            else:
                moved = db.execute(
                    "UPDATE toolkit_sessions SET version = version + 1, format = %s,"
                    " updated_at = clock_timestamp() WHERE session_id = %s AND version = %s",
                    (format, session_id, version),
                )
            if moved.rowcount != 1:
                row = db.execute(
                    "SELECT version FROM toolkit_sessions WHERE session_id = %s", (session_id,)
                ).fetchone()
                current = 0 if row is None else int(row[0])
                raise ConversationConflict(conflict_message(session_id, version, current))
            db.execute(
                "DELETE FROM toolkit_messages WHERE session_id = %s AND position >= %s",
                (session_id, start),
            )
            with db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO toolkit_messages VALUES (%s, %s, %s)",
                    [(session_id, start + i, body) for i, body in enumerate(bodies)],
                )
        return version + 1

    def delete(self, session_id: str) -> None:
        """Forget a session."""
        _key(session_id)
        with self._transaction() as db:
            db.execute("DELETE FROM toolkit_messages WHERE session_id = %s", (session_id,))
            db.execute("DELETE FROM toolkit_sessions WHERE session_id = %s", (session_id,))

    def sessions(self) -> list[str]:
        """The stored session ids, most recently saved first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT session_id FROM toolkit_sessions ORDER BY updated_at DESC, session_id"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def claim(self, key: str) -> bool:
        """Record a single-use key (``False`` if it was recorded before); the pending
        approval of that id, if one is kept, is forgotten."""
        _key(key, "key")
        with self._transaction() as db:
            claimed = (
                db.execute(
                    "INSERT INTO toolkit_claims VALUES (%s, clock_timestamp())"
                    " ON CONFLICT (key) DO NOTHING",
                    (key,),
                ).rowcount
                == 1
            )
            if claimed:
                db.execute("DELETE FROM toolkit_pending WHERE id = %s", (key,))
        return claimed

    def write_pending(self, pending_id: str, body: str) -> bool:
        """Keep a pause's JSON, unless its id was claimed (then ``False``)."""
        _key(pending_id, "pending approval id")
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM toolkit_claims WHERE key = %s", (pending_id,)).fetchone():
                return False
            db.execute(
                "INSERT INTO toolkit_pending VALUES (%s, %s, clock_timestamp())"
                " ON CONFLICT (id) DO NOTHING",
                (pending_id, body),
            )
        return True

    # A claim that commits while write_pending runs could leave a claimed pause's row
    # behind: reads skip claimed ids, so it is never offered (and resuming it would fail).

    def read_pending(self, pending_id: str) -> str | None:
        """The JSON kept under ``pending_id``, or ``None``."""
        _key(pending_id, "pending approval id")
        with self._transaction() as db:
            row = db.execute(
                "SELECT body FROM toolkit_pending WHERE id = %s"
                " AND NOT EXISTS (SELECT 1 FROM toolkit_claims WHERE key = id)",
                (pending_id,),
            ).fetchone()
        return None if row is None else str(row[0])

    def pending_ids(self) -> list[str]:
        """The ids of the pauses kept and not yet claimed, most recently saved first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT id FROM toolkit_pending"
                " WHERE NOT EXISTS (SELECT 1 FROM toolkit_claims WHERE key = id)"
                " ORDER BY created_at DESC, id"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connections (the store cannot be used afterwards; one in use closes
        when its call ends)."""
        with self._available:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._available.notify_all()
        for db in idle:
            db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        db = self._psycopg.connect(self._conninfo, autocommit=True)
        # The version check relies on read committed (a blocked UPDATE re-reads the row);
        # a server whose default is stricter would fail the second writer differently.
        db.isolation_level = self._psycopg.IsolationLevel.READ_COMMITTED
        return db

    @contextmanager
    def _transaction(self) -> Generator[psycopg.Connection[tuple[Any, ...]], None, None]:
        db = self._acquire()
        try:
            with db.transaction():
                yield db
        finally:
            self._release(db)

    def _acquire(self) -> psycopg.Connection[tuple[Any, ...]]:
        """An idle connection, else a new one while fewer than ``max_connections`` are
        open, else the first to be released."""
        with self._available:
            while True:
                if self._closed:
                    raise StateError(f"{self!r} was closed")
                if self._idle:
                    return self._idle.pop()  # the most recently used: likely still alive
                if self._open < self._max:
                    self._open += 1
                    break
                self._available.wait()
        try:
            return self._connect()
        except BaseException:
            with self._available:
                self._open -= 1
                self._available.notify()
            raise

    def _release(self, db: psycopg.Connection[tuple[Any, ...]]) -> None:
        with self._available:
            keep = not (self._closed or db.broken or db.closed)
            if keep:
                self._idle.append(db)
            else:
                self._open -= 1  # lost (the server went away) or the store closed
            self._available.notify()
        if not keep:
            db.close()

    def _create_schema(self) -> None:
        with self._transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            row = db.execute("SELECT to_regclass('toolkit_schema') IS NOT NULL").fetchone()
            if not (row and row[0]):
                db.execute("CREATE TABLE toolkit_schema (version integer NOT NULL)")
            (found,) = db.execute("SELECT max(version) FROM toolkit_schema").fetchone() or (None,)
            where = f"the PostgreSQL database {db.info.dbname!r}"
            if not schema_missing(found, self._SCHEMA_VERSION, where):
                return
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute("INSERT INTO toolkit_schema VALUES (%s)", (self._SCHEMA_VERSION,))


def _key(value: str, what: str = "session id") -> str:
    """``value``, checked: PostgreSQL's text cannot hold a NUL character (SQLite's can)."""
    if "\x00" in value:
        raise ValueError(
            f"{what} {value!r} contains a NUL character, which PostgreSQL cannot store"
        )
    return value
