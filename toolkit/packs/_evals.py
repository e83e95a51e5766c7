"""Scoring a pack's evaluation cases against a real model.

Each case sends its prompt once, with the pack's tools, and compares the calls of the first
reply with the expected ones: was each expected tool chosen, and did its arguments match.
The tools are never run (a case checks the model's choice, not the tools), so evaluating a
pack with destructive tools is safe.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from pydantic import BaseModel

from toolkit import _feedback
from toolkit.backends import model_for
from toolkit.calls import ToolCall
from toolkit.formats._parse import arguments_mapping
from toolkit.model import ModelRequest, SyncModel
from toolkit.packs._cases import EvalCase, Expect, argument_matches
from toolkit.packs._installed import load_pack
from toolkit.packs._pack import Pack, PackError, cause
from toolkit.registry import Registry

__all__ = ["CaseOutcome", "EvalReport", "run_evals"]


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """How the model did on one case.

    Attributes:
        case: The case.
        calls: The calls the model made (names as registered, with the namespace).
        tool_chosen: Every expected tool was called, and no tool when none was expected.
        arguments_matched: Each expected call has a call of its tool whose arguments match.
        problems: What went wrong, one line each (empty when the case passed).
        error: The request's failure, when the model could not be asked.
    """

    case: EvalCase
    calls: tuple[ToolCall, ...]
    tool_chosen: bool
    arguments_matched: bool
    problems: tuple[str, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        """The right tools, with matching arguments."""
        return self.tool_chosen and self.arguments_matched and self.error is None


@dataclass(frozen=True, slots=True)
class EvalReport:
    """A pack's cases against one model."""

    pack: str
    model: str | None
    outcomes: tuple[CaseOutcome, ...]

    @property
    def tool_accuracy(self) -> float:
        """The share of cases where the right tools were chosen."""
        return _share(sum(o.tool_chosen for o in self.outcomes), len(self.outcomes))

    @property
    def argument_accuracy(self) -> float:
        """The share of cases where the arguments matched too."""
        return _share(sum(o.passed for o in self.outcomes), len(self.outcomes))


def run_evals(
    pack: str | Pack,
    client: Any,
    *,
    model: str | None = None,
    config: Any = None,
    cases: Sequence[EvalCase] | None = None,
    settings: dict[str, Any] | None = None,
) -> EvalReport:
    """Ask the model each case's prompt with the pack's tools and score its first reply.

    Args:
        pack: An installed pack's name, or a ``Pack``.
        client: An ``openai``/``anthropic`` client or a sync backend (as for ``Runner``).
        model: The model name.
        config: The pack's configuration.
        cases: The cases (default: the pack's ``evals``).
        settings: Request settings (``temperature``, ``max_tokens``...).

    Raises:
        PackError: the pack cannot be loaded, or has no cases.
        TypeError: the client is async only.
    """
    loaded = load_pack(pack)
    chosen = list(loaded.evals if cases is None else cases)
    if not chosen:
        raise PackError(f"pack {loaded.name!r} has no evaluation cases (Pack(evals=[...]))")
    registry = Registry()
    registry.add_pack(loaded, config=cast("dict[str, Any] | BaseModel | None", config))
    backend = model_for(client, model)
    if not isinstance(backend, SyncModel):
        raise TypeError("run_evals needs a sync client (openai.OpenAI, anthropic.Anthropic)")
    codec = backend.codec
    tools = registry.definitions(codec.name)
    outcomes: list[CaseOutcome] = []
    for case in chosen:
        messages: list[Any] = []
        codec.append_messages(messages, codec.user_message(case.prompt))
        request = ModelRequest(
            model=model,
            messages=messages,
            system=case.system,
            tools=tools,
            settings=dict(settings or {}),
        )
        try:
            reply = backend.complete(request)
        except Exception as error:  # one failed request is that case's result, not the run's
            outcomes.append(CaseOutcome(case, (), False, False, error=cause(error)))
            continue
        outcomes.append(_score(case, reply.calls, registry))
    return EvalReport(loaded.name, model, tuple(outcomes))


def _score(case: EvalCase, calls: tuple[ToolCall, ...], registry: Registry) -> CaseOutcome:
    problems: list[str] = []
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for call in calls:
        found = registry.get(call.name)
        name = found.base_name if found is not None else call.name
        by_tool.setdefault(name, []).append(arguments_mapping(call.arguments))
    if not case.expect:
        chosen = not calls
        if calls:
            problems.append(f"expected no tool call, got {', '.join(c.name for c in calls)}")
        return CaseOutcome(case, calls, chosen, chosen, tuple(problems))
    chosen = True
    matched = True
    for expected in case.expect:
        made = by_tool.get(expected.tool)
        if not made:
            chosen = matched = False
            problems.append(f"{expected.tool} not called (called: {_names(calls) or 'nothing'})")
            continue
        if not any(_fits(expected, arguments) for arguments in made):
            matched = False
            problems.append(
                f"{expected.tool}: arguments {_shown(made[0])} do not match {_expected(expected)}"
            )
    return CaseOutcome(case, calls, chosen, matched, tuple(problems))


def _fits(expected: Expect, arguments: dict[str, Any]) -> bool:
    return all(
        name in arguments and argument_matches(value, arguments[name])
        for name, value in expected.arguments.items()
    )


def _names(calls: Sequence[ToolCall]) -> str:
    return ", ".join(call.name for call in calls)


def _shown(arguments: dict[str, Any]) -> str:
    return _feedback.clip(json.dumps(arguments, ensure_ascii=False, default=str), 200)


def _expected(expected: Expect) -> str:
    return "{" + ", ".join(f"{k}: {v!r}" for k, v in expected.arguments.items()) + "}"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0
