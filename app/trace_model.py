"""The trace contract (version 3): what the engine returns and what the REST API sends.

On the wire (`wire_json`) a field equal to its default is left out, and so are a one-element
tensor's min, max and mean (they equal its `data`); edges are not sent, they follow from each op's
`inputs` and `outputs` (`Trace.edges`). Reading a trace with this module, or with the page's
`static/js/trace-wire.js`, restores all of them. A 10,000-op loop's trace is 10.6 MB this way
(18.5 MB with everything).

Version 3 leaves edges and defaults out. Version 2 (real Python): `passes` and `backward` hold the
*detailed* passes only (the first, the last and any asked for); `summaries` has one cheap line per
pass; `updates` are optimizer and manual parameter updates; a non-leaf tensor's `grad` is its
gradient in the last pass that reached it; a trace sent with an error (`error`) is the part of the
program that ran.

A trace is a bipartite graph of tensor nodes and op nodes, plus the order things happened in:
forward steps in execution order, backward steps in the order the autograd engine really ran them.
Positions in the source are 1-based lines and 1-based columns (counted in characters), the way an
editor shows them; `end_col` is the column just after the last character.

Numbers that JSON cannot hold (NaN, +Inf, -Inf) are sent as the strings "nan", "inf" and "-inf".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (BaseModel, ConfigDict, Field, SerializationInfo, SerializerFunctionWrapHandler, model_serializer,
                      model_validator)

TRACE_VERSION = 3

# A number as it travels in JSON: finite floats and ints as themselves, non-finite floats as strings.
Number = Union[bool, int, float, Literal["nan", "inf", "-inf"]]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Span(Model):
    """Where in the source something came from."""

    line: int
    col: int
    end_line: int
    end_col: int


class TensorValue(Model):
    """A tensor summarised for display: its numbers up to a cap, and statistics over all of them."""

    shape: list[int]
    dtype: str
    numel: int
    data: Any = Field(
        description="Nested lists shaped like the tensor (a bare number for 0-d tensors). "
        "When `truncated`, a flat list of the first elements in row-major order."
    )
    truncated: bool = False
    min: Number | None = Field(default=None, description="Over all elements; not sent for one element "
                               "that `data` holds.")
    max: Number | None = None
    mean: Number | None = None

    @model_validator(mode="after")
    def _one_element_statistics(self) -> TensorValue:
        """A one-element tensor arrives without statistics: they are its single number."""
        if self.numel == 1 and self.min is None and not self.truncated:
            number = _single_number(self.data)
            self.min = self.max = self.mean = number
        return self

    @model_serializer(mode="wrap")
    def _without_one_element_statistics(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo):
        """On the wire (defaults left out), a one-element tensor's statistics are left out too.
        (No return type here: the API's schema stays the model's.)"""
        data = handler(self)
        if info.exclude_defaults and self.numel == 1 and not self.truncated:  # (a preview of 0 numbers is)
            for key in ("min", "max", "mean"):
                data.pop(key, None)
        return data


def _single_number(data: Any) -> Any:
    while isinstance(data, list) and len(data) == 1:
        data = data[0]
    return data


class SavedValue(Model):
    """One of the values an autograd node saved for backward (torchviz's `show_saved`)."""

    name: str = Field(description="Attribute name without the `_saved_` prefix, e.g. `self`, `exponent`.")
    tensor: TensorValue | None = None
    text: str | None = Field(default=None, description="Short text for values that are not tensors.")
    node: str | None = Field(default=None, description="The tensor node this saved tensor is, when known.")


TensorRole = Literal["param", "constant", "intermediate", "root"]


class TensorNode(Model):
    id: str
    kind: Literal["tensor"]
    name: str | None = Field(default=None, description="The last program name bound to this tensor.")
    names: list[str] = Field(default_factory=list, description="Every program name bound to it, in order.")
    label: str = Field(description="Name, or a short expression that made the tensor.")
    role: TensorRole = Field(
        description="param: a leaf that requires grad; constant: needs no grad; intermediate; "
        "root: a tensor backward() ran from."
    )
    value: TensorValue
    grad: TensorValue | None = Field(
        default=None,
        description="Leaves: `.grad` as torch holds it when the program ends. Other tensors: "
        "dJ/d(tensor) in the last recorded backward pass that reached it (contributions within that "
        "pass summed).",
    )
    requires_grad: bool
    is_leaf: bool
    version: int = Field(description="How many in-place changes this tensor object had before this node.")
    span: Span | None = None
    producer: str | None = Field(default=None, description="Id of the op that made it, if any.")


class OpNode(Model):
    id: str
    kind: Literal["op"]
    op: str = Field(description="Canonical op name, e.g. `mul`, `pow`, `sum`, `add_` for in-place.")
    label: str = Field(description="Short display label, e.g. `×`, `pow 2`, `sum`.")
    params: dict[str, str] = Field(default_factory=dict, description="Non-tensor arguments, as text.")
    grad_fn: str | None = Field(default=None, description="Autograd node type of the output, e.g. `MulBackward0`.")
    internal_grad_fns: list[str] = Field(
        default_factory=list, description="Other autograd nodes this one call created (e.g. cross_entropy)."
    )
    saved: list[SavedValue] = Field(default_factory=list)
    inplace: bool = False
    inputs: list[str] = Field(default_factory=list, description="Input tensor ids, by argument position.")
    outputs: list[str] = Field(default_factory=list, description="Output tensor ids, by output index.")
    span: Span | None = None
    source: str | None = Field(default=None, description="The source text of the expression.")
    stack: list[str] = Field(default_factory=list, description="The program's functions that led here, "
                             "outermost first (`train`, `Net.forward`); empty at module level.")
    calls: list[int] = Field(default_factory=list, description="One number per `stack` entry: ops with the "
                             "same number there ran in the same call of that function.")
    module: str | None = Field(default=None, description="Path of the nn.Module call it ran in, e.g. `net.fc1`.")
    module_class: str | None = Field(default=None, description="That module's class, e.g. `Linear`.")
    module_call: int | None = Field(default=None, description="Ops with the same number ran in the same call "
                                    "of that module (one forward of a layer).")
    site: str = Field(default="", description="Ops with the same site come from the same code position, call "
                      "stack, module and op: the same step of a loop body in different iterations.")
    occurrence: int = Field(default=0, description="How many times this site ran before (the loop "
                            "iteration, counted per site, 0-based).")


Node = Annotated[TensorNode | OpNode, Field(discriminator="kind")]


class Edge(Model):
    source: str
    target: str
    kind: Literal["input", "output"] = Field(description="input: tensor -> op; output: op -> tensor.")
    index: int = Field(description="Argument position (input) or output index (output).")


class ForwardStep(Model):
    index: int
    op: str = Field(description="Op node id.")


class Message(Model):
    """Prose as a key and its parameters: the browser words it in English or Portuguese
    (the keys and both texts are listed in `app/teaching/messages.py`)."""

    key: str
    params: dict[str, str | int | float | None] = Field(default_factory=dict)


class GradTerm(Model):
    """One contribution to a gradient that the engine sums (a tensor used more than once)."""

    step: int | None = Field(description="Backward step that sent it; None for the seed of backward().")
    op: str | None = Field(default=None, description="Op node id that sent it.")
    value: str = Field(description="The contribution, formatted.")


class GradSum(Model):
    """A gradient that is the sum of several contributions, spelled out."""

    target: str = Field(description="Tensor node the contributions are summed into.")
    symbol: str = Field(description="e.g. `dJ/da`.")
    terms: list[GradTerm]
    total: str = Field(description="The sum, formatted.")
    text: str = Field(description="e.g. `dJ/da = [2,3] + [2,3] + [1,1] = [5,7]`.")


class ExplanationLine(Model):
    """The local derivative rule for one input of an op: symbols, then numbers, then result."""

    input: int = Field(description="Position in the op's `inputs`.")
    target: str | None = Field(description="Tensor node the gradient goes to.")
    symbol: str = Field(description="What is computed, e.g. `dJ/de`.")
    formula: str | None = Field(default=None, description="The rule in the program's names, e.g. `dJ/de2 · 2·e`.")
    substituted: str | None = Field(default=None, description="The same with the step's numbers.")
    result: str | None = Field(default=None, description="The gradient it gives, formatted.")
    text: str | None = Field(default=None, description="`symbol = formula = substituted = result`.")
    notes: list[Message] = Field(default_factory=list, description="Broadcast sums, inputs without gradient...")


class StepExplanation(Model):
    """Why a backward step sent what it sent (the chain rule, one local rule at a time)."""

    documented: bool = Field(description="False: no rule for this op yet (key `rule_not_documented`).")
    rule: str | None = Field(default=None, description="Rule id in `app/teaching/rules.py`.")
    general: list[str] = Field(default_factory=list, description="The rule with generic symbols, per input.")
    lines: list[ExplanationLine] = Field(default_factory=list)
    incoming: GradSum | None = Field(default=None, description="When the arriving gradient is a sum of contributions.")
    notes: list[Message] = Field(default_factory=list)
    verified: bool | None = Field(default=None, description="The rule's numbers equal what torch sent; "
                                  "None when the numbers were not evaluated (too large, values changed).")


class GradientFlow(Model):
    """A gradient sent by a backward step to one of its inputs."""

    target: str | None = Field(description="Tensor node that receives it (None when outside the graph).")
    value: TensorValue | None = Field(description="None when no gradient flows to that input.")


class BackwardStep(Model):
    index: int
    pass_index: int = Field(description="Which backward pass (0-based) this step belongs to.")
    node: str | None = Field(description="Op node id, or the leaf tensor id for an AccumulateGrad step.")
    grad_fn: str = Field(description="Autograd node type, e.g. `PowBackward0`, `AccumulateGrad`.")
    kind: Literal["op", "accumulate", "internal"] = Field(
        description="op: the autograd node of a traced op; accumulate: a leaf's AccumulateGrad; "
        "internal: an extra autograd node inside one traced call."
    )
    grad_in: list[TensorValue | None] = Field(description="Gradients arriving, one per output of the node.")
    grad_in_targets: list[str | None] = Field(
        default_factory=list, description="The tensor node each arriving gradient belongs to."
    )
    grads_out: list[GradientFlow] = Field(default_factory=list)
    accumulated: TensorValue | None = Field(
        default=None, description="AccumulateGrad only: the leaf's `.grad` right after this step."
    )
    span: Span | None = Field(default=None, description="A custom autograd.Function's step: where its "
                              "`backward` is written in the program.")
    failed: bool = Field(default=False, description="This step raised the error the program stopped with.")
    explanation: StepExplanation | None = Field(default=None, description="The chain rule at this step.")


class BackwardPass(Model):
    index: int
    root: str = Field(description="Tensor node backward() ran from.")
    seed: TensorValue = Field(description="The gradient the pass started with (ones for a scalar root).")
    implicit: bool = Field(description="True when Grafo called backward() because the program did not.")
    retain_graph: bool = False
    span: Span | None = None
    steps: list[int] = Field(default_factory=list, description="Indices into `backward`.")
    completed: bool = Field(default=True, description="False when backward raised part way (see the trace's `error`).")


class PassSummary(Model):
    """Every backward pass, detailed or not: the loss, and four numbers per parameter for charts.

    The per-parameter lists follow `Trace.summary_params` (a pass that did not reach a parameter has
    None there; parameters first seen later are missing from earlier, shorter lists)."""

    index: int
    root: str | None = Field(description="Name of the tensor backward ran from, when it has one.")
    loss: Number | None = Field(description="The root's value when it has one element (its mean otherwise).")
    line: int | None = None
    detailed: bool = Field(description="Its graph, values, backward steps and updates are in the trace.")
    nonfinite: bool = Field(default=False, description="A parameter's value or gradient, or the loss, was NaN or ±Inf.")
    values: list[Number | None] = Field(default_factory=list, description="Each parameter's mean value "
                                        "when backward ran (the value itself for one element).")
    norms: list[Number | None] = Field(default_factory=list, description="Each parameter's L2 norm.")
    grads: list[Number | None] = Field(default_factory=list, description="The mean of the gradient this "
                                       "pass gave each parameter (the gradient itself for one element).")
    grad_norms: list[Number | None] = Field(default_factory=list, description="Its L2 norm.")


class SummaryParam(Model):
    name: str
    numel: int


class ParamUpdate(Model):
    """One parameter changed by an update step: before, the gradient used, after, the state used."""

    name: str
    before: TensorValue
    grad: TensorValue | None = None
    after: TensorValue
    node_before: str | None = Field(default=None, description="Tensor node of the value before, when drawn.")
    node_after: str | None = Field(default=None, description="Tensor node of the value after, when drawn.")
    state: dict[str, TensorValue] = Field(default_factory=dict, description="Optimizer state after the step "
                                          "(`momentum_buffer`, `exp_avg`, `exp_avg_sq`).")
    text: str | None = Field(default=None, description="The rule with its numbers, e.g. "
                             "`w ← w − lr·dJ/dw = 1 − 0.01·(−28) = 1.28`, for one-element SGD updates.")


class UpdateStep(Model):
    """What happens to parameters after a backward pass: `optimizer.step()`, `w -= lr * w.grad`, zero_grad."""

    index: int
    pass_index: int | None = Field(description="The pass whose gradients it used (the last one before it).")
    kind: Literal["optimizer", "manual", "zero_grad"]
    optimizer: str | None = Field(default=None, description="e.g. `SGD`, `Adam`.")
    hyper: dict[str, Number | str | None] = Field(default_factory=dict, description="lr, momentum, betas...")
    span: Span | None = None
    params: list[ParamUpdate] = Field(default_factory=list)
    cleared: list[str] = Field(default_factory=list, description="zero_grad: the parameters whose .grad was "
                               "set to None or zeroed.")
    zeroed_to: Literal["none", "zeros"] | None = Field(default=None, description="zero_grad: `.grad` became "
                                                       "None (`zero_grad()`'s default) or a tensor of zeros.")

class GradCheckElement(Model):
    index: list[int]
    autograd: Number | None
    forward: Number = Field(description="(J(w+eps) - J(w)) / eps in the leaf's own dtype.")
    central: Number = Field(description="(J(w+eps) - J(w-eps)) / (2 eps) in float64.")
    delta: Number = Field(description="J(w+eps) - J(w): how much J moves when the element grows by eps.")
    abs_error: Number | None = Field(description="|autograd - central|.")
    sentence: Message | None = Field(default=None, description="\"if w grows by eps, J grows by about delta\".")


class GradCheckLeaf(Model):
    leaf: str
    name: str
    root: str
    pass_index: int
    elements: list[GradCheckElement]
    truncated: bool = False
    max_abs_error: Number | None = None


class GradCheck(Model):
    eps: float
    leaves: list[GradCheckLeaf] = Field(default_factory=list)
    note: Message | None = Field(default=None, description="Why a root could not be checked.")


class TraceWarning(Model):
    message: str
    line: int | None = None
    col: int | None = None
    key: str | None = Field(default=None, description="Message key for a teaching explanation, when known.")
    params: dict[str, str | int | float | None] = Field(default_factory=dict)


class Stats(Model):
    statements: int
    ops: int
    tensors: int
    backward_passes: int = Field(description="Every pass the program ran (detailed or not).")
    backward_steps: int
    elapsed_ms: float
    runs: int = Field(default=1, description="2 when a second, identical run recorded passes the first "
                      "could not keep in detail.")


class Trace(Model):
    version: Literal[3] = Field(description="Always sent: the contract's version.")
    nodes: list[Node]
    forward: list[ForwardStep]
    backward: list[BackwardStep]
    passes: list[BackwardPass] = Field(default_factory=list, description="The detailed passes.")
    summaries: list[PassSummary] = Field(default_factory=list, description="One per pass, in order.")
    summary_params: list[SummaryParam] = Field(default_factory=list, description="The parameters the "
                                               "summaries' lists follow, in order.")
    updates: list[UpdateStep] = Field(default_factory=list, description="After the detailed passes.")
    modules: dict[str, str] = Field(default_factory=dict, description="Every nn.Module called, by path: its "
                                    "class (`net`: `Sequential`), containers that run no op themselves included.")
    gradcheck: GradCheck | None = None
    output: list[str] = Field(default_factory=list, description="Lines the program printed.")
    warnings: list[TraceWarning] = Field(default_factory=list)
    stats: Stats
    error: ErrorBody | None = Field(default=None, description="Set on a trace sent with an error: the "
                                    "program stopped there, and the trace is what ran before.")

    @property
    def edges(self) -> list[Edge]:
        """Tensor -> op for each input, op -> tensor for each output, op by op."""
        edges = []
        for node in self.nodes:
            if node.kind == "op":
                edges.extend(Edge(source=t, target=node.id, kind="input", index=i) for i, t in enumerate(node.inputs))
                edges.extend(Edge(source=node.id, target=t, kind="output", index=i)
                              for i, t in enumerate(node.outputs))
        return edges


class ErrorBody(Model):
    kind: Literal["syntax", "name", "type", "runtime", "limit", "timeout", "sandbox"] = Field(
        description="sandbox: this server could not confine programs and runs none (status 503).")
    message: str
    line: int | None = None
    col: int | None = None
    hint: str | None = Field(default=None, description="Message key explaining a common autograd error and its fix.")
    key: str | None = Field(default=None, description="Message key of `message` itself, so it can be shown "
                            "in another language (with `params`); None when the words are only torch's.")
    params: dict[str, str | int | float | None] = Field(default_factory=dict)


class ErrorResponse(Model):
    """What every program error looks like on the wire (CLI stdout and API status 400)."""

    error: ErrorBody
    trace: Trace | None = Field(default=None, description="What the program did before the error "
                                "(its graph as far as it ran), when there is anything to show.")


Trace.model_rebuild()  # `error` refers to ErrorBody, defined after Trace


def wire_json(model: Model, indent: int | None = None) -> str:
    """`model` as sent: fields equal to their defaults left out (the reader restores them)."""
    return model.model_dump_json(exclude_defaults=True, indent=indent)
