"""Backward recording: what the autograd engine really does, in the order it does it.

Before each backward pass, a pre-hook and a hook are put on every autograd node reachable from the
root. The pre-hook sees the gradient arriving at the node (dJ/d output); the hook sees what the node
sends to each of its inputs. Nothing is predicted: the order of `steps` is the order the engine
called the hooks. The hooks are removed when the pass ends, so nothing outlives the trace.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Callable

import torch

from app.engine.graph import GraphBuilder
from app.engine.values import summarize
from app.trace_model import BackwardPass, BackwardStep, GradientFlow, Span


_KEEP_TENSOR_ELEMENTS = 65_536  # gradients kept for the teaching explanations: per tensor...
_KEEP_TOTAL_ELEMENTS = 2_000_000  # ...and per trace; larger ones are explained without numbers


@dataclass
class RawStep:
    """The real gradient tensors of one step (copies), for `app.teaching` to explain it with."""

    grad_in: tuple = ()
    grads_out: tuple = ()
    previous_grad: torch.Tensor | None = None  # AccumulateGrad: the leaf's `.grad` before this step


@dataclass
class PassRecord:
    model: BackwardPass
    root_tensor: torch.Tensor
    seed: torch.Tensor
    leaf_grads: dict[str, torch.Tensor] = field(default_factory=dict)  # dJ/d(leaf) in this pass


def _reachable_autograd_nodes(root_fns: list) -> list:
    found, seen, stack = [], set(), list(root_fns)
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return found


class BackwardRecorder:
    def __init__(self, graph: GraphBuilder, paused: Callable[[], AbstractContextManager],
                 code_span: Callable[[object], Span | None] = lambda code: None):
        self.graph = graph
        self.paused = paused
        self.code_span = code_span  # where a function of the program is written (None: not the program's)
        self.steps: list[BackwardStep] = []
        self.passes: list[PassRecord] = []
        self._preview = graph.limits.value_preview_elements
        self._open_steps: dict[int, BackwardStep] = {}  # id(autograd node) -> its step, until it finishes
        self.raw: dict[int, RawStep] = {}  # step index -> its gradient tensors
        self._kept_elements = 0

    def run(self, roots: list[torch.Tensor], seeds: list[torch.Tensor | None], call: Callable[[], object],
            span: Span | None, implicit: bool, retain_graph: bool | None = None, index: int | None = None):
        """Run `call()` (a `backward()` or `autograd.grad`) from `roots` with every step recorded.

        `index` is the pass's number among all the program's passes. torch's errors propagate
        unchanged; a pass that raised is kept, marked not completed, with the step that failed.
        """
        root = roots[0]
        root_id = self.graph.source_node(root)
        self.graph.tensors[root_id].is_root = True
        with self.paused():
            seed = seeds[0] if seeds and seeds[0] is not None else torch.ones_like(root)
            model = BackwardPass(index=len(self.passes) if index is None else index, root=root_id, seed=summarize(seed, self._preview),
                                 implicit=implicit, retain_graph=bool(retain_graph), span=span)
            record = PassRecord(model=model, root_tensor=root, seed=seed.detach())
        targets = self._autograd_targets()
        handles = []
        for node in _reachable_autograd_nodes([r.grad_fn for r in roots]):
            handles.append(node.register_prehook(self._prehook(node, record, targets)))
            handles.append(node.register_hook(self._hook(node, targets)))
        try:
            result = call()
        except BaseException:
            record.model.completed = False
            for step in self._open_steps.values():
                step.failed = True  # entered, never left: the node whose backward raised
            raise
        finally:
            for handle in handles:
                handle.remove()
            self._open_steps.clear()
            self.passes.append(record)
        return result

    def _custom_backward_span(self, node) -> Span | None:
        """A custom `autograd.Function`'s step runs the program's own `backward`: where it is written."""
        function = getattr(getattr(node, "_forward_cls", None), "backward", None)
        code = getattr(function, "__code__", None)
        return self.code_span(code) if code is not None else None

    def pass_record(self, index: int) -> PassRecord:
        """The recorded pass with this number among all the program's passes."""
        return next(record for record in self.passes if record.model.index == index)

    def _autograd_targets(self) -> dict[tuple[int, int], str]:
        return {r.autograd_key: r.id for r in self.graph.tensors.values() if r.autograd_key is not None}

    def _target_of(self, node, output_nr: int, targets) -> str | None:
        if node is None:
            return None
        if type(node).__name__ == "AccumulateGrad":
            return self.graph.node_of(node.variable)
        return targets.get((id(node), output_nr))

    def _prehook(self, node, record: PassRecord, targets):
        def prehook(grad_outputs):
            with self.paused():
                self._on_arrival(node, record, targets, grad_outputs)
        return prehook

    def _on_arrival(self, node, record: PassRecord, targets, grad_outputs) -> None:
        is_accumulate = type(node).__name__ == "AccumulateGrad"
        owner = self.graph.grad_fn_owner.get(id(node))
        if is_accumulate:
            node_id, kind = self.graph.node_of(node.variable), "accumulate"
            in_targets = [node_id]
        else:
            op = self.graph.ops.get(owner) if owner else None
            kind = "op" if op is not None and op.grad_fn is node else "internal"
            node_id = owner
            in_targets = [targets.get((id(node), nr)) if kind == "op" else None for nr in range(len(grad_outputs))]
        for target, grad in zip(in_targets, grad_outputs):
            if target is not None and grad is not None:
                self._add_to_tensor_grad(target, grad, record, is_accumulate)
        step = BackwardStep(
            index=len(self.steps), pass_index=record.model.index, node=node_id, grad_fn=type(node).__name__,
            kind=kind, grad_in=[self._summary(g) for g in grad_outputs], grad_in_targets=in_targets,
            span=self._custom_backward_span(node),
        )
        self.steps.append(step)
        record.model.steps.append(step.index)
        self.raw[step.index] = RawStep(grad_in=self._keep(grad_outputs),
                                       previous_grad=self._keep((node.variable.grad,))[0] if is_accumulate else None)
        self._open_steps[id(node)] = step

    def _add_to_tensor_grad(self, target: str, grad: torch.Tensor, record: PassRecord, is_leaf: bool) -> None:
        tensor_record = self.graph.tensors[target]
        grad = grad.detach()
        if tensor_record.grad_pass != record.model.index or tensor_record.grad_sum is None:
            tensor_record.grad_sum, tensor_record.grad_pass = grad.clone(), record.model.index  # a new pass
        else:
            tensor_record.grad_sum = tensor_record.grad_sum + grad  # another use of it in the same pass
        if is_leaf:
            previous = record.leaf_grads.get(target)
            record.leaf_grads[target] = grad.clone() if previous is None else previous + grad

    def _hook(self, node, targets):
        def hook(grad_inputs, grad_outputs):
            with self.paused():
                self._on_departure(node, targets, grad_inputs)
        return hook

    def _on_departure(self, node, targets, grad_inputs) -> None:
        step = self._open_steps.pop(id(node), None)
        if step is None:
            return
        self.raw[step.index].grads_out = self._keep(grad_inputs)
        if step.kind == "accumulate":
            variable = node.variable
            step.accumulated = self._summary(variable.grad)
            return
        step.grads_out = [
            GradientFlow(target=self._target_of(next_node, nr, targets), value=self._summary(grad))
            for (next_node, nr), grad in zip(node.next_functions, grad_inputs)
        ]

    def _keep(self, tensors) -> tuple:
        """Copies of small gradients (torch may reuse or change the originals), within a budget."""
        kept = []
        for tensor in tensors:
            size = 0 if tensor is None else tensor.numel()
            if tensor is None or size > _KEEP_TENSOR_ELEMENTS or self._kept_elements + size > _KEEP_TOTAL_ELEMENTS:
                kept.append(None)
                continue
            self._kept_elements += size
            kept.append(tensor.detach().clone())
        return tuple(kept)

    def _summary(self, tensor):
        return None if tensor is None else summarize(tensor, self._preview)
