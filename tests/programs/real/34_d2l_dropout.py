# Source: Dive into Deep Learning (d2l.ai, 0.17 edition), section 4.6 "Dropout", repository d2l-ai/d2l-en,
#   branch r0.17, file chapter_multilayer-perceptrons/dropout.md, PyTorch cells (the from-scratch Net whose
#   forward has `if self.training == True:`, then the concise nn.Dropout version).
# Changes: Fashion-MNIST (d2l.load_data_fashion_mnist, a download) replaced by a DataLoader over 64 random
#   28x28 images with random labels (torch.rand/torch.randint); d2l.train_ch3 (not installed) replaced by the
#   loop its train_epoch_ch3 runs for a torch optimizer (net.train(); zero_grad; l.mean().backward(); step),
#   with one print per epoch; hidden sizes 256 -> 32, batch size 256 -> 32, epochs 10 -> 2;
#   torch.manual_seed(0) added.
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)

def dropout_layer(X, dropout):
    assert 0 <= dropout <= 1
    # In this case, all elements are dropped out
    if dropout == 1:
        return torch.zeros_like(X)
    # In this case, all elements are kept
    if dropout == 0:
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)

X= torch.arange(16, dtype = torch.float32).reshape((2, 8))
print(X)
print(dropout_layer(X, 0.))
print(dropout_layer(X, 0.5))
print(dropout_layer(X, 1.))

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 32, 32

dropout1, dropout2 = 0.2, 0.5

class Net(nn.Module):
    def __init__(self, num_inputs, num_outputs, num_hiddens1, num_hiddens2,
                 is_training = True):
        super(Net, self).__init__()
        self.num_inputs = num_inputs
        self.training = is_training
        self.lin1 = nn.Linear(num_inputs, num_hiddens1)
        self.lin2 = nn.Linear(num_hiddens1, num_hiddens2)
        self.lin3 = nn.Linear(num_hiddens2, num_outputs)
        self.relu = nn.ReLU()

    def forward(self, X):
        H1 = self.relu(self.lin1(X.reshape((-1, self.num_inputs))))
        # Use dropout only when training the model
        if self.training == True:
            # Add a dropout layer after the first fully connected layer
            H1 = dropout_layer(H1, dropout1)
        H2 = self.relu(self.lin2(H1))
        if self.training == True:
            # Add a dropout layer after the second fully connected layer
            H2 = dropout_layer(H2, dropout2)
        out = self.lin3(H2)
        return out


net = Net(num_inputs, num_outputs, num_hiddens1, num_hiddens2)

num_epochs, lr, batch_size = 2, 0.5, 32
loss = nn.CrossEntropyLoss(reduction='none')
train_iter = DataLoader(TensorDataset(torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))), batch_size)
trainer = torch.optim.SGD(net.parameters(), lr=lr)
for epoch in range(num_epochs):
    net.train()
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    print(f'epoch {epoch + 1}, loss {float(l.mean()):f}')

net = nn.Sequential(nn.Flatten(),
        nn.Linear(784, 32),
        nn.ReLU(),
        # Add a dropout layer after the first fully connected layer
        nn.Dropout(dropout1),
        nn.Linear(32, 32),
        nn.ReLU(),
        # Add a dropout layer after the second fully connected layer
        nn.Dropout(dropout2),
        nn.Linear(32, 10))

def init_weights(m):
    if type(m) == nn.Linear:
        nn.init.normal_(m.weight, std=0.01)

net.apply(init_weights)

trainer = torch.optim.SGD(net.parameters(), lr=lr)
for epoch in range(num_epochs):
    net.train()
    for X, y in train_iter:
        y_hat = net(X)
        l = loss(y_hat, y)
        trainer.zero_grad()
        l.mean().backward()
        trainer.step()
    print(f'epoch {epoch + 1}, loss {float(l.mean()):f}')
