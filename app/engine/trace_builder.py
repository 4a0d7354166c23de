"""Turn a finished run into the `Trace` contract: nodes in creation order, edges, steps, stats."""

from __future__ import annotations

from app.engine.graph import GraphBuilder, OpRecord, TensorRecord
from app.engine.values import summarize
from app.trace_model import Edge, ForwardStep, GradCheck, OpNode, Stats, TensorNode, Trace


def _role(record: TensorRecord) -> str:
    if record.is_root:
        return "root"
    if not record.requires_grad:
        return "constant"
    return "param" if record.is_leaf else "intermediate"


def _tensor_grad(graph: GraphBuilder, record: TensorRecord):
    """Leaves: `.grad` as torch holds it at the end. Others: dJ/d(tensor) summed over passes."""
    preview = graph.limits.value_preview_elements
    is_current = graph.node_of(record.tensor) == record.id
    if record.is_leaf and record.requires_grad and is_current:
        grad = record.tensor.grad
        return None if grad is None else summarize(grad, preview)
    return None if record.grad_sum is None else summarize(record.grad_sum, preview)


def _tensor_node(graph: GraphBuilder, record: TensorRecord) -> TensorNode:
    name = record.names[-1] if record.names else None
    return TensorNode(
        id=record.id, name=name, names=list(record.names), label=name or record.label, role=_role(record),
        value=record.value, grad=_tensor_grad(graph, record), requires_grad=record.requires_grad,
        is_leaf=record.is_leaf, version=record.version, span=record.span, producer=record.producer,
    )


def _op_node(record: OpRecord) -> OpNode:
    return OpNode(
        id=record.id, op=record.op, label=record.label, params=record.params, grad_fn=record.grad_fn_name,
        internal_grad_fns=[type(node).__name__ for node in record.internal_grad_fns], saved=record.saved,
        inplace=record.inplace, inputs=list(record.inputs), outputs=list(record.outputs), span=record.span,
        source=record.source, stack=list(record.stack), module=record.module, module_class=record.module_class,
        site=record.site, occurrence=record.occurrence,
    )


def _edges(graph: GraphBuilder) -> list[Edge]:
    edges = []
    for op in graph.ops.values():
        edges.extend(Edge(source=t, target=op.id, kind="input", index=i) for i, t in enumerate(op.inputs))
        edges.extend(Edge(source=op.id, target=t, kind="output", index=i) for i, t in enumerate(op.outputs))
    return edges


def _nodes_in_creation_order(graph: GraphBuilder) -> list:
    """Each op right before its outputs, each source tensor where it was first used."""
    ordered, placed = [], set()
    for record in graph.tensors.values():
        if record.producer is not None and record.producer not in placed:
            placed.add(record.producer)
            ordered.append(_op_node(graph.ops[record.producer]))
        ordered.append(_tensor_node(graph, record))
    ordered.extend(_op_node(op) for op in graph.ops.values() if op.id not in placed)
    return ordered


def build_trace(run, statements: int, gradcheck: GradCheck | None, elapsed_ms: float) -> Trace:
    graph = run.graph
    recorder = run.backward_recorder
    with run.paused():
        nodes = _nodes_in_creation_order(graph)
    return Trace(
        nodes=nodes,
        edges=_edges(graph),
        forward=[ForwardStep(index=i, op=op_id) for i, op_id in enumerate(graph.forward)],
        backward=recorder.steps,
        passes=[record.model for record in recorder.passes],
        gradcheck=gradcheck,
        output=run.output.finish(),
        warnings=run.warnings,
        stats=Stats(
            statements=statements, ops=len(graph.ops), tensors=len(graph.tensors),
            backward_passes=len(recorder.passes), backward_steps=len(recorder.steps),
            elapsed_ms=round(elapsed_ms, 3),
        ),
    )
