"""Errors a real program makes, each placed at the line and column of the program's own code, and
the limits the engine itself enforces (the kernel bounds memory, CPU and files around the worker)."""

from __future__ import annotations

import pytest
import torch

from app.engine import trace
from app.errors import ProgramError
from app.settings import Limits

T = "import torch\n"

ERRORS = [
    # (source, kind, line, col, words in the message)
    ("x = (1 +\n", "syntax", 1, 5, "never closed"),
    ("x = 1\n  y = 2\n", "syntax", 2, 2, "indent"),
    ("print(undefined)", "name", 1, 7, "NameError: name 'undefined' is not defined"),
    ("x = 1 / 0", "runtime", 1, 5, "ZeroDivisionError"),
    ("x = [1, 2][5]", "runtime", 1, 5, "IndexError"),
    ("x = 'a' + 1", "type", 1, 5, "TypeError"),
    (T + "a = torch.ones(2)\nb = torch.ones(3)\nc = a + b", "runtime", 4, 5, "size of tensor a (2)"),
    (T + "def f(t):\n    return t @ t.T.T.T.T.unsqueeze(0)\nf(torch.ones(2, 3))", "runtime", 3, 12, "expected size"),
    (T + "w = torch.ones(2, requires_grad=True)\nJ = (w * 2).sum()\nJ.backward()\nJ.backward()",
     "runtime", 5, 1, "backward through the graph a second time"),
    (T + "w = torch.ones(2, requires_grad=True)\nw += 1", "runtime", 3, 1, "leaf Variable that requires grad"),
    ("raise ValueError('bad value')", "runtime", 1, 1, "ValueError: bad value"),
    ("import no_such_module_here", "runtime", 1, 1, "ModuleNotFoundError"),
    ("def f(n):\n    return f(n + 1)\nf(0)", "limit", 2, 12, "RecursionError"),
    ("import sys\nsys.exit(3)", "runtime", None, None, "exited with status 3"),
]


@pytest.mark.parametrize("source, kind, line, col, words", ERRORS)
def test_error_is_placed_in_the_program(source, kind, line, col, words):
    with pytest.raises(ProgramError) as caught:
        trace(source)
    error = caught.value
    assert (error.kind, error.line, error.col) == (kind, line, col), error
    assert words.lower() in error.message.lower(), error.message


def test_an_error_inside_a_method_points_at_the_method_line():
    source = T + "import torch.nn as nn\nclass Net(nn.Module):\n    def forward(self, x):\n        return x @ torch.ones(5)\n" \
                 "Net()(torch.ones(3))\n"
    with pytest.raises(ProgramError) as caught:
        trace(source)
    assert (caught.value.line, caught.value.col) == (5, 16)


LIMITS = [
    (T + "a = torch.ones(2)\nfor i in range(10):\n    a = a + 1", Limits(max_ops=3), "tensor operations", 4),
    ("for i in range(20):\n    print(i)", Limits(max_output_lines=10), "lines", 2),
    ("print('x' * 100_000)", Limits(), "characters", 1),
    ("x = 1", Limits(max_source_bytes=3), "bytes", None),
    ("x = 1\n" * 20, Limits(max_lines=10), "lines", None),
]


@pytest.mark.parametrize("source, limits, words, line", LIMITS)
def test_limit(source, limits, words, line):
    with pytest.raises(ProgramError) as caught:
        trace(source, limits=limits)
    error = caught.value
    assert error.kind == "limit", error
    assert words in error.message, error.message
    assert error.line == line, error


def test_a_loop_that_never_ends_is_stopped_at_its_line():
    with pytest.raises(ProgramError) as caught:
        trace("n = 0\nwhile True:\n    n += 1\n", limits=Limits(time_limit_s=0.2))
    assert caught.value.kind == "timeout"
    assert caught.value.line in (2, 3)


def test_catching_everything_does_not_swallow_the_time_limit():
    source = "while True:\n    try:\n        sum(range(10**6))\n    except Exception:\n        pass\n"
    with pytest.raises(ProgramError) as caught:
        trace(source, limits=Limits(time_limit_s=0.2))
    assert caught.value.kind == "timeout"


def test_bad_eps_is_refused():
    with pytest.raises(ProgramError) as caught:
        trace("x = 1", eps=0.0)
    assert caught.value.kind == "type"


def test_root_that_is_not_a_tensor():
    with pytest.raises(ProgramError) as caught:
        trace("x = 1", root="x")
    assert caught.value.kind == "name"


def test_columns_count_characters_not_bytes():
    with pytest.raises(ProgramError) as caught:
        trace("x = 'ação'; y = = 2")
    assert (caught.value.line, caught.value.col) == (1, 17)
    with pytest.raises(ProgramError) as caught:
        trace("x = 'ação'; y = z")
    assert (caught.value.line, caught.value.col) == (1, 17)


def test_comments_and_strings_may_hold_any_unicode():
    result = trace("# cálculo da perda\nprint('perda: ação ✓')\n")
    assert result.output == ["perda: ação ✓"]


def test_a_lone_surrogate_in_output_and_errors_becomes_valid_text():
    result = trace("print('a\\ud800b')")
    assert result.output == ["a\ufffdb"]
    with pytest.raises(ProgramError) as caught:
        trace("raise ValueError('\\udfff')")
    caught.value.message.encode("utf-8")


def test_the_program_state_is_restored_after_a_run():
    """A run patches `Function.apply` and `Variable` while it records; both come back afterwards."""
    apply, variable = torch.autograd.Function.__dict__["apply"], torch.autograd.Variable
    trace(T + "from torch.autograd import Variable\nw = Variable(torch.ones(1), requires_grad=True)\n")
    assert torch.autograd.Function.__dict__["apply"] is apply and torch.autograd.Variable is variable


def test_a_lone_surrogate_in_the_program_is_a_syntax_error_at_its_place():
    with pytest.raises(ProgramError) as caught:
        trace("x = 1\ny = '\ud800'")
    assert (caught.value.kind, caught.value.line, caught.value.col) == ("syntax", 2, 6)

