"""``Limits``: when a run must stop even though the model would go on. Defaults live here."""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["Limits"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """When a run stops or refuses, even though the model would go on.

    Every run is bounded by default: in model requests, in tool calls (per reply and per
    run) and in time per tool call. Pass ``Limits(...)`` to ``Runner(limits=...)``, or to
    ``run(..., limits=...)`` for one run.

    Attributes:
        max_steps: Model requests in one run (never unlimited).
        max_tool_calls: Tool calls run in one run; the calls past it are refused with a
            message to the model and the run ends (``None``: no limit).
        max_calls_per_reply: Calls run from one reply; the excess is refused with a message
            to the model (a model, or a reply full of ``<tool_call>`` text, cannot make a
            run execute thousands of calls at once).
        max_repeats: How often the same tool may run with the same arguments; the next
            repeat is refused with a message to the model, and one more ends the run.
        max_retries: Failed calls of one tool that the model may try again, per run: a
            call whose arguments fail validation, or whose tool raises ``toolkit.Retry``,
            uses one; the failure past it ends the run (``stop_reason == "max_retries"``).
        deadline: Seconds the run may take, enforced while a request or a tool is still
            running (``None``: no limit).
        token_budget: Input plus output tokens in one run, checked before each request
            (``None``: no limit).
        tool_timeout: Seconds a tool call may take when neither the tool nor the registry
            sets a timeout; the call is answered with a timeout error (``None``: wait).
    """

    max_steps: int = 10
    max_tool_calls: int | None = 256
    max_calls_per_reply: int = 64
    max_repeats: int = 3
    max_retries: int = 3
    deadline: float | None = None
    token_budget: int | None = None
    tool_timeout: float | None = 60.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None and field.name in _OPTIONAL:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Limits.{field.name} must be a number, got {value!r}")
            least = 0 if field.name in ("max_repeats", "max_tool_calls", "max_retries") else 1
            if field.name in ("deadline", "tool_timeout"):
                if not value > 0:
                    raise ValueError(f"Limits.{field.name} must be positive, got {value!r}")
            elif not isinstance(value, int) or value < least:
                raise ValueError(
                    f"Limits.{field.name} must be a whole number of at least {least}, got {value!r}"
                )


_OPTIONAL = frozenset({"max_tool_calls", "deadline", "token_budget", "tool_timeout"})
