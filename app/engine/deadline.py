"""The run's time limit, seen from inside the process.

A real Python program can spin in a loop that never touches torch, so the limit is a timer signal
(SIGALRM) that interrupts whatever runs, not a check between ops. A program that catches the
interruption only delays the outside limit: the service kills the worker a moment later.
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager

from app.errors import ProgramError


class ProgramTimeout(BaseException):
    """Raised into the program when its time is up (BaseException: `except Exception` won't catch it)."""


class Deadline:
    """A point in time after which Grafo's own loops (the gradient check) stop with a `timeout` error."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def error(self) -> ProgramError:
        return ProgramError("timeout", f"the program ran longer than the {self.seconds:g} s time limit", key="timeout",
                            seconds=self.seconds)

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise self.error()


@contextmanager
def alarm(deadline: Deadline):
    """Interrupt the code inside when the deadline passes (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise ProgramTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline.at - time.monotonic()))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
