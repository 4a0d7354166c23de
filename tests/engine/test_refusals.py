"""Every refusal path: each forbidden construct and each limit has its own kind, message and place."""

from __future__ import annotations

import pytest

from app.engine import trace
from app.errors import ProgramError
from app.settings import Limits

T = "import torch\n"

# (program, kind, line, col, words the message must contain)
REFUSALS = [
    ("x = ().__class__.__bases__[0]", "forbidden", 1, 5, "underscore"),
    (T + "x = torch.os.system('id')", "forbidden", 2, 5, "torch.os"),
    (T + "x = torch.load('/etc/passwd')", "forbidden", 2, 5, "torch.load"),
    (T + "x = torch.from_file('/etc/passwd')", "forbidden", 2, 5, "torch.from_file"),
    (T + "x = torch.empty(3)", "forbidden", 2, 5, "torch.empty"),
    (T + "x = torch.jit", "forbidden", 2, 5, "torch.jit"),
    (T + "x = getattr(torch, 'lo' + 'ad')", "forbidden", 2, 5, "getattr"),
    ("open('/etc/passwd')", "forbidden", 1, 1, "open"),
    ("ｔｏｒｃｈ = 1", "forbidden", 1, 1, "ASCII"),
    ("x = 1 # \u202e", "forbidden", 1, 9, "bidirectional"),
    ("x\u200b = 1", "forbidden", 1, 2, "invisible"),
    ("x = 1\0", "forbidden", 1, 6, "NUL"),
    ("x = '\ud800'", "syntax", 1, 6, "surrogate"),
    ("import os", "forbidden", 1, 1, "cannot import os"),
    ("import numpy as np", "forbidden", 1, 1, "cannot import numpy"),
    ("from torch import load", "forbidden", 1, 1, "cannot import torch.load"),
    ("from .torch import nn", "forbidden", 1, 1, "cannot import"),
    ("for i in range(3):\n    pass", "forbidden", 1, 1, "for loops"),
    ("while True:\n    pass", "forbidden", 1, 1, "while loops"),
    ("if 1:\n    pass", "forbidden", 1, 1, "if statements"),
    ("def f():\n    pass", "forbidden", 1, 1, "def"),
    ("class A:\n    pass", "forbidden", 1, 1, "class"),
    ("try:\n    pass\nexcept Exception:\n    pass", "forbidden", 1, 1, "try"),
    ("del x", "forbidden", 1, 1, "del"),
    ("assert 1", "forbidden", 1, 1, "assert"),
    ("global x", "forbidden", 1, 1, "global"),
    ("x: int = 1", "forbidden", 1, 1, "annotated"),
    ("x = lambda: 1", "forbidden", 1, 5, "lambda"),
    ("x = [i for i in (1, 2)]", "forbidden", 1, 5, "comprehensions"),
    ("x = {1: 2}", "forbidden", 1, 5, "dicts"),
    ("x = {1}", "forbidden", 1, 5, "sets"),
    ("x = (y := 1)", "forbidden", 1, 6, ":="),
    ("x = 1 if 2 in (2,) else 3", "forbidden", 1, 10, " in "),
    ("x = 1 | 2", "forbidden", 1, 5, "|"),
    ("print(*[1])", "forbidden", 1, 7, "unpacking"),
    ("x = 1j", "forbidden", 1, 5, "complex"),
    ("x = b'a'", "forbidden", 1, 5, "bytes"),
    ("x = _secret", "forbidden", 1, 5, "underscore"),
    (T + "x = torch.ones(3)\ny = x.storage()", "forbidden", 3, 5, "storage"),
    (T + "x = torch.ones(3)\ny = x.data_ptr()", "forbidden", 3, 5, "data_ptr"),
    (T + "x = torch.ones(3)\nx.register_hook(print)", "forbidden", 3, 1, "register_hook"),
    (T + "x = torch.ones(2, requires_grad=True) * 2\nx.grad_fn.next_functions", "forbidden", 3, 1, "next_functions"),
    (T + "x = torch.ones(3, device='meta')", "forbidden", 2, 19, "device="),
    (T + "x = torch.ones(3, out=torch.ones(3))", "forbidden", 2, 19, "out="),
    (T + "x = torch.ones(3).to('meta')", "forbidden", 2, 5, ".to()"),
    (T + "x = torch.ones(3)\nx.grad = 3", "type", 3, 1, ".grad"),
    (T + "x = torch.ones(3)\nx.shape = 3", "forbidden", 3, 1, "cannot set"),
    ("print(f'{1:>999999999}')", "forbidden", 1, 7, "format"),
    ("x = (", "syntax", 1, 5, "syntax error"),
    ("x = 1\n  y = 2", "syntax", 2, 2, "indent"),
    ("y = undefined_name", "name", 1, 5, "not defined"),
    ("x = torch.ones(1)", "name", 1, 5, "import torch"),
    ("x = (1, 2)\na, b, c = x", "type", 2, 1, "unpack"),
    ("x = 'a' * 3", "type", 1, 5, "lists, tuples and strings"),
    ("x = [0] * 10", "type", 1, 5, "lists, tuples and strings"),
    ("x = 1\nx()", "type", 2, 1, "not callable"),
    (T + "torch.manual_seed(torch)", "type", 2, 1, "integer seed"),
    (T + "x = torch.ones(2) @ torch.ones(3)", "runtime", 2, 5, "size"),
    ("x = 1 / 0", "runtime", 1, 5, "division by zero"),
    (T + "w = torch.ones(1, requires_grad=True)\nprint(w.numpy())", "runtime", 3, 7, "numpy"),
    (T + "w = torch.ones(1, requires_grad=True)\nJ = (w * w).sum()\nJ.backward()\nJ.backward()",
     "runtime", 5, 1, "second time"),
    (T + "w = torch.ones(2, requires_grad=True)\nv = w * 2\nv.backward()", "runtime", 4, 1, "scalar outputs"),
    (T + "w = torch.ones(2, requires_grad=True)\ns = w.sigmoid()\ns.mul_(2)\ns.sum().backward()",
     "runtime", 5, 1, "inplace operation"),
    (T + "x = torch.ones(2)\nx.sum().backward()", "runtime", 3, 1, "does not require grad"),
    (T + "w = torch.ones(1, requires_grad=True)\nJ = (w * w).sum()\nJ.backward(create_graph=True)",
     "forbidden", 4, 1, "create_graph"),
]

LIMITS = [
    ("x = 1\n" * 5000, Limits(), "program is", None),
    ("x = 1\n" * 401, Limits(), "more than 400 statements", 401),
    ("x = 9**9**9**9", Limits(), "too large", 1),
    ("x = 10**10**10", Limits(), "too large", 1),
    ("x = 2**70", Limits(), "too large", 1),
    ("x = 4294967296 * 4294967296", Limits(), "integer too large", 1),
    (T + "x = torch.ones(100000, 100000)", Limits(), "per tensor", 2),
    (T + "x = torch.ones(1).expand(100000, 100000).sum()", Limits(), "per tensor", 2),
    (T + "x = torch.outer(torch.ones(100000), torch.ones(100000))", Limits(), "per tensor", 2),
    (T + "x = torch.ones(1000).repeat(10000)", Limits(), "per tensor", 2),
    (T + "x = torch.arange(10**7)", Limits(), "per tensor", 2),
    (T + "a = torch.ones(100, 100)\nb = a @ a @ a", Limits(max_matmul_flops=3_000_000), "floating-point operations", 3),
    (T + "a = torch.ones(1000)\nb = a + a\nc = b + b\nd = c + c", Limits(max_total_elements=3500), "in total", 5),
    (T + "a = torch.ones(2)\nb = a + a + a + a + a", Limits(max_ops=3), "tensor operations", 3),
    ("x = " + "[" * 90 + "1" + "]" * 90, Limits(), "nested", 1),
    ("x = " + "+".join(["1"] * 3000), Limits(), "nested", None),
    ("x = [" + ", ".join(["1"] * 3000) + "]", Limits(max_ast_nodes=1000), "syntax nodes", None),
    ("x = list(range(10**9))", Limits(), "over the limit", 1),
    ("x = 'ab' + 'c'", Limits(max_string_length=2), "string longer", 1),
    ("print('x' * 0)" if False else "print('hello')\n" * 20, Limits(max_output_lines=10), "lines", None),
    (T + "x = torch.arange(20000.0)\nx.tolist()", Limits(), ".tolist()", 3),
    ("x = 1", Limits(max_source_bytes=3), "bytes", None),
]


@pytest.mark.parametrize("source, kind, line, col, words", REFUSALS)
def test_refusal(source, kind, line, col, words):
    with pytest.raises(ProgramError) as caught:
        trace(source)
    error = caught.value
    assert (error.kind, error.line, error.col) == (kind, line, col), error
    assert words.lower() in error.message.lower(), error.message


@pytest.mark.parametrize("source, limits, words, line", LIMITS)
def test_limit(source, limits, words, line):
    with pytest.raises(ProgramError) as caught:
        trace(source, limits=limits)
    error = caught.value
    assert error.kind == "limit", error
    assert words in error.message, error.message
    if line is not None:
        assert error.line == line, error


def test_time_limit_is_cooperative_and_named():
    source = T + "a = torch.ones(300, 300)\n" + "b = a @ a\n" * 300
    with pytest.raises(ProgramError) as caught:
        trace(source, limits=Limits(time_limit_s=0.001))
    assert caught.value.kind == "timeout"
    assert "time limit" in caught.value.message and caught.value.line is not None


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
        trace("x = 'ação'; y = lambda: 1")
    assert (caught.value.line, caught.value.col) == (1, 17)
    with pytest.raises(ProgramError) as caught:
        trace("x = 'ação'; y = z")
    assert (caught.value.line, caught.value.col) == (1, 17)


def test_comments_and_strings_may_hold_any_unicode():
    result = trace("# cálculo da perda\nprint('perda: ação ✓')\n")
    assert result.output == ["perda: ação ✓"]
