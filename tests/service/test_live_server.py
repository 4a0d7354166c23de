"""Against a real `python -m app serve` process on a free loopback port (uvicorn, real sockets)."""

from __future__ import annotations

import os
import signal
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import torch
from torch.autograd import Variable

from app.examples import LESSON
from tests.service.conftest import LiveServer, descendants, pid_alive, tensor_named, wait_until


def _lesson_variant(k: int) -> str:
    return LESSON.replace("y_t = 2 *", f"y_t = {k} *")


def _expected(k: int) -> tuple[float, list[float]]:
    y = Variable(k * torch.arange(0, 4))
    x = Variable(torch.arange(0, 4))
    w = Variable(torch.ones(1), requires_grad=True)
    J = (x * w - y).pow(2).sum()
    J.backward()
    return J.item(), w.grad.tolist()


def test_lesson_over_http(live_server):
    response = httpx.post(live_server.url + "/api/trace", json={"source": LESSON}, timeout=30)
    assert response.status_code == 200, response.text
    data = response.json()
    J, grad = _expected(2)
    assert (J, grad) == (14.0, [-28.0])
    assert tensor_named(data, "J")["value"]["data"] == J
    assert tensor_named(data, "w")["grad"]["data"] == grad


def test_twenty_concurrent_requests(live_server):
    def request(k: int):
        with httpx.Client(timeout=60) as http:
            return k, http.post(live_server.url + "/api/trace", json={"source": _lesson_variant(k)})

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(request, range(20)))
    assert len(results) == 20
    for k, response in results:
        assert response.status_code == 200, response.text
        J, grad = _expected(k)
        data = response.json()
        assert tensor_named(data, "J")["value"]["data"] == J
        assert tensor_named(data, "w")["grad"]["data"] == grad


def test_413_by_content_length(live_server):
    response = httpx.post(live_server.url + "/api/trace", json={"source": "#" * (65 * 1024)}, timeout=30)
    assert response.status_code == 413
    assert response.json()["error"]["kind"] == "limit"


def test_413_for_a_chunked_body_that_never_ends(live_server):
    """Send more than the limit in chunks and never finish: the answer must come anyway."""
    with socket.create_connection(("127.0.0.1", live_server.port), timeout=20) as sock:
        sock.sendall(
            b"POST /api/trace HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"#" * 4096
        for _ in range(17):  # 68 KiB > 64 KiB limit; the terminating chunk is never sent
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        reply = b""
        while b"\r\n\r\n" not in reply:
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]


def test_worker_sigkilled_from_outside_is_replaced(live_server):
    # Every run retires its worker: wait for the previous test's replacement to be up.
    assert wait_until(lambda: len(_worker_pids(live_server)) == 2)
    workers = _worker_pids(live_server)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    response = httpx.post(live_server.url + "/api/trace", json={"source": LESSON}, timeout=30)
    assert response.status_code == 200
    assert wait_until(lambda: httpx.get(live_server.url + "/api/health").json()["pool"]["alive"] == 2)
    assert not set(_worker_pids(live_server)) & workers


def test_shutdown_leaves_no_process_behind():
    server = LiveServer({"GRAFO_TIME_LIMIT_S": "5"}, workers=2)
    server.wait_ready()
    httpx.post(server.url + "/api/trace", json={"source": LESSON}, timeout=30).raise_for_status()
    children = descendants(server.process.pid)
    assert len(children) >= 3  # the forkserver and two workers
    assert server.stop() == 0
    assert wait_until(lambda: not any(pid_alive(pid) for pid in children), timeout_s=10)


def test_killed_server_leaves_no_orphan():
    """Even when the server itself is SIGKILLed, its workers die with it (PDEATHSIG, pipe EOF)."""
    server = LiveServer({"GRAFO_TIME_LIMIT_S": "5"}, workers=2)
    server.wait_ready()
    children = descendants(server.process.pid)
    server.process.kill()
    server.process.wait(10)
    server.stop()
    assert wait_until(lambda: not any(pid_alive(pid) for pid in children), timeout_s=10)


def _worker_pids(server: LiveServer) -> set[int]:
    """Worker processes: the grandchildren of the server, below its forkserver."""
    pids = descendants(server.process.pid)
    forkservers = {pid for pid in pids if _parent(pid) == server.process.pid}
    return {pid for pid in pids if _parent(pid) in forkservers}


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def test_torch_is_loaded_in_workers_only(live_server):
    """Programs never run in the server process: it does not even load torch."""

    def maps(pid: int) -> str:
        with open(f"/proc/{pid}/maps") as handle:
            return handle.read()

    assert "libtorch" not in maps(live_server.process.pid)
    workers = _worker_pids(live_server)
    assert workers and all("libtorch" in maps(pid) for pid in workers)
