"""``Registry``: tools by name, and validated, concurrent execution of a model's calls.

``execute`` (sync) and ``execute_async`` drive one sans-I/O core, ``Registry._flow``: a
generator that validates every call first (failures become error results at once), asks for
the ``before_call`` and ``after_call`` hooks to be run, and asks for each group of valid
calls to be run. It yields two kinds of effect and receives their outcome:

- ``_Hook(hook, arguments)``: call a hook (awaiting it if it returns an awaitable);
- ``_Run(jobs)``: run these validated calls concurrently and send back one ``_Outcome`` each.

Both drivers answer ``_Run`` with the same coroutine, ``_run_group`` (tasks, a semaphore,
``asyncio.wait_for`` and the thread pool); the sync driver runs it on a background event
loop, except for a lone sync call without timeout, which runs inline in the caller's thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import difflib
import functools
import inspect
import json
import threading
import traceback
import types
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple, Union, cast

from pydantic import ValidationError
from pydantic_core import to_json

from toolkit.calls import ArgumentProblem, CallError, ErrorKind, ToolCall, ToolResult
from toolkit.context import Context
from toolkit.errors import ToolError, ToolNameConflict
from toolkit.formats import FORMATS, get_format
from toolkit.tool import Tool, tool

if TYPE_CHECKING:
    from collections.abc import Sequence

    from toolkit.formats import FormatName

__all__ = ["AfterCall", "BeforeCall", "Registry", "Veto"]


@dataclass(frozen=True, slots=True)
class Veto:
    """Returned by a ``before_call`` hook to refuse a call.

    Attributes:
        message: What the model is told, verbatim, as an error result of kind ``"vetoed"``.
    """

    message: str


BeforeCall = Callable[
    [ToolCall, Tool[..., Any], dict[str, Any]],
    Union["Veto | dict[str, Any] | None", Awaitable["Veto | dict[str, Any] | None"]],
]
"""``before_call(call, tool, arguments)``: ``None`` to go ahead, a ``Veto`` to refuse, or a
new arguments dict (validated again). May be async."""

AfterCall = Callable[
    [ToolCall, ToolResult], Union["ToolResult | None", Awaitable["ToolResult | None"]]
]
"""``after_call(call, result)``: ``None`` to keep the result, or a replacement. May be async."""

_DEFAULT_WORKERS = 64


@dataclass(frozen=True, slots=True)
class _Entry:
    """A registered tool and what dispatch needs from it, read once."""

    tool: Tool[..., Any]
    fn: Callable[..., Any]
    injects: bool
    is_async: bool
    validate_json: Callable[..., Any]  # the compiled validator, for the single-call fast path
    plain: bool  # sync and injects nothing: eligible for the fast path


@dataclass(slots=True)
class _Job:
    """One validated call, ready to run."""

    index: int
    call: ToolCall
    entry: _Entry
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    started: float
    timeout: float | None


class _TimedOut(Exception):
    """Stands for a call that did not finish in time (never raised)."""


_Outcome = tuple[Any, BaseException | None, float]
"""(value, exception or None, perf_counter() when the call ended)."""


class _Run(NamedTuple):
    jobs: list[_Job]


class _Hook(NamedTuple):
    hook: Callable[..., Any]
    arguments: tuple[Any, ...]


_Flow = Generator[_Run | _Hook, Any, "list[ToolResult]"]


class Registry:
    """Tools by name, and the execution of a model's calls into results for it.

    Execution never raises for anything a model sends: an unknown tool, broken JSON,
    invalid arguments, an exception in the tool or a timeout each become an error result
    whose ``content`` tells the model what to fix. Results come back in call order.

    Attributes:
        max_concurrency: At most this many calls run at once (``None``: no bound).
        executor: Runs sync tools when calls run concurrently (default: a shared thread
            pool of 64 threads). Any ``concurrent.futures.Executor``; with a process pool
            the tool functions and their arguments must be picklable.
        timeout: Seconds to wait for each call, unless the tool sets its own ``timeout``.
        max_content_chars: Longer result contents are cut, with a note saying so.
        strict_validation: Validate arguments in pydantic's strict mode (no ``"3"`` for 3).
        include_tracebacks: Add the traceback to the content of a tool's exception.
        before_call: The hook run before each valid call (see ``BeforeCall``).
        after_call: The hook run on each result (see ``AfterCall``).
    """

    __slots__ = (
        "_entries",
        "_wire",
        "after_call",
        "before_call",
        "executor",
        "include_tracebacks",
        "max_concurrency",
        "max_content_chars",
        "strict_validation",
        "timeout",
    )

    def __init__(
        self,
        tools: Iterable[Tool[..., Any] | Callable[..., Any]] = (),
        *,
        max_concurrency: int | None = None,
        executor: concurrent.futures.Executor | None = None,
        timeout: float | None = None,
        max_content_chars: int = 20_000,
        strict_validation: bool = False,
        include_tracebacks: bool = False,
        before_call: BeforeCall | None = None,
        after_call: AfterCall | None = None,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if max_content_chars < 1:
            raise ValueError(f"max_content_chars must be at least 1, got {max_content_chars}")
        self._entries: dict[str, _Entry] = {}
        self._wire: dict[str, dict[str, tuple[str, ...]]] = {}
        self.max_concurrency = max_concurrency
        self.executor = executor
        self.timeout = timeout
        self.max_content_chars = max_content_chars
        self.strict_validation = strict_validation
        self.include_tracebacks = include_tracebacks
        self.before_call = before_call
        self.after_call = after_call
        for item in tools:
            self.add(item)

    # -- tools by name ---------------------------------------------------------------------

    def add(
        self,
        tool_or_function: Tool[..., Any] | Callable[..., Any],
        *,
        replace: bool = False,
        prefix_name: str | None = None,
    ) -> Tool[..., Any]:
        """Register a tool (a plain function is wrapped with ``@tool`` first) and return it.

        Args:
            tool_or_function: A ``Tool``, or a callable to wrap with default options.
            replace: Replace a tool already registered under the same name.
            prefix_name: Register as ``"{prefix_name}_{name}"`` (the tool's definitions
                carry that name too).

        Raises:
            ToolNameConflict: the name is taken and ``replace`` is false.
            ToolDefinitionError: the function cannot become a tool.
        """
        item = _as_tool(tool_or_function, prefix_name, None)
        self._insert([item], replace=replace)
        return item

    def add_object(
        self, obj: object, *, prefix_name: str | None = None, description: str | None = None
    ) -> list[Tool[..., Any]]:
        """Register every public method of ``obj`` (not starting with ``_``) as a tool.

        Methods already decorated with ``@tool`` in the class body keep their options.
        Nothing is registered if any name conflicts.

        Args:
            obj: The instance whose bound methods become tools, in definition order.
            prefix_name: Register each as ``"{prefix_name}_{name}"``.
            description: A description of the group, put before each tool's description.

        Raises:
            ToolNameConflict: a name is taken.
            ToolDefinitionError: a method cannot become a tool.
        """
        items = [
            _as_tool(getattr(obj, name), prefix_name, description) for name in _public_methods(obj)
        ]
        self._insert(items, replace=False)
        return items

    def remove(self, name: str) -> Tool[..., Any]:
        """Unregister the tool named ``name`` and return it.

        Raises:
            KeyError: no tool has that name.
        """
        entry = self._entries.pop(name)
        self._wire.clear()
        return entry.tool

    def get(self, name: str) -> Tool[..., Any] | None:
        """The tool called ``name``, or ``None``. A provider's spelling of the name (its
        wire name, e.g. ``math_factorial`` for ``math.factorial``) finds the tool too."""
        entry = self._lookup(name)
        return None if entry is None else entry.tool

    def __getitem__(self, name: str) -> Tool[..., Any]:
        entry = self._lookup(name)
        if entry is None:
            raise KeyError(name)
        return entry.tool

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def __iter__(self) -> Iterator[Tool[..., Any]]:
        return iter([entry.tool for entry in self._entries.values()])

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<Registry of {len(self._entries)} tools: {', '.join(self._entries)}>"

    @property
    def names(self) -> list[str]:
        """The registered tool names, in the order they were added."""
        return list(self._entries)

    def definitions(
        self, format: FormatName = "openai", *, strict: bool | None = None
    ) -> list[dict[str, Any]]:
        """Every tool's definition in ``format``, in the order they were added.

        Args:
            format: A name from ``toolkit.FORMATS``.
            strict: Render in strict mode (default: each tool's own ``strict``).

        Raises:
            ToolNameConflict: two tool names become the same wire name in this format.
            ToolDefinitionError: a schema cannot be expressed in this format.
        """
        clashes = [
            (wire, names) for wire, names in self._wire_map(format).items() if len(names) > 1
        ]
        if clashes:
            listed = "; ".join(
                f"{' and '.join(repr(n) for n in names)} all become {wire!r}"
                for wire, names in clashes
            )
            raise ToolNameConflict(
                f"tool names collide in the {format} format: {listed}."
                " Rename one (@tool(name=...) or add(..., prefix_name=...))."
            )
        return [entry.tool.definition(format, strict=strict) for entry in self._entries.values()]

    def parse_calls(self, reply: Any, format: FormatName = "openai") -> list[ToolCall]:
        """The tool calls in a model's reply in ``format`` (see ``Codec.parse_calls``)."""
        return get_format(format).parse_calls(reply)

    def result_messages(
        self, results: Sequence[ToolResult], format: FormatName = "openai"
    ) -> list[dict[str, Any]]:
        """The messages answering ``results`` in ``format`` (see ``Codec.result_messages``)."""
        return get_format(format).result_messages(results)

    def _insert(self, items: list[Tool[..., Any]], *, replace: bool) -> None:
        names = [item.name for item in items]
        taken = [n for n in names if n in self._entries] if not replace else []
        taken += [n for i, n in enumerate(names) if n in names[:i]]
        if taken:
            raise ToolNameConflict(
                f"a tool named {taken[0]!r} is already registered;"
                " pass replace=True to replace it or prefix_name=... to keep both"
            )
        for item in items:
            schema = item._schema  # pyright: ignore[reportPrivateUsage]
            fn = item._fn  # pyright: ignore[reportPrivateUsage]
            injects = bool(schema.injections)
            self._entries[item.name] = _Entry(
                item,
                fn,
                injects,
                item.is_async,
                schema.validator.validate_json,
                not injects and not item.is_async,
            )
        self._wire.clear()

    def _lookup(self, name: str) -> _Entry | None:
        entry = self._entries.get(name)
        if entry is None:
            for format in FORMATS:
                names = self._wire_map(format).get(name)
                if names is not None and len(names) == 1:
                    return self._entries[names[0]]
        return entry

    def _wire_map(self, format: str) -> dict[str, tuple[str, ...]]:
        """Wire name in ``format`` -> the registered names spelled that way (built lazily)."""
        found = self._wire.get(format)
        if found is None:
            codec = get_format(format)
            built: dict[str, tuple[str, ...]] = {}
            for name in self._entries:
                wire = codec.wire_name(name)
                built[wire] = (*built.get(wire, ()), name)
            self._wire[format] = found = built
        return found

    # -- execution -------------------------------------------------------------------------

    def execute(self, calls: Iterable[ToolCall], *, context: Any = None) -> list[ToolResult]:
        """Run a model's calls and return one result per call, in call order.

        A single sync call without a timeout runs inline in this thread. Several calls run
        concurrently: sync tools in ``executor`` (or the shared thread pool), async tools on
        toolkit's background event loop. Tools marked ``sequential`` run alone, in order.
        Async hooks are run on the background loop too.

        Args:
            calls: The calls, as ``parse_calls`` returns them.
            context: Passed to tools that declare a ``Context`` parameter, as its ``deps``
                (a ``Context`` given here is used as the template instead).

        Raises:
            RuntimeError: called from an async tool running on the background loop (use
                ``execute_async`` there).
        """
        calls = cast("list[ToolCall]", calls) if type(calls) is list else list(calls)
        if len(calls) == 1 and self.before_call is None and self.after_call is None:
            # The common case, without the generator's overhead: same steps as ``_flow``.
            if self.executor is None and self.timeout is None and not self.strict_validation:
                fast = self._fast_path(calls[0])
                if fast is not None:
                    return [fast]
            prepared = self._prepare(0, calls[0], context)
            if isinstance(prepared, ToolResult):
                return [prepared]
            if self._inline(prepared):
                return [self._finish(prepared, _call_inline(prepared))]
        flow = self._flow(calls, context)
        reply: Any = None
        while True:
            try:
                effect = flow.send(reply)
            except StopIteration as stop:
                return stop.value
            if isinstance(effect, _Run):
                jobs = effect.jobs
                if len(jobs) == 1 and self._inline(jobs[0]):
                    reply = [_call_inline(jobs[0])]
                else:
                    reply = _on_background_loop(self._run_group(jobs))
            else:
                reply = effect.hook(*effect.arguments)
                if inspect.isawaitable(reply):
                    reply = _on_background_loop(reply)

    async def execute_async(
        self, calls: Iterable[ToolCall], *, context: Any = None
    ) -> list[ToolResult]:
        """Run a model's calls concurrently and return one result per call, in call order.

        Async tools run as tasks of the running loop; sync tools always run in ``executor``
        (or the shared thread pool), so the loop is never blocked. Cancelling this
        coroutine cancels the running async tools, never starts the calls still waiting
        (behind ``max_concurrency`` or a ``sequential`` tool) and raises
        ``CancelledError``; sync tools already running in threads finish on their own.
        """
        flow = self._flow(list(calls), context)
        reply: Any = None
        while True:
            try:
                effect = flow.send(reply)
            except StopIteration as stop:
                return stop.value
            if isinstance(effect, _Run):
                reply = await self._run_group(effect.jobs)
            else:
                reply = effect.hook(*effect.arguments)
                if inspect.isawaitable(reply):
                    reply = await reply

    def _fast_path(self, call: ToolCall) -> ToolResult | None:
        """One valid call of a plain sync tool, with the fewest steps; ``None`` means take the
        general path (anything unusual, and every failure, goes there, so the error results
        are written in one place). Same steps as ``_prepare`` + ``_call_inline`` + ``_finish``;
        the caller has checked the registry-wide options (no executor, timeout, hooks or
        strict validation).
        """
        entry = self._entries.get(call.name)
        arguments = call.arguments
        if (
            entry is None
            or not entry.plain
            or type(arguments) is not str
            or arguments[:1] != "{"
            or entry.tool.timeout is not None
            or entry.tool.serializer is not None
        ):
            return None
        started = perf_counter()
        try:
            # Tool.validate minus what was just checked (a JSON object, not an array).
            args, kwargs = entry.validate_json(arguments)
        except ValidationError:
            return None  # re-validated on the general path, which reports it
        try:
            value = entry.fn(*args, **kwargs)
        except Exception as error:  # the general path would call the tool a second time
            job = _Job(0, call, entry, args, kwargs, started, None)
            return self._finish(job, (None, error, perf_counter()))
        ended = perf_counter()
        if type(value) is str:
            content = value
        elif type(value) is int:
            content = str(value)  # what JSON says too, without the encoder's round trip
        else:
            try:
                content = _serialised(value, None)
            except Exception:
                job = _Job(0, call, entry, args, kwargs, started, None)
                return self._finish(job, (value, None, ended))
        if len(content) > self.max_content_chars:
            content = self._clipped(content)
        return ToolResult(
            call_id=call.id, name=call.name, value=value, content=content, duration=ended - started
        )

    def _flow(self, calls: list[ToolCall], context: Any) -> _Flow:
        """The sans-I/O core: validate everything, run the valid calls group by group."""
        results: list[ToolResult | None] = [None] * len(calls)
        jobs: list[_Job] = []
        for index, call in enumerate(calls):
            prepared = self._prepare(index, call, context)
            if isinstance(prepared, _Job) and self.before_call is not None:
                arguments = _decoded(call.arguments)
                verdict = yield _Hook(self.before_call, (call, prepared.entry.tool, arguments))
                prepared = self._apply(prepared, verdict, context)
            if isinstance(prepared, _Job):
                jobs.append(prepared)
            else:
                results[index] = prepared
        for group in _groups(jobs):
            outcomes: list[_Outcome] = yield _Run(group)
            for job, outcome in zip(group, outcomes, strict=True):
                results[job.index] = self._finish(job, outcome)
        done = [result for result in results if result is not None]
        if self.after_call is not None:
            for index, call in enumerate(calls):
                replaced = yield _Hook(self.after_call, (call, done[index]))
                if replaced is not None:
                    if not isinstance(replaced, ToolResult):
                        raise TypeError(
                            f"after_call must return a ToolResult or None, got {replaced!r}"
                        )
                    done[index] = replaced
        return done

    def _prepare(self, index: int, call: ToolCall, context: Any) -> _Job | ToolResult:
        """Find the tool and validate the call: a job to run, or the error result."""
        started = perf_counter()
        entry = self._lookup(call.name)
        if entry is None:
            return self._failure(call, started, "unknown_tool", self._unknown(call.name))
        return self._validated(index, call, entry, call.arguments, context=context, started=started)

    def _validated(
        self,
        index: int,
        call: ToolCall,
        entry: _Entry,
        arguments: object,
        *,
        context: Any,
        started: float,
    ) -> _Job | ToolResult:
        """Validate one call's arguments and bind the injected ones."""
        if arguments is None or (
            isinstance(arguments, str) and (not arguments or arguments.isspace())
        ):
            arguments = {}
        elif not isinstance(arguments, (str, Mapping)):
            problem = ArgumentProblem((), "Input should be a JSON object", arguments)
            return self._bad_arguments(call, started, (problem,))
        tool_ = entry.tool
        try:
            validated = tool_.validate(arguments, strict=self.strict_validation)  # pyright: ignore[reportUnknownArgumentType]
        except ValidationError as error:
            return self._invalid(call, started, arguments, error)  # pyright: ignore[reportUnknownArgumentType]
        except RecursionError:
            problem = ArgumentProblem((), "Input is nested too deeply")
            return self._bad_arguments(call, started, (problem,))
        if entry.injects:
            if isinstance(context, Context):
                ctx = dataclasses.replace(context, tool_name=tool_.name, call_id=call.id)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
            else:
                ctx = Context(deps=context, tool_name=tool_.name, call_id=call.id)
            validated = tool_._bind(validated, ctx)  # pyright: ignore[reportPrivateUsage, reportUnknownArgumentType]
        timeout = self.timeout if tool_.timeout is None else tool_.timeout
        return _Job(index, call, entry, validated[0], validated[1], started, timeout)

    def _apply(self, job: _Job, verdict: object, context: Any) -> _Job | ToolResult:
        """Apply ``before_call``'s answer to a validated call."""
        if verdict is None:
            return job
        if isinstance(verdict, Veto):
            return self._failure(job.call, job.started, "vetoed", verdict.message)
        if isinstance(verdict, dict):
            return self._validated(
                job.index,
                job.call,
                job.entry,
                cast("dict[str, Any]", verdict),
                context=context,
                started=job.started,
            )
        raise TypeError(f"before_call must return None, a Veto or a dict, got {verdict!r}")

    def _finish(self, job: _Job, outcome: _Outcome) -> ToolResult:
        """Turn what a call returned or raised into its result."""
        value, error, ended = outcome
        call, tool_ = job.call, job.entry.tool
        if error is None:
            if type(value) is str and tool_.serializer is None:  # the hot path, inlined
                content = value
            else:
                try:
                    content = _serialised(value, tool_.serializer)
                except Exception as exc:
                    message = (
                        f"Tool {call.name} returned a value that cannot be sent: {_described(exc)}"
                    )
                    return self._failure(call, job.started, "exception", message, exception=exc)
            if len(content) > self.max_content_chars:
                content = self._clipped(content)
            return ToolResult(
                call_id=call.id,
                name=call.name,
                value=value,
                content=content,
                duration=ended - job.started,
            )
        if isinstance(error, _TimedOut):
            return self._failure(
                call,
                job.started,
                "timeout",
                f"Tool {call.name} did not finish within {float(job.timeout or 0)} s.",
            )
        if isinstance(error, ToolError):
            return self._failure(call, job.started, "tool_error", error.message, exception=error)
        if isinstance(error, asyncio.CancelledError):
            return self._failure(
                call, job.started, "cancelled", f"Tool {call.name} was cancelled.", exception=error
            )
        content = f"Tool {call.name} failed: {_described(error)}"
        if self.include_tracebacks:
            content += "\n" + "".join(
                traceback.format_exception(type(error), error, error.__traceback__)
            )
        return self._failure(call, job.started, "exception", content, exception=error)

    def _failure(
        self,
        call: ToolCall,
        started: float,
        kind: ErrorKind,
        content: str,
        *,
        problems: tuple[ArgumentProblem, ...] = (),
        exception: BaseException | None = None,
    ) -> ToolResult:
        error = CallError(
            kind=kind, message=content.partition("\n")[0], problems=problems, exception=exception
        )
        return ToolResult(
            call_id=call.id,
            name=call.name,
            value=None,
            content=self._clipped(content),
            is_error=True,
            error=error,
            duration=perf_counter() - started,
        )

    def _invalid(
        self,
        call: ToolCall,
        started: float,
        arguments: str | Mapping[str, Any],
        error: ValidationError,
    ) -> ToolResult:
        details = error.errors(include_url=False)
        broken = next((d for d in details if d["type"] == "json_invalid"), None)
        if broken is not None:
            detail = str(broken.get("ctx", {}).get("error", broken["msg"]))
            text = arguments if isinstance(arguments, str) else repr(arguments)
            return self._failure(
                call, started, "invalid_json", _invalid_json(call.name, text, detail)
            )
        return self._bad_arguments(call, started, tuple(_problem(d) for d in details))

    def _bad_arguments(
        self, call: ToolCall, started: float, problems: tuple[ArgumentProblem, ...]
    ) -> ToolResult:
        content = _invalid_arguments(call.name, problems)
        return self._failure(call, started, "invalid_arguments", content, problems=problems)

    def _unknown(self, name: str) -> str:
        text = f"Unknown tool {_clip(name, 100)!r}."
        names = list(self._entries)
        if not names:
            return text + " No tools are available."
        close = difflib.get_close_matches(name[:100], names, n=1)
        if close:
            text += f" Did you mean {close[0]!r}?"
        return text + f" Available tools: {', '.join(names)}."

    def _clipped(self, content: str) -> str:
        limit = self.max_content_chars
        if len(content) <= limit:
            return content
        note = f"[truncated: {len(content)} characters, showing the first {limit}]"
        return f"{content[:limit]}...\n{note}"

    # -- running groups of calls ---------------------------------------------------------------

    def _inline(self, job: _Job) -> bool:
        """Whether the sync driver runs this lone call in the caller's thread."""
        return job.timeout is None and self.executor is None and not job.entry.is_async

    async def _run_group(self, jobs: list[_Job]) -> list[_Outcome]:
        """Run a group's calls concurrently (the one execution path of both drivers)."""
        limit = asyncio.Semaphore(self.max_concurrency) if self.max_concurrency else None
        if len(jobs) == 1:
            return [await self._run_job(jobs[0], limit)]
        outcomes = await asyncio.gather(
            *(
                self._attempt(job)  # the common case, one coroutine per call
                if limit is None and job.timeout is None
                else self._run_job(job, limit)
                for job in jobs
            ),
            return_exceptions=True,
        )
        # What comes back as an exception is a tool's own CancelledError (or worse).
        return [(None, o, perf_counter()) if isinstance(o, BaseException) else o for o in outcomes]

    async def _run_job(self, job: _Job, limit: asyncio.Semaphore | None) -> _Outcome:
        if limit is None:
            return await self._attempt_in_time(job)
        async with limit:
            return await self._attempt_in_time(job)

    async def _attempt_in_time(self, job: _Job) -> _Outcome:
        if job.timeout is None:
            return await self._attempt(job)
        try:
            return await asyncio.wait_for(self._attempt(job), job.timeout)
        except asyncio.TimeoutError:  # _attempt never raises it: the deadline passed
            return (None, _TimedOut(), perf_counter())

    async def _attempt(self, job: _Job) -> _Outcome:
        fn = job.entry.fn
        try:
            if job.entry.is_async:
                value = await fn(*job.args, **job.kwargs)
            else:
                loop = asyncio.get_running_loop()
                bound = functools.partial(fn, *job.args, **job.kwargs)
                value = await loop.run_in_executor(self.executor or _thread_pool(), bound)
        except Exception as error:
            return (None, error, perf_counter())
        return (value, None, perf_counter())


# -- helpers -----------------------------------------------------------------------------------


def _as_tool(
    item: Tool[..., Any] | Callable[..., Any], prefix: str | None, description: str | None
) -> Tool[..., Any]:
    """``item`` as a ``Tool``, its name prefixed and its description led by ``description``."""
    found = cast("Tool[..., Any]", item) if isinstance(item, Tool) else tool(item)
    if prefix is None and description is None:
        return found
    clone = found._clone()  # pyright: ignore[reportPrivateUsage]
    clone._definitions = {}  # pyright: ignore[reportPrivateUsage]
    if prefix is not None:
        clone.name = f"{prefix}_{found.name}"
    if description is not None:
        clone.description = (
            f"{description}\n\n{found.description}" if found.description else description
        )
    return clone


def _public_methods(obj: object) -> list[str]:
    """Names of the public methods of ``obj``'s class and bases, in definition order."""
    names: dict[str, None] = {}
    for cls in reversed(type(obj).__mro__[:-1]):  # without ``object``
        for name, value in vars(cls).items():
            if not name.startswith("_") and isinstance(
                value, (types.FunctionType, Tool, classmethod, staticmethod)
            ):
                names[name] = None
    return list(names)


def _groups(jobs: list[_Job]) -> list[list[_Job]]:
    """Maximal runs of parallel calls; each ``sequential`` call alone."""
    groups: list[list[_Job]] = []
    run: list[_Job] = []
    for job in jobs:
        if job.entry.tool.sequential:
            if run:
                groups.append(run)
                run = []
            groups.append([job])
        else:
            run.append(job)
    if run:
        groups.append(run)
    return groups


def _decoded(arguments: object) -> dict[str, Any]:
    """The arguments as a dict, for ``before_call`` (they have validated already)."""
    if isinstance(arguments, str):
        if not arguments or arguments.isspace():
            return {}
        decoded = json.loads(arguments)
        return decoded if isinstance(decoded, dict) else {}  # pyright: ignore[reportUnknownVariableType]
    return dict(arguments) if isinstance(arguments, Mapping) else {}  # pyright: ignore[reportUnknownArgumentType]


def _serialised(value: Any, serializer: Callable[[Any], str] | None) -> str:
    """The text the model receives for a return value."""
    if serializer is not None:
        return serializer(value)
    if isinstance(value, str):
        return value
    return to_json(value, fallback=str).decode()


def _described(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _problem(detail: Any) -> ArgumentProblem:
    """One pydantic error detail as an ``ArgumentProblem`` (no input for a missing value)."""
    if detail["type"] == "arguments_type":
        return ArgumentProblem(
            tuple(detail["loc"]), "Input should be a JSON object", detail["input"]
        )
    if detail["type"].startswith("missing"):
        return ArgumentProblem(tuple(detail["loc"]), detail["msg"])
    return ArgumentProblem(tuple(detail["loc"]), detail["msg"], detail["input"])


def _location(location: tuple[str | int, ...]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "arguments"


def _invalid_arguments(name: str, problems: Iterable[ArgumentProblem]) -> str:
    lines = [f"Invalid arguments for {name}:"]
    for problem in problems:
        line = f"- {_location(problem.location)}: {problem.message}"
        shown = problem.input is not None or (
            problem.location and not problem.message.startswith("Missing")
        )
        if shown:
            line += f" (got {_clip(repr(problem.input), 100)})"
        lines.append(line)
    lines.append(f"Fix the arguments and call {name} again.")
    return "\n".join(lines)


def _invalid_json(name: str, arguments: str, detail: str) -> str:
    preview = _clip(arguments, 200)
    return (
        f"The arguments for {name} are not valid JSON: {detail}.\n"
        f"Received ({len(arguments)} characters): {preview}\n"
        f"Send the arguments as one JSON object and call {name} again."
    )


# -- the shared thread pool and background event loop --------------------------------------------

_lock = threading.Lock()


@functools.cache
def _start_pool() -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(_DEFAULT_WORKERS, thread_name_prefix="toolkit")


@functools.cache
def _start_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="toolkit-loop", daemon=True)
    thread.start()
    return loop, thread


def _thread_pool() -> concurrent.futures.ThreadPoolExecutor:
    """The thread pool shared by every registry without its own executor (made on first use)."""
    with _lock:
        return _start_pool()


def _on_background_loop(awaitable: Awaitable[Any]) -> Any:
    """Run a coroutine on toolkit's background event loop and wait for its value."""
    with _lock:
        loop, thread = _start_loop()
    if threading.current_thread() is thread:
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        raise RuntimeError(
            "Registry.execute() was called from an async tool; use 'await execute_async()'"
        )
    future = asyncio.run_coroutine_threadsafe(_awaited(awaitable), loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()  # e.g. KeyboardInterrupt: cancel the calls still running
        raise


def _call_inline(job: _Job) -> _Outcome:
    """Call a sync tool in this thread."""
    try:
        value = job.entry.fn(*job.args, **job.kwargs)
    except Exception as error:
        return (None, error, perf_counter())
    return (value, None, perf_counter())


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
