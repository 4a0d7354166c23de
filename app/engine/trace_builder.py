"""Turn a finished run into the `Trace` contract: nodes in creation order, steps, stats."""

from __future__ import annotations

from app.engine.graph import GraphBuilder, OpRecord, TensorRecord
from app.engine.values import summarize
from app.trace_model import (TRACE_VERSION, ForwardStep, GradCheck, OpNode, ParamUpdate, Stats, TensorNode, Trace,
                             UpdateStep)


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
        id=record.id, kind="tensor", name=name, names=list(record.names), label=name or record.label, role=_role(record),
        value=record.value, grad=_tensor_grad(graph, record), requires_grad=record.requires_grad,
        is_leaf=record.is_leaf, version=record.version, span=record.span, producer=record.producer,
    )


def _op_node(record: OpRecord) -> OpNode:
    return OpNode(
        id=record.id, kind="op", op=record.op, label=record.label, params=record.params, grad_fn=record.grad_fn_name,
        internal_grad_fns=[type(node).__name__ for node in record.internal_grad_fns], saved=record.saved,
        inplace=record.inplace, inputs=list(record.inputs), outputs=list(record.outputs), span=record.span,
        source=record.source, stack=list(record.stack), calls=list(record.calls), module=record.module,
        module_class=record.module_class, module_call=record.module_call, site=record.site, occurrence=record.occurrence,
    )


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


def _update_steps(run) -> list[UpdateStep]:
    preview = run.limits.value_preview_elements
    steps = []
    for record in run.updates.records:
        params = [ParamUpdate(
            name=change.name, before=summarize(change.before, preview),
            grad=None if change.grad is None else summarize(change.grad, preview),
            after=summarize(change.after if change.after is not None else change.before, preview),
            node_before=change.node_before, node_after=change.node_after,
            state={key: summarize(value, preview) for key, value in change.state.items()}, text=change.text,
        ) for change in record.changes]
        steps.append(UpdateStep(index=len(steps), pass_index=record.pass_index, kind=record.kind,
                                optimizer=record.optimizer, hyper=record.hyper, span=record.span, params=params,
                                cleared=list(record.cleared), zeroed_to=record.zeroed_to))
    return steps


def build_trace(run, info, gradcheck: GradCheck | None, elapsed_ms: float) -> Trace:
    """The trace of `run` (its graph, steps, updates) with what `info` saw of the whole program
    (output, warnings, every pass's summary): the same run, or the first of two runs."""
    graph = run.graph
    recorder = run.backward_recorder
    with run.paused():
        nodes = _nodes_in_creation_order(graph)
        updates = _update_steps(run)
    summaries = [summary.model_copy(update={"detailed": summary.index in run.plan.detailed})
                 for summary in info.summaries.items]
    return Trace(
        version=TRACE_VERSION,
        nodes=nodes,
        forward=[ForwardStep(index=i, op=op_id) for i, op_id in enumerate(graph.forward)],
        backward=recorder.steps,
        passes=[record.model for record in recorder.passes],
        summaries=summaries,
        summary_params=list(info.summaries.params),
        updates=updates,
        modules=dict(run.modules.classes),
        gradcheck=gradcheck,
        output=info.output.finish(),
        warnings=info.warnings,
        stats=Stats(
            statements=len(run.program.tree.body), ops=len(graph.ops), tensors=len(graph.tensors),
            backward_passes=info.completed_passes, backward_steps=len(recorder.steps),
            elapsed_ms=round(elapsed_ms, 3), runs=1 if run is info else 2,
        ),
    )
