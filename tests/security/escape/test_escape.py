"""The escape suite: hundreds of hostile programs through one real server, judged by outcome.

One `python -m app serve` process (2 workers, 2 s time limit, 768 MB per worker, result cache off)
starts with canaries planted (see `canaries.py`). Then:

1. probes: a benign control program, and harmless questions (signal 0, one fork, PTRACE_SEIZE on
   our own signal sink) that decide whether the attempts that could hurt the machine are sent;
2. every group of `attempts.py`, a few attempts at a time; the lesson is traced before and after
   each group (and after every attempt in the channel and tamper groups) and must give J = 14 and
   dJ/dw = -28, as torch computes it here;
3. the catalogue's hostile inputs (`tests/security/catalogue.py`): raw HTTP cases as they are,
   program cases judged by outcome;
4. a last look at every canary and at the server's log.

An attempt is fine if: its answer is not a 5xx and came within MAX_ANSWER_S, holds no secret and
no escape marker, is at most MAX_RESPONSE_BYTES, is a valid trace if 200 and an error body if 4xx,
and the server's health endpoint answers after it. A group is fine if, afterwards, no listener was
reached, no signal reached the sink, no write target exists, every canary is unchanged, no stray
process runs, the server and its forkserver live, and its memory, log and temp space stayed small.

Run: `.venv/bin/python -m pytest tests/security/escape` (about 2 minutes on 2 cores); the table of
outcomes per group is printed at the end (the security suite's report), and every answer's start
is kept in `test-output/escape-outcomes.json`. `-k files` (or any group name) runs one group.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx
import psutil
import pytest
import torch

from app.examples import LESSON
from app.trace_model import Trace
from tests.security.catalogue import CASES as CATALOGUE_CASES
from tests.security.escape.attempts import ATTEMPTS, GROUPS, PROBES, Attempt, Group
from tests.security.escape.canaries import Canaries
from tests.security.harness import REPORT, ROOT, Server, raw_request

pytestmark = [pytest.mark.security, pytest.mark.slow]

WORKERS = 2
SERVER_ENV = {
    "GRAFO_TIME_LIMIT_S": "2",
    "GRAFO_MEMORY_LIMIT_MB": "768",
    "GRAFO_RESULT_CACHE_MB": "0",  # the lesson must really run before and after every group
    "GRAFO_QUEUE_WAIT_S": "60",  # our own concurrency must never be what makes a 503
    "GRAFO_LOG_LEVEL": "warning",
}
MAX_ANSWER_S = 30.0  # time limit 2 s + kill grace + a queue of a few bombs ahead
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # the trace cap is 8 MB by default; twice that is a runaway
MAX_RSS_GROWTH = 128 * 1024 * 1024  # the server process, since warm-up
MAX_LOG_GROWTH = 4 * 1024 * 1024  # per group
MAX_RUN_SPACE = 64 * 1024 * 1024  # the server's temp space (where run directories live), settled
MAX_DISK_DROP = 1024 * 1024 * 1024  # free space on that file system, per group
BUSY_RETRIES = 8
PROGRAM_KINDS = ("syntax", "forbidden", "name", "type", "runtime", "limit", "timeout")
CATALOGUE = Group("catalogue", "today's hostile programs from tests/security/catalogue.py, judged by outcome")


@dataclass
class Outcome:
    name: str
    status: int
    kind: str
    seconds: float
    size: int
    problems: list[str] = field(default_factory=list)
    retries: int = 0
    body: bytes = b""


def expected_lesson() -> tuple[float, list[float], list[str]]:
    """J, dJ/dw and the printed lines of the lesson, run by plain Python and torch, here."""
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(LESSON, "lesson", "exec"), namespace)  # noqa: S102 - our own, trusted source
    return namespace["J"].item(), namespace["w"].grad.tolist(), out.getvalue().splitlines()


def kind_of(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return "not-json"
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("kind"))
    if isinstance(data, dict) and "detail" in data:
        return "detail"  # FastAPI's own answers: 422 validation, 404, 405
    if isinstance(data, dict) and "nodes" in data:
        return "trace"
    return "other"


class EscapeRun:
    """The server, its canaries, and everything measured while the attempts run."""

    def __init__(self, server: Server, canaries: Canaries):
        self.server = server
        self.canaries = canaries
        self.client = httpx.Client(base_url=server.url, timeout=MAX_ANSWER_S)
        # the forkserver is the server's child; its workers (forked from it) share its command line
        self.forkservers = [p for p in server.ps.children() if "forkserver" in " ".join(_cmdline(p))]
        forkserver_pid = self.forkservers[0].pid if self.forkservers else canaries.sink.pid
        self.context = canaries.context(server.process.pid, forkserver_pid, server.port)
        self.expected = expected_lesson()
        self.lesson_seen: tuple | None = None
        self.outcomes: dict[str, list[Outcome]] = defaultdict(list)
        self.not_sent: dict[str, list[str]] = defaultdict(list)
        self.health_max_s = 0.0
        self.rss_baseline = 0
        self.rss_peak_growth = 0
        self.log_offset = 0
        self.refusal: str | None = None
        self.real_python = False
        self.gates: dict[str, tuple[bool, str]] = {}
        self.probe_problems: list[str] | None = None

    # -- requests ------------------------------------------------------------------------------

    def post(self, source: str) -> tuple[int, bytes, float, int, dict]:
        """POST a program; a 429 or a busy 503 (our own concurrency) is retried after Retry-After."""
        body = json.dumps({"source": source}).encode()  # ASCII escapes: lone surrogates travel too
        retries = 0
        while True:
            started = time.monotonic()
            try:
                response = self.client.post("/api/trace", content=body, headers={"content-type": "application/json"})
            except httpx.TimeoutException:
                return 0, b"", time.monotonic() - started, retries, {}
            except httpx.HTTPError as error:
                return -1, str(error).encode(), time.monotonic() - started, retries, {}
            seconds = time.monotonic() - started
            busy = response.status_code == 429 or (response.status_code == 503 and kind_of(response.content) == "busy")
            if busy and retries < BUSY_RETRIES:
                retries += 1
                time.sleep(float(response.headers.get("retry-after", "1") or 1))
                continue
            return response.status_code, response.content, seconds, retries, dict(response.headers)

    def health(self) -> str | None:
        """None if /api/health answers 200 within 10 s, else what went wrong."""
        started = time.monotonic()
        try:
            response = self.client.get("/api/health", timeout=10)
        except httpx.HTTPError as error:
            return f"/api/health did not answer: {type(error).__name__}"
        self.health_max_s = max(self.health_max_s, time.monotonic() - started)
        if response.status_code != 200:
            return f"/api/health answered {response.status_code}"
        return None

    # -- judging -------------------------------------------------------------------------------

    def judge(self, name: str, status: int, body: bytes, seconds: float, program: bool = True) -> list[str]:
        problems = []
        if status == 0:
            problems.append(f"no answer within {MAX_ANSWER_S:g} s")
        elif status < 0:
            problems.append(f"the connection failed: {body[:200]!r}")
        elif status >= 500:
            problems.append(f"answered {status} ({kind_of(body)}): {_excerpt(body)}")
        leaked = self.canaries.secrets_in(body)
        if leaked:
            problems.append("the answer holds: " + "; ".join(leaked))
        if len(body) > MAX_RESPONSE_BYTES:
            problems.append(f"the answer is {len(body):,} bytes")
        if program and status == 200:
            try:
                Trace.model_validate_json(body)
            except ValueError as error:
                problems.append(f"200 but not a valid trace: {str(error)[:200]}")
        if program and 400 <= status < 500 and kind_of(body) in ("not-json", "other"):
            problems.append(f"{status} without an error body: {_excerpt(body)}")
        unhealthy = self.health()
        if unhealthy:
            problems.append(unhealthy)
        return problems

    def run_program(self, name: str, source: str) -> Outcome:
        status, body, seconds, retries, _ = self.post(source)
        outcome = Outcome(name, status, kind_of(body) if status > 0 else "none", seconds, len(body),
                          retries=retries, body=body[:4096])
        outcome.problems = self.judge(name, status, body, seconds)
        return outcome

    def run_attempt(self, attempt: Attempt) -> Outcome:
        return self.run_program(f"{attempt.group}/{attempt.id}", attempt.render(self.context))

    # -- the lesson ----------------------------------------------------------------------------

    def lesson(self, when: str, times: int = WORKERS + 1) -> list[str]:
        """Trace the lesson `times` times (reaching every worker); each must match torch's numbers."""
        problems = []
        j, grad, printed = self.expected
        for _ in range(times):
            status, body, _, _, headers = self.post(LESSON)
            if status != 200:
                problems.append(f"lesson {when}: answered {status}: {_excerpt(body)}")
                continue
            if headers.get("x-grafo-cache") == "hit":
                problems.append(f"lesson {when}: answered from the cache")
            try:
                data = json.loads(body)
                named = {name: node for node in data["nodes"] if node.get("kind") == "tensor"
                         for name in node.get("names") or []}
                seen = (named["J"]["value"]["data"], named["w"]["grad"]["data"], data.get("output"))
            except (ValueError, KeyError, TypeError) as error:
                problems.append(f"lesson {when}: no J or w.grad in the trace ({error!r})")
                continue
            if abs(seen[0] - j) > 1e-6 or len(seen[1]) != len(grad) or any(
                    abs(a - b) > 1e-6 for a, b in zip(seen[1], grad)):
                problems.append(f"lesson {when}: J = {seen[0]}, dJ/dw = {seen[1]}; torch says {j}, {grad}")
            if seen[2] != printed:
                problems.append(f"lesson {when}: printed {seen[2]!r}; plain Python printed {printed!r}")
            if self.lesson_seen is None:
                self.lesson_seen = seen
            elif seen != self.lesson_seen:
                problems.append(f"lesson {when}: {seen!r} differs from the first trace {self.lesson_seen!r}")
        return problems

    # -- probes --------------------------------------------------------------------------------

    def ensure_probes(self) -> list[str]:
        """Run the probes once: a benign control (does real Python run?), a positive control (does
        a leak come back where the checks look?), then the gates' harmless questions."""
        if self.probe_problems is not None:
            return self.probe_problems
        control = self.run_program("probes/control", PROBES["control"].render(self.context))
        self.outcomes["probes"].append(control)
        self.real_python = control.status == 200 and "alive 42" in control.body.decode("utf-8", "replace")
        problems = [f"probes/control: {p}" for p in control.problems]
        if self.real_python:
            # deliberately leaking: the checks must see the marker and a token in a real answer
            source = PROBES["control"].render(self.context) + (
                f"escaped('positive control')\nprint('{self.canaries.file_token}')\n")
            status, body, _, _, _ = self.post(source)
            seen = self.canaries.secrets_in(body)
            if not (any("escape marker" in name for name in seen) and any("secret file" in name for name in seen)):
                problems.append(f"probes/positive-control: a deliberate leak was not seen ({status}, {seen}): "
                                "the checks are blind")
        for name in ("signals", "fork", "ptrace"):
            outcome = self.run_attempt(PROBES[name])
            self.outcomes["probes"].append(outcome)
            problems += [f"{outcome.name}: {p}" for p in outcome.problems]
            text = outcome.body.decode("utf-8", "replace")
            if self.canaries.mark in text:
                self.gates[name] = (False, f"the {name} probe showed the sandbox allows it")
            elif self.real_python:
                confirmed = outcome.status == 200 and "CONFINED" in text
                self.gates[name] = (confirmed, "" if confirmed else f"the {name} probe could not confirm "
                                    f"the sandbox refuses ({outcome.status} {outcome.kind})")
            else:
                refused = outcome.status != 200
                self.gates[name] = (refused, "" if refused else "the probe ran although the control did not")
        problems += self.after_group("probes", shutil.disk_usage(self.server.tmp).free)
        self.probe_problems = problems
        return problems

    # -- after a group -------------------------------------------------------------------------

    def settle(self) -> None:
        """Let killed workers be replaced and run directories be removed."""
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            if len(self.worker_processes()) <= WORKERS and _size(self.server.tmp) <= MAX_RUN_SPACE:
                return
            time.sleep(0.2)

    def worker_processes(self) -> list[psutil.Process]:
        found = []
        for forkserver in self.forkservers:
            try:
                found += forkserver.children()
            except psutil.NoSuchProcess:
                pass
        return found

    def after_group(self, name: str, free_before: int) -> list[str]:
        time.sleep(0.3)  # a connection or a signal may land a moment after its program ended
        self.settle()
        problems = list(self.canaries.problems())
        if self.server.process.poll() is not None:
            problems.append(f"the server exited with {self.server.process.returncode}")
        for forkserver in self.forkservers:
            if not forkserver.is_running() or forkserver.status() == psutil.STATUS_ZOMBIE:
                problems.append(f"the forkserver {forkserver.pid} died")
        workers = self.worker_processes()
        if len(workers) > WORKERS + 1:
            problems.append(f"{len(workers)} worker processes remain (expected {WORKERS})")
        try:
            growth = self.server.rss() - self.rss_baseline
        except psutil.NoSuchProcess:
            growth = 0
        self.rss_peak_growth = max(self.rss_peak_growth, growth)
        if growth > MAX_RSS_GROWTH:
            problems.append(f"the server's memory grew by {growth / 2**20:.0f} MB")
        space = _size(self.server.tmp)
        if space > MAX_RUN_SPACE:
            problems.append(f"the server's temp space holds {space / 2**20:.0f} MB after the group")
        drop = free_before - shutil.disk_usage(self.server.tmp).free
        if drop > MAX_DISK_DROP:
            problems.append(f"free disk space dropped by {drop / 2**30:.1f} GB")
        problems += self.check_log()
        return problems

    def check_log(self) -> list[str]:
        try:
            with open(self.server.log_path, "rb") as log:
                log.seek(self.log_offset)
                new = log.read()
        except OSError:
            return []
        self.log_offset += len(new)
        problems = []
        if len(new) > MAX_LOG_GROWTH:
            problems.append(f"the server log grew by {len(new) / 2**20:.1f} MB")
        problems += self.log_problems(new)
        return problems

    def log_problems(self, text: bytes) -> list[str]:
        """Secrets in the server log, and log lines a program forged (a line that starts with the
        marker: a worker's text written raw, newline and all). The marker inside a line is fine:
        the worker's own words, quoted."""
        problems = []
        leaked = [name for name in self.canaries.secrets_in(text) if not name.startswith("escape marker")]
        if leaked:
            problems.append("the server log holds: " + "; ".join(leaked))
        mark = self.canaries.mark.encode()
        if any(line.lstrip().startswith(mark) for line in text.splitlines()):
            problems.append("a program forged a line of the server log")
        return problems

    def run_group(self, group: Group, attempts: list[Attempt]) -> list[str]:
        self.ensure_probes()
        problems = self.lesson(f"before {group.name}")
        free_before = shutil.disk_usage(self.server.tmp).free
        runnable = []
        for attempt in attempts:
            gate = self.gates.get(attempt.gate) if attempt.gate else (True, "")
            if gate is None or not gate[0]:
                why = gate[1] if gate else "its probe did not run"
                self.not_sent[group.name].append(attempt.id)
                problems.append(f"{attempt.group}/{attempt.id}: not sent, {why}")
            else:
                runnable.append(attempt)
        if group.lesson_after_each:
            for attempt in runnable:
                outcome = self.run_attempt(attempt)
                outcome.problems += self.lesson(f"after {outcome.name}", times=WORKERS)
                self.outcomes[group.name].append(outcome)
        else:
            with ThreadPoolExecutor(group.concurrency) as pool:
                self.outcomes[group.name] += list(pool.map(self.run_attempt, runnable))
        for outcome in self.outcomes[group.name]:
            problems += [f"{outcome.name}: {problem}" for problem in outcome.problems]
        problems += [f"after {group.name}: {problem}" for problem in self.after_group(group.name, free_before)]
        problems += self.lesson(f"after {group.name}")
        return problems

    # -- report --------------------------------------------------------------------------------

    def dump(self, path) -> None:
        """Every outcome with the start of its answer, for reading after a run (test-output/)."""
        records = [{"name": o.name, "status": o.status, "kind": o.kind, "seconds": round(o.seconds, 3),
                    "bytes": o.size, "retries": o.retries, "problems": o.problems,
                    "answer": o.body[:2000].decode("utf-8", "replace")}
                   for outcomes in self.outcomes.values() for o in outcomes]
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"gates": self.gates, "not_sent": self.not_sent, "outcomes": records}, indent=1))

    def report(self) -> list[str]:
        lines = [f"escape suite: {'real Python runs' if self.real_python else 'programs are refused'}"
                 f"{f' (refusal: {self.refusal})' if self.refusal else ''}; gates: "
                 + ", ".join(f"{name} {'open' if ok else 'CLOSED'}" for name, (ok, _) in self.gates.items())]
        width = max(len(name) for name in self.outcomes) if self.outcomes else 10
        for name, outcomes in self.outcomes.items():
            kinds = Counter(f"{o.status} {o.kind}" if o.status != 200 else "200" for o in outcomes)
            slowest = max((o.seconds for o in outcomes), default=0.0)
            failing = sum(1 for o in outcomes if o.problems)
            skipped = len(self.not_sent.get(name, ()))
            lines.append(
                f"  {name:<{width}} {len(outcomes):>4} sent{f', {skipped} not sent' if skipped else ''}"
                f" | {', '.join(f'{k} x{v}' for k, v in sorted(kinds.items()))}"
                f" | slowest {slowest:.1f} s | {failing} with problems")
        total = sum(len(o) for o in self.outcomes.values())
        lines.append(f"  {total} requests; health slowest {self.health_max_s * 1000:.0f} ms; "
                     f"server memory growth at most {self.rss_peak_growth / 2**20:.1f} MB")
        return lines


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def _size(path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total


def _excerpt(body: bytes, limit: int = 300) -> str:
    return body[:limit].decode("utf-8", "replace").replace("\n", "\\n")


@pytest.fixture(scope="module")
def escape():
    canaries = Canaries()
    try:
        server = Server({**SERVER_ENV, **canaries.server_env()}, workers=WORKERS, name="escape")
    except BaseException:
        canaries.close()
        raise
    run = None
    try:
        canaries.plant_in_server(server)
        server.wait_ready()
        run = EscapeRun(server, canaries)
        health = run.client.get("/api/health").json()
        run.refusal = (health.get("sandbox") or {}).get("refusal")
        run.lesson("at start")  # warms up; a wrong lesson here shows up again before the first group
        run.settle()
        run.rss_baseline = server.rss()
        canaries.snapshot()
        run.check_log()
        yield run
    finally:
        if run is not None:
            REPORT.extend(run.report())
            run.dump(ROOT / "test-output" / "escape-outcomes.json")
            run.client.close()
        orphans = server.stop()
        if orphans:
            REPORT.append(f"  escape suite: processes left after the server stopped: {orphans}")
        canaries.close()


def test_probes(escape: EscapeRun):
    """The control programs and the harmless questions that open or close the gates."""
    problems = escape.ensure_probes()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("group", GROUPS, ids=[group.name for group in GROUPS])
def test_group(escape: EscapeRun, group: Group):
    if escape.refusal:
        pytest.skip(f"the server refuses every program: {escape.refusal}")
    problems = escape.run_group(group, [a for a in ATTEMPTS if a.group == group.name])
    assert not problems, "\n".join(problems)


def test_catalogue_programs(escape: EscapeRun):
    """Today's hostile programs: whatever they do now, the outcome must be safe."""
    if escape.refusal:
        pytest.skip(f"the server refuses every program: {escape.refusal}")
    cases = [case for case in CATALOGUE_CASES if case.source is not None]
    problems = escape.lesson("before the catalogue")
    free_before = shutil.disk_usage(escape.server.tmp).free

    def run(case):
        return escape.run_program(f"catalogue/{case.group}-{case.id}", case.source)

    with ThreadPoolExecutor(CATALOGUE.concurrency) as pool:
        escape.outcomes["catalogue"] += list(pool.map(run, cases))
    for outcome in escape.outcomes["catalogue"]:
        problems += [f"{outcome.name}: {p}" for p in outcome.problems]
    problems += [f"after the catalogue: {p}" for p in escape.after_group("catalogue", free_before)]
    problems += escape.lesson("after the catalogue")
    assert not problems, "\n".join(problems)


def test_catalogue_http(escape: EscapeRun):
    """Today's raw HTTP cases, byte for byte: the same HTTP-level answers, no 5xx, no leak."""
    cases = [case for case in CATALOGUE_CASES if case.raw is not None]
    problems = []
    for case in cases:
        raw = case.raw
        started = time.monotonic()
        status, body = raw_request(escape.server.port, raw["method"], raw["path"], raw["headers"], raw["body"],
                                   raw["chunks"])
        outcome = Outcome(f"http/{case.id}", status, kind_of(body), time.monotonic() - started, len(body),
                          body=body[:4096])
        outcome.problems = escape.judge(outcome.name, status, body, outcome.seconds, program=False)
        kinds = case.kind if isinstance(case.kind, tuple) else (case.kind,)
        if not set(kinds) & set(PROGRAM_KINDS) and status != case.status:
            # an HTTP-level answer (413, 422, 404, 405, uvicorn's 400) does not depend on the engine
            outcome.problems.append(f"answered {status}, expected {case.status}: {_excerpt(body)}")
        escape.outcomes["catalogue-http"].append(outcome)
        problems += [f"{outcome.name}: {p}" for p in outcome.problems]
    problems += [f"after the HTTP cases: {p}" for p in escape.after_group("http", shutil.disk_usage(escape.server.tmp).free)]
    assert not problems, "\n".join(problems)


def test_everything_afterwards(escape: EscapeRun):
    """A last look: canaries, listeners, the sink, the server log as a whole, the lesson."""
    problems = list(escape.canaries.problems())
    with open(escape.server.log_path, "rb") as log:
        problems += escape.log_problems(log.read())
    problems += escape.lesson("at the end")
    sent = sum(len(outcomes) for name, outcomes in escape.outcomes.items() if name not in ("probes",))
    assert sent >= 150 or escape.refusal, f"only {sent} attempts were sent"
    assert not problems, "\n".join(problems)
