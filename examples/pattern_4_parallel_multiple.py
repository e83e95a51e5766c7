"""Pattern 4, parallel multiple function calling: different tools, several calls each, all
in one reply. The runner validates and runs the five calls concurrently.

Run: python examples/pattern_4_parallel_multiple.py

Offline by default: a ``toolkit.testing.FunctionModel`` plays the model. To use a real one,
set TOOLKIT_BASE_URL, TOOLKIT_API_KEY and TOOLKIT_MODEL (any OpenAI-compatible Chat
Completions API), or also TOOLKIT_PROVIDER=anthropic with Anthropic's base URL and key.
"""

from __future__ import annotations

import asyncio
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
COMPANIES = {"Apple": "AAPL", "Google": "GOOGL", "Tesla": "TSLA"}
PRICES = {"AAPL": 227.48, "GOOGL": 178.02, "TSLA": 251.44}


@tool
async def get_current_weather(
    location: str, unit: Literal["celsius", "fahrenheit"] = "fahrenheit"
) -> dict[str, str]:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The unit of temperature.
    """
    await asyncio.sleep(0.05)  # a slow weather service: the five calls overlap
    city = next((c for c in TEMPERATURES if c.lower() in location.lower()), location)
    return {"location": city, "temperature": TEMPERATURES.get(city, "unknown"), "unit": unit}


@tool
async def get_current_stock_price(
    symbol: str, exchange: Literal["NYSE", "NASDAQ", "LSE", "TSX"] | None = None
) -> dict[str, str | float]:
    """Get the current stock price for a given stock symbol.

    Args:
        symbol: The stock symbol, e.g. AAPL, GOOGL, TSLA.
        exchange: The stock exchange, when it matters.
    """
    await asyncio.sleep(0.05)
    return {"symbol": symbol.upper(), "price": PRICES.get(symbol.upper(), 0.0)}


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: a stock call per company and a weather call per city, at once."""
    results = tool_outputs(request)
    if not results:
        question = user_text(request)
        symbols = [symbol for company, symbol in COMPANIES.items() if company in question]
        places = [place for city, place in CITIES.items() if city in question]
        return [call("get_current_stock_price", symbol=symbol) for symbol in symbols] + [
            call("get_current_weather", location=place) for place in places
        ]
    stocks = [f"{r['symbol']} {r['price']}" for r in results if "symbol" in r]
    weather = [f"{r['location']} {r['temperature']}F" for r in results if "location" in r]
    return f"Stocks: {', '.join(stocks)}. Weather: {', '.join(weather)}."


def main() -> None:
    client, model = client_and_model(FunctionModel(play_the_model))
    runner = Runner(client, model=model, tools=[get_current_weather, get_current_stock_price])
    result = runner.run(
        "What's the current price of Apple and Google stock? "
        "What is the weather in New York, San Francisco and Chicago?"
    )
    report(result)

    if OFFLINE:
        calls = result.steps[0].reply.calls
        names = [c.name for c in calls]
        assert names == ["get_current_stock_price"] * 2 + ["get_current_weather"] * 3
        # Five calls of 50 ms each ran concurrently, not one after the other.
        assert result.steps[0].duration < 0.2
        assert result.text == (
            "Stocks: AAPL 227.48, GOOGL 178.02. "
            "Weather: New York 11F, San Francisco 55F, Chicago 13F."
        )


if __name__ == "__main__":
    main()
