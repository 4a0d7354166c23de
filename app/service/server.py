"""`python -m app serve`: uvicorn in one process, programs in the worker pool it starts.

One uvicorn process on purpose: its event loop only waits on workers' pipes, so more server
processes would add memory (and more pools) without adding throughput; `--workers` sizes the pool.
"""

from __future__ import annotations

import uvicorn

from app.service.api import create_app
from app.settings import ServiceSettings


def run(host: str = "127.0.0.1", port: int = 8000, workers: int | None = None, trusted_local: bool = False) -> None:
    """Serve until interrupted; the pool's workers stop with the app (and die with the process)."""
    settings = ServiceSettings.from_env()
    if workers is not None:
        settings = settings.with_changes(workers=workers)
    if trusted_local:
        settings = settings.with_changes(allow_unsandboxed=True)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        access_log=False,  # one structured line per request comes from RequestLogMiddleware
        log_level=settings.log_level,
        timeout_graceful_shutdown=int(settings.hard_time_limit_s) + 2,
    )
