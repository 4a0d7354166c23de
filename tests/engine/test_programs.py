"""Programs beyond the lesson: every value and gradient compared with torch computed in the test.

Each case is a Grafo program and a reference function that computes the same thing with torch
directly. The reference returns the named tensors; non-leaf tensors call retain_grad() so their
dJ/d(tensor) can be compared with the trace's `grad`.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from app.engine import trace
from tests.engine.helpers import assert_close, is_nan, node_named


def run_reference(build, seed: int = 0):
    torch.manual_seed(seed)
    tensors = build()
    return tensors


def retained(**tensors):
    for tensor in tensors.values():
        if tensor.requires_grad and not tensor.is_leaf:
            tensor.retain_grad()
    return tensors


def ref_logistic():
    X = torch.randn(8, 3)
    y = (X[:, 0] > 0).float()
    w = torch.zeros(3, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    p = torch.sigmoid(X @ w + b)
    loss = F.binary_cross_entropy(p, y)
    t = retained(X=X, y=y, w=w, b=b, p=p, loss=loss)
    loss.backward()
    return t


def ref_softmax_ce():
    x = torch.randn(4, 5)
    W = torch.randn(5, 3, requires_grad=True)
    logits = x @ W
    target = torch.tensor([0, 2, 1, 2])
    probs = logits.softmax(dim=1)
    loss = F.cross_entropy(logits, target)
    t = retained(x=x, W=W, logits=logits, probs=probs, loss=loss)
    loss.backward()
    return t


def ref_broadcast():
    x = torch.arange(6.0).reshape(2, 3)
    b = torch.tensor([1.0, -1.0, 0.5], requires_grad=True)
    s = torch.tensor(2.0, requires_grad=True)
    z = (x + b) * s
    L = z.sum()
    t = retained(x=x, b=b, s=s, z=z, L=L)
    L.backward()
    return t


def ref_used_twice():
    a = torch.tensor([2.0, 3.0], requires_grad=True)
    b = a * a + a
    s = b.sum()
    t = retained(a=a, b=b, s=s)
    s.backward()
    return t


def ref_chunk_split():
    x = torch.arange(6.0, requires_grad=True)
    a, b = x.chunk(2)
    c, d = torch.split(x, [4, 2])
    L = (a * b).sum() + c.mean() + d.max()
    t = retained(x=x, a=a, b=b, c=c, d=d, L=L)
    L.backward()
    return t


def ref_views():
    x = torch.arange(1.0, 7.0, requires_grad=True)
    m = x.view(2, 3)
    mt = m.t()
    p = mt.permute(1, 0).reshape(3, 2).unsqueeze(0).squeeze(0)
    q = torch.cat([p, p], dim=0).transpose(0, 1)
    r = torch.stack([q, q * 2]).expand(2, 2, 6)
    L = (r * r).mean()
    t = retained(x=x, m=m, mt=mt, p=p, q=q, r=r, L=L)
    L.backward()
    return t


def ref_inplace():
    w = torch.ones(3, requires_grad=True)
    h = w * 2
    h.add_(1)
    h[0] = 5.0
    L = h.sum()
    t = retained(w=w, L=L)
    L.backward()
    t["h"] = h
    return t


def ref_detach():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    c = (w * 3).detach()
    L = (w * c).sum()
    t = retained(w=w, c=c, L=L)
    L.backward()
    return t


def ref_retain_grad():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    h = w.exp()
    h.retain_grad()
    L = h.sum()
    L.backward()
    return dict(w=w, h=h, L=L)


def ref_mlp():
    X = torch.randn(5, 3)
    y = torch.randn(5, 1)
    W1 = torch.randn(3, 4, requires_grad=True)
    b1 = torch.zeros(4, requires_grad=True)
    W2 = torch.randn(4, 1, requires_grad=True)
    h = F.relu(X @ W1 + b1)
    out = h @ W2
    loss = F.mse_loss(out, y)
    t = retained(X=X, y=y, W1=W1, b1=b1, W2=W2, h=h, out=out, loss=loss)
    loss.backward()
    return t


def ref_activations():
    x = torch.linspace(-2, 2, 5, requires_grad=True)
    a = torch.tanh(x) + torch.sigmoid(x) + F.relu(x) + x.abs().sqrt() + torch.sin(x) * torch.cos(x)
    b = F.log_softmax(a, dim=0)
    c = b.exp().log() + x.pow(3) / 3
    L = c.norm() + c.prod() + c.max() - c.min()
    t = retained(x=x, a=a, b=b, c=c, L=L)
    L.backward()
    return t


def ref_linear():
    x = torch.randn(3, 4)
    W = torch.randn(2, 4, requires_grad=True)
    b = torch.randn(2, requires_grad=True)
    out = F.linear(x, W, b)
    L = out.pow(2).mean()
    t = retained(x=x, W=W, b=b, out=out, L=L)
    L.backward()
    return t


def ref_creation():
    a = torch.eye(3) + torch.full((3, 3), 0.5) + torch.zeros(3, 3) + torch.ones_like(torch.eye(3))
    r = torch.rand(3, 3)
    n = torch.randn(3, 3)
    w = torch.randn_like(a).requires_grad_()
    L = (a @ w + r * n).sum()
    t = retained(a=a, r=r, n=n, w=w, L=L)
    L.backward()
    return t


def ref_no_grad_step():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    L = (w ** 2).sum()
    L.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad = None
    L2 = (w ** 2).sum()
    L2.backward()
    return dict(w=w, L2=L2)


def ref_nan_inf():
    x = torch.tensor([0.0, 1.0, -1.0], requires_grad=True)
    y = x.log()
    z = y / x
    L = z.sum()
    t = retained(x=x, y=y, z=z, L=L)
    L.backward()
    return t


def ref_mm_matmul():
    A = torch.randn(2, 3, requires_grad=True)
    B = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(4)
    C = torch.mm(A, B)
    D = torch.matmul(C, v)
    E = A @ B
    L = D.sum() + E.mean() + torch.dot(v, v)
    t = retained(A=A, B=B, v=v, C=C, D=D, E=E, L=L)
    L.backward()
    return t


CASES = {
    "logistic": ("""import torch
import torch.nn.functional as F
X = torch.randn(8, 3)
y = (X[:, 0] > 0).float()
w = torch.zeros(3, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
p = torch.sigmoid(X @ w + b)
loss = F.binary_cross_entropy(p, y)
loss.backward()
""", ref_logistic),
    "softmax_ce": ("""import torch
import torch.nn.functional as F
x = torch.randn(4, 5)
W = torch.randn(5, 3, requires_grad=True)
logits = x @ W
target = torch.tensor([0, 2, 1, 2])
probs = logits.softmax(dim=1)
loss = F.cross_entropy(logits, target)
loss.backward()
""", ref_softmax_ce),
    "broadcast": ("""import torch
x = torch.arange(6.0).reshape(2, 3)
b = torch.tensor([1.0, -1.0, 0.5], requires_grad=True)
s = torch.tensor(2.0, requires_grad=True)
z = (x + b) * s
L = z.sum()
L.backward()
""", ref_broadcast),
    "used_twice": ("""import torch
a = torch.tensor([2.0, 3.0], requires_grad=True)
b = a * a + a
s = b.sum()
s.backward()
""", ref_used_twice),
    "chunk_split": ("""import torch
x = torch.arange(6.0, requires_grad=True)
a, b = x.chunk(2)
c, d = torch.split(x, [4, 2])
L = (a * b).sum() + c.mean() + d.max()
L.backward()
""", ref_chunk_split),
    "views": ("""import torch
x = torch.arange(1.0, 7.0, requires_grad=True)
m = x.view(2, 3)
mt = m.t()
p = mt.permute(1, 0).reshape(3, 2).unsqueeze(0).squeeze(0)
q = torch.cat([p, p], dim=0).transpose(0, 1)
r = torch.stack([q, q * 2]).expand(2, 2, 6)
L = (r * r).mean()
L.backward()
""", ref_views),
    "inplace": ("""import torch
w = torch.ones(3, requires_grad=True)
h = w * 2
h.add_(1)
h[0] = 5.0
L = h.sum()
L.backward()
""", ref_inplace),
    "detach": ("""import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
c = (w * 3).detach()
L = (w * c).sum()
L.backward()
""", ref_detach),
    "retain_grad": ("""import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
h = w.exp()
h.retain_grad()
L = h.sum()
L.backward()
""", ref_retain_grad),
    "mlp": ("""import torch
import torch.nn.functional as F
X = torch.randn(5, 3)
y = torch.randn(5, 1)
W1 = torch.randn(3, 4, requires_grad=True)
b1 = torch.zeros(4, requires_grad=True)
W2 = torch.randn(4, 1, requires_grad=True)
h = F.relu(X @ W1 + b1)
out = h @ W2
loss = F.mse_loss(out, y)
loss.backward()
""", ref_mlp),
    "activations": ("""import torch
import torch.nn.functional as F
x = torch.linspace(-2, 2, 5, requires_grad=True)
a = torch.tanh(x) + torch.sigmoid(x) + F.relu(x) + x.abs().sqrt() + torch.sin(x) * torch.cos(x)
b = F.log_softmax(a, dim=0)
c = b.exp().log() + x.pow(3) / 3
L = c.norm() + c.prod() + c.max() - c.min()
L.backward()
""", ref_activations),
    "linear": ("""import torch
import torch.nn.functional as F
x = torch.randn(3, 4)
W = torch.randn(2, 4, requires_grad=True)
b = torch.randn(2, requires_grad=True)
out = F.linear(x, W, b)
L = out.pow(2).mean()
L.backward()
""", ref_linear),
    "creation": ("""import torch
a = torch.eye(3) + torch.full((3, 3), 0.5) + torch.zeros(3, 3) + torch.ones_like(torch.eye(3))
r = torch.rand(3, 3)
n = torch.randn(3, 3)
w = torch.randn_like(a).requires_grad_()
L = (a @ w + r * n).sum()
L.backward()
""", ref_creation),
    "no_grad_step": ("""import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
L = (w ** 2).sum()
L.backward()
with torch.no_grad():
    w -= 0.1 * w.grad
w.grad = None
L2 = (w ** 2).sum()
L2.backward()
""", ref_no_grad_step),
    "nan_inf": ("""import torch
x = torch.tensor([0.0, 1.0, -1.0], requires_grad=True)
y = x.log()
z = y / x
L = z.sum()
L.backward()
""", ref_nan_inf),
    "mm_matmul": ("""import torch
A = torch.randn(2, 3, requires_grad=True)
B = torch.randn(3, 4, requires_grad=True)
v = torch.randn(4)
C = torch.mm(A, B)
D = torch.matmul(C, v)
E = A @ B
L = D.sum() + E.mean() + torch.dot(v, v)
L.backward()
""", ref_mm_matmul),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_values_and_gradients_match_torch(case):
    source, build = CASES[case]
    result = trace(source)
    reference = run_reference(build)
    for name, tensor in reference.items():
        node = node_named(result, name)
        assert_close(node.value, tensor)
        if (tensor.is_leaf or tensor.retains_grad) and tensor.grad is not None:
            assert node.grad is not None, name
            assert_close(node.grad, tensor.grad)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_check_agrees_with_autograd(case):
    source, _ = CASES[case]
    result = trace(source)
    for leaf in result.gradcheck.leaves:
        for element in leaf.elements:
            if isinstance(element.autograd, float) and isinstance(element.central, float):
                if math.isfinite(element.central) and abs(element.central) < 1e6:
                    assert abs(element.autograd - element.central) <= 1e-2 * (1 + abs(element.central)), (leaf.name, element)


def test_nan_and_inf_travel_as_json_strings():
    result = trace(CASES["nan_inf"][0])
    y = node_named(result, "y")
    assert y.value.data[2] == "nan" and y.value.data[0] == "-inf"
    assert is_nan(node_named(result, "L").value.data)
    json_text = result.model_dump_json()
    assert "NaN" not in json_text and "Infinity" not in json_text


def test_tensor_used_twice_receives_two_contributions():
    result = trace(CASES["used_twice"][0])
    a = node_named(result, "a")
    sends_to_a = [flow for step in result.backward for flow in step.grads_out if flow.target == a.id]
    assert len(sends_to_a) == 3  # a * a sends two, + a sends one; AccumulateGrad receives their sum
    accumulate = [s for s in result.backward if s.kind == "accumulate"]
    assert accumulate[0].grad_in[0].data == [5.0, 7.0]


def test_multi_output_ops_have_one_node_and_two_outputs():
    result = trace(CASES["chunk_split"][0])
    chunk = next(n for n in result.nodes if n.kind == "op" and n.op == "chunk")
    assert len(chunk.outputs) == 2
    assert chunk.grad_fn == "SplitBackward0"


def test_in_place_ops_make_new_versions():
    result = trace(CASES["inplace"][0])
    versions = [n for n in result.nodes if n.kind == "tensor" and "h" in n.names]
    assert [n.version for n in versions] == [0, 1, 2]
    h = torch.ones(3) * 2
    expected = [h.clone()]
    h.add_(1)
    expected.append(h.clone())
    h[0] = 5.0
    expected.append(h.clone())
    for node, tensor in zip(versions, expected):
        assert_close(node.value, tensor)
    assert len([n for n in result.nodes if n.kind == "op" and n.inplace]) == 2


def test_cross_entropy_shows_its_inner_autograd_node():
    result = trace(CASES["softmax_ce"][0])
    ce = next(n for n in result.nodes if n.kind == "op" and n.op == "cross_entropy")
    assert ce.grad_fn == "NllLossBackward0"
    assert ce.internal_grad_fns == ["LogSoftmaxBackward0"]
    kinds = {s.grad_fn: s.kind for s in result.backward}
    assert kinds["LogSoftmaxBackward0"] == "internal"


def test_implicit_root_is_the_last_assigned_tensor_and_seeded_with_ones():
    result = trace("import torch\nw = torch.ones(3, requires_grad=True)\nv = w * 2\n")
    (backward_pass,) = result.passes
    assert backward_pass.implicit and backward_pass.root == node_named(result, "v").id
    assert any("seeded with ones" in w.message for w in result.warnings)
    assert node_named(result, "w").grad.data == [2.0, 2.0, 2.0]


def test_request_root_names_the_tensor():
    source = "import torch\nw = torch.ones(2, requires_grad=True)\na = (w * 3).sum()\nb = (w * 5).sum()\n"
    result = trace(source, root="a")
    assert node_named(result, "w").grad.data == [3.0, 3.0]


def test_random_ops_are_reproducible():
    source = "import torch\nx = torch.randn(3)\n"
    assert trace(source).nodes[-1].value.data == trace(source).nodes[-1].value.data
    torch.manual_seed(0)
    expected = torch.randn(3)
    assert_close(node_named(trace(source), "x").value, expected)
    seeded = trace("import torch\ntorch.manual_seed(7)\nx = torch.randn(3)\n")
    torch.manual_seed(7)
    expected = torch.randn(3)
    assert_close(node_named(seeded, "x").value, expected)


def test_print_and_numpy_are_printable_only():
    result = trace("import torch\nx = torch.tensor([1.5, 2.0])\nprint(x.numpy(), x.sum().item(), f'{x[0].item():.2f}')\n")
    assert result.output == [f"{torch.tensor([1.5, 2.0]).numpy()} 3.5 1.50"]


def test_large_tensors_are_truncated_with_statistics():
    result = trace("import torch\nx = torch.arange(5000.0)\n")
    value = node_named(result, "x").value
    assert value.truncated and len(value.data) == 1000
    assert value.numel == 5000 and value.min == 0 and value.max == 4999 and value.mean == 2499.5


def test_a_custom_functions_backward_step_points_at_its_backward():
    source = "import torch\n" + ("class Square(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n"
                  "        ctx.save_for_backward(x)\n        return x * x\n\n    @staticmethod\n"
                  "    def backward(ctx, g):\n        x, = ctx.saved_tensors\n        return 2 * x * g\n\n"
                  "w = torch.tensor([3.0], requires_grad=True)\nSquare.apply(w).sum().backward()\n")
    result = trace(source)
    (step,) = [s for s in result.backward if s.grad_fn == "SquareBackward"]
    assert step.span.line == 9 and step.kind == "op"
    assert result.nodes[-1].kind == "tensor" and [n for n in result.nodes if n.kind == "tensor" and n.names == ["w"]][0].grad.data == [6.0]
