# Source: PyTorch Forums, thread "Why cant I see .grad of an intermediate variable?", answer by Adam Paszke
#   (https://discuss.pytorch.org/t/why-cant-i-see-grad-of-an-intermediate-variable/94), the `save_grad`
#   closure that stores an intermediate gradient in a dict through register_hook.
# Changes: torch.manual_seed(0) added (x comes from torch.randn). The Variable wrapper is kept as posted.
import torch
from torch.autograd import Variable

torch.manual_seed(0)

grads = {}
def save_grad(name):
    def hook(grad):
        grads[name] = grad
    return hook

x = Variable(torch.randn(1,1), requires_grad=True)
y = 3*x
z = y**2

# In here, save_grad('y') returns a hook (a function) that keeps 'y' as name
y.register_hook(save_grad('y'))
z.register_hook(save_grad('z'))
z.backward()

print(grads['y'])
print(grads['z'])
