"""`trace()`: check a program, run it with recording on, run backward, check gradients, build the Trace.

`ProgramRun` is the state of one run: the graph being built, the recorder and budget guard (the two
torch modes), the backward recorder, what was printed, and the warnings. The interpreter talks to
it for everything that touches torch, so the interpreter itself stays a plain AST walker.
"""

from __future__ import annotations

import ast
import math
import time
import warnings
from contextlib import contextmanager

import torch

from app.engine import calls, lexical, syntax
from app.engine.backward import BackwardRecorder
from app.engine.bindings import Function, seed_cpu
from app.engine.gradcheck import check_gradients
from app.engine.graph import ExpressionContext, GraphBuilder
from app.engine.guard import BudgetGuard, Deadline
from app.engine.interpreter import Interpreter
from app.engine.program_builtins import Output, make_builtins
from app.engine.recorder import ForwardRecorder
from app.engine.source_map import SourceMap
from app.engine.trace_builder import build_trace
from app.errors import ProgramError
from app.settings import DEFAULT_LIMITS, Limits
from app.teaching import hints
from app.trace_model import Trace, TraceWarning

_MAX_MESSAGE = 600


class ProgramRun:
    def __init__(self, source: str, tree: ast.Module, limits: Limits):
        self.limits = limits
        self.tree = tree
        self.source_map = SourceMap(source)
        self.context = ExpressionContext(self.source_map)
        self.deadline = Deadline(limits.time_limit_s)
        self.graph = GraphBuilder(limits, self.context)
        self.recorder = ForwardRecorder(self.graph, self.paused)
        self.guard = BudgetGuard(limits, self.deadline)
        self.backward_recorder = BackwardRecorder(self.graph, self.paused)
        self.output = Output(limits)
        self.builtins = make_builtins(limits, self.to_text, self.output)
        self.warnings: list[TraceWarning] = []
        self._caught_warnings: list = []
        self.names: dict = {}  # the program's variables once it has run

    # --- running -------------------------------------------------------------------------
    def execute(self) -> None:
        seed_cpu(self.limits.seed)
        with warnings.catch_warnings(record=True) as caught, torch.set_grad_enabled(True):
            warnings.simplefilter("always")
            self._caught_warnings = caught
            interpreter = Interpreter(self)
            self.names = interpreter.names
            with self.recorder, self.guard:
                interpreter.execute(self.tree.body)

    @contextmanager
    def paused(self):
        """Grafo's own torch work (summaries, printing, hooks) is neither recorded nor budgeted."""
        recording, guarding = self.recorder.enabled, self.guard.enabled
        self.recorder.enabled = self.guard.enabled = False
        try:
            yield
        finally:
            self.recorder.enabled, self.guard.enabled = recording, guarding

    def after_statement(self, statement: ast.stmt) -> None:
        line, col = self.source_map.place(statement)
        for caught in self._caught_warnings:
            message = str(caught.message).split("(Triggered internally")[0].strip()
            self.warn(message, line, col, key=hints.warning_key(message))
        self._caught_warnings.clear()

    def warn(self, message: str, line: int | None = None, col: int | None = None, key: str | None = None,
             **params) -> None:
        if len(self.warnings) < 50 and not any(w.message == message and w.line == line for w in self.warnings):
            self.warnings.append(TraceWarning(message=message, line=line, col=col, key=key, params=params))

    def grad_read(self, tensor: torch.Tensor, text: str | None, node: ast.AST) -> None:
        """`w.grad` read as None because w needs no grad: say why (torch says nothing)."""
        if not tensor.requires_grad and self.backward_recorder.passes and text:
            self.warn(f"{text}.grad is None: {text} does not require grad, so no gradient reaches it",
                      *self.source_map.place(node), key="grad_of_constant", name=text)

    # --- what the interpreter calls --------------------------------------------------------
    def call_function(self, function: Function, args: list, kwargs: dict):
        return function.call(*args, **kwargs)

    def call_method(self, tensor: torch.Tensor, name: str, args: list, kwargs: dict):
        return calls.call_method(self, tensor, name, args, kwargs)

    def backward(self, root: torch.Tensor, gradient, retain_graph, implicit: bool) -> None:
        node = self.context.current
        with self.guard.backward_pass():
            self.backward_recorder.run(root, gradient, retain_graph, self.source_map.span(node), implicit)

    def to_text(self, value, repr_style: bool = False) -> str:
        with self.paused():
            if isinstance(value, float):
                return repr(value)
            return repr(value) if repr_style and isinstance(value, str) else str(value)

    def format_value(self, value, spec: str) -> str:
        with self.paused():
            return format(value, spec)

    def translate_error(self, error: Exception, node: ast.AST | None) -> ProgramError:
        """A torch or Python exception raised while evaluating `node`, as a program error there."""
        line, col = self.source_map.place(node) if node is not None else (None, None)
        message = str(error).split("\n")[0].strip() or type(error).__name__
        message = message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
        if isinstance(error, TypeError):
            return ProgramError("type", message, line, col, hint=hints.error_hint(message))
        if isinstance(error, (MemoryError, RecursionError)):
            return ProgramError("limit", f"out of memory or too deep: {type(error).__name__}", line, col)
        if isinstance(error, OverflowError):
            return ProgramError("runtime", f"number too large: {message}", line, col)
        return ProgramError("runtime", message, line, col, hint=hints.error_hint(message))


def _run_implicit_backward(run: ProgramRun, root_name: str | None, interpreter_names: dict) -> None:
    """The program called no backward(): call it on `root_name`, else on the last assigned tensor."""
    root = None
    if root_name:
        root = interpreter_names.get(root_name)
        if not isinstance(root, torch.Tensor):
            raise ProgramError("name", f"root {root_name!r} is not a tensor in this program")
    else:
        for record in reversed(list(run.graph.tensors.values())):
            if record.names and record.tensor.requires_grad:
                root = record.tensor
                break
    if root is None:
        run.warn("nothing in this program requires grad, so there is no backward pass to show",
                 key="nothing_requires_grad")
        return
    if not root.requires_grad:
        run.warn(f"{root_name or 'the root'} does not require grad, so there is no backward pass to show",
                 key="root_no_grad", name=root_name or "the root")
        return
    gradient = None
    if root.numel() != 1:
        gradient = torch.ones_like(root)
        run.warn(f"the root has {root.numel()} elements, not one: backward() was seeded with ones",
                 key="implicit_seed_ones", count=root.numel())
    with run.recorder, run.guard, torch.set_grad_enabled(True):
        run.backward(root, gradient, None, implicit=True)


def _validate_eps(eps: float) -> None:
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or not 0 < eps <= 1:
        raise ProgramError("type", "eps must be a number with 0 < eps <= 1")


WARM_UP_PROGRAM = """\
import torch
import torch.nn.functional as F
w = torch.ones(2, 2, requires_grad=True)
x = torch.arange(4.0).reshape(2, 2)
J = F.mse_loss(torch.sigmoid(x @ w).sum(dim=0), torch.zeros(2))
J.backward()
"""
_warmed_up = False


def warm_up() -> None:
    """Trace a small program once per process, so no program's time limit pays torch's one-time
    set-up (about a second for the meta-device kernels, much more on a loaded machine)."""
    global _warmed_up
    if not _warmed_up:
        _warmed_up = True
        trace(WARM_UP_PROGRAM, limits=DEFAULT_LIMITS.with_changes(time_limit_s=600.0))


def trace(source: str, root: str | None = None, gradcheck: bool = True, eps: float = 1e-3,
          limits: Limits | None = None) -> Trace:
    """Trace `source`. Raises ProgramError for anything the program did wrong."""
    warm_up()
    started = time.perf_counter()
    limits = limits or DEFAULT_LIMITS
    _validate_eps(eps)
    lexical.check_source(source, limits)
    tree = syntax.parse(source)
    run = ProgramRun(source, tree, limits)
    statements = syntax.check(tree, limits, run.source_map)
    run.execute()
    if not run.backward_recorder.passes:
        _guarded(run, lambda: _run_implicit_backward(run, root, run.names))
    result = None
    if gradcheck:
        result = _guarded(run, lambda: check_gradients(run.graph, run.backward_recorder.passes, eps, run.deadline, run.paused))
    from app.teaching.annotate import annotate  # here: app.teaching reads the engine's graph types

    annotate(run, result)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return build_trace(run, statements, result, elapsed_ms)


def _guarded(run: ProgramRun, action):
    """Grafo's own steps after the program (implicit backward, gradient check) map errors the same way."""
    try:
        return action()
    except ProgramError:
        raise
    except Exception as error:
        raise run.translate_error(error, None) from None
