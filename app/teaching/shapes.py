"""Shape helpers the rules share: undoing a broadcast, a reduction, a slice; writing an index as text."""

from __future__ import annotations

import torch

from app.teaching import notation


def broadcast_dims(grad_shape, shape) -> list[int]:
    """The dims (of the gradient) a broadcast from `shape` to `grad_shape` added or stretched."""
    grad_shape, shape = list(grad_shape), list(shape)
    lead = len(grad_shape) - len(shape)
    dims = list(range(lead))
    dims += [lead + i for i, size in enumerate(shape) if size == 1 and grad_shape[lead + i] != 1]
    return dims


def sum_to(grad: torch.Tensor, shape) -> torch.Tensor:
    """Sum a gradient down to an operand's shape, the way autograd undoes a broadcast."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    return grad.sum_to_size(shape) if shape else grad.sum()


def dims_of(dim, ndim: int) -> list[int]:
    """A `dim` argument (int, tuple, list or None) as sorted non-negative dims."""
    if dim is None:
        return list(range(ndim))
    dims = [dim] if isinstance(dim, int) else list(dim)
    return sorted(d % max(ndim, 1) for d in dims)


def unreduce(grad: torch.Tensor, shape, dims: list[int], keepdim: bool) -> torch.Tensor:
    """Put back the reduced dims (size 1) and expand to the input's shape."""
    if not keepdim:
        for d in dims:
            grad = grad.unsqueeze(d)
    return grad.expand(tuple(shape))


def keep(values: torch.Tensor, dims: list[int], keepdim: bool) -> torch.Tensor:
    """A reduction's result with its reduced dims put back as size 1, to broadcast against the input."""
    if not keepdim:
        for d in dims:
            values = values.unsqueeze(d)
    return values


def _index_item(item) -> str:
    if isinstance(item, slice):
        parts = ["" if part is None else str(part) for part in (item.start, item.stop, item.step)]
        return ":".join(parts).rstrip(":") or ":"
    if item is Ellipsis:
        return "..."
    if item is None:
        return "None"
    if hasattr(item, "node"):  # an Operand (a tensor used as an index)
        value = getattr(item, "value", None)
        return notation.tensor(value) if value is not None else "…"
    if isinstance(item, bool):
        return str(item)
    if isinstance(item, (list, tuple)):
        return "[" + ",".join(_index_item(x) for x in item) + "]"
    return str(item)


def index_text(index) -> str:
    """`:, 1` for `x[:, 1]`: the index as the program wrote it."""
    items = index if isinstance(index, tuple) else (index,)
    return ", ".join(_index_item(item) for item in items)


def slice_text(ndim: int, dim: int, item: str) -> str:
    """`:, 3:6` : an index that picks `item` along `dim` and everything elsewhere."""
    dim = dim % ndim
    return ", ".join([":"] * dim + [item])
