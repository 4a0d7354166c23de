"""The trace engine: run a PyTorch program as real Python and record what autograd does.

`trace()` is the whole public surface. It raises `app.errors.ProgramError` for anything the
program did wrong, and returns an `app.trace_model.Trace` otherwise. It does not confine the
program: the service runs it inside the kernel sandbox (`app.sandbox`); locally, it is the
person's own code.
"""

from app.engine.tracer import trace, warm_up

__all__ = ["trace", "warm_up"]
