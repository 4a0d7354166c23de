"""Turn tensors into `TensorValue`s: small enough to send, honest about what was left out.

NaN and infinities are ordinary values in deep learning, but JSON has no words for them, so they
travel as the strings "nan", "inf" and "-inf" (see `json_number`).
"""

from __future__ import annotations

import math

import torch

from app.trace_model import TensorValue


def json_number(value):
    """A Python number as JSON can carry it."""
    if isinstance(value, float) and not math.isfinite(value):
        if math.isnan(value):
            return "nan"
        return "inf" if value > 0 else "-inf"
    return value


def _json_data(data):
    if isinstance(data, list):
        return [_json_data(item) for item in data]
    return json_number(data)


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _statistics(flat: torch.Tensor):
    """min, max and mean over every element (in float64, so integer tensors have a mean too)."""
    if flat.numel() == 0 or flat.is_complex():
        return None, None, None
    if flat.dtype == torch.bool:
        return bool(flat.min()), bool(flat.max()), json_number(flat.double().mean().item())
    # No float64 copy of the whole tensor (a program near its memory limit must still be summarised);
    # `.item()` keeps integers exact.
    minimum = flat.min().item()
    maximum = flat.max().item()
    mean = float(flat.mean(dtype=torch.float64))
    return json_number(minimum), json_number(maximum), json_number(mean)


def _small_statistics(values: list, is_float: bool):
    """The same statistics in plain Python: much faster than torch for a handful of numbers."""
    if not values:
        return None, None, None
    if is_float and any(math.isnan(v) for v in values):
        return "nan", "nan", "nan"
    mean = math.fsum(float(v) for v in values) / len(values)
    return json_number(min(values)), json_number(max(values)), json_number(mean)


def _flatten(nested) -> list:
    if not isinstance(nested, list):
        return [nested]
    flat: list = []
    stack = [nested]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        else:
            flat.append(item)
    return flat


_SMALL = 16  # up to this many elements, plain Python beats a torch call


def summarize(tensor: torch.Tensor, preview_elements: int) -> TensorValue:
    """Summarise a tensor's current value. Never keeps a reference to it.

    Small tensors (the common case in lessons) are read once with `tolist()` and summarised in
    Python. Larger ones get their statistics from torch, and their numbers are walked in Python
    only when some are NaN or infinite (JSON's strings for them); a training loop summarises
    thousands of them.
    """
    numel = tensor.numel()
    # An empty tensor can have big dimensions ((1, 10**6, 0) would be a million nested empty
    # lists): such a tensor is sent flat, like a truncated one (with no elements to show).
    padded = math.prod(max(size, 1) for size in tensor.shape)
    truncated = numel > preview_elements or padded > preview_elements
    detached = tensor.detach()
    if numel <= _SMALL and not truncated:
        nested = detached.tolist()
        data = _json_data(nested)
        minimum, maximum, mean = _small_statistics(_flatten(nested), tensor.is_floating_point())
    else:
        shown = detached.reshape(-1)[:preview_elements] if truncated else detached
        data = shown.tolist()
        if (shown.is_floating_point() or shown.is_complex()) and not bool(torch.isfinite(shown).all()):
            data = _json_data(data)
        minimum, maximum, mean = _statistics(detached.reshape(-1))
    return TensorValue.model_construct(  # built from trusted values: skip validation, a hot path
        shape=list(tensor.shape),
        dtype=dtype_name(tensor.dtype),
        numel=numel,
        data=data,
        truncated=truncated,
        min=minimum,
        max=maximum,
        mean=mean,
    )


def shrink_previews(model, preview_elements: int) -> None:
    """Cut every `TensorValue` inside `model` (a Trace, or any part of one) to `preview_elements`
    numbers, flat and marked `truncated`; shapes and statistics stay as they were."""
    stack = [model]
    while stack:
        item = stack.pop()
        if isinstance(item, TensorValue):
            flat = _flatten(item.data)
            if len(flat) > preview_elements:
                item.data = flat[:preview_elements]
                item.truncated = True
        elif isinstance(item, list):
            stack.extend(item)
        elif hasattr(item, "__pydantic_fields__"):
            stack.extend(getattr(item, name) for name in type(item).model_fields)
