"""Pattern 1, simple function calling: one tool, one prompt, one call, then the answer.

Run: python examples/pattern_1_simple.py

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one,
set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL (any OpenAI-compatible Chat
Completions API), or also TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
"""

from __future__ import annotations

from typing import Literal

from _common import OFFLINE, client_and_model, report, tool_outputs, user_text

from toolkit import Runner, tool
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

TEMPERATURES = {"New York": 11, "San Francisco": 55, "Chicago": 13}


@tool
def get_current_weather(
    location: str, unit: Literal["celsius", "fahrenheit"] = "fahrenheit"
) -> dict[str, str]:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The unit of temperature.
    """
    city = next((c for c in TEMPERATURES if c.lower() in location.lower()), location)
    temperature = TEMPERATURES.get(city)
    if temperature is not None and unit == "celsius":
        temperature = round((temperature - 32) * 5 / 9)
    return {"location": city, "temperature": str(temperature or "unknown"), "unit": unit}


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: ask for the weather of the city named, then answer with it."""
    results = tool_outputs(request)
    if not results:
        city = next(c for c in TEMPERATURES if c.lower() in user_text(request).lower())
        return call("get_current_weather", location=city, unit="fahrenheit")
    weather = results[0]
    return f"It is {weather['temperature']} degrees {weather['unit']} in {weather['location']}."


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    runner = Runner(
        client,
        model=model,
        tools=[get_current_weather],
        system="You are a helpful assistant. Use the tools to answer with real data.",
    )
    result = runner.run("What is the current temperature of New York?")
    report(result)

    if OFFLINE:
        [weather] = result.tool_results
        assert weather.name == "get_current_weather"
        assert weather.value == {"location": "New York", "temperature": "11", "unit": "fahrenheit"}
        assert result.text == "It is 11 degrees fahrenheit in New York."
        assert len(result.steps) == 2  # the call, then the answer
        assert result.stop_reason == "end"


if __name__ == "__main__":
    main()
