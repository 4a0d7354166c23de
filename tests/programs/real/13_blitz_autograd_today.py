# Source: PyTorch Tutorials, "Deep Learning with PyTorch: A 60 Minute Blitz" -> "A Gentle Introduction to
#   torch.autograd", repository pytorch/tutorials, file beginner_source/blitz/autograd_tutorial.py (current
#   edition, https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html), the code of "Usage in
#   PyTorch", "Differentiation in Autograd", "Exclusion from the DAG" and frozen parameters.
# Changes: torchvision's pretrained resnet18 (a download) is replaced by `resnet18`, a tiny stand-in module
#   defined here with a conv layer and an `fc` head, so `model.fc = nn.Linear(512, 10)` became
#   `nn.Linear(4, 10)`; input 64x64 reduced to 16x16; torch.manual_seed(0) added.
import torch
from torch import nn


class resnet18(nn.Module):  # stand-in for torchvision.models.resnet18 (no downloads here)
    def __init__(self, weights=None):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, 1000)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv1(x))), 1))


torch.manual_seed(0)

model = resnet18(weights="DEFAULT")
data = torch.rand(1, 3, 16, 16)
labels = torch.rand(1, 1000)

prediction = model(data) # forward pass

loss = (prediction - labels).sum()
loss.backward() # backward pass

optim = torch.optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

optim.step() #gradient descent

######################################################################
# Differentiation in Autograd

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# Check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)

######################################################################
# Exclusion from the DAG

x = torch.rand(5, 5)
y = torch.rand(5, 5)
z = torch.rand((5, 5), requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")

######################################################################
# Frozen parameters

from torch import nn, optim

model = resnet18(weights="DEFAULT")

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False

model.fc = nn.Linear(4, 10)

# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)
