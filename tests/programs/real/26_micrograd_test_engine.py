# Source: Andrej Karpathy, micrograd, repository karpathy/micrograd, file test/test_engine.py
#   (commit c911406, https://github.com/karpathy/micrograd/blob/master/test/test_engine.py): the PyTorch
#   halves of test_sanity_check and test_more_ops, which build the same expressions as micrograd with
#   torch.Tensor(...).double() and `requires_grad = True`.
# Changes: the micrograd Value halves removed (micrograd is not installed) and the test bodies run at module
#   level; the asserts comparing with micrograd replaced by printing the torch results (micrograd's answers
#   are the same numbers: y = -20, dy/dx = 46; g = 24.7041, dg/da = 138.8338, dg/db = 645.5773).
import torch

# test_sanity_check
x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xpt, ypt = x, y

print(ypt.data.item())
print(xpt.grad.item())

# test_more_ops
a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
apt, bpt, gpt = a, b, g

tol = 1e-6
print(gpt.data.item())
print(apt.grad.item())
print(bpt.grad.item())
