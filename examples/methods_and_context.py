"""Tools from methods, partials and callable objects, with injected context.

Run: python examples/methods_and_context.py   (offline)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from toolkit import Context, tool


@dataclass
class Inventory:
    stock: dict[str, int] = field(default_factory=lambda: {"apple": 3, "pear": 0})

    @tool
    def in_stock(self, item: str) -> bool:
        """Tell whether an item is in stock.

        Args:
            item: The item name.
        """
        return self.stock.get(item, 0) > 0


@dataclass
class Shop:
    name: str


@tool
def greet(ctx: Context[Shop], customer: str) -> str:
    """Greet a customer on behalf of the shop.

    Args:
        customer: The customer's name.
    """
    return f"Welcome to {ctx.deps.name}, {customer}!"


def convert(amount: float, rate: float) -> float:
    """Convert an amount of money with an exchange rate.

    Args:
        amount: The amount to convert.
        rate: The exchange rate.
    """
    return round(amount * rate, 2)


def main() -> None:
    inventory = Inventory()
    assert "self" not in Inventory.in_stock.parameters["properties"]
    print(inventory.in_stock.call({"item": "apple"}))
    assert inventory.in_stock.call({"item": "pear"}) is False

    # The context parameter is hidden from the model and filled at call time.
    assert list(greet.parameters["properties"]) == ["customer"]
    print(greet.call({"customer": "Ada"}, context=Context(deps=Shop("Corner Shop"))))

    # A partial: the bound rate leaves the schema.
    to_euro = tool(functools.partial(convert, rate=0.9), name="usd_to_eur")
    assert list(to_euro.parameters["properties"]) == ["amount"]
    print(to_euro.call('{"amount": 10}'))


if __name__ == "__main__":
    main()
