# Source: Alfredo Canziani, NYU Deep Learning (DS-GA 1008, spring 2021), repository Atcold/NYU-DLSP21,
#   notebook 04-spiral_classification.ipynb (commit 1c516bf, https://atcold.github.io/NYU-DLSP21/), cells
#   "Create the data", "Build and train a neural net" and the print(model) of "Plot trained model".
# Changes (for the training-loop tests): the plotting helpers and cells removed, `acc`
#   copied from res/plot_lib.py, `overwrite` replaced by print; N = 100 samples per class, d = 20 hidden units and 300
#   Adam steps (the notebook: 1000, 100 and 2000), a few hundred steps as the training-loop tests ask.
import torch
from torch import nn, optim
from math import pi as π

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

def acc(l, y):
    score, predicted = torch.max(l, 1)
    return (y == predicted).sum().float() / len(y)

seed = 12345
torch.manual_seed(seed)
N = 100  # num_samples_per_class
n = 2     # input dimensions
K = 5     # num_classes
d = 20   # num_hidden_units

# Generate spirals

t = torch.linspace(0, 1, N)
a = 0.8 * t + 0.2  # amplitude 0.2 → 1.0
X = list()
y = list()
for k in range(K):
    θ = (2 * t + k) * 2 * π / K + 0.2 * torch.randn(N)
    X.append(torch.stack((a * θ.sin(), a * θ.cos()), dim=1))
    y.append(torch.zeros(N, dtype=torch.long).fill_(k))
X = torch.cat(X)
y = torch.cat(y)

print("Shapes:")
print("X:", tuple(X.size()))
print("y:", tuple(y.size()))

learning_rate = 1e-3
lambda_l2 = 1e-5

# Model definition
model = nn.Sequential(
    nn.Linear(n, d),
    # nn.ReLU(),  # Comment this line for a linear model
    nn.Linear(d, K)  # (Optional) Comment this line and uncomment the next one to display 2D embeddings below
    # nn.Linear(d, 2), nn.Linear(2, K)
)
model.to(device)  # possibly send to CUDA

# Cross entropy given the linear output
C = torch.nn.CrossEntropyLoss(reduction='none')

# Using Adam optimiser
optimiser = torch.optim.Adam(model.parameters(), lr=learning_rate, weight_decay=lambda_l2) # built-in L2

# Full-batch training loop
for t in range(300):
    
    # Feed forward to get the linear sum s
    s = model(X)
    
    # Compute the free energy F and loss L
    F = C(s, y)
    L = F.mean()
    
    # Zero the gradients
    optimiser.zero_grad()
    
    # Backward pass to compute and accumulate the gradient
    # of the free energy w.r.t our learnable params
    L.backward()
    
    # Update params
    optimiser.step()
    
    # Display epoch, L, and accuracy
    if t % 10 == 9:
        print(f'[EPOCH]: {t}, [LOSS]: {L.item():.6f}, [ACCURACY]: {acc(s, y):.3f}')

print(model)
