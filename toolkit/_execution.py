"""Where tools run when they do not run inline: a thread pool that grows, and a background
event loop that survives what tools raise.

Both are shared by every ``Registry`` of the process and made on first use.

- ``thread_pool()``: sync tools run here. A call that timed out keeps its thread (Python
  cannot stop a thread), so a fixed pool would fill up with abandoned calls and starve
  everything else; this pool starts a thread whenever none is idle (up to
  ``MAX_THREADS``) and lets idle threads beyond ``CORE_THREADS`` end after
  ``IDLE_SECONDS``. Its threads are daemons: a tool stuck forever does not keep the process
  from exiting.
- ``run_on_loop(coroutine)``: the sync ``Registry.execute`` runs async tools and groups of
  calls on one background loop. Nothing a tool raises (``KeyboardInterrupt`` and
  ``SystemExit`` included) may stop that loop; if its thread dies anyway, the next call
  starts a new one, and a caller waiting on a dead loop is told instead of waiting forever.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import queue
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["CORE_THREADS", "IDLE_SECONDS", "MAX_THREADS", "GrowingThreadPool", "run_on_loop"]

T = TypeVar("T")

CORE_THREADS = 8
"""Idle threads the shared pool keeps."""
MAX_THREADS = 512
"""Threads the shared pool may have at once; more calls wait for one to be free."""
IDLE_SECONDS = 60.0
"""How long a thread beyond ``CORE_THREADS`` waits for work before it ends."""

_Job = tuple["concurrent.futures.Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class GrowingThreadPool(concurrent.futures.Executor):
    """An executor that starts a thread whenever no thread is idle, up to ``max_threads``.

    ``available`` counts idle threads minus queued jobs: a job that finds it at zero or below
    starts a thread, so no job ever waits behind a call that is stuck.
    """

    def __init__(
        self,
        *,
        core_threads: int = CORE_THREADS,
        max_threads: int = MAX_THREADS,
        idle_seconds: float = IDLE_SECONDS,
        name: str = "toolkit-tool",
    ) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._available = 0
        self._threads = 0
        self._core = core_threads
        self._max = max_threads
        self._idle_seconds = idle_seconds
        self._name = name
        self._shutdown = False

    @property
    def threads(self) -> int:
        """Threads alive now (busy, stuck or idle)."""
        return self._threads

    def submit(  # pyright: ignore[reportIncompatibleMethodOverride] - same call, typed loosely
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot submit to a thread pool that was shut down")
            self._jobs.put((future, fn, args, kwargs))
            self._available -= 1
            if self._available < 0 and self._threads < self._max:
                self._threads += 1
                self._available += 1
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{self._threads}", daemon=True
                )
                thread.start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking jobs; idle threads end (running ones finish their job first)."""
        with self._lock:
            self._shutdown = True
            threads = self._threads
        for _ in range(threads):
            self._jobs.put(None)

    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=self._idle_seconds)
            except queue.Empty:
                with self._lock:
                    if self._available > 0 and self._threads > self._core:
                        self._available -= 1
                        self._threads -= 1
                        return
                continue
            if job is None:  # shut down
                with self._lock:
                    self._threads -= 1
                return
            future, fn, args, kwargs = job
            del job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as error:  # KeyboardInterrupt too: the caller decides
                    future.set_exception(error)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            with self._lock:
                self._available += 1


_pool_lock = threading.Lock()
_pool: GrowingThreadPool | None = None
_loop_lock = threading.Lock()
_loop: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None


def thread_pool() -> GrowingThreadPool:
    """The thread pool shared by every registry without its own executor."""
    global _pool  # noqa: PLW0603 - one pool per process, made on first use
    with _pool_lock:
        if _pool is None:
            _pool = GrowingThreadPool()
        return _pool


def loop_thread() -> threading.Thread | None:
    """The background loop's thread, if it was started."""
    return None if _loop is None else _loop[1]


def run_on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on the background loop and wait for its value.

    Raises:
        RuntimeError: called from the background loop itself (an async tool calling the
            sync ``execute``), or the loop died while this call waited.
    """
    loop, thread = _background_loop()
    if threading.current_thread() is thread:
        coroutine.close()
        raise RuntimeError(
            "Registry.execute() was called from an async tool; use 'await execute_async()'"
        )
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    try:
        while True:
            try:
                return future.result(timeout=1.0)
            except concurrent.futures.TimeoutError:
                if not thread.is_alive():
                    raise RuntimeError("toolkit's background event loop stopped") from None
    except BaseException:
        future.cancel()  # e.g. KeyboardInterrupt in the caller: cancel the calls still running
        raise


def _background_loop() -> tuple[asyncio.AbstractEventLoop, threading.Thread]:
    global _loop  # noqa: PLW0603 - one loop per process, replaced if its thread died
    with _loop_lock:
        if _loop is None or not _loop[1].is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_serve, args=(loop,), name="toolkit-loop", daemon=True)
            thread.start()
            _loop = (loop, thread)
        return _loop


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """Run ``loop`` for good: an exception escaping a callback (a tool's
    ``KeyboardInterrupt``, say) is not a reason to stop serving every other caller."""
    asyncio.set_event_loop(loop)
    while True:
        with contextlib.suppress(BaseException):
            loop.run_forever()
            return  # stopped on purpose
