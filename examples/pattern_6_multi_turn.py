"""Pattern 6, multi-turn function calling: a conversation that keeps its context (the
earlier questions, calls and results) across user turns, saved in SQLite between them.

Turn 1 asks for three cities' weather. Turn 2 continues the conversation, reopened from the
store as a later process would, and asks which city suits outdoor activities: the model
answers from turn 1's results and calls the restaurant tool for that city.

Run: python examples/pattern_6_multi_turn.py

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one,
set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL (any OpenAI-compatible Chat
Completions API), or also TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from _common import OFFLINE, client_and_model, report, tool_outputs, user_text

from toolkit import (
    RunFinished,
    Runner,
    SQLiteStore,
    TextDelta,
    ToolCallComplete,
    tool,
)
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

WEATHER = {
    "New York": ("28", "cold and windy"),
    "San Francisco": ("65", "mild and partly cloudy"),
    "Chicago": ("13", "cold and snowy"),
}
RESTAURANTS = {
    "New York": {"italian": ["Carbone", "Don Angie"], "american": ["Gramercy Tavern"]},
    "San Francisco": {"italian": ["Perbacco"], "american": ["Zuni Café", "House of Prime Rib"]},
    "Chicago": {"italian": ["Piccolo Sogno"], "american": ["Alinea", "Girl & Goat"]},
}


def _city(location: str) -> str | None:
    return next((city for city in WEATHER if city.lower() in location.lower()), None)


@tool
def get_current_weather(
    location: str, unit: Literal["celsius", "fahrenheit"] = "fahrenheit"
) -> dict[str, str]:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The unit of temperature.
    """
    city = _city(location)
    if city is None:
        return {"location": location, "temperature": "unknown", "condition": "unknown"}
    temperature, condition = WEATHER[city]
    return {"location": city, "temperature": temperature, "unit": unit, "condition": condition}


@tool
def get_restaurant_recommendations(
    location: str,
    cuisine_type: Literal[
        "italian", "chinese", "mexican", "american", "french", "japanese", "any"
    ] = "any",
    price_range: Literal["budget", "mid-range", "upscale", "any"] = "any",
) -> dict[str, object]:
    """Get restaurant recommendations for a specific location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        cuisine_type: Type of cuisine preferred.
        price_range: Price range preference.
    """
    by_cuisine = RESTAURANTS.get(_city(location) or "", {})
    if cuisine_type != "any":
        by_cuisine = {cuisine_type: by_cuisine.get(cuisine_type, [])}
    return {"location": location, "cuisine_filter": cuisine_type, "restaurants": by_cuisine}


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: it remembers the whole conversation, as a real model would."""
    question = user_text(request)
    this_turn = tool_outputs(request)
    earlier_weather = [r for r in tool_outputs(request, this_turn=False) if "temperature" in r]
    if "outdoor" not in question:  # turn 1: the weather of every city named
        if not this_turn:
            return [call("get_current_weather", location=c) for c in WEATHER if c in question]
        return "; ".join(
            f"{r['location']}: {r['temperature']}°F, {r['condition']}" for r in this_turn
        )
    best = max(earlier_weather, key=lambda r: int(r["temperature"]))  # turn 2: from turn 1
    if not this_turn:
        return call("get_restaurant_recommendations", location=best["location"])
    names = [name for group in this_turn[0]["restaurants"].values() for name in group]
    return (
        f"{best['location']} is best for outdoor activities: {best['condition']} at "
        f"{best['temperature']}°F. For dinner, try {', '.join(names)}."
    )


def main() -> None:
    offline_model = FunctionModel(play_the_model)
    client, model = client_and_model(offline_model)
    runner = Runner(
        client,
        model=model,
        tools=[get_current_weather, get_restaurant_recommendations],
        system=(
            "You are a helpful travel planning assistant. You can access weather information "
            "and restaurant recommendations. Use the tools to give advice based on real data."
        ),
    )
    with tempfile.TemporaryDirectory() as folder, SQLiteStore(Path(folder, "chats.db")) as store:
        print("TURN 1")
        chat = store.load("traveller-42", runner, autosave=True)
        first = chat.send("What is the current temperature of New York, San Francisco and Chicago?")
        report(first)

        print("TURN 2 (the conversation reopened from the store, the answer streamed)")
        later = store.load("traveller-42", runner, autosave=True)
        assert later.messages == chat.messages  # saved after turn 1
        events = later.stream(
            "Based on the weather, which city would be best for outdoor activities? "
            "And can you find some restaurant recommendations for that city?"
        )
        second = None
        for event in events:
            if isinstance(event, ToolCallComplete):
                print(f"  calling {event.call.name} {event.call.arguments}")
            elif isinstance(event, TextDelta):
                print(event.text, end="", flush=True)
            elif isinstance(event, RunFinished):
                second = event.result
        print()
        assert second is not None
        report(second)
        saved = store.read("traveller-42")
        assert saved is not None
        assert saved.messages == later.messages  # saved after the stream

        if OFFLINE:
            assert [r.name for r in first.tool_results] == ["get_current_weather"] * 3
            assert [r.name for r in second.tool_results] == ["get_restaurant_recommendations"]
            assert second.tool_results[0].value["location"] == "San Francisco"
            assert second.text.startswith("San Francisco is best for outdoor activities")
            # Turn 2's first request carried all of turn 1: question, calls, results, answer.
            turn_two = offline_model.requests[2]
            assert len(turn_two.messages) == len(first.messages) + 1


if __name__ == "__main__":
    main()
