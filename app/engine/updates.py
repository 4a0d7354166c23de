"""Update steps: what happens to the parameters between two backward passes.

- `optimizer.step()`, seen through torch's global optimizer hooks: each parameter before, its
  gradient, after, the hyper-parameters, and the state the optimizer keeps (momentum, Adam's moments).
- A manual update under `torch.no_grad()` (`w -= lr * w.grad`, `w.data -= ...`): an in-place change
  of a parameter (or of its `.data`, which shares its memory) while gradients are off.
- Clearing gradients: `optimizer.zero_grad()` / `w.grad = None` (torch sets `.grad` to None) and
  `w.grad.zero_()`.

Only updates that follow a pass the plan keeps in detail are recorded; the rest cost a few checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

from app.engine.sites import SiteFinder
from app.trace_model import Span

_STATE_KEYS = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum")
_HYPER_KEYS = ("lr", "momentum", "dampening", "weight_decay", "nesterov", "betas", "eps", "amsgrad", "alpha")
_ZEROING_CALLS = {"zero_", "fill_", "mul_"}


@dataclass
class ParamChange:
    param: torch.Tensor
    name: str
    before: torch.Tensor
    grad: torch.Tensor | None
    after: torch.Tensor | None = None
    state: dict[str, torch.Tensor] = field(default_factory=dict)
    node_before: str | None = None
    node_after: str | None = None
    text: str | None = None  # the rule with its numbers (written by the teaching layer)


@dataclass
class UpdateRecord:
    pass_index: int | None
    kind: str  # "optimizer", "manual", "zero_grad"
    span: Span | None
    optimizer: str | None = None
    hyper: dict = field(default_factory=dict)
    changes: list[ParamChange] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    zeroed_to: str | None = None  # zero_grad: "none" (`.grad = None`) or "zeros" (`.grad.zero_()`)


class UpdateRecorder:
    """Collects update steps. `wanted()` says whether the pass just finished is kept in detail."""

    def __init__(self, sites: SiteFinder, name_of: Callable[[torch.Tensor], str], node_of: Callable,
                 node_after: Callable, last_pass: Callable[[], int | None], wanted: Callable[[], bool]):
        self.sites = sites
        self.name_of = name_of
        self.node_of = node_of  # the parameter's node now
        self.node_after = node_after  # its node after a change (a new version when the graph knew it)
        self.last_pass = last_pass
        self.wanted = wanted
        self.records: list[UpdateRecord] = []
        self.params_by_storage: dict[int, torch.Tensor] = {}  # data_ptr -> parameter, for `w.data -= ...`
        self._in_optimizer: UpdateRecord | None = None
        self._handles: list = []

    def __enter__(self) -> "UpdateRecorder":
        self._handles = [register_optimizer_step_pre_hook(self._before_step),
                         register_optimizer_step_post_hook(self._after_step)]
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    @property
    def in_step(self) -> bool:
        """Inside `optimizer.step()` (its own arithmetic is summarised by the update step)."""
        return self._in_optimizer is not None

    def know_params(self, params: list[torch.Tensor]) -> None:
        for param in params:
            self.params_by_storage.setdefault(param.data_ptr(), param)

    # --- optimizer.step() ----------------------------------------------------------------
    def _before_step(self, optimizer, args, kwargs) -> None:
        if not self.wanted():
            self._in_optimizer = UpdateRecord(None, "optimizer", None)  # inside a step, not kept
            return
        site = self.sites.current()
        record = UpdateRecord(self.last_pass(), "optimizer", site.span if site else None,
                              optimizer=type(optimizer).__name__, hyper=_hyper(optimizer))
        for group in optimizer.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    record.changes.append(ParamChange(param, self.name_of(param), param.detach().clone(),
                                                      param.grad.detach().clone(), node_before=self.node_of(param)))
        self._in_optimizer = record

    def _after_step(self, optimizer, args, kwargs) -> None:
        record, self._in_optimizer = self._in_optimizer, None
        if record is None or record.span is None and not record.changes:
            return
        for change in record.changes:
            change.after = change.param.detach().clone()
            change.node_after = self.node_after(change.param)
            state = optimizer.state.get(change.param, {})
            change.state = {key: state[key].detach().clone() for key in _STATE_KEYS
                            if isinstance(state.get(key), torch.Tensor) and state[key].shape == change.param.shape}
        self.records.append(record)

    # --- manual updates and cleared gradients --------------------------------------------
    def param_changed_in_place(self, target: torch.Tensor) -> torch.Tensor | None:
        """The parameter an in-place op on `target` changes, when gradients are off and it is one."""
        if self._in_optimizer is not None or torch.is_grad_enabled() or self.last_pass() is None:
            return None
        if target.is_leaf and target.requires_grad:
            return target
        return self.params_by_storage.get(target.data_ptr()) if target.numel() else None

    def before_inplace(self, target: torch.Tensor):
        """Called before an in-place op; returns what `after_inplace` needs, or None."""
        if not self.wanted():
            return None
        param = self.param_changed_in_place(target)
        if param is not None:
            return param, param.detach().clone(), None if param.grad is None else param.grad.detach().clone(), \
                self.node_of(param)
        return None

    def after_inplace(self, pending) -> None:
        param, before, grad, node_before = pending
        site = self.sites.current()
        change = ParamChange(param, self.name_of(param), before, grad, param.detach().clone(),
                             node_before=node_before, node_after=self.node_after(param))
        self._add(UpdateRecord(self.last_pass(), "manual", site.span if site else None), change)

    def grad_cleared(self, param: torch.Tensor, to_none: bool) -> None:
        """`param.grad = None` (what zero_grad does by default) or `param.grad.zero_()`."""
        if self.last_pass() is None or not self.wanted():
            return
        site = self.sites.current()
        record = UpdateRecord(self.last_pass(), "zero_grad", site.span if site else None,
                              zeroed_to="none" if to_none else "zeros")
        self._add(record, None, self.name_of(param))

    def grad_of(self, target: torch.Tensor, name: str) -> torch.Tensor | None:
        """The parameter whose `.grad` is `target`, for `w.grad.zero_()` (or `.mul_(0)`, `.fill_(0)`)."""
        if name not in _ZEROING_CALLS or self.last_pass() is None:
            return None
        for param in self.params_by_storage.values():
            if param.grad is not None and param.grad.data_ptr() == target.data_ptr():  # `.grad` or `.grad.data`
                return param
        return None

    def _add(self, record: UpdateRecord, change: ParamChange | None, cleared: str | None = None) -> None:
        """Consecutive updates of one kind from one place after one pass are one step."""
        last = self.records[-1] if self.records else None
        same = (last is not None and last.kind == record.kind and last.pass_index == record.pass_index
                and last.span == record.span)
        if not same:
            self.records.append(record)
            last = record
        if change is not None:
            last.changes.append(change)
        if cleared is not None and cleared not in last.cleared:
            last.cleared.append(cleared)


def _hyper(optimizer) -> dict:
    group = optimizer.param_groups[0] if optimizer.param_groups else {}
    hyper = {}
    for key in _HYPER_KEYS:
        value = group.get(key)
        if isinstance(value, (int, float, bool)) and not isinstance(value, torch.Tensor):
            hyper[key] = value
        elif isinstance(value, tuple):
            hyper[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            hyper[key] = float(value)
    return hyper
