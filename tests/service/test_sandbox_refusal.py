"""Without the kernel sandbox the server runs no program, unless a person started it for trusted local use.

The kernel here has every layer, so a worker that could not confine itself is stood in for by its
report (what a worker on macOS or an old kernel sends); the pool and the API are the real ones.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.service.pool import SandboxUnavailable, WorkerPool
from app.settings import ServiceSettings

UNCONFINED = SimpleNamespace(confined=False, sandbox={"error": "Landlock is not supported by this kernel",
                                                       "seccomp": {"status": "unavailable", "reason": "no seccomp"}})


def _pool(**settings) -> WorkerPool:
    service = ServiceSettings(workers=1, **settings)
    return WorkerPool(service, service.engine_limits())


def test_a_worker_that_could_not_confine_itself_stops_every_run():
    pool = _pool()
    pool._note_sandbox(UNCONFINED)
    assert "Landlock is not supported" in pool.sandbox_refusal
    with pytest.raises(SandboxUnavailable):
        pool.run({"source": "x = 1"}, wait_s=0.1)
    state = pool.sandbox_state()
    assert state["refusal"] and state["layers"]["seccomp"]["status"] == "unavailable"


def test_trusted_local_use_runs_without_it_and_says_so(caplog):
    pool = _pool(allow_unsandboxed=True)
    pool._note_sandbox(UNCONFINED)
    assert pool.sandbox_refusal is None and pool.sandbox_state()["unsandboxed_allowed"]
    assert any("WITHOUT the kernel sandbox" in record.getMessage() for record in caplog.records)


def test_the_api_answers_503_with_the_reason(client):
    pool = client.app.state.service.pool
    pool.sandbox_refusal = "Landlock is not supported by this kernel"
    try:
        response = client.post("/api/trace", json={"source": "import torch\nx = torch.ones(1)"})
        health = client.get("/api/health").json()
    finally:
        pool.sandbox_refusal = None
    assert response.status_code == 503
    error = response.json()["error"]
    assert (error["kind"], error["key"]) == ("sandbox", "sandbox_unavailable")
    assert "Landlock is not supported" in error["message"]
    assert health["status"] == "degraded" and health["sandbox"]["refusal"]
    assert client.post("/api/trace", json={"source": "x = 1"}).status_code == 200  # confined again


def test_health_reports_every_layer_on_this_machine(client):
    layers = client.get("/api/health").json()["sandbox"]["layers"]
    for name in ("no_new_privs", "rlimits", "landlock", "seccomp"):
        assert layers[name]["status"] == "on", (name, layers[name])
    assert layers["confined"] is True
