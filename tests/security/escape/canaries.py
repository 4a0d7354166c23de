"""Canaries: what a successful escape would reveal or change, planted before the server starts.

Every secret is a random token that no program source ever contains, so a token in a response
can only have been read from where it was planted:

- secret files the server's user can read: one in a temp directory of their own (outside the
  repo), one in the server's HOME and one in its working directory; and the repo's own files
  (`app/settings.py`, `pyproject.toml`, ...), recognised by lines taken from them at run time;
- a secret environment variable in the server's environment (inherited by its forkserver);
- hidden files whose *names* are a token: a listing of their directory would reveal it;
- an escape marker: programs print it only after doing something the sandbox must refuse
  (their source holds it in two halves, joined at run time, so an echo of the source is not it).

Listeners record any connection a program manages to make: TCP on 127.0.0.1 (and ::1), UDP,
and UNIX sockets on a path and in the abstract namespace. A signal sink (a small process of our
own, outside the sandbox) records any signal that reaches it. Write targets are path prefixes
under /tmp, /var/tmp, /dev/shm, the repo, the real HOME and the server's own directories: a
successful write or exec creates a path starting with one of them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[3]
ENV_NAME = "ESCAPE_CANARY_SECRET"
PREFIX = "grafo-escape-"
LEGACY_PWN = "/tmp/grafo_pwned"  # the path the catalogue's file-writing cases aim at

# Files of the repo a program must never read; each is recognised by a few of its own lines. For a
# Python file these come from its comments, which exist only in the file (and in a copy of its text,
# such as linecache's), never in the loaded module: reading a module's docstring is not reading a file.
REPO_FILES = ("app/settings.py", "pyproject.toml", "SECURITY.md", "app/service/worker.py", "app/service/pool.py",
              "app/service/warm.py", "app/engine/tracer.py", "app/engine/program.py", "app/sandbox/policy.py",
              "app/sandbox/seccomp.py", "tests/security/escape/canaries.py")
# Content that is never in a good answer, whatever the machine: the first line of /etc/passwd.
STATIC_FINGERPRINTS = {"/etc/passwd content": "root:x:0:0:"}
# A fingerprint: a run of 40 or more characters that JSON and repr() leave as they are.
FINGERPRINT_RUN = re.compile(r"[A-Za-z0-9 .,:;=_+*/()<>!?#%&@|~\[\]{}-]{40,}")

SINK_CODE = """\
import os, signal, time
def record(number, frame):
    os.write(1, b"%d\\n" % number)
for number in signal.valid_signals():
    if number in (signal.SIGKILL, signal.SIGSTOP):
        continue
    try:
        signal.signal(number, record)
    except (OSError, ValueError, RuntimeError):
        pass
os.write(1, b"ready\\n")
while True:
    time.sleep(3600)
"""


def token() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class PlantedFile:
    path: Path
    content: bytes
    mode: int
    mtime_ns: int
    inode: int

    @classmethod
    def write(cls, path: Path, content: bytes, mode: int = 0o600) -> "PlantedFile":
        path.write_bytes(content)
        os.chmod(path, mode)
        info = path.stat()
        return cls(path, content, info.st_mode, info.st_mtime_ns, info.st_ino)

    def problems(self) -> list[str]:
        """What changed since it was planted (a removed, renamed, rewritten or re-moded canary)."""
        try:
            info = self.path.lstat()
            content = self.path.read_bytes()
        except OSError as error:
            return [f"canary {self.path} is gone ({error.strerror})"]
        changes = [name for name, same in (
            ("content", content == self.content), ("mode", info.st_mode == self.mode),
            ("mtime", info.st_mtime_ns == self.mtime_ns), ("inode", info.st_ino == self.inode)) if not same]
        return [f"canary {self.path} changed: {', '.join(changes)}"] if changes else []


def fingerprints_of(path: Path, count: int = 2) -> list[str]:
    """The first `count` long runs of plain characters in a file (none if it cannot be read);
    in a Python file, only in its comments."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return []
    found: list[str] = []
    for line in text.splitlines():
        if path.suffix == ".py":
            if "#" not in line or "noqa" in line:
                continue
            line = line.split("#", 1)[1]
        for match in FINGERPRINT_RUN.finditer(line.strip()):
            run = match.group(0).strip()
            if len(run) >= 40 and run not in found:
                found.append(run)
                break
        if len(found) >= count:
            break
    return found


def strings_in(value) -> list[str]:
    """Every string (keys too) inside decoded JSON."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            out.extend(str(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


class Listeners:
    """Sockets that record every connection or datagram that reaches them, from a thread."""

    def __init__(self, directory: Path):
        self.hits: list[tuple[float, str, str, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(64)
        self.tcp_port = self.tcp.getsockname()[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp_port = self.udp.getsockname()[1]
        self.tcp6 = None
        self.tcp6_port = self.tcp_port  # without IPv6 the programs aim at a port nobody holds on ::1
        try:
            self.tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            self.tcp6.bind(("::1", 0))
            self.tcp6.listen(64)
            self.tcp6_port = self.tcp6.getsockname()[1]
        except OSError:
            self.tcp6 = None
        self.unix_path = str(directory / "listener.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        self.unix.listen(64)
        self.abstract_name = PREFIX + token()
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(64)
        self._streams = {sock: name for sock, name in (
            (self.tcp, "tcp 127.0.0.1"), (self.tcp6, "tcp ::1"), (self.unix, "unix path"),
            (self.abstract, "unix abstract")) if sock is not None}
        self._thread = threading.Thread(target=self._serve, name="escape-listeners", daemon=True)
        self._thread.start()

    def _record(self, kind: str, peer, data: bytes) -> None:
        with self._lock:
            self.hits.append((time.time(), kind, str(peer), data[:200]))

    def _serve(self) -> None:
        sockets = [*self._streams, self.udp]
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select(sockets, [], [], 0.1)
            except (OSError, ValueError):
                return
            for sock in ready:
                try:
                    if sock is self.udp:
                        data, peer = sock.recvfrom(65536)
                        self._record("udp 127.0.0.1", peer, data)
                        continue
                    conn, peer = sock.accept()
                except OSError:
                    continue
                data = b""
                try:
                    conn.settimeout(0.3)
                    data = conn.recv(1024)
                except OSError:
                    pass
                finally:
                    conn.close()
                self._record(self._streams[sock], peer, data)

    def since(self, index: int) -> list[tuple[float, str, str, bytes]]:
        with self._lock:
            return list(self.hits[index:])

    def count(self) -> int:
        with self._lock:
            return len(self.hits)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for sock in [*self._streams, self.udp]:
            sock.close()


class SignalSink:
    """A process of our own that records every signal it receives (and dies only of SIGKILL)."""

    def __init__(self):
        self.received: list[int] = []
        self._lock = threading.Lock()
        self.process = subprocess.Popen([sys.executable, "-c", SINK_CODE], stdout=subprocess.PIPE,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        self.pid = self.process.pid
        first = self.process.stdout.readline()
        if first.strip() != b"ready":
            raise RuntimeError(f"signal sink did not start: {first!r}")
        self._thread = threading.Thread(target=self._read, name="escape-signal-sink", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                number = int(line)
            except ValueError:
                continue
            with self._lock:
                self.received.append(number)

    def since(self, index: int) -> list[int]:
        with self._lock:
            return list(self.received[index:])

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def state(self) -> str | None:
        """None while it runs normally; otherwise what happened to it (killed, stopped)."""
        if self.process.poll() is not None:
            return f"signal sink exited with {self.process.returncode}"
        try:
            status = psutil.Process(self.pid).status()
        except psutil.NoSuchProcess:
            return "signal sink is gone"
        if status in (psutil.STATUS_STOPPED, psutil.STATUS_TRACING_STOP):
            os.kill(self.pid, signal.SIGCONT)
            return f"signal sink was {status}"
        return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(5)
        self.process.stdout.close()


class Canaries:
    """Everything planted for one server, the values programs get, and the checks afterwards."""

    def __init__(self):
        self.directory = Path(tempfile.mkdtemp(prefix=PREFIX + "canary-"))
        self.file_token, self.home_token, self.cwd_token = token(), token(), token()
        self.env_token, self.name_token = token(), token()
        self.mark_a, self.mark_b = token(), token()
        self.write_token = token()
        self.secret_file = self.directory / "secret.txt"
        self.planted = [
            PlantedFile.write(self.secret_file, f"grafo canary secret file {self.file_token}\n".encode()),
            PlantedFile.write(self.directory / f"hidden-{self.name_token}.txt", b"only its name is secret\n"),
        ]
        self.home_secret = self.cwd_secret = None
        self.listeners = Listeners(self.directory)
        self.sink = SignalSink()
        self.writes = {
            "W_TMP": f"/tmp/{PREFIX}{self.write_token}",
            "W_VARTMP": f"/var/tmp/{PREFIX}{self.write_token}",
            "W_SHM": f"/dev/shm/{PREFIX}{self.write_token}",
            "W_REPO": str(ROOT / f".{PREFIX}{self.write_token}"),
            "W_HOME": str(Path.home() / f".{PREFIX}{self.write_token}"),
            "W_CANARY_DIR": str(self.directory / f"{PREFIX}{self.write_token}"),
        }
        self.repo_fingerprints = {rel: fingerprints_of(ROOT / rel) for rel in REPO_FILES}
        self.server = None
        self._snapshots: dict[Path, set[str]] = {}
        self._listener_index = self._sink_index = 0

    # -- the server ----------------------------------------------------------------------------

    def server_env(self) -> dict[str, str]:
        return {ENV_NAME: self.env_token}

    def plant_in_server(self, server) -> None:
        """Secrets in the server's HOME and working directory, and write targets beside them."""
        self.server = server
        self.home_secret = Path(server.home) / "secret.txt"
        self.cwd_secret = Path(server.cwd) / "secret.txt"
        self.planted += [
            PlantedFile.write(self.home_secret, f"grafo canary home secret {self.home_token}\n".encode()),
            PlantedFile.write(self.cwd_secret, f"grafo canary cwd secret {self.cwd_token}\n".encode()),
            PlantedFile.write(Path(server.home) / f".hidden-{self.name_token}", b"only its name is secret\n"),
        ]
        self.writes.update({
            "W_SERVER_HOME": str(Path(server.home) / f"{PREFIX}{self.write_token}"),
            "W_SERVER_CWD": str(Path(server.cwd) / f"{PREFIX}{self.write_token}"),
            "W_SERVER_TMP": str(Path(server.tmp) / f"{PREFIX}{self.write_token}"),
        })
        self.snapshot()

    def snapshot(self) -> None:
        """Remember what the watched directories hold now; anything new later is reported."""
        self._snapshots = {directory: set(os.listdir(directory)) for directory in self._watched()}

    def _watched(self) -> list[Path]:
        watched = [self.directory]
        if self.server is not None:
            watched += [Path(self.server.home), Path(self.server.cwd)]
        return watched

    def context(self, server_pid: int, forkserver_pid: int, server_port: int) -> dict[str, str]:
        """The values a program template may use (`$NAME`); none of them is a secret."""
        return {
            "MARK_A": self.mark_a, "MARK_B": self.mark_b,
            "SECRET_FILE": str(self.secret_file), "SECRET_DIR": str(self.directory),
            "HOME_SECRET": str(self.home_secret), "CWD_SECRET": str(self.cwd_secret),
            "SERVER_HOME": str(self.server.home), "SERVER_CWD": str(self.server.cwd),
            "SERVER_TMP": str(self.server.tmp), "REPO": str(ROOT), "ENV_NAME": ENV_NAME,
            "TCP_PORT": str(self.listeners.tcp_port), "TCP6_PORT": str(self.listeners.tcp6_port),
            "UDP_PORT": str(self.listeners.udp_port), "UNIX_PATH": self.listeners.unix_path,
            "ABSTRACT_NAME": self.listeners.abstract_name, "SINK_PID": str(self.sink.pid),
            "SERVER_PID": str(server_pid), "FORKSERVER_PID": str(forkserver_pid),
            "SERVER_PORT": str(server_port), "WRITE_TOKEN": self.write_token, **self.writes,
        }

    # -- what must never come back -------------------------------------------------------------

    @property
    def mark(self) -> str:
        return self.mark_a + self.mark_b

    def needles(self) -> dict[str, str]:
        """Secret name -> text that no good answer contains."""
        found = {
            "secret file (outside the repo)": self.file_token,
            "secret file (server HOME)": self.home_token,
            "secret file (server cwd)": self.cwd_token,
            f"environment variable {ENV_NAME}": self.env_token,
            "name of a hidden file (a directory listing)": self.name_token,
            "escape marker (the program did something the sandbox must refuse)": self.mark,
            **STATIC_FINGERPRINTS,
        }
        for rel, prints in self.repo_fingerprints.items():
            for index, text in enumerate(prints):
                found[f"repo file {rel} (line {index + 1} of its fingerprint)"] = text
        return found

    def secrets_in(self, data: bytes | str) -> list[str]:
        """Names of the secrets in `data`: as it is, and every string inside it if it is JSON."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        texts = [text]
        try:
            texts += strings_in(json.loads(text))
        except (ValueError, RecursionError):
            pass
        return [name for name, needle in self.needles().items() if any(needle in t for t in texts)]

    def secret_names_in_source(self, source: str) -> list[str]:
        """Secrets a program's own source holds (must be none, or an echo would look like a leak)."""
        return [name for name, needle in self.needles().items() if needle in source]

    # -- what must never happen ----------------------------------------------------------------

    def created_paths(self) -> list[str]:
        found = []
        for prefix in [*self.writes.values(), LEGACY_PWN]:
            parent, stem = os.path.split(prefix)
            try:
                entries = os.listdir(parent or ".")
            except OSError:
                continue
            found += [os.path.join(parent, name) for name in entries if name.startswith(stem)]
        return sorted(found)

    def new_entries(self) -> list[str]:
        found = []
        for directory, before in self._snapshots.items():
            try:
                now = set(os.listdir(directory))
            except OSError as error:
                found.append(f"{directory} cannot be listed ({error.strerror})")
                continue
            found += [str(directory / name) for name in sorted(now - before)]
        return found

    def stray_processes(self) -> list[psutil.Process]:
        """Processes whose command line names a write target: started by an escaped exec."""
        found = []
        for process in psutil.process_iter(["pid", "cmdline"]):
            try:
                if process.pid != os.getpid() and any(self.write_token in arg for arg in process.info["cmdline"] or ()):
                    found.append(process)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    def problems(self) -> list[str]:
        """Everything that went wrong since the last call; cleans up what it reports."""
        problems = []
        for _, kind, peer, data in self.listeners.since(self._listener_index):
            problems.append(f"a connection reached the {kind} listener from {peer}: {data[:80]!r}")
        self._listener_index = self.listeners.count()
        for number in self.sink.since(self._sink_index):
            problems.append(f"signal {signal.Signals(number).name} reached the signal sink (pid {self.sink.pid})")
        self._sink_index = self.sink.count()
        state = self.sink.state()
        if state:
            problems.append(state)
        for path in self.created_paths():
            problems.append(f"a program created {path}")
            _remove(path)
        for path in self.new_entries():
            problems.append(f"new entry in a watched directory: {path}")
        for planted in self.planted:
            problems += planted.problems()
        for process in self.stray_processes():
            problems.append(f"stray process {process.pid}: {' '.join(process.info['cmdline'] or ())[:200]}")
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        if problems:  # start the next check from a clean state
            self._replant()
        return problems

    def _replant(self) -> None:
        for index, planted in enumerate(self.planted):
            if planted.problems():
                _remove(str(planted.path))
                self.planted[index] = PlantedFile.write(planted.path, planted.content, planted.mode & 0o777)
        self.snapshot()

    def close(self) -> None:
        self.listeners.close()
        self.sink.close()
        for path in self.created_paths():
            _remove(path)
        shutil.rmtree(self.directory, ignore_errors=True)


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass
