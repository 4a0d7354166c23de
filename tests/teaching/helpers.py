"""Trace a program and keep the engine's run, so tests can evaluate rules on its recorded values."""

from __future__ import annotations

from app import engine
from app.teaching.annotate import annotate


def trace_with_run(source: str, monkeypatch, **options):
    """The trace and the `ProgramRun` behind it (graph with forward values, backward recorder)."""
    captured = {}

    def keep(run, gradcheck):
        captured["run"] = run
        annotate(run, gradcheck)

    result = engine.trace(source, annotate=keep, **options)
    return result, captured["run"]


def steps_of(trace_result, kind: str | None = None):
    return [s for s in trace_result.backward if kind is None or s.kind == kind]
