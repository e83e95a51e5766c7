"""Split a function's docstring into a description, per-parameter notes and a return note.

Google, NumPy, reST (Sphinx) and Epydoc docstrings are understood. The style is taken from
the first section marker in the text (a few regexes), and ``docstring_parser`` then parses the
sections with that explicit style: its auto-detection runs every parser and keeps the richest
result, which costs two to three times as much. A docstring without any section marker never
reaches ``docstring_parser`` at all.

``description`` is the prose of the docstring: the summary and body paragraphs, with every
section taken out. Parameter, return, raise and yield sections go because they are reported
separately or concern Python callers only. Examples, Notes, Warnings, See Also and the like go
too: a tool description tells a model what the tool does, and doctests or caveats written for
programmers cost tokens without helping it choose or call the tool. reST directives such as
``.. note::`` are prose to this module and stay.

A Google, reST or Epydoc section ends at the first unindented line that does not start another
section, so prose written after the sections is kept. A NumPy section runs to the next section
header, as numpydoc defines it, so nothing after the first NumPy header is prose.

``returns`` is the description of what the function returns; ``Yields`` sections do not count.
A docstring whose sections ``docstring_parser`` rejects keeps its description, with no
parameters and no return note.
"""

from __future__ import annotations

import functools
import inspect
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from docstring_parser import Docstring

__all__ = ["ParsedDocstring", "parse_docstring"]

_Style = Literal["google", "numpy", "rest", "epydoc"]


@dataclass(frozen=True, slots=True)
class ParsedDocstring:
    """The parts of a docstring that a tool definition needs.

    Attributes:
        description: Summary and body paragraphs without any section, paragraphs separated
            by one blank line; ``""`` when there are none.
        params: Parameter name (without ``*``/``**``) to its description on one line, type
            annotations removed; ``""`` for a parameter documented without a description.
        returns: Description of the return value, or ``None`` when it is not documented.
        style: The detected docstring style, or ``None`` when the docstring has no sections.
    """

    description: str
    params: dict[str, str]
    returns: str | None
    style: Literal["google", "numpy", "rest", "epydoc"] | None


_SECTION_TITLES = (
    "Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters"
    "|Returns|Return|Yields|Yield|Raises|Raise|Exceptions|Warns|Attributes"
    "|Examples|Example|Notes|Note|Warnings|Warning|See Also|References|Todo"
)

# How a section starts in each style, as seen at the start of a line after inspect.cleandoc.
_HEADER_PATTERNS: dict[_Style, str] = {
    "google": rf"(?:{_SECTION_TITLES})[ \t]*:[ \t]*$",
    "numpy": rf"(?P<title>{_SECTION_TITLES})[ \t]*\n-{{3,}}[ \t]*$",
    # The colon must end the field name, so that roles like :class:`Foo` stay prose.
    "rest": r":[a-z]+[^:\n]*:(?!\S)",
    "epydoc": r"@[a-z]+[^:\n]*:(?!\S)",
}
_HEADERS = {style: re.compile(pattern, re.M) for style, pattern in _HEADER_PATTERNS.items()}
# Finds the first header of any style in one pass over "\n" + text. A leading literal newline
# lets the regex engine skip from line to line, where ^ is retried at every character: this
# is several times faster than one search per style.
_ANY_HEADER = re.compile(
    "\n(?:" + "|".join(f"(?P<{s}>{p})" for s, p in _HEADER_PATTERNS.items()) + ")", re.M
)


# The Epydoc parser turns `@param *args:` and `@returns:` into anonymous metadata.
_EPYDOC_STARRED_PARAM = re.compile(r"^(@(?:param|type|keyword)[ \t]+)[\\*]+", re.M)
_EPYDOC_RETURNS = re.compile(r"^@returns:", re.M)

# Attributes (class docstrings) and NumPy's Receives are parsed as parameters but are not
# call arguments. "type" is here because the Epydoc parser files a parameter under its
# `@type` line when that line comes before `@param`.
_PARAM_KEYS = frozenset(
    {"param", "parameter", "arg", "argument", "key", "keyword", "other_param", "type"}
)


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Parse a docstring written in Google, NumPy, reST or Epydoc style.

    Args:
        doc: The raw docstring, as found in ``__doc__``; ``None`` is treated as empty.

    Returns:
        The description, documented parameters and return note. Parsing never raises:
        sections that cannot be parsed are left out of the result.
    """
    cached = _parse_cached(doc or "")
    # Every caller of one docstring gets the same cached object; copy its one mutable part so
    # that a caller editing ``params`` cannot change what later callers see.
    return ParsedDocstring(cached.description, dict(cached.params), cached.returns, cached.style)


def _parse(doc: str) -> ParsedDocstring:
    text = inspect.cleandoc(doc.replace("\r\n", "\n").replace("\r", "\n"))
    first = _ANY_HEADER.search("\n" + text)
    if first is None:
        return ParsedDocstring(_tidy(text.split("\n")), {}, None, None)

    style: _Style = next(s for s in _HEADER_PATTERNS if first[s] is not None)
    # The match starts at the newline put in front of the text, so at the header in ``text``.
    prose, sections = _split(text, style, first.start())
    description = _tidy(prose)
    parsed = _parse_sections(sections, style)
    if parsed is None:
        return ParsedDocstring(description, {}, None, style)

    params: dict[str, str] = {}
    for param in parsed.params:
        if param.args[0] in _PARAM_KEYS:
            # NumPy documents several parameters in one entry: `x, y : int`.
            for name in param.arg_name.split(","):
                params[name.strip().lstrip("\\*")] = _one_line(param.description)
    returns = " ".join(_one_line(r.description) for r in parsed.many_returns if not r.is_generator)
    return ParsedDocstring(description, params, returns.strip() or None, style)


_parse_cached = functools.lru_cache(maxsize=1024)(_parse)


def _parse_sections(sections: str, style: _Style) -> Docstring | None:
    """docstring_parser's reading of the sections text, or ``None`` if it rejects it.

    docstring_parser is imported here, on the first docstring with sections, to keep
    ``import toolkit`` cheap.
    """
    import docstring_parser  # noqa: PLC0415 - deferred on purpose

    try:
        if style == "google":
            return _google_parser().parse(sections)
        styles = {
            "numpy": docstring_parser.DocstringStyle.NUMPYDOC,
            "rest": docstring_parser.DocstringStyle.REST,
            "epydoc": docstring_parser.DocstringStyle.EPYDOC,
        }
        return docstring_parser.parse(sections, styles[style])
    except docstring_parser.ParseError:
        return None


@functools.cache
def _google_parser() -> Any:
    """docstring_parser's Google parser, taught the titles it ignores by default (it would
    drop their entries): Keyword Args, Keyword Arguments, Other Parameters, Return."""
    from docstring_parser.google import (  # noqa: PLC0415 - deferred on purpose
        DEFAULT_SECTIONS,
        GoogleParser,
        Section,
        SectionType,
    )

    return GoogleParser(
        sections=[
            *DEFAULT_SECTIONS,
            Section("Keyword Args", "param", SectionType.MULTIPLE),
            Section("Keyword Arguments", "param", SectionType.MULTIPLE),
            Section("Other Parameters", "param", SectionType.MULTIPLE),
            Section("Return", "returns", SectionType.SINGULAR_OR_MULTIPLE),
        ]
    )


def _split(text: str, style: _Style, first_header: int) -> tuple[list[str], str]:
    """Split cleaned ``text`` into its prose lines and the sections text for docstring_parser.

    The sections text starts with a newline: docstring_parser runs ``inspect.cleandoc`` again,
    which ignores the first line when measuring indentation, so a lone section starting on
    the first line would lose its entries' indentation.
    """
    header = _HEADERS[style]
    if style == "numpy":
        # docstring_parser only recognises an underline exactly as long as its title.
        sections = header.sub(
            lambda m: f"{m['title']}\n{'-' * len(m['title'])}", text[first_header:]
        )
        return text[:first_header].split("\n"), "\n" + sections

    prose = text[:first_header].split("\n")
    body: list[str] = [""]
    lines = text[first_header:].split("\n")
    in_section = reindent = False
    for i, line in enumerate(lines):
        if header.match(line):
            following = lines[i + 1] if i + 1 < len(lines) else ""
            # Google entries at column 0 are what cleandoc leaves when `Args:` is the first
            # line of a docstring (the first line's indentation is not counted); indent them
            # again so that they still read as the section's body.
            reindent = style == "google" and following != "" and not following[0].isspace()
            in_section = True
            body.append(line)
        elif in_section and (reindent or not line or line[0].isspace()):
            body.append(f"    {line}" if reindent and line else line)
        else:
            if in_section:
                prose.append("")
            in_section = False
            prose.append(line)

    sections = "\n".join(body)
    if style == "epydoc":
        sections = _EPYDOC_STARRED_PARAM.sub(r"\1", sections)
        sections = _EPYDOC_RETURNS.sub("@return:", sections)
    return prose, sections


def _tidy(lines: list[str]) -> str:
    """Join prose lines, dropping trailing spaces and collapsing runs of blank lines."""
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def _one_line(text: str | None) -> str:
    return " ".join(text.split()) if text else ""
