# Source: Andrej Karpathy, "Neural Networks: Zero to Hero", lecture 2 (makemore part 1: bigrams), repository
#   karpathy/nn-zero-to-hero, notebook lectures/makemore/makemore_part1_bigrams.ipynb (commit 73c3fcc),
#   cells In [4] (words), In [366]-[367] (stoi/itos), In [682], In [716] and In [725] (the one-layer neural
#   bigram model: dataset, gradient descent, sampling).
# Changes: `open('names.txt')` replaced by an inline list of 21 names (the notebook's words[:10] plus 11
#   names chosen so every letter a-z occurs, keeping 27 classes); the gradient-descent loop runs 20 steps
#   (the notebook's cell shows range(1) after earlier runs of 100); everything else as written, including
#   the 2-space indentation and the torch.Generator seeds.
import torch
import torch.nn.functional as F

words = ['emma', 'olivia', 'ava', 'isabella', 'sophia', 'charlotte', 'mia', 'amelia', 'harper', 'evelyn',
         'quinn', 'zoe', 'jackson', 'felix', 'wyatt', 'gabriel', 'kaden', 'xavier', 'jude', 'brooklyn', 'dixie']

chars = sorted(list(set(''.join(words))))
stoi = {s:i+1 for i,s in enumerate(chars)}
stoi['.'] = 0
itos = {i:s for s,i in stoi.items()}

# create the dataset
xs, ys = [], []
for w in words:
  chs = ['.'] + list(w) + ['.']
  for ch1, ch2 in zip(chs, chs[1:]):
    ix1 = stoi[ch1]
    ix2 = stoi[ch2]
    xs.append(ix1)
    ys.append(ix2)
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print('number of examples: ', num)

# initialize the 'network'
g = torch.Generator().manual_seed(2147483647)
W = torch.randn((27, 27), generator=g, requires_grad=True)

# gradient descent
for k in range(20):
  
  # forward pass
  xenc = F.one_hot(xs, num_classes=27).float() # input to the network: one-hot encoding
  logits = xenc @ W # predict log-counts
  counts = logits.exp() # counts, equivalent to N
  probs = counts / counts.sum(1, keepdims=True) # probabilities for next character
  loss = -probs[torch.arange(num), ys].log().mean() + 0.01*(W**2).mean()
  print(loss.item())
  
  # backward pass
  W.grad = None # set to zero the gradient
  loss.backward()
  
  # update
  W.data += -50 * W.grad

# finally, sample from the 'neural net' model
g = torch.Generator().manual_seed(2147483647)

for i in range(5):
  
  out = []
  ix = 0
  while True:
    
    # ----------
    # BEFORE:
    #p = P[ix]
    # ----------
    # NOW:
    xenc = F.one_hot(torch.tensor([ix]), num_classes=27).float()
    logits = xenc @ W # predict log-counts
    counts = logits.exp() # counts, equivalent to N
    p = counts / counts.sum(1, keepdims=True) # probabilities for next character
    # ----------
    
    ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
    out.append(itos[ix])
    if ix == 0:
      break
  print(''.join(out))
