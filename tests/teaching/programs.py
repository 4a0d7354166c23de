"""Grafo programs that, together, use every local derivative rule (each at least once, most in
several forms: broadcasting, dims, reductions, vectors and matrices)."""

from __future__ import annotations

from tests.engine.test_lesson import LESSON

HEADER = "import torch\nimport torch.nn.functional as F\n"

PROGRAMS: dict[str, str] = {
    "lesson": LESSON,
    "arithmetic": HEADER + """\
a = torch.tensor([[1.0, -2.0, 3.0], [0.5, 2.0, -1.5]], requires_grad=True)
b = torch.tensor([0.5, 1.5, -1.0], requires_grad=True)
s = torch.tensor(2.0, requires_grad=True)
c = a + b
d = torch.add(a, b, alpha=2)
e = a - b * s
f = 1 - a
g = a / b
h = 3 / b
k = a * 3 + (-a)
L = (c * d).sum() + (e * f).sum() + g.sum() + h.sum() + k.sum() + torch.sub(a, b, alpha=0.5).sum()
L.backward()
""",
    "powers": HEADER + """\
x = torch.tensor([0.5, 1.0, 2.0, 3.0], requires_grad=True)
n = torch.tensor([2.0, 0.5, 1.5, -1.0], requires_grad=True)
p = x.pow(2)
q = x ** 3
r = x ** 0.5
u = x ** n
v = 2 ** n
w = x ** 1
L = (p + q + r + u + v + w).sum()
L.backward()
""",
    "elementwise": HEADER + """\
x = torch.tensor([0.3, 1.2, 2.0, 0.7], requires_grad=True)
y = torch.tensor([-1.5, 0.5, -0.2, 2.5], requires_grad=True)
a = torch.exp(x) + torch.log(x) + torch.sqrt(x) + y.abs() + torch.sin(y) + torch.cos(y)
b = torch.tanh(y) + torch.sigmoid(y) + F.relu(y) + torch.relu(y) + y.square() + x.reciprocal()
c = torch.log1p(x) + torch.expm1(y) + (-y) + torch.neg(x)
L = (a * b * c).sum()
L.backward()
""",
    "clamp_where": HEADER + """\
x = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
z = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], requires_grad=True)
a = torch.clamp(x, -1, 1)
b = x.clamp(min=0)
c = x.clamp_max(0.5)
d = torch.clip(x, max=1.0)
e = torch.where(x > 0, x, z)
f = torch.where(x > 0, z * 2, 0.0)
L = (a * z).sum() + (b * z).sum() + (c * z).sum() + (d * z).sum() + (e * e).sum() + f.sum()
L.backward()
""",
    "softmax": HEADER + """\
z = torch.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0]], requires_grad=True)
t = torch.tensor([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
p = z.softmax(dim=1)
q = F.log_softmax(z, dim=0)
r = torch.softmax(z, 0)
L = (p * t).sum() + (q * t).sum() + (r * r).sum()
L.backward()
""",
    "reductions": HEADER + """\
x = torch.tensor([[1.0, 5.0, 2.0], [4.0, 3.0, 5.0]], requires_grad=True)
a = x.sum()
b = x.sum(dim=1)
c = x.sum(0, keepdim=True)
d = x.mean()
e = x.mean(dim=0)
f = x.max()
g = x.min()
h = x.max(dim=1)
k = torch.min(x, 0)
m = x.amax(dim=1)
n = x.amin()
o = x.norm()
p = x.prod()
L = a + (b * b).sum() + (c * c).sum() + d + (e * e).sum() + f + g + (h.values * 2).sum() + k[0].sum() + m.sum() + n + o + p
L.backward()
""",
    "matrices": HEADER + """\
A = torch.tensor([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0]], requires_grad=True)
B = torch.tensor([[1.0, 0.0], [2.0, 1.0], [-1.0, 3.0]], requires_grad=True)
v = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
u = torch.tensor([2.0, 1.0], requires_grad=True)
C = A @ B
D = torch.mm(A, B)
E = torch.matmul(A, v)
F1 = torch.mv(A, v)
G = u @ A
H = torch.dot(v, v)
K = torch.outer(u, v)
T3 = torch.stack([A, A * 2])
M = T3 @ B
N = torch.matmul(T3, v)
L = (C * C).sum() + D.sum() + (E * u).sum() + F1.sum() + (G * v).sum() + H + (K * K).sum() + (M * M).mean() + N.sum()
L.backward()
""",
    "linear": HEADER + """\
x = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
W = torch.tensor([[0.1, 0.2, 0.3], [-0.5, 0.4, 0.0]], requires_grad=True)
b = torch.tensor([0.5, -0.5], requires_grad=True)
out = F.linear(x, W, b)
out2 = F.linear(x, W)
out3 = F.linear(torch.stack([x, x]), W, b)
L = (out * out).sum() + out2.sum() + (out3 * out3).mean()
L.backward()
""",
    "shapes": HEADER + """\
x = torch.arange(1.0, 7.0, requires_grad=True)
m = x.view(2, 3)
r = x.reshape(3, 2)
f = m.flatten()
s = m.unsqueeze(0)
q = s.squeeze(0)
va = x.view_as(torch.zeros(2, 3))
t1 = m.t()
t2 = m.T
t3 = s.mT
t4 = m.transpose(0, 1)
t5 = s.permute(2, 0, 1)
t6 = torch.swapaxes(m, 0, 1)
e1 = x.view(1, 6).expand(3, 6)
e2 = x.expand_as(torch.zeros(2, 6))
e3 = torch.broadcast_to(m, (4, 2, 3))
c1 = m.clone()
c2 = m.double()
c3 = m.float().contiguous()
L = (m * m).sum() + (r * 2).sum() + f.sum() + (q * q).sum() + va.sum() + (t1 * t2).sum() + (t3 * t4).sum() \\
    + (t5 * 3).sum() + t6.sum() + (e1 * e1).sum() + e2.sum() + e3.mean() + (c1 * c1).sum() + c2.sum().float() + c3.sum()
L.backward()
""",
    "indexing": HEADER + """\
x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
a = x[0]
b = x[:, 1]
c = x[1, 1:]
d = x[..., None]
i = torch.tensor([0, 1, 1])
e = x[i]
mask = x > 2.5
g = x[mask]
h = x * 2
h[0, 1] = 7.0
v = torch.tensor([9.0, 8.0], requires_grad=True)
h[:, 2] = v
L = (a * a).sum() + b.sum() + (c * 3).sum() + d.sum() + (e * e).sum() + g.sum() + (h * h).sum()
L.backward()
""",
    "pieces": HEADER + """\
x = torch.arange(6.0, requires_grad=True)
y = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
a, b = x.chunk(2)
c, d = torch.split(x, [4, 2])
p, q, r = x.split(2)
u1, u2 = y.unbind(1)
k = torch.cat([a, b, x], dim=0)
k2 = torch.cat([y, y * 2], dim=1)
s = torch.stack([a, b], dim=1)
s2 = torch.stack([y, y], dim=0)
L = (a * b).sum() + c.mean() + (d * d).sum() + p.sum() + (u1 * u2).sum() + (k * k).sum() + (k2 * k2).sum() \\
    + (s * s).sum() + s2[1].sum()
L.backward()
""",
    "losses": HEADER + """\
z = torch.tensor([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.0, 1.0, 1.0]], requires_grad=True)
target = torch.tensor([0, 1, 2])
l1 = F.cross_entropy(z, target)
l2 = F.cross_entropy(z, target, reduction="sum")
l3 = F.cross_entropy(z, torch.tensor([0, -100, 2]))
l4 = F.cross_entropy(z[0], torch.tensor(1))
l5 = (F.cross_entropy(z, target, reduction="none") * torch.tensor([1.0, 2.0, 3.0])).sum()
probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
l6 = F.cross_entropy(z, probs)
pred = torch.tensor([0.5, 1.5, -0.5], requires_grad=True)
goal = torch.tensor([1.0, 1.0, 0.0], requires_grad=True)
m1 = F.mse_loss(pred, goal)
m2 = F.mse_loss(pred, torch.zeros(3), reduction="sum")
m3 = (F.mse_loss(pred, goal, reduction="none") * torch.tensor([1.0, 2.0, 3.0])).sum()
p = torch.sigmoid(pred)
b1 = F.binary_cross_entropy(p, torch.tensor([1.0, 0.0, 1.0]))
b2 = F.binary_cross_entropy(p, torch.tensor([0.0, 0.0, 1.0]), reduction="sum")
L = l1 + l2 + l3 + l4 + l5 + l6 + m1 + m2 + m3 + b1 + b2
L.backward()
""",
    "detach_and_twice": HEADER + """\
w = torch.tensor([1.0, 2.0], requires_grad=True)
c = (w * 3).detach()
h = w * w + w
L = (h * c).sum()
L.backward(retain_graph=True)
L.backward()
""",
}
