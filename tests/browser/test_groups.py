"""Groups from what the engine records (static/js/groups.js on real traces): calls told apart by the
engine's call numbers, and containers named by their class."""

from __future__ import annotations

from app.engine.tracer import trace
from app.trace_model import wire_json

# f's calls begin with different ops (the `if`): without call numbers the second and third calls
# looked like one (no op of theirs repeated the first op of the call before).
PROGRAM = """import torch
w = torch.tensor(2.0, requires_grad=True)
def f(x, flag):
    if flag:
        x = x * 3
    return x + w
net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Tanh())
a = f(w, True)
b = f(a, False)
c = f(b, False)
y = net(torch.ones(1, 2)).sum() + c
y.backward()
"""

GROUPS = """async ([sent, numbered]) => {
  const { inflateTrace } = await import('/static/js/trace-wire.js');
  const { buildGroups } = await import('/static/js/groups.js');
  const trace = inflateTrace(JSON.parse(sent));
  if (!numbered) for (const node of trace.nodes) delete node.calls;
  const tree = buildGroups(trace);
  return [...tree.groups.values()].filter((g) => g.kind !== 'root')
    .map((g) => ({ id: g.id, parent: g.parent, kind: g.kind, name: g.name ?? null, cls: g.cls ?? null, ops: g.ops }));
}"""


def test_each_call_of_a_function_is_its_own_group_and_containers_have_their_class(page):
    page.goto("/")
    sent = wire_json(trace(PROGRAM))
    groups = page.evaluate(GROUPS, [sent, True])
    # The first call (2 ops), then the two calls that ran the same code, as two iterations (1 op each).
    calls = [g for g in groups if g["kind"] == "function" and g["name"] == "f"]
    repeated = [g for g in groups if g["kind"] == "loop"]
    assert [g["ops"] for g in calls] == [2] and [g["ops"] for g in repeated] == [2], groups
    modules = {g["name"]: g["cls"] for g in groups if g["kind"] == "module"}
    assert modules.get("net") == "Sequential" and modules.get("net.0") == "Linear", groups
    # Without the numbers, the page could only guess: the three calls ran together as one.
    guessed = page.evaluate(GROUPS, [sent, False])
    assert [g["ops"] for g in guessed if g["kind"] == "function" and g["name"] == "f"] != [2], guessed
