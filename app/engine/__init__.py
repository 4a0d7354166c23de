"""The trace engine: run a small PyTorch program safely and record what autograd does.

`trace()` is the whole public surface. It raises `app.errors.ProgramError` for anything the
program did wrong, and returns an `app.trace_model.Trace` otherwise.
"""

from app.engine.tracer import trace, warm_up

__all__ = ["trace", "warm_up"]
