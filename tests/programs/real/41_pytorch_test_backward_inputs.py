# Source: PyTorch's own test suite, repository pytorch/pytorch, file test/test_autograd.py, class
#   TestAutograd, methods test_backward_with_inputs, test_backward_with_scalar_input and
#   test_backward_with_nonleaf_inputs (https://github.com/pytorch/pytorch/blob/main/test/test_autograd.py).
# Changes: the method bodies run at module level, one after another; each self.assertEqual(a, b) became
#   print(torch.allclose(a, b)) (with b.to(a.dtype) where the test passed exact_dtype=False),
#   self.assertIsNone(z.grad) became print(z.grad is None), and self.assertRaisesRegex(RuntimeError,
#   "cannot be empty", ...) became a try/except printing the error; torch.manual_seed(0) added.
import torch

torch.manual_seed(0)

# test_backward_with_inputs
x = torch.randn(2, 2, dtype=torch.double, requires_grad=True)
y = torch.randn(2, 2, dtype=torch.double, requires_grad=True)

def fn():
    return x**2 + y * x + y**2

gradient = torch.ones(2, 2)
x_grad_expected = 2 * x + y
y_grad_expected = x + 2 * y

@torch.no_grad()
def reset_grad():
    x.grad.zero_()
    y.grad.zero_()

torch.autograd.backward(fn(), gradient, inputs=[x, y])
print(torch.allclose(x.grad, x_grad_expected))
print(torch.allclose(y.grad, y_grad_expected))

reset_grad()
torch.autograd.backward(fn(), gradient, inputs=[x])
print(torch.allclose(x.grad, x_grad_expected))
print(torch.allclose(y.grad, torch.zeros(2, 2).to(y.grad.dtype)))

reset_grad()
torch.autograd.backward(fn(), gradient, inputs=[y])
print(torch.allclose(y.grad, y_grad_expected))
print(torch.allclose(x.grad, torch.zeros(2, 2).to(x.grad.dtype)))

reset_grad()
torch.autograd.backward(fn(), gradient, inputs=y)
print(torch.allclose(y.grad, y_grad_expected))
print(torch.allclose(x.grad, torch.zeros(2, 2).to(x.grad.dtype)))

reset_grad()
try:
    torch.autograd.backward(fn(), gradient, inputs=[])
except RuntimeError as e:
    print(e)

# test_backward_with_scalar_input
x = torch.randn([], dtype=torch.double, requires_grad=True)
out = x**2
out.backward(inputs=x)
print(torch.allclose(x.grad, 2 * x))

# test_backward_with_nonleaf_inputs
x = torch.randn(2, 2, dtype=torch.double, requires_grad=True)
x_nonleaf = x * 1
y = torch.randn(2, 2, dtype=torch.double, requires_grad=True)
z = torch.randn(2, 2, dtype=torch.double, requires_grad=True)

out = x_nonleaf**2 + y * x_nonleaf + y**2

out.backward(
    torch.ones(2, 2, dtype=torch.double),
    create_graph=True,
    inputs=[x, y, x_nonleaf],
)
x_grad_expected = 2 * x + y
y_grad_expected = x + 2 * y
x_non_leaf_expected = 2 * x_nonleaf + y

print(torch.allclose(y.grad, y_grad_expected))
print(torch.allclose(x.grad, x_grad_expected))
print(torch.allclose(x_nonleaf.grad, x_non_leaf_expected))

# backward doesn't have an allow_unused flag, so the behavior of backward
# when variable is not part of the graph is as if allow_used were true
# x.grad will simply be None.
out.backward(
    torch.ones(2, 2, dtype=torch.double), create_graph=True, inputs=[z]
)
print(z.grad is None)

# Avoid leaking memory
x.grad = None
y.grad = None
x_nonleaf.grad = None
