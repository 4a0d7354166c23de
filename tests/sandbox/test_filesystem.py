"""Files: the Python installation is readable, the run directory writable, nothing else visible."""

from __future__ import annotations

import errno
import os
import sys

import pytest
import torch

from app.sandbox import SandboxReport, default_readable, landlock
from tests.sandbox.helpers import refused, run_sandboxed

REPO_SETTINGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "app", "settings.py")


def read(path: str):
    return lambda: open(path, "rb").read(64).decode("latin-1")


OUTSIDE = ["/etc/passwd", "/etc/hostname", "/proc/self/environ", "/proc/1/cmdline", REPO_SETTINGS]


def test_the_default_readable_directories_hold_python_but_not_the_project():
    readable = default_readable()
    repo = os.path.dirname(os.path.dirname(REPO_SETTINGS))
    beneath = lambda path: any(path == d or path.startswith(d + "/") for d in readable)  # noqa: E731
    assert beneath(os.path.realpath(os.__file__)) and beneath(os.path.realpath(torch.__file__))
    assert not beneath(REPO_SETTINGS) and not beneath(repo) and not beneath("/etc/passwd")
    assert not any(d.startswith(("/etc", "/proc", "/home")) for d in readable)


@pytest.mark.parametrize("path", OUTSIDE)
def test_files_outside_the_policy_cannot_be_read(path, run_dir):
    if not os.path.exists(path):
        pytest.skip(f"{path} does not exist here")
    assert refused(run_sandboxed(read(path), run_dir))


def test_a_file_beside_the_run_directory_cannot_be_read(tmp_path, run_dir):
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    assert refused(run_sandboxed(read(str(secret)), run_dir))


def test_directories_outside_cannot_be_listed_or_written(run_dir, tmp_path):
    assert refused(run_sandboxed(lambda: os.listdir("/"), run_dir))
    assert refused(run_sandboxed(lambda: open(str(tmp_path / "new.txt"), "w").close(), run_dir))
    assert not (tmp_path / "new.txt").exists()


def test_the_standard_library_can_be_read_and_imported(run_dir):
    assert run_sandboxed(read(os.__file__), run_dir)["ok"].startswith('r"""OS routines')

    def import_fresh():
        sys.modules.pop("colorsys", None)
        import colorsys

        return colorsys.rgb_to_hsv(1.0, 0.0, 0.0)

    assert run_sandboxed(import_fresh, run_dir)["ok"] == [0.0, 1.0, 1.0]


def test_the_run_directory_is_the_private_read_write_cwd(run_dir):
    def write_and_read():
        with open("out.txt", "w") as file:
            file.write("hello")
        os.mkdir("sub")
        with open("out.txt") as file:
            return [os.getcwd(), file.read(), sorted(os.listdir("."))]

    assert run_sandboxed(write_and_read, run_dir)["ok"] == [run_dir, "hello", ["out.txt", "sub"]]


def test_a_write_past_the_file_size_limit_fails(run_dir):
    def write_too_much():
        with open("big.bin", "wb") as file:
            file.write(b"x" * 8192)

    outcome = run_sandboxed(write_too_much, run_dir, file_size_bytes=4096)
    assert outcome["errno"] == errno.EFBIG, outcome
    assert os.path.getsize(os.path.join(run_dir, "big.bin")) == 4096


def test_files_outside_keep_their_mode_times_and_attributes(tmp_path, run_dir):
    """Calls Landlock does not restrict (chmod, utime, xattrs, truncate by path) are refused."""
    secret = str(tmp_path / "secret.txt")
    with open(secret, "w") as file:
        file.write("not yours")
    before = os.stat(secret)
    for change in (
        lambda: os.chmod(secret, 0o777),
        lambda: os.utime(secret, (0, 0)),
        lambda: os.setxattr(secret, "user.grafo", b"x"),
        lambda: os.truncate(secret, 0),
    ):
        assert refused(run_sandboxed(change, run_dir))
    after = os.stat(secret)
    assert (after.st_mode, after.st_mtime_ns, after.st_size) == (before.st_mode, before.st_mtime_ns, before.st_size)


def test_without_landlock_seccomp_refuses_every_open(run_dir):
    """The fallback on a kernel without Landlock: still confined, by refusing open itself."""

    def open_after_enter():
        return [os.getcwd(), open(os.__file__).read(1)]

    outcome = run_sandboxed(open_after_enter, run_dir, prepare=_pretend_no_landlock)
    assert refused(outcome)
    report = SandboxReport.from_dict(outcome["report"])
    assert report.landlock.status == "unavailable" and report.seccomp_denies_open and report.confined


def _pretend_no_landlock() -> None:
    landlock.abi_version = lambda: 0  # in the forked child only
