"""Scripts and values the tests share: a small nn.Module trained one SGD step, computed by plain torch."""

from __future__ import annotations

TRAIN_SCRIPT = '''\
import sys
import torch
from torch import nn

torch.manual_seed(int(sys.argv[1]))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        return self.fc2(h)


def main():
    net = Net()
    optimizer = torch.optim.SGD(net.parameters(), lr=float(sys.argv[2]))
    x = torch.linspace(-1, 1, 6).reshape(2, 3)
    y = torch.tensor([[0.5], [-0.5]])
    optimizer.zero_grad()
    loss = ((net(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    print(f"loss {loss.item():.6f}", __name__, __file__.endswith("train.py"))


if __name__ == "__main__":
    main()
'''


def train_reference(seed: int, lr: float) -> dict:
    """The script's numbers, by plain torch in this process: loss, each parameter's grad and new value."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    fc1, fc2 = nn.Linear(3, 4), nn.Linear(4, 1)
    params = {"net.fc1.weight": fc1.weight, "net.fc1.bias": fc1.bias,
              "net.fc2.weight": fc2.weight, "net.fc2.bias": fc2.bias}
    before = {name: p.detach().clone() for name, p in params.items()}
    x = torch.linspace(-1, 1, 6).reshape(2, 3)
    y = torch.tensor([[0.5], [-0.5]])
    loss = ((fc2(torch.tanh(fc1(x))) - y) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        after = {name: p - lr * p.grad for name, p in params.items()}
    return {"loss": loss.item(), "before": {k: v.tolist() for k, v in before.items()},
            "grad": {k: p.grad.tolist() for k, p in params.items()}, "after": {k: v.tolist() for k, v in after.items()}}
