"""Agent controls: the settings, limits and history tools of a hotel-booking conversation.

- ``settings``: at most 400 output tokens a reply, and 60 seconds a model request, written
  in each provider's spelling (``max_tokens``, ``max_output_tokens``...).
- ``select_tools``: ``book_hotel`` is offered until a booking succeeded in the run, then
  hidden; a call to it after that is refused, and the model is told which tools it has.
- ``HistoryPolicy``: each request carries the last two user turns at most (the
  conversation keeps them all), and a tool result over 2,000 characters is clipped before
  it enters the history.
- ``raise_for_stop()``: a turn given a single model request stops at ``Limits.max_steps``;
  ``RunStopped`` says why, and ``Conversation.rollback()`` drops that turn.
- A turn streamed with a 0.5 s ``timeout`` per request runs out of time: the request is
  cancelled, the run ends with ``stop_reason == "timeout"``, and that turn is rolled back too.

Run: python examples/agent_controls.py

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one,
set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL (any OpenAI-compatible Chat
Completions API), or also TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from _common import OFFLINE, client_and_model, user_text

from toolkit import (
    HistoryPolicy,
    Limits,
    RunFinished,
    Runner,
    RunResult,
    RunState,
    RunStopped,
    tool,
)
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

HOTELS = {
    "Lisbon": [("Memmo Alfama", 210), ("Lisboa Pessoa", 180), ("Casa do Príncipe", 140)],
    "Porto": [("Torel Avantgarde", 250), ("Gallery Hostel", 60)],
}
bookings: list[str] = []


@tool
def find_hotels(city: str, max_price: int | None = None) -> list[dict[str, object]]:
    """Find hotels in a city, cheapest first.

    Args:
        city: The city, e.g. Lisbon.
        max_price: The highest price per night, in euros.
    """
    found = sorted(HOTELS.get(city.strip().title(), []), key=lambda hotel: hotel[1])
    return [
        {"name": name, "price_eur": price}
        for name, price in found
        if max_price is None or price <= max_price
    ]


@tool
def book_hotel(hotel: str, nights: int) -> str:
    """Book a hotel room.

    Args:
        hotel: The hotel's name, as find_hotels gives it.
        nights: How many nights.
    """
    bookings.append(hotel)
    return f"Booked {nights} nights at {hotel} (booking BK-{len(bookings)})."


def offered_tools(state: RunState) -> list[str]:
    """One booking per run: once ``book_hotel`` succeeded, it is no longer offered."""
    if "book_hotel" in state.succeeded:
        return ["find_hotels"]
    return ["find_hotels", "book_hotel"]


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: find, book (then try to book again: refused), answer; a slow reply
    when the request may take under a second."""
    if request.timeout is not None and request.timeout < 1:
        time.sleep(request.timeout + 0.2)  # a model slower than this request's timeout
        return "Too late to matter."
    question = user_text(request)
    turn = _this_turn(request)
    results = [str(m["content"]) for m in turn if m.get("role") == "tool"]
    if "book it" in question:
        if not results:
            return call("find_hotels", city="Lisbon", max_price=200)
        if len(results) == 1:
            cheapest = json.loads(results[0])[0]["name"]
            return call("book_hotel", hotel=cheapest, nights=3)
        if len(results) == 2:  # a second booking: the runner refuses it
            return call("book_hotel", hotel="Lisboa Pessoa", nights=3)
        return f"{results[1]} A second booking was not possible in the same request."
    if "Porto" in question:  # answered with a tool call, but this turn may take one step
        return call("find_hotels", city="Porto")
    if "booked" in question:
        return "You booked Casa do Príncipe for 3 nights."
    return "You're welcome. Enjoy Lisbon!"


def _this_turn(request: ModelRequest) -> list[Mapping[str, Any]]:
    """The messages since the latest user message."""
    users = [i for i, m in enumerate(request.messages) if m.get("role") == "user"]
    return list(request.messages[users[-1] :]) if users else []


def show(label: str, result: RunResult) -> None:
    print(label)
    for found in result.tool_results:
        print(f"  {found.name}: {found.content}")
    print(f"  text: {result.text or '(none)'}")
    print(f"  stop reason: {result.stop_reason} ({result.explanation})")


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    sent: list[int] = []  # how many messages each request carried
    runner = Runner(
        client,
        model=model,
        tools=[find_hotels, book_hotel],
        system="You are a travel agent. Use the tools; book one hotel at a time.",
        settings={"max_tokens": 400, "timeout": 60},
        select_tools=offered_tools,
        history_policy=HistoryPolicy(max_turns=2, max_result_chars=2_000),
        limits=Limits(max_steps=6),
        on_request=lambda request: sent.append(len(request.messages)),
    )
    chat = runner.conversation()

    first = chat.send("Find me a hotel in Lisbon under 200 euros and book it for 3 nights.")
    show("TURN 1: book a hotel (select_tools hides book_hotel once it succeeded)", first)

    print("TURN 2: one model request only (Limits(max_steps=1)), then raise_for_stop()")
    kept = len(chat.messages)
    try:
        chat.send("Which hotels are there in Porto?", limits=Limits(max_steps=1)).raise_for_stop()
        print("  the model answered within one request")
        stopped = None
    except RunStopped as error:
        stopped = error
        print(f"  RunStopped: {error} (stop_reason {error.stop_reason!r})")
        removed = chat.rollback()  # forget the unfinished turn
        print(f"  rolled back: {len(removed)} messages; the history is as before the turn")
        assert len(chat.messages) == kept

    print("TURN 3: streamed, with a 0.5 s timeout per request for this turn")
    timed: RunResult | None = None
    for event in chat.stream("Any cheaper hotels in Lisbon?", settings={"timeout": 0.5}):
        if isinstance(event, RunFinished):
            timed = event.result
    assert timed is not None
    print(f"  stop reason: {timed.stop_reason} ({timed.explanation})")
    if timed.stop_reason == "timeout":
        chat.rollback()

    reminder = chat.send("Remind me: which hotel have I booked?")
    show("TURN 4: answered from the history", reminder)

    last = chat.send("Thanks, that is all.")
    show("TURN 5: HistoryPolicy(max_turns=2) sends turns 4 and 5 only", last)
    print(f"  the last request carried {sent[-1]} messages; the conversation keeps all")
    print(f"  {len(chat.messages)} (the two rolled-back turns left none behind)")

    if OFFLINE:
        refused = first.tool_results[2]
        assert refused.is_error
        assert refused.content.startswith("The tool 'book_hotel' is not available now.")
        assert bookings == ["Casa do Príncipe"]  # booked once
        assert stopped is not None
        assert stopped.stop_reason == "max_steps"
        assert timed.stop_reason == "timeout"
        assert reminder.text == "You booked Casa do Príncipe for 3 nights."
        assert sent[-1] == 3  # turn 4's question and answer, and turn 5's question
        assert len(chat.messages) == 12
    else:
        # A real model may phrase or even choose differently: ask only that the last turns
        # ended with an answer.
        assert reminder.raise_for_stop().text.strip(), "the model did not answer"
        assert last.raise_for_stop().text.strip(), "the model did not answer"


if __name__ == "__main__":
    main()
