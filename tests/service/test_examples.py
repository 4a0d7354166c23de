"""Every built-in example through POST /api/trace, its numbers checked against torch run here.

The torch side is written out by hand in each test (not by running the example's text), so a
mistake in the engine and the same mistake in the check cannot cancel out.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import Variable

from app.examples import EXAMPLES, EXAMPLES_BY_ID
from tests.whole import whole
from tests.service.conftest import tensor_named


def _trace(client, example_id: str) -> dict:
    response = client.post("/api/trace", json={"source": EXAMPLES_BY_ID[example_id].source})
    assert response.status_code == 200, response.text
    return whole(response.json())


def _grad(data: dict, name: str):
    return tensor_named(data, name)["grad"]["data"]


def _value(data: dict, name: str):
    return tensor_named(data, name)["value"]["data"]


def _close(actual, expected: torch.Tensor):
    assert torch.allclose(torch.tensor(actual, dtype=torch.float64), expected.detach().double(), atol=1e-5)


def test_examples_are_well_formed():
    ids = [example.id for example in EXAMPLES]
    assert ids[0] == "lesson" and ids[1] == "lesson-notebook"
    assert len(ids) == len(set(ids)) and len(ids) >= 10
    for example in EXAMPLES:
        assert example.title and example.description and len(example.description) < 200


def test_every_example_has_a_test():
    tested = {name[len("test_example_"):].replace("_", "-") for name in globals() if name.startswith("test_example_")}
    assert tested == set(EXAMPLES_BY_ID)


def test_example_lesson(client):
    data = _trace(client, "lesson")
    y = Variable(2 * torch.arange(0, 4))
    x = Variable(torch.arange(0, 4))
    w = Variable(torch.ones(1), requires_grad=True)
    J = (x * w - y).pow(2).sum()
    J.backward()
    _close(_value(data, "J"), J)
    _close(_grad(data, "w"), w.grad)
    assert data["output"] == [str(w.grad)]


def test_example_lesson_notebook(client):
    data = _trace(client, "lesson-notebook")
    y = Variable(2 * torch.arange(0, 4))
    x = Variable(torch.arange(0, 4))
    w = Variable(torch.ones(1), requires_grad=True)
    J = (x * w - y).pow(2).sum()
    J.backward()
    printed_grad = str(w.grad)
    w.grad.data.zero_()
    J_new = (x * (w + 0.001) - y).pow(2).sum()
    assert data["output"] == [printed_grad, str((J_new - J).data.numpy())]
    _close(_value(data, "J_new"), J_new)
    _close(_grad(data, "w"), w.grad)  # zeroed by In [15]
    source = EXAMPLES_BY_ID["lesson-notebook"].source
    for cell in ("w.grad.data.zero_();", "# cálculo da perda J: loss", "y = Variable(y_t); y"):
        assert cell in source


def test_example_linear_regression(client):
    data = _trace(client, "linear-regression")
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    y = 2 * x + 1
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    loss = ((x @ w + b - y) ** 2).mean()
    loss.backward()
    _close(_value(data, "loss"), loss)
    _close(_grad(data, "w"), w.grad)
    _close(_grad(data, "b"), b.grad)
    with torch.no_grad():
        stepped = w - 0.01 * w.grad
    assert data["output"][1].startswith(str(stepped.requires_grad_()).split(",")[0])


def test_example_logistic_regression(client):
    data = _trace(client, "logistic-regression")
    x = torch.tensor([[0.5, 1.0], [1.5, -0.5], [-1.0, 2.0], [2.0, 0.5]])
    y = torch.tensor([1.0, 0.0, 1.0, 0.0])
    w = torch.tensor([0.1, -0.2], requires_grad=True)
    b = torch.tensor(0.0, requires_grad=True)
    p = torch.sigmoid(x @ w + b)
    loss = F.binary_cross_entropy(p, y)
    loss.backward()
    _close(_value(data, "loss"), loss)
    _close(_grad(data, "w"), w.grad)
    _close(_grad(data, "w"), ((p - y).unsqueeze(1) * x).mean(0))  # the closed form
    _close(_grad(data, "b"), b.grad)


def test_example_mlp_step(client):
    data = _trace(client, "mlp-step")
    x = torch.tensor([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5], [2.0, 0.0, -1.0], [-0.5, 0.5, 1.0]])
    y = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    W1 = torch.linspace(-1, 1, 15).reshape(3, 5).requires_grad_()
    b1 = torch.zeros(5, requires_grad=True)
    W2 = torch.linspace(0.5, -0.5, 5).reshape(5, 1).requires_grad_()
    b2 = torch.zeros(1, requires_grad=True)
    loss = F.mse_loss(F.relu(x @ W1 + b1) @ W2 + b2, y)
    loss.backward()
    _close(_value(data, "loss"), loss)
    for name, leaf in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        _close(_grad(data, name), leaf.grad)


def test_example_softmax_cross_entropy(client):
    data = _trace(client, "softmax-cross-entropy")
    logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
    target = torch.tensor([0, 1])
    loss = F.cross_entropy(logits, target)
    loss.backward()
    _close(_value(data, "loss"), loss)
    _close(_grad(data, "logits"), logits.grad)
    _close(_grad(data, "logits"), (F.softmax(logits, dim=1) - F.one_hot(target, 3)) / 2)


def test_example_broadcasting(client):
    data = _trace(client, "broadcasting")
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    b = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    s = torch.tensor(2.0, requires_grad=True)
    J = ((x + b) * s).sum()
    J.backward()
    _close(_grad(data, "b"), b.grad)
    _close(_grad(data, "s"), s.grad)


def test_example_used_twice(client):
    data = _trace(client, "used-twice")
    a = torch.tensor(3.0, requires_grad=True)
    c = a + a * a
    c.backward()
    _close(_grad(data, "a"), a.grad)
    assert a.grad.item() == 7


def test_example_detach_no_grad(client):
    data = _trace(client, "detach-no-grad")
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    target = (w * 3).detach()
    with torch.no_grad():
        scale = w.sum()
    loss = ((w - target) ** 2).sum() / scale
    loss.backward()
    _close(_grad(data, "w"), w.grad)
    assert data["output"][0] == f"{target.requires_grad} {scale.requires_grad}"
    assert tensor_named(data, "target")["requires_grad"] is False


def test_example_grad_accumulation(client):
    data = _trace(client, "grad-accumulation")
    y = Variable(2 * torch.arange(0, 4))
    x = Variable(torch.arange(0, 4))
    w = Variable(torch.ones(1), requires_grad=True)
    J = (x * w - y).pow(2).sum()
    J.backward(retain_graph=True)
    first = str(w.grad)
    J.backward()
    assert data["output"] == [first, str(w.grad)]
    assert w.grad.tolist() == [-56.0]
    _close(_grad(data, "w"), w.grad)
    assert len(data["passes"]) == 2


def test_example_inplace_error(client):
    response = client.post("/api/trace", json={"source": EXAMPLES_BY_ID["inplace-error"].source})
    assert response.status_code == 400
    error = response.json()["error"]
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = w.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as raised:
        y.sum().backward()
    assert error["kind"] == "runtime" and error["line"] == 6
    assert "modified by an inplace operation" in str(raised.value)
    assert "modified by an inplace operation" in error["message"]


def test_example_training_loop(client):
    data = _trace(client, "training-loop")
    x = torch.arange(0.0, 4)
    y = 2 * x
    w = torch.ones(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.01)
    losses, printed, first_step = [], [], None
    for step in range(20):
        J = ((x * w - y) ** 2).sum()
        optimizer.zero_grad()
        J.backward()
        before = w.item()
        optimizer.step()
        first_step = first_step or (before, w.grad.item(), w.item())
        losses.append(J.item())
        printed.append(f"step {step}: J = {J.item():.4f}, w = {w.item():.4f}")
    assert data["output"] == printed
    assert [s["loss"] for s in data["summaries"]] == pytest.approx(losses)
    assert [p["index"] for p in data["passes"]] == [0, 19]
    first = next(u for u in data["updates"] if u["kind"] == "optimizer" and u["pass_index"] == 0)
    before, grad, after = first_step  # the seed lesson's numbers: 1, -28 and 1.28
    assert first["params"][0]["text"] == f"w ← w − lr·dJ/dw = {before:g} − 0.01·({grad:g}) = {after:g}"
    _close(tensor_named(data, "w")["grad"]["data"], w.grad)


def test_example_own_module(client):
    data = _trace(client, "own-module")
    torch.manual_seed(0)
    hidden, out = torch.nn.Linear(2, 3), torch.nn.Linear(3, 1)
    x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    loss = F.mse_loss(out(torch.tanh(hidden(x))), torch.tensor([[1.0], [1.0], [0.0]]))
    loss.backward()
    _close(_value(data, "loss"), loss)
    _close(_grad(data, "net.hidden.weight"), hidden.weight.grad)
    _close(_grad(data, "net.out.bias"), out.bias.grad)
    modules = {node["module"] for node in data["nodes"] if node["kind"] == "op"}
    assert {"net.hidden", "net.out"} <= modules
