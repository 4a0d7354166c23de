"""Helpers for engine tests: find nodes by name and compare trace values with torch tensors."""

from __future__ import annotations

import math

import torch

from app.trace_model import TensorNode, TensorValue, Trace


def tensor_nodes(trace: Trace) -> list[TensorNode]:
    return [node for node in trace.nodes if node.kind == "tensor"]


def node_named(trace: Trace, name: str) -> TensorNode:
    """The last tensor node bound to `name` (a name can be reassigned)."""
    matches = [node for node in tensor_nodes(trace) if name in node.names]
    assert matches, f"no tensor node named {name!r}; names: {[n.names for n in tensor_nodes(trace)]}"
    return matches[-1]


def as_tensor(value: TensorValue) -> torch.Tensor:
    """Rebuild a tensor from a summarised value (non-finite strings back to floats)."""
    assert not value.truncated

    def decode(item):
        if isinstance(item, list):
            return [decode(x) for x in item]
        return float(item) if isinstance(item, str) else item

    return torch.tensor(decode(value.data), dtype=torch.float64).reshape(value.shape)


def assert_close(value: TensorValue, expected: torch.Tensor, atol: float = 1e-5) -> None:
    expected = expected.detach().to(torch.float64)
    assert list(expected.shape) == value.shape, (expected.shape, value.shape)
    actual = as_tensor(value)
    assert torch.allclose(actual, expected, atol=atol, rtol=1e-5, equal_nan=True), (actual, expected)


def is_nan(number) -> bool:
    return number == "nan" or (isinstance(number, float) and math.isnan(number))
