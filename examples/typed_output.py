"""Typed answers: a trip planner whose answer is a validated ``TripPlan``, not text.

The model looks up the forecast and the sights with two tools, then gives its answer as a
``TripPlan`` (``Runner(output_type=TripPlan)``). ``result.output`` is that object, checked
by pydantic; an answer that does not fit is sent back with its problems, each naming the
field, and the model answers again (within ``Limits.max_retries``). The offline model's
first answer gives the temperature as "mild" and numbers a day 0: both are sent back, and
its second answer passes.

Run: python examples/typed_output.py

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one,
set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL (any OpenAI-compatible Chat
Completions API), or also TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
On OpenAI's own API and Anthropic the answer is asked for with the protocol's structured
output; elsewhere through a ``final_answer`` tool (see docs/runner.md, "Typed answers").
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from _common import OFFLINE, client_and_model
from pydantic import BaseModel, Field

from toolkit import Limits, Runner, tool
from toolkit.model import ModelRequest
from toolkit.testing import FunctionModel, ReplySpec, call

FORECAST = {
    "Lisbon": [("sunny", 24), ("showers", 19), ("sunny", 23)],
    "Porto": [("cloudy", 18), ("rain", 15), ("showers", 16)],
}
SIGHTS = {
    "Lisbon": {
        "outdoor": ["Belém Tower", "Alfama's viewpoints", "LX Factory"],
        "indoor": ["Gulbenkian Museum", "Oceanário"],
    },
    "Porto": {
        "outdoor": ["Ribeira", "Dom Luís I Bridge"],
        "indoor": ["Livraria Lello", "Serralves Museum"],
    },
}


class DayPlan(BaseModel):
    day: Annotated[int, Field(ge=1, description="Day of the trip, from 1.")]
    weather: str
    visit: list[str]


class TripPlan(BaseModel):
    city: str
    warmest_c: Annotated[int, Field(description="The warmest day's high, in °C.")]
    pack: list[str]
    days: list[DayPlan]


@tool
def get_forecast(city: str, days: Annotated[int, Field(ge=1, le=3)] = 3) -> list[dict[str, Any]]:
    """Get the daily weather forecast for a city.

    Args:
        city: The city, e.g. Lisbon.
        days: How many days, from today.
    """
    found = FORECAST.get(city.strip().title(), [("unknown", 20)] * 3)
    return [{"day": i + 1, "condition": c, "high_c": t} for i, (c, t) in enumerate(found[:days])]


@tool
def find_sights(city: str, indoor: bool = False) -> list[str]:
    """Find sights worth a visit in a city.

    Args:
        city: The city, e.g. Lisbon.
        indoor: Indoor sights (for rainy days) instead of outdoor ones.
    """
    return SIGHTS.get(city.strip().title(), {}).get("indoor" if indoor else "outdoor", [])


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: look things up, answer with a plan that fails validation, then
    with one that passes after reading the problems."""
    results = [m["content"] for m in request.messages if m.get("role") == "tool"]
    if not results:
        return [
            call("get_forecast", city="Lisbon", days=3),
            call("find_sights", city="Lisbon"),
            call("find_sights", city="Lisbon", indoor=True),
        ]
    forecast, outdoor, indoor = (json.loads(r) for r in results[:3])
    days: list[dict[str, Any]] = [
        {
            "day": f["day"],
            "weather": f"{f['condition']}, {f['high_c']} °C",
            "visit": outdoor[:2] if f["condition"] == "sunny" else indoor[:1],
        }
        for f in forecast
    ]
    warmest = max(f["high_c"] for f in forecast)
    plan = {"city": "Lisbon", "warmest_c": warmest, "pack": ["sunscreen", "umbrella"]}
    rejected = [r for r in results if r.startswith("Invalid arguments for final_answer")]
    if not rejected:  # a first answer with two mistakes: a word for a number, days from 0
        from_zero = [{**day, "day": index} for index, day in enumerate(days)]
        return call("final_answer", answer={**plan, "warmest_c": "mild", "days": from_zero})
    return call("final_answer", answer={**plan, "days": days})


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    runner = Runner(
        client,
        model=model,
        tools=[get_forecast, find_sights],
        system=(
            "You are a travel planner. Look up the forecast and the sights with the tools, "
            "then plan each day: outdoor sights on dry days, indoor ones when it rains."
        ),
        output_type=TripPlan,
        limits=Limits(max_steps=8, max_retries=2),
    )
    result = runner.run("Plan three days in Lisbon for me.")
    for found in result.tool_results:
        content = found.content.replace("\n", "\n      ")  # an error lists one problem a line
        print(f"  {found.name}: {content}")
    print(f"  stop reason: {result.stop_reason} ({result.explanation})")
    plan = result.output
    if plan is None:
        print("  no plan")
    else:
        print(f"  plan for {plan.city} (warmest {plan.warmest_c} °C), pack {plan.pack}:")
        for day in plan.days:
            print(f"    day {day.day}, {day.weather}: {', '.join(day.visit)}")

    if OFFLINE:
        rejected = [r for r in result.tool_results if r.name == "final_answer" and r.is_error]
        assert len(rejected) == 1
        assert "answer.warmest_c: Input should be a valid integer" in rejected[0].content
        assert "answer.days[0].day: Input should be greater than or equal to 1" in (
            rejected[0].content
        )
        assert isinstance(plan, TripPlan)
        assert plan.warmest_c == 24
        assert [d.visit for d in plan.days][1] == ["Gulbenkian Museum"]
    else:
        # A real model may plan differently: ask only for a plan, or a reason why there is none.
        assert isinstance(plan, TripPlan) or result.stop_reason != "end", "no plan"


if __name__ == "__main__":
    main()
