"""Processes: no new program, no new process, nothing done to the parent; threads still work."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import mmap
import os
import platform
import resource
import signal
import subprocess
import threading

import pytest

from tests.sandbox.helpers import refused, run_in_child, run_sandboxed

libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1


def c_call(call):
    """Run a ctypes call; its errno if it failed, else its result."""

    def run():
        ctypes.set_errno(0)
        result = call()
        return {"result": result, "errno": ctypes.get_errno() if result == -1 else 0}

    return run


@pytest.mark.parametrize(
    "start",
    [
        lambda: os.execv("/bin/true", ["true"]),
        lambda: subprocess.run(["/bin/true"], check=True),
        lambda: os.posix_spawn("/bin/true", ["true"], {}),
        lambda: os.fork() or os._exit(0),  # a child that somehow starts exits at once
    ],
    ids=["execv", "subprocess", "posix_spawn", "fork"],
)
def test_no_new_program_or_process(start, run_dir):
    assert refused(run_sandboxed(start, run_dir))


def test_os_system_runs_nothing(run_dir):
    outcome = run_sandboxed(lambda: os.system(f"touch {run_dir}/ran"), run_dir)
    assert outcome["ok"] != 0
    assert not os.path.exists(os.path.join(run_dir, "ran"))


def test_threads_start_join_and_return(run_dir):
    def in_threads():
        results = [0] * 4

        def work(index):
            results[index] = sum(range(index * 1000))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    assert run_sandboxed(in_threads, run_dir)["ok"] == [sum(range(i * 1000)) for i in range(4)]


@pytest.mark.parametrize(
    "target",
    [lambda parent: os.kill(parent, 0), lambda parent: os.kill(parent, signal.SIGTERM), lambda parent: os.kill(0, 0)],
    ids=["probe-parent", "terminate-parent", "process-group"],
)
def test_no_signal_leaves_the_process(target, run_dir):
    parent = os.getpid()
    assert refused(run_sandboxed(lambda: target(parent), run_dir))
    os.kill(parent, 0)  # still here


def test_signals_to_itself_still_work(run_dir):
    def raise_own():
        received = []
        signal.signal(signal.SIGUSR1, lambda number, frame: received.append(number))
        signal.raise_signal(signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
        return received

    assert run_sandboxed(raise_own, run_dir)["ok"] == [signal.SIGUSR1] * 3


def test_the_parent_cannot_be_traced_or_read(run_dir):
    parent = os.getpid()
    attach = c_call(lambda: libc.ptrace(PTRACE_ATTACH, parent, None, None))
    assert run_sandboxed(attach, run_dir)["ok"]["errno"] == errno.EPERM

    def read_parent_memory():
        buffer = ctypes.create_string_buffer(8)
        local = (ctypes.c_void_p * 2)(ctypes.addressof(buffer), 8)
        remote = (ctypes.c_void_p * 2)(id(None), 8)
        return c_call(lambda: libc.process_vm_readv(parent, local, 1, remote, 1, 0))()

    assert run_sandboxed(read_parent_memory, run_dir)["ok"]["errno"] == errno.EPERM


def test_no_sigio_can_be_aimed_at_the_parent(run_dir):
    parent = os.getpid()

    def own_pipe_for_parent():
        read_end, _ = os.pipe()
        return fcntl.fcntl(read_end, fcntl.F_SETOWN, parent)

    assert refused(run_sandboxed(own_pipe_for_parent, run_dir))


def test_the_parent_limits_and_priority_cannot_be_changed(run_dir):
    parent = os.getpid()
    niceness = os.getpriority(os.PRIO_PROCESS, parent)
    core = resource.getrlimit(resource.RLIMIT_CORE)
    assert refused(run_sandboxed(lambda: resource.prlimit(parent, resource.RLIMIT_CORE, core), run_dir))
    assert refused(run_sandboxed(lambda: os.setpriority(os.PRIO_PROCESS, parent, niceness), run_dir))
    assert refused(run_sandboxed(lambda: os.setpriority(os.PRIO_USER, 0, niceness), run_dir))


def test_no_namespace_or_mount(run_dir):
    assert run_sandboxed(c_call(lambda: libc.unshare(CLONE_NEWUSER)), run_dir)["ok"]["errno"] == errno.EPERM
    mount = c_call(lambda: libc.mount(b"none", run_dir.encode(), b"tmpfs", MS_RDONLY, None))
    assert run_sandboxed(mount, run_dir)["ok"]["errno"] == errno.EPERM


def test_shared_anonymous_memory_is_refused_private_memory_works(run_dir):
    assert refused(run_sandboxed(lambda: mmap.mmap(-1, 1 << 20), run_dir))
    private = lambda: len(mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS))  # noqa: E731
    assert run_sandboxed(private, run_dir)["ok"] == 1 << 20


def x32_getpid():
    return libc.syscall(0x40000000 | 39)


def i386_getpid():
    """getpid through `int 0x80`, the 32-bit entry a 64-bit process can still reach."""
    code = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])  # mov eax, 20; int 0x80; ret
    prot = mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC
    page = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, prot=prot)
    page.write(code)
    return ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x32 and i386 calls exist only on x86_64")
@pytest.mark.parametrize("call", [x32_getpid, i386_getpid], ids=["x32", "i386"])
def test_a_foreign_architecture_system_call_kills_the_process(call, run_dir):
    if call is i386_getpid and run_in_child(call).get("ok", 0) <= 0:
        pytest.skip("this kernel has no 32-bit emulation")
    outcome = run_sandboxed(call, run_dir)
    assert outcome.get("signal") == signal.SIGSYS, outcome


def test_enter_refuses_a_process_with_threads(run_dir):
    stop = threading.Event()
    outcome = run_sandboxed(lambda: None, run_dir, prepare=lambda: threading.Thread(target=stop.wait).start())
    assert "single-threaded" in outcome["sandbox_error"]
