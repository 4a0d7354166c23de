"""What a program finds inside: no network, no environment, no descriptors, working torch/numpy."""

from __future__ import annotations

import ctypes
import os
import posix
import resource
import select
import socket

import numpy as np
import pytest
import torch  # imported before any fork, as in a worker forked from a warm parent

from app.sandbox import LAYERS, SandboxReport, probe
from tests.sandbox.helpers import refused, run_sandboxed

FAMILIES = {"inet": socket.AF_INET, "inet6": socket.AF_INET6, "unix": socket.AF_UNIX,
            "netlink": socket.AF_NETLINK, "packet": socket.AF_PACKET}


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_no_socket_of_any_family(family, run_dir):
    assert refused(run_sandboxed(lambda: socket.socket(family, socket.SOCK_DGRAM), run_dir))


def test_a_connection_to_the_parent_never_arrives(run_dir):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        outcome = run_sandboxed(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(), run_dir)
        assert refused(outcome)
        assert select.select([listener], [], [], 0.2)[0] == []


def test_the_environment_is_empty_but_home_and_tmpdir(monkeypatch, run_dir):
    monkeypatch.setenv("GRAFO_SANDBOX_SECRET", "s3cret")
    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p
    original = []  # where the child's C environment strings were, before enter()

    def remember_strings():
        environ = ctypes.POINTER(ctypes.c_void_p).in_dll(libc, "environ")
        original.extend(environ[i] for i in range(len(os.environ)))

    def environment():
        leftovers = [ctypes.string_at(address) for address in original if ctypes.string_at(address)]
        secret = libc.getenv(b"GRAFO_SANDBOX_SECRET")
        return [dict(os.environ), sorted(k.decode() for k in posix.environ), secret, leftovers]

    expected = {"HOME": run_dir, "TMPDIR": run_dir}
    outcome = run_sandboxed(environment, run_dir, prepare=remember_strings)
    assert outcome["ok"] == [expected, ["HOME", "TMPDIR"], None, []]


def test_only_the_kept_descriptors_and_stdio_stay_open(run_dir):
    extra = os.open(os.devnull, os.O_RDONLY)  # inherited by the child, must be closed there
    try:
        outcome = run_sandboxed(lambda: [fd for fd in range(1024) if _is_open(fd)], run_dir)
    finally:
        os.close(extra)
    assert outcome["ok"] == sorted({0, 1, 2, *outcome["keep_fds"]})


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def test_limits_are_in_force(run_dir):
    names = ("RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE")
    limits = lambda: {name: resource.getrlimit(getattr(resource, name)) for name in names}  # noqa: E731
    outcome = run_sandboxed(limits, run_dir, memory_bytes=2 << 30, file_size_bytes=4096, open_files=32)
    assert outcome["ok"] == {"RLIMIT_DATA": [2 << 30] * 2, "RLIMIT_FSIZE": [4096] * 2,
                             "RLIMIT_NOFILE": [32] * 2, "RLIMIT_CORE": [0, 0]}


def test_torch_autograd_and_numpy_work_inside(run_dir):
    def compute():
        w = torch.tensor([2.0, 3.0], requires_grad=True)
        loss = (w**3).sum()
        loss.backward()
        return [w.grad.tolist(), int(np.arange(10).sum()), float(np.linalg.norm(np.ones(4)))]

    assert run_sandboxed(compute, run_dir)["ok"] == [[12.0, 27.0], 45, 2.0]


def test_a_module_trains_inside(run_dir):
    def train():
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = torch.randn(16, 3), torch.randn(16, 1)
        losses = []
        for _ in range(20):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses[-1] < losses[0]

    assert run_sandboxed(train, run_dir)["ok"] is True


def test_enter_reports_every_layer_on(run_dir):
    report = SandboxReport.from_dict(run_sandboxed(lambda: None, run_dir)["report"])
    assert report.confined
    assert report.landlock_abi >= 1 and not report.seccomp_denies_open
    assert {name: getattr(report, name).status for name in LAYERS if name != "namespaces"} == dict.fromkeys(
        ["no_new_privs", "rlimits", "landlock", "seccomp"], "on"
    )


def test_probe_reports_what_the_kernel_supports():
    report = probe()
    assert report.confined
    assert SandboxReport.from_dict(report.to_dict()) == report
    assert report.to_dict()["confined"] is True
    assert all(getattr(report, name).reason for name in LAYERS)


def test_namespaces_can_be_left_off_by_the_policy(run_dir):
    report = SandboxReport.from_dict(run_sandboxed(lambda: None, run_dir, namespaces=False)["report"])
    assert report.namespaces.status == "off" and report.confined
