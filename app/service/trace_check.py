"""Checking a worker's trace against the contract without stalling the server.

What a worker sends is untrusted, so the server validates every trace before passing it on. For a
trace of a few hundred kilobytes that takes milliseconds. A 10,000-op trace (about 15 MB) takes
pydantic about 1.5 s while holding the GIL: done in the server, every other request (health checks
included) would wait for it. Large traces are checked in a process of their own, forked from the
forkserver like the workers; it answers one byte and exits, and its memory goes with it.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from app.trace_model import Trace

log = logging.getLogger("grafo.service")

IN_PROCESS_BYTES = 1 << 20  # below this, checking here is quicker than forking a checker
VALID, INVALID = b"1", b"0"


def trace_is_valid(body: bytes, context, timeout_s: float) -> bool:
    """True when `body` is a trace of the contract. `context`: the pool's forkserver context."""
    if len(body) <= IN_PROCESS_BYTES:
        return _valid(body)
    parent_conn, child_conn = context.Pipe(duplex=True)
    process = context.Process(target=_checker_entry, args=(child_conn,), name="grafo-trace-check", daemon=True)
    process.start()
    child_conn.close()
    try:
        parent_conn.send_bytes(body)
        if not parent_conn.poll(timeout_s):
            log.warning("the trace checker took longer than %.0f s: the trace is refused", timeout_s)
            return False
        return parent_conn.recv_bytes(1) == VALID
    except (EOFError, OSError):
        return False
    finally:
        parent_conn.close()
        if process.is_alive():
            process.kill()
        process.join(5)


def _valid(body: bytes) -> bool:
    try:
        Trace.model_validate_json(body)
    except ValidationError:
        return False
    return True


def _checker_entry(conn) -> None:
    """The checker process: read one trace, answer one byte."""
    try:
        conn.send_bytes(VALID if _valid(conn.recv_bytes()) else INVALID)
    finally:
        conn.close()
