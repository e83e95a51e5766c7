"""Where conversations live between processes: the ``ConversationStore`` protocol and
``SQLiteStore``, its implementation over the standard library's ``sqlite3``.

A store keeps, per session id, a history in the provider's native message format and the
name of that format (a history written for one protocol cannot be sent to another).
``Conversation.open`` loads from a store and saves to it after every turn.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

__all__ = ["ConversationStore", "SQLiteStore"]


@runtime_checkable
class ConversationStore(Protocol):
    """What ``Conversation`` needs to keep its history somewhere.

    Implementations must be safe to call from several threads. ``format_of`` and ``load``
    may be answered from one record; the conversation asks ``format_of`` first.
    """

    def load(self, session_id: str) -> list[Any] | None:
        """The stored messages of a session, or ``None`` when there are none."""
        ...

    def format_of(self, session_id: str) -> str | None:
        """The message format a session was saved in, or ``None`` when it is unknown."""
        ...

    def save(self, session_id: str, messages: list[Any], *, format: str) -> None:
        """Store a session's whole history, replacing what was there."""
        ...

    def delete(self, session_id: str) -> None:
        """Forget a session (nothing happens when there is no such session)."""
        ...

    def sessions(self) -> list[str]:
        """The stored session ids, most recently saved first."""
        ...


class SQLiteStore:
    """Conversations in one SQLite table: session id, format, messages as JSON, save time.

    One connection is shared behind a lock, so a store can serve several threads (and
    several ``Conversation`` objects). Separate processes may open the same file; SQLite
    serialises their writes.

    Args:
        path: The database file (created when missing), or ``":memory:"`` for a store
            that lives as long as this object.
        timeout: Seconds to wait for another process's write lock before failing.

    Messages must be JSON-serialisable, as every native message format of toolkit's
    backends is.
    """

    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS conversations ("
        " session_id TEXT PRIMARY KEY,"
        " format TEXT NOT NULL,"
        " messages TEXT NOT NULL,"
        " updated_at REAL NOT NULL)"
    )

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 5.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=timeout, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(self._SCHEMA)

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def load(self, session_id: str) -> list[Any] | None:
        """The stored messages of a session, or ``None``."""
        row = self._one("SELECT messages FROM conversations WHERE session_id = ?", session_id)
        if row is None:
            return None
        messages: list[Any] = json.loads(row)
        return messages

    def format_of(self, session_id: str) -> str | None:
        """The message format a session was saved in, or ``None``."""
        return self._one("SELECT format FROM conversations WHERE session_id = ?", session_id)

    def save(self, session_id: str, messages: list[Any], *, format: str) -> None:
        """Store a session's whole history (in one transaction), replacing what was there.

        Raises:
            TypeError: a message is not JSON-serialisable (nothing is written).
        """
        text = json.dumps(messages)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO conversations (session_id, format, messages, updated_at)"
                " VALUES (?, ?, ?, ?)",
                (session_id, format, text, time.time()),
            )

    def delete(self, session_id: str) -> None:
        """Forget a session."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM conversations WHERE session_id = ?", (session_id,))

    def sessions(self) -> list[str]:
        """The stored session ids, most recently saved first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT session_id FROM conversations ORDER BY updated_at DESC, rowid DESC"
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the database connection (the store cannot be used afterwards)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _one(self, query: str, session_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(query, (session_id,)).fetchone()
        return None if row is None else str(row[0])
