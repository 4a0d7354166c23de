"""Every public name of `torch`, `torch.Tensor` and `torch.nn.functional`, against the allowlist.

A name not on the allowlist must be refused by the interpreter (kind `forbidden`); a name on it
must belong to one of the documented groups of `app/engine/allowlist.py` (whose docstring says why
each group is safe) and must not be one of the names known to be dangerous. A torch upgrade that
adds a name changes nothing until someone allowlists it on purpose; one that removes an allowlisted
name fails here.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from app.engine import allowlist, trace
from app.engine.bindings import MODULE_PATHS
from app.errors import ProgramError
from tests.security.harness import REPORT

# Never on the allowlist, whatever a reviewer thinks (../shared/design/security.md).
DANGEROUS_TORCH = {
    "load", "save", "from_file", "hub", "ops", "classes", "jit", "compile", "package", "library", "utils",
    "distributed", "fx", "set_default_device", "set_default_dtype", "set_default_tensor_type", "empty",
    "empty_like", "empty_strided", "empty_permuted", "os", "sys", "builtins", "ctypes", "set_num_threads",
    "set_num_interop_threads", "set_printoptions", "set_rng_state", "set_grad_enabled", "inference_mode",
    "use_deterministic_algorithms", "as_strided", "from_numpy", "frombuffer", "cuda", "backends", "multiprocessing",
    "autograd", "nn", "testing", "serialization", "storage", "UntypedStorage", "TypedStorage", "Generator",
    "set_anomaly_enabled", "manual_seed",  # manual_seed is reached only through its checked wrapper
}
DANGEROUS_TENSOR = {
    "storage", "untyped_storage", "_typed_storage", "set_", "data_ptr", "numpy", "tofile", "share_memory_",
    "apply_", "map_", "map2_", "register_hook", "register_post_accumulate_grad_hook", "as_strided", "as_strided_",
    "cuda", "cpu", "resize_", "resize_as_", "new_empty", "new_empty_strided", "grad_fn", "__reduce_ex__",
    "pin_memory", "type", "storage_offset", "to_sparse", "is_shared",
}
# Allowlisted on purpose although listed above: handled specially, never handed over as they are.
SPECIAL_TENSOR = {"numpy": "calls.py: printable text only", "grad_fn": "interpreter: a printable name only"}

GROUPS = {
    "CREATION": allowlist.CREATION, "MATH": allowlist.MATH, "REDUCTIONS": allowlist.REDUCTIONS,
    "LINEAR_ALGEBRA": allowlist.LINEAR_ALGEBRA, "SHAPES": allowlist.SHAPES, "DTYPES": allowlist.DTYPES,
    "FUNCTIONAL": allowlist.FUNCTIONAL, "IN_PLACE": allowlist.IN_PLACE, "CONVERSIONS": allowlist.CONVERSIONS,
    "TENSOR_ONLY": allowlist.TENSOR_ONLY, "TENSOR_ATTRIBUTES": allowlist.TENSOR_ATTRIBUTES,
}
T = "import torch\nimport torch.nn.functional as F\n"


def _public(obj) -> list[str]:
    return sorted(name for name in dir(obj) if not name.startswith("_"))


def _refused(source: str) -> ProgramError | None:
    try:
        trace(source, gradcheck=False)
    except ProgramError as error:
        return error
    return None


def _allowed_torch(name: str) -> bool:
    return (name in allowlist.TORCH_FUNCTIONS or name in allowlist.DTYPES
            or f"torch.{name}" in MODULE_PATHS or f"torch.{name}" in {"torch.no_grad", "torch.enable_grad",
                                                                       "torch.manual_seed"})


def _allowed_tensor(name: str) -> bool:
    return name in allowlist.TENSOR_METHODS or name in allowlist.TENSOR_ATTRIBUTES


SWEEPS = {
    "torch": (_public(torch), _allowed_torch, "x = torch.{}"),
    "torch.Tensor": (_public(torch.Tensor), _allowed_tensor, "t = torch.ones(1)\nx = t.{}"),
    "torch.nn.functional": (_public(F), lambda name: name in allowlist.FUNCTIONAL, "x = F.{}"),
}


@pytest.mark.parametrize("module", list(SWEEPS))
def test_every_public_name(module):
    names, allowed, template = SWEEPS[module]
    refused, admitted, leaks = 0, [], []
    for name in names:
        error = _refused(T + template.format(name))
        if allowed(name):
            admitted.append(name)
            assert error is None or error.kind != "forbidden", (name, error)
        else:
            if error is None or error.kind != "forbidden":
                leaks.append((name, error))
            else:
                refused += 1
    assert leaks == [], f"names not on the allowlist but not refused: {leaks[:20]}"
    REPORT.append(f"sweep {module}: {len(names)} public names, {refused} refused, {len(admitted)} allowlisted")


def test_allowlisted_names_exist_and_are_grouped():
    """Each allowlisted name is a real torch name, sits in a documented group, and is not dangerous."""
    doc = allowlist.__doc__
    for group in ("CREATION", "MATH, REDUCTIONS, SHAPES, LOSSES", "IN_PLACE", "AUTOGRAD"):
        assert group in doc
    for name in allowlist.TORCH_FUNCTIONS | allowlist.DTYPES:
        assert hasattr(torch, name), f"torch.{name} no longer exists"
        assert name not in DANGEROUS_TORCH, name
        assert any(name in members for members in GROUPS.values()), name
    for name in allowlist.FUNCTIONAL:
        assert hasattr(F, name), f"F.{name} no longer exists"
    for name in allowlist.TENSOR_METHODS | allowlist.TENSOR_ATTRIBUTES:
        assert hasattr(torch.Tensor, name), f"Tensor.{name} no longer exists"
        assert name not in DANGEROUS_TENSOR or name in SPECIAL_TENSOR, name
        assert any(name in members for members in GROUPS.values()), name
    assert not (allowlist.FORBIDDEN_KEYWORDS & {"dtype", "requires_grad", "dim"})


def test_dangerous_names_are_refused_everywhere():
    for name in sorted(DANGEROUS_TORCH):
        error = _refused(T + f"x = torch.{name}")
        if name in ("autograd", "nn", "manual_seed"):
            continue  # a namespace stand-in and a checked wrapper, never the real object
        assert error is not None and error.kind == "forbidden", name
    for name in sorted(DANGEROUS_TENSOR - set(SPECIAL_TENSOR)):
        error = _refused(T + f"t = torch.ones(1)\nx = t.{name}")
        assert error is not None and error.kind == "forbidden", name


def test_every_allowlisted_tensor_method_runs_at_class_level():
    """Methods are looked up on torch.Tensor, never on the instance (calls.call_method)."""
    assert re.search(r"getattr\(torch\.Tensor, name\)", open(allowlist.__file__.replace("allowlist", "calls")).read())
