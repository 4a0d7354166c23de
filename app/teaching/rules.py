"""Local derivative rules, as data: for each op, the gradient it sends to each input.

A rule gives, per operand, the formula in symbols (`template`) and the same gradient computed with
torch (`compute`). The explanation shows the template twice, once with the program's names and
once with the step's numbers, and the result of `compute`; before showing it, the engine checks that
result against the gradient torch really sent, so a rule that does not fit a call is never shown.

Template symbols: `{g}` the gradient arriving at the op (dJ/dy), `{gs}` all of them for ops with
several outputs, `{y}` the output, `{a}` `{b}` `{c}` the operands in the program's order (a number
operand is written as the number), `{x}` the list element a `cat`/`stack` rule is working on, and
any name a rule's `symbols` adds (the same text in both forms: exponents, dims, shapes).
`generic` says how the symbols read in the textbook form shown beside the instance.

A grads entry of None means the operand takes no gradient (an index, a condition, a class target).
An op with no rule here is explained as "rule not documented yet".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

from app.teaching import notation
from app.teaching.call import Call, Operand
from app.teaching.shapes import broadcast_dims, dims_of, index_text, keep, slice_text, sum_to, unreduce


@dataclass(frozen=True)
class Grad:
    """The gradient sent to one operand."""

    template: str
    compute: Callable[[Call], torch.Tensor]
    broadcast: bool = False  # sum over the dims a broadcast added, down to the operand's shape
    special: Callable[[Call], str | None] | None = None  # a simpler form for this call (`2·e`)


@dataclass(frozen=True)
class Rule:
    id: str
    ops: tuple[str, ...]
    grads: dict = field(default_factory=dict)  # operand position -> Grad, or None (no gradient)
    each: Grad | None = None  # for a list operand (cat, stack): one Grad per element, `Call.k` set
    applies: Callable[[Call], bool] = lambda c: True
    symbols: Callable[[Call], dict[str, str]] | None = None
    generic: dict[str, str] = field(default_factory=dict)


# --- small predicates and symbol sets -------------------------------------------------------------
def _tensor_then_number(c: Call) -> bool:
    return c.is_operand(0) and not c.is_operand(1)


def _no_dtype(c: Call) -> bool:
    return c.kwargs.get("dtype") is None


def _dim(c: Call, position: int = 1):
    return c.arg(position, "dim")


def _reduced(c: Call) -> tuple[list[int], bool]:
    dims = dims_of(_dim(c), c.a.dim())
    return dims, bool(c.arg(2, "keepdim", False)) and _dim(c) is not None


def _shape_symbols(c: Call) -> dict[str, str]:
    return {"shape": notation.shape_text(c.a.shape)}


def _dim_symbols(c: Call) -> dict[str, str]:
    return {"d": str(_dim(c))}


def _alpha(c: Call):
    return c.kwargs.get("alpha", 1)


# --- arithmetic ---------------------------------------------------------------------------------
ADD = Rule(
    "add", ("add", "add_", "iadd"),
    grads={0: Grad("{g}", lambda c: c.g, broadcast=True),
           1: Grad("{g}", lambda c: c.g * _alpha(c), broadcast=True,
                   special=lambda c: "{alpha}·{g}" if _alpha(c) != 1 else None)},
    symbols=lambda c: {"alpha": notation.number(_alpha(c))},
)

SUB = Rule(
    "sub", ("sub", "sub_", "isub"),
    grads={0: Grad("{g}", lambda c: c.g, broadcast=True),
           1: Grad("−{g}", lambda c: -c.g * _alpha(c), broadcast=True,
                   special=lambda c: "−{alpha}·{g}" if _alpha(c) != 1 else None)},
    symbols=lambda c: {"alpha": notation.number(_alpha(c))},
)

MUL = Rule(
    "mul", ("mul", "mul_", "imul"),
    grads={0: Grad("{g} · {b}", lambda c: c.g * c.b, broadcast=True),
           1: Grad("{g} · {a}", lambda c: c.g * c.a, broadcast=True)},
)

DIV = Rule(
    "div", ("div", "div_", "itruediv"),
    applies=lambda c: c.kwargs.get("rounding_mode") is None,
    grads={0: Grad("{g} / {b}", lambda c: c.g / c.b, broadcast=True),
           1: Grad("−{g} · {a} / {b}²", lambda c: -c.g * c.a / (c.b * c.b), broadcast=True)},
)


def _pow_special(c: Call) -> str | None:
    n = c.b
    if n == 2:
        return "{g} · {n}·{a}"
    if n == 1:
        return "{g}"
    return None


POW = Rule(
    "pow", ("pow", "pow_", "ipow"),
    applies=_tensor_then_number,
    grads={0: Grad("{g} · {n}·{a}^{m}", lambda c: c.g * c.b * c.a ** (c.b - 1), special=_pow_special)},
    symbols=lambda c: {"n": notation.number(c.b), "m": notation.number(c.b - 1)},
    generic={"n": "n", "m": "(n−1)"},
)


def _pow_exponent_grad(c: Call) -> torch.Tensor:
    """g · y · ln(a), zero where a = 0 and the exponent is >= 0 (the limit, as torch takes it)."""
    base = c.a if isinstance(c.a, torch.Tensor) else torch.tensor(float(c.a))
    log_base = torch.log(base.to(c.y.dtype))
    zero = (base == 0) & (c.b >= 0)
    return c.g * torch.where(zero, torch.zeros_like(c.y), c.y * log_base)


POW_TENSOR = Rule(
    "pow_tensor", ("pow",),
    applies=lambda c: c.is_operand(0) and c.is_operand(1),
    grads={0: Grad("{g} · {b}·{a}^({b}−1)", lambda c: c.g * c.b * c.a ** (c.b - 1), broadcast=True),
           1: Grad("{g} · {y}·ln({a})", _pow_exponent_grad, broadcast=True)},
)

POW_SCALAR_BASE = Rule(
    "pow_scalar_base", ("pow",),
    applies=lambda c: not c.is_operand(0) and c.is_operand(1),
    grads={1: Grad("{g} · {y}·ln({a})", _pow_exponent_grad)},
    generic={"a": "c"},
)

# --- one tensor in, same shape out ------------------------------------------------------------------
NEG = Rule("neg", ("neg", "neg_"), grads={0: Grad("−{g}", lambda c: -c.g)})
EXP = Rule("exp", ("exp", "exp_"), grads={0: Grad("{g} · {y}", lambda c: c.g * c.y)})
LOG = Rule("log", ("log", "log_"), grads={0: Grad("{g} / {a}", lambda c: c.g / c.a)})
SQRT = Rule("sqrt", ("sqrt", "sqrt_"), grads={0: Grad("{g} / (2·√{a})", lambda c: c.g / (2 * torch.sqrt(c.a)))})
ABS = Rule("abs", ("abs", "abs_"), grads={0: Grad("{g} · sign({a})", lambda c: c.g * torch.sign(c.a))})
SIN = Rule("sin", ("sin", "sin_"), grads={0: Grad("{g} · cos({a})", lambda c: c.g * torch.cos(c.a))})
COS = Rule("cos", ("cos", "cos_"), grads={0: Grad("−{g} · sin({a})", lambda c: -c.g * torch.sin(c.a))})
TANH = Rule("tanh", ("tanh", "tanh_"), grads={0: Grad("{g} · (1 − {y}²)", lambda c: c.g * (1 - c.y * c.y))})
SIGMOID = Rule("sigmoid", ("sigmoid", "sigmoid_"),
               grads={0: Grad("{g} · {y}·(1 − {y})", lambda c: c.g * c.y * (1 - c.y))})
RELU = Rule("relu", ("relu", "relu_"), grads={0: Grad("{g} · 1({a} > 0)", lambda c: c.g * (c.a > 0))})
SQUARE = Rule("square", ("square",), grads={0: Grad("{g} · 2·{a}", lambda c: c.g * 2 * c.a)})
RECIPROCAL = Rule("reciprocal", ("reciprocal",), grads={0: Grad("−{g} · {y}²", lambda c: -c.g * c.y * c.y)})
LOG1P = Rule("log1p", ("log1p",), grads={0: Grad("{g} / (1 + {a})", lambda c: c.g / (1 + c.a))})
EXPM1 = Rule("expm1", ("expm1",), grads={0: Grad("{g} · ({y} + 1)", lambda c: c.g * (c.y + 1))})


def _clamp_bounds(c: Call):
    return c.arg(1, "min"), c.arg(2, "max")


def _clamp_mask(c: Call) -> torch.Tensor:
    low, high = _clamp_bounds(c)
    if c.op == "clamp_max":
        low, high = None, c.arg(1, "max")
    mask = torch.ones_like(c.a, dtype=torch.bool)
    if low is not None:
        mask &= c.a >= low
    if high is not None:
        mask &= c.a <= high
    return mask


def _clamp_special(c: Call) -> str:
    low, high = _clamp_bounds(c)
    if c.op == "clamp_max":
        low, high = None, c.arg(1, "max")
    if low is None:
        return "{g} · 1({a} ≤ {hi})"
    if high is None:
        return "{g} · 1({a} ≥ {lo})"
    return "{g} · 1({lo} ≤ {a} ≤ {hi})"


def _clamp_symbols(c: Call) -> dict[str, str]:
    low, high = _clamp_bounds(c)
    if c.op == "clamp_max":
        low, high = None, c.arg(1, "max")
    return {"lo": "" if low is None else notation.number(low), "hi": "" if high is None else notation.number(high)}


CLAMP = Rule(
    "clamp", ("clamp", "clip", "clamp_", "clip_", "clamp_min", "clamp_max"),
    applies=lambda c: not any(isinstance(v, Operand) for v in (*_clamp_bounds(c), c.kwargs.get("max"))),
    grads={0: Grad("{g} · 1({lo} ≤ {a} ≤ {hi})", lambda c: c.g * _clamp_mask(c), special=_clamp_special)},
    symbols=_clamp_symbols, generic={"lo": "min", "hi": "max"},
)

WHERE = Rule(
    "where", ("where",),
    applies=lambda c: len(c.args) == 3,
    grads={0: None,
           1: Grad("{g} · 1({a})", lambda c: c.g * c.a, broadcast=True),
           2: Grad("{g} · 1(¬{a})", lambda c: c.g * ~c.a, broadcast=True)},
    generic={"a": "cond", "b": "a", "c": "b"},
)

# --- softmax family -----------------------------------------------------------------------------
SOFTMAX = Rule(
    "softmax", ("softmax",),
    applies=lambda c: _dim(c) is not None and _no_dtype(c) and c.arg(2) is None,
    grads={0: Grad("{y} · ({g} − Σ[{d}]({g} · {y}))",
                   lambda c: c.y * (c.g - (c.g * c.y).sum(_dim(c), keepdim=True)))},
    symbols=_dim_symbols,
)

LOG_SOFTMAX = Rule(
    "log_softmax", ("log_softmax",),
    applies=lambda c: _dim(c) is not None and _no_dtype(c) and c.arg(2) is None,
    grads={0: Grad("{g} − exp({y}) · Σ[{d}]({g})",
                   lambda c: c.g - torch.exp(c.y) * c.g.sum(_dim(c), keepdim=True))},
    symbols=_dim_symbols,
)

# --- reductions ---------------------------------------------------------------------------------
def _sum_grad(c: Call) -> torch.Tensor:
    dims, keepdim = _reduced(c)
    return unreduce(c.g, c.a.shape, dims, keepdim)


def _sum_special(c: Call) -> str | None:
    dims, keepdim = _reduced(c)
    if _dim(c) is None or keepdim:
        return None
    return "expand(unsqueeze({g}, {d}), {shape})"


def _reduce_symbols(c: Call) -> dict[str, str]:
    dims, _ = _reduced(c)
    count = math.prod(c.a.shape[d] for d in dims) if c.a.dim() else 1
    return {"shape": notation.shape_text(c.a.shape), "d": ",".join(map(str, dims)), "N": str(count)}


SUM = Rule(
    "sum", ("sum",),
    applies=_no_dtype,
    grads={0: Grad("expand({g}, {shape})", _sum_grad, special=_sum_special)},
    symbols=_reduce_symbols, generic={"shape": "shape(a)"},
)

MEAN = Rule(
    "mean", ("mean",),
    applies=_no_dtype,
    grads={0: Grad("expand({g}, {shape}) / {N}", lambda c: _sum_grad(c) / int(_reduce_symbols(c)["N"]),
                   special=lambda c: "expand(unsqueeze({g}, {d}), {shape}) / {N}" if _sum_special(c) else None)},
    symbols=_reduce_symbols, generic={"shape": "shape(a)"},
)


def _evenly(c: Call) -> torch.Tensor:
    """Full max/min (and amax/amin): the gradient is shared equally among the tied extremes."""
    dims, keepdim = _reduced(c) if c.op in ("amax", "amin") else (list(range(c.a.dim())), False)
    extreme = keep(c.y, dims, keepdim)
    mask = (c.a == extreme).to(c.g.dtype)
    count = mask.sum(dim=dims, keepdim=True) if dims else mask
    return keep(c.g, dims, keepdim) * mask / count


def _ties(c: Call) -> dict[str, str]:
    return {"count": notation.number(int((c.a == c.y).sum())) if c.y.dim() == 0 else "#"}


EXTREME = Rule(
    "max_min", ("max", "min"),
    applies=lambda c: len(c.args) == 1 and "dim" not in c.kwargs,
    grads={0: Grad("{g} · 1({a} = {y}) / {count}", _evenly)},
    symbols=_ties, generic={"count": "#ties"},
)

AMAX = Rule(
    "amax_amin", ("amax", "amin"),
    grads={0: Grad("{g} · 1({a} = {y}) / #ties", _evenly)},
)


def _selected(c: Call) -> torch.Tensor:
    """max/min along a dim: the whole gradient goes to the element that was picked."""
    dim = _dim(c)
    keepdim = bool(c.arg(2, "keepdim", False))
    index = keep(c.outputs[1], [dim % c.a.dim()], keepdim)
    grad = keep(c.g, [dim % c.a.dim()], keepdim)
    return torch.zeros_like(c.a, dtype=grad.dtype).scatter(dim, index, grad)


EXTREME_DIM = Rule(
    "max_min_dim", ("max", "min"),
    applies=lambda c: _dim(c) is not None and not (len(c.args) > 1 and isinstance(c.args[1], Operand)),
    grads={0: Grad("scatter({g}, {d}, arg{op}({a}, {d}))", _selected)},
    symbols=lambda c: {"d": str(_dim(c)), "op": c.op},
)

NORM = Rule(
    "norm", ("norm",),
    applies=lambda c: c.arg(1, "p", "fro") in ("fro", 2, 2.0, None) and _dim(c, 2) is None,
    grads={0: Grad("{g} · {a} / {y}", lambda c: c.g * c.a / c.y)},
)

PROD = Rule(
    "prod", ("prod",),
    applies=lambda c: _dim(c) is None and _no_dtype(c) and bool((c.a != 0).all()),
    grads={0: Grad("{g} · {y} / {a}", lambda c: c.g * c.y / c.a)},
)

# --- products of matrices ------------------------------------------------------------------------
def _matmul_grads(c: Call) -> tuple[torch.Tensor, torch.Tensor]:
    a, b, g = c.a, c.b, c.g
    if a.dim() == 1 and b.dim() == 1:
        return g * b, g * a
    if b.dim() == 1:
        return g.unsqueeze(-1) * b, sum_to((a.mT @ g.unsqueeze(-1)).squeeze(-1), b.shape)
    if a.dim() == 1:
        return sum_to((b @ g.unsqueeze(-1)).squeeze(-1), a.shape), a.unsqueeze(-1) * g.unsqueeze(-2)
    return sum_to(g @ b.mT, a.shape), sum_to(a.mT @ g, b.shape)


def _matmul_special(position: int):
    forms = {  # (a is a vector, b is a vector) -> form
        (True, True): ("{g} · {b}", "{g} · {a}"),
        (False, True): ("{g} ⊗ {b}", "{a}ᵀ @ {g}"),
        (True, False): ("{b} @ {g}", "{a} ⊗ {g}"),
    }
    return lambda c: forms.get((c.a.dim() == 1, c.b.dim() == 1), (None, None))[position]


MATMUL = Rule(
    "matmul", ("matmul", "mm", "bmm", "mv", "dot"),
    applies=lambda c: c.is_operand(0) and c.is_operand(1),
    grads={0: Grad("{g} @ {b}ᵀ", lambda c: _matmul_grads(c)[0], special=_matmul_special(0)),
           1: Grad("{a}ᵀ @ {g}", lambda c: _matmul_grads(c)[1], special=_matmul_special(1))},
)

OUTER = Rule(
    "outer", ("outer",),
    grads={0: Grad("{g} @ {b}", lambda c: c.g @ c.b), 1: Grad("{g}ᵀ @ {a}", lambda c: c.g.T @ c.a)},
)


def _linear_x(c: Call) -> torch.Tensor:
    return c.g @ c.b


def _linear_w(c: Call) -> torch.Tensor:
    rows = c.g.reshape(-1, c.g.shape[-1]) if c.g.dim() else c.g.reshape(1, 1)
    return rows.T @ c.a.reshape(-1, c.a.shape[-1]) if c.a.dim() > 1 else torch.outer(c.g, c.a)


LINEAR = Rule(
    "linear", ("linear",),
    grads={0: Grad("{g} @ {b}", _linear_x),
           1: Grad("{g}ᵀ @ {a}", _linear_w),
           2: Grad("{g}", lambda c: c.g, broadcast=True)},
    generic={"a": "x", "b": "W", "c": "b"},
)

# --- shapes ---------------------------------------------------------------------------------------
RESHAPE = Rule(
    "reshape", ("view", "reshape", "flatten", "view_as", "reshape_as", "squeeze", "unflatten"),
    grads={0: Grad("reshape({g}, {shape})", lambda c: c.g.reshape(c.a.shape))},
    symbols=_shape_symbols, generic={"shape": "shape(a)"},
)

UNSQUEEZE = Rule(
    "unsqueeze", ("unsqueeze",),
    grads={0: Grad("squeeze({g}, {d})", lambda c: c.g.squeeze(_dim(c)))},
    symbols=_dim_symbols,
)


def _transpose_dims(c: Call) -> tuple[int, int]:
    return c.arg(1, "dim0"), c.arg(2, "dim1")


TRANSPOSE = Rule(
    "transpose", ("transpose", "swapaxes", "swapdims"),
    grads={0: Grad("transpose({g}, {d0}, {d1})", lambda c: c.g.transpose(*_transpose_dims(c)))},
    symbols=lambda c: {"d0": str(_transpose_dims(c)[0]), "d1": str(_transpose_dims(c)[1])},
)

T = Rule(
    "t", ("t", "T", "mT"),
    grads={0: Grad("{g}ᵀ", lambda c: c.g.mT if c.op == "mT" else c.g.permute(*reversed(range(c.g.dim()))))},
)


def _permutation(c: Call) -> list[int]:
    dims = c.kwargs.get("dims", c.args[1:])
    dims = list(dims[0]) if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else list(dims)
    return [d % len(dims) for d in dims]


def _inverse(permutation: list[int]) -> list[int]:
    inverse = [0] * len(permutation)
    for position, d in enumerate(permutation):
        inverse[d] = position
    return inverse


PERMUTE = Rule(
    "permute", ("permute",),
    grads={0: Grad("permute({g}, {inv})", lambda c: c.g.permute(*_inverse(_permutation(c))))},
    symbols=lambda c: {"inv": notation.shape_text(_inverse(_permutation(c)))}, generic={"inv": "inverse"},
)


def _expand_symbols(c: Call) -> dict[str, str]:
    return {"dims": ",".join(map(str, broadcast_dims(c.y.shape, c.a.shape)))}


EXPAND = Rule(
    "expand", ("expand", "expand_as", "broadcast_to"),
    grads={0: Grad("Σ[{dims}]({g})", lambda c: sum_to(c.g, c.a.shape))},
    symbols=_expand_symbols, generic={"dims": "new dims"},
)

IDENTITY = Rule(
    "identity", ("clone", "contiguous", "float", "double", "to", "type_as", "half"),
    grads={0: Grad("{g}", lambda c: c.g)},
)


def _plain_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(not isinstance(i, (Operand, list)) for i in items)


def _tensor_index(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, Operand) and i.value is not None for i in items)


def _raw_index(index):
    items = index if isinstance(index, tuple) else (index,)
    return tuple(i.value if isinstance(i, Operand) else i for i in items)


def _index_grad(c: Call) -> torch.Tensor:
    index = c.arg(1)
    grad = torch.zeros(c.a.shape, dtype=c.g.dtype)
    if _plain_index(index):
        grad[_raw_index(index)] += c.g
        return grad
    return grad.index_put_(_raw_index(index), c.g, accumulate=True)


INDEX = Rule(
    "index", ("index",),
    applies=lambda c: _plain_index(c.arg(1)) or _tensor_index(c.arg(1)),
    grads={0: Grad("zeros({shape})[{idx}] += {g}", _index_grad), 1: None},
    symbols=lambda c: {"shape": notation.shape_text(c.a.shape), "idx": index_text(c.arg(1))},
    generic={"shape": "shape(a)", "idx": "i"},
)


def _kept_part(c: Call) -> torch.Tensor:
    grad = c.g.clone()
    grad[_raw_index(c.arg(1))] = 0
    return grad


INDEX_PUT = Rule(
    "index_put", ("index_put_",),
    applies=lambda c: _plain_index(c.arg(1)),
    grads={0: Grad("{g}[{idx}] ← 0", _kept_part),
           2: Grad("{g}[{idx}]", lambda c: sum_to(c.g[_raw_index(c.arg(1))], c.value(2).shape), broadcast=False)},
    symbols=lambda c: {"idx": index_text(c.arg(1))}, generic={"idx": "i"},
)


def _cat_bounds(c: Call) -> tuple[int, int, int]:
    dim = c.arg(1, "dim", 0)
    sizes = [t.value.shape[dim] if t.value.dim() else 1 for t in c.arg(0)]
    low = sum(sizes[: c.k])
    return dim, low, low + sizes[c.k]


def _cat_symbols(c: Call) -> dict[str, str]:
    dim, low, high = _cat_bounds(c)
    return {"sl": slice_text(c.g.dim(), dim, f"{low}:{high}")}


CAT = Rule(
    "cat", ("cat", "concat", "concatenate"),
    applies=lambda c: all(isinstance(t, Operand) and t.value is not None and t.value.numel() > 0 for t in c.arg(0)),
    each=Grad("{g}[{sl}]", lambda c: c.g.narrow(_cat_bounds(c)[0], _cat_bounds(c)[1], _cat_bounds(c)[2] - _cat_bounds(c)[1])),
    symbols=_cat_symbols, generic={"sl": "part k"},
)

STACK = Rule(
    "stack", ("stack",),
    each=Grad("{g}[{sl}]", lambda c: c.g.select(c.arg(1, "dim", 0), c.k)),
    symbols=lambda c: {"sl": slice_text(c.g.dim(), c.arg(1, "dim", 0), str(c.k))}, generic={"sl": "k"},
)


def _pieces_dim(c: Call) -> int:
    if c.op == "unbind":
        return c.arg(1, "dim", 0)
    return c.arg(2, "dim", 0)


SPLIT = Rule(
    "split", ("chunk", "split", "unbind"),
    grads={0: Grad("cat([{gs}], {d})",
                   lambda c: (torch.stack if c.op == "unbind" else torch.cat)(
                       [c.grad(i) for i in range(len(c.outputs))], _pieces_dim(c)),
                   special=lambda c: "stack([{gs}], {d})" if c.op == "unbind" else None)},
    symbols=lambda c: {"d": str(_pieces_dim(c))},
)

# --- losses ---------------------------------------------------------------------------------------
def _pair_count(c: Call) -> int:
    return math.prod(torch.broadcast_shapes(c.a.shape, c.b.shape))


def _mean_count(c: Call, count: int) -> float:
    return count if c.kwargs.get("reduction", "mean") == "mean" else 1


def _reduction_special(c: Call, template: str) -> str:
    return template if c.kwargs.get("reduction", "mean") == "mean" else template.replace(" / {N}", "")


MSE = Rule(
    "mse_loss", ("mse_loss",),
    applies=lambda c: c.is_operand(1),
    grads={0: Grad("{g} · 2·({a} − {b}) / {N}", lambda c: c.g * 2 * (c.a - c.b) / _mean_count(c, _pair_count(c)),
                   broadcast=True, special=lambda c: _reduction_special(c, "{g} · 2·({a} − {b}) / {N}")),
           1: Grad("−{g} · 2·({a} − {b}) / {N}", lambda c: -c.g * 2 * (c.a - c.b) / _mean_count(c, _pair_count(c)),
                   broadcast=True, special=lambda c: _reduction_special(c, "−{g} · 2·({a} − {b}) / {N}"))},
    symbols=lambda c: {"N": str(_pair_count(c))}, generic={"a": "x", "b": "t"},
)


def _class_dim(c: Call) -> int:
    return 0 if c.a.dim() == 1 else 1


def _ce_parts(c: Call) -> tuple[torch.Tensor, torch.Tensor, int]:
    """softmax(a) − target as a distribution, the rows kept (ignore_index), and the mean's N."""
    dim = _class_dim(c)
    probs = torch.softmax(c.a, dim=dim)
    target = c.b
    if target.is_floating_point():
        rows = probs.numel() // probs.shape[dim]
        return probs - target, torch.ones(()), rows
    kept = target != c.kwargs.get("ignore_index", -100)
    safe = torch.where(kept, target, torch.zeros_like(target))
    one_hot = torch.nn.functional.one_hot(safe, probs.shape[dim]).to(probs.dtype)
    if dim == 1 and probs.dim() > 2:
        one_hot = one_hot.movedim(-1, 1)
    weight = kept.to(probs.dtype).unsqueeze(dim)
    return (probs - one_hot) * weight, weight, int(kept.sum())


def _ce_grad(c: Call) -> torch.Tensor:
    difference, _, count = _ce_parts(c)
    grad = c.g if c.g.dim() == 0 else c.g.unsqueeze(_class_dim(c))
    return grad * difference / _mean_count(c, max(count, 1))


def _ce_symbols(c: Call) -> dict[str, str]:
    return {"N": str(max(_ce_parts(c)[2], 1))}


CROSS_ENTROPY = Rule(
    "cross_entropy", ("cross_entropy",),
    applies=lambda c: c.kwargs.get("weight") is None and not c.kwargs.get("label_smoothing") and c.a.dim() in (1, 2),
    grads={0: Grad("{g} · (softmax({a}) − onehot({b})) / {N}", _ce_grad,
                   special=lambda c: _reduction_special(
                       c, "{g} · (softmax({a}) − {b}) / {N}" if c.b.is_floating_point()
                       else "{g} · (softmax({a}) − onehot({b})) / {N}")),
           1: None},
    symbols=_ce_symbols, generic={"a": "z", "b": "t"},
)

BINARY_CROSS_ENTROPY = Rule(
    "binary_cross_entropy", ("binary_cross_entropy",),
    applies=lambda c: c.kwargs.get("weight") is None,
    grads={0: Grad("{g} · ({a} − {b}) / ({a}·(1 − {a})) / {N}",
                   lambda c: c.g * (c.a - c.b) / torch.clamp(c.a * (1 - c.a), min=1e-12) / _mean_count(c, c.a.numel()),
                   special=lambda c: _reduction_special(c, "{g} · ({a} − {b}) / ({a}·(1 − {a})) / {N}")),
           1: None},
    symbols=lambda c: {"N": str(c.a.numel())}, generic={"a": "p", "b": "t"},
)

# --- no gradient at all ---------------------------------------------------------------------------
DETACH = Rule("detach", ("detach",), grads={0: None})

RULES: tuple[Rule, ...] = (
    ADD, SUB, MUL, DIV, POW, POW_TENSOR, POW_SCALAR_BASE, NEG, EXP, LOG, SQRT, ABS, SIN, COS, TANH, SIGMOID,
    RELU, SQUARE, RECIPROCAL, LOG1P, EXPM1, CLAMP, WHERE, SOFTMAX, LOG_SOFTMAX, SUM, MEAN, EXTREME,
    EXTREME_DIM, AMAX, NORM, PROD, MATMUL, OUTER, LINEAR, RESHAPE, UNSQUEEZE, TRANSPOSE, T, PERMUTE,
    EXPAND, IDENTITY, INDEX, INDEX_PUT, CAT, STACK, SPLIT, MSE, CROSS_ENTROPY, BINARY_CROSS_ENTROPY, DETACH,
)

_BY_OP: dict[str, list[Rule]] = {}
for _rule in RULES:
    for _op in _rule.ops:
        _BY_OP.setdefault(_op, []).append(_rule)


def find_rule(call: Call) -> Rule | None:
    """The first rule for the call's op that applies to this call; None: not documented yet."""
    for rule in _BY_OP.get(call.op, ()):
        try:
            if rule.applies(call):
                return rule
        except Exception:  # a rule that cannot even inspect the call does not apply to it
            continue
    return None


def documented_ops() -> list[str]:
    return sorted(_BY_OP)
