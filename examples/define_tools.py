"""Decorate ordinary functions and render them for every provider.

Run: python examples/define_tools.py   (offline; no model is called)
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from toolkit import FORMATS, tool


class Address(BaseModel):
    street: str
    city: str
    country: str = "US"


@tool
def get_current_weather(
    location: str, unit: Literal["celsius", "fahrenheit"] = "fahrenheit"
) -> dict[str, str]:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The unit of temperature.
    """
    return {"location": location, "temperature": "72", "unit": unit}


@tool(name="ship_parcel")
async def ship(
    to: Address,
    weight_kg: Annotated[float, Field(gt=0, le=30)],
    express: Annotated[bool, "Next-day delivery"] = False,
) -> str:
    """Book a parcel shipment and return its tracking number.

    Args:
        to: Where the parcel goes.
        weight_kg: Weight in kilograms.
    """
    return f"TRACK-{to.city[:3].upper()}-{int(weight_kg * 10)}"


def main() -> None:
    # The decorated function is still the function.
    assert get_current_weather("Boston, MA")["unit"] == "fahrenheit"

    for format in FORMATS:
        print(f"--- {format}")
        print(json.dumps(get_current_weather.definition(format), indent=2))

    strict = ship.definition("openai", strict=True)
    print("--- openai, strict")
    print(json.dumps(strict, indent=2))
    assert strict["function"]["strict"] is True
    assert strict["function"]["parameters"]["required"] == ["to", "weight_kg", "express"]

    print("--- what Gemini's schema subset could not say for ship_parcel")
    for change in ship.changes("gemini"):
        print(f"{change.path}: {change.message}{' (lossy)' if change.lossy else ''}")


if __name__ == "__main__":
    main()
