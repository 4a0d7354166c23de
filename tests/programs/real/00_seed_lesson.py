# Source: the course's Portuguese lesson notebook "PyTorch: Variable e Gradientes" (stored as text in
#   shared/seed/000_c701520965e1bfe4.txt), code cells In [6] to In [18], pasted one after another exactly as
#   they are, each under its notebook label.
# Changes: `import torch` and `print(torch.__version__)` added first. Nothing else: bare expressions such as
#   `J` and `J_new` stay and print nothing when run as a script; numpy is imported by cell In [18] itself.
# Notebook outputs this program reproduces (checked by test_seed_lesson_numbers): J = 14; dJ/dw = -28 (the
#   notebook shows -56 under In [14] because In [13] and In [14] were run twice before zeroing: the second
#   backward adds another -28); J_new - J = -0.02798843; the numpy hand backprop prints 1.0, [1. 1. 1. 1.],
#   [ 0. -2. -4. -6.] and -28.0.
import torch
print(torch.__version__)

# In [6]:
import torch
from torch.autograd import Variable

# In [7]:
y_t = 2 * torch.arange(0,4)
y = Variable(y_t); y

# In [8]:
x = Variable(torch.arange(0,4)); x

# In [9]:
w = Variable(torch.ones(1),requires_grad=True); w

# In [13]:
# predict (forward)
y_pred = x * w

# cálculo da perda J: loss
e = y_pred - y
e2 = e.pow(2)
J = e2.sum()
J

# In [14]:
J.backward()
print(w.grad)

# In [15]:
w.grad.data.zero_();

# In [16]:
eps = 0.001
y_pred = x * (w+eps)
J_new = (y_pred - y).pow(2).sum()
J_new

# In [17]:
print((J_new - J).data.numpy())

# In [18]:
import numpy as np

dJ = 1.
de2 = dJ * np.ones((4,))
de = de2 * 2 * e.data.numpy()
dy_pred = de
dw = (dy_pred * x.data.numpy()).sum()
print(dJ)
print(de2)
print(de)
print(dw)
