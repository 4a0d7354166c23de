# Source: PyTorchViz by Sergey Zagoruyko, repository szagoruyko/pytorchviz, README.md "Usage" and
#   examples.ipynb (commit 5cf04c1, https://github.com/szagoruyko/pytorchviz): the MLP built with add_module,
#   the double-backprop example (torch.autograd.grad with create_graph=True) and the LSTMCell example.
# Changes: torchviz is not installed, so each `make_dot(expr, params=...)` became `out = expr` followed by
#   `out.backward()` and a print of the result (Grafo draws the graph instead), and the
#   `params=dict(model.named_parameters())` argument became a print of that dict's keys; the pip install cell and the
#   torchvision AlexNet cells removed; LSTMCell(128, 128) shrunk to LSTMCell(8, 8); torch.manual_seed(0)
#   added.
import torch
from torch import nn

torch.manual_seed(0)

model = nn.Sequential()
model.add_module('W0', nn.Linear(8, 16))
model.add_module('tanh', nn.Tanh())
model.add_module('W1', nn.Linear(16, 1))

x = torch.randn(1, 8)
y = model(x)

out = y.mean()
out.backward()
print(out)
print(dict(model.named_parameters()).keys())

x = torch.randn(1,8).requires_grad_(True)

def double_backprop(inputs, net):
    y = net(x).mean()
    grad,  = torch.autograd.grad(y, x, create_graph=True, retain_graph=True)
    return grad.pow(2).mean() + y

out = double_backprop(x, model)
out.backward()
print(out)
print(x.grad)

lstm_cell = nn.LSTMCell(8, 8)
x = torch.randn(1, 8)
out = lstm_cell(x)
out[0].sum().backward()
print(out)
