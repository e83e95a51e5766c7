"""Plain module-level functions for the registry's process-pool test: picklable by name."""

from __future__ import annotations

import os


def square(value: int) -> int:
    """Square a number."""
    return value * value


def worker_pid() -> int:
    """The id of the process running the call."""
    return os.getpid()
