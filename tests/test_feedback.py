"""Every text toolkit writes for the model, word for word (toolkit/_feedback.py)."""

from __future__ import annotations

from toolkit import _feedback
from toolkit.calls import ArgumentProblem


def test_unknown_tool_texts() -> None:
    assert _feedback.unknown_tool("x", [], 0, []) == "Unknown tool 'x'. No tools are available."
    available = ["get_weather", "search"]
    assert _feedback.unknown_tool("get_wether", available, 2, ["get_weather"]) == (
        "Unknown tool 'get_wether'. Did you mean 'get_weather'? "
        "Available tools: get_weather, search."
    )
    many = [f"t{i}" for i in range(25)]
    assert _feedback.unknown_tool("y" * 500, many[:20], 25, ["t1", "t2"]) == (
        f"Unknown tool '{'y' * 100}...'. Did you mean 't1' or 't2'? "
        f"Available tools: {', '.join(many[:20])} and 5 more."
    )


def test_invalid_argument_texts() -> None:
    problems = [
        ArgumentProblem(("city",), "Missing required argument"),
        ArgumentProblem(("days",), "Input should be a valid integer", "x" * 300),
        ArgumentProblem(("items", 2, "sku"), "Missing value"),
        ArgumentProblem((), "Input should be a JSON object", [1]),
    ]
    lines = _feedback.invalid_arguments("book", problems, 24).splitlines()
    assert lines[0] == "Invalid arguments for book:"
    assert lines[1] == "- city: Missing required argument"
    assert lines[2].startswith("- days: Input should be a valid integer (got 'xxxx")
    assert "..." in lines[2]
    assert len(lines[2]) < 160  # the value is clipped
    assert lines[3:] == [
        "- items[2].sku: Missing value",
        "- arguments: Input should be a JSON object (got [1])",
        "- and 20 more problems",
        "Fix the arguments and call book again.",
    ]


def test_invalid_json_text() -> None:
    assert _feedback.invalid_json("add", '{"a": 1', "EOF while parsing an object") == (
        "The arguments for add are not valid JSON: EOF while parsing an object.\n"
        'Received (7 characters): {"a": 1\n'
        "Send the arguments as one JSON object and call add again."
    )


def test_failure_texts() -> None:
    class Quiet(Exception):
        pass

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError

    assert _feedback.failed("f", ValueError("bad")) == "Tool f failed: ValueError: bad"
    assert _feedback.failed("f", Quiet()) == "Tool f failed: Quiet"
    assert _feedback.failed("f", Unprintable()) == (
        "Tool f failed: Unprintable: (its message could not be read)"
    )
    assert _feedback.failed("f", KeyError("k"), "Traceback...") == (
        "Tool f failed: KeyError: 'k'\nTraceback..."
    )
    assert _feedback.timed_out("f", 2) == "Tool f did not finish within 2.0 s."
    assert _feedback.cancelled("f") == "Tool f was cancelled."
    assert _feedback.unsendable("f", TypeError("nope")) == (
        "Tool f returned a value that cannot be sent: TypeError: nope"
    )
    assert _feedback.truncated("abcdef", 4) == (
        "abcd...\n[truncated: 6 characters, showing the first 4]"
    )
    assert _feedback.truncated("abc", 4) == "abc"


def test_runner_texts() -> None:
    assert _feedback.cut_off() == (
        "Your reply was cut off by the output token limit before this call was complete, "
        "so it was not run. Call it again with shorter arguments."
    )
    assert _feedback.call_limit(5) == "Not run: the limit of 5 tool calls was reached."
    assert _feedback.calls_per_reply_limit(64) == (
        "Not run: at most 64 tool calls are run per reply. Make fewer calls at once."
    )
    assert _feedback.repeated("f", 1) == (
        "Not run: f was already called with these arguments once "
        "and the result will not change. Use the results you have."
    )
    assert "with these arguments 3 times" in _feedback.repeated("f", 3)
    assert _feedback.interrupted() == "This call was interrupted before it finished."
    assert _feedback.denied() == "The user denied this call."


def test_preview_is_bounded_in_length_and_depth() -> None:
    deep: object = 1
    for _ in range(10_000):
        deep = [deep]
    shown = _feedback.preview(deep)
    assert len(shown) <= 103
    assert shown.startswith("[[[")

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError

    assert _feedback.preview(Broken()).startswith("<Broken")
