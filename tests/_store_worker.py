"""A process that talks in a shared session, for tests/test_store.py (importable by name, so
a spawned process can run it), and how the tests open a store of either kind."""

from __future__ import annotations

import time
from typing import Literal, TypeAlias

from toolkit import ConversationConflict, PostgresStore, Runner, SQLiteStore
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel

Kind: TypeAlias = Literal["sqlite", "postgres"]
Store: TypeAlias = "SQLiteStore | PostgresStore"


def open_store(kind: Kind, target: str) -> SQLiteStore | PostgresStore:
    """A store on ``target``: an SQLite file, or a PostgreSQL connection string."""
    if kind == "sqlite":
        return SQLiteStore(target, timeout=30)
    return PostgresStore(target)


def _answer(request: ModelRequest) -> str:
    return f"seen {len(request.messages)} messages"


def talk(kind: Kind, target: str, name: str, turns: int) -> int:
    """Send ``turns`` turns to the session ``shared``, reloading and redoing a turn whenever
    another process saved first; return how many conflicts it met."""
    runner = Runner(FunctionModel(_answer))
    conflicts = 0
    with open_store(kind, target) as store:
        for turn in range(turns):
            while True:
                chat = store.load("shared", runner)
                chat.send(f"{name}-{turn}")
                time.sleep(0.002)  # a slow turn: another process often saves meanwhile
                try:
                    store.save("shared", chat)
                    break
                except ConversationConflict:
                    conflicts += 1
    return conflicts
