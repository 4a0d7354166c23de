"""Forward recording: every torch call the program makes passes through `ForwardRecorder`.

`TorchFunctionMode` sees calls at the level the program wrote them (`F.cross_entropy`, `x * w`,
`e.pow(2)`), not the aten kernels underneath, which is the level a person reasons at. Inside the
handler torch disables the mode, so a library function's internal calls are not recorded twice.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from app.engine.graph import GraphBuilder

# Property reads that make a new tensor worth drawing (a transpose is a real view op).
_RECORDED_PROPERTIES = {"T", "mT", "H", "mH"}
# Calls that change a tensor's flags but not its value: same node, new flags.
_FLAG_CALLS = {"requires_grad_", "retain_grad"}
_NEVER_RECORDED = {"backward", "__repr__", "__format__", "__str__", "numpy", "tolist", "item", "__bool__", "__len__"}


def _is_property_read(func) -> bool:
    return getattr(func, "__name__", None) == "__get__"


def _property_name(func) -> str | None:
    return getattr(getattr(func, "__self__", None), "__name__", None)


class ForwardRecorder(TorchFunctionMode):
    def __init__(self, graph: GraphBuilder, paused: Callable[[], AbstractContextManager]):
        super().__init__()
        self.graph = graph
        self.paused = paused
        self.enabled = True

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.enabled:
            with self.paused():  # summarising values is Grafo's work, not the program's
                self._observe(func, args, kwargs, result)
        return result

    def _observe(self, func, args, kwargs, result) -> None:
        name = getattr(func, "__name__", "")
        if name in _NEVER_RECORDED:
            return
        if name in _FLAG_CALLS:
            self.graph.refresh_flags(args[0])
            return
        if _is_property_read(func) and _property_name(func) not in _RECORDED_PROPERTIES:
            return
        if name == "__setitem__" or any(isinstance(v, torch.Tensor) for v in tree_flatten(result)[0]):
            self.graph.record_op(func, args, kwargs, result)
