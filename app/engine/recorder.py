"""Forward recording: every torch call the program makes passes through `ForwardRecorder`.

`TorchFunctionMode` sees calls at the level they were written (`F.cross_entropy`, `x * w`,
`e.pow(2)`), not the aten kernels underneath, which is the level a person reasons at. Inside the
handler torch disables the mode, so a library function's internal calls are not recorded twice.
Calls into autograd (`backward()`, `torch.autograd.grad`) are handed to the backward recorder, and
custom `autograd.Function`s are recorded as one op by wrapping `Function.apply` while a run lasts.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from app.engine.graph import GraphBuilder
from app.engine.modules import ModuleTracker
from app.engine.naming import name_in_frame
from app.engine.sites import Site, SiteFinder
from app.engine.updates import UpdateRecorder

# Property reads that make a new tensor worth drawing (a transpose is a real view op).
_RECORDED_PROPERTIES = {"T", "mT", "H", "mH"}
# Calls that change a tensor's flags but not its value: same node, new flags.
_FLAG_CALLS = {"requires_grad_", "retain_grad"}
_NEVER_RECORDED = {"__repr__", "__format__", "__str__", "numpy", "tolist", "item", "__bool__", "__len__",
                   "__reduce_ex__", "__deepcopy__", "__hash__", "__index__", "__int__", "__float__"}
AUTOGRAD_CALLS = (torch.Tensor.backward, torch.autograd.backward, torch.autograd.grad)
_LIGHT_WATCH = {"__set__", "__get__", "requires_grad_", "retain_grad"}  # flags, cleared and read grads
_INPLACE_OPERATORS = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__idiv__", "__ipow__", "__setitem__"}


def _is_inplace(name: str) -> bool:
    return (name.endswith("_") and not name.startswith("__")) or name in _INPLACE_OPERATORS


def _is_property_read(func) -> bool:
    return getattr(func, "__name__", None) == "__get__"


def _is_grad_cleared(func, args) -> bool:
    """`x.grad = None`: what `zero_grad()` does to every parameter."""
    return (getattr(func, "__name__", None) == "__set__" and _property_name(func) == "grad"
            and len(args) > 1 and args[1] is None)


def _is_flag_write(func) -> bool:
    """`x.requires_grad = True`: a property write that changes a tensor's flags."""
    return getattr(func, "__name__", None) == "__set__" and _property_name(func) == "requires_grad"


def _property_name(func) -> str | None:
    return getattr(getattr(func, "__self__", None), "__name__", None)


class Paused:
    """`with recorder.paused:`: Grafo's own torch work is not recorded. A class, not a generator-based
    context manager: it runs around every op of every iteration of a training loop."""

    def __init__(self, recorder: "ForwardRecorder"):
        self.recorder = recorder
        self._saved: list[bool] = []

    def __call__(self) -> "Paused":
        return self

    def __enter__(self) -> None:
        self._saved.append(self.recorder.enabled)
        self.recorder.enabled = False

    def __exit__(self, *exc) -> None:
        self.recorder.enabled = self._saved.pop()


class ForwardRecorder(TorchFunctionMode):
    def __init__(self, graph: GraphBuilder, sites: SiteFinder, modules: ModuleTracker, updates: UpdateRecorder,
                 assignments: dict[tuple, str], on_autograd: Callable, on_grad_read: Callable[[torch.Tensor], None]):
        super().__init__()
        self.graph = graph
        self.updates = updates
        self.detail = True  # record ops in full now (the plan decides at each pass's end)
        self.sites = sites
        self.modules = modules
        self.assignments = assignments  # span of a right-hand side -> the name it is assigned to
        self.paused = Paused(self)
        self.on_autograd = on_autograd
        self.on_grad_read = on_grad_read
        self.enabled = True
        self._patches: list[tuple] = []
        modules.on_result = self._module_result

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not self.enabled:
            return func(*args, **kwargs)
        if func in AUTOGRAD_CALLS:
            return self.on_autograd(func, args, kwargs)
        pending = None
        name = getattr(func, "__name__", "")
        inplace = _is_inplace(name)
        if inplace and args and isinstance(args[0], torch.Tensor):
            with self.paused:
                pending = self.updates.before_inplace(args[0])
        result = func(*args, **kwargs)
        if self.detail or inplace or name in _LIGHT_WATCH:  # between detailed passes, only updates matter
            with self.paused:  # summarising values is Grafo's work, not the program's
                self._observe(func, name, args, kwargs, result)
                if pending is not None:
                    self.updates.after_inplace(pending)
        return result

    # --- what is recorded ----------------------------------------------------------------
    def _observe(self, func, name, args, kwargs, result) -> None:
        if name in _NEVER_RECORDED:
            return
        if name in _FLAG_CALLS or _is_flag_write(func):
            self.graph.refresh_flags(args[0])
            return
        if _is_grad_cleared(func, args):
            self.updates.grad_cleared(args[0], to_none=True)
            return
        if args and isinstance(args[0], torch.Tensor) and (param := self.updates.grad_of(args[0], name)) is not None:
            self.updates.grad_cleared(param, to_none=False)
        if not self.detail or self.updates.in_step:
            return  # a pass kept only as a summary, or an optimizer's own arithmetic
        if _is_property_read(func) and _property_name(func) not in _RECORDED_PROPERTIES:
            if _property_name(func) == "grad" and args and isinstance(args[0], torch.Tensor):
                self.on_grad_read(args[0])
            return
        if name == "__setitem__" or any(isinstance(v, torch.Tensor) for v in tree_flatten(result)[0]):
            if not self.sites.in_module_set_up():
                self.record(func, args, kwargs, result)

    def record(self, func, args, kwargs, result, op_name: str | None = None) -> None:
        site = self.sites.current()
        record = self.graph.record_op(func, args, kwargs, result, site, self.name_of, self.modules.current,
                                      op_name=op_name)
        if site is not None and record.outputs and not self.modules.called_from(self.sites.program_frame()):
            self._name_result(site, record.outputs[-1])

    def name_of(self, tensor: torch.Tensor) -> str | None:
        """A name for a tensor the graph meets for the first time: a parameter's path, a variable."""
        path = self.modules.tensor_paths.get(id(tensor))
        if path is None and isinstance(tensor, torch.nn.Parameter):
            return None  # a parameter of a module not called yet: named at the end
        return path or name_in_frame(self.sites.program_frame(), tensor)

    def _name_result(self, site: Site, node_id: str) -> None:
        """`y = <this op>`: the op's span is the right-hand side of an assignment, so its result is `y`."""
        span = site.span
        name = self.assignments.get((span.line, span.col, span.end_line, span.end_col)) if span else None
        if name:
            self.graph.name_node(node_id, name)

    def _module_result(self, output) -> None:
        """A module call returned to the program (`h = self.fc1(x)`): its output takes the name."""
        if self.enabled and isinstance(output, torch.Tensor):
            node_id = self.graph.node_of(output)
            site = self.sites.current()
            if node_id is not None and site is not None:
                with self.paused():
                    self._name_result(site, node_id)

    # --- calls torch does not route through the mode -------------------------------------
    def __enter__(self):
        self._patches = [self._wrap_function_apply(), *self._wrap_variable()]
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            for owner, attribute, original in reversed(self._patches):
                setattr(owner, attribute, original)
            self._patches = []

    def _wrap_function_apply(self) -> tuple:
        """A custom `autograd.Function`'s `apply` becomes one op named after the class."""
        original = torch.autograd.Function.__dict__["apply"]
        recorder = self

        def apply(cls, *args, **kwargs):
            result = original.__func__(cls, *args, **kwargs)
            if recorder.enabled:
                with recorder.paused():
                    recorder.record(_bound_apply(original, cls), args, kwargs, result, op_name=cls.__name__)
            return result

        torch.autograd.Function.apply = classmethod(apply)
        return torch.autograd.Function, "apply", original

    def _wrap_variable(self) -> list[tuple]:
        """`Variable(t, requires_grad=True)` (the lesson's pre-0.4 idiom) makes a new tensor sharing
        t's memory; torch does not route it through the mode, so it is recorded here as an op."""
        original = torch.autograd.Variable
        recorder = self

        class Variable(original):
            def __new__(cls, *args, **kwargs):
                result = original(*args, **kwargs)
                if recorder.enabled and args and isinstance(args[0], torch.Tensor):
                    with recorder.paused():
                        recorder.record(_variable_replay, args, kwargs, result, op_name="Variable")
                return result

        torch.autograd.Variable = torch.autograd.variable.Variable = Variable
        return [(torch.autograd, "Variable", original), (torch.autograd.variable, "Variable", original)]


def _bound_apply(original, cls):
    """`cls.apply` as a plain function, for the gradient check to replay."""
    def call(*args, **kwargs):
        return original.__func__(cls, *args, **kwargs)
    call.__name__ = cls.__name__
    return call


def _variable_replay(tensor, requires_grad=False, volatile=False):
    """What `Variable(tensor)` computes: the same values (its gradient flag matters only to autograd)."""
    return tensor.detach()
