"""Names and display labels for recorded ops: `mul` shown as `×`, `pow` with its exponent as `pow 2`."""

from __future__ import annotations

import ast
from functools import lru_cache

import torch

# How torch names the function it was handed -> the op name Grafo shows (`__rsub__` is `1 - x`).
_CANONICAL = {
    "__rsub__": "sub", "__rdiv__": "div", "__rtruediv__": "div", "__rpow__": "pow", "__rmatmul__": "matmul",
    "__radd__": "add", "__rmul__": "mul", "__getitem__": "index", "__setitem__": "index_put_",
    "__floordiv__": "floor_divide", "__rfloordiv__": "floor_divide", "__mod__": "remainder",
    "__rmod__": "remainder", "__neg__": "neg", "__and__": "logical_and", "__or__": "logical_or",
    "true_divide": "div", "subtract": "sub", "multiply": "mul", "divide": "div", "negative": "neg",
}
REVERSED = {"__rsub__", "__rdiv__", "__rtruediv__", "__rpow__", "__rmatmul__", "__rfloordiv__", "__rmod__"}

_SYMBOLS = {
    "add": "+", "sub": "−", "mul": "×", "div": "÷", "matmul": "@", "neg": "−", "floor_divide": "//",
    "remainder": "%", "eq": "==", "ne": "!=", "lt": "<", "le": "≤", "gt": ">", "ge": "≥",
    "add_": "+=", "sub_": "−=", "mul_": "×=", "div_": "÷=",
}

# Keyword values torch fills in by default; showing them would only add noise.
_DEFAULT_KWARGS = {
    ("inplace", False), ("reduction", "mean"), ("ignore_index", -100), ("label_smoothing", 0.0),
    ("keepdim", False), ("training", True), ("p", 0.5), ("negative_slope", 0.01), ("alpha", 1),
    ("approximate", "none"), ("beta", 1.0), ("threshold", 20.0), ("eps", 1e-12), ("dtype", None),
}


def canonical_name(func) -> str:
    name = getattr(func, "__name__", str(func))
    if name == "__get__":  # a property such as `.T`
        name = getattr(getattr(func, "__self__", None), "__name__", name)
    return _CANONICAL.get(name, name.strip("_") if name.startswith("__") else name)


def short_text(value, limit: int = 24) -> str:
    if isinstance(value, torch.dtype):
        text = str(value).removeprefix("torch.")
    elif isinstance(value, float):
        text = f"{value:g}"
    elif isinstance(value, slice):
        text = ":".join("" if part is None else str(part) for part in (value.start, value.stop, value.step)).rstrip(":")
        text = text or ":"
    elif value is Ellipsis:
        text = "..."
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def params_of(args, kwargs) -> dict[str, str]:
    """The arguments that are not tensors, as short text: what makes `pow 2` differ from `pow 3`."""
    params: dict[str, str] = {}
    for position, value in enumerate(args):
        if not _holds_tensor(value):
            params[f"arg{position}"] = short_text(value)
    for key, value in (kwargs or {}).items():
        if value is None or _holds_tensor(value) or _is_default(key, value):
            continue
        params[key] = short_text(value)
    return params


def _is_default(key, value) -> bool:
    try:
        return (key, value) in _DEFAULT_KWARGS
    except TypeError:
        return False


def _holds_tensor(value) -> bool:
    if isinstance(value, torch.Tensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_tensor(item) for item in value)
    return False


def display_label(func_name: str, op: str, params: dict[str, str], index_text: str | None = None) -> str:
    """`×`, `× 2`, `1 −`, `pow 2`, `sum dim=1`, `[:, 1]`."""
    if op == "index" and index_text:
        return f"[{index_text}]"
    symbol = _SYMBOLS.get(op)
    scalars = [value for key, value in params.items() if key.startswith("arg")]
    if symbol:
        if not scalars:
            return symbol
        return f"{scalars[0]} {symbol}" if func_name in REVERSED else f"{symbol} {scalars[0]}"
    extra = " ".join(scalars[:2] + [f"{k}={v}" for k, v in params.items() if not k.startswith("arg")][:2])
    label = f"{op} {extra}".strip()
    return label if len(label) <= 28 else label[:27] + "…"


@lru_cache(maxsize=4096)
def index_text(expression: str | None) -> str | None:
    """`:, 1` for the expression `x[:, 1]`: what goes between the brackets of an indexing op."""
    if not expression:
        return None
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        return None
    if isinstance(node, ast.Subscript):
        return ast.get_source_segment(expression, node.slice)
    return None


def shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
