"""`python -m app trace --local SCRIPT ARGS` and `python -m app open SCRIPT ARGS --no-browser`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from app.cli import main
from tests.local.conftest import Offline, graph_shown
from tests.local.scripts import TRAIN_SCRIPT, train_reference
from tests.whole import whole

ROOT = Path(__file__).resolve().parents[2]


def run_app(capsys, *args: str) -> tuple[int, str, str]:
    """`python -m app ARGS`, in this process (torch is imported once): (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def close(a, b, tol=1e-5) -> bool:
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.fixture
def train_script(tmp_path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(TRAIN_SCRIPT, encoding="utf-8")
    return path


def test_trace_local_runs_the_script_as_python_would_and_matches_torch(train_script, capsys):
    code, out, err = run_app(capsys, "trace", "--local", str(train_script), "3", "0.1")
    assert code == 0, err
    assert "with your own rights" in err
    trace = whole(json.loads(out))
    expected = train_reference(3, 0.1)
    # argv, __name__, __file__: the script saw what `python train.py 3 0.1` gives it.
    assert trace["output"] == [f"loss {expected['loss']:.6f} __main__ True"]
    tensors = {}  # each name's first node: a parameter as the forward pass used it
    for node in trace["nodes"]:
        if node["kind"] == "tensor" and node["name"]:
            tensors.setdefault(node["name"], node)
    assert close(tensors["loss"]["value"]["data"], expected["loss"])
    for name, grad in expected["grad"].items():
        assert close(tensors[name]["grad"]["data"], grad), name
        assert close(tensors[name]["value"]["data"], expected["before"][name]), name
    step = [u for u in trace["updates"] if u["kind"] == "optimizer"][0]
    assert step["optimizer"] == "SGD" and len(step["params"]) == 4
    for change in step["params"]:
        assert close(change["before"]["data"], expected["before"][change["name"]]), change["name"]
        assert close(change["grad"]["data"], expected["grad"][change["name"]]), change["name"]
        assert close(change["after"]["data"], expected["after"][change["name"]]), change["name"]
    # Sites are the script's real file and lines; ops carry their module paths and call stack.
    ops = [n for n in trace["nodes"] if n["kind"] == "op"]
    linear = [op for op in ops if op["op"] == "linear"]
    assert [op["module"] for op in linear] == ["net.fc1", "net.fc2"]
    assert {op["module_class"] for op in linear} == {"Linear"}
    lines = TRAIN_SCRIPT.splitlines()
    tanh = [op for op in ops if op["op"] == "tanh"][0]
    assert "torch.tanh(self.fc1(x))" in lines[tanh["span"]["line"] - 1]
    assert tanh["stack"] == ["main", "Net.forward"]


def test_a_failing_script_exits_2_with_its_own_traceback(tmp_path, capsys):
    script = tmp_path / "broken.py"
    script.write_text("import torch\n\ndef f(a):\n    return a @ torch.ones(3, 2)\n\nf(torch.ones(2, 2))\n")
    code, out, err = run_app(capsys, "trace", "--local", str(script))
    assert code == 2
    error = json.loads(out)["error"]
    assert error["kind"] == "runtime" and error["line"] == 4
    # The script's traceback, with its real path, from its first frame on.
    assert f'File "{script}", line 6, in <module>' in err
    assert f'File "{script}", line 4, in f' in err
    assert "app/engine" not in err


def test_open_serves_the_trace_on_a_free_port_and_the_page_shows_it(train_script, tmp_path, local_browser):
    log = tmp_path / "open.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "app", "open", str(train_script), "5", "0.01", "--no-browser"],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=err, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        url = _url_from(log, proc)
        assert url.startswith("http://127.0.0.1:") and url.endswith("/?trace=/api/traces/1")
        base = url.split("/?")[0]
        with urllib.request.urlopen(base + "/api/traces/1", timeout=10) as response:
            given = json.loads(response.read())
        assert given["source"] == TRAIN_SCRIPT and given["title"] == "train.py"
        offline = Offline(local_browser, allow_hosts=(base,))
        try:
            offline.page.goto(url)
            assert graph_shown(offline.page) == len(given["trace"]["nodes"])
            assert offline.page.locator("#btn-trace").is_hidden()
            assert "def forward(self, x):" in offline.page.locator("#editor").inner_text()
            assert not offline.refused and not offline.errors, (offline.refused, offline.errors)
        finally:
            offline.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "loss" in proc.stdout.read()  # what the script printed, shown in the terminal too


def _url_from(log: Path, proc: subprocess.Popen, timeout_s: float = 60.0) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if " is at http" in line:
                return line.rsplit(" ", 1)[-1]
        if proc.poll() is not None:
            pytest.fail(f"`open` exited {proc.returncode}: {log.read_text()}")
        time.sleep(0.1)
    pytest.fail(f"`open` printed no URL: {log.read_text()}")
