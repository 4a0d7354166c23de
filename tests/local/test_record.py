"""`with grafo.record()` and `grafo.trace()` in this process: what they record, and what they leave alone."""

from __future__ import annotations

import pytest
import torch

import grafo


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 4)
        self.fc2 = torch.nn.Linear(4, 1)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc2(h)


def tensors(recording) -> dict:
    return {n.name: n for n in recording.trace.nodes if n.kind == "tensor" and n.name}


def test_record_keeps_names_modules_lines_values_and_gradients(capsys):
    torch.manual_seed(0)
    model, x = Net(), torch.randn(5, 3)
    with grafo.record() as g:
        loss = model(x).pow(2).mean()
        print("inside", round(loss.item(), 4))
        loss.backward()
    assert "inside" in capsys.readouterr().out  # the block prints as usual...
    assert g.trace.output == [f"inside {round(loss.item(), 4)}"]  # ...and the page's console has it
    named = tensors(g)
    assert named["loss"].role == "root" and named["loss"].value.data == pytest.approx(loss.item())
    assert torch.allclose(torch.tensor(named["model.fc1.weight"].grad.data), model.fc1.weight.grad)
    ops = [n for n in g.trace.nodes if n.kind == "op"]
    assert [op.module for op in ops if op.op == "linear"] == ["model.fc1", "model.fc2"]
    line = test_record_keeps_names_modules_lines_values_and_gradients.__code__.co_firstlineno + 4
    assert {op.span.line for op in ops if op.op in ("pow", "mean")} == {line}
    assert g.source.splitlines()[line - 1].strip() == "loss = model(x).pow(2).mean()"
    assert g.trace.passes[0].implicit is False


def test_grafos_own_backward_leaves_every_grad_as_it_was():
    torch.manual_seed(1)
    model, x = Net(), torch.randn(2, 3)
    model.fc2.bias.grad = torch.tensor([7.0])
    with grafo.record() as g:
        out = model(x).sum()
    assert g.trace.passes[0].implicit
    assert tensors(g)["model.fc2.bias"].grad.data == pytest.approx([9.0])  # 7 before + 2 from this pass
    assert model.fc2.bias.grad.tolist() == [7.0] and model.fc1.weight.grad is None
    with grafo.record(backward=False) as quiet:
        model(x).sum()
    assert not quiet.trace.passes and model.fc1.weight.grad is None


def test_trace_calls_the_function_and_places_ops_in_its_code():
    torch.manual_seed(2)
    model, x = Net(), torch.randn(4, 3)
    g = grafo.trace(model, x)
    assert g.result.shape == (4, 1)
    assert g.filename == __file__ and g.title == "model(…)"
    relu = [n for n in g.trace.nodes if n.kind == "op" and n.op == "relu"][0]
    assert relu.stack[-1] == "Net.forward" and relu.span.line == Net.forward.__code__.co_firstlineno + 1
    assert tensors(g)["model(…)"].role == "root"
    assert model.fc1.weight.grad is None  # the backward was Grafo's: nothing left behind

    def loss_fn(w):
        return (w * 3).sum()

    w = torch.ones(2, requires_grad=True)
    h = grafo.trace(loss_fn, w)
    assert tensors(h)["w"].grad.data == [3.0, 3.0] and w.grad is None


def test_an_exception_in_the_block_propagates_and_recording_stops():
    recorder = grafo.record()
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        with recorder as g:
            torch.ones(2, 2) @ torch.ones(3, 2)
    assert g.trace is None and "recording" in repr(g)
    with pytest.raises(RuntimeError, match="nothing recorded"):
        g.to_json()
    with grafo.record() as after:  # nothing of the failed block is left switched on
        (torch.ones(1, requires_grad=True) * 2).sum()
    assert [n.op for n in after.trace.nodes if n.kind == "op"] == ["ones", "mul", "sum"]


def test_a_small_transformer_and_cnn_come_with_module_paths_and_nothing_else_in_scope():
    torch.manual_seed(3)
    transformer = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True), 2)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3))
    unrelated = torch.nn.Linear(2, 2)  # in scope, not used by the block
    spare = torch.ones(3, requires_grad=True)
    tokens, images = torch.randn(2, 5, 16), torch.randn(2, 1, 6, 6)
    with grafo.record(gradcheck=False) as g:
        loss = transformer(tokens).pow(2).mean() + cnn(images).sum()
        loss.backward()
    ops = [n for n in g.trace.nodes if n.kind == "op"]
    modules = {op.module for op in ops if op.module}
    assert {"transformer.layers.0.self_attn", "transformer.layers.1.linear2", "cnn.0", "cnn.1", "cnn.5"} <= modules
    assert all(op.module for op in ops if op.op in ("conv2d", "batch_norm", "linear", "layer_norm"))
    named = tensors(g)
    assert "transformer.layers.1.norm2.weight" in named and "cnn.0.weight" in named
    assert named["cnn.0.weight"].grad is not None
    assert not any(name.startswith("unrelated") or name == "spare" for name in named), sorted(named)
    assert unrelated.weight.grad is None and spare.grad is None


def test_the_gradient_check_leaves_the_random_generator_as_the_block_left_it():
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Dropout(0.5))
    with grafo.record() as g:
        loss = model(torch.ones(2, 3)).sum()
        loss.backward()
        state = torch.get_rng_state()
    assert g.trace.gradcheck is not None and torch.equal(torch.get_rng_state(), state)
