"""The lesson's `eps` experiment, for every leaf: nudge one element, see how much J moves.

J is recomputed by replaying the recorded ops from the leaves to the root (not by re-running the
program, whose prints and backward calls must happen once). Tensors that need no grad are read
from their recorded values, so a `detach()` cuts the replay exactly where it cuts autograd.

Two estimates per element, beside autograd's value:
- forward: (J(w+eps) - J(w)) / eps in the program's own dtype, what the lesson computes by hand
  (about -27.99 for the lesson, float32 rounding included);
- central: (J(w+eps) - J(w-eps)) / (2 eps) in float64, the accurate one the error is measured against.
"""

from __future__ import annotations

import itertools

import torch
from torch.utils._pytree import tree_flatten, tree_map

from app.engine.backward import PassRecord
from app.engine.graph import GraphBuilder, OpRecord, TensorRef
from app.engine.values import json_number
from app.errors import ProgramError
from app.trace_model import GradCheck, GradCheckElement, GradCheckLeaf, Message

_REPLAY_OP_BUDGET = 20_000  # op replays per root: a 1,000-op graph checks 6 elements, the lesson all


def _needed_ops(graph: GraphBuilder, root_id: str) -> list[OpRecord]:
    """The ops between the leaves and the root that carry gradient, in execution order."""
    needed: set[str] = set()
    stack = [root_id]
    while stack:
        tensor = graph.tensors[stack.pop()]
        if tensor.producer is None or not tensor.requires_grad or tensor.is_leaf or tensor.producer in needed:
            continue
        needed.add(tensor.producer)
        stack.extend(graph.ops[tensor.producer].inputs)
    return [graph.ops[op_id] for op_id in graph.forward if op_id in needed]


class Replay:
    """Recompute the root from leaf values, without recording and without autograd."""

    def __init__(self, graph: GraphBuilder, root_id: str, seed: torch.Tensor):
        self.graph = graph
        self.root_id = root_id
        self.seed = seed
        self.ops = _needed_ops(graph, root_id)

    def objective(self, overrides: dict[str, torch.Tensor], float64: bool) -> float:
        values: dict[str, torch.Tensor] = {}

        def fetch(ref):
            if not isinstance(ref, TensorRef):
                return ref
            if ref.node not in values:
                source = overrides.get(ref.node)
                if source is None:
                    source = self.graph.tensors[ref.node].snapshot
                if source is None:
                    raise ProgramError("runtime", "a value needed to recompute J was not recorded")
                values[ref.node] = source.double() if float64 and source.is_floating_point() else source
            return values[ref.node]

        with torch.no_grad():
            for op in self.ops:
                self._run_op(op, fetch, values)
            root = fetch(TensorRef(self.root_id))
            seed = self.seed.double() if float64 else self.seed.to(root.dtype)
            return float((root * seed).sum())

    @staticmethod
    def _run_op(op: OpRecord, fetch, values: dict) -> None:
        args = tree_map(fetch, op.replay_args)
        kwargs = tree_map(fetch, op.replay_kwargs)
        if op.inplace:  # never change a recorded value: work on a copy of the changed tensor
            args = (args[0].clone(),) + tuple(args[1:])
        result = op.func(*args, **kwargs)
        if op.func_name == "__setitem__":
            result = args[0]
        flat, _ = tree_flatten(result)
        for node_id, position in zip(op.outputs, op.output_positions):
            values[node_id] = flat[position] if op.func_name != "__setitem__" else result


def _element_indices(shape: torch.Size, limit: int) -> list[tuple[int, ...]]:
    return list(itertools.islice(itertools.product(*(range(size) for size in shape)), limit))


def _check_leaf(replay: Replay, leaf_id: str, autograd_grad: torch.Tensor, eps: float, limit: int,
                base: tuple[float, float], deadline) -> tuple[list[GradCheckElement], bool]:
    leaf = replay.graph.tensors[leaf_id].snapshot
    indices = _element_indices(leaf.shape, limit)
    elements = []
    base_own, base_64 = base
    for index in indices:
        deadline.check()
        plus = leaf.clone()
        plus[index] += eps
        plus_64, minus_64 = leaf.double().clone(), leaf.double().clone()
        plus_64[index] += eps
        minus_64[index] -= eps
        j_plus = replay.objective({leaf_id: plus}, float64=False)
        central = (replay.objective({leaf_id: plus_64}, True) - replay.objective({leaf_id: minus_64}, True)) / (2 * eps)
        autograd_value = float(autograd_grad[index]) if autograd_grad is not None else None
        elements.append(GradCheckElement(
            index=list(index),
            autograd=json_number(autograd_value) if autograd_value is not None else None,
            forward=json_number((j_plus - base_own) / eps),
            central=json_number(central),
            delta=json_number(j_plus - base_own),
            abs_error=json_number(abs(autograd_value - central)) if autograd_value is not None else None,
        ))
    return elements, len(indices) < leaf.numel()


def check_gradients(graph: GraphBuilder, passes: list[PassRecord], eps: float, deadline, paused) -> GradCheck:
    """Finite differences for every leaf that received a gradient in the first pass that gave any.

    Later passes (a training loop's) have other roots and other leaf values; checking one pass is
    the lesson's experiment, and checking hundreds would cost hundreds of replays."""
    result = GradCheck(eps=eps)
    done: set[str] = set()
    budget = graph.limits.gradcheck_max_elements
    with paused():
        for record in passes:
            root_id = record.model.root
            if not record.leaf_grads or root_id in done:
                continue
            if done:
                break
            done.add(root_id)
            try:
                replay = Replay(graph, root_id, record.seed)
                base = (replay.objective({}, float64=False), replay.objective({}, float64=True))
            except ProgramError:
                raise
            except Exception as error:
                result.note = Message(key="gradcheck_not_recomputed", params={"error": str(error)[:300]})
                continue
            per_element_cost = 3 * max(1, len(replay.ops))
            limit = max(1, min(budget, _REPLAY_OP_BUDGET // per_element_cost))
            for leaf_id, autograd_grad in record.leaf_grads.items():
                leaf = graph.tensors[leaf_id]
                if leaf.snapshot is None or not leaf.snapshot.is_floating_point():
                    continue
                elements, truncated = _check_leaf(replay, leaf_id, autograd_grad, eps, limit, base, deadline)
                errors = [e.abs_error for e in elements if isinstance(e.abs_error, float)]
                result.leaves.append(GradCheckLeaf(
                    leaf=leaf_id, name=leaf.names[-1] if leaf.names else leaf.label, root=root_id,
                    pass_index=record.model.index, elements=elements, truncated=truncated,
                    max_abs_error=json_number(max(errors)) if errors else None,
                ))
    return result
