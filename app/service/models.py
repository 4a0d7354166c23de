"""The API's own request and response models (the trace itself is `app.trace_model.Trace`)."""

from __future__ import annotations

from itertools import islice
from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.service.text import clean_text

Scalar = Union[bool, int, float, str, None]


class TraceRequest(BaseModel):
    """A program to trace. Unknown fields are refused (422), so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)

    source: str = Field(description="The program: a small PyTorch script (see /api/examples).")
    root: str | None = Field(
        default=None,
        max_length=200,
        description="Name of the tensor to call backward() on when the program does not call it.",
    )
    gradcheck: bool = Field(default=True, description="Check autograd's gradients by finite differences.")
    eps: float = Field(
        default=1e-3, gt=0, le=1, allow_inf_nan=False, description="Finite-difference step for the check."
    )
    passes: list[int] = Field(
        default_factory=list, max_length=16, description="Backward passes (0-based) to record in full "
        "beside the first and the last (a training loop's others are summarised).",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_fields(cls, data):
        """One error for all unknown fields, found with a set difference, before pydantic would
        build one error per key (a 128 KiB body holds 15,000 of them)."""
        unknown = data.keys() - REQUEST_FIELDS if isinstance(data, dict) else ()
        if unknown:
            shown = [clean_text(str(key)[:40]) for key in islice((key for key in data if key in unknown), 5)]
            names = ", ".join(shown) + (f" and {len(unknown) - len(shown):,} more" if len(unknown) > 5 else "")
            raise PydanticCustomError("extra_forbidden", "unknown fields: {names}", {"names": names})
        return data


REQUEST_FIELDS = frozenset(TraceRequest.model_fields)


class BusyBody(BaseModel):
    kind: Literal["busy"] = "busy"
    message: str
    retry_after_s: int


class BusyResponse(BaseModel):
    """503: every worker is busy and the queue is full; try again after `Retry-After` seconds."""

    error: BusyBody


class PoolState(BaseModel):
    workers: int = Field(description="Worker processes the pool keeps.")
    alive: int = Field(description="Worker processes alive right now.")
    starting: int = Field(default=0, description="Workers being started (each run's worker is replaced).")
    idle: int
    in_flight: int = Field(description="Requests running or waiting for a worker.")
    capacity: int = Field(description="Requests admitted at once (workers + queue); more get 503.")
    runs: int
    timeouts: int = Field(description="Runs killed from outside for running past the time limit.")
    crashes: int = Field(description="Runs whose worker died (killed, out of memory, crashed).")
    restarts: int = Field(description="Workers replaced (after a kill, a crash or their task quota).")


class CacheState(BaseModel):
    """Only its size: entries, hits and misses would tell a stranger what others have traced."""

    max_bytes: int


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "starting"]
    version: str
    python: str
    torch: str
    pool: PoolState
    cache: CacheState = Field(description="Traces of the built-in examples kept by exact request.")
    limits: dict[str, Scalar] = Field(description="The engine's limits in force, per run.")
    service: dict[str, Scalar] = Field(description="The service's limits and settings in force.")
    sandbox: dict = Field(default_factory=dict, description="The kernel sandbox workers enter: each layer "
                          "(`layers`: on / off / unavailable, with a reason), and `refusal`: why programs "
                          "are not run, when they are not.")


class Example(BaseModel):
    id: str
    title: str
    description: str
    source: str
    translations: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="Title and description by language, e.g. translations['pt-BR']['title']."
    )
