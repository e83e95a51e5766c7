"""Evaluation cases a pack ships: a prompt, and the calls a good model makes for it.

Expected arguments are plain values (equal after JSON normalisation; numbers compare as
numbers, so ``3`` matches ``3.0``) or matchers: ``approx``, ``matches``, ``one_of``,
``anything``, or any ``Matcher`` subclass.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EvalCase", "Expect", "Matcher", "anything", "approx", "matches", "one_of"]


class Matcher:
    """An expected argument that accepts more than one value. Subclasses define
    ``accepts(value)`` and a ``repr`` that says what they accept."""

    def accepts(self, value: Any) -> bool:  # pragma: no cover - every matcher overrides it
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Approx(Matcher):
    expected: float
    rel: float
    abs: float

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return math.isclose(value, self.expected, rel_tol=self.rel, abs_tol=self.abs)

    def __repr__(self) -> str:
        return f"approx({self.expected!r})"


@dataclass(frozen=True, slots=True)
class _Matches(Matcher):
    pattern: re.Pattern[str]

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str) and self.pattern.fullmatch(value[:10_000]) is not None

    def __repr__(self) -> str:
        return f"matches({self.pattern.pattern!r})"


@dataclass(frozen=True, slots=True)
class _OneOf(Matcher):
    options: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return any(argument_matches(option, value) for option in self.options)

    def __repr__(self) -> str:
        return f"one_of({', '.join(repr(o) for o in self.options)})"


@dataclass(frozen=True, slots=True)
class _Anything(Matcher):
    def accepts(self, value: Any) -> bool:
        return True

    def __repr__(self) -> str:
        return "anything()"


def approx(expected: float, *, rel: float = 1e-6, abs: float = 1e-9) -> Matcher:
    """A number within ``rel`` (relative) or ``abs`` (absolute) of ``expected``."""
    return _Approx(expected, rel, abs)


def matches(pattern: str, *, ignore_case: bool = True) -> Matcher:
    """A string the regular expression ``pattern`` matches whole (case-insensitive by
    default: models vary the case of words)."""
    return _Matches(re.compile(pattern, re.IGNORECASE if ignore_case else 0))


def one_of(*options: Any) -> Matcher:
    """Any of ``options`` (each a value or a matcher)."""
    return _OneOf(options)


def anything() -> Matcher:
    """Any value, as long as the argument is present."""
    return _Anything()


@dataclass(frozen=True, slots=True)
class Expect:
    """One call a good model makes.

    Attributes:
        tool: The tool's name in the pack (without the pack's namespace).
        arguments: The arguments that must be present, each a value or a ``Matcher``;
            arguments not listed may be anything.
    """

    tool: str
    arguments: Mapping[str, Any] = field(default_factory=dict[str, Any])


@dataclass(frozen=True, slots=True)
class EvalCase:
    """A prompt and the calls a good model makes in its first reply (in any order).

    Attributes:
        prompt: What the user asks.
        expect: The calls that must appear; an empty list means no tool should be called.
        name: A short name for reports (default: the prompt's start).
        system: A system prompt for this case.
    """

    prompt: str
    expect: Sequence[Expect] = ()
    name: str = ""
    system: str | None = None

    @property
    def title(self) -> str:
        """``name``, or the prompt cut to 40 characters."""
        if self.name:
            return self.name
        return self.prompt if len(self.prompt) <= 40 else f"{self.prompt[:39]}…"


def argument_matches(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` (decoded JSON) is what ``expected`` (a value or matcher) says."""
    if isinstance(expected, Matcher):
        return expected.accepts(actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual if isinstance(expected, bool) else False
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    if isinstance(expected, Mapping):
        return (
            isinstance(actual, Mapping)
            and set(expected) <= set(actual)  # pyright: ignore[reportUnknownArgumentType]
            and all(argument_matches(v, actual[k]) for k, v in expected.items())  # pyright: ignore[reportUnknownVariableType]
        )
    if isinstance(expected, (list, tuple)):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)  # pyright: ignore[reportUnknownArgumentType]
            and all(argument_matches(e, a) for e, a in zip(expected, actual, strict=False))  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
        )
    return bool(expected == actual)
