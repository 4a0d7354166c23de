# Source: Dive into Deep Learning (d2l.ai, 0.17 edition), section 5.4 "Custom Layers", repository
#   d2l-ai/d2l-en, branch r0.17, file chapter_deep-learning-computation/custom-layer.md, PyTorch cells.
# Changes: the notebook's bare result expressions wrapped in print(); torch.manual_seed(0) added. No
#   backward pass: the section only runs forward.
import torch
from torch import nn
from torch.nn import functional as F

torch.manual_seed(0)

class CenteredLayer(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, X):
        return X - X.mean()

layer = CenteredLayer()
print(layer(torch.FloatTensor([1, 2, 3, 4, 5])))

net = nn.Sequential(nn.Linear(8, 128), CenteredLayer())

Y = net(torch.rand(4, 8))
print(Y.mean())

class MyLinear(nn.Module):
    def __init__(self, in_units, units):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_units, units))
        self.bias = nn.Parameter(torch.randn(units,))
    def forward(self, X):
        linear = torch.matmul(X, self.weight.data) + self.bias.data
        return F.relu(linear)

linear = MyLinear(5, 3)
print(linear.weight)

print(linear(torch.rand(2, 5)))

net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1))
print(net(torch.rand(2, 64)))
