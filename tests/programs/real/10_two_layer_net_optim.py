# Source: PyTorch Tutorials, "Learning PyTorch with Examples" (PyTorch 0.3 edition) -> "PyTorch: optim",
#   repository pytorch/tutorials, file beginner_source/examples_nn/two_layer_net_optim.py (revision 29c5caa,
#   with Variable and two-space indentation).
# Changes: torch.manual_seed(0) added; `torch.nn.MSELoss(size_average=False)` written as
#   `reduction='sum'` and `loss.data[0]` as `loss.item()` (the old spellings fail on torch 2.13); sizes
#   reduced (64, 1000, 100, 10 -> 16, 20, 8, 3) and iterations from 500 to 30 to stay under the op limit.
import torch
from torch.autograd import Variable

torch.manual_seed(0)

# N is batch size; D_in is input dimension;
# H is hidden dimension; D_out is output dimension.
N, D_in, H, D_out = 16, 20, 8, 3

# Create random Tensors to hold inputs and outputs, and wrap them in Variables.
x = Variable(torch.randn(N, D_in))
y = Variable(torch.randn(N, D_out), requires_grad=False)

# Use the nn package to define our model and loss function.
model = torch.nn.Sequential(
          torch.nn.Linear(D_in, H),
          torch.nn.ReLU(),
          torch.nn.Linear(H, D_out),
        )
loss_fn = torch.nn.MSELoss(reduction='sum')

# Use the optim package to define an Optimizer that will update the weights of
# the model for us. Here we will use Adam; the optim package contains many other
# optimization algoriths. The first argument to the Adam constructor tells the
# optimizer which Variables it should update.
learning_rate = 1e-4
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
for t in range(30):
  # Forward pass: compute predicted y by passing x to the model.
  y_pred = model(x)

  # Compute and print loss.
  loss = loss_fn(y_pred, y)
  print(t, loss.item())
  
  # Before the backward pass, use the optimizer object to zero all of the
  # gradients for the variables it will update (which are the learnable weights
  # of the model)
  optimizer.zero_grad()

  # Backward pass: compute gradient of the loss with respect to model parameters
  loss.backward()

  # Calling the step function on an Optimizer makes an update to its parameters
  optimizer.step()
