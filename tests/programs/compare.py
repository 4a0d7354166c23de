"""Compare a Grafo trace with a plain-torch reference run (`tests/programs/reference.py`).

`compare_trace(trace, reference)` returns human-readable mismatches; an empty list means they agree:

- Printed output, line by line, after replacing memory addresses (`0x7f3a...`, as in
  `<MulBackward0 object at 0x7f...>`) by `0x?` on both sides.
- Gradients: for every name in `reference.grads`, the trace's LAST tensor node (in `trace.nodes` order)
  whose `names` contain that name and whose `role` is "param" (in-place updates make later versions of a
  tensor; the last one holds `.grad` as torch holds it when the program ends). Its `grad` must equal the
  reference: None with None; otherwise the same number of elements and, element by element,
  |engine - torch| <= atol + rtol * |torch| (NaN matches NaN, infinities match by sign). A `truncated`
  value is checked on the elements it lists (the first ones, row-major) and on its `min`, `max` and `mean`
  against the statistics of all of torch's elements (the mean with an extra 1e-5 * max|grad|, since a
  float32 sum rounds).
- A reference grad of None also matches when no param node bears the name (nothing needed a gradient),
  when the last tensor node bearing it is not a param (the name ends on a frozen or constant tensor),
  and when the trace has an implicit backward pass (Grafo called backward() because the program did
  not, so the engine's leaves hold gradients that plain torch never computed).
"""

from __future__ import annotations

import math
import re
from typing import Any

from tests.programs.reference import Reference

__all__ = ["compare_trace", "normalise_line"]

ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
MAX_OUTPUT_MISMATCHES = 10
MAX_ELEMENT_MISMATCHES = 5


def normalise_line(line: str) -> str:
    """The line with every memory address replaced by `0x?`."""
    return ADDRESS.sub("0x?", line)


def _number(value: Any) -> float:
    if isinstance(value, str):
        return float(value)  # "nan", "inf", "-inf"
    return float(value)


def _flatten(data: Any) -> list[float]:
    if isinstance(data, (list, tuple)):
        out: list[float] = []
        for item in data:
            out.extend(_flatten(item))
        return out
    return [_number(data)]


def _close(actual: float, expected: float, rtol: float, atol: float) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    if math.isinf(expected) or math.isinf(actual):
        return actual == expected
    return abs(actual - expected) <= atol + rtol * abs(expected)


def _compare_output(engine: list[str], torch_lines: list[str]) -> list[str]:
    got = [normalise_line(line) for line in engine]
    want = [normalise_line(line) for line in torch_lines]
    if got == want:
        return []
    problems = []
    if len(got) != len(want):
        problems.append(f"output: the engine printed {len(got)} lines, plain torch printed {len(want)}")
    shown = 0
    for index in range(max(len(got), len(want))):
        a = got[index] if index < len(got) else None
        b = want[index] if index < len(want) else None
        if a != b:
            problems.append(f"output line {index + 1}: engine {a!r}, plain torch {b!r}")
            shown += 1
            if shown == MAX_OUTPUT_MISMATCHES:
                problems.append("output: further differing lines not listed")
                break
    return problems


def _compare_grad(name: str, value: Any, expected: list[float] | None, rtol: float, atol: float) -> list[str]:
    if expected is None and value is None:
        return []
    if expected is None:
        return [f"{name}: grad should be None (as torch leaves it), the trace has one of shape {value.shape}"]
    if value is None:
        return [f"{name}: the trace has no grad, torch holds one with {len(expected)} elements"]
    if value.numel != len(expected):
        return [f"{name}: grad has {value.numel} elements in the trace, {len(expected)} in torch"]
    listed = _flatten(value.data)
    problems = []
    if value.truncated:
        if len(listed) > len(expected):
            return [f"{name}: truncated grad lists {len(listed)} elements, torch has only {len(expected)}"]
        problems += _compare_stats(name, value, expected, rtol, atol)
    elif len(listed) != len(expected):
        return [f"{name}: grad data holds {len(listed)} numbers but numel is {len(expected)}"]
    bad = [i for i, (a, b) in enumerate(zip(listed, expected)) if not _close(a, b, rtol, atol)]
    for i in bad[:MAX_ELEMENT_MISMATCHES]:
        problems.append(f"{name}: grad element {i} is {listed[i]!r} in the trace, {expected[i]!r} in torch")
    if len(bad) > MAX_ELEMENT_MISMATCHES:
        problems.append(f"{name}: {len(bad)} grad elements differ in all")
    return problems


def _compare_stats(name: str, value: Any, expected: list[float], rtol: float, atol: float) -> list[str]:
    finite = [x for x in expected if math.isfinite(x)]
    if any(math.isnan(x) for x in expected):
        want_min = want_max = want_mean = math.nan
    else:
        want_min, want_max = min(expected), max(expected)
        if math.inf in expected and -math.inf in expected:
            want_mean = math.nan
        elif math.inf in expected:
            want_mean = math.inf
        elif -math.inf in expected:
            want_mean = -math.inf
        else:
            want_mean = math.fsum(expected) / len(expected)
    max_abs = max((abs(x) for x in finite), default=0.0)
    problems = []
    for stat, want, extra in (("min", want_min, 0.0), ("max", want_max, 0.0), ("mean", want_mean, 1e-5 * max_abs)):
        got = getattr(value, stat)
        if got is None:
            problems.append(f"{name}: truncated grad has no {stat}")
        elif not _close(_number(got), want, rtol, atol + extra):
            problems.append(f"{name}: grad {stat} is {got!r} in the trace, {want!r} in torch")
    return problems


def compare_trace(trace: Any, reference: Reference, rtol: float = 1e-5, atol: float = 1e-6) -> list[str]:
    """Mismatches between a trace (an `app.trace_model.Trace` or its JSON dict) and a reference run."""
    if isinstance(trace, dict):
        from app.trace_model import Trace

        trace = Trace.model_validate(trace)
    problems = _compare_output(list(trace.output), reference.output)
    tensors = [node for node in trace.nodes if getattr(node, "kind", None) == "tensor"]
    implicit_backward = any(step.implicit for step in trace.passes)
    for name, expected in reference.grads.items():
        named = [node for node in tensors if name in node.names]
        params = [node for node in named if node.role == "param"]
        if expected is None and (not params or named[-1].role != "param" or implicit_backward):
            continue
        if not params:
            problems.append(f"{name}: no param node named {name!r} in the trace (torch holds a grad for it)")
            continue
        problems += _compare_grad(name, params[-1].grad, expected, rtol, atol)
    return problems
