"""Pattern 2, multiple function calling: several tools, and the model picks the right one.
Then ``tool_choice`` names the tool it must call.

Run: python examples/pattern_2_multiple.py

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

COMPANIES = {"apple": "AAPL", "google": "GOOGL", "tesla": "TSLA"}
PRICES = {"AAPL": 227.48, "GOOGL": 178.02, "TSLA": 251.44}


@tool
def get_current_weather(
    location: str, unit: Literal["celsius", "fahrenheit"] = "fahrenheit"
) -> dict[str, str]:
    """Get the current weather in a given location.

    Args:
        location: The city and state, e.g. San Francisco, CA.
        unit: The unit of temperature.
    """
    return {"location": location, "temperature": "64", "unit": unit}


@tool
def get_current_stock_price(
    symbol: str, exchange: Literal["NYSE", "NASDAQ", "LSE", "TSX"] | None = None
) -> dict[str, str | float]:
    """Get the current stock price for a given stock symbol.

    Args:
        symbol: The stock symbol, e.g. AAPL, GOOGL, TSLA.
        exchange: The stock exchange, when it matters.
    """
    symbol = symbol.upper()
    return {"symbol": symbol, "price": PRICES.get(symbol, 0.0), "currency": "USD"}


def play_the_model(request: ModelRequest) -> ReplySpec:
    """Offline stand-in: choose the tool from the question's words, then read the result."""
    results = tool_outputs(request)
    if results:
        found = results[0]
        if "symbol" in found:
            return f"{found['symbol']} trades at {found['price']} {found['currency']}."
        return f"It is {found['temperature']} degrees {found['unit']} in {found['location']}."
    question = user_text(request).lower()
    company = next((name for name in COMPANIES if name in question), None)
    must_call = request.tool_choice not in ("auto", "none", "required")
    if company and ("stock" in question or "price" in question or must_call):
        return call("get_current_stock_price", symbol=COMPANIES[company])
    if "weather" in question:
        return call("get_current_weather", location=question.rsplit(" in ", 1)[-1].strip("?"))
    return "I can look up the weather or a stock price for you."


def main() -> None:
    offline_model = FunctionModel(play_the_model)
    client, model = client_and_model(offline_model)
    runner = Runner(client, model=model, tools=[get_current_weather, get_current_stock_price])

    print("The model chooses among the tools:")
    chosen = runner.run("What's the current price of Apple's stock?")
    report(chosen)

    print("tool_choice names the tool the model must call (for the first request only):")
    forced = runner.run("How is Tesla doing?", tool_choice="get_current_stock_price")
    report(forced)

    if OFFLINE:
        assert [r.name for r in chosen.tool_results] == ["get_current_stock_price"]
        assert chosen.text == "AAPL trades at 227.48 USD."
        assert forced.tool_results[0].value == {
            "symbol": "TSLA",
            "price": 251.44,
            "currency": "USD",
        }
        # The forced choice was sent once; the follow-up request was free to answer.
        forced_requests = offline_model.requests[-2:]
        assert [r.tool_choice for r in forced_requests] == ["get_current_stock_price", "auto"]


if __name__ == "__main__":
    main()
