"""Calling allowlisted functions and tensor methods, with the few that need special care.

Tensor methods are invoked at class level (`torch.Tensor.pow(t, 2)`), never through attribute
lookup on the object, so nothing a tensor carries can stand in for the method. The special ones:
`backward` (recorded by the backward recorder), `numpy` (printable only), `to` (dtypes only, never a
device), `tolist` (bounded).
"""

from __future__ import annotations

import torch

from app.engine.bindings import PrintOnly
from app.errors import ProgramError


def call_method(run, tensor: torch.Tensor, name: str, args: list, kwargs: dict):
    special = _SPECIAL_METHODS.get(name)
    if special is not None:
        return special(run, tensor, args, kwargs)
    return getattr(torch.Tensor, name)(tensor, *args, **kwargs)


def _backward(run, tensor: torch.Tensor, args: list, kwargs: dict):
    names = ["gradient", "retain_graph", "create_graph", "inputs"]
    if len(args) > len(names):
        raise ProgramError("type", "backward() takes at most 4 arguments")
    options = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise ProgramError("type", f"backward() got an unexpected keyword argument {key!r}")
        options[key] = value
    if options.get("create_graph"):
        raise ProgramError("forbidden", "backward(create_graph=True) (higher-order gradients) is not supported yet")
    if options.get("inputs") is not None:
        raise ProgramError("forbidden", "backward(inputs=...) is not supported yet")
    gradient = options.get("gradient")
    if gradient is not None and not isinstance(gradient, torch.Tensor):
        raise ProgramError("type", "backward(gradient=...) must be a tensor")
    run.backward(tensor, gradient, options.get("retain_graph"), implicit=False)
    return None


def _numpy(run, tensor: torch.Tensor, args: list, kwargs: dict):
    with run.paused():
        text = str(tensor.numpy(*args, **kwargs))  # raises torch's own error if it requires grad
    return PrintOnly(text, "NumPy array")


def _tolist(run, tensor: torch.Tensor, args: list, kwargs: dict):
    if tensor.numel() > run.limits.max_sequence_length:
        raise ProgramError("limit", f".tolist() of {tensor.numel():,} elements is over the limit of "
                           f"{run.limits.max_sequence_length:,}")
    return tensor.tolist()


def _to(run, tensor: torch.Tensor, args: list, kwargs: dict):
    allowed = all(isinstance(a, (torch.dtype, torch.Tensor)) for a in args) and set(kwargs) <= {"dtype", "copy"}
    if not allowed:
        raise ProgramError("forbidden", ".to() accepts a dtype only (Grafo runs on the CPU)")
    return tensor.to(*args, **kwargs)


_SPECIAL_METHODS = {"backward": _backward, "numpy": _numpy, "tolist": _tolist, "to": _to}
