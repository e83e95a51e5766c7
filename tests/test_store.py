"""Conversations and pending approvals kept in a ``ConversationStore``, driven offline: one
suite, run against ``SQLiteStore`` and against ``PostgresStore`` on a throwaway server of
the test session's own (tests/_postgres.py; its tests skip without PostgreSQL, unless
TOOLKIT_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import _postgres
import _store_worker
import pytest
from _store_worker import Kind, Store, open_store
from typing_extensions import LiteralString

from toolkit import (
    Approve,
    Conversation,
    ConversationConflict,
    ConversationStore,
    Event,
    Limits,
    PendingApproval,
    PostgresStore,
    Registry,
    RunFinished,
    Runner,
    SQLiteStore,
    StateError,
    StoredSession,
    ToolResultEvent,
    tool,
)
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ScriptedModel, call

postgres_cluster = _postgres.postgres_cluster  # the session's server: a fixture


@tool
def get_current_weather(location: str) -> str:
    """Get the current weather in a given location."""
    return f"{location}: 11 degrees"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


paid: list[str] = []


@tool(needs_approval=True)
def pay(to: str) -> str:
    """Pay someone."""
    paid.append(to)
    return f"paid {to}"


def runner(model: Any) -> Runner:
    return Runner(model, tools=[get_current_weather, add, pay])


def echo_model(format: Any = "openai") -> FunctionModel:
    """Answers each user turn with the number of user turns it has seen."""

    def decide(request: ModelRequest) -> str:
        return f"turn {sum(m.get('role') == 'user' for m in request.messages)}"

    return FunctionModel(decide, format=format)


def saved(store: ConversationStore, session_id: str) -> list[Any] | None:
    found = store.read(session_id)
    return None if found is None else found.messages


@dataclass(frozen=True)
class Backend:
    """One kind of store on a database of the test's own: ``open`` makes a store on it
    (each a new connection, as another process would), ``sql`` reads or tampers with what
    the stores wrote."""

    kind: Kind
    target: str  # the SQLite file, or the PostgreSQL connection string

    def open(self) -> Store:
        return open_store(self.kind, self.target)

    def sql(self, statement: LiteralString, *params: Any) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` placeholders) in its own transaction; its rows."""
        if self.kind == "sqlite":
            with contextlib.closing(sqlite3.connect(self.target)) as raw, raw:
                return raw.execute(statement, params).fetchall()
        import psycopg

        with psycopg.connect(self.target, autocommit=True) as raw:
            cursor = raw.execute(statement.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "postgres":
        cluster: _postgres.Cluster = request.getfixturevalue("postgres_cluster")
        return Backend("postgres", cluster.fresh_conninfo())
    return Backend("sqlite", str(tmp_path / "store.db"))


@pytest.fixture
def postgres(postgres_cluster: _postgres.Cluster) -> Backend:
    """PostgreSQL alone, for what only PostgresStore has."""
    return Backend("postgres", postgres_cluster.fresh_conninfo())


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    with backend.open() as opened:
        yield opened


class CountingStore(ConversationStore):
    """Another store's primitives, recording what each write carries (to check that saves
    append); a store written before pending approvals, which it does not implement."""

    def __init__(self, inner: ConversationStore) -> None:
        self.inner = inner
        self.writes: list[tuple[int, int]] = []  # (start, messages written)

    def read(self, session_id: str) -> StoredSession | None:
        return self.inner.read(session_id)

    def write(
        self, session_id: str, *, format: str, messages: Sequence[Any], start: int, version: int
    ) -> int:
        self.writes.append((start, len(messages)))
        return self.inner.write(
            session_id, format=format, messages=messages, start=start, version=version
        )

    def delete(self, session_id: str) -> None:
        self.inner.delete(session_id)

    def sessions(self) -> list[str]:
        return self.inner.sessions()

    def claim(self, key: str) -> bool:
        return self.inner.claim(key)


# -- round trips -----------------------------------------------------------------------------------


def test_sqlite_store_is_a_conversation_store() -> None:
    with SQLiteStore() as store:
        assert isinstance(store, ConversationStore)
        assert repr(store) == "SQLiteStore(':memory:')"


def test_a_conversation_is_saved_after_each_send_and_reloaded(store: Store) -> None:
    model = ScriptedModel(
        [call("get_current_weather", location="Chicago"), "11 degrees.", "Chicago, as I said."]
    )
    chat = store.load("user-1", runner(model), autosave=True)
    assert chat.messages == []
    assert store.read("user-1") is None  # nothing saved before the first turn

    chat.send("Weather in Chicago?")
    assert store.read("user-1") == StoredSession("openai", chat.messages, 1)
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"]

    again = store.load("user-1", runner(model), autosave=True)
    assert again.messages == chat.messages
    second = again.send("Which city did I ask about?")
    assert second.text == "Chicago, as I said."
    assert len(model.requests[-1].messages) == 5  # the stored history went to the model
    assert saved(store, "user-1") == again.messages
    assert len(again.messages) == 6


def test_saving_is_explicit_unless_autosave_is_asked_for(store: Store) -> None:
    chat = store.load("s", runner(echo_model()))
    chat.send("hello")
    assert store.read("s") is None
    store.save("s", chat)
    assert saved(store, "s") == chat.messages
    chat.send("again")
    assert len(saved(store, "s") or []) == 2
    store.save("s", chat)
    assert saved(store, "s") == chat.messages


def test_an_empty_conversation_is_saved_as_an_empty_session(store: Store) -> None:
    store.save("s", runner(echo_model()).conversation())
    assert store.read("s") == StoredSession("openai", [], 1)
    assert store.sessions() == ["s"]


def test_saves_append_instead_of_rewriting_the_history(store: Store) -> None:
    counting = CountingStore(store)
    chat = counting.load("s", runner(echo_model()), autosave=True)
    for turn in range(50):
        chat.send(f"message {turn}")
    assert len(chat.messages) == 100
    assert counting.writes[0] == (0, 2)
    assert all(written == 2 for _, written in counting.writes)  # each turn: its 2 messages
    assert [start for start, _ in counting.writes] == list(range(0, 100, 2))
    assert saved(store, "s") == chat.messages


def test_a_changed_last_message_is_written_again(store: Store) -> None:
    # Anthropic merges a user text into the message of tool results before it: the message
    # the store already holds changes, and the save rewrites it (only it) with the new ones.
    counting = CountingStore(store)
    model = ScriptedModel([call("add", a=1, b=2)], format="anthropic")
    chat = counting.load("s", runner(model), autosave=True)
    chat.send("1 + 2?", limits=Limits(max_steps=1))
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "user"]
    with pytest.raises(AssertionError, match="ran out"):
        chat.send("and?")
    assert counting.writes[-1] == (2, 1)  # from the changed tool-result message on
    assert saved(counting, "s") == chat.messages
    assert [b["type"] for b in chat.messages[2]["content"]] == ["tool_result", "text"]


def test_anthropic_histories_round_trip(store: Store) -> None:
    model = ScriptedModel([call("add", a=1, b=2), "3", "still 3"], format="anthropic")
    store.load("s", runner(model), autosave=True).send("1 + 2?")
    chat = store.load("s", runner(model), autosave=True)
    chat.send("and now?")
    assert (store.read("s") or StoredSession("", [], 0)).format == "anthropic"
    roles = [m["role"] for m in chat.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert [b["type"] for b in chat.messages[1]["content"]] == ["tool_use"]
    assert [b["type"] for b in chat.messages[2]["content"]] == ["tool_result"]


def test_messages_round_trip_exactly(store: Store) -> None:
    # NUL (which PostgreSQL's text and jsonb refuse raw), a lone surrogate, other scripts,
    # keys in an order jsonb would not keep, and numbers JSON keeps apart.
    message = {
        "role": "user",
        "zeta": 1,
        "content": "a\u0000b \ud800 ü 漢字 😀 \\u0000",
        "alpha": [1.0, 1, True, None, {"b": 2, "a": 1}],
    }
    store.write("s", format="openai", messages=[message], start=0, version=0)
    found = store.read("s")
    assert found is not None
    assert found.messages == [message]
    assert list(found.messages[0]) == ["role", "zeta", "content", "alpha"]
    assert list(found.messages[0]["alpha"][4]) == ["b", "a"]
    assert [type(v) for v in found.messages[0]["alpha"]] == [float, int, bool, type(None), dict]


def test_sessions_are_kept_apart(store: Store) -> None:
    model = echo_model()
    alice = store.load("alice", runner(model), autosave=True)
    bob = store.load("bob", runner(model), autosave=True)
    assert alice.send("hi").text == "turn 1"
    assert bob.send("hi").text == "turn 1"
    assert alice.send("again").text == "turn 2"
    assert len(saved(store, "alice") or []) == 4
    assert len(saved(store, "bob") or []) == 2
    assert store.sessions() == ["alice", "bob"]  # most recently saved first
    bob.send("me too")
    assert store.sessions() == ["bob", "alice"]


def test_history_persists_across_store_instances(backend: Backend) -> None:
    with backend.open() as first:
        first.load("s", runner(echo_model()), autosave=True).send("hello")
    with backend.open() as second:
        chat = second.load("s", runner(echo_model()), autosave=True)
        assert chat.messages == [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "turn 1"},
        ]
        assert chat.send("more").text == "turn 2"
    rows = backend.sql("SELECT position FROM toolkit_messages ORDER BY position")
    assert [row[0] for row in rows] == [0, 1, 2, 3]


def test_a_database_of_the_previous_release_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "turn 1"}]
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.execute(
            "CREATE TABLE conversations (session_id TEXT PRIMARY KEY, format TEXT NOT NULL,"
            " messages TEXT NOT NULL, updated_at REAL NOT NULL)"
        )
        raw.execute(
            "INSERT INTO conversations VALUES ('old', 'openai', ?, 1.0)", (json.dumps(history),)
        )
    with SQLiteStore(path) as store:
        assert store.read("old") == StoredSession("openai", history, 1)
        chat = store.load("old", runner(echo_model()), autosave=True)
        assert chat.send("again").text == "turn 2"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        assert "conversations" not in tables
        assert raw.execute("SELECT version FROM toolkit_schema").fetchall() == [(1,)]


def test_a_database_without_a_schema_version_gets_one(tmp_path: Path) -> None:
    # As the previous development release left it: the tables, no toolkit_schema.
    path = tmp_path / "unversioned.db"
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        for statement in SQLiteStore._SCHEMA[:3]:  # pyright: ignore[reportPrivateUsage]
            raw.execute(statement)
        raw.execute("INSERT INTO toolkit_sessions VALUES ('s', 'openai', 1, 1.0)")
        raw.execute("INSERT INTO toolkit_messages VALUES ('s', 0, '{\"role\": \"user\"}')")
    with SQLiteStore(path) as store:
        assert store.read("s") == StoredSession("openai", [{"role": "user"}], 1)
        assert store.pending_ids() == []
    with contextlib.closing(sqlite3.connect(path)) as raw:
        assert raw.execute("SELECT version FROM toolkit_schema").fetchall() == [(1,)]


def test_a_history_of_another_format_is_refused(store: Store) -> None:
    store.load("s", runner(echo_model()), autosave=True).send("hello")
    anthropic = runner(echo_model("anthropic"))
    with pytest.raises(StateError, match="session 's' is in the 'openai' format") as caught:
        store.load("s", anthropic)
    assert "'anthropic'" in str(caught.value)


@pytest.mark.parametrize(
    "body",
    ['"abc"', "[1, 2]", "null", "{not json", "", "[" * 100_000 + "]" * 100_000],
    ids=["string", "list", "null", "not-json", "empty", "deep"],
)
def test_a_corrupted_stored_message_is_a_state_error(backend: Backend, body: str) -> None:
    with backend.open() as store:
        store.load("s", runner(echo_model()), autosave=True).send("hello")
    backend.sql("UPDATE toolkit_messages SET body = ? WHERE position = 1", body)
    with backend.open() as store, pytest.raises(StateError, match="message 1 is not"):
        store.load("s", runner(echo_model()))


def test_delete_forgets_a_session(store: Store) -> None:
    for session in ("a", "b"):
        store.load(session, runner(echo_model()), autosave=True).send("hello")
    store.delete("a")
    store.delete("never-saved")
    assert store.read("a") is None
    assert store.sessions() == ["b"]
    assert store.load("a", runner(echo_model())).messages == []


def test_store_and_session_id_go_together(store: Store) -> None:
    with pytest.raises(ValueError, match="both store and session_id"):
        Conversation(runner(echo_model()), store=store)


def test_a_conversation_without_a_store_saves_nothing(store: Store) -> None:
    runner(echo_model()).conversation().send("hello")
    assert store.sessions() == []


def test_unserialisable_messages_are_not_written(store: Store) -> None:
    chat = Conversation(runner(echo_model()), [{"role": "user", "content": object()}])
    with pytest.raises(TypeError):
        store.save("s", chat)
    assert store.sessions() == []


# -- the schema's version --------------------------------------------------------------------------


def test_the_schema_version_is_recorded_once(backend: Backend) -> None:
    for _ in range(3):
        backend.open().close()
    assert backend.sql("SELECT version FROM toolkit_schema") == [(1,)]


def test_a_database_of_a_newer_schema_is_refused(backend: Backend) -> None:
    with backend.open() as store:
        store.load("s", runner(echo_model()), autosave=True).send("hello")
    backend.sql("UPDATE toolkit_schema SET version = 2")
    with pytest.raises(StateError, match=r"schema version 2, newer than this toolkit knows \(1\)"):
        backend.open()
    assert backend.sql("SELECT count(*) FROM toolkit_messages") == [(2,)]  # left alone


def test_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    SQLiteStore(path).close()
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("UPDATE toolkit_schema SET version = 'two'")
    with pytest.raises(StateError, match="schema version 'two', which this toolkit"):
        SQLiteStore(path)


def test_stores_opened_at_once_create_the_schema_once(backend: Backend) -> None:
    start = threading.Barrier(8)
    opened: list[Store] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            opened.append(backend.open())
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for each in opened:
        each.close()
    assert errors == []
    assert len(opened) == 8
    assert backend.sql("SELECT version FROM toolkit_schema") == [(1,)]


# -- two writers never lose a turn in silence ------------------------------------------------------


def test_a_second_writer_gets_a_conflict_and_nothing_is_lost(store: Store) -> None:
    first = store.load("s", runner(echo_model()), autosave=True)
    first.send("one")
    second = store.load("s", runner(echo_model()), autosave=True)
    first.send("two")  # saved: the session is at version 2
    with pytest.raises(ConversationConflict, match="saved by another writer") as caught:
        second.send("three")  # its turn ran, but saving it would overwrite "two"
    assert "(version 2, expected 1)" in str(caught.value)
    assert [m["content"] for m in saved(store, "s") or []] == ["one", "turn 1", "two", "turn 2"]
    again = store.load("s", runner(echo_model()), autosave=True)
    again.send("three")
    assert [m["content"] for m in saved(store, "s") or []][-2:] == ["three", "turn 3"]


def test_a_new_conversation_cannot_overwrite_an_existing_session(store: Store) -> None:
    store.load("s", runner(echo_model()), autosave=True).send("one")
    stranger = runner(echo_model()).conversation()
    stranger.send("hijack")
    with pytest.raises(ConversationConflict, match="already exists"):
        store.save("s", stranger)
    assert [m["content"] for m in saved(store, "s") or []] == ["one", "turn 1"]


def test_a_deleted_session_is_not_recreated_by_a_stale_conversation(store: Store) -> None:
    chat = store.load("s", runner(echo_model()), autosave=True)
    chat.send("one")
    store.delete("s")
    with pytest.raises(ConversationConflict, match="was deleted"):
        chat.send("two")
    assert store.read("s") is None


def test_processes_appending_to_one_session_never_lose_a_turn(backend: Backend) -> None:
    backend.open().close()
    workers, turns = 4, 15
    context = multiprocessing.get_context("spawn")
    jobs = [(backend.kind, backend.target, f"w{i}", turns) for i in range(workers)]
    with context.Pool(workers) as pool:
        pool.starmap(_store_worker.talk, jobs)
    with backend.open() as store:
        history = saved(store, "shared") or []
    users = [m["content"] for m in history if m["role"] == "user"]
    assert len(users) == workers * turns  # every turn of every process, exactly once
    assert sorted(users) == sorted(f"w{i}-{t}" for i in range(workers) for t in range(turns))
    assert [m["role"] for m in history] == ["user", "assistant"] * (workers * turns)


def test_threads_writing_one_session_through_their_own_stores(backend: Backend) -> None:
    # Each thread its own store (its own connection): a write conflicts, or lands whole.
    stores = [backend.open() for _ in range(6)]
    start = threading.Barrier(len(stores))
    landed: list[str] = []

    def write(store: Store, name: str) -> None:
        start.wait()
        for turn in range(10):
            while True:
                found = store.read("s")
                version = 0 if found is None else found.version
                count = 0 if found is None else len(found.messages)
                message = {"role": "user", "content": f"{name}-{turn}"}
                try:
                    store.write(
                        "s", format="openai", messages=[message], start=count, version=version
                    )
                except ConversationConflict:
                    continue
                landed.append(message["content"])
                break

    threads = [threading.Thread(target=write, args=(s, f"t{i}")) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    found = stores[0].read("s")
    for each in stores:
        each.close()
    assert found is not None
    assert found.version == len(landed) == 60
    assert [m["content"] for m in found.messages] == landed  # in the order they landed


# -- single-use claims -----------------------------------------------------------------------------


def test_a_key_is_claimed_once(store: Store) -> None:
    assert store.claim("pause-1")
    assert not store.claim("pause-1")
    assert store.claim("pause-2")


def test_concurrent_claims_let_exactly_one_through(backend: Backend) -> None:
    stores = [backend.open() for _ in range(8)]
    start = threading.Barrier(8)
    won: list[bool] = []

    def claim(store: Store) -> None:
        start.wait()
        won.append(store.claim("the-pause"))

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert sorted(won) == [False] * 7 + [True]


# -- pending approvals -----------------------------------------------------------------------------


def paused_run(to: str = "Ada") -> PendingApproval:
    result = runner(ScriptedModel([call("pay", to=to)])).run(f"Pay {to}.")
    assert result.pending is not None
    return result.pending


def test_a_pending_approval_is_kept_until_it_is_resumed(backend: Backend) -> None:
    paid.clear()
    pending = paused_run()
    with backend.open() as store:
        store.save_pending(pending)
        store.save_pending(pending)  # again: nothing changes
        assert store.pending_ids() == [pending.id]

    with backend.open() as store:  # a later request, another process
        loaded = store.load_pending(pending.id)
        assert loaded.to_json() == pending.to_json()
        [waiting] = loaded.calls
        result = runner(ScriptedModel(["Paid."])).resume(loaded, {waiting: Approve()}, store=store)
        assert result.text == "Paid."
        assert paid == ["Ada"]
        assert store.pending_ids() == []
        with pytest.raises(StateError, match=f"no pending approval '{pending.id}'"):
            store.load_pending(pending.id)
        with pytest.raises(StateError, match="was already resumed"):
            runner(ScriptedModel(["twice?"])).resume(loaded, {waiting: Approve()}, store=store)
        with pytest.raises(StateError, match=f"'{pending.id}' was already resumed; not saved"):
            store.save_pending(pending)
    assert paid == ["Ada"]  # never twice
    assert backend.sql("SELECT count(*) FROM toolkit_pending") == [(0,)]  # forgotten


def test_pending_ids_are_newest_first_and_a_claim_drops_one(store: Store) -> None:
    first, second, third = paused_run("Ada"), paused_run("Bob"), paused_run("Eve")
    for pending in (first, second, third):
        store.save_pending(pending)
    assert store.pending_ids() == [third.id, second.id, first.id]
    assert store.claim(second.id)  # dropped without resuming it
    assert store.pending_ids() == [third.id, first.id]
    with pytest.raises(StateError, match="never saved here, or was already resumed"):
        store.load_pending(second.id)
    assert store.load_pending(first.id).calls[0].arguments == '{"to": "Ada"}'


def test_an_unknown_pending_approval_is_a_state_error(store: Store) -> None:
    with pytest.raises(StateError, match="no pending approval 'nope' in this store"):
        store.load_pending("nope")


def test_a_conversation_resumes_a_stored_pause_once(store: Store) -> None:
    paid.clear()
    chat = store.load("s", runner(ScriptedModel([call("pay", to="Ada")])), autosave=True)
    paused = chat.send("Pay Ada.")
    assert paused.pending is not None
    store.save_pending(paused.pending)

    later = store.load("s", runner(ScriptedModel(["Paid."])), autosave=True)
    [pending_id] = store.pending_ids()
    pending = store.load_pending(pending_id)
    assert later.resume(pending, {pending.calls[0]: Approve()}).text == "Paid."
    assert (saved(store, "s") or [])[-1] == {"role": "assistant", "content": "Paid."}
    assert store.pending_ids() == []
    with pytest.raises(StateError, match="was already resumed"):
        later.resume(pending, {pending.calls[0]: Approve()})
    assert paid == ["Ada"]


def test_resume_async_claims_the_pause_off_the_event_loop(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    paid.clear()
    paused = runner(ScriptedModel([call("pay", to="Eve")])).run("Pay Eve.")
    assert paused.pending is not None
    pending = paused.pending
    claimers: list[int] = []
    claim = type(store).claim

    def recording(self: Any, key: str) -> bool:
        claimers.append(threading.get_ident())
        return claim(self, key)

    monkeypatch.setattr(type(store), "claim", recording)

    async def resume_twice() -> tuple[int, str]:
        later = runner(ScriptedModel(["Paid."]))
        decided = {pending.calls[0]: Approve()}
        result = await later.resume_async(pending, decided, store=store)
        with pytest.raises(StateError, match="was already resumed"):
            await later.resume_async(pending, decided, store=store)
        return threading.get_ident(), result.text

    loop_thread, text = asyncio.run(resume_twice())
    assert text == "Paid."
    assert paid == ["Eve"]
    assert len(claimers) == 2
    assert loop_thread not in claimers


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("not json", "the pending approval 'p' cannot be loaded"),
        ('{"version": 1}', "the pending approval 'p' cannot be loaded: .*Field required"),
        ("[" * 100_000, "the pending approval 'p' cannot be loaded"),
        (None, r"the pending approval stored as 'p' is another pause \('"),
    ],
    ids=["not-json", "not-a-pause", "deep", "another-pause"],
)
def test_a_corrupted_pending_approval_is_a_state_error(
    store: Store, body: str | None, problem: str
) -> None:
    store.write_pending("p", body if body is not None else paused_run().to_json())
    with pytest.raises(StateError, match=problem):
        store.load_pending("p")


def test_a_store_without_pending_primitives_says_so(store: Store) -> None:
    older = CountingStore(store)  # the five primitives of before, and nothing else
    older.load("s", runner(echo_model()), autosave=True).send("hi")
    assert saved(older, "s") is not None
    message = "CountingStore does not keep pending approvals: it does not implement"
    with pytest.raises(NotImplementedError, match=f"{message} ConversationStore.write_pending"):
        older.save_pending(paused_run())
    with pytest.raises(NotImplementedError, match=f"{message} ConversationStore.read_pending"):
        older.load_pending("p")
    with pytest.raises(NotImplementedError, match=f"{message} ConversationStore.pending_ids"):
        older.pending_ids()


# -- PostgreSQL's own ------------------------------------------------------------------------------


def test_postgres_store_without_psycopg_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg: ImportError
    with pytest.raises(ImportError, match=r"pip install 'toolkit-llm\[postgres\]'"):
        PostgresStore("host=127.0.0.1 port=1")


def test_import_toolkit_does_not_import_psycopg() -> None:
    code = (
        "import sys, toolkit\n"
        "toolkit.PostgresStore, toolkit.SQLiteStore, toolkit.ConversationStore\n"
        "print('psycopg' in sys.modules, 'toolkit.runner._postgres' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"]


def test_postgres_store_repr_leaves_the_password_out(postgres: Backend) -> None:
    with PostgresStore(f"{postgres.target} password=hunter2") as store:
        assert repr(store).startswith("PostgresStore(<toolkit@127.0.0.1:")
        assert "hunter2" not in repr(store)


def test_postgres_store_reconnects_after_losing_its_connection(postgres: Backend) -> None:
    import psycopg

    with PostgresStore(f"{postgres.target} application_name=lost") as store:
        store.load("s", runner(echo_model()), autosave=True).send("hello")
        postgres.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'lost'"
        )
        with pytest.raises(psycopg.OperationalError):
            store.read("s")
        assert len(saved(store, "s") or []) == 2  # a new connection


def test_postgres_store_serves_threads_from_several_connections(postgres: Backend) -> None:
    """A write waiting on a row lock holds one connection; another thread's read goes on
    through a second one (with a single shared connection it would wait too)."""
    import psycopg

    with PostgresStore(postgres.target, max_connections=2) as store:
        chat = store.load("s", runner(echo_model()), autosave=True)
        chat.send("hello")
        blocked = threading.Event()
        outcome: list[object] = []

        def save_turn() -> None:
            blocked.set()
            try:
                chat.send("again")  # its autosave waits for the row lock below
                outcome.append("saved")
            except BaseException as error:
                outcome.append(error)

        with psycopg.connect(postgres.target) as holder, holder.transaction():
            holder.execute("SELECT 1 FROM toolkit_sessions WHERE session_id = 's' FOR UPDATE")
            writer = threading.Thread(target=save_turn)
            writer.start()
            assert blocked.wait(10)
            read: list[object] = []
            reader = threading.Thread(target=lambda: read.append(store.read("s")))
            reader.start()
            reader.join(timeout=10)
            assert not reader.is_alive(), "the read waited for the blocked write"
            assert writer.is_alive()  # still waiting for the row lock
        writer.join(timeout=10)
        assert outcome == ["saved"]
        stored = read[0]
        assert isinstance(stored, StoredSession)
        assert stored.version == 1  # the read saw the session before the blocked write
        assert len(saved(store, "s") or []) == 4


def test_postgres_store_checks_max_connections_and_refuses_use_once_closed(
    postgres: Backend,
) -> None:
    for wrong in (0, -1, True, 2.5):
        with pytest.raises(ValueError, match="max_connections must be a whole number"):
            PostgresStore(postgres.target, max_connections=cast("Any", wrong))
    store = PostgresStore(postgres.target, max_connections=1)
    store.close()
    with pytest.raises(StateError, match=r"PostgresStore\(<.*>\) was closed"):
        store.read("s")


def test_a_session_id_postgresql_cannot_store_is_refused_clearly(postgres: Backend) -> None:
    with PostgresStore(postgres.target) as store:
        with pytest.raises(ValueError, match=r"session id 'a\\x00b' contains a NUL character"):
            store.load("a\x00b", runner(echo_model()))
        chat = runner(echo_model()).conversation()
        chat.send("hello")
        with pytest.raises(ValueError, match="NUL character"):
            store.save("a\x00b", chat)
        store.save("ab", chat)  # the store is still usable
        assert store.sessions() == ["ab"]


# -- failures and streams --------------------------------------------------------------------------


class _FailingOnce(Registry):
    """A registry whose first execution is interrupted."""

    failed = False

    def execute(self, calls: Any, **options: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise KeyboardInterrupt
        return super().execute(calls, **options)


def test_a_failed_turn_is_still_saved_with_its_calls_closed(store: Store) -> None:
    model = ScriptedModel([[call("add", a=1, b=1), call("add", a=2, b=2)], "next turn"])
    chat = store.load("s", Runner(model, tools=_FailingOnce([add])), autosave=True)
    with pytest.raises(KeyboardInterrupt):
        chat.send("go")
    found = saved(store, "s") or []
    assert found == chat.messages
    closing = [m for m in found if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in closing] == ["call_1", "call_2"]
    assert {m["content"] for m in closing} == {"This call was interrupted before it finished."}

    reopened = store.load("s", Runner(model, tools=[add]), autosave=True)
    assert reopened.send("try again").text == "next turn"


def test_a_model_failure_rolls_the_turn_back_in_the_store_too(store: Store) -> None:
    chat = store.load("s", runner(ScriptedModel(["first answer"])), autosave=True)
    chat.send("first")
    before = saved(store, "s")
    with pytest.raises(AssertionError, match="ran out of replies"):
        chat.send("hello?")
    assert saved(store, "s") == before == chat.messages
    assert before is not None
    assert len(before) == 2


def test_async_turns_save_off_the_event_loop(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store's round trip (a PostgreSQL server's) must not stall the event loop: the
    async twins load and save in a worker thread, and so do async turns' autosaves."""
    writers: list[int] = []
    write = type(store).write

    def recording(self: Any, *args: Any, **kwargs: Any) -> int:
        writers.append(threading.get_ident())
        return write(self, *args, **kwargs)

    monkeypatch.setattr(type(store), "write", recording)

    async def turns() -> tuple[int, list[Any]]:
        loop_thread = threading.get_ident()
        chat = await store.load_async("s", runner(echo_model()), autosave=True)
        await chat.send_async("hello")
        async for _ in chat.stream_async("again"):
            pass
        other = runner(echo_model()).conversation()
        await other.send_async("elsewhere")
        await store.save_async("t", other)
        reloaded = await store.load_async("s", runner(echo_model()))
        return loop_thread, reloaded.messages

    loop_thread, messages = asyncio.run(turns())
    assert len(writers) == 3
    assert loop_thread not in writers
    assert [m["content"] for m in messages] == ["hello", "turn 1", "again", "turn 2"]
    assert len(saved(store, "t") or []) == 2


def test_send_async_saves(store: Store) -> None:
    chat = store.load("s", runner(echo_model()), autosave=True)
    result = asyncio.run(chat.send_async("hello"))
    assert result.text == "turn 1"
    assert saved(store, "s") == chat.messages


def test_a_stream_is_saved_when_exhausted(store: Store) -> None:
    model = ScriptedModel([call("add", a=2, b=2), "four"])
    chat = store.load("s", runner(model), autosave=True)
    events = chat.stream("2 + 2?")
    assert store.read("s") is None  # nothing runs before the first event is asked for
    finished = list(events)[-1]
    assert isinstance(finished, RunFinished)
    assert saved(store, "s") == finished.result.messages


def test_a_stream_closed_early_is_saved_with_a_valid_history(store: Store) -> None:
    model = ScriptedModel([call("add", a=2, b=2), "four"])
    chat = store.load("s", runner(model), autosave=True)
    events = chat.stream("2 + 2?")
    for event in events:
        if isinstance(event, ToolResultEvent):
            break
    assert isinstance(events, Generator)
    events.close()
    found = saved(store, "s") or []
    assert found == chat.messages
    assert [m["role"] for m in found][:3] == ["user", "assistant", "tool"]


def test_stream_async_saves_when_exhausted_or_closed(store: Store) -> None:
    async def run() -> None:
        chat = store.load("s", runner(ScriptedModel(["one two three", "four"])), autosave=True)
        events = [event async for event in chat.stream_async("count")]
        assert isinstance(events[-1], RunFinished)
        assert saved(store, "s") == chat.messages

        stream = chat.stream_async("more")
        first: Event = await anext(stream)
        assert first is not None
        assert isinstance(stream, AsyncGenerator)
        await stream.aclose()
        assert (saved(store, "s") or [])[-1] == {"role": "user", "content": "more"}

    asyncio.run(run())


# -- threads ---------------------------------------------------------------------------------------


def test_concurrent_saves_from_threads(store: Store) -> None:
    model_runner = runner(echo_model())
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def talk(index: int) -> None:
        try:
            start.wait()
            chat = store.load(f"session-{index}", model_runner, autosave=True)
            for turn in range(5):
                chat.send(f"message {turn}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=talk, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(store.sessions()) == sorted(f"session-{i}" for i in range(8))
    for index in range(8):
        found = saved(store, f"session-{index}") or []
        assert len(found) == 10
        assert found[-1] == {"role": "assistant", "content": "turn 5"}
