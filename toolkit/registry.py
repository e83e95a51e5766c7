"""``Registry``: tools by name, and validated, concurrent execution of a model's calls.

``execute`` (sync) and ``execute_async`` drive one sans-I/O core, ``Registry._flow``: a
generator that validates every call first (failures become error results at once), asks for
the ``before_call`` and ``after_call`` hooks to be run, and asks for each group of valid
calls to be run. The rules live once: ``_prepare`` checks a call, ``_finish`` turns its
outcome into a result, and the single-call shortcut of ``execute`` is those two steps without
the generator. Texts for the model come from ``toolkit._feedback``; threads and the
background loop from ``toolkit._execution``. The flow yields two kinds of effect:

- ``_Hook(hook, arguments)``: call a hook (awaiting it if it returns an awaitable);
- ``_Run(jobs)``: run these validated calls concurrently and send back one ``_Outcome`` each.

Both drivers answer ``_Run`` with the same coroutine, ``_run_group`` (tasks, a semaphore,
``asyncio.wait_for`` and the thread pool); the sync driver runs it on the background event
loop, except for a lone sync call without timeout, which runs inline in the caller's thread.
An ``executor`` that is not a thread pool (other processes: a process pool, a Dask cluster)
gets each call as the tool's bare function and its arguments, to pickle
(``_call_elsewhere``, ``_attempt_elsewhere``); the ``execute_tool`` span stays here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import difflib
import functools
import importlib
import inspect
import itertools
import os
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, NamedTuple, Union, cast

from pydantic import ValidationError
from pydantic_core import to_json

from toolkit import _feedback, _tracing
from toolkit._execution import GrowingThreadPool, run_on_loop, thread_pool
from toolkit.calls import ArgumentProblem, CallError, ErrorKind, ToolCall, ToolResult
from toolkit.context import Context, Secrets
from toolkit.errors import Retry, ToolDefinitionError, ToolError, ToolNameConflict
from toolkit.formats import FORMATS, get_format
from toolkit.formats._parse import arguments_mapping
from toolkit.media import File, Image, Part, describe
from toolkit.packs._installed import load_pack, packs_from_environment, report
from toolkit.packs._pack import Pack, PackError, PackWarning
from toolkit.schema import namespaced
from toolkit.tool import Tool, public_methods, tool

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pydantic import BaseModel

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

_CLOSE_NAME_CANDIDATES = 64  # an unknown name is compared with at most this many names


@dataclass(frozen=True, slots=True)
class _Entry:
    """A registered tool and what dispatch reads from it, read once (public surface only)."""

    tool: Tool[..., Any]
    function: Callable[..., Any]
    validate: Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]
    validate_json: Callable[[str], tuple[tuple[Any, ...], dict[str, Any]]]
    is_async: bool
    takes_context: bool
    timeout: float | None
    serializer: Callable[[Any], object] | None  # a text, or images and files (see _serialised)
    sequential: bool
    secrets: tuple[str, ...]


_Checked = tuple[_Entry, tuple[Any, ...], dict[str, Any], float, "float | None"]
"""A call that passed every check, ready to run: (entry, args, kwargs, started, timeout).
A plain tuple, since one is made per call: it costs a tenth of a dataclass instance."""


@dataclass(slots=True)
class _Job:
    """A checked call of a batch, with its place in the batch."""

    index: int
    call: ToolCall
    checked: _Checked

    @property
    def entry(self) -> _Entry:
        return self.checked[0]

    @property
    def timeout(self) -> float | None:
        return self.checked[4]


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

    Execution never raises for anything a model sends or a tool does: an unknown tool,
    broken JSON, invalid arguments, an exception in the tool (whatever its ``__str__``
    does), an unsendable return value or a timeout each become an error result whose
    ``content`` tells the model what to fix. Results come back in call order. Only what
    stops the program (``KeyboardInterrupt``, ``SystemExit``) is raised, once the calls
    running beside it have finished.

    Attributes:
        max_concurrency: At most this many calls run at once (``None``: no bound).
        executor: Runs sync tools when they do not run inline (default: a shared pool that
            starts a thread whenever none is idle, so calls that timed out never starve
            others). Any ``concurrent.futures.Executor``. One that is not a thread pool (a
            ``ProcessPoolExecutor``, a Dask client's ``get_executor(pure=False)``) runs the
            calls in other processes: it gets each tool's function and arguments to pickle
            (no context variables), while validation, timeouts, tracing spans and async
            tools stay in this process.
        timeout: Seconds to wait for each call, unless the tool sets its own ``timeout``.
        max_content_chars: Longer result contents are cut, with a note saying so.
        strict_validation: Validate arguments in pydantic's strict mode (no ``"3"`` for 3).
        include_tracebacks: Add the traceback to the content of a tool's exception.
        redact_errors: Hide what looks like a secret (keys, tokens, passwords, environment
            values) in the text of a tool's exception before the model reads it; a
            ``ToolError``'s message is sent as written.
        before_call: The hook run before each valid call (see ``BeforeCall``).
        after_call: The hook run on each result (see ``AfterCall``).
        secrets: Where the secrets tools declare are read, by name, at each call (``None``:
            the environment). Their values are handed to the tool in ``Context.secrets``
            and removed from every result the model reads.
    """

    __slots__ = (
        "_entries",
        "_origins",
        "_prefixes",
        "_wire",
        "after_call",
        "before_call",
        "executor",
        "include_tracebacks",
        "max_concurrency",
        "max_content_chars",
        "redact_errors",
        "secrets",
        "strict_validation",
        "timeout",
    )

    def __init__(
        self,
        tools: Iterable[Tool[..., Any] | Callable[..., Any]] | Tool[..., Any] = (),
        *,
        max_concurrency: int | None = None,
        executor: concurrent.futures.Executor | None = None,
        timeout: float | None = None,
        max_content_chars: int = 20_000,
        strict_validation: bool = False,
        include_tracebacks: bool = False,
        redact_errors: bool = True,
        before_call: BeforeCall | None = None,
        after_call: AfterCall | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        if max_content_chars < 1:
            raise ValueError(f"max_content_chars must be at least 1, got {max_content_chars}")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        self._entries: dict[str, _Entry] = {}
        self._origins: dict[str, str] = {}  # tool name -> the pack it came from
        self._wire: dict[str, dict[str, tuple[str, ...]]] = {}
        self._prefixes: dict[str, list[str]] | None = None  # for unknown names, built lazily
        self.max_concurrency = max_concurrency
        self.executor = executor
        self.timeout = timeout
        self.max_content_chars = max_content_chars
        self.strict_validation = strict_validation
        self.include_tracebacks = include_tracebacks
        self.redact_errors = redact_errors
        self.before_call = before_call
        self.after_call = after_call
        self.secrets = secrets
        for item in [tools] if isinstance(tools, Tool) else tools:
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
        items = [_as_tool(method, prefix_name, description) for method in public_methods(obj)]
        self._insert(items, replace=False)
        return items

    def add_pack(
        self,
        pack: str | Pack,
        *,
        config: Mapping[str, Any] | BaseModel | None = None,
        namespace: str | bool = True,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] = (),
        include_tags: Iterable[str] | None = None,
        exclude_tags: Iterable[str] = (),
    ) -> list[Tool[..., Any]]:
        """Register the tools of a pack: an installed one by name (imported now), or a
        ``Pack`` object. Nothing is registered if anything fails.

        Args:
            pack: The installed pack's name, or a ``Pack``.
            config: The pack's configuration (validated by its model).
            namespace: ``True``: name the tools ``"{pack}_{tool}"``; a string: that
                namespace instead; ``False``: the tools' own names.
            include: Keep only these tools (base or namespaced names).
            exclude: Drop these tools.
            include_tags: Keep only the tools with one of these tags.
            exclude_tags: Drop the tools with any of these tags.

        A secret the pack's tools need and nobody set is reported now, as a
        ``PackWarning`` naming the pack and the variable; calls of those tools get an error
        result until it is set.

        Raises:
            PackError: the pack is not installed, fails to load or build, a filter names
                no tool of it, or one of its names is taken (naming both packs and the fix).
        """
        loaded = load_pack(pack)
        selected = loaded.select(
            include=include, exclude=exclude, include_tags=include_tags, exclude_tags=exclude_tags
        )
        chosen = loaded.name if namespace is True else (namespace or None)
        tools: list[Tool[..., Any]] = []
        for item in selected.build(config):
            inner = item.namespace
            outer = chosen if inner is None or chosen is None else namespaced(chosen, inner)
            try:
                tools.append(item if outer is None else item.with_options(namespace=outer))
            except ToolDefinitionError as error:
                raise PackError(f"pack {loaded.name!r}: {error}") from None
        taken = next((t.name for t in tools if t.name in self._entries), None)
        if taken is not None:
            owner = self._origins.get(taken)
            holder = f"pack {owner!r}" if owner is not None else "a tool added directly"
            raise PackError(
                f"pack {loaded.name!r}: its tool {taken!r} has the name of one from {holder};"
                f" load it with namespace='...' (another prefix) or exclude=[{taken!r}]"
            )
        self._insert(tools, replace=False)
        for item in tools:
            self._origins[item.name] = loaded.name
        needed = dict.fromkeys(name for item in tools for name in item.secrets)
        missing = self.secret_values(needed)[1]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            listed = ", ".join(missing)
            warnings.warn(
                f"pack {loaded.name!r} needs the secret{plural} {listed}: set the environment"
                f" variable{plural} {listed} (its tools answer with an error until then)",
                PackWarning,
                stacklevel=2,
            )
        return tools

    def add_packs(
        self,
        names: Iterable[str] | None = None,
        *,
        configs: Mapping[str, Mapping[str, Any] | BaseModel] | None = None,
    ) -> dict[str, list[Tool[..., Any]] | PackError]:
        """Register several installed packs, each as ``add_pack`` would, going on past a
        failure: each is reported once as a ``PackWarning`` (or raised, with
        ``TOOLKIT_PACKS_STRICT=1``). Being installed is not consent: only the packs named
        here, or in ``TOOLKIT_PACKS`` when ``names`` is ``None``, are loaded.

        Returns:
            Each pack's tools, or the error that kept it out, by pack name.

        Raises:
            PackError: a pack failed and ``TOOLKIT_PACKS_STRICT`` is set.
        """
        wanted = packs_from_environment() if names is None else list(dict.fromkeys(names))
        outcomes: dict[str, list[Tool[..., Any]] | PackError] = {}
        for name in wanted:
            try:
                outcomes[name] = self.add_pack(name, config=(configs or {}).get(name))
            except PackError as error:
                outcomes[name] = error
                report(name, error)
        return outcomes

    def origin(self, name: str) -> str | None:
        """The pack the tool ``name`` was loaded from, or ``None``."""
        entry = self._lookup(name)
        return None if entry is None else self._origins.get(entry.tool.name)

    def remove(self, name: str) -> Tool[..., Any]:
        """Unregister the tool named ``name`` and return it.

        Raises:
            KeyError: no tool has that name.
        """
        entry = self._entries.pop(name)
        self._origins.pop(name, None)
        self._wire.clear()
        self._prefixes = None
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
        shown = ", ".join(itertools.islice(self._entries, _feedback.MAX_TOOLS_LISTED))
        more = len(self._entries) - _feedback.MAX_TOOLS_LISTED
        return f"<Registry of {len(self)} tools: {shown}{f' and {more} more' if more > 0 else ''}>"

    @property
    def names(self) -> list[str]:
        """The registered tool names, in the order they were added."""
        return list(self._entries)

    def definitions(
        self, format: FormatName = "openai", *, strict: bool | None = None
    ) -> list[dict[str, Any]]:
        """Every tool's definition in ``format``, in the order they were added, as sent in
        one request (the format's per-request limits are checked).

        Args:
            format: A name from ``toolkit.FORMATS``.
            strict: Render in strict mode (default: each tool's own ``strict``).

        Raises:
            ToolNameConflict: two tool names become the same wire name in this format.
            ToolDefinitionError: a schema cannot be expressed in this format, or the tools
                together break one of its limits.
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
                " Rename one (tool.with_options(name=...) or add(..., prefix_name=...))."
            )
        tools = [entry.tool for entry in self._entries.values()]
        return get_format(format).render_tools(tools, strict=strict)

    def parse_calls(self, reply: Any, format: FormatName = "openai") -> list[ToolCall]:
        """The tool calls in a model's reply in ``format`` (see ``ToolCodec.parse_calls``)."""
        return get_format(format).parse_calls(reply)

    def result_messages(
        self, results: Sequence[ToolResult], format: FormatName = "openai"
    ) -> list[dict[str, Any]]:
        """The messages answering ``results`` in ``format`` (see
        ``ToolCodec.result_messages``)."""
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
            self._origins.pop(item.name, None)
            self._entries[item.name] = _Entry(
                tool=item,
                function=item.function,
                validate=item.validate,
                validate_json=item.validator.validate_json,
                is_async=item.is_async,
                takes_context=item.takes_context,
                timeout=item.timeout,
                serializer=item.serializer,
                sequential=item.sequential,
                secrets=item.secrets,
            )
        self._wire.clear()
        self._prefixes = None

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

    def execute(
        self,
        calls: Iterable[ToolCall],
        *,
        context: Any = None,
        default_timeout: float | None = None,
        deadline: float | None = None,
    ) -> list[ToolResult]:
        """Run a model's calls and return one result per call, in call order.

        A single sync call without a timeout runs inline in this thread. Several calls run
        concurrently: sync tools in ``executor`` (or the shared thread pool), async tools on
        toolkit's background event loop. Tools marked ``sequential`` run alone, in order.
        Async hooks are run on the background loop too.

        Args:
            calls: The calls, as ``parse_calls`` returns them.
            context: Passed to tools that declare a ``Context`` parameter, as its ``deps``
                (a ``Context`` given here is used as the template instead).
            default_timeout: Seconds for calls whose tool and registry set no timeout.
            deadline: Seconds from now after which every call still running is answered
                with a timeout (on top of each call's own timeout).

        Raises:
            KeyboardInterrupt, SystemExit: raised by a tool, once the calls running beside
                it have finished (the other results are lost with the batch).
            RuntimeError: called from an async tool running on the background loop (use
                ``execute_async`` there).
        """
        batch = calls if isinstance(calls, list) else list(calls)
        if len(batch) == 1 and self.before_call is None and self.after_call is None:
            # The common case without the generator: the same steps, _prepare then _finish.
            call = batch[0]
            limit = None
            if default_timeout is not None or deadline is not None:
                limit = _time_limit(default_timeout, deadline)
            checked = self._prepare(call, context, limit)
            if type(checked) is ToolResult:  # (ToolResult is final: this narrows it out)
                return [checked]
            if not checked[0].is_async:
                outcome = self._call_sync(checked, call)
                if outcome[1] is not None and _is_fatal(outcome[1]):
                    raise outcome[1]  # what stops the program goes up, once settled
                return [self._finish(call, checked, outcome)]
        flow = self._flow(batch, context, default_timeout, deadline)
        reply: Any = None
        while True:
            try:
                effect = flow.send(reply)
            except StopIteration as stop:
                return stop.value
            if isinstance(effect, _Run):
                jobs = effect.jobs
                if len(jobs) == 1 and not jobs[0].entry.is_async:
                    reply = [self._call_sync(jobs[0].checked, jobs[0].call)]
                else:
                    reply = run_on_loop(self._run_group(jobs))
            else:
                reply = effect.hook(*effect.arguments)
                if inspect.isawaitable(reply):
                    reply = run_on_loop(_awaited(reply))

    async def execute_async(
        self,
        calls: Iterable[ToolCall],
        *,
        context: Any = None,
        default_timeout: float | None = None,
        deadline: float | None = None,
    ) -> list[ToolResult]:
        """Run a model's calls concurrently and return one result per call, in call order.

        Async tools run as tasks of the running loop; sync tools always run in ``executor``
        (or the shared thread pool), so the loop is never blocked. Cancelling this
        coroutine cancels the running async tools, never starts the calls still waiting
        (behind ``max_concurrency`` or a ``sequential`` tool) and raises
        ``CancelledError``; sync tools already running in threads finish on their own (in
        an executor of other processes, the calls not started yet are cancelled).
        ``default_timeout`` and ``deadline`` are as for ``execute``.
        """
        flow = self._flow(list(calls), context, default_timeout, deadline)
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

    def _flow(
        self,
        calls: list[ToolCall],
        context: Any,
        default_timeout: float | None,
        deadline: float | None,
    ) -> _Flow:
        """The sans-I/O core: validate everything, run the valid calls group by group."""
        limit = _time_limit(default_timeout, deadline)
        results: list[ToolResult | None] = [None] * len(calls)
        jobs: list[_Job] = []
        for index, call in enumerate(calls):
            checked = self._prepare(call, context, limit)
            if not isinstance(checked, ToolResult) and self.before_call is not None:
                arguments = arguments_mapping(call.arguments)
                verdict = yield _Hook(self.before_call, (call, checked[0].tool, arguments))
                checked = self._apply(call, checked, verdict, context, limit)
            if isinstance(checked, ToolResult):
                results[index] = checked
            else:
                jobs.append(_Job(index, call, checked))
        for group in _groups(jobs):
            outcomes: list[_Outcome] = yield _Run(group)
            fatal: BaseException | None = None
            for job, outcome in zip(group, outcomes, strict=True):
                results[job.index] = self._finish(job.call, job.checked, outcome)
                error = outcome[1]
                if _is_fatal(error) and fatal is None:
                    fatal = error
            if fatal is not None:
                raise fatal  # the group has settled; what stops the program goes up now
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

    def _prepare(self, call: ToolCall, context: Any, limit: _Limit | None) -> _Checked | ToolResult:
        """Find the tool, validate the call and bind the injected arguments: the checked
        call, or the error result. The one place where a call is checked, whichever path
        runs it (kept flat: it is most of a dispatch)."""
        started = perf_counter()
        entry = self._entries.get(call.name)
        if entry is None:
            entry = self._lookup(call.name)
            if entry is None:
                return self._failure(call, started, "unknown_tool", self._unknown(call.name))
        secrets: Secrets | None = None
        if entry.secrets:
            values, missing = self.secret_values(entry.secrets)
            if missing:
                text = _feedback.missing_secrets(call.name, missing)
                return self._failure(call, started, "missing_secret", text)
            secrets = Secrets(values)
        arguments: Any = call.arguments
        json_object = type(arguments) is str and arguments[:1] == "{"  # the usual case
        if not json_object:
            if arguments is None or (
                isinstance(arguments, str) and (not arguments or arguments.isspace())
            ):
                arguments = {}
            elif not isinstance(arguments, (str, Mapping)):
                problem = ArgumentProblem((), "Input should be a JSON object", arguments)
                return self._bad_arguments(call, started, (problem,), 1)
        try:
            if entry.takes_context:
                ctx = _context_for(context, entry.tool.name, call.id, secrets)
                args, kwargs = entry.validate(arguments, strict=self.strict_validation, context=ctx)
            elif self.strict_validation:
                args, kwargs = entry.validate(arguments, strict=True)
            elif json_object:
                # What tool.validate does first, without its checks, which this text passed;
                # on failure tool.validate runs whole (repairs, or the error to report).
                try:
                    args, kwargs = entry.validate_json(arguments)  # pyright: ignore[reportArgumentType] - json_object: a str
                except ValidationError:
                    args, kwargs = entry.validate(arguments)
            else:
                args, kwargs = entry.validate(arguments)
        except ValidationError as error:
            return self._invalid(call, started, cast("object", arguments), error)
        except RecursionError:
            problem = ArgumentProblem((), "Input is nested too deeply")
            return self._bad_arguments(call, started, (problem,), 1)
        timeout = entry.timeout
        if timeout is None:
            timeout = self.timeout
        if limit is not None:
            timeout = limit(timeout)
        return (entry, args, kwargs, started, timeout)

    def _apply(
        self,
        call: ToolCall,
        checked: _Checked,
        verdict: object,
        context: Any,
        limit: _Limit | None,
    ) -> _Checked | ToolResult:
        """Apply ``before_call``'s answer to a checked call."""
        if verdict is None:
            return checked
        if isinstance(verdict, Veto):
            return self._failure(call, checked[3], "vetoed", verdict.message)
        if isinstance(verdict, dict):
            edited = ToolCall(id=call.id, name=call.name, arguments=cast("dict[str, Any]", verdict))
            return self._prepare(edited, context, limit)  # answers the same id and name
        raise TypeError(f"before_call must return None, a Veto or a dict, got {verdict!r}")

    def secret_values(self, names: Iterable[str]) -> tuple[dict[str, str], list[str]]:
        """The values of the secrets ``names`` from ``secrets`` (or the environment), and
        the names that are not set (empty values count as not set)."""
        source = os.environ if self.secrets is None else self.secrets
        found: dict[str, str] = {}
        missing: list[str] = []
        for name in names:
            value = source.get(name)
            if isinstance(value, str) and value:
                found[name] = value
            else:
                missing.append(name)
        return found, missing

    def secret_hider(self, names: Iterable[str]) -> Callable[[str], str]:
        """A function that replaces the values of the secrets ``names`` in a text with
        ``[secret]`` (longest first, so a value containing another goes whole; one
        ``str.replace`` per value). What the registry applies to every result of a tool
        with secrets, for whoever sends more of its output on (an MCP server)."""
        values = sorted(self.secret_values(names)[0].values(), key=len, reverse=True)

        def hide(text: str) -> str:
            for value in values:
                text = text.replace(value, _HIDDEN)
            return text

        return hide

    def _finish(self, call: ToolCall, checked: _Checked, outcome: _Outcome) -> ToolResult:
        """Turn what a checked call returned or raised into its result, without the values
        of the tool's secrets (hidden before any cut, so no part of one is left)."""
        value, error, ended = outcome
        started = checked[3]
        hide = self.secret_hider(checked[0].secrets) if checked[0].secrets else None
        if error is None:
            serializer = checked[0].serializer
            try:
                if serializer is None and type(value) is str:  # the hot path, inlined
                    content = value
                elif serializer is None and type(value) is int:
                    content = str(value)  # what JSON says, without the encoder's round trip
                else:
                    rendered = _serialised(value, serializer)
                    if isinstance(rendered, tuple):  # images or files
                        return self._with_parts(call, value, rendered, hide, ended - started)
                    content = rendered
            except Exception as exc:  # an int past Python's digit limit, a bad serializer...
                message = _feedback.unsendable(call.name, exc)
                return self._failure(call, started, "exception", message, exception=exc, hide=hide)
            if hide is not None:
                content = hide(content)
            if len(content) > self.max_content_chars:
                content = _feedback.truncated(content, self.max_content_chars)
            return ToolResult(call.id, call.name, value, content, False, None, ended - started)
        if isinstance(error, _TimedOut):
            text = _feedback.timed_out(call.name, checked[4] or 0)
            return self._failure(call, started, "timeout", text)
        if isinstance(error, ToolError):
            message = getattr(error, "message", None)  # a subclass may skip ToolError.__init__
            if not isinstance(message, str):
                message = _feedback.describe_exception(error)
            kind: ErrorKind = "retry" if isinstance(error, Retry) else "tool_error"
            return self._failure(call, started, kind, message, exception=error, hide=hide)
        if isinstance(error, asyncio.CancelledError):
            text = _feedback.cancelled(call.name)
            return self._failure(call, started, "cancelled", text, exception=error)
        trace = None
        if self.include_tracebacks:
            trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        content = _feedback.failed(call.name, error, trace)
        if self.redact_errors:
            content = _feedback.redact(content)
        return self._failure(call, started, "exception", content, exception=error, hide=hide)

    def _with_parts(
        self,
        call: ToolCall,
        value: Any,
        parts: tuple[Part, ...],
        hide: Callable[[str], str] | None,
        duration: float,
    ) -> ToolResult:
        """The result of a tool that returned images or files: its texts without the
        tool's secrets, each cut to ``max_content_chars``, and ``content`` its text
        rendering, each image or file a placeholder."""
        limit = self.max_content_chars
        kept: list[Part] = []
        for part in parts:
            if isinstance(part, str):
                text = part if hide is None else hide(part)
                kept.append(_feedback.truncated(text, limit) if len(text) > limit else text)
            else:
                kept.append(part)
        content = "\n".join(p if isinstance(p, str) else describe(p) for p in kept)
        if len(content) > limit:
            content = _feedback.truncated(content, limit)
        return ToolResult(call.id, call.name, value, content, False, None, duration, tuple(kept))

    def _failure(
        self,
        call: ToolCall,
        started: float,
        kind: ErrorKind,
        content: str,
        *,
        problems: tuple[ArgumentProblem, ...] = (),
        exception: BaseException | None = None,
        hide: Callable[[str], str] | None = None,
    ) -> ToolResult:
        if hide is not None:  # before the cut: no part of a secret may be left
            content = hide(content)
        content = _feedback.truncated(content, self.max_content_chars)
        error = CallError(
            kind=kind, message=content.partition("\n")[0], problems=problems, exception=exception
        )
        return ToolResult(call.id, call.name, None, content, True, error, perf_counter() - started)

    def _invalid(
        self, call: ToolCall, started: float, arguments: object, error: ValidationError
    ) -> ToolResult:
        try:
            details = error.errors(include_url=False)
        except RecursionError:
            problem = ArgumentProblem((), "Input is nested too deeply")
            return self._bad_arguments(call, started, (problem,), 1)
        broken = next((d for d in details if d["type"] == "json_invalid"), None)
        if broken is not None:
            detail = str(broken.get("ctx", {}).get("error", broken["msg"]))
            text = arguments if isinstance(arguments, str) else _feedback.preview(arguments)
            message = _feedback.invalid_json(call.name, text, detail)
            return self._failure(call, started, "invalid_json", message)
        shown = tuple(_problem(d) for d in details[: _feedback.MAX_PROBLEMS_SHOWN])
        return self._bad_arguments(call, started, shown, len(details))

    def _bad_arguments(
        self, call: ToolCall, started: float, problems: tuple[ArgumentProblem, ...], total: int
    ) -> ToolResult:
        content = _feedback.invalid_arguments(call.name, problems, total)
        return self._failure(call, started, "invalid_arguments", content, problems=problems)

    def _unknown(self, name: str) -> str:
        """The unknown-tool text, with a few close names found cheaply: with many tools,
        only the names that start like ``name`` are compared (an index built once), so an
        unknown name costs the same among ten tools or ten thousand."""
        wanted = name[:100]
        if len(self._entries) <= _CLOSE_NAME_CANDIDATES:
            candidates = list(self._entries)
        else:
            if self._prefixes is None:
                index: dict[str, list[str]] = {}
                for known in self._entries:
                    index.setdefault(known[:3].lower(), []).append(known)
                self._prefixes = index
            candidates = self._prefixes.get(wanted[:3].lower(), [])[:_CLOSE_NAME_CANDIDATES]
        close = difflib.get_close_matches(wanted, candidates, n=3) if wanted else []
        shown = list(itertools.islice(self._entries, _feedback.MAX_TOOLS_LISTED))
        return _feedback.unknown_tool(name, shown, len(self._entries), close)

    # -- running groups of calls ---------------------------------------------------------------

    def _call_sync(self, checked: _Checked, call: ToolCall) -> _Outcome:
        """A lone sync call of the sync driver: inline in this thread, or (with a timeout or
        an executor) in a worker thread or another process this one waits for, no event
        loop involved."""
        entry, args, kwargs, _, timeout = checked
        pool = self.executor
        if pool is not None and not _is_thread_pool(pool):
            return _call_elsewhere(checked, call, pool)
        function = entry.function
        if _tracing.tracer() is not None:
            function = _traced(entry, call, function)
        if timeout is None and pool is None:
            try:
                value = function(*args, **kwargs)
            except Exception as error:  # what stops the program is raised as it comes
                return (None, error, perf_counter())
            return (value, None, perf_counter())
        pool = pool or thread_pool()
        try:
            future = pool.submit(contextvars.copy_context().run, function, *args, **kwargs)
        except BaseException as error:  # a shut-down executor
            return (None, error, perf_counter())
        try:
            value = future.result(timeout=timeout)
        except concurrent.futures.TimeoutError as error:
            if future.done():  # the tool's own TimeoutError (the same class since 3.11)
                return (None, error, perf_counter())
            future.cancel()
            return (None, _TimedOut(), perf_counter())
        except BaseException as error:  # what the tool raised, KeyboardInterrupt included
            return (None, error, perf_counter())
        return (value, None, perf_counter())

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
        # What comes back as an exception is a tool's own CancelledError.
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
        entry, args, kwargs, _, _ = job.checked
        fn = entry.function
        pool = self.executor
        if not entry.is_async and pool is not None and not _is_thread_pool(pool):
            return await _attempt_elsewhere(job.checked, job.call, pool)
        if _tracing.tracer() is not None:
            fn = _traced(entry, job.call, fn)
        try:
            if entry.is_async:  # on this loop, whatever the executor
                value = await fn(*args, **kwargs)
            else:
                # In the caller's context: its context variables (a request id, the current
                # tracing span...) are the tool's too, as with asyncio.to_thread.
                loop = asyncio.get_running_loop()
                bound = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
                value = await loop.run_in_executor(pool or thread_pool(), bound)
        except asyncio.CancelledError:
            raise  # a cancellation of this call (or the tool's own: gather tells them apart)
        except BaseException as error:  # KeyboardInterrupt too: never out into the loop
            return (None, error, perf_counter())
        return (value, None, perf_counter())


# -- helpers -----------------------------------------------------------------------------------

_Limit = Callable[[float | None], float | None]
"""Turns a call's own timeout into the one it runs with (the default, capped by a deadline)."""


def _traced(entry: _Entry, call: ToolCall, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` in an ``execute_tool`` span (OpenTelemetry is on)."""
    return _tracing.traced_tool(
        function,
        name=entry.tool.name,
        call_id=call.id,
        description=entry.tool.description,
        arguments=call.arguments,
    )


def _is_thread_pool(pool: concurrent.futures.Executor) -> bool:
    """Whether ``pool`` runs calls in threads of this process. Any other executor (a
    ``ProcessPoolExecutor``, a Dask cluster's) is taken to run them in other processes."""
    return isinstance(pool, (GrowingThreadPool, concurrent.futures.ThreadPoolExecutor))


# -- calls in other processes --------------------------------------------------------------------
# An executor that is not a thread pool gets the tool's own function and its arguments, to
# pickle: no context (it cannot cross into another process) and no tracing wrapper. The
# execute_tool span is kept here, around the wait for the call.


def _call_elsewhere(
    checked: _Checked, call: ToolCall, pool: concurrent.futures.Executor
) -> _Outcome:
    """A lone sync call run by ``pool`` in another process, waited for in this thread."""
    entry, args, kwargs, _, timeout = checked
    late = False

    def wait() -> Any:
        nonlocal late
        future = _sent(pool, entry.function, args, kwargs)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            late = not future.done()  # done: the tool's own TimeoutError (same class in 3.11+)
            raise
        finally:
            # Cut short (a timeout, an interrupt), a call not started never starts; one
            # that has ended is left as it is.
            future.cancel()

    if _tracing.tracer() is not None:
        wait = _traced(entry, call, wait)
    try:
        value = wait()
    except BaseException as error:  # what the tool raised, KeyboardInterrupt included
        return (None, _TimedOut() if late else error, perf_counter())
    return (value, None, perf_counter())


async def _attempt_elsewhere(
    checked: _Checked, call: ToolCall, pool: concurrent.futures.Executor
) -> _Outcome:
    """A sync call run by ``pool`` in another process, awaited. Cancelling the wait (a
    timeout, a cancelled ``execute_async``) cancels the call if it has not started."""
    entry, args, kwargs, _, _ = checked

    async def wait() -> Any:
        return await asyncio.wrap_future(_sent(pool, entry.function, args, kwargs))

    if _tracing.tracer() is not None:
        wait = _traced(entry, call, wait)
    try:
        value = await wait()
    except asyncio.CancelledError:
        raise  # as in Registry._attempt
    except BaseException as error:
        return (None, error, perf_counter())
    return (value, None, perf_counter())


def _sent(
    pool: concurrent.futures.Executor,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> concurrent.futures.Future[Any]:
    """``fn(*args, **kwargs)`` handed to ``pool``, as one callable: an executor's ``submit``
    may take keywords of its own (Dask's ``key``, ``workers``, ``pure``...), which must not
    swallow the tool's arguments of the same names.

    Raises:
        RuntimeError: ``pool`` did not take the call (it could not pickle the function or
            an argument, or it was shut down), saying why.
    """
    try:
        return pool.submit(functools.partial(_by_reference(fn), *args, **kwargs))
    except Exception as error:
        raise RuntimeError(
            f"the call could not be sent to {type(pool).__name__}:"
            f" {_feedback.describe_exception(_root_cause(error))}"
        ) from error


def _by_reference(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What to pickle for ``fn``: ``fn`` itself, unless ``@tool`` replaced it under its own
    name, where pickle (which finds a function by its module and name) would find the
    ``Tool`` instead and refuse; then a reference that finds the ``Tool`` on the worker and
    calls its function."""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    qualname: str = getattr(fn, "__qualname__", "")
    if module is None or "<locals>" in qualname:
        return fn
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if isinstance(found, Tool) and found.function is fn:
        return _DecoratedFunction(module.__name__, qualname)
    return fn


class _DecoratedFunction:
    """The function of the ``Tool`` at ``module.qualname``, called by reference: pickled as
    the two names, imported where it is called."""

    __slots__ = ("module", "qualname")

    def __init__(self, module: str, qualname: str) -> None:
        self.module, self.qualname = module, qualname

    def __reduce__(self) -> tuple[Any, ...]:
        return (_DecoratedFunction, (self.module, self.qualname))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        found: Any = importlib.import_module(self.module)
        for part in self.qualname.split("."):
            found = getattr(found, part)
        return cast("Tool[..., Any]", found).function(*args, **kwargs)


def _root_cause(error: BaseException) -> BaseException:
    """The first exception of ``error``'s chain of causes, which says why (Dask's "could
    not serialize" error is raised from the pickling error)."""
    for _ in range(10):  # a chain, not a cycle: a few links are plenty
        if error.__cause__ is None:
            break
        error = error.__cause__
    return error


def _time_limit(default: float | None, deadline: float | None) -> _Limit | None:
    """The timeout rule of one batch: the call's own timeout, else ``default``; never past
    ``deadline`` seconds from now. ``None`` when there is nothing to apply."""
    if default is None and deadline is None:
        return None
    end = None if deadline is None else perf_counter() + max(deadline, 0.0)

    def limit(own: float | None) -> float | None:
        chosen = default if own is None else own
        if end is None:
            return chosen
        remaining = max(end - perf_counter(), 0.001)
        return remaining if chosen is None else min(chosen, remaining)

    return limit


def _context_for(
    context: Any, tool_name: str, call_id: str, secrets: Secrets | None = None
) -> Context[Any]:
    """The ``Context`` a tool receives: the caller's template, or one around its ``deps``,
    with the tool's own secrets (never another tool's)."""
    secrets = _NO_SECRETS if secrets is None else secrets
    if isinstance(context, Context):
        return dataclasses.replace(  # pyright: ignore[reportUnknownVariableType]
            context,  # pyright: ignore[reportUnknownArgumentType]
            tool_name=tool_name,
            call_id=call_id,
            secrets=secrets,
        )
    return Context(deps=context, tool_name=tool_name, call_id=call_id, secrets=secrets)


_NO_SECRETS = Secrets({})
_HIDDEN = "[secret]"


def _is_fatal(error: BaseException | None) -> bool:
    """Whether ``error`` stops the program rather than the call (``KeyboardInterrupt``,
    ``SystemExit``): raised to the caller once its group has settled."""
    return (
        error is not None
        and not isinstance(error, Exception)
        and not isinstance(error, asyncio.CancelledError)
    )


def _as_tool(
    item: Tool[..., Any] | Callable[..., Any], prefix: str | None, description: str | None
) -> Tool[..., Any]:
    """``item`` as a ``Tool``, its name prefixed and its description led by ``description``."""
    found = cast("Tool[..., Any]", item) if isinstance(item, Tool) else tool(item)
    if prefix is None and description is None:
        return found
    name = found.name if prefix is None else f"{prefix}_{found.name}"
    text = found.description
    if description is not None:
        text = f"{description}\n\n{found.description}" if found.description else description
    return found.with_options(name=name, description=text)


def _groups(jobs: list[_Job]) -> list[list[_Job]]:
    """Maximal runs of parallel calls; each ``sequential`` call alone."""
    groups: list[list[_Job]] = []
    run: list[_Job] = []
    for job in jobs:
        if job.entry.sequential:
            if run:
                groups.append(run)
                run = []
            groups.append([job])
        else:
            run.append(job)
    if run:
        groups.append(run)
    return groups


def _serialised(value: Any, serializer: Callable[[Any], object] | None) -> str | tuple[Part, ...]:
    """What the model receives for a return value (or for what the tool's own serializer
    made of it): a ``str`` as it is; an ``Image``, a ``File``, or a list or tuple holding
    one as parts (see ``_parts``); anything else as JSON (non-finite floats as the strings
    ``"NaN"``, ``"Infinity"``)."""
    if serializer is not None:
        value = serializer(value)
        if isinstance(value, str):
            return value
        parts = _parts(value)
        if parts is None:
            raise TypeError(
                f"the serializer returned {type(value).__name__}, not str, Image, File or a"
                " list of them"
            )
        return parts
    if isinstance(value, str):
        return value
    if isinstance(value, _MAY_HOLD_MEDIA):  # one check for every other value
        parts = _parts(value)
        if parts is not None:
            return parts
    return _json(value)


_MAY_HOLD_MEDIA = (Image, File, list, tuple)
_MEDIA_TYPES = frozenset({Image, File})


def _json(value: Any) -> str:
    return to_json(value, fallback=str, inf_nan_mode="strings").decode()


def _parts(value: Any) -> tuple[Part, ...] | None:
    """The parts of an ``Image``, a ``File``, or a list or tuple holding at least one, in
    order: runs of other items become one text (a ``str`` as it is, anything else as
    JSON, one per line; empty texts left out). ``None`` for any other value (an image
    deeper inside a value is JSON's placeholder text, not a part)."""
    if type(value) in _MEDIA_TYPES:
        return (value,)
    if not isinstance(value, (list, tuple)):
        return None
    items = cast("list[Any] | tuple[Any, ...]", value)
    # A list without media costs one set lookup per item (Image and File are final).
    if _MEDIA_TYPES.isdisjoint(map(type, items)):
        return None
    parts: list[Part] = []
    texts: list[str] = []
    for item in items:
        if isinstance(item, (Image, File)):
            if texts:
                parts.append("\n".join(texts))
                texts = []
            parts.append(item)
            continue
        text = item if isinstance(item, str) else _json(item)
        if text:
            texts.append(text)
    if texts:
        parts.append("\n".join(texts))
    return tuple(parts)


def _problem(detail: Any) -> ArgumentProblem:
    """One pydantic error detail as an ``ArgumentProblem`` (no input for a missing value)."""
    if detail["type"] == "arguments_type":
        return ArgumentProblem(
            tuple(detail["loc"]), "Input should be a JSON object", detail["input"]
        )
    if detail["type"].startswith("missing"):
        return ArgumentProblem(tuple(detail["loc"]), detail["msg"])
    return ArgumentProblem(tuple(detail["loc"]), detail["msg"], detail["input"])


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
