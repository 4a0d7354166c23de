"""Every limit Grafo enforces, with its default, in one place.

Each field can be overridden by an environment variable `GRAFO_<FIELD NAME IN CAPITALS>`
(for example `GRAFO_MAX_SOURCE_BYTES=32768`). The engine reads `Limits`; the web service reads
`ServiceSettings`, which carries the engine's limits to its workers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace


def _from_env(cls, prefix: str = "GRAFO_"):
    """Build a dataclass from its defaults, overridden by matching environment variables."""
    overrides = {}
    for field in fields(cls):
        raw = os.environ.get(prefix + field.name.upper())
        if raw is None:
            continue
        default = field.default
        if isinstance(default, bool):
            overrides[field.name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            overrides[field.name] = int(float(raw))
        elif isinstance(default, float):
            overrides[field.name] = float(raw)
        else:
            overrides[field.name] = raw
    return cls(**overrides)


@dataclass(frozen=True)
class Limits:
    """Bounds on one program run. Every one of them has its own error message."""

    max_source_bytes: int = 16 * 1024
    max_lines: int = 1000
    max_statements: int = 400
    max_ast_nodes: int = 20_000
    max_expression_depth: int = 64
    max_int_bits: int = 64
    max_sequence_length: int = 10_000
    max_string_length: int = 10_000
    max_tensor_elements: int = 1_000_000
    max_total_elements: int = 50_000_000
    max_matmul_flops: int = 2_000_000_000
    max_ops: int = 10_000
    max_output_chars: int = 64 * 1024
    max_output_lines: int = 500
    time_limit_s: float = 5.0
    value_preview_elements: int = 1_000
    gradcheck_max_elements: int = 64
    seed: int = 0

    @classmethod
    def from_env(cls) -> "Limits":
        return _from_env(cls)

    def with_changes(self, **changes) -> "Limits":
        return replace(self, **changes)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_LIMITS = Limits()
