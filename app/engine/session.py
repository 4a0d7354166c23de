"""Record code that is already running: a `with` block in a script or a notebook cell, a function call.

`trace()` execs a program's text; here the code is the caller's own, running in its own frames, so
nothing is exec'd. A `Session` reuses a `ProgramRun`'s pieces (the graph, the forward recorder, the
module tracker, the backward recorder, the gradient check, `build_trace`) and switches recording on
for the block only. The sites, names and spans come from one file, as in `trace()`: the file the
block is written in (its `co_filename`: a script's path, or the cell's `/tmp/ipykernel_*/….py`), whose
text is read from `linecache`. Code in other files that the block calls is placed at the line of the
block that called it, as torch's own code is.

It runs with the person's own rights and no limits but the ones they pass. Grafo's own work after the
block leaves the person's state as it was: its backward (when the block ran none) puts every `.grad`
back, and the gradient check's replays give torch's random generator back its state.
"""

from __future__ import annotations

import ast
import linecache
import sys
import time
import warnings
from contextlib import ExitStack
from dataclasses import dataclass

import torch

from app.engine.gradcheck import check_gradients
from app.engine.naming import program_globals
from app.engine.source_map import SourceMap
from app.engine.trace_builder import build_trace
from app.engine.tracer import Annotator, ProgramRun, _guarded, _run_implicit_backward, _validate_eps
from app.settings import DEFAULT_LIMITS, Limits
from app.trace_model import Trace

# Nothing a person's own code is refused for: no size, op, output or time limit unless they pass one.
_NO_LIMIT = 1 << 62
LOCAL_LIMITS = DEFAULT_LIMITS.with_changes(
    max_source_bytes=_NO_LIMIT, max_lines=_NO_LIMIT, max_ops=_NO_LIMIT, max_output_chars=_NO_LIMIT,
    max_output_lines=_NO_LIMIT, time_limit_s=1e9, gradcheck_max_elements=4,
)
# A model has many parameters and slow ops: the gradient check samples a few elements of each, within
# about this many op replays in all (the lesson's one-leaf programs still get every element checked).
_GRADCHECK_REPLAYS = 2_000
_MAX_CAPTURED_CHARS = 1 << 20  # what a block printed, kept for the page's console (it is still printed)


@dataclass
class _Code:
    """What `ProgramRun` reads of a program: its file name, its text as a source map, its syntax tree."""

    filename: str
    source: str

    def __post_init__(self):
        self.source_map = SourceMap(self.source)
        try:
            self.tree = ast.parse(self.source, self.filename)
        except (SyntaxError, ValueError):  # text linecache could not give whole: no names from assignments
            self.tree = ast.Module(body=[], type_ignores=[])


def source_of(filename: str) -> str:
    """The text of a file or notebook cell as Python's tracebacks see it ('' when it is unknown)."""
    return "".join(linecache.getlines(filename))


class _Tee:
    """Both streams of the block, printed as usual and kept (up to a bound) for the page's console."""

    def __init__(self):
        self.lines: list[str] = []
        self._partial = ""
        self._chars = 0

    def stream(self, original):
        tee = self

        class Stream:
            def write(self, text):
                text = str(text)
                tee.keep(text)
                return original.write(text)

            def __getattr__(self, name):
                return getattr(original, name)

        return Stream()

    def keep(self, text: str) -> None:
        if self._chars >= _MAX_CAPTURED_CHARS:
            return
        text = text[: _MAX_CAPTURED_CHARS - self._chars]
        self._chars += len(text)
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        self.lines.extend(pieces)

    def finish(self) -> list[str]:
        if self._partial:
            self.lines.append(self._partial)
            self._partial = ""
        return self.lines


class Session:
    """`with Session(frame) as session: ...` records the torch work the block does; `session.trace`
    is the Trace afterwards. `frame` is the frame the block runs in (its variables name things);
    `filename` the file whose lines the ops are placed at (default: the frame's own file).

    `root`: the name of the tensor to call backward() on if the block ran none (a variable of the
    block, or a name given with `add()`); by default the last named tensor that requires grad, as
    `trace()` does. `backward=False` never calls it.
    An exception from the block propagates unchanged and no trace is built.
    """

    def __init__(self, frame, filename: str | None = None, root: str | None = None,
                 backward: bool = True, gradcheck: bool = True, eps: float = 1e-3, limits: Limits | None = None,
                 annotate: Annotator | None = None):
        _validate_eps(eps)
        self.frame = frame
        self.filename = filename or frame.f_code.co_filename
        self.root = root
        self.backward = backward
        self.gradcheck = gradcheck
        self.eps = eps
        self.limits = limits or LOCAL_LIMITS
        self.annotate = annotate
        self.code = _Code(self.filename, source_of(self.filename))
        self.extra: dict[str, object] = {}
        self.trace: Trace | None = None
        self.run: ProgramRun | None = None
        self._stack: ExitStack | None = None
        self._started = 0.0

    # --- the block -----------------------------------------------------------------------
    def __enter__(self) -> "Session":
        self._started = time.perf_counter()
        run = self.run = ProgramRun(self.code, self.limits)
        run.output = _Tee()
        for name, value in self._variables():  # modules the block uses are named by their variables
            if isinstance(value, torch.nn.Module):
                run.modules.register(name, value)
        stack = self._stack = ExitStack()
        stack.enter_context(warnings.catch_warnings())
        warnings.showwarning = self._warning(warnings.showwarning)
        stack.callback(self._restore_streams, sys.stdout, sys.stderr)
        sys.stdout, sys.stderr = run.output.stream(sys.stdout), run.output.stream(sys.stderr)
        for recording in (run.modules, run.updates, run.recorder):
            stack.enter_context(recording)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        stack, self._stack = self._stack, None
        stack.close()
        if exc_type is None:
            try:
                self.trace = self._finish()
            finally:
                self.run = None  # the graph holds every tensor the block touched: let them go
        else:
            self.run = None
        return False

    def add(self, name: str, value) -> None:
        """Name a value for the end of the block (a function's result, which no variable holds yet)."""
        self.extra[name] = value

    # --- after the block -----------------------------------------------------------------
    def _finish(self) -> Trace:
        run = self.run
        # Only what the block touched: a notebook's other models and tensors are not the block's leaves.
        variables = {**dict(self._variables()), **self.extra}
        run.namespace = {name: value for name, value in variables.items() if _touched(run, value)}
        run._name_from_globals()
        saved_grads, rng = None, torch.get_rng_state()  # replays of dropout draw numbers: not the person's
        try:
            if self.backward and not run.completed_passes:
                saved_grads = _grads_of_leaves(run)
                _guarded(run, lambda: _run_implicit_backward(run, self.root))
            result = None
            if self.gradcheck:
                _fit_gradcheck(run)
                result = _guarded(run, lambda: check_gradients(run.graph, run.backward_recorder.passes, self.eps,
                                                               run.deadline, run.paused))
            if self.annotate is not None:
                self.annotate(run, result)
            elapsed_ms = (time.perf_counter() - self._started) * 1000
            return build_trace(run, run, result, elapsed_ms)
        finally:
            torch.set_rng_state(rng)
            if saved_grads is not None:
                _restore_grads(saved_grads)

    def _variables(self) -> list[tuple[str, object]]:
        """The block's variables: its frame's globals, then its locals (not `_`-prefixed ones, which
        in a notebook are its output history)."""
        scope = dict(self.frame.f_globals)
        if self.frame.f_code.co_name != "<module>":
            scope.update(self.frame.f_locals)
        return [(name, value) for name, value in program_globals(scope) if not name.startswith("_")]

    def _warning(self, show):
        def showwarning(message, category, filename, lineno, file=None, line=None):
            if self.run is not None:
                self.run._on_warning(message, category, filename, lineno)
            show(message, category, filename, lineno, file, line)
        return showwarning

    @staticmethod
    def _restore_streams(stdout, stderr) -> None:
        sys.stdout, sys.stderr = stdout, stderr


def _touched(run: ProgramRun, value) -> bool:
    """A tensor the graph has, or a module with a parameter or buffer the graph has."""
    if isinstance(value, torch.Tensor):
        return run.graph.node_of(value) is not None
    if isinstance(value, torch.nn.Module):
        return any(run.graph.node_of(t) is not None for t in (*value.parameters(), *value.buffers()))
    return False


def _fit_gradcheck(run: ProgramRun) -> None:
    """Fewer elements per leaf for a larger graph: each costs three replays of every op."""
    leaves = len(run.backward_recorder.passes[0].leaf_grads) if run.backward_recorder.passes else 0
    per_leaf = _GRADCHECK_REPLAYS // max(1, 3 * len(run.graph.ops) * leaves)
    elements = max(1, min(run.limits.gradcheck_max_elements, per_leaf))
    run.graph.limits = run.graph.limits.with_changes(gradcheck_max_elements=elements)


def _grads_of_leaves(run: ProgramRun) -> list[tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]]:
    """(leaf, its .grad object, a copy of its values) for every leaf in the graph, before Grafo's backward."""
    kept, seen = [], set()
    with run.paused(), torch.no_grad():
        for record in run.graph.tensors.values():
            tensor = record.tensor
            if id(tensor) in seen or not (tensor.is_leaf and tensor.requires_grad):
                continue
            seen.add(id(tensor))
            grad = tensor.grad
            kept.append((tensor, grad, None if grad is None else grad.detach().clone()))
    return kept


def _restore_grads(kept) -> None:
    with torch.no_grad():
        for tensor, grad, values in kept:
            if grad is not None:
                grad.copy_(values)
            tensor.grad = grad
