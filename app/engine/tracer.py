"""`trace()`: run a program as real Python with recording on, run backward, check gradients, build the Trace.

`ProgramRun` is the state of one run: the graph being built, the forward recorder (a torch function
mode), the module tracker, the backward recorder, what was printed, and the warnings. Nothing here
confines the program: that is the sandbox's job, in the process this runs in (or the person's own
trust, when they trace their own code locally).
"""

from __future__ import annotations

import inspect
import math
import time
import warnings
from contextlib import contextmanager
from typing import Callable

import torch

from app.engine.backward import BackwardRecorder
from app.engine.deadline import Deadline, alarm
from app.engine.gradcheck import check_gradients
from app.engine.graph import GraphBuilder
from app.engine.modules import ModuleTracker
from app.engine.naming import assignment_targets, module_names, name_in_frame, program_globals
from app.engine.program import Program, ProgramOutput, clean_text, program_error
from app.engine.recorder import ForwardRecorder
from app.engine.sites import PROGRAM_FILENAME, SiteFinder
from app.engine.trace_builder import build_trace
from app.errors import ProgramError
from app.settings import DEFAULT_LIMITS, Limits
from app.trace_model import GradCheck, Trace, TraceWarning

Annotator = Callable[["ProgramRun", GradCheck | None], None]
_MAX_WARNINGS = 50


def seed_cpu(seed: int) -> None:
    """Seed torch's CPU generator. `torch.manual_seed` would also queue seeds for CUDA, XPU and
    MTIA, formatting a stack trace each time (a millisecond per trace, for devices Grafo never uses)."""
    torch.default_generator.manual_seed(seed)


class ProgramRun:
    def __init__(self, program: Program, limits: Limits):
        self.program = program
        self.limits = limits
        self.source_map = program.source_map
        self.sites = SiteFinder(program.source_map, program.filename)
        self.deadline = Deadline(limits.time_limit_s)
        self.graph = GraphBuilder(limits)
        self.modules = ModuleTracker(self.sites)
        self.recorder = ForwardRecorder(self.graph, self.sites, self.modules, self._assignments(),
                                        self.paused, self.autograd_call, self.grad_read)
        self.backward_recorder = BackwardRecorder(self.graph, self.paused)
        self.output = ProgramOutput(limits)
        self.warnings: list[TraceWarning] = []
        self.namespace: dict = {}

    def _assignments(self) -> dict[tuple, str]:
        spans = {}
        for (line, col, end_line, end_col), name in assignment_targets(self.program.tree, self.source_map).items():
            span = self.source_map.span_of(line, col, end_line, end_col)
            spans[(span.line, span.col, span.end_line, span.end_col)] = name
        return spans

    # --- running -------------------------------------------------------------------------
    def execute(self) -> None:
        """Run the program; its own exceptions become a ProgramError placed in its code."""
        seed_cpu(self.limits.seed)
        with warnings.catch_warnings(), torch.set_grad_enabled(True):
            warnings.simplefilter("always")
            warnings.showwarning = self._on_warning
            try:
                with alarm(self.deadline), self.modules, self.recorder:
                    self.program.run(self.namespace, self.output)
            except SystemExit as exit_request:
                if exit_request.code not in (None, 0):
                    raise ProgramError("runtime", f"the program exited with status {exit_request.code!r}") from None
            except BaseException as error:  # noqa: BLE001 - whatever the program raised is its error
                raise program_error(error, self.sites) from None
        self._name_from_globals()

    @contextmanager
    def paused(self):
        """Grafo's own torch work (summaries, printing, hooks) is not recorded."""
        recording = self.recorder.enabled
        self.recorder.enabled = False
        try:
            yield
        finally:
            self.recorder.enabled = recording

    def _on_warning(self, message, category, filename, lineno, file=None, line=None) -> None:
        """A warning torch (or the program) raised: kept with the program's line, not torch's."""
        site = self.sites.current()
        text = str(message).split("(Triggered internally")[0].strip()
        span = site.span if site else None
        self.warn(text, span.line if span else None, span.col if span else None)

    def warn(self, message: str, line: int | None = None, col: int | None = None, key: str | None = None,
             **params) -> None:
        message = clean_text(message)
        if len(self.warnings) < _MAX_WARNINGS and not any(w.message == message and w.line == line for w in self.warnings):
            self.warnings.append(TraceWarning(message=message, line=line, col=col, key=key, params=params))

    def grad_read(self, tensor: torch.Tensor) -> None:
        """`x.grad` read as None because x needs no grad: say why (torch says nothing)."""
        if tensor.requires_grad or not self.backward_recorder.passes:
            return
        node_id = self.graph.node_of(tensor)
        names = self.graph.tensors[node_id].names if node_id else []
        name = names[-1] if names else name_in_frame(self.sites.program_frame(), tensor)
        site = self.sites.current()
        if name and site and site.span:
            self.warn(f"{name}.grad is None: {name} does not require grad, so no gradient reaches it",
                      site.span.line, site.span.col, key="grad_of_constant", name=name)

    # --- autograd calls the program makes ------------------------------------------------
    def autograd_call(self, func, args, kwargs):
        """`backward()`, `torch.autograd.backward` or `torch.autograd.grad`, run with every step recorded."""
        roots, seeds, retain_graph = _autograd_roots(func, args, kwargs)
        site = self.sites.current()
        with torch.set_grad_enabled(torch.is_grad_enabled()):
            return self.backward_recorder.run(roots, seeds, lambda: func(*args, **kwargs),
                                              site.span if site else None, implicit=False,
                                              retain_graph=retain_graph)

    # --- names ---------------------------------------------------------------------------
    def _name_from_globals(self) -> None:
        """The program's variables at the end name what they hold; module parameters get their path.

        A path belongs to the parameter the program's variables lead to at the end: a model built
        twice under one name leaves its first parameters with their label but not the name."""
        with self.paused():
            current: dict[int, str] = {}
            for name, value in program_globals(self.namespace):
                if isinstance(value, torch.nn.Module):
                    self.modules.register(name, value, prefer=True)
                    current.update(module_names(name, value)[1])
                elif isinstance(value, torch.Tensor) and self.graph.node_of(value) is not None:
                    record = self.graph.tensors[self.graph.node_of(value)]
                    if name not in record.names:
                        self.graph.bind_name(value, name)
            owner = {path: key for key, path in current.items()}
            for record in self.graph.tensors.values():
                key = id(record.tensor)
                path = current.get(key) or self.modules.tensor_paths.get(key)
                if path is None:
                    continue
                if owner.get(path, key) != key:
                    self.graph.unname_node(record.id, path)
                elif path not in record.names:
                    record.names.insert(0, path)
                    record.label = path


_SIGNATURES: dict[object, inspect.Signature] = {}


def _autograd_roots(func, args, kwargs) -> tuple[list[torch.Tensor], list, bool | None]:
    """(the tensors backward starts from, their seeds, retain_graph) from an autograd call's arguments."""
    signature = _SIGNATURES.get(func)
    if signature is None:
        signature = _SIGNATURES[func] = inspect.signature(func)
    bound = signature.bind(*args, **kwargs).arguments
    if func is torch.Tensor.backward:
        return [bound["self"]], [bound.get("gradient")], bound.get("retain_graph")
    if func is torch.autograd.grad:
        roots, seeds = bound["outputs"], bound.get("grad_outputs")
    else:
        roots, seeds = bound["tensors"], bound.get("grad_tensors")
    roots = [roots] if isinstance(roots, torch.Tensor) else list(roots)
    seeds = [seeds] if isinstance(seeds, torch.Tensor) else list(seeds or [])
    return roots, seeds, bound.get("retain_graph")


def _run_implicit_backward(run: ProgramRun, root_name: str | None) -> None:
    """The program called no backward(): call it on `root_name`, else on the last named tensor."""
    root = None
    if root_name:
        root = run.namespace.get(root_name)
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
    with torch.set_grad_enabled(True):
        run.backward_recorder.run([root], [gradient], lambda: root.backward(gradient=gradient), None, implicit=True)


def _validate_eps(eps: float) -> None:
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or not 0 < eps <= 1:
        raise ProgramError("type", "eps must be a number with 0 < eps <= 1")


WARM_UP_PROGRAM = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
x = torch.linspace(-1, 1, 12).reshape(4, 3)
for optimizer in (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
                  torch.optim.Adam(model.parameters(), lr=0.01)):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), torch.tensor([0, 1, 1, 0])) + F.mse_loss(model(x), torch.zeros(4, 2))
    loss.backward()
    optimizer.step()
g, = torch.autograd.grad((x.requires_grad_() ** 3).sum(), x, create_graph=True)
g.sum().backward()
"""
_warmed_up = False


def warm_up() -> None:
    """Trace a small program once per process, before any time limit is armed: torch imports parts of
    itself on first use (the optimizers load `torch._dynamo`), and an import cut short by the time
    limit would leave a half-initialised module behind for every later run in the process."""
    global _warmed_up
    if not _warmed_up:
        _warmed_up = True
        trace(WARM_UP_PROGRAM, limits=DEFAULT_LIMITS.with_changes(time_limit_s=600.0))


def trace(source: str, root: str | None = None, gradcheck: bool = True, eps: float = 1e-3,
          limits: Limits | None = None, annotate: Annotator | None = None,
          filename: str = PROGRAM_FILENAME) -> Trace:
    """Trace `source`. Raises ProgramError for anything the program did wrong.

    `annotate(run, gradcheck)` may add explanations before the trace is built (the teaching layer
    passes its own; the engine knows nothing about teaching).
    """
    warm_up()
    started = time.perf_counter()
    limits = limits or DEFAULT_LIMITS
    _validate_eps(eps)
    program = Program(source, limits, filename)
    run = ProgramRun(program, limits)
    run.execute()
    if not run.backward_recorder.passes:
        _guarded(run, lambda: _run_implicit_backward(run, root))
    result = None
    if gradcheck:
        result = _guarded(run, lambda: check_gradients(run.graph, run.backward_recorder.passes, eps,
                                                       run.deadline, run.paused))
    if annotate is not None:
        annotate(run, result)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return build_trace(run, len(program.tree.body), result, elapsed_ms)


def _guarded(run: ProgramRun, action):
    """Grafo's own steps after the program (implicit backward, gradient check) map errors the same way."""
    try:
        with alarm(run.deadline):
            return action()
    except ProgramError:
        raise
    except BaseException as error:  # noqa: BLE001
        raise program_error(error, run.sites) from None
