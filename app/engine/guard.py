"""The budget guard: refuse a torch kernel *before* it runs if its result would be too big.

Every aten op (forward and backward, including the ones torch runs inside a single user call) is
first replayed on the `meta` device, which computes output shapes without allocating memory. If an
output has too many elements, the running total of elements is too high, or the matmul FLOPs go over
budget, the op is refused with a `limit` error and never runs for real. This is what turns
`torch.ones(100000, 100000)` or `a @ a @ a ...` into a clean error instead of an out-of-memory kill.

Element-wise ops skip the replay (their output is the broadcast of their inputs), and so does
backward (gradients have the shapes of forward tensors that were already checked): the replay is
the slow part, about 0.5 ms per op for kernels written in Python.

It is also where the cooperative deadline is checked, since every bit of torch work passes here.
Ops without a meta kernel (`.item()`, data-dependent shapes such as `nonzero`) are let through:
their output is bounded by their inputs, which were already checked.
"""

from __future__ import annotations

import math
import time
from contextlib import contextmanager

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.flop_counter import flop_registry

from app.errors import ProgramError
from app.settings import Limits

_META = torch.device("meta")


def _to_meta(value):
    if isinstance(value, torch.Tensor):
        return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device=_META)
    if isinstance(value, torch.device):
        return _META
    return value


class Deadline:
    """A point in time after which the program is stopped with a `timeout` error."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise ProgramError("timeout", f"the program ran longer than the {self.seconds:g} s time limit")


class BudgetGuard(TorchDispatchMode):
    """Counts and bounds what torch is asked to compute. `paused()` lets Grafo's own work through."""

    def __init__(self, limits: Limits, deadline: Deadline):
        super().__init__()
        self.limits = limits
        self.deadline = deadline
        self.total_elements = 0
        self.flops = 0
        self.enabled = True
        self.in_backward = False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if self.enabled:
            self.deadline.check()
            self._check(func, args, kwargs)
        return func(*args, **kwargs)

    def _check(self, func, args, kwargs) -> None:
        if self.in_backward:
            return  # gradients have the shapes of forward tensors, which were already checked
        if torch.Tag.pointwise in func.tags:
            self._check_pointwise(func, args, kwargs)
            return
        meta_args = tree_map(_to_meta, args)
        meta_kwargs = tree_map(_to_meta, kwargs)
        if "device" in kwargs or not any(isinstance(a, torch.Tensor) for a in tree_flatten(args)[0]):
            meta_kwargs["device"] = _META
        try:
            meta_out = func(*meta_args, **meta_kwargs)
        except Exception:  # no meta kernel, or the real kernel will raise a better error itself
            return
        outputs = [t for t in tree_flatten(meta_out)[0] if isinstance(t, torch.Tensor)]
        for out in outputs:
            self._check_shape(func, out.shape)
            self._check_elements(func, out.numel())
        self._check_flops(func, meta_args, meta_kwargs, meta_out)

    def _check_pointwise(self, func, args, kwargs) -> None:
        """Element-wise ops: the output is the broadcast of the inputs, no meta replay needed."""
        shapes = [value.shape for value in _tensors_in(args) if isinstance(value, torch.Tensor)]
        if shapes:
            shape = torch.broadcast_shapes(*shapes)
            self._check_shape(func, shape)
            self._check_elements(func, math.prod(shape))

    @contextmanager
    def backward_pass(self):
        self.in_backward = True
        try:
            yield
        finally:
            self.in_backward = False

    def _check_shape(self, func, shape) -> None:
        """An empty tensor can still have huge dimensions (`zeros(10**8, 0, 10**6)`), and turning it
        into nested lists or text walks every one of them: count its empty dimensions as 1."""
        if 0 not in shape:
            return
        padded = 1
        for size in shape:
            padded *= max(size, 1)
        if padded > self.limits.max_tensor_elements:
            raise ProgramError(
                "limit",
                f"{_op_name(func)} would make an empty tensor of shape {tuple(shape)}; with its empty "
                f"dimensions counted as 1 that is {padded:,} elements, over the limit of "
                f"{self.limits.max_tensor_elements:,} per tensor",
            )

    def _check_elements(self, func, numel: int) -> None:
        limits = self.limits
        if numel > limits.max_tensor_elements:
            raise ProgramError(
                "limit",
                f"{_op_name(func)} would make a tensor of {numel:,} elements; "
                f"the limit is {limits.max_tensor_elements:,} per tensor",
            )
        self.total_elements += numel
        if self.total_elements > limits.max_total_elements:
            raise ProgramError(
                "limit",
                f"the program computed more than {limits.max_total_elements:,} tensor elements in total",
            )

    def _check_flops(self, func, meta_args, meta_kwargs, meta_out) -> None:
        formula = flop_registry.get(func._overloadpacket)
        if formula is None:
            return
        self.flops += formula(*meta_args, out_val=meta_out, **meta_kwargs)
        if self.flops > self.limits.max_matmul_flops:
            raise ProgramError(
                "limit",
                f"the program's matrix products need more than {self.limits.max_matmul_flops:,} "
                f"floating-point operations (at {_op_name(func)})",
            )


def _tensors_in(args) -> list:
    """The tensors among an aten op's positional arguments (flat, or in one level of list)."""
    found = []
    for value in args:
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(item for item in value if isinstance(item, torch.Tensor))
    return found


def _op_name(func) -> str:
    return str(func._overloadpacket).removeprefix("aten.")
