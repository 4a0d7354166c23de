"""A short coverage-guided fuzzing run of the engine (atheris), as a subprocess.

`fuzz/fuzz_interpreter.py` documents the longer runs. Here: about 15 s on a scratch copy of the
seed corpus (the examples and the catalogue's programs); any crash, timeout or out-of-memory
finding fails the test, with the input libFuzzer saved.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.security.harness import REPORT, ROOT

FUZZ_SECONDS = 15


def test_short_fuzz_run(tmp_path):
    pytest.importorskip("atheris", reason="atheris is not installed (pip install atheris)")
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "fuzz" / "corpus", corpus)
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    command = [sys.executable, str(ROOT / "fuzz" / "fuzz_interpreter.py"), f"-max_total_time={FUZZ_SECONDS}",
               "-timeout=10", "-rss_limit_mb=3072", f"-dict={ROOT / 'fuzz' / 'grafo.dict'}",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1", str(corpus)]
    completed = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=FUZZ_SECONDS + 120)
    log = completed.stderr + completed.stdout
    findings = sorted(path.name for path in artifacts.iterdir())
    assert completed.returncode == 0 and not findings, f"fuzzing found {findings}:\n{log[-4000:]}"
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    coverage = re.findall(r"cov: (\d+)", log)
    REPORT.append(f"atheris: {runs.group(1) if runs else '?'} inputs in {FUZZ_SECONDS} s, "
                  f"coverage {coverage[-1] if coverage else '?'} edges, 0 findings")
