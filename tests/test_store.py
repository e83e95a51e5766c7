"""Conversations kept in a ``ConversationStore`` (``SQLiteStore``), driven offline."""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import sqlite3
import threading
from collections.abc import AsyncGenerator, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any

import _store_worker
import pytest

from toolkit import (
    Conversation,
    ConversationConflict,
    ConversationStore,
    Event,
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


@tool
def get_current_weather(location: str) -> str:
    """Get the current weather in a given location."""
    return f"{location}: 11 degrees"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def runner(model: Any) -> Runner:
    return Runner(model, tools=[get_current_weather, add])


def echo_model(format: Any = "openai") -> FunctionModel:
    """Answers each user turn with the number of user turns it has seen."""

    def decide(request: ModelRequest) -> str:
        return f"turn {sum(m.get('role') == 'user' for m in request.messages)}"

    return FunctionModel(decide, format=format)


def saved(store: ConversationStore, session_id: str) -> list[Any] | None:
    found = store.read(session_id)
    return None if found is None else found.messages


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    with SQLiteStore() as opened:
        yield opened


class CountingStore(SQLiteStore):
    """Records what each write carries, to check that saves append."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[int, int]] = []  # (start, messages written)

    def write(
        self, session_id: str, *, format: str, messages: Sequence[Any], start: int, version: int
    ) -> int:
        self.writes.append((start, len(messages)))
        return super().write(
            session_id, format=format, messages=messages, start=start, version=version
        )


# -- round trips -----------------------------------------------------------------------------------


def test_sqlite_store_is_a_conversation_store(store: SQLiteStore) -> None:
    assert isinstance(store, ConversationStore)
    assert repr(store) == "SQLiteStore(':memory:')"


def test_a_conversation_is_saved_after_each_send_and_reloaded(store: SQLiteStore) -> None:
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


def test_saving_is_explicit_unless_autosave_is_asked_for(store: SQLiteStore) -> None:
    chat = store.load("s", runner(echo_model()))
    chat.send("hello")
    assert store.read("s") is None
    store.save("s", chat)
    assert saved(store, "s") == chat.messages
    chat.send("again")
    assert len(saved(store, "s") or []) == 2
    store.save("s", chat)
    assert saved(store, "s") == chat.messages


def test_saves_append_instead_of_rewriting_the_history() -> None:
    with CountingStore() as store:
        chat = store.load("s", runner(echo_model()), autosave=True)
        for turn in range(50):
            chat.send(f"message {turn}")
        assert len(chat.messages) == 100
        assert store.writes[0] == (0, 2)
        assert all(written == 2 for _, written in store.writes)  # each turn: its 2 messages
        assert [start for start, _ in store.writes] == list(range(0, 100, 2))
        assert saved(store, "s") == chat.messages


def test_a_changed_last_message_is_written_again(store: SQLiteStore) -> None:
    # Anthropic merges a user text into the message of tool results before it: the message
    # the store already holds changes, and the save rewrites it (only it) with the new ones.
    with CountingStore() as counting:
        model = ScriptedModel([call("add", a=1, b=2)], format="anthropic")
        chat = counting.load("s", runner(model), autosave=True)
        from toolkit import Limits

        chat.send("1 + 2?", limits=Limits(max_steps=1))
        assert [m["role"] for m in chat.messages] == ["user", "assistant", "user"]
        with pytest.raises(AssertionError, match="ran out"):
            chat.send("and?")
        assert counting.writes[-1] == (2, 1)  # from the changed tool-result message on
        assert saved(counting, "s") == chat.messages
        assert [b["type"] for b in chat.messages[2]["content"]] == ["tool_result", "text"]


def test_anthropic_histories_round_trip(store: SQLiteStore) -> None:
    model = ScriptedModel([call("add", a=1, b=2), "3", "still 3"], format="anthropic")
    store.load("s", runner(model), autosave=True).send("1 + 2?")
    chat = store.load("s", runner(model), autosave=True)
    chat.send("and now?")
    assert (store.read("s") or StoredSession("", [], 0)).format == "anthropic"
    roles = [m["role"] for m in chat.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert [b["type"] for b in chat.messages[1]["content"]] == ["tool_use"]
    assert [b["type"] for b in chat.messages[2]["content"]] == ["tool_result"]


def test_sessions_are_kept_apart(store: SQLiteStore) -> None:
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


def test_history_persists_across_store_instances(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    with SQLiteStore(path) as first:
        first.load("s", runner(echo_model()), autosave=True).send("hello")
    with SQLiteStore(str(path)) as second:
        chat = second.load("s", runner(echo_model()), autosave=True)
        assert chat.messages == [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "turn 1"},
        ]
        assert chat.send("more").text == "turn 2"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        rows = raw.execute("SELECT position FROM toolkit_messages ORDER BY position").fetchall()
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


def test_a_history_of_another_format_is_refused(store: SQLiteStore) -> None:
    store.load("s", runner(echo_model()), autosave=True).send("hello")
    anthropic = runner(echo_model("anthropic"))
    with pytest.raises(StateError, match="session 's' is in the 'openai' format") as caught:
        store.load("s", anthropic)
    assert "'anthropic'" in str(caught.value)


def test_a_corrupted_stored_message_is_a_state_error(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with SQLiteStore(path) as store:
        store.load("s", runner(echo_model()), autosave=True).send("hello")
    with contextlib.closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("UPDATE toolkit_messages SET body = '\"abc\"' WHERE position = 1")
    with SQLiteStore(path) as store, pytest.raises(StateError, match="message 1 is not"):
        store.load("s", runner(echo_model()))


def test_delete_forgets_a_session(store: SQLiteStore) -> None:
    for session in ("a", "b"):
        store.load(session, runner(echo_model()), autosave=True).send("hello")
    store.delete("a")
    store.delete("never-saved")
    assert store.read("a") is None
    assert store.sessions() == ["b"]
    assert store.load("a", runner(echo_model())).messages == []


def test_store_and_session_id_go_together(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="both store and session_id"):
        Conversation(runner(echo_model()), store=store)


def test_a_conversation_without_a_store_saves_nothing(store: SQLiteStore) -> None:
    runner(echo_model()).conversation().send("hello")
    assert store.sessions() == []


def test_unserialisable_messages_are_not_written(store: SQLiteStore) -> None:
    chat = Conversation(runner(echo_model()), [{"role": "user", "content": object()}])
    with pytest.raises(TypeError):
        store.save("s", chat)
    assert store.sessions() == []


# -- two writers never lose a turn in silence ------------------------------------------------------


def test_a_second_writer_gets_a_conflict_and_nothing_is_lost(store: SQLiteStore) -> None:
    first = store.load("s", runner(echo_model()), autosave=True)
    first.send("one")
    second = store.load("s", runner(echo_model()), autosave=True)
    first.send("two")  # saved: the session is at version 2
    with pytest.raises(ConversationConflict, match="saved by another writer"):
        second.send("three")  # its turn ran, but saving it would overwrite "two"
    assert [m["content"] for m in saved(store, "s") or []] == ["one", "turn 1", "two", "turn 2"]
    again = store.load("s", runner(echo_model()), autosave=True)
    again.send("three")
    assert [m["content"] for m in saved(store, "s") or []][-2:] == ["three", "turn 3"]


def test_a_new_conversation_cannot_overwrite_an_existing_session(store: SQLiteStore) -> None:
    store.load("s", runner(echo_model()), autosave=True).send("one")
    stranger = runner(echo_model()).conversation()
    stranger.send("hijack")
    with pytest.raises(ConversationConflict, match="already exists"):
        store.save("s", stranger)
    assert [m["content"] for m in saved(store, "s") or []] == ["one", "turn 1"]


def test_a_deleted_session_is_not_recreated_by_a_stale_conversation(store: SQLiteStore) -> None:
    chat = store.load("s", runner(echo_model()), autosave=True)
    chat.send("one")
    store.delete("s")
    with pytest.raises(ConversationConflict, match="was deleted"):
        chat.send("two")
    assert store.read("s") is None


def test_processes_appending_to_one_session_never_lose_a_turn(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SQLiteStore(path).close()
    workers, turns = 4, 15
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers) as pool:
        pool.starmap(_store_worker.talk, [(str(path), f"w{i}", turns) for i in range(workers)])
    with SQLiteStore(path) as store:
        history = saved(store, "shared") or []
    users = [m["content"] for m in history if m["role"] == "user"]
    assert len(users) == workers * turns  # every turn of every process, exactly once
    assert sorted(users) == sorted(f"w{i}-{t}" for i in range(workers) for t in range(turns))
    assert [m["role"] for m in history] == ["user", "assistant"] * (workers * turns)


# -- single-use claims -----------------------------------------------------------------------------


def test_a_key_is_claimed_once(store: SQLiteStore) -> None:
    assert store.claim("pause-1")
    assert not store.claim("pause-1")
    assert store.claim("pause-2")


def test_concurrent_claims_let_exactly_one_through(tmp_path: Path) -> None:
    path = tmp_path / "claims.db"
    stores = [SQLiteStore(path) for _ in range(8)]
    start = threading.Barrier(8)
    won: list[bool] = []

    def claim(store: SQLiteStore) -> None:
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


# -- failures and streams --------------------------------------------------------------------------


class _FailingOnce(Registry):
    """A registry whose first execution is interrupted."""

    failed = False

    def execute(self, calls: Any, **options: Any) -> Any:
        if not self.failed:
            self.failed = True
            raise KeyboardInterrupt
        return super().execute(calls, **options)


def test_a_failed_turn_is_still_saved_with_its_calls_closed(store: SQLiteStore) -> None:
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


def test_a_model_failure_rolls_the_turn_back_in_the_store_too(store: SQLiteStore) -> None:
    chat = store.load("s", runner(ScriptedModel(["first answer"])), autosave=True)
    chat.send("first")
    before = saved(store, "s")
    with pytest.raises(AssertionError, match="ran out of replies"):
        chat.send("hello?")
    assert saved(store, "s") == before == chat.messages
    assert before is not None
    assert len(before) == 2


def test_send_async_saves(store: SQLiteStore) -> None:
    chat = store.load("s", runner(echo_model()), autosave=True)
    result = asyncio.run(chat.send_async("hello"))
    assert result.text == "turn 1"
    assert saved(store, "s") == chat.messages


def test_a_stream_is_saved_when_exhausted(store: SQLiteStore) -> None:
    model = ScriptedModel([call("add", a=2, b=2), "four"])
    chat = store.load("s", runner(model), autosave=True)
    events = chat.stream("2 + 2?")
    assert store.read("s") is None  # nothing runs before the first event is asked for
    finished = list(events)[-1]
    assert isinstance(finished, RunFinished)
    assert saved(store, "s") == finished.result.messages


def test_a_stream_closed_early_is_saved_with_a_valid_history(store: SQLiteStore) -> None:
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


def test_stream_async_saves_when_exhausted_or_closed(store: SQLiteStore) -> None:
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


def test_concurrent_saves_from_threads(tmp_path: Path) -> None:
    model_runner = runner(echo_model())
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def talk(store: SQLiteStore, index: int) -> None:
        try:
            start.wait()
            chat = store.load(f"session-{index}", model_runner, autosave=True)
            for turn in range(5):
                chat.send(f"message {turn}")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    with SQLiteStore(tmp_path / "threads.db") as store:
        threads = [threading.Thread(target=talk, args=(store, i)) for i in range(8)]
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
