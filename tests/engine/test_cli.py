"""`python -m app trace FILE`: the same JSON as the engine, exit code 2 and an error object on failure."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.engine.test_lesson import LESSON


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "trace", *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_trace_from_a_file(tmp_path):
    program = tmp_path / "lesson.py"
    program.write_text(LESSON, encoding="utf-8")
    done = run_cli(str(program))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["version"] == 3
    j = [n for n in result["nodes"] if n["kind"] == "tensor" and n.get("name") == "J"][0]
    assert j["value"]["data"] == 14.0


def test_trace_from_stdin_with_root():
    done = run_cli("-", "--root", "a", stdin="import torch\nw = torch.ones(2, requires_grad=True)\na = (w * 3).sum()\nb = w * 5\n")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    w = [n for n in result["nodes"] if n["kind"] == "tensor" and n.get("name") == "w"][0]
    assert w["grad"]["data"] == [3.0, 3.0]


def test_program_error_exits_2_with_the_error_object():
    done = run_cli("-", stdin="x = 1\nprint(y)\n")
    assert done.returncode == 2
    assert json.loads(done.stdout) == {"error": {"kind": "name", "line": 2, "col": 7,
                                                 "message": "NameError: name 'y' is not defined"}}
