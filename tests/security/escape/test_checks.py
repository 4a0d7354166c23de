"""The escape suite's own checks catch what they claim to, without a server: a leaking answer,
a connection, a signal, a created path, a changed canary. And every attempt renders to valid
Python that holds no secret (so an echo of a program's source can never pass for a leak)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.security.escape.attempts import ATTEMPTS, GROUPS, PROBES
from tests.security.escape.canaries import ENV_NAME, Canaries
from tests.security.escape.test_escape import EscapeRun

pytestmark = pytest.mark.security

CLEAN_TRACE = {
    "version": 3, "nodes": [], "forward": [], "backward": [], "passes": [],
    "gradcheck": None, "output": ["tensor([-28.])"], "warnings": [],
    "stats": {"statements": 1, "ops": 0, "tensors": 0, "backward_passes": 0, "backward_steps": 0, "elapsed_ms": 1.0},
}


@pytest.fixture(scope="module")
def canaries():
    planted = Canaries()
    base = Path(tempfile.mkdtemp(prefix="grafo-escape-checks-"))
    server = SimpleNamespace(home=base / "home", cwd=base / "cwd", tmp=base / "tmp")
    for path in (server.home, server.cwd, server.tmp):
        path.mkdir()
    planted.plant_in_server(server)
    yield planted
    planted.close()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def context(canaries):
    return canaries.context(server_pid=1234, forkserver_pid=1235, server_port=8000)


def _trace_with_output(*lines: str) -> bytes:
    return json.dumps({**CLEAN_TRACE, "output": list(lines)}).encode()


def _judge(canaries, status: int, body: bytes) -> list[str]:
    run = EscapeRun.__new__(EscapeRun)  # only what judge() needs: the canaries and a healthy server
    run.canaries = canaries
    run.health = lambda: None
    return run.judge("test", status, body, 0.1)


def test_a_clean_answer_passes(canaries):
    assert canaries.secrets_in(_trace_with_output("tensor([-28.])")) == []
    assert _judge(canaries, 200, _trace_with_output("hello")) == []
    error = {"error": {"kind": "runtime", "message": "PermissionError: [Errno 13] Permission denied: "
                                                     f"'{canaries.secret_file}'", "line": 3, "col": 1}}
    assert _judge(canaries, 400, json.dumps(error).encode()) == []


@pytest.mark.parametrize("where", ["output", "error", "raw", "escaped-json"])
def test_a_token_anywhere_is_a_leak(canaries, where):
    secret = canaries.file_token
    if where == "output":
        body = _trace_with_output("grafo canary secret file " + secret)
    elif where == "error":
        body = json.dumps({"error": {"kind": "runtime", "message": f"ValueError: {secret}"}}).encode()
    elif where == "raw":
        body = f"Internal Server Error {secret}".encode()
    else:  # every character escaped the way json.dumps(ensure_ascii) can
        body = ('{"output": ["' + "".join(f"\\u{ord(c):04x}" for c in secret) + '"]}').encode()
    assert canaries.secrets_in(body) == ["secret file (outside the repo)"]
    assert any("secret file" in problem for problem in _judge(canaries, 200 if where != "error" else 400, body))


def test_every_kind_of_secret_is_recognised(canaries):
    needles = canaries.needles()
    assert any(name.startswith("repo file app/settings.py") for name in needles), needles
    assert any(name.startswith("repo file pyproject.toml") for name in needles), needles
    for name, needle in needles.items():
        assert canaries.secrets_in(_trace_with_output("x " + needle + " y")) == [name]
    env = canaries.secrets_in(_trace_with_output(f"{{'{ENV_NAME}': '{canaries.env_token}'}}"))
    assert env == [f"environment variable {ENV_NAME}"]


def test_a_repo_file_printed_as_repr_is_a_leak(canaries):
    text = (Path(__file__).resolve().parents[3] / "app" / "settings.py").read_text()
    body = _trace_with_output(repr(text.encode())[:5000])
    assert any(name.startswith("repo file app/settings.py") for name in canaries.secrets_in(body))


def test_the_marker_counts_only_when_joined(canaries):
    halves = f"MARK = '{canaries.mark_a}' + '{canaries.mark_b}'"
    assert canaries.secrets_in(_trace_with_output(halves)) == []
    assert canaries.secrets_in(_trace_with_output(canaries.mark + " read /etc/passwd")) == [
        "escape marker (the program did something the sandbox must refuse)"]


def test_judge_flags_5xx_runaways_and_broken_bodies(canaries):
    assert any("answered 500" in p for p in _judge(canaries, 500, b"Internal Server Error"))
    assert any("answered 503" in p for p in _judge(canaries, 503, b'{"error": {"kind": "sandbox"}}'))
    assert any("no answer" in p for p in _judge(canaries, 0, b""))
    assert any("not a valid trace" in p for p in _judge(canaries, 200, b'{"version": 1, "nodes": "x"}'))
    assert any("without an error body" in p for p in _judge(canaries, 400, b"oops"))
    huge = _trace_with_output("x" * (17 * 1024 * 1024))
    assert any("bytes" in p for p in _judge(canaries, 200, huge))


def test_connections_reach_the_listeners(canaries):
    canaries.problems()  # start clean
    with socket.create_connection(("127.0.0.1", canaries.listeners.tcp_port), timeout=2) as sock:
        sock.sendall(b"tcp-check")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"udp-check", ("127.0.0.1", canaries.listeners.udp_port))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(canaries.listeners.unix_path)
        sock.sendall(b"unix-check")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect("\0" + canaries.listeners.abstract_name)
        sock.sendall(b"abstract-check")
    deadline = time.monotonic() + 3
    while canaries.listeners.count() < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    problems = canaries.problems()
    for kind in ("tcp 127.0.0.1", "udp 127.0.0.1", "unix path", "unix abstract"):
        assert any(kind in p for p in problems), problems
    assert canaries.problems() == []  # reported once


def test_a_signal_reaches_the_sink(canaries):
    canaries.problems()
    os.kill(canaries.sink.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 3
    while not canaries.sink.since(0) and time.monotonic() < deadline:
        time.sleep(0.05)
    problems = canaries.problems()
    assert any("SIGUSR1 reached the signal sink" in p for p in problems), problems
    os.kill(canaries.sink.pid, signal.SIGSTOP)
    time.sleep(0.2)
    problems = canaries.problems()
    assert any("signal sink was stopped" in p for p in problems), problems
    assert canaries.sink.state() is None  # resumed by the check


def test_created_paths_and_changed_canaries_are_found(canaries, context):
    canaries.problems()
    for name in ("W_TMP", "W_SERVER_HOME", "W_CANARY_DIR"):
        Path(context[name] + "-check").write_text("x")
    os.chmod(canaries.secret_file, 0o644)
    Path(context["SERVER_CWD"], "dropped").write_text("x")
    problems = canaries.problems()
    for name in ("W_TMP", "W_SERVER_HOME", "W_CANARY_DIR"):
        assert any(context[name] + "-check" in p for p in problems), (name, problems)
        assert not os.path.exists(context[name] + "-check")  # cleaned up
    assert any("changed: mode" in p for p in problems), problems
    assert any("dropped" in p for p in problems), problems
    os.remove(Path(context["SERVER_CWD"], "dropped"))
    os.rename(canaries.secret_file, str(canaries.secret_file) + ".moved")
    problems = canaries.problems()
    assert any("is gone" in p for p in problems), problems
    os.remove(str(canaries.secret_file) + ".moved")
    canaries.snapshot()
    assert canaries.problems() == []  # replanted


def test_attempts_render_compile_and_hold_no_secret(canaries, context):
    assert len(ATTEMPTS) >= 150
    counts = {group.name: sum(1 for a in ATTEMPTS if a.group == group.name) for group in GROUPS}
    assert all(count >= 5 for count in counts.values()), counts
    for attempt in [*ATTEMPTS, *PROBES.values()]:
        source = attempt.render(context)
        compile(source, f"{attempt.group}/{attempt.id}", "exec")
        assert canaries.secret_names_in_source(source) == [], attempt.id
    gated = {attempt.gate for attempt in ATTEMPTS if attempt.gate}
    assert gated <= set(PROBES), gated
