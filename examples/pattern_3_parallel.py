"""Pattern 3, parallel function calling: the same tool called several times in one reply.
The runner executes the calls concurrently and sends every result back together.

Run: python examples/pattern_3_parallel.py

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

CITIES = {
    "New York": "New York, NY",
    "San Francisco": "San Francisco, CA",
    "Chicago": "Chicago, IL",
}
TEMPERATURES = {"New York": "11", "San Francisco": "55", "Chicago": "13"}


@tool
def get_current_weather(
    location: str, unit: Literal["celsius", "fahrenheit"] = "fahrenheit"
) -> dict[str, str]:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The unit of temperature.
    """
    for city, temperature in TEMPERATURES.items():
        if city.lower() in location.lower():
            return {"location": city, "temperature": temperature, "unit": unit}
    return {"location": location, "temperature": "unknown", "unit": unit}


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: one call per city named, all in one reply; then sum them up."""
    results = tool_outputs(request)
    if not results:
        question = user_text(request)
        named = [place for city, place in CITIES.items() if city in question]
        return [call("get_current_weather", location=place) for place in named]
    return "; ".join(f"{r['location']}: {r['temperature']} degrees {r['unit']}" for r in results)


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    runner = Runner(client, model=model, tools=[get_current_weather], parallel_tool_calls=True)
    result = runner.run("What is the current temperature of New York, San Francisco and Chicago?")
    report(result)

    if OFFLINE:
        first_step = result.steps[0]
        assert len(first_step.calls) == 3  # three calls in a single reply
        assert [r.value["location"] for r in first_step.results] == [
            "New York",
            "San Francisco",
            "Chicago",
        ]
        assert len(result.steps) == 2
        assert result.text == (
            "New York: 11 degrees fahrenheit; San Francisco: 55 degrees fahrenheit; "
            "Chicago: 13 degrees fahrenheit"
        )


if __name__ == "__main__":
    main()
