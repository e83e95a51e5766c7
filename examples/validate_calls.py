"""Validate a model's arguments before anything runs, including strict-mode shapes.

Run: python examples/validate_calls.py   (offline)
"""

from __future__ import annotations

import asyncio

from pydantic import ValidationError

from toolkit import tool


@tool(strict=True)
def tag_counts(text: str, weights: dict[str, int] | None = None, limit: int = 3) -> list[str]:
    """Return the most frequent words of a text.

    Args:
        text: The text to scan.
        weights: Extra weight per word.
        limit: How many words to return.
    """
    counts: dict[str, int] = {}
    for word in text.lower().split():
        counts[word] = counts.get(word, 0) + 1 + (weights or {}).get(word, 0)
    return sorted(counts, key=lambda w: (-counts[w], w))[:limit]


@tool
async def slow_echo(message: str, delay: float = 0.01) -> str:
    """Echo a message after a short delay."""
    await asyncio.sleep(delay)
    return message


def main() -> None:
    # A strict-mode model must send every key: null means "use the default", and the
    # dict travels as key/value pairs. toolkit maps both back before the call.
    arguments = '{"text": "b a b c", "weights": [{"key": "c", "value": 5}], "limit": null}'
    print(tag_counts.call(arguments))
    assert tag_counts.call(arguments) == ["c", "b", "a"]

    # Lax JSON coercion: "2" is accepted for an int.
    assert tag_counts.call({"text": "x y x", "limit": "2"}) == ["x", "y"]

    # Invalid arguments never reach the function; the error names each failing field.
    try:
        tag_counts.call('{"text": 42, "limit": "many"}')
    except ValidationError as error:
        problems = error.errors()
    else:
        raise AssertionError("invalid arguments were accepted")
    for problem in problems:
        print(problem["loc"], "->", problem["msg"])
    assert [p["loc"] for p in problems] == [("text",), ("limit",)]

    print(asyncio.run(slow_echo.call_async('{"message": "hello"}')))


if __name__ == "__main__":
    main()
