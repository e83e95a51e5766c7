"""Pattern 5, multi-step function calling: within one user turn, the model calls a tool,
reads the results, and calls another tool with what it learned, before answering.

Here it checks three cities' weather, picks the warmest, and only then asks for restaurants
there: the second call depends on the first results, so it needs a second step.

Run: python examples/pattern_5_multi_step.py

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one,
set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL (any OpenAI-compatible Chat
Completions API), or also TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
"""

from __future__ import annotations

from typing import Literal

from _common import OFFLINE, client_and_model, report, tool_outputs, user_text

from toolkit import Limits, Runner, tool
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

WEATHER = {
    "New York": ("28", "cold and windy"),
    "San Francisco": ("65", "mild and partly cloudy"),
    "Chicago": ("13", "cold and snowy"),
}
RESTAURANTS = {
    "New York": ["Carbone", "Gramercy Tavern", "Joe's Pizza"],
    "San Francisco": ["Zuni Café", "Perbacco", "Swan Oyster Depot"],
    "Chicago": ["Girl & Goat", "Lou Malnati's", "Piccolo Sogno"],
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
    city = _city(location)
    return {"location": city or location, "restaurants": RESTAURANTS.get(city or "", [])}


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: weather first, then restaurants in the warmest city, then answer."""
    results = tool_outputs(request)
    weather = [r for r in results if "temperature" in r]
    restaurants = [r for r in results if "restaurants" in r]
    if not weather:
        question = user_text(request)
        return [call("get_current_weather", location=c) for c in WEATHER if c in question]
    warmest = max(weather, key=lambda r: int(r["temperature"]))
    if not restaurants:
        return call("get_restaurant_recommendations", location=warmest["location"])
    places = ", ".join(restaurants[0]["restaurants"])
    return (
        f"{warmest['location']} is the warmest at {warmest['temperature']} degrees "
        f"({warmest['condition']}). Try {places}."
    )


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    runner = Runner(
        client,
        model=model,
        tools=[get_current_weather, get_restaurant_recommendations],
        system="You are a travel assistant. Look things up with the tools before answering.",
        limits=Limits(max_steps=6),  # a multi-step run still ends: six model requests at most
    )
    result = runner.run(
        "Which of New York, San Francisco and Chicago is warmest right now? "
        "Recommend restaurants in that city."
    )
    for number, step in enumerate(result.steps, start=1):
        print(f"step {number}: {[c.name for c in step.calls] or 'answer'}")
    report(result)

    if OFFLINE:
        names = [[c.name for c in step.calls] for step in result.steps]
        assert names == [["get_current_weather"] * 3, ["get_restaurant_recommendations"], []]
        restaurant_call = result.steps[1].calls[0]
        assert restaurant_call.arguments == '{"location": "San Francisco"}'
        assert result.text.startswith("San Francisco is the warmest at 65 degrees")
        assert "Zuni Café" in result.text


if __name__ == "__main__":
    main()
