"""The Dockerfile, checked statically (no Docker engine runs on our machines)."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from app.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            pairs.append((keyword.upper(), rest.strip()))
    return pairs


def _all(keyword: str) -> list[str]:
    return [rest for name, rest in _instructions() if name == keyword]


def _exec_form(rest: str) -> list[str]:
    return json.loads(rest) if rest.startswith("[") else shlex.split(rest)


def test_base_image_is_slim_python_311():
    [base] = _all("FROM")
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base), base


def test_torch_is_the_pinned_cpu_build():
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==2.13.0" in pinned
    runs = " ".join(_all("RUN"))
    assert "torch==2.13.0" in runs
    assert "--index-url https://download.pytorch.org/whl/cpu" in runs


def test_runs_as_a_non_root_user():
    users = _all("USER")
    assert users, "no USER instruction"
    assert users[-1] not in ("root", "0", "0:0")
    names = [name for name, _ in _instructions()]
    assert names.index("USER") > max(i for i, name in enumerate(names) if name == "RUN")


def test_exposes_8000_and_serves_on_all_interfaces():
    assert "8000" in " ".join(_all("EXPOSE")).split()
    [command] = _all("CMD")
    args = _exec_form(command)
    assert args[args.index("--host") + 1] == "0.0.0.0"
    assert args[args.index("--port") + 1] == "8000"


def test_command_names_the_real_entry_point():
    [command] = _all("CMD")
    args = _exec_form(command)
    assert args[:3] == ["python", "-m", "app"]
    assert (ROOT / "app" / "__main__.py").is_file()
    parsed = build_parser().parse_args(args[3:])  # the CLI accepts exactly these arguments
    assert parsed.command == "serve" and parsed.port == 8000


def test_healthcheck_probes_the_health_endpoint():
    [check] = _all("HEALTHCHECK")
    assert "CMD" in check and "/api/health" in check
    assert ":8000/api/health" in check


@pytest.mark.parametrize("instruction", ["COPY", "ADD"])
def test_every_copied_file_exists(instruction):
    ignored = _dockerignore()
    for rest in _all(instruction):
        parts = [part for part in _exec_form(rest) if not part.startswith("--")]
        for source in parts[:-1]:
            assert (ROOT / source).exists(), f"{instruction} {source}: no such file"
            assert source.rstrip("/") not in ignored, f"{source} is excluded by .dockerignore"


def test_the_image_has_what_the_app_reads_at_run_time():
    copied = {part.rstrip("/") for rest in _all("COPY") for part in _exec_form(rest)[:-1]}
    assert {"app", "templates", "static", "pyproject.toml"} <= copied


def _dockerignore() -> set[str]:
    path = ROOT / ".dockerignore"
    lines = path.read_text().splitlines() if path.exists() else []
    return {line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")}
