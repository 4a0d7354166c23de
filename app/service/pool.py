"""A pool of worker processes that run programs, enforcing time and memory from outside them.

Why not a library: pebble (the obvious candidate) shares one pipe and one lock among all its
workers, and a worker SIGKILLed while idle (what the kernel's OOM killer does) marks the whole pool
broken ("Unexpected error within the Pool": every later task fails). Here each worker has its own
pipe, so a killed worker only ever loses its own request, and it is replaced.

Workers are forked from a forkserver that has imported torch and the engine once (about 10 ms per
new worker instead of seconds), never from the threaded server process. Every call to `run` blocks
its calling thread; the asyncio side runs it in a thread pool.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass

from app.service.protocol import Reply, WorkerConfig, worker_entry
from app.settings import Limits, ServiceSettings

log = logging.getLogger("grafo.service")

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
TIMEOUT_SIGNALS = (signal.SIGXCPU,)
MONITOR_INTERVAL_S = 0.25


class QueueTimeout(Exception):
    """No worker became free within the queue wait: the caller answers 503."""


class _NotStarted(Exception):
    """The worker died before it acknowledged the request."""


class _KilledFromOutside(Exception):
    """The worker died of a SIGKILL the pool did not send, during a run (an operator, the kernel)."""


class PoolStopped(Exception):
    """The pool is shutting down."""


@dataclass(frozen=True)
class RunOutcome:
    """What a run produced: a trace as JSON bytes, or an error dict (`ErrorBody` shape)."""

    body: bytes | None = None
    error: dict | None = None
    detail: str | None = None  # for the server log only
    cached: bool = False


class _Worker:
    """One worker process and the parent's end of its private pipe."""

    def __init__(self, context, config: WorkerConfig, start_timeout_s: float):
        self.conn, child_conn = context.Pipe(duplex=True)
        self.process = context.Process(
            target=worker_entry, args=(child_conn, config), name="grafo-worker", daemon=True
        )
        self.process.start()
        child_conn.close()
        self.tasks = 0
        self.retire = False
        self.killed_by_us = False
        if not self.conn.poll(start_timeout_s):
            self.kill()
            raise RuntimeError("worker did not start in time")
        self.conn.recv()  # ("ready", pid)

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.is_alive()

    def kill(self) -> None:
        """SIGKILL: nothing inside the worker can delay or refuse it."""
        if self.process.is_alive():
            self.killed_by_us = True
            try:
                os.kill(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.join(5)
        self.conn.close()

    def close(self, grace_s: float) -> None:
        """Ask an idle worker to exit (EOF on its pipe), and kill it if it does not."""
        try:
            self.conn.send(None)
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
        )
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
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
                "idle": len(self._idle),
                **self._counts,
            }

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
        try:
            handle.conn.send(request)
            if not handle.conn.poll(limit):
                return self._timed_out(handle)  # alive but unresponsive (stopped): not usable
            handle.conn.recv()  # the worker's acknowledgement: it has the program now
        except (EOFError, OSError) as error:
            raise _NotStarted() from error
        self._count("runs")
        try:
            if not handle.conn.poll(max(0.0, limit - (time.monotonic() - started))):
                return self._timed_out(handle)
            reply: Reply = handle.conn.recv()
        except (EOFError, OSError):
            return self._crashed(handle, may_retry)
        handle.tasks += 1
        handle.retire = reply.retire or handle.tasks >= self.settings.max_tasks_per_worker
        if reply.status == "ok":
            return RunOutcome(body=reply.payload)
        return RunOutcome(error=reply.payload, detail=reply.detail)

    def _timed_out(self, handle: _Worker) -> RunOutcome:
        handle.kill()
        handle.retire = True
        self._count("timeouts")
        seconds = self.settings.time_limit_s
        return RunOutcome(error=_error("timeout", f"the program ran longer than the time limit ({seconds:g} s)"))

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
            return RunOutcome(error=_error("timeout", "the program used more CPU time than a run may use"))
        detail = f"worker {handle.pid} died during a run, exit code {code}"
        message = "the program's worker process was stopped (it may have used too much memory)"
        return RunOutcome(error=_error("limit", message), detail=detail)

    # -- workers -----------------------------------------------------------------------------

    def _spawn(self) -> _Worker:
        return _Worker(self._context, self.config, self.settings.worker_start_timeout_s)

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
        old.process.join(1)  # a retiring worker exits by itself right after its reply
        old.kill()
        delay = 0.05
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


def _error(kind: str, message: str) -> dict:
    return {"kind": kind, "message": message, "line": None, "col": None}
