"""Isolation: time limit, memory cap, killed workers, saturation; the service stays up through all.

No assertion here depends on how fast the machine is: slow programs are many times slower than the
limits they are meant to hit, and waits poll for a state instead of sleeping for a guess.
"""

from __future__ import annotations

import os
import signal
import threading

import torch

from app.examples import LESSON
from app.service.api import create_app  # noqa: F401  (the fixtures build apps)
from app.settings import ServiceSettings
from tests.service.conftest import (
    SLOW_MANY_OPS,
    SLOW_SINGLE_OP,
    make_client,
    pid_alive,
    tensor_named,
    wait_until,
)


def _lesson_ok(test_client) -> None:
    response = test_client.post("/api/trace", json={"source": LESSON})
    assert response.status_code == 200, response.text
    assert tensor_named(response.json(), "w")["grad"]["data"] == [-28.0]


def _pool(test_client):
    return test_client.app.state.service.pool


def test_cooperative_timeout_then_next_request_succeeds(tight_client):
    response = tight_client.post("/api/trace", json={"source": SLOW_MANY_OPS, "gradcheck": False})
    assert response.status_code == 400
    assert response.json()["error"]["kind"] == "timeout"
    _lesson_ok(tight_client)


def test_single_long_op_is_killed_from_outside(tight_client):
    """One matmul of seconds: no Python runs during it, so only the parent's SIGKILL can stop it."""
    before = _pool(tight_client).state()
    response = tight_client.post("/api/trace", json={"source": SLOW_SINGLE_OP, "gradcheck": False})
    assert response.status_code == 400
    assert response.json()["error"]["kind"] == "timeout", response.text
    _lesson_ok(tight_client)
    assert wait_until(lambda: _pool(tight_client).state()["alive"] == 2)
    after = _pool(tight_client).state()
    assert after["timeouts"] == before["timeouts"] + 1
    assert after["restarts"] >= before["restarts"] + 1


def test_memory_bomb_refused_by_the_engine(client):
    for source in ("import torch\nx = torch.ones(100000, 100000)",
                   "import torch\nx = torch.ones(1).expand(100000, 100000).sum()"):
        response = client.post("/api/trace", json={"source": source})
        assert response.status_code == 400
        assert response.json()["error"]["kind"] == "limit"
    _lesson_ok(client)
    assert client.get("/api/health").json()["status"] == "ok"


def test_memory_cap_of_the_worker(tight_client):
    """The engine's guard relaxed: a 1.6 GB tensor gets past it and meets the worker's RLIMIT_DATA."""
    response = tight_client.post("/api/trace", json={"source": "import torch\nx = torch.ones(20000, 20000)",
                                                     "gradcheck": False})
    assert response.status_code == 400
    assert response.json()["error"]["kind"] == "limit"
    _lesson_ok(tight_client)
    assert wait_until(lambda: _pool(tight_client).state()["alive"] == 2)


def test_idle_worker_killed_from_outside_is_replaced(client):
    pool = _pool(client)
    victims = pool.worker_pids()
    assert len(victims) == 2
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    _lesson_ok(client)  # the next request succeeds, on a new worker
    assert wait_until(lambda: pool.state()["alive"] == 2 and not set(pool.worker_pids()) & set(victims))
    assert not any(pid_alive(pid) for pid in victims)
    _lesson_ok(client)


def test_worker_killed_during_a_run_answers_that_request_and_serves_the_next():
    settings = ServiceSettings(workers=1, time_limit_s=30, kill_grace_s=1, result_cache_mb=0)
    with make_client(settings) as test_client:
        pool = _pool(test_client)
        [victim] = pool.worker_pids()
        result = {}

        def slow_request():
            result["response"] = test_client.post("/api/trace", json={"source": SLOW_SINGLE_OP, "gradcheck": False})

        thread = threading.Thread(target=slow_request)
        thread.start()
        assert wait_until(lambda: pool.state()["runs"] == 1)  # the worker has the program
        os.kill(victim, signal.SIGKILL)
        # Killed from outside: the pool runs the request once more, on the replacement worker...
        runs = pool.state()["runs"]
        assert wait_until(lambda: pool.state()["runs"] == runs + 1)  # the replacement has the program
        [second] = pool.worker_pids()
        os.kill(second, signal.SIGKILL)  # ...and a second death is reported as the program's
        thread.join(30)
        response = result["response"]
        assert response.status_code == 400
        assert response.json()["error"]["kind"] == "limit"
        _lesson_ok(test_client)
        assert pool.state()["crashes"] == 2


def test_saturated_service_answers_503_with_retry_after():
    settings = ServiceSettings(workers=1, queue_size=0, time_limit_s=30, kill_grace_s=1, retry_after_s=2,
                               result_cache_mb=0)
    with make_client(settings) as test_client:
        service = test_client.app.state.service
        [worker_pid] = service.pool.worker_pids()
        thread = threading.Thread(
            target=test_client.post, args=("/api/trace",), kwargs={"json": {"source": SLOW_SINGLE_OP}}
        )
        thread.start()
        assert wait_until(lambda: service.admission.in_flight == 1)
        response = test_client.post("/api/trace", json={"source": LESSON})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert response.json()["error"]["kind"] == "busy"
        # End the slow run early: the pool runs a program once more after a death, so kill twice.
        os.kill(worker_pid, signal.SIGKILL)
        assert wait_until(lambda: service.pool.state()["runs"] == 2)
        os.kill(*service.pool.worker_pids(), signal.SIGKILL)
        thread.join(30)
        assert not thread.is_alive()
        _lesson_ok(test_client)


def test_twenty_concurrent_requests_in_process(client):
    results = {}

    def request(k: int):
        source = LESSON.replace("y_t = 2 *", f"y_t = {k} *")
        results[k] = client.post("/api/trace", json={"source": source, "gradcheck": False})

    threads = [threading.Thread(target=request, args=(k,)) for k in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for k, response in results.items():
        assert response.status_code == 200, response.text
        x = torch.arange(0, 4)
        w = torch.ones(1, requires_grad=True)
        J = (x * w - k * torch.arange(0, 4)).pow(2).sum()
        J.backward()
        data = response.json()
        assert tensor_named(data, "J")["value"]["data"] == J.item()
        assert tensor_named(data, "w")["grad"]["data"] == w.grad.tolist()
    assert len(results) == 20


def test_result_cache_answers_a_repeated_example_without_a_worker():
    with make_client(ServiceSettings(workers=1, result_cache_mb=1)) as test_client:
        cache = test_client.app.state.service.cache
        first = test_client.post("/api/trace", json={"source": LESSON})
        for pid in _pool(test_client).worker_pids():
            os.kill(pid, signal.SIGKILL)
        second = test_client.post("/api/trace", json={"source": LESSON})
        assert second.status_code == 200 and second.content == first.content
        assert cache.hits == 1
        other = test_client.post("/api/trace", json={"source": LESSON, "eps": 0.01})
        assert other.status_code == 200 and cache.misses == 2
        failed = [test_client.post("/api/trace", json={"source": "x = y"}) for _ in range(2)]
        assert [response.status_code for response in failed] == [400, 400]
        assert cache.state()["entries"] == 2


def test_result_cache_keeps_only_the_built_in_examples_and_says_nothing():
    """A stranger must not learn what others traced: no cache header, no counters in /api/health,
    and a program of one's own is never kept (so answering it fast would tell nothing either)."""
    with make_client(ServiceSettings(workers=1, result_cache_mb=1)) as test_client:
        own = "import torch\nw = torch.ones(2, requires_grad=True)\nJ = (5 * w).sum()\n"
        responses = [test_client.post("/api/trace", json={"source": source}) for source in (own, own, LESSON)]
        assert [response.status_code for response in responses] == [200, 200, 200]
        assert not any(name.startswith("x-grafo-cache") for response in responses for name in response.headers)
        assert test_client.app.state.service.cache.state()["entries"] == 1  # the lesson only
        assert test_client.get("/api/health").json()["cache"] == {"max_bytes": 1024 * 1024}


def test_every_program_runs_in_a_fresh_worker():
    """A program can change anything in its process (torch included): no worker runs two programs."""
    tamper = "import torch\ntorch.ones = None\ntorch.Tensor.sum = None\nx = 1"
    settings = ServiceSettings(workers=1, result_cache_mb=0)
    with make_client(settings) as test_client:
        pool = _pool(test_client)
        [first] = pool.worker_pids()
        assert test_client.post("/api/trace", json={"source": tamper}).status_code == 200
        assert wait_until(lambda: pool.worker_pids() and pool.worker_pids() != [first])
        _lesson_ok(test_client)  # the tampering died with its worker
        assert first not in pool.worker_pids()
