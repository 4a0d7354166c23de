"""What a name in a program can stand for besides plain data, and how `torch.xxx` is resolved.

A program never holds a module, a Python function or an autograd node. It holds small stand-ins:
`Namespace("torch")` instead of the module `torch` (so `torch.os` is a refusal, not the `os`
module), `Function` for one allowlisted callable, `Method` for a tensor method bound to its tensor,
`PrintOnly` for things that may be shown but not used (a NumPy array, a `grad_fn`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from app.engine import allowlist
from app.errors import ProgramError


@dataclass(frozen=True)
class Namespace:
    """A module path the program imported: `torch`, `torch.nn`, `torch.nn.functional`, `torch.autograd`."""

    path: str

    def __str__(self) -> str:
        return f"<module '{self.path}'>"


@dataclass(frozen=True)
class Function:
    """One allowlisted callable, known by the dotted name the program used."""

    name: str
    call: Callable[..., Any]

    def __str__(self) -> str:
        return f"<function {self.name}>"


@dataclass(frozen=True)
class Method:
    """`tensor.name`, not yet called."""

    tensor: torch.Tensor
    name: str

    def __str__(self) -> str:
        return f"<method Tensor.{self.name}>"


@dataclass(frozen=True)
class PrintOnly:
    """A value that can be printed and nothing else (`.numpy()`, `grad_fn`)."""

    text: str
    what: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class GradMode:
    """`torch.no_grad()` / `torch.enable_grad()`, for `with` statements."""

    enabled: bool

    def __str__(self) -> str:
        return "torch.enable_grad()" if self.enabled else "torch.no_grad()"


class NamedTuple(tuple):
    """torch's `return_types` (e.g. `max(dim=...)`): a tuple whose fields can be read by name."""

    fields: tuple[str, ...] = ()

    @classmethod
    def of(cls, value: tuple, fields: tuple[str, ...]) -> "NamedTuple":
        result = cls(value)
        result.fields = fields
        return result


MODULE_PATHS = {"torch", "torch.nn", "torch.nn.functional", "torch.autograd"}


def seed_cpu(seed: int) -> None:
    """Seed torch's CPU generator. `torch.manual_seed` would also queue seeds for CUDA, XPU and
    MTIA, formatting a stack trace each time (a millisecond per trace, for devices Grafo never uses)."""
    torch.default_generator.manual_seed(seed)


def _manual_seed(seed) -> None:
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ProgramError("type", "torch.manual_seed expects an integer seed")
    seed_cpu(seed)  # torch.manual_seed returns a Generator object, which a program must not hold


def _no_grad() -> GradMode:
    return GradMode(False)


def _enable_grad() -> GradMode:
    return GradMode(True)


def _variable(tensor, requires_grad: bool = False, volatile: bool = False):
    """The pre-0.4 `Variable(t, requires_grad=...)`: today a tensor that may require grad."""
    if not isinstance(tensor, torch.Tensor):
        raise ProgramError("type", "Variable() expects a tensor")
    if not requires_grad:
        return tensor
    if tensor.is_leaf and not tensor.requires_grad:
        return tensor.requires_grad_(True)
    if tensor.is_leaf:
        return tensor
    return tensor.detach().requires_grad_(True)


_SPECIAL = {
    "torch.manual_seed": _manual_seed,
    "torch.no_grad": _no_grad,
    "torch.enable_grad": _enable_grad,
    "torch.autograd.Variable": _variable,
}


def resolve(path: str) -> Any:
    """The value of a dotted name such as `torch.ones`. Anything not allowlisted is refused."""
    if path in MODULE_PATHS:
        return Namespace(path)
    if path in _SPECIAL:
        return Function(path, _SPECIAL[path])
    module, _, name = path.rpartition(".")
    if module == "torch" and name in allowlist.TORCH_FUNCTIONS:
        return Function(path, getattr(torch, name))
    if module == "torch" and name in allowlist.DTYPES:
        return getattr(torch, name)
    if module == "torch.nn.functional" and name in allowlist.FUNCTIONAL:
        return Function(path, getattr(F, name))
    raise ProgramError("forbidden", f"{path} is not available in Grafo programs")
