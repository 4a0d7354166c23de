"""What the server and a worker process say to each other, importable without torch.

The server process never imports torch (it stays small and its threads never meet torch's); only
the forkserver and the workers do, through `app.service.worker`. Everything on the pipe is JSON
bytes, in this order: worker -> `{"ready": pid, "sandbox": {...}, "confined": bool}`; server ->
the request; worker -> `{"started": true}`; worker -> `{"status": "ok"}` then the trace's JSON, or
`{"status": "error", "error": {...}}`. The server reads each with a size cap and validates it: a
program shares its process with the tracer, so anything the worker says may be forged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.settings import Limits

MAX_CONTROL_BYTES = 64 * 1024  # every message but the trace itself


class ChannelError(Exception):
    """The worker said something that is not the protocol (malformed, too large, out of order)."""


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker needs, fixed when the pool starts."""

    limits: Limits
    memory_limit_bytes: int
    cpu_seconds_per_run: int
    max_trace_bytes: int
    trace_target_bytes: int
    file_size_bytes: int
    open_files: int
    allow_unsandboxed: bool = False
    max_request_bytes: int = 1024 * 1024


def read_message(conn, max_bytes: int = MAX_CONTROL_BYTES) -> dict:
    """One JSON object from the worker, or ChannelError. EOFError/OSError mean the worker is gone."""
    try:
        raw = conn.recv_bytes(max_bytes)
    except OSError as error:
        if "bad message length" in str(error):
            raise ChannelError("a message from the worker was larger than allowed") from None
        raise
    try:
        message = json.loads(raw)
    except ValueError:
        raise ChannelError("a message from the worker was not JSON") from None
    if not isinstance(message, dict):
        raise ChannelError("a message from the worker was not a JSON object")
    return message


def worker_entry(conn, config: WorkerConfig, run_dir: str) -> None:
    """Process target: import the worker (already loaded in the forkserver) and run it."""
    from app.service.worker import main

    main(conn, config, run_dir)
