"""``ToolSearch``: offer a model a search tool instead of hundreds of tool definitions.

With a large catalog, sending every definition in every request costs most of the context
before the model has read a word. A ``ToolSearch`` indexes the catalog once and gives the
model one tool, ``search_tools(query)``; the tools it finds are offered from the next
request on. Used as a runner's ``select_tools`` callback (``Runner(..., tool_search=...)``),
it decides, before each request, which definitions are sent.

The index is Okapi BM25 over each tool's words, dependency-free:

- Words: runs of letters or of digits, split at camelCase (``getHTTPResponse`` gives
  ``get``, ``http``, ``response``), lowercased; ``_ - . :`` and other punctuation separate
  words. Single letters and a short list of English stop words are dropped.
- Light stemming, the same for tools and queries, so that ``emails``/``email``,
  ``scheduled``/``scheduling``/``schedule`` meet: ``-ies`` becomes ``-y``; a plural ``-s`` is
  dropped (not from ``-ss``, ``-us``, ``-is``); then ``-ing`` or ``-ed`` is dropped when a
  stem of three letters or more with a vowel is left (``string`` stays), undoubling a final
  consonant other than l, s, z (``getting``, ``get``); then a final ``-e`` is dropped (so
  ``-es`` plurals meet their singular). Deterministic, no dictionary: it conflates a few
  unrelated words, which costs little in a catalog of tool descriptions.
- Fields: the tool name's words count three times, a title's twice, the description's and
  the parameters' (names, descriptions, titles and string enum values in the JSON Schema,
  nested objects, arrays and unions included, within a bound) once: a tool named for the
  task should beat one that mentions it.
- Scores: BM25 with k1 = 1.2 (term frequency saturates quickly: descriptions are short and
  repeat words little) and b = 0.75 (the usual length normalisation: a long description
  does not win by length alone); idf is ``ln(1 + (N - df + 0.5) / (df + 0.5))``, never
  negative. Each query word counts once. Equal scores keep the catalog's order, so results
  are deterministic.

Costs: building is linear in the catalog's text (each tool's text is cut at a bound); a
query is cut at ``MAX_QUERY_CHARS`` characters and ``MAX_QUERY_TERMS`` distinct words (a
model's query is hostile input), and scores at most that many posting lists.
"""

from __future__ import annotations

import heapq
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, cast

from pydantic import Field

from toolkit.formats import FORMATS, get_format
from toolkit.registry import Registry
from toolkit.tool import Tool, ToolAnnotations, tool

if TYPE_CHECKING:
    from toolkit.runner._state import RunState

__all__ = ["MAX_LIMIT", "MAX_QUERY_CHARS", "MAX_QUERY_TERMS", "ToolMatch", "ToolSearch"]

MAX_LIMIT = 20
"""The most tools one search returns to the model (the search tool's ``limit`` bound)."""

MAX_QUERY_CHARS = 1_000
"""A query is cut to this many characters before it is read."""

MAX_QUERY_TERMS = 64
"""At most this many distinct words of a query are scored."""

_K1 = 1.2
_B = 0.75
_NAME_WEIGHT = 3  # a name's words are counted this many times
_TITLE_WEIGHT = 2
_FIELD_CHARS = 8_000  # a name, title, description or schema text is cut at this length
_SCHEMA_NODES = 200  # at most this many schema objects of one tool are read...
_SCHEMA_DEPTH = 6  # ...at most this deep
_ENUM_VALUES = 20  # string enum values read per schema object
_DESCRIPTION_CHARS = 200  # a match's description: its first line, cut at this length
_HISTORY_NODES = 100_000  # values of a conversation's messages read to find past searches
_HISTORY_TEXT_CHARS = 64_000  # a longer text in the history is not read as a search result

# Runs of digits, of capitals not followed by a small letter (``HTTP`` in ``HTTPServer``), or
# of small letters after at most one capital; any script's letters count as small unless
# they are ASCII capitals. Each alternative fails or succeeds after one step back, so
# tokenising is linear.
_WORD = re.compile(r"\d+|[A-Z]+(?![^\W\d_A-Z])|[A-Z]?[^\W\d_A-Z]+")

_STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "please",
        "should",
        "so",
        "some",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "those",
        "to",
        "us",
        "want",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)
_VOWELS = frozenset("aeiouy")

# The first line of a successful search's result text. The runner reads found tools from
# this run's results; for earlier turns of a conversation, which it keeps only as native
# messages, this line marks the texts to read the names from, whatever the protocol.
_FOUND = "Tools found; call them directly from your next step:\n"


def _no_match(query: str) -> str:
    shown = query if len(query) <= 100 else query[:100] + "..."
    return (
        f"No tool matched {shown!r}. Search again with other words: name the action and"
        ' what it acts on (for example "send email", "list calendar events"), in fewer words.'
    )


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and len(stem) >= 3 and not _VOWELS.isdisjoint(stem):
            if stem[-1] == stem[-2] and stem[-1] not in "lsz" and stem[-1] not in _VOWELS:
                stem = stem[:-1]  # getting -> get, stopped -> stop
            word = stem
            break
    if len(word) > 3 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


def _words(text: str) -> list[str]:
    """The searchable words of ``text``: split, lowercased, stop words dropped, stemmed."""
    found: list[str] = []
    for match in _WORD.finditer(text[:_FIELD_CHARS]):
        word = match.group().lower()
        if (len(word) > 1 or word.isdigit()) and word not in _STOP_WORDS:
            found.append(_stem(word))
    return found


def _schema_words(schema: Any) -> list[str]:
    """The words of a JSON Schema's property names, descriptions, titles and string enum
    values, nested ones included, reading at most ``_SCHEMA_NODES`` objects."""
    found: list[str] = []
    stack: list[tuple[Any, int]] = [(schema, 0)]
    seen = 0
    while stack and seen < _SCHEMA_NODES:
        node, depth = stack.pop()
        if not isinstance(node, Mapping):
            continue
        seen += 1
        node = cast("Mapping[str, Any]", node)
        for key in ("title", "description"):
            text = node.get(key)
            if isinstance(text, str):
                found += _words(text)
        enum = node.get("enum")
        if isinstance(enum, list):
            for value in cast("list[Any]", enum)[:_ENUM_VALUES]:
                if isinstance(value, str):
                    found += _words(value)
        if depth >= _SCHEMA_DEPTH:
            continue
        children: list[Any] = []
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            for name, child in cast("Mapping[Any, Any]", properties).items():
                if isinstance(name, str):
                    found += _words(name)
                children.append(child)
        for key in ("items", "additionalProperties"):
            children.append(node.get(key))
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            branches = node.get(key)
            if isinstance(branches, list):
                children += cast("list[Any]", branches)
        for key in ("$defs", "definitions"):
            defs = node.get(key)
            if isinstance(defs, Mapping):
                children += list(cast("Mapping[Any, Any]", defs).values())
        stack += [(child, depth + 1) for child in reversed(children)]
    return found


def _document(item: Tool[..., Any]) -> list[str]:
    """One tool's words, each field repeated by its weight."""
    title = item.annotations.title if item.annotations is not None else None
    words = _words(item.name) * _NAME_WEIGHT
    if title:
        words += _words(title) * _TITLE_WEIGHT
    return words + _words(item.description) + _schema_words(item.parameters)


def _first_line(text: str) -> str:
    line = next((line.strip() for line in text[:_FIELD_CHARS].splitlines() if line.strip()), "")
    return line if len(line) <= _DESCRIPTION_CHARS else line[: _DESCRIPTION_CHARS - 3] + "..."


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolMatch:
    """One tool a search found.

    Attributes:
        name: The tool's registered name.
        score: Its BM25 score for the query (higher is better; only the order means much).
        description: The first line of its description.
    """

    name: str
    score: float
    description: str


class ToolSearch:
    """A search over a tool catalog, the search tool a model calls, and the ``select_tools``
    callback that offers what the model found.

    ```python
    search = ToolSearch(registry, always=["get_time"])
    runner = Runner(client, tools=registry, tool_search=search)
    ```

    Before each request the runner asks ``search(state)`` which tools to offer: the search
    tool, the ``always`` tools, every tool found by a successful search of this
    conversation, and every catalog tool the model called in this run. New tools are added
    at the end, so the definitions sent stay byte-identical while the set does not change,
    and grow only at their end (what providers' prompt caches key on).

    The index is built once, here, from the tools the catalog holds now: after changing a
    registry, build a new ``ToolSearch``.

    Offering is not a permission: a name found in a search result (or a call) is offered
    only if it is a catalog tool, and the model could have searched for any of them.

    Args:
        tools: The catalog: a ``Registry`` or tools and functions (wrapped with ``@tool``).
        always: Names of catalog tools offered in every request.
        limit: How many tools a search returns by default (1 to ``MAX_LIMIT``).
        name: The search tool's name.
        native: Use the provider's own tool search where its protocol has one (Anthropic:
            every tool but the ``always`` ones is sent with ``defer_loading``, beside
            Anthropic's BM25 search tool, and the API searches and loads them); elsewhere,
            and by default, toolkit's own.

    Raises:
        ValueError: an ``always`` name is not in the catalog (all such names listed), the
            limit is out of bounds, or ``name`` is a catalog tool's name.
        ToolDefinitionError: ``name`` is not a usable tool name, or a function of the
            catalog cannot become a tool.
        ToolNameConflict: two catalog tools share a name.
    """

    __slots__ = ("_always", "_catalog", "_limit", "_names", "_native", "_postings", "_tool")

    def __init__(
        self,
        tools: Registry | Iterable[Tool[..., Any] | Callable[..., Any]],
        *,
        always: Iterable[str] = (),
        limit: int = 5,
        name: str = "search_tools",
        native: bool = False,
    ) -> None:
        self._native = native
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"ToolSearch: limit must be from 1 to {MAX_LIMIT}, got {limit}")
        if isinstance(always, str):
            raise TypeError("ToolSearch: always must be a list of tool names, not one string")
        # A snapshot: its own registry finds a tool by a provider's spelling of the name too.
        self._catalog = Registry(list(tools))
        unknown = [n for n in always if n not in self._catalog]
        if unknown:
            listed = ", ".join(map(repr, unknown))
            raise ValueError(f"ToolSearch: always names tools not in the catalog: {listed}")
        self._always = tuple(dict.fromkeys(self._catalog[n].name for n in always))
        self._limit = limit
        self._names = self._catalog.names
        self._postings = _build_index([_document(t) for t in self._catalog])
        self._tool = self._make_tool(name)
        if name in self._catalog:
            raise ValueError(f"ToolSearch: the search tool's name {name!r} is a catalog tool's")

    @property
    def tool(self) -> Tool[..., Any]:
        """The search tool the model calls: ``search_tools(query, limit)``."""
        return self._tool

    @property
    def name(self) -> str:
        """The search tool's name."""
        return self._tool.name

    @property
    def native(self) -> bool:
        """Whether the provider's own tool search is used where its protocol has one."""
        return self._native

    @property
    def always(self) -> tuple[str, ...]:
        """The tools offered in every request, by registered name."""
        return self._always

    @property
    def limit(self) -> int:
        """How many tools a search returns unless told otherwise."""
        return self._limit

    def __repr__(self) -> str:
        return (
            f"<ToolSearch {self.name!r} over {len(self._names)} tools, always {list(self._always)}>"
        )

    def search(self, query: str, limit: int | None = None) -> list[ToolMatch]:
        """The catalog tools that best match ``query``, best first (at most ``limit``).

        Only the first ``MAX_QUERY_CHARS`` characters and ``MAX_QUERY_TERMS`` distinct words
        are read. Tools sharing no word with the query are never returned.

        Raises:
            ValueError: ``limit`` is below 1.
        """
        limit = self._limit if limit is None else limit
        if limit < 1:
            raise ValueError(f"ToolSearch.search: limit must be at least 1, got {limit}")
        terms = list(dict.fromkeys(_words(query[:MAX_QUERY_CHARS])))[:MAX_QUERY_TERMS]
        scores: dict[int, float] = {}
        for term in terms:
            for doc, weight in self._postings.get(term, ()):
                scores[doc] = scores.get(doc, 0.0) + weight
        best = heapq.nsmallest(limit, scores.items(), key=lambda item: (-item[1], item[0]))
        return [
            ToolMatch(
                name=self._names[doc],
                score=score,
                description=_first_line(self._catalog[self._names[doc]].description),
            )
            for doc, score in best
        ]

    def __call__(self, state: RunState) -> list[str]:
        """The names of the tools to offer in the next request (the ``select_tools``
        callback): the search tool, the ``always`` tools, then the tools found by earlier
        searches and those the model called, in the order they first appeared."""
        chosen: dict[str, None] = dict.fromkeys([self.name, *self._always])
        for found in _found_in_history(state.messages):
            self._offer(chosen, found)
        search_names = self._spellings()
        for step in state.steps:
            for call in step.reply.calls:
                self._offer(chosen, call.name)
            for result in step.results:
                if result.name in search_names and not result.is_error:
                    for found in _names_in_value(result.value):
                        self._offer(chosen, found)
        return list(chosen)

    def _offer(self, chosen: dict[str, None], name: object) -> None:
        """Add the catalog tool ``name`` (any provider's spelling) to ``chosen``."""
        if isinstance(name, str) and len(name) <= 256:
            found = self._catalog.get(name)
            if found is not None:
                chosen.setdefault(found.name, None)

    def _spellings(self) -> set[str]:
        """The search tool's name as each protocol spells it (results carry the model's)."""
        return {self.name} | {get_format(f).wire_name(self.name) for f in FORMATS}

    def _make_tool(self, name: str) -> Tool[..., Any]:
        search = self.search
        default = self._limit

        def search_tools(
            query: str, limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = default
        ) -> list[dict[str, str]] | str:
            """Search the available tools by what you want to do.

            Only a few tools are loaded at first; many more exist. Describe the task in a
            few plain words (for example "send an email", "list calendar events"), not a
            tool name you guess. The tools found can be called directly from your next
            step. If none fits, search again with other words.

            Args:
                query: What you want to do, in a few words.
                limit: How many tools to return at most.
            """
            matches = search(query, limit)
            if not matches:
                return _no_match(query)
            return [{"name": m.name, "description": m.description} for m in matches]

        return tool(
            search_tools,
            name=name,
            serializer=_result_text,
            annotations=ToolAnnotations(
                title="Search tools", read_only=True, idempotent=True, open_world=False
            ),
        )


def _build_index(documents: Sequence[list[str]]) -> dict[str, list[tuple[int, float]]]:
    """BM25 posting lists: word -> (document, its whole score for that word), in document
    order, so that a query only adds up numbers."""
    count = len(documents)
    average = sum(map(len, documents)) / count if count else 0.0
    norms = [_K1 * (1 - _B + _B * len(words) / average) if average else _K1 for words in documents]
    frequencies: dict[str, list[tuple[int, int]]] = {}
    for doc, words in enumerate(documents):
        for word, tf in Counter(words).items():
            frequencies.setdefault(word, []).append((doc, tf))
    postings: dict[str, list[tuple[int, float]]] = {}
    for word, entries in frequencies.items():
        df = len(entries)
        idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
        postings[word] = [(doc, idf * tf * (_K1 + 1) / (tf + norms[doc])) for doc, tf in entries]
    return postings


def _result_text(value: Any) -> str:
    """What the model reads: the no-match advice as it is, or the matches as JSON after the
    ``_FOUND`` line."""
    if isinstance(value, str):
        return value
    return _FOUND + json.dumps(value, ensure_ascii=False)


def _names_in_value(value: Any) -> Iterator[object]:
    """The names in a search result's value (a list of ``{"name", "description"}``), read
    defensively: a hook may have replaced it with anything."""
    if isinstance(value, list):
        for item in cast("list[Any]", value)[:MAX_LIMIT]:
            if isinstance(item, Mapping):
                yield cast("Mapping[str, Any]", item).get("name")


def _found_in_history(messages: Sequence[Any]) -> Iterator[object]:
    """The names in every search result text of a conversation's messages, in order.

    Messages are native (a protocol's dicts and lists, or SDK objects, skipped): any string
    that starts with the ``_FOUND`` line is read, wherever the protocol put it, so no codec
    is needed. At most ``_HISTORY_NODES`` values are visited, the newest messages first: in
    a history too long to read, the oldest searches are the ones left out.
    """
    newest_first: list[list[object]] = []
    budget = _HISTORY_NODES
    for message in reversed(messages):
        if budget <= 0:
            break
        names: list[object] = []
        stack: list[Any] = [message]
        while stack and budget > 0:
            node = stack.pop()
            budget -= 1
            if isinstance(node, str):
                names += _names_in_text(node)
            elif isinstance(node, Mapping):
                stack += reversed(list(cast("Mapping[Any, Any]", node).values()))
            elif isinstance(node, (list, tuple)):
                stack += reversed(cast("Sequence[Any]", node))
        newest_first.append(names)
    for names in reversed(newest_first):
        yield from names


def _names_in_text(text: str) -> list[object]:
    """The names in a search result's text, or none if it is not one (whole)."""
    if not text.startswith(_FOUND) or len(text) > _HISTORY_TEXT_CHARS:
        return []
    try:
        value = json.loads(text[len(_FOUND) :])
    except (ValueError, RecursionError):
        return []  # cut short (a registry's max_content_chars), or not ours
    return list(_names_in_value(value))
