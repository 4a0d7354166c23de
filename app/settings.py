"""Every limit Grafo enforces, with its default, in one place.

Each field can be overridden by an environment variable `GRAFO_<FIELD NAME IN CAPITALS>`
(for example `GRAFO_MAX_SOURCE_BYTES=32768`). The engine reads `Limits`; the web service reads
`ServiceSettings`, which carries the engine's limits to its workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace


def _from_env(cls, prefix: str = "GRAFO_"):
    """Build a dataclass from its defaults, overridden by matching environment variables."""
    overrides = {}
    for field in fields(cls):
        raw = os.environ.get(prefix + field.name.upper())
        if raw is None:
            continue
        default = field.default
        if isinstance(default, bool):
            overrides[field.name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            overrides[field.name] = int(float(raw))
        elif isinstance(default, float):
            overrides[field.name] = float(raw)
        else:
            overrides[field.name] = raw
    return cls(**overrides)


@dataclass(frozen=True)
class Limits:
    """Bounds on one program run, enforced by the engine (each has its own error message). Memory,
    CPU and files are bounded by the kernel around the worker (`ServiceSettings`), not here."""

    max_source_bytes: int = 16 * 1024
    max_lines: int = 1000
    max_ops: int = 10_000
    max_output_chars: int = 64 * 1024
    max_output_lines: int = 500
    time_limit_s: float = 5.0
    value_preview_elements: int = 1_000
    detailed_passes: int = 6  # backward passes kept in full (the first, the last, any asked for)
    detail_ops: int = 3_000  # past this many ops, the first run keeps only summaries
    max_pass_summaries: int = 20_000
    gradcheck_max_elements: int = 64
    seed: int = 0

    @classmethod
    def from_env(cls) -> "Limits":
        return _from_env(cls)

    def with_changes(self, **changes) -> "Limits":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class ServiceSettings:
    """Bounds and knobs of the web service (`GRAFO_<FIELD>` overrides each, like `Limits`).

    `time_limit_s` shares its variable (`GRAFO_TIME_LIMIT_S`) with `Limits.time_limit_s`: the
    engine's cooperative deadline and the service's hard kill are one limit, seen from inside and
    from outside the worker process.
    """

    max_body_bytes: int = 128 * 1024
    workers: int = 0  # 0: one per core
    queue_size: int = 32
    queue_wait_s: float = 10.0
    retry_after_s: int = 1
    time_limit_s: float = 5.0
    kill_grace_s: float = 0.5
    memory_limit_mb: int = 1024
    max_tasks_per_worker: int = 1000
    result_cache_mb: int = 64  # successful traces kept by exact request; 0 turns the cache off
    worker_start_timeout_s: float = 60.0
    log_source: bool = False
    log_level: str = "info"
    # Clients (app/service/connections.py, app/service/admission.py): slow, idle and greedy ones.
    max_runs_per_client: int = 0  # requests one address may have running or waiting (0: half the queue)
    header_timeout_s: float = 10.0  # a request's line and headers must arrive within this
    body_timeout_s: float = 10.0  # and its whole body within this after them
    send_timeout_s: float = 15.0  # a client that reads none of a response for this long is cut off
    max_connections: int = 4096  # open connections in all (kept below the process's file limit)
    max_connections_per_client: int = 64  # open connections per address (0: no cap, e.g. behind a proxy)
    log_interval_s: float = 10.0  # a warning of one kind is written at most once per interval
    max_trace_bytes: int = 24 * 1024 * 1024  # a trace (a response body) never grows past this; 10,000 ops: ~15 MB
    trace_target_bytes: int = 2 * 1024 * 1024  # past this, values are previewed with fewer numbers
    allow_unsandboxed: bool = False  # trusted local use only: run programs even without the sandbox
    run_dir: str = ""  # where each run's private directory is made ("" = the system's temp dir)
    run_file_bytes: int = 16 * 1024 * 1024  # RLIMIT_FSIZE: the largest file a program may write
    run_open_files: int = 64  # RLIMIT_NOFILE inside a worker

    @classmethod
    def from_env(cls) -> "ServiceSettings":
        return _from_env(cls)

    def with_changes(self, **changes) -> "ServiceSettings":
        return replace(self, **changes)

    @property
    def worker_count(self) -> int:
        """The resolved number of worker processes (`workers=0` means one per core)."""
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    @property
    def runs_per_client(self) -> int:
        """The resolved `max_runs_per_client` (0 means half of workers + queue, at least one)."""
        if self.max_runs_per_client > 0:
            return self.max_runs_per_client
        return max(1, (self.worker_count + self.queue_size) // 2)

    @property
    def hard_time_limit_s(self) -> float:
        """When the parent kills a run: the engine's own deadline plus a grace for it to report."""
        return self.time_limit_s + self.kill_grace_s

    def engine_limits(self, base: Limits | None = None) -> Limits:
        """The `Limits` handed to every worker, with the service's time limit in force."""
        return (base or Limits.from_env()).with_changes(time_limit_s=self.time_limit_s)

    def as_dict(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["workers"] = self.worker_count
        values["max_runs_per_client"] = self.runs_per_client
        return values
