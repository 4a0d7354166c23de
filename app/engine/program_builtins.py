"""The handful of Python built-ins a program may call: `print`, `len`, `float`, `int`, ...

`print` writes to the trace's output (bounded), never to the server's stdout. The others are the
real built-ins wrapped so that sizes stay bounded (`list(range(10**9))` is refused, not built).
"""

from __future__ import annotations

import builtins
from typing import Any, Callable

import torch

from app.errors import ProgramError
from app.settings import Limits


class Output:
    """What the program printed, as lines, within the output limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.lines: list[str] = []
        self._partial = ""
        self._chars = 0

    def write(self, text: str) -> None:
        self._chars += len(text)
        if self._chars > self.limits.max_output_chars:
            raise ProgramError("limit", f"the program printed more than {self.limits.max_output_chars:,} characters")
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        self.lines.extend(pieces)
        if len(self.lines) > self.limits.max_output_lines:
            raise ProgramError("limit", f"the program printed more than {self.limits.max_output_lines:,} lines")

    def finish(self) -> list[str]:
        if self._partial:
            self.lines.append(self._partial)
            self._partial = ""
        return self.lines


def _bounded_length(value, limits: Limits) -> int:
    if isinstance(value, torch.Tensor):
        return value.shape[0] if value.dim() else 0
    try:
        return len(value)
    except TypeError:
        raise ProgramError("type", f"{type(value).__name__} values cannot be turned into a list")


def make_builtins(limits: Limits, to_text: Callable[[Any], str], output: Output) -> dict[str, Callable]:
    """The built-ins, closed over this run's limits and output."""

    def check_length(value) -> None:
        length = _bounded_length(value, limits)
        if length > limits.max_sequence_length:
            raise ProgramError("limit", f"a list of {length:,} items is over the limit of {limits.max_sequence_length:,}")

    def program_print(*values, sep=" ", end="\n") -> None:
        if not isinstance(sep, str) or not isinstance(end, str):
            raise ProgramError("type", "print's sep and end must be strings")
        output.write(sep.join(to_text(value) for value in values) + end)

    def program_range(*args):
        result = range(*args)
        check_length(result)
        return result

    def program_list(value=()):
        check_length(value)
        return list(value)

    def program_tuple(value=()):
        check_length(value)
        return tuple(value)

    def program_reduce(function):
        def reduce(*args, **kwargs):
            if len(args) == 1:
                check_length(args[0])
            return function(*args, **kwargs)
        return reduce

    return {
        "print": program_print,
        "len": builtins.len,
        "float": builtins.float,
        "int": builtins.int,
        "bool": builtins.bool,
        "abs": builtins.abs,
        "round": builtins.round,
        "min": program_reduce(builtins.min),
        "max": program_reduce(builtins.max),
        "sum": program_reduce(builtins.sum),
        "list": program_list,
        "tuple": program_tuple,
        "range": program_range,
    }
