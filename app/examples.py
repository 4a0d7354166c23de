"""Built-in example programs, the lesson first. One list, so a later issue can translate the texts.

Every example is a test case: its numbers are checked against torch in tests/service/test_examples.py.
The first ones are straight-line programs, one idea each; the last ones are what a course does next
(a training loop, a module of your own).
"""

from __future__ import annotations

from app.service.models import Example

LESSON = """\
import torch
from torch.autograd import Variable
y_t = 2 * torch.arange(0,4)
y = Variable(y_t)
x = Variable(torch.arange(0,4))
w = Variable(torch.ones(1), requires_grad=True)
y_pred = x * w
e = y_pred - y
e2 = e.pow(2)
J = e2.sum()
J.backward()
print(w.grad)
"""

# The lesson notebook's code cells In [6]..In [17], verbatim, each under its notebook label.
LESSON_NOTEBOOK = """\
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
"""

LINEAR_REGRESSION = """\
import torch
x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
y = torch.tensor([[3.0], [5.0], [7.0], [9.0]])
w = torch.zeros(1, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
y_pred = x @ w + b
loss = ((y_pred - y) ** 2).mean()
loss.backward()
print(loss.item(), w.grad, b.grad)
lr = 0.01
with torch.no_grad():
    w -= lr * w.grad
    b -= lr * b.grad
print(w, b)
"""

LOGISTIC_REGRESSION = """\
import torch
import torch.nn.functional as F
x = torch.tensor([[0.5, 1.0], [1.5, -0.5], [-1.0, 2.0], [2.0, 0.5]])
y = torch.tensor([1.0, 0.0, 1.0, 0.0])
w = torch.tensor([0.1, -0.2], requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
z = x @ w + b
p = torch.sigmoid(z)
loss = F.binary_cross_entropy(p, y)
loss.backward()
print(loss.item())
print(w.grad, b.grad)
"""

MLP_STEP = """\
import torch
import torch.nn.functional as F
x = torch.tensor([[0.0, 1.0, 2.0], [1.0, -1.0, 0.5], [2.0, 0.0, -1.0], [-0.5, 0.5, 1.0]])
y = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
W1 = torch.linspace(-1, 1, 15).reshape(3, 5).requires_grad_()
b1 = torch.zeros(5, requires_grad=True)
W2 = torch.linspace(0.5, -0.5, 5).reshape(5, 1).requires_grad_()
b2 = torch.zeros(1, requires_grad=True)
h = F.relu(x @ W1 + b1)
y_pred = h @ W2 + b2
loss = F.mse_loss(y_pred, y)
loss.backward()
print(loss.item())
print(W1.grad)
print(W2.grad)
"""

SOFTMAX_CROSS_ENTROPY = """\
import torch
import torch.nn.functional as F
logits = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], requires_grad=True)
target = torch.tensor([0, 1])
loss = F.cross_entropy(logits, target)
loss.backward()
p = F.softmax(logits, dim=1)
print(loss.item())
print(logits.grad)
print((p - F.one_hot(target, 3)) / 2)
"""

BROADCASTING = """\
import torch
x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
s = torch.tensor(2.0, requires_grad=True)
y = (x + b) * s
J = y.sum()
J.backward()
print(b.grad)
print(s.grad)
"""

USED_TWICE = """\
import torch
a = torch.tensor(3.0, requires_grad=True)
b = a * a
c = a + b
c.backward()
print(a.grad)
"""

DETACH_NO_GRAD = """\
import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
target = (w * 3).detach()
with torch.no_grad():
    scale = w.sum()
loss = ((w - target) ** 2).sum() / scale
loss.backward()
print(target.requires_grad, scale.requires_grad)
print(w.grad)
"""

GRAD_ACCUMULATION = """\
import torch
from torch.autograd import Variable
y = Variable(2 * torch.arange(0,4))
x = Variable(torch.arange(0,4))
w = Variable(torch.ones(1), requires_grad=True)
J = (x * w - y).pow(2).sum()
J.backward(retain_graph=True)
print(w.grad)
J.backward()
print(w.grad)
"""

INPLACE_ERROR = """\
import torch
w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = w.exp()
y.add_(1)
J = y.sum()
J.backward()
"""

TRAINING_LOOP = """\
import torch
torch.manual_seed(0)
x = torch.arange(0., 4)
y = 2 * x
w = torch.ones(1, requires_grad=True)
optimizer = torch.optim.SGD([w], lr=0.01)
for step in range(20):
    J = ((x * w - y) ** 2).sum()
    optimizer.zero_grad()
    J.backward()
    optimizer.step()
    print(f"step {step}: J = {J.item():.4f}, w = {w.item():.4f}")
"""

OWN_MODULE = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)

class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(2, 3)
        self.out = nn.Linear(3, 1)

    def forward(self, x):
        h = torch.tanh(self.hidden(x))
        return self.out(h)

net = TwoLayer()
x = torch.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
target = torch.tensor([[1.0], [1.0], [0.0]])
loss = F.mse_loss(net(x), target)
loss.backward()
print(net.hidden.weight.grad)
"""

EXAMPLES: list[Example] = [
    Example(
        id="lesson",
        title="The lesson: J = Σ(x·w − y)²",
        description="The course's first graph: a one-weight model, its squared error J, and dJ/dw.",
        source=LESSON,
    ),
    Example(
        id="lesson-notebook",
        title="The lesson notebook, cell by cell",
        description="Cells In [6] to In [17] of the notebook: zero the gradient, then nudge w by eps "
        "and watch J move by about eps times the gradient.",
        source=LESSON_NOTEBOOK,
    ),
    Example(
        id="linear-regression",
        title="Linear regression: one gradient step",
        description="Mean squared error of y = x·w + b, its gradients, and one step of gradient descent "
        "inside torch.no_grad().",
        source=LINEAR_REGRESSION,
    ),
    Example(
        id="logistic-regression",
        title="Logistic regression",
        description="A sigmoid over a linear score and binary cross-entropy: the gradient is x·(p − y) averaged.",
        source=LOGISTIC_REGRESSION,
    ),
    Example(
        id="mlp-step",
        title="A two-layer network",
        description="Linear, ReLU, linear, mean squared error: backpropagation through two layers. "
        "ReLU lets gradient through only where its input was positive.",
        source=MLP_STEP,
    ),
    Example(
        id="softmax-cross-entropy",
        title="Softmax and cross-entropy",
        description="The gradient of cross-entropy with respect to the logits is softmax minus one-hot, "
        "divided by the batch size.",
        source=SOFTMAX_CROSS_ENTROPY,
    ),
    Example(
        id="broadcasting",
        title="Broadcasting sums gradients",
        description="A bias added to every row and a scalar that scales everything: each gets the sum of "
        "the gradients of every place it was copied to.",
        source=BROADCASTING,
    ),
    Example(
        id="used-twice",
        title="A tensor used twice",
        description="c = a + a·a: gradients from every use of a add up, so dc/da = 1 + 2a = 7.",
        source=USED_TWICE,
    ),
    Example(
        id="detach-no-grad",
        title="Constants: detach() and torch.no_grad()",
        description="Values computed from w but cut out of the graph: no gradient flows through them.",
        source=DETACH_NO_GRAD,
    ),
    Example(
        id="grad-accumulation",
        title="Gradients accumulate",
        description="Two backward passes over the same graph (retain_graph=True): w.grad adds up, "
        "−28 then −56, unless it is zeroed in between.",
        source=GRAD_ACCUMULATION,
    ),
    Example(
        id="inplace-error",
        title="An in-place change breaks backward",
        description="exp() saves its output for backward; changing that output in place makes "
        "backward() fail with an error.",
        source=INPLACE_ERROR,
    ),
    Example(
        id="training-loop",
        title="A training loop: the lesson's w, learned",
        description="The lesson's model trained by SGD for 20 steps: the loss curve, each update "
        "w ← w − lr·dJ/dw with its numbers, the first and last passes in full.",
        source=TRAINING_LOOP,
    ),
    Example(
        id="own-module",
        title="A module of your own",
        description="An nn.Module subclass with two Linear layers: parameters named by their path "
        "(net.hidden.weight), ops grouped by the module they ran in.",
        source=OWN_MODULE,
    ),
]


# The examples' titles and descriptions in other languages, by example id and language (the browser
# shows them when GET /api/examples sends them as `translations`; the English fields stay as above).
TRANSLATIONS: dict[str, dict[str, dict[str, str]]] = {
    "lesson": {"pt-BR": {
        "title": "A aula: J = Σ(x·w − y)²",
        "description": "O primeiro grafo do curso: um modelo de um peso, o seu erro quadrático J, e dJ/dw."}},
    "lesson-notebook": {"pt-BR": {
        "title": "O caderno da aula, célula por célula",
        "description": "As células In [6] a In [17] do caderno: zerar o gradiente, depois empurrar w em eps "
        "e ver J mudar cerca de eps vezes o gradiente."}},
    "linear-regression": {"pt-BR": {
        "title": "Regressão linear: um passo de gradiente",
        "description": "Erro quadrático médio de y = x·w + b, os seus gradientes, e um passo de descida do "
        "gradiente dentro de torch.no_grad()."}},
    "logistic-regression": {"pt-BR": {
        "title": "Regressão logística",
        "description": "Uma sigmoide sobre um escore linear e a entropia cruzada binária: o gradiente é "
        "x·(p − y) na média."}},
    "mlp-step": {"pt-BR": {
        "title": "Uma rede de duas camadas",
        "description": "Linear, ReLU, linear, erro quadrático médio: backpropagation por duas camadas. "
        "A ReLU só deixa o gradiente passar onde a sua entrada era positiva."}},
    "softmax-cross-entropy": {"pt-BR": {
        "title": "Softmax e entropia cruzada",
        "description": "O gradiente da entropia cruzada em relação aos logits é a softmax menos o one-hot, "
        "dividido pelo tamanho do lote."}},
    "broadcasting": {"pt-BR": {
        "title": "Broadcasting soma gradientes",
        "description": "Um viés somado a cada linha e um escalar que multiplica tudo: cada um recebe a soma "
        "dos gradientes de todos os lugares para onde foi copiado."}},
    "used-twice": {"pt-BR": {
        "title": "Um tensor usado duas vezes",
        "description": "c = a + a·a: os gradientes de cada uso de a se somam, então dc/da = 1 + 2a = 7."}},
    "detach-no-grad": {"pt-BR": {
        "title": "Constantes: detach() e torch.no_grad()",
        "description": "Valores calculados a partir de w mas cortados do grafo: nenhum gradiente passa por eles."}},
    "grad-accumulation": {"pt-BR": {
        "title": "Gradientes se acumulam",
        "description": "Duas passadas de backward pelo mesmo grafo (retain_graph=True): w.grad se soma, "
        "−28 e depois −56, a menos que seja zerado entre elas."}},
    "training-loop": {"pt-BR": {
        "title": "Um laço de treino: o w da aula, aprendido",
        "description": "O modelo da aula treinado por SGD em 20 passos: a curva da perda, cada atualização "
        "w ← w − lr·dJ/dw com os seus números, a primeira e a última passadas por inteiro."}},
    "own-module": {"pt-BR": {
        "title": "Um módulo seu",
        "description": "Uma subclasse de nn.Module com duas camadas Linear: parâmetros com o nome do seu "
        "caminho (net.hidden.weight), operações agrupadas pelo módulo em que rodaram."}},
    "inplace-error": {"pt-BR": {
        "title": "Uma mudança in-place quebra o backward",
        "description": "exp() salva a sua saída para o backward; mudar essa saída in-place faz o "
        "backward() falhar com um erro."}},
}

EXAMPLES = [example.model_copy(update={"translations": TRANSLATIONS.get(example.id, {})}) for example in EXAMPLES]
EXAMPLES_BY_ID: dict[str, Example] = {example.id: example for example in EXAMPLES}
