"""Explain each backward step: the local rule in symbols, with the step's numbers, and the result.

Runs once at the end of a trace, on what the backward recorder kept: the real gradients of each step
(`BackwardRecorder.raw`) and the forward values of the graph. Before a rule is shown, its result is
compared with the gradient torch actually sent to each input (summed over the op's autograd nodes),
so a rule that does not fit a call is replaced by "rule not documented yet", never shown wrong.

Work is capped: at most `MAX_STEPS` steps get an explanation, numbers are evaluated only for small
enough tensors and within `NUMBERS_BUDGET_S`; past that, explanations keep their symbols only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from app.engine.graph import OpRecord
from app.teaching import notation
from app.teaching.call import Call, Operand, Unavailable, build_call, operand_positions
from app.teaching.rules import Grad, Rule, find_rule
from app.teaching.shapes import broadcast_dims, sum_to
from app.trace_model import BackwardStep, ExplanationLine, GradSum, GradTerm, Message, StepExplanation

MAX_STEPS = 500
MAX_NUMBERS_ELEMENTS = 200_000  # inputs and outputs of one op, above which no numbers are computed
NUMBERS_BUDGET_S = 0.5


@dataclass
class Flow:
    step: int
    op: str | None
    value: torch.Tensor | None


@dataclass
class Context:
    """What every step's explanation reads: the graph, the kept gradients, who sent what to whom."""

    run: object
    contributions: dict[tuple[int, str], list[Flow]] = field(default_factory=dict)  # (pass, tensor) -> flows
    op_flows: dict[tuple[int, str], dict[str, list[Flow]]] = field(default_factory=dict)  # (pass, op) -> target -> flows
    op_steps: dict[tuple[int, str], int] = field(default_factory=dict)  # (pass, op) -> its "op" step
    started: float = field(default_factory=time.perf_counter)
    same: dict[str, str] = field(default_factory=dict)  # node -> the first node of the same tensor value

    def canonical(self, node_id: str | None) -> str | None:
        """Ops that return their input (`m.float()` on a float tensor) give one tensor two nodes;
        autograd sees one, so gradients are matched on the first of them."""
        return self.same.get(node_id, node_id) if node_id is not None else None

    @property
    def graph(self):
        return self.run.graph

    def symbol(self, node_id: str) -> str:
        """The tensor's name; versions made by in-place changes are primed (h, h′, h″)."""
        record = self.graph.tensors[node_id]
        return notation.name(record.names[-1] if record.names else record.label, node_id) + notation.prime(record.version)

    def root_symbol(self, pass_index: int) -> str:
        return self.symbol(self.run.backward_recorder.pass_record(pass_index).model.root)

    def numbers_allowed(self) -> bool:
        return time.perf_counter() - self.started < NUMBERS_BUDGET_S


def _index_aliases(context: Context) -> None:
    first: dict[tuple[int, int], str] = {}
    for record in context.graph.tensors.values():
        key = (id(record.tensor), record.version)
        context.same[record.id] = first.setdefault(key, record.id)


def _index_flows(context: Context) -> None:
    recorder = context.run.backward_recorder
    for step in recorder.steps:
        raw = recorder.raw.get(step.index)
        if step.kind == "op":
            context.op_steps.setdefault((step.pass_index, step.node), step.index)
        for j, flow in enumerate(step.grads_out):
            if flow.target is None or flow.value is None:
                continue
            value = raw.grads_out[j] if raw is not None and j < len(raw.grads_out) else None
            item = Flow(step.index, step.node if step.kind != "accumulate" else None, value)
            target = context.canonical(flow.target)
            context.contributions.setdefault((step.pass_index, target), []).append(item)
            if step.kind != "accumulate":
                targets = context.op_flows.setdefault((step.pass_index, step.node), {})
                targets.setdefault(target, []).append(item)


def explain_steps(run) -> None:
    """Set `explanation` on the run's backward steps (the first MAX_STEPS of them)."""
    context = Context(run)
    _index_aliases(context)
    _index_flows(context)
    for step in run.backward_recorder.steps[:MAX_STEPS]:
        try:
            step.explanation = _explain(context, step)
        except Exception:  # a teaching aid must never break a trace
            step.explanation = StepExplanation(documented=False, notes=[Message(key="explanation_failed")])


def _explain(context: Context, step: BackwardStep) -> StepExplanation:
    if step.kind == "accumulate":
        return _explain_accumulate(context, step)
    op = context.graph.ops.get(step.node) if step.node else None
    if op is None:
        return StepExplanation(documented=False, notes=[Message(key="rule_not_documented", params={"op": step.grad_fn})])
    if step.kind == "internal":
        return _explain_internal(context, step, op)
    return _explain_op(context, step, op)


# --- gradients arriving and their sums -------------------------------------------------------------
def _sum(values: list[torch.Tensor | None]) -> torch.Tensor | None:
    if not values or any(v is None for v in values):
        return None
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def _incoming(context: Context, step: BackwardStep, targets: list[str | None]) -> tuple[GradSum | None, list[Message]]:
    """The arriving gradient as a sum when a tensor got several contributions; the seed note at the root."""
    notes: list[Message] = []
    root = context.run.backward_recorder.pass_record(step.pass_index).model.root
    raw = context.run.backward_recorder.raw.get(step.index)
    for position, target in enumerate(targets):
        if target is None:
            continue
        if target == root:
            seed = raw.grad_in[position] if raw is not None and position < len(raw.grad_in) else None
            notes.append(Message(key="seed", params={"root": context.symbol(root), "value": notation.tensor(seed)}))
        flows = context.contributions.get((step.pass_index, context.canonical(target)), [])
        if len(flows) > 1:
            notes.append(Message(key="sum_of_contributions", params={"tensor": context.symbol(target), "count": len(flows)}))
            return _grad_sum(context, step.pass_index, target, flows), notes
    return None, notes


def _grad_sum(context: Context, pass_index: int, target: str, flows: list[Flow]) -> GradSum:
    symbol = notation.gradient(context.root_symbol(pass_index), context.symbol(target))
    terms = [GradTerm(step=f.step, op=f.op, value=notation.tensor(f.value) if f.value is not None else "…") for f in flows]
    total = _sum([f.value for f in flows])
    total_text = notation.tensor(total) if total is not None else "…"
    text = notation.join(symbol, " + ".join(t.value for t in terms), total_text)
    return GradSum(target=target, symbol=symbol, terms=terms, total=total_text, text=text)


# --- op steps ----------------------------------------------------------------------------------------
def _arriving(context: Context, step: BackwardStep, op: OpRecord) -> list[torch.Tensor | None]:
    """The gradient arriving for each output of the op, in the op's output order."""
    raw = context.run.backward_recorder.raw.get(step.index)
    grads = list(raw.grad_in) if raw is not None else []
    by_target = {context.canonical(target): grad for target, grad in zip(step.grad_in_targets, grads)}
    return [by_target.get(context.canonical(out_id)) for out_id in op.outputs]


def _small_enough(call: Call) -> bool:
    sizes = [o.numel() for o in call.outputs if o is not None]
    sizes += [item.value.numel() for _, item in operand_positions(call) if item.value is not None]
    return sum(sizes) <= MAX_NUMBERS_ELEMENTS


def _explain_op(context: Context, step: BackwardStep, op: OpRecord) -> StepExplanation:
    grads = _arriving(context, step, op)
    call = build_call(context.graph, op, grads)
    incoming, notes = _incoming(context, step, list(step.grad_in_targets))
    rule = find_rule(call)
    if rule is None:
        notes.append(Message(key="rule_not_documented", params={"op": op.op}))
        return StepExplanation(documented=False, incoming=incoming, notes=notes)
    with_numbers = context.numbers_allowed() and _small_enough(call) and all(g is not None for g in grads if g is not None)
    lines, results = _lines(context, step, op, call, rule, with_numbers)
    verified = _verify(context, step, op, lines, results) if with_numbers else None
    if verified is False:
        notes.append(Message(key="rule_unverified", params={"op": op.op}))
        return StepExplanation(documented=False, rule=rule.id, incoming=incoming, notes=notes, verified=False)
    general = _general(rule, call)
    return StepExplanation(documented=True, rule=rule.id, general=general, lines=lines, incoming=incoming,
                           notes=notes, verified=verified)


def _lines(context: Context, step: BackwardStep, op: OpRecord, call: Call, rule: Rule,
           with_numbers: bool) -> tuple[list[ExplanationLine], list[torch.Tensor | None]]:
    root = context.root_symbol(step.pass_index)
    operands = operand_positions(call)
    targets = op.inputs if len(op.inputs) == len(operands) else [item.node for _, item in operands]
    lines, results = [], []
    for index, ((position, operand), target) in enumerate(zip(operands, targets)):
        line, result = _line(context, root, call, rule, position, operand, target, index, with_numbers)
        lines.append(line)
        results.append(result)
    return lines, results


def _grad_spec(rule: Rule, call: Call, position) -> tuple[Grad | None, Call]:
    if isinstance(position, tuple):
        call.k = position[1]
        return rule.each, call
    return rule.grads.get(position), call


def _line(context: Context, root: str, call: Call, rule: Rule, position, operand: Operand, target: str,
          index: int, with_numbers: bool) -> tuple[ExplanationLine, torch.Tensor | None]:
    symbol = notation.gradient(root, context.symbol(target))
    record = context.graph.tensors[target]
    spec, call = _grad_spec(rule, call, position)
    if spec is None:
        note = Message(key="not_differentiable", params={"tensor": context.symbol(target)})
        return ExplanationLine(input=index, target=target, symbol=symbol, notes=[note]), None
    if not record.requires_grad:
        note = Message(key="no_grad_needed", params={"tensor": context.symbol(target)})
        return ExplanationLine(input=index, target=target, symbol=symbol, notes=[note]), None
    template = (spec.special(call) if spec.special else None) or spec.template
    formula = _render(template, _symbols(context, root, call, rule, names=True))
    substituted = result = None
    notes: list[Message] = []
    value = None
    if with_numbers:
        try:
            substituted = _render(template, _symbols(context, root, call, rule, names=False))
            value = spec.compute(call)
        except Unavailable:
            substituted, value = None, None
            notes.append(Message(key="numbers_unavailable"))
    shape = operand.value.shape if operand.value is not None else None
    if spec.broadcast and shape is not None and value is not None and tuple(value.shape) != tuple(shape):
        dims = broadcast_dims(value.shape, shape)
        notes.append(Message(key="broadcast_sum", params={
            "tensor": context.symbol(target), "shape": notation.shape_text(shape),
            "broadcast_shape": notation.shape_text(value.shape), "dims": ",".join(map(str, dims))}))
        formula = notation.reduced_sum(dims, formula)
        substituted = notation.reduced_sum(dims, substituted) if substituted else None
        value = sum_to(value, shape)
    if value is not None:
        result = notation.tensor(value)
    text = notation.join(symbol, formula, substituted, result)
    return ExplanationLine(input=index, target=target, symbol=symbol, formula=formula, substituted=substituted,
                           result=result, text=text, notes=notes), value


def _general(rule: Rule, call: Call) -> list[str]:
    """The textbook form of each operand's rule: dJ/da = dJ/dy · n·a^(n−1)."""
    letters = {0: "a", 1: "b", 2: "c"}
    symbols = {"g": "dJ/dy", "gs": "dJ/dy₀, dJ/dy₁, …", "y": "y", "x": "x", "a": "a", "b": "b", "c": "c"}
    symbols.update(rule.generic)
    try:
        symbols.update({k: v for k, v in (rule.symbols(call) if rule.symbols else {}).items() if k not in rule.generic})
    except Exception:
        pass
    forms = []
    for position, spec in rule.grads.items():
        if spec is not None and position in letters:
            forms.append(f"dJ/d{symbols[letters[position]]} = {_render(spec.template, symbols)}")
    if rule.each is not None:
        forms.append(f"dJ/dx = {_render(rule.each.template, symbols)}")
    return forms


class _Symbols(dict):
    """Template symbols computed on demand, so a missing value only matters if the template uses it."""

    def __init__(self, compute):
        super().__init__()
        self.compute = compute

    def __missing__(self, key):
        value = self.compute(key)
        self[key] = value
        return value


def _render(template: str, symbols) -> str:
    return template.format_map(symbols)


def _operand_text(context: Context, item, names: bool) -> str:
    if isinstance(item, Operand):
        if names:
            return context.symbol(item.node)
        if item.value is None:
            raise Unavailable(item.node)
        return _wrapped(notation.tensor(item.value))
    return _wrapped(notation.number(item)) if isinstance(item, (int, float)) else str(item)


def _wrapped(text: str) -> str:
    """`(-2)` rather than `−-2` when a negative number is put into a formula."""
    return f"({text})" if text.startswith("-") else text


def _symbols(context: Context, root: str, call: Call, rule: Rule, names: bool) -> _Symbols:
    """`{g}`, `{a}`, ... as the program's names (names=True) or as the step's numbers."""
    op = context.graph.ops[call.op_id]

    def grad_text(index: int) -> str:
        out_id = op.outputs[index]
        if names:
            return notation.gradient(root, context.symbol(out_id))
        grad = call.grads[index] if index < len(call.grads) else None
        return _wrapped(notation.tensor(grad))

    def compute(key: str) -> str:
        if key == "g":
            return grad_text(0)
        if key == "gs":
            return ", ".join(grad_text(i) for i in range(len(call.outputs)))
        if key == "y":
            return context.symbol(op.outputs[0]) if names else _wrapped(notation.tensor(call.y))
        if key in ("a", "b", "c"):
            return _operand_text(context, call.arg("abc".index(key)), names)
        if key == "x":
            return _operand_text(context, call.arg(0)[call.k], names)
        extra = rule.symbols(call) if rule.symbols else {}
        return extra[key]

    return _Symbols(compute)


# --- checking a rule against torch ---------------------------------------------------------------------
def _verify(context: Context, step: BackwardStep, op: OpRecord, lines: list[ExplanationLine],
            results: list[torch.Tensor | None]) -> bool | None:
    """Do the rule's gradients, summed per input tensor, equal what torch sent to that tensor?"""
    expected: dict[str, torch.Tensor | None] = {}
    for line, result in zip(lines, results):
        if line.target is None or line.formula is None:
            continue
        if result is None:
            return None
        target = context.canonical(line.target)
        previous = expected.get(target)
        expected[target] = result.to(torch.float64) if previous is None else previous + result.to(torch.float64)
    sent = context.op_flows.get((step.pass_index, op.id), {})
    for target in set(expected) | set(sent):
        actual = _sum([f.value for f in sent.get(target, [])])
        if target in sent and actual is None:
            return None  # too large to have been kept
        mine = expected.get(target)
        if mine is None or actual is None:
            return False
        if not _close(mine, actual.to(torch.float64)):
            return False
    return True


def _close(mine: torch.Tensor, actual: torch.Tensor) -> bool:
    if tuple(mine.shape) != tuple(actual.shape):
        return False
    scale = float(actual.abs().nan_to_num(0, 0, 0).max()) if actual.numel() else 0.0
    return torch.allclose(mine, actual, rtol=1e-4, atol=1e-6 * max(1.0, scale), equal_nan=True)


# --- other steps -------------------------------------------------------------------------------------------
def _explain_internal(context: Context, step: BackwardStep, op: OpRecord) -> StepExplanation:
    op_step = context.op_steps.get((step.pass_index, op.id))
    # Steps are numbered from 1 wherever they are shown (the page's player, the hand backprop table).
    notes = [Message(key="internal_step", params={"op": op.op, "step": op_step + 1 if op_step is not None else None})]
    main = context.run.backward_recorder.steps[op_step].explanation if op_step is not None else None
    documented = bool(main and main.documented)
    return StepExplanation(documented=documented, rule=main.rule if main else None, notes=notes,
                           verified=main.verified if main else None)


def _explain_accumulate(context: Context, step: BackwardStep) -> StepExplanation:
    """AccumulateGrad: the leaf's dJ/dw (a sum if it was used more than once) goes into `.grad`."""
    leaf = step.node
    name = context.symbol(leaf)
    root = context.root_symbol(step.pass_index)
    incoming, notes = _incoming(context, step, [leaf])
    notes.append(Message(key="accumulate_grad", params={"tensor": name, "root": root}))
    raw = context.run.backward_recorder.raw.get(step.index)
    grad = raw.grad_in[0] if raw is not None and raw.grad_in else None
    previous = raw.previous_grad if raw is not None else None
    symbol = notation.gradient(root, name)
    if previous is None:
        formula, substituted = symbol, None
        value = grad
    else:
        notes.append(Message(key="accumulate_add", params={"tensor": name}))
        formula = f"{name}.grad + {symbol}"
        value = previous + grad if grad is not None else None
        substituted = f"{notation.tensor(previous)} + {_wrapped(notation.tensor(grad))}" if grad is not None else None
    result = notation.tensor(value) if value is not None else None
    line = ExplanationLine(input=0, target=leaf, symbol=f"{name}.grad", formula=formula, substituted=substituted,
                           result=result, text=notation.join(f"{name}.grad", formula, substituted, result))
    return StepExplanation(documented=True, rule="accumulate", lines=[line], incoming=incoming, notes=notes)
