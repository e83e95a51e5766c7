"""ToolSearch: BM25 over a tool catalog, the search tool a model calls, and the
``select_tools`` callback that offers what the model found."""

from __future__ import annotations

import json
from typing import Any

import pytest
from _tool_catalog import catalog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import (
    FORMATS,
    Registry,
    RunState,
    Tool,
    ToolAnnotations,
    ToolCall,
    ToolDefinitionError,
    ToolMatch,
    ToolResult,
    ToolSearch,
    tool,
)
from toolkit.formats import get_format
from toolkit.model import ModelReply, Step, Usage
from toolkit.tool_search import MAX_LIMIT, MAX_QUERY_CHARS, MAX_QUERY_TERMS

CATALOG = catalog(200)
SEARCH = ToolSearch(CATALOG)
NAMES = {t.name for t in CATALOG}


def _nothing(**_: Any) -> None:
    """What the synthetic tools do."""


def _schema_tool(
    name: str, description: str, parameters: dict[str, Any] | None = None
) -> Tool[..., Any]:
    schema = {"type": "object", "properties": parameters or {}}
    return Tool.from_schema(_nothing, schema, name=name, description=description)


def _first(search: ToolSearch, query: str) -> str:
    return search.search(query)[0].name


# -- ranking ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("send an email to bob", "email_send"),
        ("Please refund the customer's last payment", "payments_refund"),
        ("schedule a meeting with Alice on Monday", "calendar_create_event"),
        ("commit my changes", "git-commit"),
        ("weather forecast for Lyon", "weatherGetForecast"),
        ("find restaurants nearby", "maps_nearby_places"),
        ("grep the files for TODO", "files_search_content"),
        ("run a SELECT on the database", "db_query"),
        ("translate this into French", "translateTranslateText"),
        ("text message to a phone number", "sms_send"),
        ("list the running containers", "docker-list-containers"),
    ],
)
def test_a_task_in_plain_words_finds_its_tool_first(query: str, expected: str) -> None:
    assert _first(SEARCH, query) == expected


def test_snake_camel_and_kebab_names_are_split_into_words() -> None:
    assert _first(SEARCH, "git push") == "git-push"
    assert _first(SEARCH, "crm deal update") == "crmUpdateDeal"
    assert _first(SEARCH, "getWeatherForecast") == "weatherGetForecast"  # a query in camelCase
    acronyms = ToolSearch([_schema_tool("getHTTPResponse2xx", "x"), _schema_tool("other", "y")])
    assert [m.name for m in acronyms.search("http response")] == ["getHTTPResponse2xx"]
    assert [m.name for m in acronyms.search("2xx")] == ["getHTTPResponse2xx"]


def test_parameter_names_and_docs_are_searched_nested_ones_too() -> None:
    assert _first(SEARCH, "E.164") == "sms_send"  # only in sms_send's parameter's doc
    nested = _schema_tool(
        "ship",
        "Dispatch a parcel.",
        {
            "address": {
                "type": "object",
                "properties": {"postcode": {"type": "string", "description": "Zip of the town"}},
            },
            "speed": {"anyOf": [{"enum": ["overnight", "economy"]}, {"type": "null"}]},
        },
    )
    search = ToolSearch([nested, _schema_tool("other", "Something else.")])
    for query in ("postcode", "zip", "overnight", "address"):
        assert [m.name for m in search.search(query)] == ["ship"], query


def test_stemming_meets_plurals_and_verb_forms() -> None:
    search = ToolSearch([_schema_tool("plan", "Schedules meetings."), _schema_tool("x", "Other.")])
    for query in ("schedule a meeting", "scheduling", "scheduled meetings", "meeting"):
        assert [m.name for m in search.search(query)] == ["plan"], query


def test_a_name_outweighs_a_description() -> None:
    search = ToolSearch(
        [_schema_tool("notify", "Sends an email."), _schema_tool("email_deliver", "Deliver it.")]
    )
    assert [m.name for m in search.search("email")] == ["email_deliver", "notify"]


def test_a_title_is_searched() -> None:
    titled = tool(lambda: None, name="op17").with_options(
        annotations=ToolAnnotations(title="Rotate the API keys")
    )
    search = ToolSearch([titled, _schema_tool("other", "Something.")])
    assert [m.name for m in search.search("rotate keys")] == ["op17"]


def test_a_match_carries_the_first_line_of_the_description() -> None:
    long_line = "word " * 100
    search = ToolSearch(
        [
            _schema_tool("a_tool", "\n  First line.  \nSecond line."),
            _schema_tool("b_tool", long_line),
        ]
    )
    assert search.search("first")[0] == ToolMatch(
        name="a_tool", score=search.search("first")[0].score, description="First line."
    )
    described = search.search("word")[0].description
    assert len(described) == 200
    assert described.endswith("...")


def test_results_are_deterministic_and_ties_keep_registration_order() -> None:
    twins = [_schema_tool(f"twin_{i}", "Send a fax.") for i in range(6)]
    assert [m.name for m in ToolSearch(twins).search("fax", 6)] == [t.name for t in twins]
    reversed_twins = list(reversed(twins))
    assert [m.name for m in ToolSearch(reversed_twins).search("fax", 6)] == [
        t.name for t in reversed_twins
    ]
    again = ToolSearch(CATALOG)
    for query in ("send email", "database table", "archive"):
        assert again.search(query, 20) == SEARCH.search(query, 20)


def test_scores_are_in_descending_order_and_only_for_shared_words() -> None:
    matches = SEARCH.search("list calendar events", 20)
    scores = [m.score for m in matches]
    assert scores == sorted(scores, reverse=True)
    assert all(s > 0 for s in scores)
    assert SEARCH.search("zebra") == []


def test_a_registry_and_plain_functions_are_catalogs() -> None:
    def reverse_words(text: str) -> str:
        """Reverse the order of the words of a text."""
        return " ".join(reversed(text.split()))

    registry = Registry([reverse_words])
    assert _first(ToolSearch(registry), "reverse words") == "reverse_words"
    assert _first(ToolSearch([reverse_words]), "reverse words") == "reverse_words"
    registry.remove("reverse_words")  # the index is a snapshot of the catalog
    assert ToolSearch(registry).search("reverse") == []


# -- limits and hostile queries ----------------------------------------------------------------


def test_limit_bounds() -> None:
    assert len(SEARCH.search("email")) == 5  # the default
    assert len(SEARCH.search("email", 1)) == 1
    assert len(ToolSearch(CATALOG, limit=8).search("email")) == 8
    everything = SEARCH.search("email", 1000)  # the Python API is not capped at MAX_LIMIT
    assert len(everything) > MAX_LIMIT
    assert len({m.name for m in everything}) == len(everything)
    for bad in (0, MAX_LIMIT + 1, -3):
        with pytest.raises(ValueError, match="limit must be from 1 to 20"):
            ToolSearch(CATALOG, limit=bad)
    with pytest.raises(ValueError, match="limit must be at least 1"):
        SEARCH.search("email", 0)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   \n\t ",
        "the and of to a please",  # only stop words
        "x" * 1_000_000,  # one 1 MB word
        "email " * 200_000,  # 1.2 MB, one word repeated
        "\x00\x01\x1b[31m\u202e\ud800",  # control characters, a lone surrogate
        "météo à Paris 東京の天気 🌧️",
        "İstanbul ǅemal ß",  # case mappings that change length
        "_-.:/" * 1000,
    ],
)
def test_a_hostile_query_is_bounded_and_never_raises(query: str) -> None:
    found = SEARCH.search(query)
    assert len(found) <= 5
    assert {m.name for m in found} <= NAMES


def test_only_the_first_characters_and_distinct_words_of_a_query_are_read() -> None:
    assert SEARCH.search(" " * MAX_QUERY_CHARS + "email") == []
    filler = " ".join(f"zq{chr(97 + i // 26)}{chr(97 + i % 26)}k" for i in range(MAX_QUERY_TERMS))
    assert SEARCH.search(f"{filler} email") == []  # the 65th distinct word is not read
    repeated = " ".join(["zz"] * 300)  # repeats count once
    assert SEARCH.search(f"{repeated} email") == SEARCH.search("email")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=3_000), st.integers(min_value=1, max_value=MAX_LIMIT))
def test_any_text_gives_at_most_limit_registered_tools(query: str, limit: int) -> None:
    found = SEARCH.search(query, limit)
    assert len(found) <= limit
    assert {m.name for m in found} <= NAMES
    assert len({m.name for m in found}) == len(found)
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)


# -- construction --------------------------------------------------------------------------------


def test_always_names_catalog_tools_and_unknown_ones_are_all_listed() -> None:
    search = ToolSearch(CATALOG, always=["git-status", "email_send", "git-status"])
    assert search.always == ("git-status", "email_send")
    with pytest.raises(ValueError, match="'nope', 'gone'"):
        ToolSearch(CATALOG, always=["email_send", "nope", "gone"])
    with pytest.raises(TypeError, match="not one string"):
        ToolSearch(CATALOG, always="email_send")


def test_the_search_tool_name_is_checked() -> None:
    assert ToolSearch(CATALOG, name="find_tools").tool.name == "find_tools"
    with pytest.raises(ValueError, match="'email_send' is a catalog tool's"):
        ToolSearch(CATALOG, name="email_send")
    with pytest.raises(ToolDefinitionError, match="not a usable tool name"):
        ToolSearch(CATALOG, name="search tools")


# -- the search tool -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_search_tool_renders_in_every_format(fmt: Any) -> None:
    definition = json.dumps(SEARCH.tool.definition(fmt))
    assert "search_tools" in definition
    assert "query" in definition
    assert "what you want to do" in definition


def test_the_search_tool_runs_through_a_registry() -> None:
    registry = Registry([SEARCH.tool])
    found, empty, too_many = registry.execute(
        [
            ToolCall(
                id="1", name="search_tools", arguments='{"query": "send an email", "limit": 2}'
            ),
            ToolCall(id="2", name="search_tools", arguments='{"query": "the of and"}'),
            ToolCall(id="3", name="search_tools", arguments='{"query": "email", "limit": 21}'),
        ]
    )
    assert not found.is_error
    assert found.value == [
        {"name": m.name, "description": m.description} for m in SEARCH.search("send email", 2)
    ]
    head, listed = found.content.split("\n", 1)
    assert head == "Tools found; call them directly from your next step:"
    assert json.loads(listed) == found.value
    assert not empty.is_error
    assert empty.content == (
        "No tool matched 'the of and'. Search again with other words: name the action and what"
        ' it acts on (for example "send email", "list calendar events"), in fewer words.'
    )
    assert too_many.is_error
    assert too_many.error is not None
    assert too_many.error.kind == "invalid_arguments"


def test_the_search_tool_defaults_to_the_search_limit() -> None:
    search = ToolSearch(CATALOG, limit=3)
    result = Registry([search.tool]).execute([_search_call("1", "email")])[0]
    assert len(result.value) == 3
    assert search.tool.parameters["properties"]["limit"]["default"] == 3


def test_a_long_query_is_echoed_clipped_when_nothing_matches() -> None:
    result = Registry([SEARCH.tool]).execute([_search_call("1", "q" * 5000)])[0]
    assert len(result.content) < 400
    assert "qqq..." in result.content


# -- choosing the tools of each request ---------------------------------------------------------


def _search_call(call_id: str, query: str) -> ToolCall:
    return ToolCall(id=call_id, name="search_tools", arguments=json.dumps({"query": query}))


def _step(calls: list[ToolCall], results: list[ToolResult]) -> Step:
    return Step(reply=ModelReply(message={}, calls=tuple(calls)), results=tuple(results))


def _searched(search: ToolSearch, call_id: str, query: str) -> Step:
    call = _search_call(call_id, query)
    return _step([call], Registry([search.tool]).execute([call]))


def _state(steps: list[Step], messages: list[Any] | None = None) -> RunState:
    return RunState(messages=messages or [], steps=steps, usage=Usage())


def test_a_new_run_offers_the_search_tool_and_the_always_tools() -> None:
    search = ToolSearch(CATALOG, always=["math_calculate", "git-status"])
    assert search(_state([])) == ["search_tools", "math_calculate", "git-status"]


def test_found_tools_are_offered_after_the_search_in_rank_order() -> None:
    search = ToolSearch(CATALOG, always=["math_calculate"], limit=3)
    step = _searched(search, "1", "refund a payment")
    ranked = [m.name for m in search.search("refund a payment")]
    assert search(_state([step])) == ["search_tools", "math_calculate", *ranked]


def test_failed_and_empty_searches_offer_nothing() -> None:
    failed = ToolResult("1", "search_tools", None, "boom", is_error=True)
    refused_value = ToolResult("2", "search_tools", [{"name": "email_send"}], "x", is_error=True)
    empty = _searched(SEARCH, "3", "zebra")
    steps = [_step([], [failed, refused_value]), empty]
    assert SEARCH(_state(steps)) == ["search_tools"]


def test_only_catalog_names_in_a_result_value_are_offered() -> None:
    value: Any = [
        {"name": "no_such_tool"},
        {"name": 42},
        "email_send",
        {"name": "x" * 10_000},
        {"name": "git-log"},
    ]
    odd = [
        ToolResult("1", "search_tools", value, "..."),
        ToolResult("2", "search_tools", {"name": "email_send"}, "..."),  # not a list
        ToolResult("3", "other_tool", [{"name": "db_query"}], "..."),  # not the search tool
    ]
    assert SEARCH(_state([_step([], odd)])) == ["search_tools", "git-log"]


def test_called_tools_stay_offered() -> None:
    call = ToolCall(id="9", name="db_query", arguments="{}")
    result = ToolResult("9", "db_query", None, "refused", is_error=True)
    assert SEARCH(_state([_step([call], [result])])) == ["search_tools", "db_query"]


def test_the_offered_list_only_grows_at_its_end() -> None:
    search = ToolSearch(CATALOG, always=["math_calculate"])
    first = _searched(search, "1", "send email")
    second = _searched(search, "2", "calendar event")
    used = _step([ToolCall(id="3", name="email_send", arguments="{}")], [])
    again = _searched(search, "4", "send email")
    before = search(_state([first]))
    after = search(_state([first, used, second, again]))
    assert after[: len(before)] == before  # the definitions sent so far keep their place
    assert len(after) == len(set(after))
    assert search(_state([first, used, second, again])) == after  # same state, same list
    assert set(after) - set(before) == {m.name for m in search.search("calendar event")} - set(
        before
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_tools_found_in_earlier_turns_are_read_from_the_messages(fmt: Any) -> None:
    search = ToolSearch(CATALOG, always=["math_calculate"], limit=2)
    earlier = _searched(search, "call_1", "track my order")
    codec = get_format(fmt)
    messages: list[Any] = [{"role": "user", "content": "Where is my parcel?"}]
    messages += codec.result_messages(earlier.results)
    ranked = [m.name for m in search.search("track my order", 2)]
    assert search(_state([], messages)) == ["search_tools", "math_calculate", *ranked]
    # this run's own searches come after the earlier turns'
    now = _searched(search, "call_2", "book a hotel")
    hotel = [m.name for m in search.search("book a hotel", 2) if m.name not in ranked]
    assert search(_state([now], messages)) == ["search_tools", "math_calculate", *ranked, *hotel]


def test_history_texts_that_are_not_whole_search_results_are_ignored() -> None:
    head = "Tools found; call them directly from your next step:\n"
    messages: list[Any] = [
        {"role": "tool", "content": head + '[{"name": "email_send", "desc'},  # cut short
        {"role": "tool", "content": head + "[" * 100_000},  # deeply nested
        {"role": "tool", "content": "Tools found: email_send"},
        {"role": "user", "content": [{"text": head + '[{"name": "git-log"}]'}]},
        object(),  # an SDK object: skipped
    ]
    assert SEARCH(_state([], messages)) == ["search_tools", "git-log"]


def test_reading_the_history_is_bounded() -> None:
    head = "Tools found; call them directly from your next step:\n"
    deep: Any = head + '[{"name": "git-log"}]'
    for _ in range(50_000):  # nested far past any recursion limit
        deep = [deep]
    assert SEARCH(_state([], [deep])) == ["search_tools", "git-log"]
    wide: list[Any] = [{"role": "tool", "content": "ok"}] * 200_000
    old = {"content": head + '[{"name": "git-log"}]'}
    new = {"content": head + '[{"name": "db_query"}]'}
    # the newest messages are read first: past the bound, the oldest searches are left out
    assert SEARCH(_state([], [old, *wide, new])) == ["search_tools", "db_query"]
