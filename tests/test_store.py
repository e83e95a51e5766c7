"""Conversations kept in a ``ConversationStore`` (``SQLiteStore``), driven offline."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncGenerator, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from toolkit import Registry, Runner, tool
from toolkit.model import ModelRequest
from toolkit.runner import (
    Conversation,
    ConversationStore,
    Event,
    RunFinished,
    SQLiteStore,
    ToolResultEvent,
)
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
    return Runner(model, model="test-model", tools=[get_current_weather, add])


def echo_model(format: Any = "openai") -> FunctionModel:
    """Answers each user turn with the number of user turns it has seen."""

    def decide(request: ModelRequest) -> str:
        return f"turn {sum(m.get('role') == 'user' for m in request.messages)}"

    return FunctionModel(decide, format=format)


@pytest.fixture
def store() -> Iterator[SQLiteStore]:
    with SQLiteStore() as opened:
        yield opened


# -- round trips -----------------------------------------------------------------------------------


def test_sqlite_store_is_a_conversation_store(store: SQLiteStore) -> None:
    assert isinstance(store, ConversationStore)
    assert repr(store) == "SQLiteStore(':memory:')"


def test_a_conversation_is_saved_after_each_send_and_reopened(store: SQLiteStore) -> None:
    model = ScriptedModel(
        [call("get_current_weather", location="Chicago"), "11 degrees.", "Chicago, as I said."]
    )
    chat = Conversation.open(runner(model), store, "user-1")
    assert chat.messages == []
    assert store.load("user-1") is None  # nothing saved before the first turn

    chat.send("Weather in Chicago?")
    assert store.load("user-1") == chat.messages
    assert store.format_of("user-1") == "openai"
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"]

    again = Conversation.open(runner(model), store, "user-1")
    assert again.messages == chat.messages
    second = again.send("Which city did I ask about?")
    assert second.text == "Chicago, as I said."
    assert len(model.requests[-1].messages) == 5  # the stored history went to the model
    assert store.load("user-1") == again.messages
    assert len(again.messages) == 6


def test_anthropic_histories_round_trip(store: SQLiteStore) -> None:
    model = ScriptedModel([call("add", a=1, b=2), "3", "still 3"], format="anthropic")
    Conversation.open(runner(model), store, "s").send("1 + 2?")
    chat = Conversation.open(runner(model), store, "s")
    chat.send("and now?")
    assert store.format_of("s") == "anthropic"
    roles = [m["role"] for m in chat.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert [b["type"] for b in chat.messages[1]["content"]] == ["tool_use"]
    assert [b["type"] for b in chat.messages[2]["content"]] == ["tool_result"]


def test_sessions_are_kept_apart(store: SQLiteStore) -> None:
    model = echo_model()
    alice = Conversation.open(runner(model), store, "alice")
    bob = Conversation.open(runner(model), store, "bob")
    assert alice.send("hi").text == "turn 1"
    assert bob.send("hi").text == "turn 1"
    assert alice.send("again").text == "turn 2"
    assert len(store.load("alice") or []) == 4
    assert len(store.load("bob") or []) == 2
    assert store.sessions() == ["alice", "bob"]  # most recently saved first
    bob.send("me too")
    assert store.sessions() == ["bob", "alice"]


def test_history_persists_across_store_instances(tmp_path: Path) -> None:
    path = tmp_path / "conversations.db"
    with SQLiteStore(path) as first:
        Conversation.open(runner(echo_model()), first, "s").send("hello")
    with SQLiteStore(str(path)) as second:
        chat = Conversation.open(runner(echo_model()), second, "s")
        assert chat.messages == [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "turn 1"},
        ]
        assert chat.send("more").text == "turn 2"
    with contextlib.closing(sqlite3.connect(path)) as raw:
        columns = [row[1] for row in raw.execute("PRAGMA table_info(conversations)")]
    assert columns == ["session_id", "format", "messages", "updated_at"]


def test_a_history_of_another_format_is_refused(store: SQLiteStore) -> None:
    Conversation.open(runner(echo_model()), store, "s").send("hello")
    anthropic = runner(echo_model("anthropic"))
    with pytest.raises(ValueError, match="session 's' is in the 'openai' format") as caught:
        Conversation.open(anthropic, store, "s")
    assert "'anthropic'" in str(caught.value)


def test_delete_forgets_a_session(store: SQLiteStore) -> None:
    for session in ("a", "b"):
        Conversation.open(runner(echo_model()), store, session).send("hello")
    store.delete("a")
    store.delete("never-saved")
    assert store.load("a") is None
    assert store.format_of("a") is None
    assert store.sessions() == ["b"]
    assert Conversation.open(runner(echo_model()), store, "a").messages == []


def test_store_and_session_id_go_together(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="both store and session_id"):
        Conversation(runner(echo_model()), store=store)


def test_a_conversation_without_a_store_saves_nothing(store: SQLiteStore) -> None:
    runner(echo_model()).conversation().send("hello")
    assert store.sessions() == []


def test_unserialisable_messages_are_not_written(store: SQLiteStore) -> None:
    with pytest.raises(TypeError):
        store.save("s", [{"role": "user", "content": object()}], format="openai")
    assert store.sessions() == []


# -- failures and streams --------------------------------------------------------------------------


class _FailingOnce(Registry):
    """A registry whose first execution is interrupted."""

    failed = False

    def execute(self, calls: Any, *, context: Any = None) -> Any:
        if not self.failed:
            self.failed = True
            raise KeyboardInterrupt
        return super().execute(calls, context=context)


def test_a_failed_turn_is_still_saved_with_its_calls_closed(store: SQLiteStore) -> None:
    model = ScriptedModel([[call("add", a=1, b=1), call("add", a=2, b=2)], "next turn"])
    chat = Conversation.open(Runner(model, model="m", tools=_FailingOnce([add])), store, "s")
    with pytest.raises(KeyboardInterrupt):
        chat.send("go")
    saved = store.load("s") or []
    assert saved == chat.messages
    closing = [m for m in saved if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in closing] == ["call_1", "call_2"]
    assert {m["content"] for m in closing} == {"This call was interrupted before it finished."}

    reopened = Conversation.open(Runner(model, model="m", tools=[add]), store, "s")
    assert reopened.send("try again").text == "next turn"


def test_a_model_failure_keeps_the_user_turn(store: SQLiteStore) -> None:
    chat = Conversation.open(runner(ScriptedModel([])), store, "s")
    with pytest.raises(AssertionError, match="ran out of replies"):
        chat.send("hello?")
    assert store.load("s") == [{"role": "user", "content": "hello?"}]


def test_send_async_saves(store: SQLiteStore) -> None:
    chat = Conversation.open(runner(echo_model()), store, "s")
    result = asyncio.run(chat.send_async("hello"))
    assert result.text == "turn 1"
    assert store.load("s") == chat.messages


def test_a_stream_is_saved_when_exhausted(store: SQLiteStore) -> None:
    model = ScriptedModel([call("add", a=2, b=2), "four"])
    chat = Conversation.open(runner(model), store, "s")
    events = chat.stream("2 + 2?")
    assert store.load("s") is None  # nothing runs before the first event is asked for
    finished = list(events)[-1]
    assert isinstance(finished, RunFinished)
    assert store.load("s") == finished.result.messages


def test_a_stream_closed_early_is_saved_with_a_valid_history(store: SQLiteStore) -> None:
    model = ScriptedModel([call("add", a=2, b=2), "four"])
    chat = Conversation.open(runner(model), store, "s")
    events = chat.stream("2 + 2?")
    for event in events:
        if isinstance(event, ToolResultEvent):
            break
    assert isinstance(events, Generator)
    events.close()
    saved = store.load("s") or []
    assert saved == chat.messages
    assert [m["role"] for m in saved][:3] == ["user", "assistant", "tool"]


def test_astream_saves_when_exhausted_or_closed(store: SQLiteStore) -> None:
    async def run() -> None:
        chat = Conversation.open(runner(ScriptedModel(["one two three", "four"])), store, "s")
        events = [event async for event in chat.astream("count")]
        assert isinstance(events[-1], RunFinished)
        assert store.load("s") == chat.messages

        stream = chat.astream("more")
        first: Event = await anext(stream)
        assert first is not None
        assert isinstance(stream, AsyncGenerator)
        await stream.aclose()
        assert (store.load("s") or [])[-1] == {"role": "user", "content": "more"}

    asyncio.run(run())


# -- threads ---------------------------------------------------------------------------------------


def test_concurrent_saves_from_threads(tmp_path: Path) -> None:
    model_runner = runner(echo_model())
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def talk(store: SQLiteStore, index: int) -> None:
        try:
            start.wait()
            chat = Conversation.open(model_runner, store, f"session-{index}")
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
            saved = store.load(f"session-{index}") or []
            assert len(saved) == 10
            assert saved[-1] == {"role": "assistant", "content": "turn 5"}


def test_concurrent_saves_to_one_session_keep_one_whole_history(store: SQLiteStore) -> None:
    histories = [[{"role": "user", "content": str(i)}] * (i + 1) for i in range(20)]

    def save(history: list[Any]) -> None:
        store.save("shared", history, format="openai")

    threads = [threading.Thread(target=save, args=(h,)) for h in histories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.load("shared") in histories
    assert store.sessions() == ["shared"]
