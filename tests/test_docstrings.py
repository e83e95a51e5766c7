"""What ``parse_docstring`` reads out of docstrings, well-formed or not.

Every expectation is the exact description, parameter dict and return note: these are the
words a model sees, so any change in them must fail a test here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.docstrings import ParsedDocstring, parse_docstring

# -- no sections ---------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [None, "", "   ", " \n\t\n  "])
def test_missing_or_blank_docstring_is_empty(doc: str | None) -> None:
    assert parse_docstring(doc) == ParsedDocstring("", {}, None, None)


def test_summary_only() -> None:
    assert parse_docstring("  Get the weather.  \n") == ParsedDocstring(
        "Get the weather.", {}, None, None
    )


def test_prose_is_dedented_and_blank_line_runs_collapse() -> None:
    doc = (
        "Get the weather.\n\n\n\n    Asks the service.   \n    Results are cached.\n\n    Cheap.\n"
    )
    assert parse_docstring(doc) == ParsedDocstring(
        "Get the weather.\n\nAsks the service.\nResults are cached.\n\nCheap.", {}, None, None
    )


# -- Google --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ["Args", "Arguments", "Parameters", "Params", "Keyword Args", "Keyword Arguments"],
)
def test_google_parameter_section_without_blank_line_before_it(header: str) -> None:
    parsed = parse_docstring(f"Get weather.\n{header}:\n    city: The city.")
    assert parsed == ParsedDocstring("Get weather.", {"city": "The city."}, None, "google")


@pytest.mark.parametrize(
    "header",
    ["Returns", "Return", "Raises", "Yields", "Example", "Examples", "Note", "Notes", "Todo"],
)
def test_google_other_sections_without_blank_line_stay_out_of_description(header: str) -> None:
    parsed = parse_docstring(f"Get weather.\n{header}:\n    ValueError: Something.")
    assert parsed.description == "Get weather."
    assert parsed.params == {}
    assert parsed.style == "google"


def test_google_without_any_blank_lines() -> None:
    parsed = parse_docstring("Sum.\nArgs:\n    x: X.\nExact.\nReturns:\n    S.\nFast.")
    assert parsed == ParsedDocstring("Sum.\n\nExact.\n\nFast.", {"x": "X."}, "S.", "google")


def test_google_args_as_the_first_line() -> None:
    def fn(city: str, unit: str) -> None:
        """Args:
        city: The city.
        unit: Either "C" or
            "F".
        """

    expected = ParsedDocstring(
        "", {"city": "The city.", "unit": 'Either "C" or "F".'}, None, "google"
    )
    assert parse_docstring(fn.__doc__) == expected
    assert parse_docstring('Args:\n    city: The city.\n    unit: Either "C" or\n        "F".') == (
        expected
    )


def test_google_args_as_the_first_line_followed_by_more_sections() -> None:
    def fn(city: str) -> str:
        """Args:
            city: The city.

        Returns:
            The forecast.
        """
        return city

    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "", {"city": "The city."}, "The forecast.", "google"
    )


def test_google_typed_and_multi_line_entries() -> None:
    def fn(x: int, y: int, z: dict[str, int]) -> int:
        """Add numbers.

        Args:
            x (int): The first number.
            y (int, optional): The second number,
                which may be
                negative.
            z (dict[str, int]): Extra numbers by name.

        Returns:
            int: The sum
                of everything.
        """
        return 0

    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "Add numbers.",
        {
            "x": "The first number.",
            "y": "The second number, which may be negative.",
            "z": "Extra numbers by name.",
        },
        "The sum of everything.",
        "google",
    )


def test_google_sections_leave_the_description_but_prose_around_them_stays() -> None:
    def fn(city: str) -> None:
        """Get the weather.

        Uses the forecast service.

        Args:
            city: The city.

        Raises:
            KeyError: If the city is unknown.

        Example:
            >>> fn("Paris")

        Note:
            Slow on a cold cache.
        Prefer batching calls.
        """

    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "Get the weather.\n\nUses the forecast service.\n\nPrefer batching calls.",
        {"city": "The city."},
        None,
        "google",
    )


def test_google_section_before_the_parameters_does_not_hide_them() -> None:
    parsed = parse_docstring("Sum.\n\nNote:\n    Exact.\n\nArgs:\n    x: X.\n\nReturn:\n    S.")
    assert parsed == ParsedDocstring("Sum.", {"x": "X."}, "S.", "google")


def test_google_keyword_args_and_args_are_both_collected() -> None:
    parsed = parse_docstring("Sum.\n\nArgs:\n    x: X.\nKeyword Arguments:\n    y: Y.")
    assert parsed.params == {"x": "X.", "y": "Y."}


def test_google_entry_without_description() -> None:
    assert parse_docstring("Sum.\n\nArgs:\n    x:\n    y: Y.").params == {"x": "", "y": "Y."}


# -- NumPy, reST, Epydoc -------------------------------------------------------------------


def test_numpy() -> None:
    def fn(x: int, y: int, z: int) -> int:
        """Add numbers.

        Parameters
        ----------
        x, y : int
            Two numbers.
        z : int, optional
            A third number,
            maybe negative.

        Returns
        -------
        int
            The sum.

        Notes
        -----
        Exact for ints.
        """
        return 0

    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "Add numbers.",
        {"x": "Two numbers.", "y": "Two numbers.", "z": "A third number, maybe negative."},
        "The sum.",
        "numpy",
    )


def test_numpy_underline_of_the_wrong_length() -> None:
    parsed = parse_docstring(
        "Sum.\n\nParameters\n-----\nx : int\n    X.\n\nReturns\n---\nint\n    S."
    )
    assert parsed == ParsedDocstring("Sum.", {"x": "X."}, "S.", "numpy")


def test_rest() -> None:
    def fn(x: int, y: int) -> int:
        """Add numbers.

        :param x: The first
            number.
        :type x: int
        :param int y: The second number.
        :returns: The sum.
        :rtype: int
        :raises ValueError: Never.
        """
        return 0

    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "Add numbers.",
        {"x": "The first number.", "y": "The second number."},
        "The sum.",
        "rest",
    )


def test_rest_prose_after_the_fields_stays_prose() -> None:
    parsed = parse_docstring(
        "Sum.\n\n:class:`int` only.\n\n:param x: X.\n:returns: S.\n\n.. versionadded:: 2.0"
    )
    assert parsed == ParsedDocstring(
        "Sum.\n\n:class:`int` only.\n\n.. versionadded:: 2.0", {"x": "X."}, "S.", "rest"
    )


def test_epydoc() -> None:
    def fn(x: int, y: int) -> int:
        """Add numbers.

        @type x: int
        @param x: The first
            number.
        @param y: The second number.
        @type y: int
        @returns: The sum.
        @rtype: int
        @raise ValueError: Never.
        """
        return 0

    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "Add numbers.",
        {"x": "The first number.", "y": "The second number."},
        "The sum.",
        "epydoc",
    )


@pytest.mark.parametrize(
    "doc",
    [
        "F.\n\nArgs:\n    *args: Positional.\n    **kwargs: Named.",
        r"F.\n\nArgs:\n    \*args: Positional.\n    \*\*kwargs: Named.",
        "F.\n\nParameters\n----------\n*args\n    Positional.\n**kwargs\n    Named.",
        r"F.\n\nParameters\n----------\n\*args\n    Positional.\n\*\*kwargs\n    Named.",
        "F.\n\n:param *args: Positional.\n:param **kwargs: Named.",
        "F.\n\n@param *args: Positional.\n@param **kwargs: Named.",
    ],
)
def test_star_args_are_named_without_stars(doc: str) -> None:
    assert parse_docstring(doc.replace(r"\n", "\n")).params == {
        "args": "Positional.",
        "kwargs": "Named.",
    }


# -- one docstring, four styles ------------------------------------------------------------


def _google(table: str, limit: int = 10, **filters: Any) -> list[dict[str, Any]]:
    """Fetch rows from a table.

    Rows come in primary-key order.

    Args:
        table (str): Name of the table.
        limit (int, optional): Maximum number of rows,
            at most 1000.
        **filters: Column values the rows must match.

    Returns:
        list[dict]: The matching rows.

    Raises:
        KeyError: If the table does not exist.
    """
    return []


def _numpy(table: str, limit: int = 10, **filters: Any) -> list[dict[str, Any]]:
    """Fetch rows from a table.

    Rows come in primary-key order.

    Parameters
    ----------
    table : str
        Name of the table.
    limit : int, optional
        Maximum number of rows,
        at most 1000.
    **filters
        Column values the rows must match.

    Returns
    -------
    list of dict
        The matching rows.

    Raises
    ------
    KeyError
        If the table does not exist.
    """
    return []


def _rest(table: str, limit: int = 10, **filters: Any) -> list[dict[str, Any]]:
    """Fetch rows from a table.

    Rows come in primary-key order.

    :param table: Name of the table.
    :type table: str
    :param limit: Maximum number of rows,
        at most 1000.
    :type limit: int, optional
    :param \\**filters: Column values the rows must match.
    :returns: The matching rows.
    :rtype: list[dict]
    :raises KeyError: If the table does not exist.
    """
    return []


def _epydoc(table: str, limit: int = 10, **filters: Any) -> list[dict[str, Any]]:
    """Fetch rows from a table.

    Rows come in primary-key order.

    @param table: Name of the table.
    @type table: str
    @param limit: Maximum number of rows,
        at most 1000.
    @type limit: int
    @param filters: Column values the rows must match.
    @return: The matching rows.
    @rtype: list of dict
    @raise KeyError: If the table does not exist.
    """
    return []


@pytest.mark.parametrize(
    ("fn", "style"), [(_google, "google"), (_numpy, "numpy"), (_rest, "rest"), (_epydoc, "epydoc")]
)
def test_every_style_reads_the_same(
    fn: Callable[..., object], style: Literal["google", "numpy", "rest", "epydoc"]
) -> None:
    assert parse_docstring(fn.__doc__) == ParsedDocstring(
        "Fetch rows from a table.\n\nRows come in primary-key order.",
        {
            "table": "Name of the table.",
            "limit": "Maximum number of rows, at most 1000.",
            "filters": "Column values the rows must match.",
        },
        "The matching rows.",
        style,
    )


# -- what is not a parameter or a return value ---------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        "A point.\n\nAttributes:\n    x: X.\n\nArgs:\n    y: Y.",
        "A point.\n\nAttributes\n----------\nx\n    X.\n\nParameters\n----------\ny\n    Y.",
        "A point.\n\n:ivar x: X.\n:param y: Y.",
    ],
)
def test_attributes_are_not_parameters(doc: str) -> None:
    parsed = parse_docstring(doc)
    assert (parsed.description, parsed.params) == ("A point.", {"y": "Y."})


@pytest.mark.parametrize(
    "doc",
    [
        "Count.\n\nYields:\n    int: The next number.",
        "Count.\n\nYields\n------\nint\n    The next number.",
        "Count.\n\n:yields: The next number.",
    ],
)
def test_yields_are_not_returns(doc: str) -> None:
    parsed = parse_docstring(doc)
    assert (parsed.description, parsed.returns) == ("Count.", None)


# -- line endings, tabs, malformed sections ------------------------------------------------


def test_windows_line_endings_and_tabs() -> None:
    doc = "Get weather.\r\n\r\n\tUses the service.\r\n\r\n\tArgs:\r\n\t\tcity: The\r\n\t\t\tcity."
    assert parse_docstring(doc) == ParsedDocstring(
        "Get weather.\n\nUses the service.", {"city": "The city."}, None, "google"
    )


def test_old_mac_line_endings() -> None:
    assert parse_docstring("Sum.\rArgs:\r    x: X.").params == {"x": "X."}


@pytest.mark.parametrize(
    "doc", ["Sum.\n\nArgs:\n    takes no colon", "Sum.\n\nArgs:", "Sum.\n\n:param: nameless"]
)
def test_unparseable_sections_keep_the_description(doc: str) -> None:
    parsed = parse_docstring(doc)
    assert (parsed.description, parsed.params, parsed.returns) == ("Sum.", {}, None)


_FRAGMENTS = st.sampled_from(
    [
        *("Args:", "Returns:", "Note:", "Parameters", "---", "x : int", ":param x:", ":returns:"),
        *("@param:", "@type x:", "x (int):", "*args:", "    ", "\t", "\r", ":", "(", "x", "d."),
    ]
)


@given(st.lists(st.one_of(_FRAGMENTS, st.text(max_size=3)), max_size=20).map("\n".join))
def test_never_raises(doc: str) -> None:
    parsed = parse_docstring(doc)
    assert parsed.description == parsed.description.strip()
    assert "\r" not in parsed.description


# -- caching -------------------------------------------------------------------------------


def test_a_caller_editing_the_result_does_not_change_the_next_one() -> None:
    doc = "Sum.\n\nArgs:\n    x: X."
    parse_docstring(doc).params["y"] = "Y."
    assert parse_docstring(doc).params == {"x": "X."}
