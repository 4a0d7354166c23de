"""Hostile programs, kept as data: each is real Python that tries to get out of the sandbox.

Every attempt is a `string.Template` (`$NAME` placeholders, filled from `Canaries.context()`: paths,
ports, pids and the two halves of the escape marker) run after a short prelude that defines
`escaped(what, data)`, which prints the marker, and `syscall(name, *args)`, a raw system call
through ctypes. An attempt calls `escaped` only after something the sandbox must refuse has
worked; whatever it managed to read, it prints. The test judges the outcome, never the refusal:
any status but a 5xx is fine, as long as no secret, no marker, no connection, no signal and no
new path came out of it.

Some attempts could hurt the machine if the sandbox failed (SIGKILL to every process, a fork
bomb, ptrace-stopping the server). They name a `gate`: a harmless probe (`PROBES`) that asks the
same question with signal 0, one fork, or PTRACE_SEIZE on our own signal sink. A gated attempt is
sent only once its probe showed the sandbox refuses; otherwise it is reported as not sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template
from textwrap import dedent

PRELUDE = """\
# escape attempt: $GROUP/$ID
MARK = '$MARK_A' + '$MARK_B'


def escaped(what, data=None):
    # The sandbox should have refused what the program just did: say so, and show what it got.
    print(MARK, what, flush=True)
    if data is not None:
        if isinstance(data, (bytes, bytearray)):
            data = bytes(data).decode('utf-8', 'replace')
        print(str(data)[:20000], flush=True)


def syscall(name, *args):
    # A raw system call by name: (result, errno).
    import ctypes, platform
    numbers = {
        'x86_64': dict(socket=41, connect=42, execve=59, fork=57, clone=56, kill=62, ptrace=101,
                       process_vm_readv=310, mount=165, chroot=161, unshare=272, setns=308, keyctl=250,
                       add_key=248, bpf=321, perf_event_open=298, io_uring_setup=425, userfaultfd=323,
                       pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, name_to_handle_at=303,
                       open_by_handle_at=304, execveat=322, memfd_create=319, tgkill=234,
                       rt_sigqueueinfo=129, openat=257, shmget=29, shmctl=31, msgget=68, msgctl=71,
                       sched_setscheduler=144, setpriority=141, init_module=175, open_tree=428,
                       fsopen=430, kcmp=312, syslog=103, iopl=172, exit_group=231, seccomp=317),
        'aarch64': dict(socket=198, connect=203, execve=221, clone=220, kill=129, ptrace=117,
                        process_vm_readv=270, mount=40, chroot=51, unshare=97, setns=268, keyctl=219,
                        add_key=217, bpf=280, perf_event_open=241, io_uring_setup=425, userfaultfd=282,
                        pidfd_open=434, pidfd_send_signal=424, pidfd_getfd=438, name_to_handle_at=264,
                        open_by_handle_at=265, execveat=281, memfd_create=279, tgkill=131,
                        rt_sigqueueinfo=138, openat=56, shmget=194, shmctl=195, msgget=186, msgctl=187,
                        sched_setscheduler=119, setpriority=140, init_module=105, open_tree=428,
                        fsopen=430, kcmp=272, syslog=116, exit_group=94, seccomp=277),
    }[platform.machine()]
    if name not in numbers:
        return -1, 38  # ENOSYS: no such call on this architecture
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ctypes.set_errno(0)
    args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    result = libc.syscall(ctypes.c_long(numbers[name]), *args)
    return result, ctypes.get_errno()


"""


@dataclass(frozen=True)
class Attempt:
    group: str
    id: str
    template: str
    gate: str | None = None  # a probe in PROBES that must have shown the sandbox refuses

    def render(self, context: dict[str, str]) -> str:
        body = dedent(self.template).strip("\n") + "\n"
        return Template(PRELUDE + body).substitute(context, GROUP=self.group, ID=self.id)


@dataclass(frozen=True)
class Group:
    name: str
    what: str
    concurrency: int = 4
    lesson_after_each: bool = False  # trace the lesson after every attempt (run one at a time)


GROUPS = (
    Group("files", "reading files outside the run directory: system, /proc, canaries, the repo"),
    Group("environment", "the server's environment: os.environ, libc, /proc, the initial stack, the heap"),
    Group("listing", "listing directories outside the run directory"),
    Group("writes", "creating, changing or removing files outside the run directory"),
    Group("exec", "starting processes: os.system, subprocess, exec*, spawn, ctypes, memfd"),
    Group("network", "sockets of every family, HTTP clients, inherited sockets"),
    Group("signals", "signals to the sink, the parent, the forkserver, the server, everyone", concurrency=2),
    Group("ptrace", "ptrace, process_vm_readv, /proc/<pid>/mem, pidfd_getfd on other processes", concurrency=2),
    Group("ipc", "shared memory, memfd, System V IPC, keyrings"),
    Group("channel", "the worker's channel and inherited descriptors: junk, huge lengths, forged results",
          concurrency=1, lesson_after_each=True),
    Group("tamper", "the tracer, the encoder and global state, from inside the process",
          concurrency=1, lesson_after_each=True),
    Group("output", "printing megabytes through every route"),
    Group("cpu", "CPU bombs, sleeps, stdin, and tampering with the timers"),
    Group("memory", "memory, thread and fork bombs, deep recursion, crashes"),
    Group("disk", "disk bombs in the run directory and outside it"),
    Group("exits", "ending the process early in every way"),
    Group("syscalls", "privileged and rarely needed system calls through ctypes"),
)

# -- probes: harmless questions asked before the attempts that could hurt if the answer were yes

PROBES = {
    "control": Attempt("probes", "control", """
        print('al' + 'ive', 6 * 7)
    """),
    "signals": Attempt("probes", "signals", """
        import os
        targets = [('parent', os.getppid()), ('server', $SERVER_PID), ('forkserver', $FORKSERVER_PID),
                   ('init', 1), ('signal sink', $SINK_PID), ('every process', -1)]
        if os.getpgrp() != os.getpid():
            targets.append(('own process group', 0))
        allowed = []
        for name, pid in targets:
            if pid == os.getpid() or (pid == 0 and name != 'own process group'):
                continue
            try:
                os.kill(pid, 0)
                allowed.append(name)
            except OSError:
                pass
        if allowed:
            escaped('signal 0 allowed to ' + ', '.join(allowed))
        else:
            print('CONF' + 'INED')
    """),
    "fork": Attempt("probes", "fork", """
        import os
        try:
            pid = os.fork()
        except OSError as error:
            print('CONF' + 'INED', error)
        else:
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
            escaped('fork succeeded')
    """),
    "ptrace": Attempt("probes", "ptrace", """
        import ctypes
        PTRACE_SEIZE, PTRACE_DETACH = 0x4206, 17
        result, error = syscall('ptrace', PTRACE_SEIZE, $SINK_PID, 0, 0)
        if result == 0:
            syscall('ptrace', PTRACE_DETACH, $SINK_PID, 0, 0)
            escaped('PTRACE_SEIZE on the signal sink')
        else:
            print('CONF' + 'INED', error)
    """),
}


def _group(name: str, attempts: dict[str, str], gate: str | None = None) -> list[Attempt]:
    return [Attempt(name, key, source, gate) for key, source in attempts.items()]


def _read(path_expr: str) -> str:
    """A one-line attempt: read a file and show it."""
    return f"escaped('read ' + {path_expr}, open({path_expr}, 'rb').read())"


FILES = {
    "etc-passwd": _read("'/etc/passwd'"),
    "etc-shadow": _read("'/etc/shadow'"),
    "etc-hosts": _read("'/etc/hosts'"),
    "proc-self-maps": _read("'/proc/self/maps'"),
    "proc-self-status": _read("'/proc/self/status'"),
    "proc-self-cmdline": _read("'/proc/self/cmdline'"),
    "proc-self-mem": """
        import ctypes
        buffer = ctypes.create_string_buffer(b'x' * 64)
        with open('/proc/self/mem', 'rb') as mem:
            mem.seek(ctypes.addressof(buffer))
            escaped('read /proc/self/mem', mem.read(8))
    """,
    "proc-1-cmdline": _read("'/proc/1/cmdline'"),
    "proc-1-root": _read("'/proc/1/root$SECRET_FILE'"),
    "proc-server-cmdline": _read("'/proc/$SERVER_PID/cmdline'"),
    "proc-server-cwd": _read("'/proc/$SERVER_PID/cwd/secret.txt'"),
    "proc-server-fds": """
        import os
        fds = os.listdir('/proc/$SERVER_PID/fd')
        escaped('listed the server fds', fds)
        for fd in fds:
            try:
                escaped('read server fd ' + fd, open('/proc/$SERVER_PID/fd/' + fd, 'rb').read(4096))
            except OSError as error:
                print(fd, error)
    """,
    "canary-absolute": _read("'$SECRET_FILE'"),
    "canary-server-home": _read("'$HOME_SECRET'"),
    "canary-server-cwd": _read("'$CWD_SECRET'"),
    "canary-relative": """
        import os
        path = os.path.relpath('$SECRET_FILE')
        escaped('read ' + path, open(path).read())
    """,
    "canary-dotdot": """
        path = '../' * 40 + '$SECRET_FILE'.lstrip('/')
        escaped('read ' + path, open(path).read())
    """,
    "canary-proc-self-root": _read("'/proc/self/root$SECRET_FILE'"),
    "canary-proc-self-cwd": _read("'/proc/self/cwd/' + '../' * 40 + '$SECRET_FILE'.lstrip('/')"),
    "canary-dirfd-dotdot": """
        import os
        anchor = os.open(os.path.dirname(os.__file__), os.O_RDONLY)
        path = '../' * 40 + '$SECRET_FILE'.lstrip('/')
        fd = os.open(path, os.O_RDONLY, dir_fd=anchor)
        escaped('read through a directory fd', os.read(fd, 4096))
    """,
    "canary-opath-dirfd": """
        import os
        directory = os.open('$SECRET_DIR', os.O_PATH | os.O_DIRECTORY)
        fd = os.open('secret.txt', os.O_RDONLY, dir_fd=directory)
        escaped('read through an O_PATH directory', os.read(fd, 4096))
    """,
    "repo-settings": _read("'$REPO/app/settings.py'"),
    "repo-pyproject": _read("'$REPO/pyproject.toml'"),
    "repo-worker-source": _read("'$REPO/app/service/worker.py'"),
    "repo-security-md": _read("'$REPO/SECURITY.md'"),
    "repo-relative": """
        import os
        path = os.path.relpath('$REPO/app/settings.py')
        escaped('read ' + path, open(path).read())
    """,
    "repo-dotdot-search": """
        for depth in range(1, 16):
            path = '../' * depth + 'pyproject.toml'
            try:
                escaped('read ' + path, open(path).read())
                break
            except OSError as error:
                print(depth, type(error).__name__)
    """,
    "repo-through-venv": """
        import os, sys
        path = os.path.join(sys.prefix, '..', 'app', 'settings.py')
        escaped('read ' + path, open(path).read())
    """,
    "repo-module-file": """
        import sys
        module = sys.modules.get('app.settings') or __import__('app.settings').settings
        escaped('read ' + module.__file__, open(module.__file__).read())
    """,
    "repo-inspect-getsource": """
        import inspect, sys
        module = sys.modules.get('app.service.worker') or sys.modules['app.settings']
        escaped('inspect.getsource', inspect.getsource(module))
    """,
    "repo-linecache": """
        import linecache
        lines = linecache.getlines('$REPO/app/settings.py')
        if lines:
            escaped('linecache', ''.join(lines))
        print(len(lines), 'lines')
    """,
    "repo-linecache-cached": """
        # linecache keeps the text of every file a traceback or a warning showed, before the sandbox too
        import linecache
        for name, entry in sorted(linecache.cache.items()):
            if name.startswith('$REPO') and '/site-packages/' not in name and len(entry) > 2 and entry[2]:
                escaped('linecache holds ' + name, ''.join(entry[2])[:1500])
    """,
    "repo-pkgutil": """
        import pkgutil
        escaped('pkgutil.get_data', pkgutil.get_data('app', 'settings.py'))
    """,
    "repo-importlib-resources": """
        import importlib.resources
        escaped('importlib.resources', importlib.resources.files('app').joinpath('settings.py').read_text())
    """,
    "repo-runpy": """
        import runpy
        escaped('runpy.run_path', sorted(runpy.run_path('$REPO/app/settings.py')))
    """,
    "repo-traceback-lines": """
        import sys, traceback
        settings = sys.modules.get('app.settings') or __import__('app.settings').settings
        try:
            settings.Limits().with_changes(no_such_limit=1)
        except Exception:
            lines = traceback.format_exc().splitlines()
            for index, line in enumerate(lines[:-1]):
                if 'settings.py' in line and not lines[index + 1].lstrip().startswith(('File', 'TypeError')):
                    escaped('a traceback showed the source of app/settings.py', lines[index + 1])
            print('\\n'.join(lines))
    """,
    "import-unloaded-project-module": """
        import importlib, sys
        for name in ('app.cli', 'app.__main__', 'tests.security.escape.canaries'):
            if name in sys.modules:
                print(name, 'was already loaded')
                continue
            try:
                importlib.import_module(name)
                escaped('imported ' + name + ' from the project')
            except BaseException as error:
                print(name, type(error).__name__)
    """,
    "pathlib-read-text": "import pathlib\nescaped('pathlib', pathlib.Path('$SECRET_FILE').read_text())",
    "os-open-read": """
        import os
        fd = os.open('$SECRET_FILE', os.O_RDONLY)
        escaped('os.open', os.read(fd, 4096))
    """,
    "codecs-open": "import codecs\nescaped('codecs.open', codecs.open('$SECRET_FILE', 'r', 'utf-8').read())",
    "io-fileio": "import io\nescaped('io.FileIO', io.FileIO('$SECRET_FILE').read())",
    "builtins-open": "escaped('builtins.open', __import__('builtins').open('$SECRET_FILE').read())",
    "importlib-reload-os": """
        import importlib, os
        os = importlib.reload(os)
        fd = os.open('$SECRET_FILE', os.O_RDONLY)
        escaped('reloaded os', os.read(fd, 4096))
    """,
    "chdir-root-relative": """
        import os
        os.chdir('/')
        escaped('chdir / then etc/passwd', open('etc/passwd').read())
    """,
    "chdir-canary-dir": """
        import os
        os.chdir('$SECRET_DIR')
        escaped('chdir to the canary dir', open('secret.txt').read())
    """,
    "symlink-canary": """
        import os
        os.symlink('$SECRET_FILE', 'link')
        escaped('read through a symlink', open('link').read())
    """,
    "symlink-etc-passwd": """
        import os
        os.symlink('/etc/passwd', 'x')
        escaped('read /etc/passwd through a symlink', open('x').read())
    """,
    "symlink-proc-root": """
        import os
        os.symlink('/proc/self/root', 'root')
        escaped('read through /proc/self/root', open('root$SECRET_FILE').read())
    """,
    "hardlink-canary": """
        import os
        os.link('$SECRET_FILE', 'hard')
        escaped('read through a hard link', open('hard').read())
    """,
    "numpy-fromfile": """
        import numpy as np
        escaped('numpy.fromfile', np.fromfile('$SECRET_FILE', dtype=np.uint8).tobytes())
    """,
    "numpy-loadtxt": """
        import numpy as np
        escaped('numpy.loadtxt', np.loadtxt('$SECRET_FILE', dtype=str, comments=None, delimiter='|'))
    """,
    "torch-from-file": """
        import torch
        t = torch.from_file('$SECRET_FILE', size=32, dtype=torch.uint8)
        escaped('torch.from_file', bytes(t.tolist()))
    """,
    "torch-load": "import torch\nescaped('torch.load', torch.load('$SECRET_FILE', weights_only=False))",
    "mmap-canary": """
        import mmap, os
        fd = os.open('$SECRET_FILE', os.O_RDONLY)
        escaped('mmap', mmap.mmap(fd, 0, prot=mmap.PROT_READ)[:])
    """,
    "sendfile-canary": """
        import os
        source = os.open('$SECRET_FILE', os.O_RDONLY)
        copy = os.open('copy', os.O_WRONLY | os.O_CREAT, 0o600)
        os.sendfile(copy, source, 0, 4096)
        escaped('sendfile', open('copy').read())
    """,
    "shutil-copy-canary": """
        import shutil
        shutil.copy('$SECRET_FILE', 'copy')
        escaped('shutil.copy', open('copy').read())
    """,
    "dev-mem": "escaped('read /dev/mem', open('/dev/mem', 'rb').read(16))",
    "dev-tcp": """
        with open('/dev/tcp/127.0.0.1/$TCP_PORT', 'w') as f:
            f.write('$ID')
        escaped('opened /dev/tcp')
    """,
    "ctypes-libc-open": """
        import ctypes
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
        fd = libc.open(b'$SECRET_FILE', 0)
        if fd >= 0:
            buffer = ctypes.create_string_buffer(4096)
            count = libc.read(fd, buffer, 4096)
            escaped('libc open()', buffer.raw[:max(count, 0)])
        print('open returned', fd, 'errno', ctypes.get_errno())
    """,
    "syscall-openat": """
        import ctypes, os
        fd, error = syscall('openat', -100, ctypes.c_char_p(b'$SECRET_FILE'), 0, 0)
        if fd >= 0:
            escaped('raw openat', os.read(fd, 4096))
        print(fd, error)
    """,
    "open-by-handle-at": """
        import ctypes, os
        class FileHandle(ctypes.Structure):
            _fields_ = [('size', ctypes.c_uint), ('type', ctypes.c_int), ('handle', ctypes.c_ubyte * 128)]
        handle = FileHandle(128, 0)
        mount_id = ctypes.c_int()
        result, error = syscall('name_to_handle_at', -100, ctypes.c_char_p(b'$SECRET_FILE'),
                                ctypes.byref(handle), ctypes.byref(mount_id), 0)
        print('name_to_handle_at', result, error)
        for anchor in ('.', os.path.dirname(os.__file__)):
            try:
                mount_fd = os.open(anchor, os.O_RDONLY)
            except OSError as error:
                print(anchor, error)
                continue
            fd, error = syscall('open_by_handle_at', mount_fd, ctypes.byref(handle), 0)
            print('open_by_handle_at', anchor, fd, error)
            if fd >= 0:
                escaped('open_by_handle_at', os.read(fd, 4096))
                break
    """,
    "pwd-getpwall": """
        import pwd
        entries = pwd.getpwall()
        if entries:
            escaped('pwd.getpwall', entries)
        print(len(entries), 'entries')
    """,
    "fileinput": "import fileinput\nescaped('fileinput', ''.join(fileinput.input('$SECRET_FILE')))",
    "outside-python-install": """
        import os, sys
        parent = os.path.dirname(os.path.realpath(sys.base_prefix))
        for name in sorted(os.listdir(parent)):
            path = os.path.join(parent, name)
            if os.path.isfile(path):
                escaped('read ' + path, open(path, 'rb').read(4096))
    """,
}

ENVIRONMENT = {
    "os-environ": """
        import os
        print(dict(os.environ))
        if '$ENV_NAME' in os.environ:
            escaped('os.environ holds the variable', os.environ['$ENV_NAME'])
    """,
    "getenv": """
        import os
        value = os.getenv('$ENV_NAME')
        print(repr(value))
        if value is not None:
            escaped('os.getenv', value)
    """,
    "environb": "import os\nprint(dict(os.environb))",
    "posix-environ": "import posix\nprint(posix.environ)",
    "reload-os-environ": """
        import importlib, os
        os = importlib.reload(os)
        print(dict(os.environ))
    """,
    "libc-getenv": """
        import ctypes
        libc = ctypes.CDLL(None)
        libc.getenv.restype = ctypes.c_char_p
        value = libc.getenv(b'$ENV_NAME')
        print(repr(value))
        if value is not None:
            escaped('libc getenv', value)
    """,
    "libc-environ-array": """
        import ctypes
        libc = ctypes.CDLL(None)
        environ = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, 'environ')
        index = 0
        while environ and environ[index] is not None and index < 10000:
            print(environ[index])
            index += 1
        print(index, 'entries')
    """,
    "initial-stack": """
        import ctypes
        libc = ctypes.CDLL(None)
        # argc, argv[], NULL, envp[], NULL, auxv: what the kernel put on the first stack
        top = ctypes.c_void_p.in_dll(libc, '__libc_stack_end').value
        words = ctypes.cast(top, ctypes.POINTER(ctypes.c_void_p))
        argc = words[0]
        index = argc + 2
        while words[index] and index < argc + 2 + 10000:
            print(ctypes.string_at(words[index])[:300])
            index += 1
        print(index - argc - 2, 'environment strings on the initial stack')
    """,
    "proc-self-environ": _read("'/proc/self/environ'"),
    "proc-parent-environ": "import os\n" + _read("f'/proc/{os.getppid()}/environ'"),
    "proc-server-environ": _read("'/proc/$SERVER_PID/environ'"),
    "proc-forkserver-environ": _read("'/proc/$FORKSERVER_PID/environ'"),
    "proc-1-environ": _read("'/proc/1/environ'"),
    "proc-every-environ": """
        import os
        for pid in sorted(os.listdir('/proc')):
            if pid.isdigit():
                try:
                    escaped('read environ of ' + pid, open('/proc/' + pid + '/environ', 'rb').read())
                except OSError as error:
                    print(pid, type(error).__name__)
    """,
    "gc-containers": """
        import gc
        needle = '$ENV_NAME'
        seen = 0
        for obj in gc.get_objects():
            items = ()
            if isinstance(obj, dict):
                items = list(obj.items())
            elif isinstance(obj, (list, tuple)):
                items = list(obj)
            for item in items:
                for part in (item if isinstance(item, tuple) else (item,)):
                    text = part.decode('latin-1') if isinstance(part, bytes) else part
                    if isinstance(text, str) and needle in text and text != needle:
                        print(repr(text[:300]))
                        seen += 1
            if seen > 20:
                break
        print(seen, 'containers mention the variable')
    """,
    "heap-scan": """
        # Freed memory keeps its bytes: look for the variable in every pymalloc arena and below the break.
        import ctypes, gc, os, time
        libc = ctypes.CDLL(None, use_errno=True)
        libc.write.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t]
        libc.write.restype = ctypes.c_ssize_t
        libc.sbrk.argtypes = [ctypes.c_long]
        libc.sbrk.restype = ctypes.c_void_p
        CHUNK = 1 << 16
        needle = b'$ENV_NAME' + b'='
        r, w = os.pipe()

        def readable(address):
            # write() into a pipe fails with EFAULT on unmapped memory instead of crashing
            written = libc.write(w, address, CHUNK)
            left = max(written, 0)
            while left:
                left -= len(os.read(r, left))
            return written == CHUNK

        started = time.monotonic()
        arenas = sorted({id(obj) >> 20 for obj in gc.get_objects()})
        chunks = [(arena << 20) + index * CHUNK for arena in arenas for index in range(16)]
        top = libc.sbrk(0) or 0
        chunks += [top - (index + 1) * CHUNK for index in range(4096) if top > (index + 1) * CHUNK]
        found, scanned = [], 0
        for address in chunks:
            if time.monotonic() - started > 1.2 or len(found) >= 40:
                break
            if not readable(address):
                continue
            scanned += 1
            data = ctypes.string_at(address, CHUNK)
            at = data.find(needle)
            while at >= 0 and len(found) < 40:
                found.append(data[at:at + 120])
                at = data.find(needle, at + 1)
        print(scanned, 'chunks scanned')
        for item in found:
            print(item)
    """,
    "process-metadata": """
        import multiprocessing, sys
        print(sys.argv, sys.orig_argv, sys.path)
        print(multiprocessing.current_process().name, dict(multiprocessing.current_process()._config))
    """,
}

LISTING = {
    "listdir-root": """
        import os
        entries = os.listdir('/')
        escaped('listed /', entries)
    """,
    "scandir-root": """
        import os
        entries = [entry.name for entry in os.scandir('/')]
        escaped('scanned /', entries)
    """,
    "glob-root": """
        import glob
        entries = glob.glob('/*') + glob.glob('/tmp/*')
        if entries:
            escaped('glob', entries)
        print(len(entries))
    """,
    "pathlib-iterdir": """
        import pathlib
        escaped('iterdir /', [str(p) for p in pathlib.Path('/').iterdir()])
    """,
    "walk-repo": """
        import os
        for root, dirs, files in os.walk('$REPO'):
            escaped('walked the repo', [root, dirs, files])
            break
    """,
    "listdir-canary-dir": "import os\nescaped('listed the canary dir', os.listdir('$SECRET_DIR'))",
    "listdir-canary-dir-fd": """
        import os
        fd = os.open('$SECRET_DIR', os.O_RDONLY | os.O_DIRECTORY)
        escaped('listed the canary dir by fd', os.listdir(fd))
    """,
    "listdir-server-home": "import os\nescaped('listed the server HOME', os.listdir('$SERVER_HOME'))",
    "listdir-server-cwd": "import os\nescaped('listed the server cwd', os.listdir('$SERVER_CWD'))",
    "listdir-server-tmp": "import os\nescaped('listed the server TMPDIR (other runs)', os.listdir('$SERVER_TMP'))",
    "listdir-parent": """
        import os
        for path in ('..', '../..', '../../..'):
            try:
                escaped('listed ' + os.path.abspath(path), os.listdir(path))
            except OSError as error:
                print(path, error)
    """,
    "listdir-proc": "import os\nescaped('listed /proc', os.listdir('/proc'))",
    "listdir-etc": "import os\nescaped('listed /etc', os.listdir('/etc'))",
    "listdir-tmp": "import os\nescaped('listed /tmp', os.listdir('/tmp'))",
    "listdir-dev-shm": "import os\nescaped('listed /dev/shm', os.listdir('/dev/shm'))",
    "listdir-real-home": "import os\nescaped('listed the real HOME', os.listdir(os.path.dirname('$W_HOME')))",
    "listdir-above-python": """
        import os, sys
        parent = os.path.dirname(os.path.realpath(sys.base_prefix))
        escaped('listed ' + parent, os.listdir(parent))
    """,
    "proc-self-fd-links": """
        import os
        try:
            fds = os.listdir('/proc/self/fd')
            escaped('listed /proc/self/fd', fds)
        except OSError as error:
            print(error)
            fds = [str(fd) for fd in range(64)]
        for fd in fds:
            try:
                print(fd, os.readlink('/proc/self/fd/' + fd))
            except OSError:
                pass
    """,
    "cwd-and-stat": """
        import os
        print(os.getcwd(), os.listdir('.'))
        for path in ('$SECRET_FILE', '$REPO/app/settings.py', '/etc/passwd'):
            print(path, os.path.exists(path))
    """,
}

WRITES = {
    "open-tmp": "open('$W_TMP-$ID', 'w').write('x')\nescaped('wrote $W_TMP-$ID')",
    "open-var-tmp": "open('$W_VARTMP-$ID', 'w').write('x')\nescaped('wrote /var/tmp')",
    "open-dev-shm": "open('$W_SHM-$ID', 'w').write('x')\nescaped('wrote /dev/shm')",
    "open-repo": "open('$W_REPO-$ID', 'w').write('x')\nescaped('wrote into the repo')",
    "open-real-home": "open('$W_HOME-$ID', 'w').write('x')\nescaped('wrote into HOME')",
    "open-server-home": "open('$W_SERVER_HOME-$ID', 'w').write('x')\nescaped('wrote into the server HOME')",
    "open-server-cwd": "open('$W_SERVER_CWD-$ID', 'w').write('x')\nescaped('wrote into the server cwd')",
    "open-server-tmp": "open('$W_SERVER_TMP-$ID', 'w').write('x')\nescaped('wrote into the server TMPDIR')",
    "open-canary-dir": "open('$W_CANARY_DIR-$ID', 'w').write('x')\nescaped('wrote into the canary dir')",
    "open-dotdot": """
        import os
        path = '../' * 40 + '$W_TMP-$ID'.lstrip('/')
        open(path, 'w').write('x')
        escaped('wrote through ../')
    """,
    "os-open-creat": """
        import os
        fd = os.open('$W_TMP-$ID', os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b'x')
        escaped('os.open O_CREAT')
    """,
    "pathlib-write": "import pathlib\npathlib.Path('$W_TMP-$ID').write_text('x')\nescaped('pathlib write')",
    "makedirs": "import os\nos.makedirs('$W_TMP-$ID/a/b')\nescaped('makedirs')",
    "mkfifo": "import os\nos.mkfifo('$W_TMP-$ID')\nescaped('mkfifo')",
    "mknod-file": "import os, stat\nos.mknod('$W_TMP-$ID', stat.S_IFREG | 0o600)\nescaped('mknod')",
    "mknod-char-device-here": """
        import os, stat
        os.mknod('null', stat.S_IFCHR | 0o666, os.makedev(1, 3))
        escaped('made a character device in the run dir')
    """,
    "mknod-block-device-here": """
        import os, stat
        device = os.stat('/').st_dev if os.path.exists('/') else os.makedev(8, 0)
        os.mknod('disk', stat.S_IFBLK | 0o600, device)
        with open('disk', 'rb') as disk:
            escaped('read a block device made in the run dir', disk.read(512))
    """,
    "torch-save": "import torch\ntorch.save(torch.ones(1), '$W_TMP-$ID')\nescaped('torch.save')",
    "numpy-save": "import numpy as np\nnp.save('$W_TMP-$ID', np.ones(1))\nescaped('numpy.save')",
    "tempfile-in-tmp": """
        import os, tempfile
        fd, path = tempfile.mkstemp(dir='/tmp', prefix=os.path.basename('$W_TMP-$ID'))
        escaped('mkstemp in /tmp: ' + path)
    """,
    "tempfile-tempdir-reset": """
        import os, tempfile
        tempfile.tempdir = None
        os.environ['TMPDIR'] = '/tmp'
        handle = tempfile.NamedTemporaryFile(delete=False, prefix=os.path.basename('$W_TMP-$ID'))
        print(handle.name)
        if not handle.name.startswith(os.getcwd()):
            escaped('temporary file outside the run dir: ' + handle.name)
    """,
    "symlinks-for-the-cleanup": """
        # the run dir is removed from outside the sandbox: it must not follow these
        import os
        os.symlink('$SECRET_DIR', 'dir-link')
        os.symlink('$SECRET_FILE', 'file-link')
        os.makedirs('a/b')
        os.symlink('$SECRET_DIR', 'a/b/deep-link')
        os.symlink('.', 'loop')
        print(sorted(os.listdir('.')))
    """,
    "copy-canary-out": "import shutil\nshutil.copy('$SECRET_FILE', '$W_TMP-$ID')\nescaped('copied the canary')",
    "rename-canary-away": "import os\nos.rename('$SECRET_FILE', '$W_TMP-$ID')\nescaped('moved the canary')",
    "rename-canary-into-run-dir": """
        import os
        os.rename('$SECRET_FILE', 'stolen')
        escaped('moved the canary into the run dir', open('stolen').read())
    """,
    "rename-out-of-run-dir": """
        import os
        open('made-here', 'w').write('x')
        os.rename('made-here', '$W_TMP-$ID')
        escaped('moved a file out of the run dir')
    """,
    "remove-canary": "import os\nos.remove('$SECRET_FILE')\nescaped('removed the canary')",
    "chmod-canary": "import os\nos.chmod('$SECRET_FILE', 0o777)\nescaped('chmod on the canary')",
    "utime-canary": "import os\nos.utime('$SECRET_FILE', (0, 0))\nescaped('utime on the canary')",
    "truncate-canary": "import os\nos.truncate('$SECRET_FILE', 0)\nescaped('truncated the canary')",
    "append-canary": "open('$SECRET_FILE', 'a').write('x')\nescaped('appended to the canary')",
    "chown-canary": "import os\nos.chown('$SECRET_FILE', 65534, 65534)\nescaped('chown on the canary')",
    "setxattr-canary": "import os\nos.setxattr('$SECRET_FILE', 'user.grafo', b'x')\nescaped('setxattr on the canary')",
    "symlink-out": "import os\nos.symlink('/etc/passwd', '$W_TMP-$ID')\nescaped('symlink outside')",
    "hardlink-out": "import os\nos.link('$SECRET_FILE', '$W_TMP-$ID')\nescaped('hard link outside')",
    "chdir-tmp-relative": """
        import os
        os.chdir('/tmp')
        open(os.path.basename('$W_TMP-$ID'), 'w').write('x')
        escaped('wrote after chdir /tmp')
    """,
    "libc-creat": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.creat(b'$W_TMP-$ID', 0o644)
        if fd >= 0:
            escaped('libc creat')
        print(fd, ctypes.get_errno())
    """,
    "sqlite-file": "import sqlite3\nsqlite3.connect('$W_TMP-$ID').execute('create table t (x)')\nescaped('sqlite')",
    "logging-file-handler": """
        import logging
        handler = logging.FileHandler('$W_TMP-$ID')
        handler.emit(logging.makeLogRecord({'msg': 'x'}))
        escaped('logging.FileHandler')
    """,
    "write-server-log-dir": """
        import os
        path = os.path.join('$REPO', 'test-output', os.path.basename('$W_TMP-$ID'))
        open(path, 'w').write('x')
        escaped('wrote into test-output')
        os.remove(path)
    """,
}

EXEC = {
    "os-system": "import os\nstatus = os.system('touch $W_TMP-$ID')\nprint(status)",
    "os-popen": "import os\nprint(os.popen('touch $W_TMP-$ID; id').read())",
    "subprocess-run": "import subprocess\nprint(subprocess.run(['touch', '$W_TMP-$ID']))\nescaped('subprocess.run')",
    "subprocess-popen": """
        import subprocess
        process = subprocess.Popen(['/bin/sh', '-c', 'touch $W_TMP-$ID'])
        escaped('Popen', process.wait())
    """,
    "subprocess-check-output": """
        import subprocess
        escaped('check_output', subprocess.check_output(['id']))
    """,
    "subprocess-getoutput": "import subprocess\nprint(subprocess.getoutput('touch $W_TMP-$ID; id'))",
    "subprocess-shell-sleep": """
        import subprocess
        subprocess.Popen('sleep 30 # $W_TMP-$ID', shell=True)
        escaped('started a shell that outlives the run')
    """,
    "os-execv": "import os\nos.execv('/bin/sh', ['sh', '-c', 'touch $W_TMP-$ID'])",
    "os-execve": "import os\nos.execve('/usr/bin/touch', ['touch', '$W_TMP-$ID'], {})",
    "os-execvp": "import os\nos.execvp('touch', ['touch', '$W_TMP-$ID'])",
    "os-execl-python": """
        import os, sys
        os.execl(sys.executable, 'python', '-c', "open('$W_TMP-$ID', 'w')")
    """,
    "os-posix-spawn": """
        import os
        pid = os.posix_spawn('/usr/bin/touch', ['touch', '$W_TMP-$ID'], {})
        escaped('posix_spawn', os.waitpid(pid, 0))
    """,
    "os-posix-spawnp": """
        import os
        pid = os.posix_spawnp('touch', ['touch', '$W_TMP-$ID'], {})
        escaped('posix_spawnp', os.waitpid(pid, 0))
    """,
    "os-spawnv": "import os\nescaped('spawnv', os.spawnv(os.P_WAIT, '/usr/bin/touch', ['touch', '$W_TMP-$ID']))",
    "pty-spawn": "import pty\nescaped('pty.spawn', pty.spawn(['/bin/sh', '-c', 'touch $W_TMP-$ID']))",
    "ctypes-system": """
        import ctypes
        libc = ctypes.CDLL('libc.so.6')
        print('system returned', libc.system(b'touch $W_TMP-$ID'))
    """,
    "ctypes-execve": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        argv = (ctypes.c_char_p * 3)(b'touch', b'$W_TMP-$ID', None)
        envp = (ctypes.c_char_p * 1)(None)
        print('execve returned', libc.execve(b'/usr/bin/touch', argv, envp), ctypes.get_errno())
    """,
    "syscall-execve": """
        import ctypes
        argv = (ctypes.c_char_p * 3)(b'touch', b'$W_TMP-$ID', None)
        envp = (ctypes.c_char_p * 1)(None)
        print(syscall('execve', ctypes.c_char_p(b'/usr/bin/touch'), argv, envp))
    """,
    "syscall-execveat": """
        import ctypes
        argv = (ctypes.c_char_p * 3)(b'touch', b'$W_TMP-$ID', None)
        envp = (ctypes.c_char_p * 1)(None)
        print(syscall('execveat', -100, ctypes.c_char_p(b'/usr/bin/touch'), argv, envp, 0))
    """,
    "memfd-exec": """
        import os
        fd = os.memfd_create('x', 0)
        os.write(fd, b'#!/bin/sh\\ntouch $W_TMP-$ID\\n')
        os.execve('/proc/self/fd/%d' % fd, ['x'], {})
    """,
    "memfd-fexecve": """
        import ctypes, os
        fd = os.memfd_create('x', 0)
        os.write(fd, b'#!/bin/sh\\ntouch $W_TMP-$ID\\n')
        libc = ctypes.CDLL(None, use_errno=True)
        argv = (ctypes.c_char_p * 2)(b'x', None)
        envp = (ctypes.c_char_p * 1)(None)
        print('fexecve returned', libc.fexecve(fd, argv, envp), ctypes.get_errno())
    """,
    "exec-copied-binary": """
        import os, shutil, stat
        shutil.copy('/usr/bin/touch', 'touch')
        os.chmod('touch', stat.S_IRWXU)
        os.execv('./touch', ['touch', '$W_TMP-$ID'])
    """,
    "multiprocessing-process": """
        import multiprocessing
        def child():
            open('$W_TMP-$ID', 'w').write('x')
        process = multiprocessing.Process(target=child)
        process.start()
        process.join()
        escaped('multiprocessing.Process', process.exitcode)
    """,
    "multiprocessing-pool": """
        import multiprocessing
        with multiprocessing.Pool(2) as pool:
            escaped('multiprocessing.Pool', pool.map(abs, [-1, -2]))
    """,
    "process-pool-executor": """
        import concurrent.futures
        with concurrent.futures.ProcessPoolExecutor(2) as executor:
            escaped('ProcessPoolExecutor', list(executor.map(abs, [-1, -2])))
    """,
    "os-fork-child-writes": """
        import os
        pid = os.fork()
        if pid == 0:
            open('$W_TMP-$ID', 'w').write('x')
            os._exit(0)
        os.waitpid(pid, 0)
        escaped('fork')
    """,
    "os-forkpty": """
        import os
        pid, fd = os.forkpty()
        if pid == 0:
            os._exit(0)
        escaped('forkpty')
    """,
    "ctypes-fork": """
        import ctypes, os
        libc = ctypes.CDLL(None, use_errno=True)
        pid = libc.fork()
        if pid == 0:
            os._exit(0)
        if pid > 0:
            escaped('libc fork')
        print(pid, ctypes.get_errno())
    """,
    "syscall-clone-sigchld": """
        import os, signal
        pid, error = syscall('clone', int(signal.SIGCHLD), 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        if pid > 0:
            escaped('raw clone')
        print(pid, error)
    """,
    "ctypes-cdll-new-library": """
        import ctypes
        for name in ('libz.so.1', 'libcrypt.so.1', 'libutil.so.1', 'libm.so.6', 'libc.so.6'):
            try:
                print(name, ctypes.CDLL(name))
            except OSError as error:
                print(name, error)
    """,
    "ctypes-cdll-canary": "import ctypes\nprint(ctypes.CDLL('$SECRET_FILE'))",
}

NETWORK = {
    "tcp-create-connection": """
        import socket
        connection = socket.create_connection(('127.0.0.1', $TCP_PORT), timeout=1)
        connection.sendall(b'$ID')
        escaped('create_connection')
    """,
    "tcp-socket-connect": """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(('127.0.0.1', $TCP_PORT))
        s.sendall(b'$ID')
        escaped('AF_INET connect')
    """,
    "udp-sendto": """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(b'$ID', ('127.0.0.1', $UDP_PORT))
        escaped('UDP sendto')
    """,
    "tcp6-connect": """
        import socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(('::1', $TCP6_PORT))
        s.sendall(b'$ID')
        escaped('AF_INET6 connect')
    """,
    "tcp6-mapped-v4": """
        import socket
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.settimeout(1)
        s.connect(('::ffff:127.0.0.1', $TCP_PORT))
        escaped('v4-mapped connect')
    """,
    "unix-path": """
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect('$UNIX_PATH')
        s.sendall(b'$ID')
        escaped('AF_UNIX path connect')
    """,
    "unix-abstract": """
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect('\\0$ABSTRACT_NAME')
        s.sendall(b'$ID')
        escaped('abstract AF_UNIX connect')
    """,
    "unix-abstract-bind": """
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind('\\0grafo-escape-$ID')
        s.listen(1)
        escaped('bound an abstract socket other runs could reach')
    """,
    "unix-socketpair": """
        import socket
        a, b = socket.socketpair()
        a.sendall(b'x')
        print('socketpair', b.recv(1))
    """,
    "netlink-route": """
        import socket
        s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        s.bind((0, 0))
        escaped('AF_NETLINK socket')
    """,
    "packet-raw": """
        import socket
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        escaped('AF_PACKET socket')
    """,
    "raw-icmp": """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        escaped('raw ICMP socket')
    """,
    "listen-tcp": """
        import socket
        s = socket.socket()
        s.bind(('0.0.0.0', 0))
        s.listen(1)
        escaped('listening on port %d' % s.getsockname()[1])
    """,
    "urllib-urlopen": """
        import urllib.request
        escaped('urlopen', urllib.request.urlopen('http://127.0.0.1:$TCP_PORT/$ID', timeout=1).read())
    """,
    "http-client": """
        import http.client
        connection = http.client.HTTPConnection('127.0.0.1', $TCP_PORT, timeout=1)
        connection.request('GET', '/$ID')
        escaped('http.client', connection.getresponse().read())
    """,
    "urlopen-server-itself": """
        import urllib.request
        escaped('reached the server itself', urllib.request.urlopen('http://127.0.0.1:$SERVER_PORT/api/health', timeout=1).read())
    """,
    "asyncio-open-connection": """
        import asyncio
        async def main():
            reader, writer = await asyncio.wait_for(asyncio.open_connection('127.0.0.1', $TCP_PORT), 1)
            writer.write(b'$ID')
            await writer.drain()
            escaped('asyncio connection')
        asyncio.run(main())
    """,
    "ftplib": "import ftplib\nftplib.FTP(timeout=1).connect('127.0.0.1', $TCP_PORT)\nescaped('ftplib')",
    "smtplib": "import smtplib\nsmtplib.SMTP('127.0.0.1', $TCP_PORT, timeout=1)\nescaped('smtplib')",
    "multiprocessing-client": """
        from multiprocessing.connection import Client
        Client(('127.0.0.1', $TCP_PORT)).send_bytes(b'$ID')
        escaped('multiprocessing Client')
    """,
    "dns-lookup": """
        import socket
        escaped('resolved a name', socket.getaddrinfo('example.com', 80))
    """,
    "ctypes-socket-connect": """
        import ctypes, socket, struct
        libc = ctypes.CDLL(None, use_errno=True)
        fd = libc.socket(2, 1, 0)
        print('socket', fd, ctypes.get_errno())
        address = struct.pack('!HH4s8x', 2, $TCP_PORT, socket.inet_aton('127.0.0.1'))
        address = struct.pack('=H', 2) + address[2:]
        if fd >= 0 and libc.connect(fd, address, len(address)) == 0:
            data = b'$ID'
            libc.write(fd, data, len(data))
            escaped('libc connect')
        print('connect errno', ctypes.get_errno())
    """,
    "syscall-socket": """
        result, error = syscall('socket', 2, 1, 0)
        if result >= 0:
            escaped('raw socket() returned a socket')
        print(result, error)
    """,
    "inherited-sockets": """
        import os, socket, stat
        for fd in range(3, 256):
            try:
                if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                    continue
                s = socket.socket(fileno=os.dup(fd))
                listening = s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                print(fd, s.family, s.type, s.getsockname(), listening)
                if listening:
                    escaped('inherited a listening socket: fd %d' % fd)
                elif s.family in (socket.AF_INET, socket.AF_INET6):
                    escaped('inherited a network socket: fd %d' % fd)
            except OSError:
                continue
    """,
}

SIGNALS_TO_SINK = {
    "sink-kill": "import os, signal\nos.kill($SINK_PID, signal.SIGUSR1)\nescaped('kill reached the sink')",
    "sink-killpg": "import os, signal\nos.killpg($SINK_PID, signal.SIGUSR2)\nescaped('killpg reached the sink')",
    "sink-kill-negative": "import os, signal\nos.kill(-$SINK_PID, signal.SIGHUP)\nescaped('kill(-pgid)')",
    "sink-sigstop": "import os, signal\nos.kill($SINK_PID, signal.SIGSTOP)\nescaped('stopped the sink')",
    "sink-syscall-kill": """
        result, error = syscall('kill', $SINK_PID, 10)
        if result == 0:
            escaped('raw kill reached the sink')
        print(result, error)
    """,
    "sink-tgkill": """
        result, error = syscall('tgkill', $SINK_PID, $SINK_PID, 10)
        if result == 0:
            escaped('tgkill reached the sink')
        print(result, error)
    """,
    "sink-rt-sigqueueinfo": """
        import ctypes
        info = (ctypes.c_int * 32)(10, 0, -1)
        result, error = syscall('rt_sigqueueinfo', $SINK_PID, 10, info)
        if result == 0:
            escaped('rt_sigqueueinfo reached the sink')
        print(result, error)
    """,
    "sink-pidfd-send-signal": """
        pidfd, error = syscall('pidfd_open', $SINK_PID, 0)
        print('pidfd_open', pidfd, error)
        if pidfd >= 0:
            result, error = syscall('pidfd_send_signal', pidfd, 10, 0, 0)
            if result == 0:
                escaped('pidfd_send_signal reached the sink')
            print(result, error)
    """,
    "sink-sigio-fsetown": """
        # F_SETOWN: the kernel itself signals the owner when the pipe becomes readable (no kill()).
        import fcntl, os, signal
        F_SETSIG = 10
        r, w = os.pipe()
        fcntl.fcntl(r, fcntl.F_SETOWN, $SINK_PID)
        fcntl.fcntl(r, F_SETSIG, signal.SIGUSR1)
        fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC | os.O_NONBLOCK)
        os.write(w, b'x')
        print('F_SETOWN set; the sink says whether SIGUSR1 arrived')
    """,
    "sink-sigio-fsetown-ex-group": """
        import ctypes, fcntl, os, signal
        F_SETOWN_EX, F_OWNER_PGRP, F_SETSIG = 15, 2, 10
        r, w = os.pipe()
        owner = (ctypes.c_int * 2)(F_OWNER_PGRP, $SINK_PID)
        libc = ctypes.CDLL(None, use_errno=True)
        print('F_SETOWN_EX', libc.fcntl(r, F_SETOWN_EX, owner), ctypes.get_errno())
        fcntl.fcntl(r, F_SETSIG, signal.SIGUSR2)
        fcntl.fcntl(r, fcntl.F_SETFL, fcntl.fcntl(r, fcntl.F_GETFL) | os.O_ASYNC | os.O_NONBLOCK)
        os.write(w, b'x')
    """,
    "sink-sigio-on-inherited-fds": """
        import fcntl, os, signal
        F_SETSIG = 10
        for fd in range(0, 256):
            try:
                fcntl.fcntl(fd, fcntl.F_SETOWN, $SINK_PID)
                fcntl.fcntl(fd, F_SETSIG, signal.SIGURG)
                fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
                print('armed', fd)
            except OSError:
                pass
    """,
    "sink-signal-every-pid": """
        # Everything but pid 1 and ourselves, with a signal that only the sink records.
        import os, signal
        reached = []
        for pid in sorted({*range(2, 70000), $SINK_PID, $SERVER_PID, $FORKSERVER_PID}):
            if pid == os.getpid():
                continue
            try:
                os.kill(pid, 0)
            except OSError:
                continue
            if pid == $SINK_PID:
                os.kill(pid, signal.SIGUSR1)
            reached.append(pid)
        if reached:
            escaped('signal 0 reached %d processes' % len(reached))
    """,
}

SIGNALS_GATED = {
    "kill-parent": "import os\nos.kill(os.getppid(), 9)\nescaped('SIGKILL to the parent')",
    "kill-forkserver": "import os\nos.kill($FORKSERVER_PID, 9)\nescaped('SIGKILL to the forkserver')",
    "kill-server": "import os\nos.kill($SERVER_PID, 9)\nescaped('SIGKILL to the server')",
    "stop-server": "import os, signal\nos.kill($SERVER_PID, signal.SIGSTOP)\nescaped('SIGSTOP to the server')",
    "interrupt-server": "import os, signal\nos.kill($SERVER_PID, signal.SIGINT)\nescaped('SIGINT to the server')",
    "kill-init": "import os\nos.kill(1, 9)\nescaped('SIGKILL to pid 1')",
    "killpg-own-group": "import os\nos.killpg(0, 9)",
    "kill-own-group": "import os\nos.kill(0, 9)",
    "kill-everyone": "import os\nos.kill(-1, 9)\nescaped('SIGKILL to every process')",
    "killpg-server-group": "import os\nos.killpg(os.getpgid($SERVER_PID), 15)\nescaped('SIGTERM to the server group')",
    "tgkill-server": "print(syscall('tgkill', $SERVER_PID, $SERVER_PID, 9))",
    "pidfd-kill-server": """
        pidfd, error = syscall('pidfd_open', $SERVER_PID, 0)
        print(pidfd, error)
        if pidfd >= 0:
            print(syscall('pidfd_send_signal', pidfd, 9, 0, 0))
    """,
}

PTRACE = {
    "ptrace-traceme": """
        result, error = syscall('ptrace', 0, 0, 0, 0)
        if result == 0:
            escaped('PTRACE_TRACEME')
        print(result, error)
    """,
    "process-vm-readv-sink": """
        import ctypes
        class IOVec(ctypes.Structure):
            _fields_ = [('base', ctypes.c_void_p), ('length', ctypes.c_size_t)]
        local = ctypes.create_string_buffer(64)
        here = IOVec(ctypes.addressof(local), 64)
        there = IOVec(id(0), 64)  # an address that exists in every CPython process forked like us
        result, error = syscall('process_vm_readv', $SINK_PID, ctypes.byref(here), 1, ctypes.byref(there), 1, 0)
        if result > 0 or error == 14:  # EFAULT: allowed, only the address was wrong
            escaped('process_vm_readv on the sink', local.raw)
        print(result, error)
    """,
    "process-vm-readv-parent": """
        import ctypes, os
        class IOVec(ctypes.Structure):
            _fields_ = [('base', ctypes.c_void_p), ('length', ctypes.c_size_t)]
        local = ctypes.create_string_buffer(64)
        here = IOVec(ctypes.addressof(local), 64)
        there = IOVec(id(os), 64)  # the forkserver has the same layout: we were forked from it
        result, error = syscall('process_vm_readv', os.getppid(), ctypes.byref(here), 1, ctypes.byref(there), 1, 0)
        if result > 0 or error == 14:
            escaped('process_vm_readv on the parent', local.raw)
        print(result, error)
    """,
    "process-vm-readv-server": """
        import ctypes
        class IOVec(ctypes.Structure):
            _fields_ = [('base', ctypes.c_void_p), ('length', ctypes.c_size_t)]
        local = ctypes.create_string_buffer(64)
        here = IOVec(ctypes.addressof(local), 64)
        there = IOVec(id(None), 64)
        result, error = syscall('process_vm_readv', $SERVER_PID, ctypes.byref(here), 1, ctypes.byref(there), 1, 0)
        if result > 0 or error == 14:
            escaped('process_vm_readv on the server', local.raw)
        print(result, error)
    """,
    "proc-server-mem": """
        with open('/proc/$SERVER_PID/mem', 'rb') as mem:
            mem.seek(id(None))
            escaped('read the server memory', mem.read(64))
    """,
    "proc-parent-mem": """
        import os
        with open('/proc/%d/mem' % os.getppid(), 'rb') as mem:
            mem.seek(id(os))
            escaped('read the parent memory', mem.read(64))
    """,
    "pidfd-getfd-server": """
        import os, socket
        pidfd, error = syscall('pidfd_open', $SERVER_PID, 0)
        print('pidfd_open', pidfd, error)
        if pidfd >= 0:
            for target in range(0, 64):
                fd, error = syscall('pidfd_getfd', pidfd, target, 0)
                if fd >= 0:
                    escaped('took fd %d of the server' % target)
                    try:
                        print(os.readlink('/proc/self/fd/%d' % fd))
                    except OSError as error:
                        print(error)
    """,
    "kcmp-parent": """
        import os
        result, error = syscall('kcmp', os.getpid(), os.getppid(), 0, 0, 0)
        print('kcmp', result, error)
        if result >= 0:
            escaped('kcmp compared us with the parent')
    """,
    "ptrace-seize-sink": """
        result, error = syscall('ptrace', 0x4206, $SINK_PID, 0, 0)
        if result == 0:
            syscall('ptrace', 17, $SINK_PID, 0, 0)
            escaped('PTRACE_SEIZE on the sink')
        print(result, error)
    """,
}

PTRACE_GATED = {
    "ptrace-attach-parent": """
        import os
        pid = os.getppid()
        result, error = syscall('ptrace', 16, pid, 0, 0)
        if result == 0:
            os.waitpid(pid, 0)
            syscall('ptrace', 17, pid, 0, 0)
            escaped('PTRACE_ATTACH on the parent')
        print(result, error)
    """,
    "ptrace-attach-server": """
        import os
        result, error = syscall('ptrace', 16, $SERVER_PID, 0, 0)
        if result == 0:
            syscall('ptrace', 17, $SERVER_PID, 0, 0)
            escaped('PTRACE_ATTACH on the server')
        print(result, error)
    """,
    "ptrace-seize-forkserver": """
        result, error = syscall('ptrace', 0x4206, $FORKSERVER_PID, 0, 0)
        if result == 0:
            syscall('ptrace', 17, $FORKSERVER_PID, 0, 0)
            escaped('PTRACE_SEIZE on the forkserver')
        print(result, error)
    """,
}

IPC = {
    "posix-shared-memory": """
        import os
        from multiprocessing import shared_memory
        name = os.path.basename('$W_SHM-$ID')
        block = shared_memory.SharedMemory(name=name, create=True, size=4096)
        escaped('created /dev/shm/' + name)
        block.close()
    """,
    "dev-shm-mmap": """
        import mmap, os
        fd = os.open('$W_SHM-$ID', os.O_RDWR | os.O_CREAT, 0o600)
        os.ftruncate(fd, 4096)
        mmap.mmap(fd, 4096)
        escaped('mapped a file in /dev/shm')
    """,
    "dev-shm-existing": """
        import os
        for name in os.listdir('/dev/shm'):
            escaped('saw /dev/shm/' + name, open('/dev/shm/' + name, 'rb').read(256))
    """,
    "sysv-shm-persistent": """
        import ctypes
        IPC_CREAT, IPC_RMID = 0o1000, 0
        key = 0x67726166  # a fixed key: the next run could find it
        shmid, error = syscall('shmget', key, 4096, IPC_CREAT | 0o600)
        print('shmget', shmid, error)
        if shmid >= 0:
            escaped('created a System V segment another run could attach')
            syscall('shmctl', shmid, IPC_RMID, 0)
    """,
    "sysv-msg-queue": """
        IPC_CREAT, IPC_RMID = 0o1000, 0
        qid, error = syscall('msgget', 0x67726167, IPC_CREAT | 0o600)
        print('msgget', qid, error)
        if qid >= 0:
            escaped('created a System V message queue')
            syscall('msgctl', qid, IPC_RMID, 0)
    """,
    "memfd-create": """
        import mmap, os
        fd = os.memfd_create('grafo', 0)
        os.ftruncate(fd, 1 << 20)
        region = mmap.mmap(fd, 1 << 20)
        region[:5] = b'hello'
        print('memfd works', region[:5])
    """,
    "mmap-shared-anonymous": """
        import mmap
        region = mmap.mmap(-1, 1 << 30, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        region[::4096] = b'x' * (len(region) // 4096)
        print('touched 1 GiB of shared anonymous memory')
    """,
    "keyring-add-key": """
        import ctypes
        KEY_SPEC_USER_KEYRING, KEYCTL_UNLINK = -4, 9
        key, error = syscall('add_key', ctypes.c_char_p(b'user'), ctypes.c_char_p(b'grafo-$ID'),
                             ctypes.c_char_p(b'x'), 1, KEY_SPEC_USER_KEYRING)
        print('add_key', key, error)
        if key >= 0:
            escaped('added a key to the user keyring (shared by every process of the user)')
            syscall('keyctl', KEYCTL_UNLINK, key, KEY_SPEC_USER_KEYRING)
    """,
    "multiprocessing-queue": """
        import multiprocessing
        queue = multiprocessing.Queue()
        queue.put(1)
        print(queue.get(timeout=1))
    """,
}

# The channel: a program shares its process with the tracer, so it can find the descriptor the
# worker answers on and write anything to it. `frame` is multiprocessing's framing (a 4-byte
# big-endian length), which is what a naive reader of this channel would trust.
CHANNEL_HELPERS = """
import json, os, stat, struct, sys

def frame(payload):
    return struct.pack('!i', len(payload)) + payload

def sockets():
    found = []
    for fd in range(3, 256):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode) or stat.S_ISFIFO(os.fstat(fd).st_mode):
                found.append(fd)
        except OSError:
            pass
    return found

def write_all(data, fds=None):
    for fd in (sockets() if fds is None else fds):
        try:
            os.write(fd, data)
        except OSError as error:
            print(fd, error)

def forged_lesson():
    # A real trace of the lesson with J = 999 and a made-up gradient; a schema-valid lie.
    try:
        lesson = sys.modules['app.examples'].LESSON
        data = json.loads(sys.modules['app.engine'].trace(lesson).model_dump_json())
        for node in data['nodes']:
            names = node.get('names') or []
            if 'J' in names:
                node['value']['data'] = 999.0
            if 'w' in names and node.get('grad'):
                node['grad']['data'] = [123.0]
        return json.dumps(data).encode()
    except Exception as error:
        print('no engine to forge with:', type(error).__name__, error)
        return json.dumps({'version': 1, 'nodes': [], 'edges': [], 'forward': [], 'backward': [],
                           'output': ['forged'], 'stats': {'statements': 0, 'ops': 0, 'tensors': 0,
                           'backward_passes': 0, 'backward_steps': 0, 'elapsed_ms': 0.0}}).encode()
"""

CHANNEL = {
    "garbage-every-fd": CHANNEL_HELPERS + """
write_all(os.urandom(4096))
print('wrote garbage to', sockets())
""",
    "garbage-fds-0-to-255": """
        import os
        for fd in range(0, 256):
            try:
                os.write(fd, b'\\x00\\xff garbage ' * 64)
            except OSError:
                pass
    """,
    "gigabyte-length-then-exit": CHANNEL_HELPERS + """
write_all(struct.pack('!i', 1 << 30) + b'{')
os._exit(0)
""",
    "huge-64bit-length-then-exit": CHANNEL_HELPERS + """
write_all(struct.pack('!i', -1) + struct.pack('!Q', 1 << 40) + b'{')
os._exit(0)
""",
    "partial-frame-then-sleep": CHANNEL_HELPERS + """
import time
write_all(struct.pack('!i', 1000) + b'{"status": ')
time.sleep(60)
""",
    "partial-length-then-sleep": CHANNEL_HELPERS + """
import time
write_all(b'\\x00\\x00')
time.sleep(60)
""",
    "stream-gigabyte": CHANNEL_HELPERS + """
chunk = b'0' * (1 << 20)
fds = sockets()
write_all(struct.pack('!i', (1 << 31) - 1), fds)
for _ in range(1024):
    write_all(chunk, fds)
""",
    "trace-sized-frame-of-junk": CHANNEL_HELPERS + """
write_all(frame(b'{"status": "ok"}') + frame(b'[' * (7 << 20)))
os._exit(0)
""",
    "invalid-json-then-exit": CHANNEL_HELPERS + """
write_all(frame(b'{"status": "ok"') + frame(b'not json'))
os._exit(0)
""",
    "json-not-an-object": CHANNEL_HELPERS + """
write_all(frame(b'[1, 2, 3]') + frame(b'"ok"'))
os._exit(0)
""",
    "forged-sandbox-error": CHANNEL_HELPERS + """
error = {'status': 'error', 'error': {'kind': 'sandbox', 'message': 'forged: the server is broken'}}
write_all(frame(json.dumps(error).encode()))
os._exit(0)
""",
    "forged-error-huge-message": CHANNEL_HELPERS + """
error = {'status': 'error', 'error': {'kind': 'runtime', 'message': 'x' * 60000, 'line': -5, 'col': 10**30}}
write_all(frame(json.dumps(error).encode()))
os._exit(0)
""",
    "forged-detail-log-injection": CHANNEL_HELPERS + """
# the detail of an error goes to the server log: try to start a line of our own there
line = '\\n' + MARK + ' {"event": "forged", "status": 200}\\n'
error = {'status': 'error', 'error': {'kind': 'runtime', 'message': 'forged'}, 'detail': 'x' + line * 100}
write_all(frame(json.dumps(error).encode()))
os._exit(0)
""",
    "forged-unknown-kind": CHANNEL_HELPERS + """
error = {'status': 'error', 'error': {'kind': 'internal', 'message': 'forged'}, 'detail': 'x' * 10000}
write_all(frame(json.dumps(error).encode()))
os._exit(0)
""",
    "forged-trace-other-values": CHANNEL_HELPERS + """
write_all(frame(b'{"status": "ok"}') + frame(forged_lesson()))
os._exit(0)
""",
    "forged-invalid-trace": CHANNEL_HELPERS + """
write_all(frame(b'{"status": "ok"}') + frame(b'{"version": 1, "nodes": "everything", "stats": null}'))
os._exit(0)
""",
    "forged-trace-non-finite": CHANNEL_HELPERS + """
write_all(frame(b'{"status": "ok"}') + frame(b'{"version": 1, "nodes": [], "stats": {"elapsed_ms": NaN}}'))
os._exit(0)
""",
    "many-forged-replies-then-normal": CHANNEL_HELPERS + """
forged = forged_lesson()
for _ in range(10):
    write_all(frame(b'{"started": true}') + frame(b'{"status": "ok"}') + frame(forged))
""",
    "late-forged-reply-thread": CHANNEL_HELPERS + """
import threading, time
forged = forged_lesson()
def later():
    for _ in range(50):
        time.sleep(0.05)
        write_all(frame(b'{"status": "ok"}') + frame(forged))
threading.Thread(target=later, daemon=False).start()
""",
    "pickle-frame": CHANNEL_HELPERS + """
import pickle
class Payload:
    def __reduce__(self):
        return (open, ('$W_TMP-$ID-unpickled-by-the-server', 'w'))
write_all(frame(pickle.dumps(Payload())))
write_all(frame(pickle.dumps(('ok', Payload()))))
os._exit(0)
""",
    "gc-connection-objects": """
        import gc, multiprocessing.connection
        found = [o for o in gc.get_objects() if isinstance(o, multiprocessing.connection.Connection)]
        print(len(found), 'connections')
        for connection in found:
            try:
                connection.send_bytes(b'{"status": "error", "error": {"kind": "sandbox", "message": "forged"}}')
                connection.send_bytes(b'junk')
            except OSError as error:
                print(error)
    """,
    "close-every-fd": "import os\nos.closerange(3, 1 << 16)\nprint('closed everything')",
    "dup2-pipe-over-channel": CHANNEL_HELPERS + """
r, w = os.pipe()
for fd in sockets():
    os.dup2(r, fd)
print('replaced the channel')
""",
    "shutdown-channel": CHANNEL_HELPERS + """
import socket
for fd in sockets():
    try:
        socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)
    except OSError as error:
        print(fd, error)
""",
    "nonblocking-channel-flood": CHANNEL_HELPERS + """
for fd in sockets():
    os.set_blocking(fd, False)
    try:
        while True:
            os.write(fd, b'x' * 65536)
    except OSError as error:
        print(fd, error)
""",
    "read-from-channel": CHANNEL_HELPERS + """
for fd in sockets():
    os.set_blocking(fd, False)
    try:
        print(fd, os.read(fd, 65536))
    except OSError as error:
        print(fd, error)
""",
    "fd-exhaustion": """
        import os
        opened = []
        try:
            while True:
                opened.append(os.dup(0))
        except OSError as error:
            print(len(opened), 'descriptors, then', error)
    """,
}

TAMPER = {
    "json-dumps-forged": """
        import json
        json.dumps = lambda *args, **kwargs: '{"forged": true}'
        json.encoder.JSONEncoder.encode = lambda self, o: '{"forged": true}'
        print('patched json')
    """,
    "pydantic-dump-forged": """
        import pydantic
        pydantic.BaseModel.model_dump_json = lambda self, **kw: '{"version": 1, "nodes": "forged"}'
        print('patched pydantic')
    """,
    "pydantic-dump-huge": """
        import pydantic
        pydantic.BaseModel.model_dump_json = lambda self, **kw: '[' * (64 << 20)
        print('patched pydantic to return 64 MB')
    """,
    "pydantic-dump-raises": """
        import pydantic
        def broken(self, **kw):
            raise SystemExit(3)
        pydantic.BaseModel.model_dump_json = broken
    """,
    "project-modules-patched": """
        import sys
        patched = []
        for name, module in list(sys.modules.items()):
            if name == 'app' or name.startswith('app.'):
                for attr, value in list(vars(module).items()):
                    if callable(value) and not attr.startswith('__'):
                        try:
                            setattr(module, attr, lambda *a, **k: None)
                            patched.append(name + '.' + attr)
                        except (AttributeError, TypeError):
                            pass
        print(len(patched), 'functions replaced')
    """,
    "gc-tracer-objects": """
        import gc
        touched = 0
        for obj in gc.get_objects():
            module = getattr(type(obj), '__module__', '') or ''
            if module.startswith('app.') and hasattr(obj, '__dict__'):
                for key in list(vars(obj)):
                    try:
                        setattr(obj, key, None)
                        touched += 1
                    except Exception:
                        pass
        print(touched, 'attributes of the tracer set to None')
    """,
    "torch-backward-noop": """
        import torch
        torch.Tensor.backward = lambda self, *a, **k: None
        torch.autograd.backward = lambda *a, **k: None
        w = torch.ones(1, requires_grad=True)
        (w * 3).sum().backward()
        print(w.grad)
    """,
    "torch-global-state": """
        import torch
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
        torch.set_num_threads(16)
        torch.manual_seed(12345)
        torch.ones = lambda *a, **k: torch.zeros(*a, **k)
        print('changed torch globals')
    """,
    "builtins-patched": """
        import builtins
        builtins.print = lambda *a, **k: None
        builtins.__import__ = lambda *a, **k: None
        builtins.len = lambda x: 0
    """,
    "sys-modules-replaced": """
        import sys, types
        for name in ('json', 'pydantic', 'torch', 'app.trace_model', 'app.engine'):
            sys.modules[name] = types.ModuleType(name)
        print('replaced modules')
    """,
    "settrace-setprofile": """
        import sys, threading
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(lambda *a: None)
        def noisy(frame, event, arg):
            return noisy
        sys.settrace(noisy)
        print('tracing hooks replaced')
    """,
    "torch-function-mode-popped": """
        import torch
        from torch.overrides import _get_current_function_mode_stack
        print(len(_get_current_function_mode_stack()), 'function modes')
        while _get_current_function_mode_stack():
            torch._C._pop_torch_function_stack()
        w = torch.ones(1, requires_grad=True)
        J = (w * 2).sum()
        J.backward()
    """,
    "small-int-corruption": """
        import ctypes, sys
        # make the small integer 1 hold 2, for everything in this process
        offset = sys.getsizeof(1) - 4
        ctypes.memmove(id(1) + offset, id(2) + offset, 4)
        print(1 + 1)
    """,
    "exit-functions-disabled": """
        import os, sys
        os._exit = lambda *a: None
        sys.exit = lambda *a: None
        import time
        print('the worker cannot leave on its own any more')
    """,
    "time-frozen": """
        import time
        time.monotonic = lambda: 0.0
        time.perf_counter = lambda: 0.0
        time.time = lambda: 0.0
        while True:
            pass
    """,
    "signal-handlers-replaced": """
        import signal
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU, signal.SIGUSR1):
            signal.signal(number, signal.SIG_IGN)
        signal.signal = lambda *a: None
        while True:
            pass
    """,
    "daemon-thread-mutates": """
        import threading, torch
        def mutate():
            while True:
                torch.set_default_dtype(torch.float64)
                torch.set_grad_enabled(False)
        threading.Thread(target=mutate, daemon=True).start()
        w = torch.ones(1, requires_grad=True)
        J = (w * 3).sum()
    """,
    "examples-replaced": """
        import sys
        module = sys.modules.get('app.examples')
        if module is not None:
            module.LESSON = 'import torch\\nJ = torch.tensor(999.0)\\n'
            module.EXAMPLES = []
        print('replaced the examples in this process')
    """,
    "stdout-replaced": """
        import io, sys
        sys.stdout = io.StringIO()
        sys.stderr = None
        print('nobody reads this')
    """,
}

OUTPUT = {
    "print-100-mb": "print('x' * 10**8)",
    "print-many-lines": "for i in range(10**6):\n    print(i)",
    "stdout-write-loop": "import sys\nfor _ in range(10**6):\n    sys.stdout.write('x' * 100)",
    "dunder-stdout": "import sys\nsys.__stdout__.write('x' * 10**7)\nsys.__stdout__.flush()",
    "dunder-stderr": "import sys\nsys.__stderr__.write('x' * 10**7)\nsys.__stderr__.flush()",
    "os-write-1": "import os\nfor _ in range(100):\n    os.write(1, b'x' * 10**6)",
    "os-write-2": "import os\nfor _ in range(100):\n    os.write(2, b'x' * 10**6)",
    "print-stderr": "import sys\nfor _ in range(10**5):\n    print('y' * 100, file=sys.stderr)",
    "invalid-utf8": "import os\nos.write(1, b'\\xff\\xfe\\xc0\\xaf' * 10**5)\nprint('\\udcff', 'surrogate')",
    "control-characters": "print('\\x1b[2J\\x00\\r\\x07' * 10**5)",
    "huge-repr": "print(list(range(10**7)))",
    "one-huge-line": "import sys\nsys.stdout.write('z' * 10**8)",
    "warnings-flood": "import warnings\nfor i in range(10**5):\n    warnings.warn('w%d' % i)",
    "logging-flood": "import logging\nfor i in range(10**5):\n    logging.warning('x' * 100)",
    "faulthandler-flood": """
        import faulthandler, sys, time
        faulthandler.dump_traceback_later(0.001, repeat=True, file=sys.stderr)
        time.sleep(3)
    """,
    "faulthandler-to-channel": """
        import faulthandler, os, time
        for fd in range(3, 64):
            try:
                faulthandler.dump_traceback_later(0.001, repeat=True, file=fd)
            except (OSError, ValueError):
                continue
            break
        time.sleep(3)
    """,
    "tensor-print-huge": "import torch\ntorch.set_printoptions(threshold=10**9)\nprint(torch.arange(10**6))",
    "many-tensors-in-trace": """
        import torch
        w = torch.ones(1000, requires_grad=True)
        x = w
        for _ in range(20000):
            x = x * 1.0001
        J = x.sum()
        J.backward()
    """,
}

CPU = {
    "while-true": "while True:\n    pass",
    "sum-range": "print(sum(range(10**12)))",
    "big-power": "x = 10**10**8\nprint(x % 7)",
    "regex-backtracking": "import re\nprint(re.match('(a+)+$$', 'a' * 64 + 'b'))",
    "pbkdf2": "import hashlib\nprint(hashlib.pbkdf2_hmac('sha256', b'x', b'y', 10**9))",
    "spinning-threads": """
        import threading
        def spin():
            while True:
                pass
        for _ in range(8):
            threading.Thread(target=spin, daemon=True).start()
        spin()
    """,
    "ignore-sigxcpu": "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass",
    "block-all-signals": """
        import signal
        signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
        while True:
            pass
    """,
    "alarm-tampering": """
        import signal
        signal.alarm(0)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass
    """,
    "raise-cpu-limit": """
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        print('RLIMIT_CPU', soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            if hard != resource.RLIM_INFINITY:
                escaped('raised the CPU hard limit')
        except (OSError, ValueError) as error:
            print(error)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
        except (OSError, ValueError) as error:
            print(error)
        while True:
            pass
    """,
    "prlimit-parent": """
        import os, resource
        try:
            resource.prlimit(os.getppid(), resource.RLIMIT_NOFILE, (1, 1))
            escaped('changed the parent limits')
        except OSError as error:
            print(error)
    """,
    "nice-down": """
        import os
        before = os.nice(0)
        try:
            after = os.nice(-20)
            if after < before:
                escaped('lowered niceness from %d to %d' % (before, after))
        except OSError as error:
            print(error)
    """,
    "realtime-priority": """
        import os
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            escaped('real-time scheduling')
            os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        except OSError as error:
            print(error)
    """,
    "setpriority-parent": """
        import os
        try:
            os.setpriority(os.PRIO_PROCESS, os.getppid(), 19)
            escaped('reniced the parent')
        except OSError as error:
            print(error)
    """,
    "time-sleep": "import time\ntime.sleep(100)",
    "select-forever": "import select\nselect.select([], [], [], 100)",
    "event-wait": "import threading\nthreading.Event().wait()",
    "input": "print(input())",
    "stdin-read": "import sys\nprint(len(sys.stdin.read()))",
    "os-read-0": "import os\nprint(os.read(0, 10))",
    "torch-matmul-loop": """
        import torch
        a = torch.randn(2000, 2000)
        while True:
            a = (a @ a).tanh()
    """,
    "sleep-in-c": """
        import ctypes
        libc = ctypes.CDLL(None)
        libc.sleep(100)
    """,
}

MEMORY = {
    "bytearray-100gb": "x = bytearray(10**11)",
    "list-growth": """
        chunks = []
        for _ in range(800):  # 8 GB at most, touched
            chunks.append(bytearray(10**7))
    """,
    "list-doubling": "x = [0]\nwhile len(x) < 10**10:\n    x = x + x",
    "string-100gb": "x = ' ' * 10**11",
    "torch-empty-huge": "import torch\nx = torch.empty(10**10)",
    "torch-ones-4gb": "import torch\nx = torch.ones(10**9)\nprint(x.sum())",
    "torch-cat-doubling": """
        import torch
        t = torch.ones(10**6)
        while True:
            t = torch.cat([t, t])
    """,
    "numpy-ones-huge": "import numpy as np\nx = np.ones(10**10)",
    "mmap-anonymous-touched": """
        import mmap
        region = mmap.mmap(-1, 8 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        for offset in range(0, len(region), 4096):
            region[offset] = 1
    """,
    "raise-data-limit": """
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        print('RLIMIT_DATA', soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_DATA, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            if hard != resource.RLIM_INFINITY:
                escaped('raised the data hard limit')
        except (OSError, ValueError) as error:
            print(error)
        chunks = [bytearray(10**7) for _ in range(800)]
    """,
    "ctypes-malloc-memset": """
        import ctypes
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        for _ in range(64):
            pointer = libc.malloc(1 << 27)
            if pointer:
                ctypes.memset(pointer, 1, 1 << 27)
    """,
    "catch-memory-error-and-retry": """
        kept = []
        for _ in range(100000):
            try:
                kept.append(bytearray(10**8))
            except MemoryError:
                kept = kept[1:]
    """,
    "recursion-limit-deep": """
        import sys
        sys.setrecursionlimit(10**6)
        def down(n):
            return down(n + 1) + 1
        down(0)
    """,
    "recursion-default": "def down(n):\n    return down(n + 1)\ndown(0)",
    "thread-bomb": """
        import threading, time
        started = 0
        for _ in range(10000):
            try:
                threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
                started += 1
            except RuntimeError as error:
                print(error)
                break
        print(started, 'threads')
    """,
    "gc-cycles": """
        import gc
        gc.disable()
        while True:
            a = []
            a.append(a)
            a.append(bytearray(10**5))
    """,
    "segfault-string-at-0": "import ctypes\nctypes.string_at(0)",
    "segfault-memset-0": "import ctypes\nctypes.memset(0, 0, 1)",
    "faulthandler-sigsegv": "import faulthandler\nfaulthandler._sigsegv()",
    "abort": "import os\nos.abort()",
    "raise-sigsegv": "import signal\nsignal.raise_signal(signal.SIGSEGV)",
    "kill-self-9": "import os\nos.kill(os.getpid(), 9)",
    "stop-self": "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)",
}

FORK_BOMBS = {
    "multiprocessing-bomb": """
        import multiprocessing, time
        processes = [multiprocessing.Process(target=time.sleep, args=(30,)) for _ in range(100)]
        for process in processes:
            process.start()
        escaped('started 100 processes')
    """,
    "fork-loop": """
        import os
        children = 0
        for _ in range(10000):
            try:
                if os.fork() == 0:
                    import time
                    time.sleep(5)
                    os._exit(0)
                children += 1
            except OSError:
                break
        if children:
            escaped('forked %d children' % children)
    """,
    "fork-bomb-classic": """
        import os
        while True:
            os.fork()
    """,
}

DISK = {
    "fill-run-dir": """
        chunk = b'\\0' * (64 << 20)
        written = 0
        try:
            for index in range(64):  # 4 GB at most
                with open('fill-%d' % index, 'wb') as f:
                    f.write(chunk)
                written += len(chunk)
        except OSError as error:
            print(written, error)
    """,
    "one-file-many-writes": """
        chunk = b'\\0' * (16 << 20)
        with open('big', 'wb') as f:
            for _ in range(256):
                f.write(chunk)
    """,
    "sparse-terabyte": """
        with open('sparse', 'wb') as f:
            f.seek(10**12)
            f.write(b'x')
        print('made a 1 TB sparse file')
    """,
    "truncate-terabyte": "import os\nopen('t', 'wb').close()\nos.truncate('t', 10**12)",
    "fallocate-10gb": """
        import os
        fd = os.open('f', os.O_RDWR | os.O_CREAT, 0o600)
        os.posix_fallocate(fd, 0, 10 * (1 << 30))
    """,
    "many-small-files": """
        count = 0
        try:
            for index in range(10**6):
                with open('s%d' % index, 'wb') as f:
                    f.write(b'x')
                count += 1
        except OSError as error:
            print(count, error)
    """,
    "deep-directories": """
        import os
        path = 'd/' * 2000
        try:
            os.makedirs(path)
        except OSError as error:
            print(error)
    """,
    "fill-tmp": """
        chunk = b'\\0' * (64 << 20)
        for index in range(64):
            with open('$W_TMP-$ID-%d' % index, 'wb') as f:
                f.write(chunk)
        escaped('wrote into /tmp')
    """,
    "fill-dev-shm": """
        chunk = b'\\0' * (64 << 20)
        for index in range(64):
            with open('$W_SHM-$ID-%d' % index, 'wb') as f:
                f.write(chunk)
        escaped('wrote into /dev/shm (memory)')
    """,
    "raise-file-size-limit": """
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        print('RLIMIT_FSIZE', soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            if hard != resource.RLIM_INFINITY:
                escaped('raised the file size hard limit')
        except (OSError, ValueError) as error:
            print(error)
        with open('big', 'wb') as f:
            f.write(b'\\0' * (1 << 30))
    """,
}

EXITS = {
    "os-exit-0": "import os\nos._exit(0)",
    "os-exit-1": "import os\nos._exit(1)",
    "sys-exit": "import sys\nsys.exit()",
    "sys-exit-message": "import sys\nsys.exit('bye')",
    "raise-system-exit": "raise SystemExit",
    "raise-keyboard-interrupt": "raise KeyboardInterrupt",
    "raise-base-exception": "raise BaseException('base')",
    "raise-generator-exit": "raise GeneratorExit",
    "builtin-exit": "exit()",
    "builtin-quit": "quit(3)",
    "atexit-exit": "import atexit, os\natexit.register(os._exit, 7)\nprint('registered')",
    "exit-group-syscall": "print(syscall('exit_group', 0))",
    "non-daemon-thread-spins": """
        import threading
        def spin():
            while True:
                pass
        threading.Thread(target=spin, daemon=False).start()
        print('main finished')
    """,
    "excepthook-replaced": """
        import sys
        sys.excepthook = lambda *a: None
        raise ValueError('hidden')
    """,
    "exception-with-huge-message": "raise ValueError('x' * 10**7)",
    "exception-str-raises": """
        class Weird(Exception):
            def __str__(self):
                raise SystemExit(9)
        raise Weird()
    """,
    "exception-str-loops": """
        class Slow(Exception):
            def __str__(self):
                while True:
                    pass
        raise Slow()
    """,
    "recursive-exception-chain": """
        error = None
        for i in range(100000):
            try:
                raise ValueError(i) from error
            except ValueError as new:
                error = new
        raise error
    """,
}

SYSCALLS = {
    "setuid-0": """
        import os
        before = os.getuid()
        os.setuid(0)
        if before != 0:
            escaped('setuid(0) from %d' % before)
        print('setuid(0) returned; uid', os.getuid())
    """,
    "setgid-0": "import os\nos.setgid(0)\nprint('setgid returned')",
    "setgroups": "import os\nos.setgroups([0])\nprint('setgroups returned')",
    "chroot-escape": """
        import os
        os.mkdir('jail')
        os.chroot('jail')
        for _ in range(64):
            os.chdir('..')
        os.chroot('.')
        escaped('chroot', open('$SECRET_FILE').read())
    """,
    "unshare-user": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x10000000) == 0:
            escaped('unshare(CLONE_NEWUSER)')
        print(ctypes.get_errno())
    """,
    "unshare-mount-then-mount": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x00020000, 16384, 1 << 18
        if libc.unshare(CLONE_NEWNS) == 0:
            escaped('unshare(CLONE_NEWNS)')
            libc.mount(None, b'/', None, MS_REC | MS_PRIVATE, None)  # this namespace only
            if libc.mount(b'tmpfs', b'.', b'tmpfs', 0, None) == 0:
                escaped('mounted a tmpfs')
        print(ctypes.get_errno())
    """,
    "unshare-net": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x40000000) == 0:
            escaped('unshare(CLONE_NEWNET)')
        print(ctypes.get_errno())
    """,
    "setns-init-net": """
        import ctypes, os
        fd = os.open('/proc/1/ns/net', os.O_RDONLY)
        result, error = syscall('setns', fd, 0)
        if result == 0:
            escaped('joined the network namespace of pid 1')
    """,
    "mount-allowed-check": """
        import ctypes
        # ENOENT would mean the call got past the permission check to the path lookup
        result, error = syscall('mount', ctypes.c_char_p(b'tmpfs'), ctypes.c_char_p(b'$W_TMP-$ID-none'),
                                ctypes.c_char_p(b'tmpfs'), 0, 0)
        print(result, error)
        if result == 0 or error == 2:
            escaped('mount() is allowed')
    """,
    "open-tree": """
        result, error = syscall('open_tree', -100, __import__('ctypes').c_char_p(b'/'), 1)
        print(result, error)
        if result >= 0:
            escaped('open_tree')
    """,
    "fsopen": """
        result, error = syscall('fsopen', __import__('ctypes').c_char_p(b'tmpfs'), 0)
        print(result, error)
        if result >= 0:
            escaped('fsopen')
    """,
    "keyctl-session": """
        KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING = 0, -3
        result, error = syscall('keyctl', KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 1)
        print(result, error)
        if result >= 0:
            escaped('keyctl')
    """,
    "bpf-map-create": """
        import ctypes
        attr = (ctypes.c_uint32 * 16)(2, 4, 4, 1)  # BPF_MAP_TYPE_ARRAY, key 4, value 4, 1 entry
        result, error = syscall('bpf', 0, attr, ctypes.sizeof(attr))
        print(result, error)
        if result >= 0:
            escaped('bpf map')
    """,
    "perf-event-open-self": """
        import ctypes
        attr = (ctypes.c_uint8 * 128)()
        ctypes.c_uint32.from_buffer(attr, 0).value = 1  # PERF_TYPE_SOFTWARE
        ctypes.c_uint32.from_buffer(attr, 4).value = 128  # size
        ctypes.c_uint64.from_buffer(attr, 40).value = 1 << 5 | 1 << 6  # exclude_kernel, exclude_hv
        result, error = syscall('perf_event_open', attr, 0, -1, -1, 0)
        print(result, error)
        if result >= 0:
            escaped('perf_event_open')
    """,
    "io-uring-setup": """
        import ctypes
        params = (ctypes.c_uint8 * 120)()
        result, error = syscall('io_uring_setup', 4, params)
        print(result, error)
        if result >= 0:
            escaped('io_uring_setup')
    """,
    "userfaultfd": """
        result, error = syscall('userfaultfd', 1)  # UFFD_USER_MODE_ONLY
        print(result, error)
        if result >= 0:
            escaped('userfaultfd')
    """,
    "init-module-garbage": """
        import ctypes
        image = ctypes.create_string_buffer(b'\\x7fELF' + b'\\0' * 60)
        result, error = syscall('init_module', image, 64, ctypes.c_char_p(b''))
        print(result, error)
        if error not in (1, 38):  # anything but EPERM/ENOSYS got past the permission check
            escaped('init_module was not refused')
    """,
    "syslog-read": """
        import ctypes
        buffer = ctypes.create_string_buffer(4096)
        result, error = syscall('syslog', 3, buffer, 4096)
        print(result, error)
        if result > 0:
            escaped('read the kernel log', buffer.raw[:result])
    """,
    "iopl": """
        result, error = syscall('iopl', 3)
        print(result, error)
        if result == 0:
            escaped('iopl(3)')
    """,
    "capabilities": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        print('capget', libc.capget(header, data), list(data))
        full = (ctypes.c_uint32 * 6)(*([0xFFFFFFFF] * 6))
        if libc.capset(header, full) == 0:
            escaped('capset gave us every capability')
    """,
    "no-new-privs-off": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print('get', libc.prctl(39, 0, 0, 0, 0))
        print('set 0', libc.prctl(38, 0, 0, 0, 0), ctypes.get_errno())
        print('get', libc.prctl(39, 0, 0, 0, 0))
    """,
    "dumpable-on": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(4, 1, 0, 0, 0) == 0:
            escaped('made ourselves dumpable (ptrace-able by peers) again')
        print(ctypes.get_errno())
    """,
    "seccomp-strict": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        print('PR_SET_SECCOMP strict', libc.prctl(22, 1, 0, 0, 0))
        print('after strict mode nothing but read/write/exit works')
    """,
    "seccomp-syscall-strict": """
        result, error = syscall('seccomp', 0, 0, 0)  # SECCOMP_SET_MODE_STRICT through the system call
        print(result, error)
    """,
}


ATTEMPTS: list[Attempt] = (
    _group("files", FILES)
    + _group("environment", ENVIRONMENT)
    + _group("listing", LISTING)
    + _group("writes", WRITES)
    + _group("exec", EXEC)
    + _group("network", NETWORK)
    + _group("signals", SIGNALS_TO_SINK)
    + _group("signals", SIGNALS_GATED, gate="signals")
    + _group("ptrace", PTRACE)
    + _group("ptrace", PTRACE_GATED, gate="ptrace")
    + _group("ipc", IPC)
    + _group("channel", CHANNEL)
    + _group("tamper", TAMPER)
    + _group("output", OUTPUT)
    + _group("cpu", CPU)
    + _group("memory", MEMORY)
    + _group("memory", FORK_BOMBS, gate="fork")
    + _group("disk", DISK)
    + _group("exits", EXITS)
    + _group("syscalls", SYSCALLS)
)

assert len({(a.group, a.id) for a in ATTEMPTS}) == len(ATTEMPTS), "attempt ids must be unique per group"
assert {a.group for a in ATTEMPTS} == {g.name for g in GROUPS}, "every attempt belongs to a known group"
