"""Sandbox tests need a kernel with Landlock and seccomp; elsewhere they skip, saying why."""

from __future__ import annotations

import pytest

from app.sandbox import SandboxReport, probe


@pytest.fixture(scope="session")
def kernel_report() -> SandboxReport:
    return probe()


@pytest.fixture(autouse=True)
def _needs_confinement(kernel_report: SandboxReport) -> None:
    for name in ("landlock", "seccomp"):
        layer = getattr(kernel_report, name)
        if layer.status != "on":
            pytest.skip(f"{name} is {layer.status} on this machine: {layer.reason}")


@pytest.fixture
def run_dir(tmp_path):
    """The run's private, empty directory; the tmp_path around it lies outside the sandbox."""
    path = tmp_path / "run"
    path.mkdir()
    return str(path)
