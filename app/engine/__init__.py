"""The trace engine: run a small PyTorch program safely and record what autograd does.

`trace()` is the whole public surface. It raises `app.errors.ProgramError` for anything the
program did wrong, and returns an `app.trace_model.Trace` otherwise.
"""

from app.engine.tracer import trace

__all__ = ["trace", "warm_up"]

WARM_UP_PROGRAM = """\
import torch
import torch.nn.functional as F
w = torch.ones(2, 2, requires_grad=True)
x = torch.arange(4.0).reshape(2, 2)
J = F.mse_loss(torch.sigmoid(x @ w).sum(dim=0), torch.zeros(2))
J.backward()
"""


def warm_up() -> None:
    """Trace a small program once, so a worker's first real request does not pay torch's
    one-time set-up (about a second for the meta-device kernels)."""
    trace(WARM_UP_PROGRAM)
