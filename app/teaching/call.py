"""One recorded op as a rule sees it: its arguments with the forward values, and the gradients arriving.

Rules are written against the call as the program meant it: `1 - x` (`__rsub__(x, 1)` for torch) is
`sub(1, x)`, so operand 0 is always the left-hand side. A value the rule needs but the trace no
longer has (the tensor was changed in place afterwards) raises `Unavailable`: the explanation then
keeps its symbols and leaves the numbers out instead of showing wrong ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils._pytree import tree_flatten, tree_map

from app.engine.graph import GraphBuilder, OpRecord, TensorRef
from app.engine.labels import REVERSED


class Unavailable(Exception):
    """A forward value the rule needs was not kept."""


@dataclass
class Operand:
    """A tensor argument: its node and its forward value (None when it was not kept)."""

    node: str
    value: torch.Tensor | None


def forward_value(graph: GraphBuilder, node_id: str) -> torch.Tensor | None:
    """The tensor's value when its node was made: the live tensor if nothing changed it since."""
    record = graph.tensors[node_id]
    if record.tensor._version == record.version:
        return record.tensor.detach()
    return record.snapshot


@dataclass
class Call:
    op: str
    func_name: str
    args: list  # operands (Operand) and plain values, in the program's order
    kwargs: dict
    outputs: list[torch.Tensor | None]
    grads: list[torch.Tensor | None]  # arriving at the op, one per output
    op_id: str = ""
    k: int = 0  # the list element a variadic rule is working on

    # --- arguments -----------------------------------------------------------------------
    def arg(self, position: int, keyword: str | None = None, default=None):
        """A plain argument by position or keyword; operands come back as Operand."""
        if keyword is not None and keyword in self.kwargs:
            return self.kwargs[keyword]
        return self.args[position] if position < len(self.args) else default

    def is_operand(self, position: int) -> bool:
        return isinstance(self.arg(position), Operand)

    def value(self, position: int, keyword: str | None = None) -> torch.Tensor:
        """An operand's forward value, or a number as-is (`x * 3`)."""
        item = self.arg(position, keyword)
        if isinstance(item, Operand):
            if item.value is None:
                raise Unavailable(item.node)
            return item.value
        return item

    @property
    def a(self):
        return self.value(0)

    @property
    def b(self):
        return self.value(1)

    @property
    def y(self) -> torch.Tensor:
        if self.outputs[0] is None:
            raise Unavailable("output")
        return self.outputs[0]

    @property
    def g(self) -> torch.Tensor:
        """dJ/d(output 0); a gradient that did not arrive is zeros, as torch treats it."""
        return self.grad(0)

    def grad(self, index: int) -> torch.Tensor:
        grad = self.grads[index] if index < len(self.grads) else None
        if grad is not None:
            return grad
        output = self.outputs[index] if index < len(self.outputs) else None
        if output is None:
            raise Unavailable("gradient")
        return torch.zeros_like(output)


def _swap_reversed(func_name: str, args: tuple) -> tuple:
    if func_name in REVERSED and len(args) >= 2:
        return (args[1], args[0]) + tuple(args[2:])
    return args


def build_call(graph: GraphBuilder, op: OpRecord, grads: list[torch.Tensor | None]) -> Call:
    """The op's arguments with TensorRefs replaced by Operands holding the forward values."""
    def resolve(item):
        return Operand(item.node, forward_value(graph, item.node)) if isinstance(item, TensorRef) else item

    args = [tree_map(resolve, a, is_leaf=lambda x: isinstance(x, TensorRef)) for a in op.replay_args]
    kwargs = {k: tree_map(resolve, v, is_leaf=lambda x: isinstance(x, TensorRef)) for k, v in op.replay_kwargs.items()}
    outputs = [forward_value(graph, node_id) for node_id in op.outputs]
    return Call(op=op.op, func_name=op.func_name, op_id=op.id, args=list(_swap_reversed(op.func_name, tuple(args))),
                kwargs=kwargs, outputs=outputs, grads=list(grads))


def operand_positions(call: Call) -> list[tuple[object, Operand]]:
    """Every operand with where it sits: an argument position, a keyword, or (position, index) in a list.

    The order is the order of the op's `inputs` (torch's flattening order) for calls that were not
    reversed, which is how an input of the op is matched with the rule's gradient for it.
    """
    found: list[tuple[object, Operand]] = []
    for position, item in enumerate(call.args):
        if isinstance(item, Operand):
            found.append((position, item))
        elif isinstance(item, (list, tuple)):
            found.extend(((position, i), x) for i, x in enumerate(item) if isinstance(x, Operand))
    for keyword, item in call.kwargs.items():
        if isinstance(item, Operand):
            found.append((keyword, item))
    return found


def flat_operands(op: OpRecord) -> list[str]:
    """The op's inputs in torch's order (a check that `operand_positions` agrees with the record)."""
    flat, _ = tree_flatten((op.replay_args, op.replay_kwargs))
    return [item.node for item in flat if isinstance(item, TensorRef)]
