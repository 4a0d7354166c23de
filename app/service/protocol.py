"""What the server and a worker process say to each other, importable without torch.

The server process never imports torch (it stays small and its threads never meet torch's); only
the forkserver and the workers do, through `app.service.worker`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.settings import Limits


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs, fixed when it starts."""

    limits: Limits
    memory_limit_bytes: int
    cpu_seconds_per_run: int


@dataclass(frozen=True)
class Reply:
    """One run's answer. `status` is "ok" (payload: JSON bytes) or "error" (payload: error dict).

    `retire` asks the parent to replace this worker after the reply (its state may be dirty);
    `detail` is a traceback for the server log, never sent to the client.
    """

    status: str
    payload: Any
    retire: bool = False
    detail: str | None = None


def worker_entry(conn, config: WorkerConfig) -> None:
    """Process target: import the worker (already loaded in the forkserver) and run it."""
    from app.service.worker import main

    main(conn, config)
