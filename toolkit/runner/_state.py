"""What a run produces and what a pause persists, with their JSON next to the fields.

``RunResult`` is what a run returns. ``Progress`` (what a run has done so far) and ``Paused``
(a step stopped for approval) are the loop's own; ``PendingApproval`` is their public,
serialisable form. Saved JSON is treated as hostile: ``from_json`` validates it completely
(a pydantic model of the format) and raises one ``StateError`` naming what is wrong, so a
corrupted or edited state can never resume into a broken history.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from typing_extensions import TypeVar

from toolkit import _feedback
from toolkit.calls import CallError, ErrorKind, ToolCall, ToolResult
from toolkit.errors import RunStopped, StateError
from toolkit.formats import ConversationFormat
from toolkit.media import File, Image
from toolkit.model import ModelReply, ReplyStop, Step, StopReason, ToolChoice, Usage

__all__ = [
    "Approve",
    "Decision",
    "Deny",
    "OutputT",
    "Paused",
    "PendingApproval",
    "Progress",
    "RunResult",
    "RunState",
    "explain",
    "load_state",
]


OutputT = TypeVar("OutputT", default=str)
"""The type of a run's answer (``Runner(output_type=...)``; text by default)."""


@dataclass(frozen=True, slots=True)
class Approve:
    """Run the call, with ``arguments`` instead of the model's when given."""

    arguments: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Deny:
    """Do not run the call; the model receives ``message`` as the call's error result."""

    message: str = field(default_factory=_feedback.denied)


Decision = Approve | Deny
"""What to do with a call that needs approval (``True`` and ``False`` mean the same as
``Approve()`` and ``Deny()`` where a decision is asked for)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunState:
    """What a run has done so far, as a ``select_tools`` callback sees it before a request.

    Attributes:
        messages: The conversation so far (native format; read it, do not change it).
        steps: This run's finished steps, in order (each reply with its calls' results).
        usage: Tokens used by this run's requests so far.
        context: The runner's ``context`` (what tools receive as ``Context.deps``).
    """

    messages: Sequence[Any]
    steps: Sequence[Step]
    usage: Usage
    context: Any = None

    @property
    def results(self) -> list[ToolResult]:
        """Every tool result of this run so far, in order."""
        return [result for step in self.steps for result in step.results]

    @property
    def succeeded(self) -> set[str]:
        """The names of the tools that have returned a value (not an error) in this run."""
        return {r.name for step in self.steps for r in step.results if not r.is_error}


@dataclass(slots=True)
class Progress:
    """What a run has done so far (kept across an approval pause)."""

    started: float
    steps: list[Step] = field(default_factory=list[Step])
    usage: Usage = field(default_factory=Usage)
    tool_choice: ToolChoice = "auto"
    calls_made: int = 0
    seen: dict[str, int] = field(default_factory=dict[str, int])
    retries: dict[str, int] = field(default_factory=dict[str, int])  # failed calls per tool
    exhausted: tuple[str, int] | None = None  # the tool past its retry budget, and the budget
    text: str = ""
    earlier_steps: int = 0  # steps taken before an approval pause, in the paused run

    @property
    def step_count(self) -> int:
        return len(self.steps) + self.earlier_steps


@dataclass(slots=True, kw_only=True)
class Paused:
    """A step stopped for approval: its calls, what is already answered, what waits."""

    reply: ModelReply
    results: list[ToolResult | None]
    awaiting: list[int]
    progress: Progress
    first_new: int


@dataclass(slots=True, kw_only=True)
class RunResult(Generic[OutputT]):
    """What a run produced.

    Attributes:
        output: The answer: with ``Runner(output_type=T)``, the model's final answer
            validated as a ``T``; without, its text. ``None`` when the run ended without
            an answer (a limit, a refusal, a pause...; ``explanation`` says which).
        text: What the model last said: its answer, or, in a run that stopped before one,
            the text of its last reply that had any (``""`` if none had).
        messages: The whole conversation, in the provider's native format.
        new_messages: The messages of this run: the prompt's (a text prompt is one user
            message; a list of messages counts whole) and everything the run added. Earlier
            turns passed as ``history=`` are not in it.
        steps: Each model reply with the results of its calls.
        usage: Tokens over all requests of the run.
        stop_reason: Why the run ended (``"end"``: the model answered).
        pending: The calls waiting for a decision when ``stop_reason ==
            "approval_required"`` (``Runner.resume`` continues from it), else ``None``.
        explanation: Why the run ended, in one sentence for people (the limit and its
            value, the provider's verdict...).
    """

    text: str
    messages: list[Any]
    new_messages: list[Any]
    output: OutputT | None = None
    steps: list[Step] = field(default_factory=list[Step])
    usage: Usage = field(default_factory=Usage)
    stop_reason: StopReason = "end"
    pending: PendingApproval | None = None
    explanation: str = "The model answered."

    def raise_for_stop(self) -> RunResult[OutputT]:
        """This result, if the model answered or the run paused for approval; else raise.

        ```python
        answer = runner.run("...").raise_for_stop().text
        ```

        Raises:
            RunStopped: the run ended for any other reason (a limit, a timeout, a refusal,
                a cut-off reply...); it carries this result and says why.
        """
        if self.stop_reason in ("end", "approval_required"):
            return self
        raise RunStopped(self)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """Every tool call the model made in the run, in order."""
        return [call for step in self.steps for call in step.reply.calls]

    @property
    def tool_results(self) -> list[ToolResult]:
        """Every tool result the model received in the run, in order."""
        return [result for step in self.steps for result in step.results]


MALFORMED_CALLS = "(malformed call)"
"""The retry budget's key for replies whose call the provider could not parse."""


def explain(reason: StopReason, limits: Any, exhausted: tuple[str, int] | None = None) -> str:
    """One sentence saying why a run ended (``limits`` is the run's ``Limits``;
    ``exhausted``, the tool whose retry budget ran out, and that budget)."""
    if reason == "max_retries" and exhausted is not None:
        name, budget = exhausted
        if name == MALFORMED_CALLS:
            return (
                "Stopped because the model's function calls kept arriving malformed past "
                f"the retry budget of {budget} (Limits.max_retries)."
            )
        return (
            f"Stopped because calls of {name!r} kept failing past its retry budget of "
            f"{budget} (Limits.max_retries, or the tool's own max_retries)."
        )
    sentences: dict[str, str] = {
        "end": "The model answered.",
        "max_steps": f"Stopped after {limits.max_steps} model requests (Limits.max_steps).",
        "max_tool_calls": f"Stopped at {limits.max_tool_calls} tool calls (Limits.max_tool_calls).",
        "deadline": f"Stopped at the run's deadline of {limits.deadline} s (Limits.deadline).",
        "token_budget": (
            f"Stopped at the token budget of {limits.token_budget} (Limits.token_budget)."
        ),
        "no_progress": (
            "Stopped because the model kept repeating the same call "
            f"(more than {limits.max_repeats} times; Limits.max_repeats)."
        ),
        "refusal": "The model refused to answer.",
        "content_filter": "The provider withheld the reply (content filter).",
        "length": "The reply was cut off by the output token limit (max_tokens).",
        "approval_required": "Paused: calls wait for approval (RunResult.pending).",
        "timeout": "A model request ran out of time (the timeout setting) and was cancelled.",
        "max_retries": (
            "Stopped because a tool's calls kept failing past its retry budget "
            "(Limits.max_retries, or the tool's own max_retries)."
        ),
        "error": "The run failed.",
    }
    return sentences.get(reason, f"Stopped: {reason}.")


# -- the JSON of a pause ------------------------------------------------------------------------

_STATE_VERSION = 1
_Count = Annotated[int, Field(ge=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _CallState(_Strict):
    id: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    arguments: str | dict[str, Any] | None

    def call(self) -> ToolCall:
        return ToolCall(id=self.id, name=self.name, arguments=self.arguments)


class _MediaState(_Strict):
    """An image or file of a result: its bytes as a ``data:`` URL, or its link; made into
    an ``Image`` or ``File`` when loaded, so that every check (type, size, base64) holds."""

    kind: Literal["image", "file"]
    url: str
    media_type: str
    filename: str | None = None

    def media(self) -> Image | File:
        if self.kind == "image":
            return Image(url=self.url, media_type=self.media_type)
        return File(url=self.url, media_type=self.media_type, filename=self.filename)

    @model_validator(mode="after")
    def _valid(self) -> _MediaState:
        self.media()  # a ValueError or TypeError here is a ValidationError of the state
        return self


class _ResultState(_Strict):
    call_id: str
    name: str
    content: str
    is_error: bool
    kind: ErrorKind | None = None
    parts: list[str | _MediaState] = Field(default_factory=list[str | _MediaState])


class _ReplyState(_Strict):
    message: Any
    text: str
    calls: Annotated[list[_CallState], Field(min_length=1)]
    stop: ReplyStop


class _ProgressState(_Strict):
    steps: _Count
    usage: tuple[_Count, _Count]
    tool_choice: str
    calls_made: _Count
    seen: dict[str, _Count]
    text: str
    retries: dict[str, _Count] = Field(default_factory=dict[str, int])


class _PendingState(_Strict):
    version: Literal[1]
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    format: ConversationFormat
    messages: list[dict[str, Any]]
    first_new: _Count
    reply: _ReplyState
    results: list[_ResultState | None]
    awaiting: Annotated[list[_Count], Field(min_length=1)]
    progress: _ProgressState

    @model_validator(mode="after")
    def _consistent(self) -> _PendingState:
        calls = self.reply.calls
        ids = [call.id for call in calls]
        if len(set(ids)) != len(ids):
            raise ValueError("reply.calls: two calls share an id")
        if len(self.results) != len(calls):
            raise ValueError(f"results: expected one entry per call ({len(calls)})")
        if len(set(self.awaiting)) != len(self.awaiting):
            raise ValueError("awaiting: a call is listed twice")
        for index in self.awaiting:
            if index >= len(calls):
                raise ValueError(f"awaiting: {index} is not the index of a call")
            if self.results[index] is not None:
                raise ValueError(f"awaiting: call {index} already has a result")
        for index, result in enumerate(self.results):
            if result is None and index not in self.awaiting:
                raise ValueError(f"results: call {index} has no result and is not awaiting")
            if result is not None and result.call_id != ids[index]:
                raise ValueError(
                    f"results[{index}]: answers {result.call_id!r}, not {ids[index]!r}"
                )
        if self.first_new > len(self.messages):
            raise ValueError("first_new: past the end of messages")
        return self


def load_state(model: type[BaseModel], text: str | bytes, what: str) -> Any:
    """``text`` validated as ``model``, or ``StateError`` naming the first problems."""
    try:
        return model.model_validate_json(text)
    except ValidationError as error:
        problems: list[str] = []
        for detail in error.errors(include_url=False)[:5]:
            where = ".".join(str(part) for part in detail["loc"]) or "the top level"
            problems.append(f"{_feedback.clip(where, 100)}: {detail['msg']}")
        more = error.error_count() - len(problems)
        listed = "; ".join(problems) + (f"; and {more} more" if more > 0 else "")
        raise StateError(f"{what} cannot be loaded: {listed}") from None
    except RecursionError:
        raise StateError(f"{what} cannot be loaded: it is nested too deeply") from None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class PendingApproval:
    """A run paused for approval, ready to be saved and resumed (once).

    Attributes:
        id: This pause's own id: ``Runner.resume`` accepts each pause once (per store, or
            per process without one), so an approved call never runs twice.
        format: The protocol of ``messages``.
        calls: The calls waiting for a decision, in order.
        messages: The conversation at the pause (native format).
    """

    id: str
    format: ConversationFormat
    calls: tuple[ToolCall, ...]
    messages: list[Any]
    _state: _PendingState = field(repr=False)

    @classmethod
    def of(cls, format: ConversationFormat, messages: list[Any], paused: Paused) -> PendingApproval:
        """Capture a paused step under a new id."""
        reply, progress = paused.reply, paused.progress
        state = _PendingState(
            version=_STATE_VERSION,
            id=uuid.uuid4().hex,
            format=format,
            messages=messages,
            first_new=paused.first_new,
            reply=_ReplyState(
                message=reply.message,
                text=reply.text,
                calls=[_call_state(c) for c in reply.calls],
                stop=reply.stop,
            ),
            results=[None if r is None else _result_state(r) for r in paused.results],
            awaiting=list(paused.awaiting),
            progress=_ProgressState(
                steps=progress.step_count,
                usage=(progress.usage.input_tokens, progress.usage.output_tokens),
                tool_choice=progress.tool_choice,
                calls_made=progress.calls_made,
                seen=dict(progress.seen),
                text=progress.text,
                retries=dict(progress.retries),
            ),
        )
        return cls._from_state(state)

    @classmethod
    def _from_state(cls, state: _PendingState) -> PendingApproval:
        calls = [c.call() for c in state.reply.calls]
        return cls(
            id=state.id,
            format=state.format,
            calls=tuple(calls[i] for i in state.awaiting),
            messages=state.messages,
            _state=state,
        )

    def to_json(self) -> str:
        """The pause as JSON (tool return values are kept as the text the model got)."""
        return self._state.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> PendingApproval:
        """Restore what ``to_json`` wrote.

        Raises:
            StateError: ``text`` is not a pause toolkit wrote (the message names the field
                and the problem: a call both answered and awaiting, a missing result...).
        """
        state: _PendingState = load_state(_PendingState, text, "this pending approval")
        return cls._from_state(state)

    def restore(self, clock_now: float) -> Paused:
        """The paused step, as the loop continues it (the deadline restarts now)."""
        state = self._state
        calls = tuple(c.call() for c in state.reply.calls)
        reply = ModelReply(
            message=state.reply.message,
            text=state.reply.text,
            calls=calls,
            stop=state.reply.stop,
        )
        saved = state.progress
        progress = Progress(
            started=clock_now,
            usage=Usage(*saved.usage),
            tool_choice=saved.tool_choice,
            calls_made=saved.calls_made,
            seen=dict(saved.seen),
            retries=dict(saved.retries),
            text=saved.text,
            earlier_steps=saved.steps,
        )
        results = [None if r is None else _result_from(r) for r in state.results]
        return Paused(
            reply=reply,
            results=results,
            awaiting=list(state.awaiting),
            progress=progress,
            first_new=state.first_new,
        )


def _call_state(call: ToolCall) -> _CallState:
    arguments = call.arguments
    if arguments is not None and not isinstance(arguments, str):
        arguments = dict(arguments)
    return _CallState(id=call.id, name=call.name, arguments=arguments)


def _result_state(result: ToolResult) -> _ResultState:
    parts = [
        part
        if isinstance(part, str)
        else _MediaState(
            kind="image" if isinstance(part, Image) else "file",
            url=part.data_url() if part.inline else cast(str, part.url),
            media_type=part.media_type,
            filename=part.filename if isinstance(part, File) else None,
        )
        for part in result.parts
    ]
    return _ResultState(
        call_id=result.call_id,
        name=result.name,
        content=result.content,
        is_error=result.is_error,
        kind=result.error.kind if result.error else None,
        parts=parts,
    )


def _result_from(state: _ResultState) -> ToolResult:
    error = CallError(kind=state.kind, message=state.content) if state.kind else None
    return ToolResult(
        call_id=state.call_id,
        name=state.name,
        value=None,
        content=state.content,
        is_error=state.is_error,
        error=error,
        parts=tuple(p if isinstance(p, str) else p.media() for p in state.parts),
    )


# -- each pause resumes once -------------------------------------------------------------------

_CLAIMS_KEPT = 100_000  # pauses remembered per process (the oldest are forgotten past this)
_claims_lock = threading.Lock()
_claims: OrderedDict[str, None] = OrderedDict()


def claim_in_process(pause_id: str) -> bool:
    """Mark a pause as resumed in this process; ``False`` if it already was."""
    with _claims_lock:
        if pause_id in _claims:
            return False
        _claims[pause_id] = None
        if len(_claims) > _CLAIMS_KEPT:
            _claims.popitem(last=False)
        return True
