"""The graph being built while a program runs: tensor nodes, op nodes, and the edges between them.

A tensor node is one *version* of a tensor object: an in-place op (`add_`, `x[0] = 1`) makes a new
node for the same object, so the picture shows the value before and after. Every tensor object the
program touches is kept alive until the trace is done, so Python never reuses its `id`.

Each op also keeps what is needed to run it again (`OpRecord.replay_args`), which is how the
gradient check recomputes J with a nudged leaf without re-running the program's side effects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch.utils._python_dispatch import _disable_current_modes
from torch.utils._pytree import tree_flatten, tree_map

from app.engine import labels
from app.engine.sites import Site
from app.engine.values import summarize
from app.errors import ProgramError
from app.settings import Limits
from app.trace_model import SavedValue, Span, TensorValue


@dataclass(frozen=True)
class TensorRef:
    """Stands for a tensor node inside a recorded op's arguments."""

    node: str


@dataclass
class TensorRecord:
    id: str
    tensor: torch.Tensor
    version: int
    label: str
    span: Span | None
    value: TensorValue
    requires_grad: bool
    is_leaf: bool
    producer: str | None = None
    names: list[str] = field(default_factory=list)
    snapshot: torch.Tensor | None = None  # the value when made, for replays (sources only)
    grad_sum: torch.Tensor | None = None  # dJ/d(tensor) in the last pass that reached it (summed within it)
    grad_pass: int | None = None  # which pass `grad_sum` is from
    is_root: bool = False
    autograd_key: tuple[int, int] | None = None  # (id(grad_fn), output_nr) when made by autograd


@dataclass
class OpRecord:
    id: str
    func: object
    func_name: str
    op: str
    label: str
    params: dict[str, str]
    inputs: list[str]
    outputs: list[str]
    output_positions: list[int]  # where each output tensor sits in the flattened result
    replay_args: tuple
    replay_kwargs: dict
    inplace: bool
    span: Span | None
    source: str | None
    stack: tuple[str, ...] = ()
    calls: tuple[int, ...] = ()
    module: str | None = None
    module_class: str | None = None
    module_call: int | None = None
    site: str = ""  # the same code position, call stack and op in every iteration
    occurrence: int = 0  # how many times this site ran before this op
    grad_fn: object | None = None
    grad_fn_name: str | None = None
    internal_grad_fns: list[object] = field(default_factory=list)
    saved: list[SavedValue] = field(default_factory=list)


class GraphBuilder:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.tensors: dict[str, TensorRecord] = {}
        self.ops: dict[str, OpRecord] = {}
        self.forward: list[str] = []
        self._site_ids: dict[tuple, str] = {}
        self._site_counts: dict[str, int] = {}
        self._current: dict[int, str] = {}  # id(tensor object) -> its latest node
        self._keep_alive: list[object] = []
        self.grad_fn_owner: dict[int, str] = {}  # id(autograd node) -> op id

    # --- tensors -------------------------------------------------------------------------
    def node_of(self, tensor: torch.Tensor) -> str | None:
        return self._current.get(id(tensor))

    def _new_tensor(self, tensor: torch.Tensor, label: str, span: Span | None, producer: str | None) -> str:
        node_id = f"t{len(self.tensors)}"
        is_source = producer is None or not tensor.requires_grad or tensor.is_leaf
        record = TensorRecord(
            id=node_id,
            tensor=tensor,
            version=tensor._version,
            label=label,
            span=span,
            value=summarize(tensor, self.limits.value_preview_elements),
            requires_grad=tensor.requires_grad,
            is_leaf=tensor.is_leaf,
            producer=producer,
            snapshot=tensor.detach().clone() if is_source else None,
        )
        if tensor.grad_fn is not None:
            record.autograd_key = (id(tensor.grad_fn), tensor.output_nr)
        self.tensors[node_id] = record
        self._current[id(tensor)] = node_id
        self._keep_alive.append(tensor)
        return node_id

    def source_node(self, tensor: torch.Tensor, name: str | None = None, site: Site | None = None,
                    refresh: bool = True) -> str:
        """The node for a tensor used as an input: known, or a new source node (named if we can).

        A known tensor changed in place where no op was recorded (an optimizer's step, a pass kept
        only as a summary) gets a new node with its value now; the new version keeps its names."""
        node_id = self.node_of(tensor)
        if node_id is not None:
            known = self.tensors[node_id]
            if known.version == tensor._version or not refresh:
                return node_id
            node_id = self._new_tensor(tensor, known.label, known.span, producer=None)
            self.tensors[node_id].names = list(known.names)
            return node_id
        node_id = self._new_tensor(tensor, name or "tensor", site.span if site else None, producer=None)
        if name:
            self.tensors[node_id].names.append(name)
        return node_id

    def bind_name(self, tensor: torch.Tensor, name: str) -> None:
        """`name` now refers to this tensor (its latest node); a tensor the graph never used is skipped."""
        node_id = self.node_of(tensor)
        if node_id is None:
            return
        self.name_node(node_id, name)

    def name_node(self, node_id: str, name: str) -> None:
        record = self.tensors[node_id]
        if name not in record.names:
            record.names.append(name)
        elif record.names[-1] != name:
            record.names.remove(name)
            record.names.append(name)

    def refresh_flags(self, tensor: torch.Tensor) -> None:
        """After `requires_grad_()` or `Variable(..., requires_grad=True)`: same node, new flags."""
        node_id = self.node_of(tensor)
        if node_id is None:
            return
        record = self.tensors[node_id]
        record.requires_grad = tensor.requires_grad
        record.is_leaf = tensor.is_leaf
        if record.snapshot is None and tensor.is_leaf:
            record.snapshot = tensor.detach().clone()

    # --- ops -----------------------------------------------------------------------------
    def unname_node(self, node_id: str, name: str) -> None:
        names = self.tensors[node_id].names
        if name in names:
            names.remove(name)

    def record_op(self, func, args, kwargs, result, site: Site | None, name_of=None,
                  module: tuple[str, str, int] | None = None, op_name: str | None = None) -> OpRecord:
        """Record one call. `name_of(tensor)` names a source tensor the graph has not seen yet."""
        if len(self.ops) >= self.limits.max_ops:
            raise ProgramError("limit", f"the program ran more than {self.limits.max_ops:,} tensor operations",
                               key="limit_ops", count=self.limits.max_ops)
        flat_in, _ = tree_flatten((args, kwargs))
        input_tensors = [value for value in flat_in if isinstance(value, torch.Tensor)]
        flat_out, _ = tree_flatten(result)
        outputs = [(position, value) for position, value in enumerate(flat_out) if isinstance(value, torch.Tensor)]
        # This op's own in-place change already moved its target's version: not a change from outside.
        changed_here = {id(out) for _, out in outputs} | ({id(args[0])} if getattr(func, "__name__", "") == "__setitem__" else set())
        inputs = [self.source_node(tensor, name_of(tensor) if name_of and self.node_of(tensor) is None else None, site,
                                   refresh=id(tensor) not in changed_here)
                  for tensor in input_tensors]
        inplace = any(out is tensor for _, out in outputs for tensor in input_tensors)

        op_id = f"o{len(self.ops)}"
        func_name = op_name or getattr(func, "__name__", str(func))
        op = op_name or labels.canonical_name(func)
        if func_name == "__setitem__":
            inplace = True
            outputs = [(0, args[0])]
        params = labels.params_of(args, kwargs)
        index_text = labels.index_text(site.text) if op == "index" and site else None
        record = OpRecord(
            id=op_id, func=func, func_name=func_name, op=op,
            label=labels.display_label(func_name, op, params, index_text), params=params,
            inputs=inputs, outputs=[], output_positions=[position for position, _ in outputs],
            replay_args=self._replay_template(args), replay_kwargs=self._replay_template(kwargs or {}),
            inplace=inplace, span=site.span if site else None, source=site.text if site else None,
            stack=site.stack if site else (), calls=site.calls if site else (), module=module[0] if module else None,
            module_class=module[1] if module else None, module_call=module[2] if module else None,
        )
        record.site, record.occurrence = self._site_of(site, op, module)
        self.ops[op_id] = record
        self.forward.append(op_id)
        label = labels.shorten((site.text if site else None) or op)
        previous = {id(t): self._current.get(id(t)) for _, t in outputs} if inplace else {}
        for _, tensor in outputs:
            node_id = self._new_tensor(tensor, label, record.span, producer=op_id)
            record.outputs.append(node_id)
            if previous.get(id(tensor)):  # an in-place change: the new version keeps the names
                self.tensors[node_id].names = list(self.tensors[previous[id(tensor)]].names)
        self._attach_autograd(record, [tensor for _, tensor in outputs], input_tensors)
        return record

    def _site_of(self, site: Site | None, op: str, module: tuple[str, str, int] | None) -> tuple[str, int]:
        """A short stable id for (code position, call stack, module, op), and this op's occurrence of it."""
        span = site.span if site else None
        key = ((span.line, span.col, span.end_line, span.end_col) if span else None,
               site.stack if site else (), module[0] if module else None, op)
        site_id = self._site_ids.setdefault(key, f"s{len(self._site_ids)}")
        occurrence = self._site_counts.get(site_id, 0)
        self._site_counts[site_id] = occurrence + 1
        return site_id, occurrence

    def _replay_template(self, value):
        return tree_map(lambda v: TensorRef(self._current[id(v)]) if isinstance(v, torch.Tensor) else v, value)

    def _attach_autograd(self, record: OpRecord, outputs: list[torch.Tensor], inputs: list[torch.Tensor]) -> None:
        grad_fns = [t.grad_fn for t in outputs if t.grad_fn is not None]
        if not grad_fns:
            return
        record.grad_fn = grad_fns[0]
        record.grad_fn_name = type(grad_fns[0]).__name__
        record.saved = saved_values(grad_fns[0], self)
        # The inputs' autograd nodes as they were before this call: an in-place op has already
        # given its input object the new node, which must still count as this op's own.
        known = {self.tensors[node_id].autograd_key[0] for node_id in record.inputs
                 if self.tensors[node_id].autograd_key is not None}
        for grad_fn in _owned_autograd_nodes(grad_fns, known):
            self.grad_fn_owner[id(grad_fn)] = record.id
            self._keep_alive.append(grad_fn)
            if grad_fn not in grad_fns:
                record.internal_grad_fns.append(grad_fn)


def _owned_autograd_nodes(start: list, known: set[int], cap: int = 64) -> list:
    """The autograd nodes one call created: from its outputs back to its inputs' nodes."""
    owned, seen, queue = [], set(), list(start)
    while queue and len(owned) < cap:
        node = queue.pop(0)
        if node is None or id(node) in seen or id(node) in known or type(node).__name__ == "AccumulateGrad":
            continue
        seen.add(id(node))
        owned.append(node)
        queue.extend(next_node for next_node, _ in node.next_functions)
    return owned


_SAVED_ATTRIBUTES: dict[type, list[str]] = {}


def saved_values(grad_fn, graph: GraphBuilder) -> list[SavedValue]:
    """What an autograd node saved for backward, read now, before backward frees it."""
    kind = type(grad_fn)
    if kind not in _SAVED_ATTRIBUTES:
        _SAVED_ATTRIBUTES[kind] = [name for name in dir(grad_fn) if name.startswith("_saved_")]
    saved = []
    for attribute in _SAVED_ATTRIBUTES[kind]:
        try:
            value = getattr(grad_fn, attribute)
        except RuntimeError:
            continue
        name = attribute.removeprefix("_saved_")
        if isinstance(value, torch.Tensor):
            saved.append(_saved_tensor(name, value, graph))
        else:
            saved.append(SavedValue(name=name, text=labels.short_text(value, 60)))
    return saved


def _saved_tensor(name: str, value: torch.Tensor, graph: GraphBuilder) -> SavedValue:
    try:
        summary = summarize(value, graph.limits.value_preview_elements)
    except RuntimeError:  # a Python scalar torch wrapped as a tensor (`w * 3` saves the 3)
        with _disable_current_modes():  # such tensors cannot pass through a dispatch mode
            return SavedValue(name=name, text=labels.short_text(value.item(), 60))
    return SavedValue(name=name, tensor=summary, node=graph.node_of(value))
