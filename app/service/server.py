"""`python -m app serve`: uvicorn in one process, programs in the worker pool it starts.

One uvicorn process on purpose: its event loop only waits on workers' pipes, so more server
processes would add memory (and more pools) without adding throughput; `--workers` sizes the pool.
Its HTTP protocol is uvicorn's h11 one with the timeouts and connection caps of
`app.service.connections`; the process may open enough files for `max_connections`, and gives freed
memory back to the system at once (a burst of large traces must not leave the server bigger).
"""

from __future__ import annotations

import ctypes
import resource
import sys

import uvicorn

from app.service.api import create_app
from app.service.connections import ConnectionGuard, protocol_class
from app.service.logs import limit_foreign_loggers
from app.settings import ServiceSettings

FILE_RESERVE = 256  # descriptors kept for everything but client connections (pipes, files, workers)
BACKLOG = 2048  # uvicorn's default listen backlog; asyncio also accepts up to this many at once
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
STARTUP_FAILURE = 3  # uvicorn's exit code when the server could not start
MMAP_THRESHOLD_BYTES = 128 * 1024


def run(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, trusted_local: bool = False) -> None:
    """Serve until interrupted; the pool's workers stop with the app (and die with the process)."""
    settings = ServiceSettings.from_env()
    if workers is not None:
        settings = settings.with_changes(workers=workers)
    if trusted_local:
        settings = settings.with_changes(allow_unsandboxed=True)
    # asyncio accepts up to `backlog` connections in one go before the guard sees any of them, so
    # the cap leaves room for one such burst below the file limit: accept() never fails for lack of
    # descriptors, and the server never stops accepting (asyncio pauses a second when it does).
    files = raise_file_limit(settings.max_connections + BACKLOG + FILE_RESERVE)
    backlog = min(BACKLOG, max(64, (files - FILE_RESERVE) // 2))
    guard = ConnectionGuard(settings, max_connections=max(1, min(settings.max_connections,
                                                                 files - FILE_RESERVE - backlog)))
    return_freed_memory()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=protocol_class(guard),
        backlog=backlog,
        ws="none",  # no WebSocket routes: an upgrade request is an ordinary request
        access_log=False,  # one structured line per request comes from RequestLogMiddleware
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.hard_time_limit_s) + 2,
    )
    limit_foreign_loggers()  # after uvicorn has configured its loggers
    server = uvicorn.Server(config)
    try:
        server.run()
    except KeyboardInterrupt:  # uvicorn re-raises the signal once it has shut down, as uvicorn.run expects
        pass
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def raise_file_limit(wanted: int) -> int:
    """Raise this process's soft RLIMIT_NOFILE towards `wanted` (up to the hard limit); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def return_freed_memory() -> None:
    """glibc: serve every allocation over 128 KiB with its own mapping, given back when freed.

    By default the threshold grows to the largest block freed (up to 32 MiB), after which large
    traces come from the heap and their memory stays with the process once they are sent. Fixing it
    costs a mapping per large allocation, a few a request. Elsewhere (musl, macOS) nothing is done.
    """
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        libc.mallopt(M_TRIM_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass
