"""Property tests of the engine with Hypothesis.

Programs from a grammar of tensor expressions (names, tensor leaves, unary and binary ops in
   their function, method and operator spellings, `F.*`, scalar constants, reductions, backward)
   trace to the values and gradients torch computes directly, or fail with a clean ProgramError.

Bounded example counts and no deadline: this is about correctness, not speed.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter

import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import trace
from app.errors import ProgramError
from app.settings import Limits
from tests.security.harness import REPORT

LIMITS = Limits(time_limit_s=2.0)
OUTCOMES: Counter = Counter()
SETTINGS = dict(deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])


# --- a grammar of tensor expressions -------------------------------------------------------------

LEAVES = {"w": [0.5, -1.25, 2.0], "v": [1.5, 0.25, -0.75], "x": [0.1, 0.2, -0.3]}  # w, v need grad
UNARY = {
    # name: (spellings, torch function)
    "neg": (["-{}", "torch.neg({})", "{}.neg()"], torch.neg),
    "sin": (["torch.sin({})", "{}.sin()"], torch.sin),
    "cos": (["torch.cos({})", "{}.cos()"], torch.cos),
    "tanh": (["torch.tanh({})", "{}.tanh()", "F.tanh({})"], torch.tanh),
    "sigmoid": (["torch.sigmoid({})", "{}.sigmoid()", "F.sigmoid({})"], torch.sigmoid),
    "relu": (["torch.relu({})", "F.relu({})", "{}.relu()"], torch.relu),
    "abs": (["torch.abs({})", "{}.abs()", "abs({})"], torch.abs),
    "square": (["{}.pow(2)", "{} ** 2", "torch.square({})"], torch.square),
    "exp_tanh": (["torch.exp(torch.tanh({}))", "{}.tanh().exp()"], lambda t: torch.exp(torch.tanh(t))),
    "softplus": (["F.softplus({})"], F.softplus),
    "cumsum": (["torch.cumsum({}, 0)", "{}.cumsum(dim=0)"], lambda t: torch.cumsum(t, 0)),
    "flip": (["torch.flip({}, [0])", "{}.flip(0)"], lambda t: torch.flip(t, [0])),
    "softmax": (["torch.softmax({}, 0)", "F.softmax({}, dim=0)", "{}.softmax(0)"], lambda t: torch.softmax(t, 0)),
}
BINARY = {
    "add": (["{} + {}", "torch.add({}, {})", "{}.add({})"], torch.add),
    "sub": (["{} - {}", "torch.sub({}, {})", "{}.sub({})"], torch.sub),
    "mul": (["{} * {}", "torch.mul({}, {})", "{}.mul({})"], torch.mul),
    "div": (["{} / (1 + {} ** 2)", "torch.div({}, 1 + {} * {})"], lambda a, b: a / (1 + b ** 2)),
    "max": (["torch.maximum({}, {})"], torch.maximum),
    "lerp": (["torch.lerp({}, {}, 0.25)"], lambda a, b: torch.lerp(a, b, 0.25)),
}
REDUCE = {
    "sum": (["{}.sum()", "torch.sum({})"], torch.sum),
    "mean": (["{}.mean()", "torch.mean({})"], torch.mean),
    "mse": (["F.mse_loss({}, torch.zeros(3))"], lambda t: F.mse_loss(t, torch.zeros(3))),
    "dot": (["torch.dot({}, torch.ones(3))", "{} @ torch.ones(3)"], lambda t: torch.dot(t, torch.ones(3))),
    "norm": (["({} * {}).sum()"], lambda t: (t * t).sum()),
}


def _render(spelling: str, *parts: str) -> str:
    slots = spelling.count("{}")
    if len(parts) == 2 and slots == 3:  # "torch.div({}, 1 + {} * {})": the divisor twice
        parts = (parts[0], parts[1], parts[1])
    if len(parts) == 1 and slots == 2:
        parts = (parts[0], parts[0])
    wrapped = [p if p.isidentifier() else f"({p})" for p in parts]
    return spelling.format(*wrapped)


@st.composite
def expressions(draw, names: list[str], depth: int = 0):
    """(source text, evaluator) pairs; the evaluator maps a dict of tensors to the expected tensor."""
    leaf_choice = st.sampled_from(names)
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        if draw(st.integers(0, 5)) == 0:
            constant = draw(st.sampled_from([0.5, 2.0, -1.5, 3]))
            name = draw(leaf_choice)
            return (f"{name} * {constant}", lambda env, n=name, c=constant: env[n] * c)
        name = draw(leaf_choice)
        return (name, lambda env, n=name: env[n])
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(UNARY)))
        spellings, function = UNARY[key]
        text, inner = draw(expressions(names, depth + 1))
        return (_render(draw(st.sampled_from(spellings)), text), lambda env: function(inner(env)))
    key = draw(st.sampled_from(sorted(BINARY)))
    spellings, function = BINARY[key]
    left_text, left = draw(expressions(names, depth + 1))
    right_text, right = draw(expressions(names, depth + 1))
    return (_render(draw(st.sampled_from(spellings)), left_text, right_text),
            lambda env: function(left(env), right(env)))


@st.composite
def programs(draw):
    """A program: leaves, a few intermediate statements, a scalar J, J.backward() (or implicit)."""
    lines = ["import torch", "import torch.nn.functional as F"]
    for name, values in LEAVES.items():
        grad = ", requires_grad=True" if name != "x" else ""
        lines.append(f"{name} = torch.tensor({values}{grad})")
    names = list(LEAVES)
    steps = []
    for index in range(draw(st.integers(1, 4))):
        text, evaluate = draw(expressions(names))
        name = f"h{index}"
        lines.append(f"{name} = {text}")
        steps.append((name, evaluate))
        names.append(name)
    reduce_key = draw(st.sampled_from(sorted(REDUCE)))
    spellings, reduction = REDUCE[reduce_key]
    final = draw(st.sampled_from(names[len(LEAVES):]))
    lines.append(f"J = {_render(draw(st.sampled_from(spellings)), final)}")
    explicit = draw(st.booleans())
    if explicit:
        lines.append("J.backward()")
    return "\n".join(lines) + "\n", steps, (final, reduction), explicit


def _expected(steps, final_reduction, explicit: bool = True):
    """The program computed by torch directly. Without an explicit J.backward() the engine calls
    backward on J, or if J needs no grad, on the last assigned tensor that does (seeded with ones)."""
    env = {name: torch.tensor(values, requires_grad=name != "x") for name, values in LEAVES.items()}
    for name, evaluate in steps:
        env[name] = evaluate(env)
    final, reduction = final_reduction
    env["J"] = reduction(env[final])
    root = env["J"]
    if not explicit and not root.requires_grad:
        candidates = [env[name] for name in [*LEAVES, *(n for n, _ in steps)] if env[name].requires_grad]
        root = candidates[-1]
    if root.requires_grad:
        root.backward(None if root.numel() == 1 else torch.ones_like(root))
    return env


def _close(actual, expected: torch.Tensor) -> bool:
    def decode(item):
        if isinstance(item, list):
            return [decode(x) for x in item]
        return float(item) if isinstance(item, str) else item

    got = torch.tensor(decode(actual), dtype=torch.float64)
    want = expected.detach().to(torch.float64)
    return got.shape == want.shape and torch.allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True)


@given(programs())
@settings(max_examples=80, **SETTINGS)
def test_allowed_programs_match_torch(program):
    source, steps, final_reduction, explicit = program
    try:
        result = trace(source, limits=LIMITS)
    except ProgramError as error:  # allowed when torch itself refuses, counted and reported
        OUTCOMES[f"allowed:{error.kind}"] += 1
        env = _expected(steps, final_reduction)
        # the one expected refusal: J.backward() on a J that needs no grad (only x, no w or v)
        assert error.kind == "runtime" and not env["J"].requires_grad, (source, error)
        return
    OUTCOMES["allowed:trace"] += 1
    env = _expected(steps, final_reduction, explicit)
    named = {}
    for node in result.nodes:
        if node.kind == "tensor":
            for name in node.names:
                named[name] = node
    for name, _ in steps:
        assert _close(named[name].value.data, env[name]), (source, name, named[name].value.data, env[name])
    assert _close(named["J"].value.data, env["J"]), source
    for leaf in ("w", "v"):
        grad = env[leaf].grad
        node_grad = named[leaf].grad
        if grad is None:
            assert node_grad is None or not any(node_grad.data), source
        else:
            assert node_grad is not None and _close(node_grad.data, grad), (source, leaf, node_grad, grad)
    if result.gradcheck is not None:  # the check's autograd column is torch's gradient too
        for leaf in result.gradcheck.leaves:
            grad = env[leaf.name].grad if leaf.name in ("w", "v") else None
            for element in leaf.elements:
                if grad is not None and isinstance(element.autograd, float) and math.isfinite(element.autograd):
                    assert abs(element.autograd - grad[tuple(element.index)].item()) <= 1e-5 * (1 + abs(element.autograd))


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    groups: dict[str, Counter] = {}
    for key, count in OUTCOMES.items():
        tag, outcome = key.split(":")
        groups.setdefault(tag, Counter())[outcome] += count
    for tag, counts in sorted(groups.items()):
        details = ", ".join(f"{outcome} {count}" for outcome, count in counts.most_common())
        REPORT.append(f"hypothesis {tag}: {sum(counts.values())} programs, 0 internal errors ({details})")
    allowed = groups.get("allowed", Counter())
    assert allowed["trace"] >= 0.8 * sum(allowed.values()), allowed
