"""Where conversations live between processes: ``ConversationStore`` and ``SQLiteStore``
(``PostgresStore`` is in ``_postgres``).

A store keeps, per session id, a history in the provider's native message format, the name
of that format (a history written for one protocol cannot be sent to another) and a
version. Saving appends what the store lacks, checked against the version the conversation
last saw: two writers on one session never overwrite each other's turns in silence; the
second gets ``ConversationConflict``. A store also remembers single-use keys (``claim``), so
that a paused run is resumed at most once per store, and keeps paused runs until they are
resumed (``save_pending``, ``load_pending``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

from typing_extensions import Self

from toolkit.errors import ConversationConflict, StateError

if TYPE_CHECKING:
    from toolkit.runner._conversation import Conversation
    from toolkit.runner._runner import Runner
    from toolkit.runner._state import OutputT, PendingApproval

__all__ = ["ConversationStore", "SQLiteStore", "StoredSession", "message_digest"]


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A session as a store holds it.

    Attributes:
        format: The protocol of ``messages``.
        messages: The history, in order.
        version: Counts the saves of the session (1 after the first).
    """

    format: str
    messages: list[Any]
    version: int


class ConversationStore(ABC):
    """Keeps conversations by session id, and paused runs by their id; subclass it to keep
    them anywhere.

    ``load``, ``save``, ``save_pending`` and ``load_pending`` are what applications call; a
    store implements the five primitives they are built on (``read``, ``write``, ``delete``,
    ``sessions``, ``claim``), each atomic and safe to call from several threads, and, to keep
    pending approvals, three more (``write_pending``, ``read_pending``, ``pending_ids``).
    """

    # -- what applications call -------------------------------------------------------------

    def load(
        self, session_id: str, runner: Runner[OutputT], *, autosave: bool = False
    ) -> Conversation[OutputT]:
        """The conversation saved under ``session_id`` (empty when there is none yet),
        continued with ``runner``.

        Args:
            session_id: The session's key.
            runner: Runs the conversation's next turns.
            autosave: Save the conversation back after every turn (when ``send`` returns or
                raises, and when a ``stream`` ends or is closed).

        Raises:
            StateError: the stored history is in another protocol than the runner's, or is
                not a list of messages.
        """
        from toolkit.runner._conversation import Conversation  # noqa: PLC0415 - cycle

        stored = self.read(session_id)
        if stored is not None and stored.format != runner.codec.name:
            raise StateError(
                f"session {session_id!r} is in the {stored.format!r} format; the runner speaks "
                f"{runner.codec.name!r}"
            )
        conversation = Conversation(runner, [] if stored is None else stored.messages)
        if stored is not None:
            conversation._saved_as(self, session_id, stored.version)  # pyright: ignore[reportPrivateUsage]
        if autosave:
            conversation.autosave(self, session_id)
        return conversation

    def save(self, session_id: str, conversation: Conversation[Any]) -> None:
        """Store what the session lacks of ``conversation``: the messages added since it
        was loaded from (or last saved to) this session, and its last saved message again
        if that one changed. Linear in what changed, not in the whole history.

        Raises:
            ConversationConflict: another writer saved the session since this conversation
                last saw it (or, for a conversation new to this store, the session exists);
                nothing was written.
            StateError: the session holds another protocol's history.
            TypeError: a message is not JSON-serialisable (nothing was written).
        """
        conversation._save_to(self, session_id)  # pyright: ignore[reportPrivateUsage]

    async def load_async(
        self, session_id: str, runner: Runner[OutputT], *, autosave: bool = False
    ) -> Conversation[OutputT]:
        """``load`` in a worker thread, so that the event loop serves others meanwhile (a
        PostgreSQL round trip, a busy SQLite file). Its ``send_async`` and
        ``stream_async`` autosave in a worker thread too."""
        return await asyncio.to_thread(self.load, session_id, runner, autosave=autosave)

    async def save_async(self, session_id: str, conversation: Conversation[Any]) -> None:
        """``save`` in a worker thread (see ``load_async``)."""
        await asyncio.to_thread(self.save, session_id, conversation)

    def save_pending(self, pending: PendingApproval) -> None:
        """Keep a paused run until someone decides: ``load_pending(pending.id)`` returns it
        and ``pending_ids()`` lists it until it is resumed (``runner.resume(...,
        store=store)`` claims its id here, and the store forgets it). Saving it again
        changes nothing.

        Raises:
            StateError: this pause was already resumed with this store.
            NotImplementedError: the store does not keep pending approvals.
        """
        if not self.write_pending(pending.id, pending.to_json()):
            raise StateError(f"pending approval {pending.id!r} was already resumed; not saved")

    def load_pending(self, pending_id: str) -> PendingApproval:
        """The paused run saved under ``pending_id``, to resume with
        ``runner.resume(pending, decisions, store=store)``.

        Raises:
            StateError: there is no such pause here (never saved, or already resumed), or
                what is stored is not a pause toolkit wrote (the message says what is wrong).
            NotImplementedError: the store does not keep pending approvals.
        """
        from toolkit.runner._state import PendingApproval  # noqa: PLC0415 - pydantic, when needed

        body = self.read_pending(pending_id)
        if body is None:
            raise StateError(
                f"no pending approval {pending_id!r} in this store: it was never saved here, "
                "or was already resumed"
            )
        try:
            pending = PendingApproval.from_json(body)
        except StateError as error:
            named = f"the pending approval {pending_id!r}"
            raise StateError(str(error).replace("this pending approval", named, 1)) from None
        if pending.id != pending_id:  # a row edited or copied: never resume another pause
            raise StateError(
                f"the pending approval stored as {pending_id!r} is another pause ({pending.id!r})"
            )
        return pending

    # -- what a store implements ----------------------------------------------------------------

    @abstractmethod
    def read(self, session_id: str) -> StoredSession | None:
        """The stored session, or ``None`` when there is none.

        Raises:
            StateError: what is stored is not a session toolkit wrote.
        """

    @abstractmethod
    def write(
        self,
        session_id: str,
        *,
        format: str,
        messages: Sequence[Any],
        start: int,
        version: int,
    ) -> int:
        """Replace the session's messages from position ``start`` on with ``messages``, if
        its version is still ``version`` (``0``: the session must not exist yet); return the
        new version. Atomic: all of it or nothing.

        Raises:
            ConversationConflict: the version moved on; nothing was written.
        """

    @abstractmethod
    def delete(self, session_id: str) -> None:
        """Forget a session (nothing happens when there is no such session)."""

    @abstractmethod
    def sessions(self) -> list[str]:
        """The stored session ids, most recently saved first."""

    @abstractmethod
    def claim(self, key: str) -> bool:
        """Record a single-use key (a paused run's id); ``False`` if it was recorded before.
        Atomic: of two concurrent claims of one key, exactly one gets ``True``. A store that
        keeps pending approvals forgets the pause of that id (``read_pending`` and
        ``pending_ids`` no longer see it)."""

    # Pending approvals: optional, so that a store written before them still works. Their
    # defaults raise; SQLiteStore and PostgresStore implement them.

    def write_pending(self, pending_id: str, body: str) -> bool:
        """Keep a pause's JSON under its id, unless the id was claimed: then write nothing
        and return ``False``. Writing an id already kept changes nothing.

        Raises:
            NotImplementedError: the store does not keep pending approvals (the default).
        """
        raise NotImplementedError(self._no_pending("write_pending"))

    def read_pending(self, pending_id: str) -> str | None:
        """The JSON kept under ``pending_id``, or ``None`` when there is none or the id was
        claimed.

        Raises:
            NotImplementedError: the store does not keep pending approvals (the default).
        """
        raise NotImplementedError(self._no_pending("read_pending"))

    def pending_ids(self) -> list[str]:
        """The ids of the pauses kept and not yet claimed, most recently saved first.

        Raises:
            NotImplementedError: the store does not keep pending approvals (the default).
        """
        raise NotImplementedError(self._no_pending("pending_ids"))

    def _no_pending(self, primitive: str) -> str:
        return (
            f"{type(self).__name__} does not keep pending approvals: it does not implement "
            f"ConversationStore.{primitive}"
        )


def message_digest(message: Any) -> str:
    """A short fingerprint of one message, to tell whether it changed since it was saved."""
    text = json.dumps(message, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SQLiteStore(ConversationStore):
    """Conversations in an SQLite database: a row per session (format, version) and a row
    per message, so a save appends instead of rewriting the history; and pending approvals,
    a row each.

    One connection is shared behind a lock, so a store can serve several threads (and
    several ``Conversation`` objects). Separate processes may open the same file: SQLite
    serialises their writes, and the version check keeps their turns apart.

    The tables are created when the database is first opened, and the schema's version is
    recorded (``toolkit_schema``): a database of a newer schema than this toolkit knows is
    refused rather than misread.

    Args:
        path: The database file (created when missing), or ``":memory:"`` for a store
            that lives as long as this object.
        timeout: Seconds to wait for another process's write lock before failing.

    Raises:
        StateError: the database has a newer schema than this toolkit knows.

    Messages must be JSON-serialisable, as every native message format of toolkit's
    backends is.
    """

    _SCHEMA_VERSION = 1
    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS toolkit_sessions ("
        " session_id TEXT PRIMARY KEY, format TEXT NOT NULL,"
        " version INTEGER NOT NULL, updated_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS toolkit_messages ("
        " session_id TEXT NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL,"
        " PRIMARY KEY (session_id, position))",
        "CREATE TABLE IF NOT EXISTS toolkit_claims ("
        " key TEXT PRIMARY KEY, claimed_at REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS toolkit_pending ("
        " id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at REAL NOT NULL)",
    )

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 5.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.path, timeout=timeout, check_same_thread=False, isolation_level=None
        )
        try:
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            with self._transaction():
                self._create_schema()
        except BaseException:
            self._db.close()
            raise

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def read(self, session_id: str) -> StoredSession | None:
        """The stored session, or ``None``."""
        with self._lock:
            # One statement, so one snapshot: the version and the messages agree.
            rows = self._db.execute(
                "SELECT s.format, s.version, m.body FROM toolkit_sessions s"
                " LEFT JOIN toolkit_messages m ON m.session_id = s.session_id"
                " WHERE s.session_id = ? ORDER BY m.position",
                (session_id,),
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
        with self._transaction():
            row = self._db.execute(
                "SELECT version FROM toolkit_sessions WHERE session_id = ?", (session_id,)
            ).fetchone()
            current = 0 if row is None else int(row[0])
            if current != version:
                raise ConversationConflict(conflict_message(session_id, version, current))
            now = time.time()
            if row is None:
                self._db.execute(
                    "INSERT INTO toolkit_sessions VALUES (?, ?, 1, ?)", (session_id, format, now)
                )
            else:
                self._db.execute(
                    "UPDATE toolkit_sessions SET version = version + 1, format = ?,"
                    " updated_at = ? WHERE session_id = ?",
                    (format, now, session_id),
                )
            self._db.execute(
                "DELETE FROM toolkit_messages WHERE session_id = ? AND position >= ?",
                (session_id, start),
            )
            self._db.executemany(
                "INSERT INTO toolkit_messages VALUES (?, ?, ?)",
                [(session_id, start + i, body) for i, body in enumerate(bodies)],
            )
        return current + 1

    def delete(self, session_id: str) -> None:
        """Forget a session."""
        with self._transaction():
            self._db.execute("DELETE FROM toolkit_messages WHERE session_id = ?", (session_id,))
            self._db.execute("DELETE FROM toolkit_sessions WHERE session_id = ?", (session_id,))

    def sessions(self) -> list[str]:
        """The stored session ids, most recently saved first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id FROM toolkit_sessions ORDER BY updated_at DESC, rowid DESC"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def claim(self, key: str) -> bool:
        """Record a single-use key (``False`` if it was recorded before); the pending
        approval of that id, if one is kept, is forgotten."""
        with self._transaction():
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO toolkit_claims VALUES (?, ?)", (key, time.time())
            )
            claimed = cursor.rowcount == 1
            if claimed:
                self._db.execute("DELETE FROM toolkit_pending WHERE id = ?", (key,))
        return claimed

    def write_pending(self, pending_id: str, body: str) -> bool:
        """Keep a pause's JSON, unless its id was claimed (then ``False``)."""
        with self._transaction():
            if self._db.execute(
                "SELECT 1 FROM toolkit_claims WHERE key = ?", (pending_id,)
            ).fetchone():
                return False
            self._db.execute(
                "INSERT OR IGNORE INTO toolkit_pending VALUES (?, ?, ?)",
                (pending_id, body, time.time()),
            )
        return True

    def read_pending(self, pending_id: str) -> str | None:
        """The JSON kept under ``pending_id``, or ``None``."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM toolkit_pending WHERE id = ?", (pending_id,)
            ).fetchone()
        return None if row is None else str(row[0])

    def pending_ids(self) -> list[str]:
        """The ids of the pauses kept and not yet claimed, most recently saved first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM toolkit_pending ORDER BY created_at DESC, rowid DESC"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the database connection (the store cannot be used afterwards)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Generator[None, None, None]:
        """Hold the lock and a write transaction (taken at once, so that two processes
        checking the same version never both go on to write)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _create_schema(self) -> None:
        self._db.execute("CREATE TABLE IF NOT EXISTS toolkit_schema (version INTEGER NOT NULL)")
        (found,) = self._db.execute("SELECT max(version) FROM toolkit_schema").fetchone()
        where = f"the SQLite database {self.path!r}"
        if not schema_missing(found, self._SCHEMA_VERSION, where):
            return
        # IF NOT EXISTS: a database of a release without toolkit_schema has some of them.
        for statement in self._SCHEMA:
            self._db.execute(statement)
        self._migrate()
        self._db.execute("INSERT INTO toolkit_schema VALUES (?)", (self._SCHEMA_VERSION,))

    def _migrate(self) -> None:
        """Bring the sessions of toolkit 0.1's one-row-per-session table over, once."""
        old = self._db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'conversations'"
        ).fetchone()
        if old is None:
            return
        for session_id, format, text, updated_at in self._db.execute(
            "SELECT session_id, format, messages, updated_at FROM conversations"
        ).fetchall():
            try:
                messages = cast("list[Any]", json.loads(text))
            except ValueError:
                continue
            if not isinstance(messages, list):  # pyright: ignore[reportUnnecessaryIsInstance]
                continue
            self._db.execute(
                "INSERT OR IGNORE INTO toolkit_sessions VALUES (?, ?, 1, ?)",
                (session_id, format, updated_at),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO toolkit_messages VALUES (?, ?, ?)",
                [(session_id, i, json.dumps(m)) for i, m in enumerate(messages)],
            )
        self._db.execute("DROP TABLE conversations")


# -- shared by the stores of this package ----------------------------------------------------------


def schema_missing(found: object, known: int, where: str) -> bool:
    """Whether a database whose ``toolkit_schema`` says ``found`` (``None``: nothing yet)
    needs toolkit's tables created.

    Raises:
        StateError: the database has another schema than the one this toolkit knows.
    """
    if found is None:
        return True
    if found == known and isinstance(found, int):
        return False
    if isinstance(found, int) and found > known:
        raise StateError(
            f"{where} has toolkit's schema version {found}, newer than this toolkit knows "
            f"({known}): upgrade toolkit to use it"
        )
    raise StateError(
        f"{where} has toolkit's schema version {found!r}, which this toolkit ({known}) does "
        "not know"
    )


def session_of_rows(session_id: str, rows: Sequence[Sequence[Any]]) -> StoredSession | None:
    """The session read by a store's one query: its rows ``(format, version, body)``, one
    per message in order (a session without messages: one row, ``body`` null); ``None``
    when there are no rows.

    Raises:
        StateError: a body is not a JSON object (the message says which).
    """
    if not rows:
        return None
    bodies = [row[2] for row in rows if row[2] is not None]
    messages: list[Any] = []
    for position, body in enumerate(bodies):
        try:
            message = json.loads(body)
        except (ValueError, RecursionError, TypeError):
            message = None
        if not isinstance(message, dict):
            raise StateError(
                f"session {session_id!r} cannot be loaded: message {position} is not a JSON object"
            )
        messages.append(message)
    return StoredSession(format=str(rows[0][0]), messages=messages, version=int(rows[0][1]))


def conflict_message(session_id: str, expected: int, current: int) -> str:
    """What ``ConversationConflict`` says when a save expected ``expected`` and the session
    is at ``current`` (``0``: there is no such session)."""
    if expected == 0:
        return (
            f"session {session_id!r} already exists: load it (store.load) and continue it, or "
            "delete it first"
        )
    if current == 0:
        return f"session {session_id!r} was deleted since this conversation loaded it"
    return (
        f"session {session_id!r} was saved by another writer since this conversation loaded "
        f"it (version {current}, expected {expected}); nothing was written: load it again"
    )
