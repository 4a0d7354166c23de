"""`trace()`: run a program as real Python with recording on, run backward, check gradients, build the Trace.

`ProgramRun` is the state of one run: the graph being built, the forward recorder (a torch function
mode), the module tracker, the backward recorder, what was printed, and the warnings. Nothing here
confines the program: that is the sandbox's job, in the process this runs in (or the person's own
trust, when they trace their own code locally).
"""

from __future__ import annotations

import copy
import inspect
import math
import random
import sys
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
from app.engine.passes import PassSummaries, reachable_leaves
from app.engine.plan import DetailPlan
from app.engine.recorder import ForwardRecorder
from app.engine.sites import PROGRAM_FILENAME, SiteFinder
from app.engine.trace_builder import build_trace
from app.engine.updates import UpdateRecorder
from app.errors import ProgramError
from app.settings import DEFAULT_LIMITS, Limits
from app.trace_model import ErrorBody, GradCheck, Span, Trace, TraceWarning

Annotator = Callable[["ProgramRun", GradCheck | None], None]
_MAX_WARNINGS = 50


@contextmanager
def global_state_kept():
    """Put back the process-wide settings a program may change (printing, default dtype, anomaly mode).

    A worker runs one program and exits, so this matters where several programs share a process:
    the tests, and a person's own notebook (`grafo.record`)."""
    printing = copy.copy(torch._tensor_str.PRINT_OPTS)
    dtype, anomaly = torch.get_default_dtype(), torch.is_anomaly_enabled()
    try:
        yield
    finally:
        torch._tensor_str.PRINT_OPTS = printing
        torch.set_default_dtype(dtype)
        torch.set_anomaly_enabled(anomaly)


def seed_everything(seed: int) -> None:
    """Seed torch's CPU generator, Python's and numpy's: a second run must repeat the first exactly.
    (`torch.manual_seed` would also queue seeds for CUDA, XPU and MTIA, formatting a stack trace each
    time: a millisecond per trace, for devices Grafo never uses.)"""
    torch.default_generator.manual_seed(seed)
    random.seed(seed)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(seed)


class ProgramRun:
    def __init__(self, program: Program, limits: Limits, plan: DetailPlan | None = None,
                 deadline: Deadline | None = None, summarize: bool = True):
        self.program = program
        self.summarize = summarize  # a second run's summaries would repeat the first's
        self.limits = limits
        self.plan = plan or DetailPlan(max_passes=limits.detailed_passes, max_ops=limits.detail_ops)
        self.source_map = program.source_map
        self.sites = SiteFinder(program.source_map, program.filename)
        self.deadline = deadline or Deadline(limits.time_limit_s)
        self.graph = GraphBuilder(limits)
        self.modules = ModuleTracker(self.sites)
        self.updates = UpdateRecorder(self.sites, self.leaf_name, self.graph.node_of, self._node_after,
                                      self._last_pass, self._last_pass_detailed)
        self.recorder = ForwardRecorder(self.graph, self.sites, self.modules, self.updates, self._assignments(),
                                        self.autograd_call, self.grad_read)
        self.paused = self.recorder.paused  # `with run.paused():` around Grafo's own torch work
        self.backward_recorder = BackwardRecorder(self.graph, self.paused, self.sites.code_span)
        self.output = ProgramOutput(limits)
        self.warnings: list[TraceWarning] = []
        self.namespace: dict = {}
        self.completed_passes = 0
        self.summaries = PassSummaries(limits.max_pass_summaries)
        self._leaf_names: dict[int, str] = {}

    def _assignments(self) -> dict[tuple, str]:
        spans = {}
        for (line, col, end_line, end_col), name in assignment_targets(self.program.tree, self.source_map).items():
            span = self.source_map.span_of(line, col, end_line, end_col)
            spans[(span.line, span.col, span.end_line, span.end_col)] = name
        return spans

    # --- running -------------------------------------------------------------------------
    def execute(self) -> None:
        """Run the program; its own exceptions become a ProgramError placed in its code."""
        seed_everything(self.limits.seed)
        self.recorder.detail = self.plan.detail_window(0, 0)
        with warnings.catch_warnings(), torch.set_grad_enabled(True), global_state_kept():
            warnings.simplefilter("always")
            warnings.showwarning = self._on_warning
            try:
                with alarm(self.deadline), self.modules, self.updates, self.recorder:
                    self.program.run(self.namespace, self.output)
            except SystemExit as exit_request:
                if exit_request.code not in (None, 0):
                    raise ProgramError("runtime", f"the program exited with status {exit_request.code!r}",
                                       key="program_exited", status=repr(exit_request.code)) from None
            except BaseException as error:  # noqa: BLE001 - whatever the program raised is its error
                raise program_error(error, self.sites) from None
            finally:
                self.sites.forget_frames()
        self._name_from_globals()

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
        """`backward()`, `torch.autograd.backward` or `torch.autograd.grad`: one pass."""
        roots, seeds, retain_graph, inputs = _autograd_roots(func, args, kwargs)
        site = self.sites.current()
        return self.run_pass(roots, seeds, lambda: func(*args, **kwargs), site.span if site else None,
                             implicit=False, retain_graph=retain_graph, inputs=inputs)

    def run_pass(self, roots: list[torch.Tensor], seeds: list, call, span: Span | None, implicit: bool,
                 retain_graph: bool | None = None, inputs: list[torch.Tensor] | None = None):
        """Run one backward pass: in full if the plan says so, and summarised in any case."""
        index, detailed = self.completed_passes, self.recorder.detail
        if not detailed and not self.summarize:
            self.completed_passes += 1
            result = call()
            self.recorder.detail = self.plan.detail_window(self.completed_passes, len(self.graph.ops))
            return result
        with self.paused():
            leaves = list(inputs) if inputs is not None else reachable_leaves(roots)
            grads_before = [None if leaf.grad is None else leaf.grad.detach().clone() for leaf in leaves]
            self.updates.know_params(leaves)
        with torch.set_grad_enabled(torch.is_grad_enabled()):
            if detailed:
                self.plan.detailed.add(index)
                result = self.backward_recorder.run(roots, seeds, call, span, implicit, retain_graph, index)
            else:
                result = call()
        self.completed_passes += 1
        with self.paused():
            given = list(result) if inputs is not None else [_given(leaf, before) for leaf, before in zip(leaves, grads_before)]
            self._summarize(index, roots[0], span, detailed, leaves, given)
            self.recorder.detail = self.plan.detail_window(self.completed_passes, len(self.graph.ops))
        return result

    def _summarize(self, index: int, root: torch.Tensor, span: Span | None, detailed: bool,
                   leaves: list[torch.Tensor], given: list) -> None:
        params = [(self.leaf_name(leaf), leaf, grad) for leaf, grad in zip(leaves, given)]
        root_name = name_in_frame(self.sites.program_frame(), root)
        self.summaries.add(index, root, root_name, span.line if span else None, detailed, params)

    def leaf_name(self, tensor: torch.Tensor) -> str:
        """A parameter's name (its module path, its variable), the same in every pass."""
        name = self._leaf_names.get(id(tensor))
        if name is None:
            node_id = self.graph.node_of(tensor)
            names = self.graph.tensors[node_id].names if node_id else []
            name = (self.modules.tensor_paths.get(id(tensor)) or (names[-1] if names else None)
                    or name_in_frame(self.sites.program_frame(), tensor) or f"tensor {len(self._leaf_names)}")
            self._leaf_names[id(tensor)] = name
        return name

    def _node_after(self, tensor: torch.Tensor) -> str | None:
        """A parameter's node after an update: a new version, when the graph knows the parameter."""
        return self.graph.source_node(tensor) if self.graph.node_of(tensor) is not None else None

    def _last_pass(self) -> int | None:
        return self.completed_passes - 1 if self.completed_passes else None

    def _last_pass_detailed(self) -> bool:
        return self.completed_passes > 0 and (self.completed_passes - 1) in self.plan.detailed

    # --- names ---------------------------------------------------------------------------
    def _name_from_globals(self) -> None:
        """The program's variables at the end name what they hold; module parameters get their path.

        A path belongs to the parameter the program's variables lead to at the end: a model built
        twice under one name leaves its first parameters with their label but not the name. A
        parameter the graph never met in a detailed pass is added as a node of its own, so every
        leaf the program ends with shows the `.grad` torch holds."""
        with self.paused():
            current: dict[int, str] = {}
            for name, value in program_globals(self.namespace):
                if isinstance(value, torch.nn.Module):
                    self.modules.register(name, value, prefer=True)
                    _, paths = module_names(name, value)
                    current.update(paths)
                    for parameter in value.parameters():
                        self._keep_leaf(parameter, paths.get(id(parameter)))
                elif isinstance(value, torch.Tensor):
                    self._keep_leaf(value, name)
                    if self.graph.node_of(value) is not None:
                        record = self.graph.tensors[self.graph.node_of(value)]
                        if name not in record.names:
                            self.graph.bind_name(value, name)
            self._apply_paths(current)

    def _keep_leaf(self, tensor: torch.Tensor, name: str | None) -> None:
        if name and tensor.is_leaf and tensor.requires_grad and self.graph.node_of(tensor) is None:
            self.graph.source_node(tensor, name)

    def _apply_paths(self, current: dict[int, str]) -> None:
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
    if func is torch.Tensor.backward and len(args) == 1 and kwargs.keys() <= {"gradient", "retain_graph"}:
        return [args[0]], [kwargs.get("gradient")], kwargs.get("retain_graph"), None  # `loss.backward()`: most calls
    signature = _SIGNATURES.get(func)
    if signature is None:
        signature = _SIGNATURES[func] = inspect.signature(func)
    bound = signature.bind(*args, **kwargs).arguments
    inputs = None
    if func is torch.Tensor.backward:
        return [bound["self"]], [bound.get("gradient")], bound.get("retain_graph"), None
    if func is torch.autograd.grad:
        roots, seeds = bound["outputs"], bound.get("grad_outputs")
        inputs = bound["inputs"]
        inputs = [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)
    else:
        roots, seeds = bound["tensors"], bound.get("grad_tensors")
    roots = [roots] if isinstance(roots, torch.Tensor) else list(roots)
    seeds = [seeds] if isinstance(seeds, torch.Tensor) else list(seeds or [])
    return roots, seeds, bound.get("retain_graph"), inputs


def _given(leaf: torch.Tensor, before: torch.Tensor | None) -> torch.Tensor | None:
    """What one `backward()` added to a leaf's `.grad` (it accumulates)."""
    if leaf.grad is None:
        return None
    return leaf.grad.detach() if before is None or before.shape != leaf.grad.shape else leaf.grad.detach() - before


def _run_implicit_backward(run: ProgramRun, root_name: str | None) -> None:
    """The program called no backward(): call it on `root_name`, else on the last named tensor."""
    root = None
    if root_name:
        root = run.namespace.get(root_name)
        if not isinstance(root, torch.Tensor):
            raise ProgramError("name", f"root {root_name!r} is not a tensor in this program", key="root_not_tensor",
                               name=root_name)
    else:
        for record in reversed(list(run.graph.tensors.values())):
            if record.names and record.tensor.requires_grad:
                root = record.tensor
                break
    if root is None:
        run.warn("nothing in this program requires grad, so there is no backward pass to show",
                 key="nothing_requires_grad")
        return
    if not root.requires_grad:  # only a root the request named can be one (a found one requires grad)
        run.warn(f"{root_name} does not require grad, so there is no backward pass to show",
                 key="root_no_grad", name=root_name)
        return
    gradient = None
    if root.numel() != 1:
        gradient = torch.ones_like(root)
        run.warn(f"the root has {root.numel()} elements, not one: backward() was seeded with ones",
                 key="implicit_seed_ones", count=root.numel())
    with torch.set_grad_enabled(True), run.paused():
        run.recorder.detail = True
        run.run_pass([root], [gradient], lambda: root.backward(gradient=gradient), None, implicit=True)


def _validate_eps(eps: float) -> None:
    if not isinstance(eps, (int, float)) or not math.isfinite(eps) or not 0 < eps <= 1:
        raise ProgramError("type", "eps must be a number with 0 < eps <= 1", key="bad_eps")


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
          filename: str = PROGRAM_FILENAME, passes: list[int] | None = None) -> Trace:
    """Trace `source`. Raises ProgramError for anything the program did wrong; the error's `trace`
    is then what the program did before it (None when nothing ran).

    `passes` names backward passes to keep in full beside the first and the last. `annotate(run,
    gradcheck)` may add explanations before the trace is built (the teaching layer passes its own;
    the engine knows nothing about teaching).
    """
    warm_up()
    started = time.perf_counter()
    limits = limits or DEFAULT_LIMITS
    _validate_eps(eps)
    program = Program(source, limits, filename)
    requested = frozenset(k for k in (passes or []) if isinstance(k, int))
    deadline = Deadline(limits.time_limit_s)
    first = ProgramRun(program, limits, DetailPlan(requested, max_passes=limits.detailed_passes,
                                                   max_ops=limits.detail_ops), deadline)
    _run_or_explain(first, annotate, started)
    if not first.completed_passes:
        _guarded(first, lambda: _run_implicit_backward(first, root))
    detailed = _second_run(first, requested) or first
    result = None
    if gradcheck:
        result = _guarded(detailed, lambda: check_gradients(detailed.graph, detailed.backward_recorder.passes,
                                                            eps, deadline, detailed.paused))
    if annotate is not None:
        annotate(detailed, result)
    return build_trace(detailed, first, result, (time.perf_counter() - started) * 1000)


def _run_or_explain(run: ProgramRun, annotate: Annotator | None, started: float) -> None:
    """Run the program; if it fails, the error carries the trace of what ran before it."""
    try:
        run.execute()
    except ProgramError as error:
        error.trace = _partial_trace(run, error, annotate, started)
        raise


def _partial_trace(run: ProgramRun, error: ProgramError, annotate: Annotator | None, started: float) -> Trace | None:
    if not run.graph.ops and not run.summaries.items:
        return None
    if error.kind == "timeout":
        error.message += f" (after {run.completed_passes} backward pass{'es' if run.completed_passes != 1 else ''})"
        error.key, error.params = "timeout_after_passes", {"passes": run.completed_passes}
    try:
        if annotate is not None:
            annotate(run, None)
        partial = build_trace(run, run, None, (time.perf_counter() - started) * 1000)
    except Exception:  # noqa: BLE001 - the error itself matters more than the picture of it
        return None
    partial.error = ErrorBody(kind=error.kind, message=error.message, line=error.line, col=error.col)
    return partial


def _second_run(first: ProgramRun, requested: frozenset[int]) -> ProgramRun | None:
    """Run the program again when the first run could not keep the last (or asked-for) passes in full."""
    total = first.completed_passes
    if not first.plan.needs_second_run(total):
        return None
    plan = DetailPlan.second_run(total, requested, first.limits.detailed_passes)
    second = ProgramRun(first.program, first.limits, plan, first.deadline, summarize=False)
    try:
        second.execute()
    except ProgramError as error:
        first.warn(f"the last passes could not be recorded in full ({error.message}): the first ones are shown",
                   key="second_run_failed")
        return None
    if second.completed_passes != total:
        first.warn("the program ran differently the second time (it is not deterministic): the first "
                   "passes are shown in full", key="not_deterministic")
        return None
    return second


def _guarded(run: ProgramRun, action):
    """Grafo's own steps after the program (implicit backward, gradient check) map errors the same way."""
    try:
        with alarm(run.deadline):
            return action()
    except ProgramError:
        raise
    except BaseException as error:  # noqa: BLE001
        raise program_error(error, run.sites) from None
