"""A pool of single-use worker processes that run programs, enforcing time and memory from outside them.

Why not a library: pebble (the obvious candidate) shares one pipe and one lock among all its
workers, and a worker SIGKILLed while idle (what the kernel's OOM killer does) marks the whole pool
broken ("Unexpected error within the Pool": every later task fails). Here each worker has its own
pipe, so a killed worker only ever loses its own request, and it is replaced.

Workers are forked from a forkserver that has imported torch and the engine once (about 10 ms per
new worker instead of seconds), never from the threaded server process. Each worker enters the
kernel sandbox as soon as it starts, runs one program, and exits; idle workers wait already
confined, so a request never pays for the fork or the sandbox. Each has a private directory, made
here and deleted when it exits. Every call to `run` blocks its calling thread; the asyncio side runs
it in a thread pool.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass

from pydantic import ValidationError

from app.service.protocol import ChannelError, WorkerConfig, read_message, worker_entry
from app.service.trace_check import trace_is_valid
from app.trace_model import ErrorBody
from app.settings import Limits, ServiceSettings

log = logging.getLogger("grafo.service")

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TIMEOUT_SIGNALS = (signal.SIGXCPU,)
MONITOR_INTERVAL_S = 0.25
REFUSED_RETRY_S = 5.0
SERVER_KINDS = frozenset({"sandbox"})  # error kinds about the server's state, never a worker's to claim


class QueueTimeout(Exception):
    """No worker became free within the queue wait: the caller answers 503."""


class _NotStarted(Exception):
    """The worker died before it acknowledged the request."""


class _KilledFromOutside(Exception):
    """The worker died of a SIGKILL the pool did not send, during a run (an operator, the kernel)."""


class PoolStopped(Exception):
    """The pool is shutting down."""


class SandboxUnavailable(Exception):
    """Workers could not enter the kernel sandbox and unsandboxed runs are not allowed: the caller answers 503."""


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: a trace as JSON bytes, or an error dict (`ErrorBody` shape)."""

    body: bytes | None = None
    error: dict | None = None
    detail: str | None = None  # for the server log only
    cached: bool = False
    partial: bytes | None = None  # with an error: the trace of what the program did before it


class _Worker:
    """One worker process, the parent's end of its private pipe, and its private directory."""

    def __init__(self, context, config: WorkerConfig, start_timeout_s: float, run_dir_base: str | None):
        self.run_dir = tempfile.mkdtemp(prefix="grafo-run-", dir=run_dir_base)
        self.conn, child_conn = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker_entry, args=(child_conn, config, self.run_dir), name="grafo-worker", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.retire = False
        self.killed_by_us = False
        try:
            if not self.conn.poll(start_timeout_s):
                raise RuntimeError("worker did not start in time")
            ready = read_message(self.conn)
        except (EOFError, OSError, ChannelError, RuntimeError):
            self.kill()
            raise
        self.sandbox = ready.get("sandbox") if isinstance(ready.get("sandbox"), dict) else {}
        self.confined = ready.get("confined") is True

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        """SIGKILL (nothing inside the worker can delay or refuse it), then remove its directory."""
        if self.process.is_alive():
            self.killed_by_us = True
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.join(5)
        self.conn.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)

    def close(self, grace_s: float) -> None:
        """Ask an idle worker to exit (EOF on its pipe), and kill it if it does not."""
        try:
            self.conn.close()
        except OSError:
            pass
        self.process.join(grace_s)
        self.kill()


class WorkerPool:
    """A fixed number of workers; a dead or retired one is replaced in the background."""

    def __init__(self, settings: ServiceSettings, limits: Limits):
        self.settings = settings
        self.config = WorkerConfig(
            limits=limits,
            memory_limit_bytes=settings.memory_limit_mb * 1024 * 1024,
            cpu_seconds_per_run=int(settings.hard_time_limit_s) + 1,
            max_trace_bytes=settings.max_trace_bytes,
            trace_target_bytes=settings.trace_target_bytes,
            file_size_bytes=settings.run_file_bytes,
            open_files=settings.run_open_files,
            allow_unsandboxed=settings.allow_unsandboxed,
        )
        self.sandbox: dict = {}  # the last worker's sandbox report, for /api/health
        self._enter_ms: list[float] = []  # how long the last workers took to enter it
        self.sandbox_refusal: str | None = None  # why programs are refused, when they are
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0  # replacements being started (every run retires its worker)
        self._stopping = False
        self._counts = {"runs": 0, "timeouts": 0, "crashes": 0, "restarts": 0}
        self._context = None
        self._monitor: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the forkserver (importing torch once) and every worker; blocks until all are ready."""
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, "1")  # inherited by the forkserver, hence by every worker
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["app.service.worker"])
        for _ in range(self.settings.worker_count):
            self._add(self._spawn())
        self._monitor = threading.Thread(target=self._watch, name="grafo-pool-monitor", daemon=True)
        self._monitor.start()

    def stop(self) -> None:
        """Stop every worker; idle ones exit on their own, busy ones are killed."""
        with self._cond:
            self._stopping = True
            workers = list(self._all)
            idle = set(self._idle)
            self._idle.clear()
            self._all.clear()
            self._cond.notify_all()
        for handle in workers:
            if handle in idle:
                handle.close(grace_s=1.0)
            else:
                handle.kill()
        if self._monitor is not None:
            self._monitor.join(2)

    def state(self) -> dict:
        """Counters and liveness for /api/health."""
        with self._cond:
            alive = sum(1 for handle in self._all if handle.alive())
            return {
                "workers": self.settings.worker_count,
                "alive": alive,
                "starting": self._starting,
                "idle": len(self._idle),
                **self._counts,
            }

    def sandbox_state(self) -> dict:
        """What the workers' sandbox is made of, and whether programs run at all, for /api/health."""
        times = sorted(self._enter_ms)
        return {"layers": self.sandbox, "refusal": self.sandbox_refusal,
                "unsandboxed_allowed": self.settings.allow_unsandboxed,
                "enter_ms": times[len(times) // 2] if times else None}

    def worker_pids(self) -> list[int]:
        with self._cond:
            return [handle.pid for handle in self._all if handle.pid is not None]

    # -- running -----------------------------------------------------------------------------

    def run(self, request: dict, wait_s: float) -> RunOutcome:
        """Run one request on a free worker, waiting at most `wait_s` for one to be free.

        A worker that dies before it acknowledges the request (killed while idle, just before
        the monitor noticed) is not the program's fault: the request moves to another worker.
        One killed from outside during the run (a SIGKILL the pool did not send) gets the request
        run once more on another worker; a second such death is reported as the program's.
        """
        if self.sandbox_refusal is not None:
            raise SandboxUnavailable(self.sandbox_refusal)
        deadline = time.monotonic() + wait_s
        retried = False
        for _ in range(self.settings.worker_count + 3):
            handle = self._take(max(0.0, deadline - time.monotonic()))
            try:
                return self._dispatch(handle, request, may_retry=not retried)
            except _NotStarted:
                handle.retire = True
            except _KilledFromOutside:
                retried = True
            finally:
                self._give_back(handle)
        raise QueueTimeout()

    def _dispatch(self, handle: _Worker, request: dict, may_retry: bool = False) -> RunOutcome:
        limit = self.settings.hard_time_limit_s
        started = time.monotonic()
        handle.retire = True  # every worker runs one program only
        try:
            handle.conn.send_bytes(json.dumps(request).encode("utf-8"))
            if not handle.conn.poll(limit):
                return self._timed_out(handle)  # alive but unresponsive (stopped): not usable
            read_message(handle.conn)  # the worker's acknowledgement: it has the program now
        except (EOFError, OSError, ChannelError) as error:
            raise _NotStarted() from error
        self._count("runs")
        try:
            if not handle.conn.poll(max(0.0, limit - (time.monotonic() - started))):
                return self._timed_out(handle)
            return self._read_result(handle, limit - (time.monotonic() - started))
        except (EOFError, OSError):
            return self._crashed(handle, may_retry)
        except ChannelError as error:
            handle.kill()
            return RunOutcome(error=_error("runtime", f"the program's result could not be read: {error}",
                                           key="unreadable_result", reason=str(error)),
                              detail=f"worker {handle.pid}: {error}")

    def _read_result(self, handle: _Worker, remaining_s: float) -> RunOutcome:
        """The worker's answer, checked: a known status, an error of the right shape, a valid trace."""
        envelope = read_message(handle.conn)
        if envelope.get("status") == "error":
            try:
                error = ErrorBody.model_validate(envelope.get("error"))
            except ValidationError:
                raise ChannelError("an error from the worker did not have the expected shape") from None
            if error.kind in SERVER_KINDS:  # the program could have written it: only the server says these
                raise ChannelError(f"a worker may not report {error.kind!r}")
            detail = envelope.get("detail") if isinstance(envelope.get("detail"), str) else None
            partial = self._read_trace(handle, remaining_s) if envelope.get("partial") is True else None
            if isinstance(partial, RunOutcome):
                partial = None  # too large or too slow: the error alone is still worth sending
            return RunOutcome(error=error.model_dump(exclude_none=True), detail=detail, partial=partial)
        if envelope.get("status") != "ok":
            raise ChannelError("the worker's answer had no known status")
        body = self._read_trace(handle, remaining_s)
        return body if isinstance(body, RunOutcome) else RunOutcome(body=body)

    def _read_trace(self, handle: _Worker, remaining_s: float) -> bytes | RunOutcome:
        """The trace's JSON bytes, size-capped and validated; a RunOutcome when it cannot be had."""
        if not handle.conn.poll(max(0.0, remaining_s)):
            return self._timed_out(handle)
        try:
            body = handle.conn.recv_bytes(self.settings.max_trace_bytes)
        except OSError as error:
            if "bad message length" in str(error):
                return RunOutcome(error=_error("limit", f"the trace is larger than "
                                                        f"{self.settings.max_trace_bytes:,} bytes",
                                               key="limit_trace_bytes", bytes=self.settings.max_trace_bytes))
            raise
        if not trace_is_valid(body, self._context, timeout_s=max(10.0, self.settings.time_limit_s)):
            raise ChannelError("the trace from the worker is not a valid trace")
        return body

    def _timed_out(self, handle: _Worker) -> RunOutcome:
        handle.kill()
        handle.retire = True
        self._count("timeouts")
        seconds = self.settings.time_limit_s
        return RunOutcome(error=_error("timeout", f"the program ran longer than the time limit ({seconds:g} s)",
                                       key="timeout", seconds=seconds))

    def _crashed(self, handle: _Worker, may_retry: bool = False) -> RunOutcome:
        """The worker died during the run: say why in terms of the program's limits."""
        handle.process.join(2)
        handle.retire = True
        code = handle.process.exitcode
        self._count("crashes")
        if may_retry and code == -signal.SIGKILL and not handle.killed_by_us:
            log.warning("worker %s was killed from outside during a run; running it again", handle.pid)
            raise _KilledFromOutside()
        if code is not None and -code in TIMEOUT_SIGNALS:
            self._count("timeouts")
            return RunOutcome(error=_error("timeout", "the program used more CPU time than a run may use",
                                           key="timeout_cpu"))
        detail = f"worker {handle.pid} died during a run, exit code {code}"
        return RunOutcome(error=_death_cause(code), detail=detail)

    # -- workers -----------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        handle = _Worker(self._context, self.config, self.settings.worker_start_timeout_s,
                         self.settings.run_dir or None)
        self._note_sandbox(handle)
        return handle

    def _note_sandbox(self, handle: _Worker) -> None:
        """Keep the worker's sandbox report; refuse programs if it could not confine itself."""
        self.sandbox = {key: value for key, value in handle.sandbox.items() if key != "enter_ms"}
        enter_ms = handle.sandbox.get("enter_ms")
        if isinstance(enter_ms, (int, float)):
            self._enter_ms = (self._enter_ms + [float(enter_ms)])[-100:]
        if handle.confined or self.settings.allow_unsandboxed:
            if not handle.confined and self.sandbox_refusal is None:
                log.warning("running programs WITHOUT the kernel sandbox (allowed for trusted local use): %s",
                            handle.sandbox.get("error", handle.sandbox))
            self.sandbox_refusal = None
            return
        reason = str(handle.sandbox.get("error") or "the worker could not enter the kernel sandbox")[:500]
        if self.sandbox_refusal is None:
            log.error("programs are refused: %s (start with --trusted-local to run them unsandboxed, "
                      "for your own code only)", reason)
        self.sandbox_refusal = reason

    def _add(self, handle: _Worker) -> None:
        with self._cond:
            if self._stopping:
                handle.close(grace_s=0.5)
                return
            self._all.add(handle)
            self._idle.append(handle)
            self._cond.notify()

    def _take(self, wait_s: float) -> _Worker:
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                if self._stopping:
                    raise PoolStopped()
                while self._idle:
                    handle = self._idle.pop()
                    if handle.alive():
                        return handle
                    self._retire_locked(handle)  # died while idle (killed from outside)
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining):
                    if not self._idle:
                        raise QueueTimeout()

    def _give_back(self, handle: _Worker) -> None:
        with self._cond:
            if handle.retire or not handle.alive():
                self._retire_locked(handle)
            elif not self._stopping:
                self._idle.append(handle)
                self._cond.notify()

    def _retire_locked(self, handle: _Worker) -> None:
        """Drop a worker and start its replacement in the background (caller holds the lock)."""
        self._all.discard(handle)
        if self._stopping:
            return
        threading.Thread(target=self._replace, args=(handle,), name="grafo-pool-replace", daemon=True).start()

    def _replace(self, old: _Worker) -> None:
        with self._cond:
            self._starting += 1
        try:
            self._start_replacement(old)
        finally:
            with self._cond:
                self._starting -= 1

    def _start_replacement(self, old: _Worker) -> None:
        old.process.join(1)  # a retiring worker exits by itself right after its reply
        old.kill()
        delay = 0.05
        if self.sandbox_refusal is not None:
            time.sleep(REFUSED_RETRY_S)  # it exited because it could not confine itself: try again, slowly
        while not self._stopping:
            try:
                new = self._spawn()
            except Exception:  # noqa: BLE001 - keep trying; the pool runs short meanwhile
                log.exception("could not start a replacement worker")
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._count("restarts")
            self._add(new)
            return

    def _watch(self) -> None:
        """Replace idle workers that died (killed from outside) without waiting for a request."""
        while not self._stopping:
            time.sleep(MONITOR_INTERVAL_S)
            with self._cond:
                dead = [handle for handle in self._idle if not handle.alive()]
                for handle in dead:
                    self._idle.remove(handle)
                    self._retire_locked(handle)

    def _count(self, name: str) -> None:
        with self._cond:
            self._counts[name] += 1


def _death_cause(code: int | None) -> dict:
    """The error for a worker that ended before sending its result, by exit code."""
    if code is not None and code >= 0:
        return _error("runtime", f"the program ended its own process (exit code {code}) before its trace was sent",
                      key="process_exited", code=code)
    if code == -signal.SIGSYS:
        return _error("runtime", "the program made a system call the sandbox forbids", key="forbidden_call")
    if code == -signal.SIGABRT:  # most often Python giving up on a MemoryError it could not handle
        return _error("limit", "the program's process aborted (SIGABRT), most often for lack of memory",
                      key="process_aborted")
    if code in (-signal.SIGSEGV, -signal.SIGBUS, -signal.SIGILL, -signal.SIGFPE):
        name = signal.Signals(-code).name
        return _error("runtime", f"the program's process crashed ({name})", key="process_crashed", signal=name)
    return _error("limit", "the program's worker process was stopped (it may have used too much memory)",
                  key="worker_stopped")


def _error(kind: str, message: str, key: str | None = None, **params) -> dict:
    """An error in `ErrorBody`'s shape; `key` and `params` let the page word it in its language."""
    error = {"kind": kind, "message": message, "line": None, "col": None}
    if key is not None:
        error.update(key=key, params=params)
    return error
