"""How numbers, tensors and gradients are written in explanations: compact and language-neutral.

The lesson writes `[0,-2,-4,-6]` and `-28`, so whole numbers drop their `.0`, lists have no spaces,
and big tensors are cut to their first few numbers followed by their shape, so a line stays
readable however large the program's tensors are.
"""

from __future__ import annotations

import math

import torch

FULL_ELEMENTS = 12  # tensors up to this many numbers are written in full
HEAD_ELEMENTS = 4  # larger ones: this many, then `…` and the shape
_SUBSCRIPT_LIMIT = 24  # longer expression labels are cut


def number(value) -> str:
    """`-28`, `0.5`, `1.235e-05`, `nan`: short, and whole numbers without a decimal point."""
    if isinstance(value, bool):
        return "1" if value else "0"
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def shape_text(shape) -> str:
    """`[2,3]`, the way torch.Size would be written as a list."""
    return "[" + ",".join(str(size) for size in shape) + "]"


def _nested(values) -> str:
    if isinstance(values, list):
        return "[" + ",".join(_nested(item) for item in values) + "]"
    return number(values)


def tensor(value: torch.Tensor | None) -> str:
    """A tensor's numbers as text; `0` for a gradient that did not flow (None)."""
    if value is None:
        return "0"
    value = value.detach()
    if value.dim() == 0:
        return number(value.item())
    if value.numel() <= FULL_ELEMENTS:
        return _nested(value.tolist())
    head = ",".join(number(item) for item in value.reshape(-1)[:HEAD_ELEMENTS].tolist())
    return f"[{head},…]{shape_text(value.shape)}"


def name(label: str | None, fallback: str) -> str:
    """A tensor's name for formulas: its program name, or its expression in parentheses."""
    text = label or fallback
    if text.isidentifier():
        return text
    if len(text) > _SUBSCRIPT_LIMIT:
        text = text[: _SUBSCRIPT_LIMIT - 1] + "…"
    return f"({text})"


def prime(version: int) -> str:
    """`′` marks for a tensor changed in place: `h′` is h after its first in-place change."""
    return ("′", "″", "‴")[version - 1] if 0 < version <= 3 else f"⁽{version}⁾" if version else ""


def gradient(root: str, of: str) -> str:
    """`dJ/de`: the gradient of the root with respect to a tensor, as the lesson writes it."""
    return f"d{root}/d{of}"


def reduced_sum(dims: list[int], inner: str) -> str:
    """`Σ[0](…)`: a sum over the dimensions a broadcast had added."""
    return f"Σ[{','.join(str(d) for d in dims)}]({inner})"


def join(*parts: str | None) -> str:
    """`a = b = c`, skipping the parts that are missing or say the same as the one before."""
    kept: list[str] = []
    for part in parts:
        if part is not None and (not kept or kept[-1] != part):
            kept.append(part)
    return " = ".join(kept)
