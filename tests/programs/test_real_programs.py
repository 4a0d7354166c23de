"""Real PyTorch teaching programs: Grafo's trace must print and hold what plain torch prints and holds.

Every file in `real/` is a short program taken from public teaching material (its header names the
source and every change). `test_engine_matches_plain_torch` runs each one twice: with plain Python +
torch in a subprocess (`run_plain`) and through `app.engine.trace`, and compares the printed lines and
the final `.grad` of every global leaf and module parameter (`compare_trace`).

The plain runs cost a torch import each (~1-2 s), so one session-scoped cache starts them all on first
use, two at a time, and each test waits only for the run it needs.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from app.trace_model import Stats, TensorNode, TensorValue, Trace
from tests.programs.compare import compare_trace, normalise_line
from tests.programs.reference import PlainRunError, Reference, run_plain

REAL = Path(__file__).parent / "real"
PROGRAMS = sorted(REAL.glob("*.py"))
SEED_LESSON = REAL / "00_seed_lesson.py"


class ReferenceCache:
    """Plain runs of every corpus program, started together and awaited one by one."""

    def __init__(self, paths: list[Path]):
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="plain-run")
        self._futures: dict[Path, Future[Reference]] = {path: self._pool.submit(run_plain, path) for path in paths}

    def get(self, path: Path) -> Reference:
        return self._futures[path].result()

    def close(self) -> None:
        for future in self._futures.values():
            future.cancel()
        self._pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def references():
    cache = ReferenceCache(PROGRAMS)
    yield cache
    cache.close()


# ---------------------------------------------------------------------------------------------------
# The comparison with the engine.


@pytest.mark.parametrize("path", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_engine_matches_plain_torch(path: Path, references: ReferenceCache, one_thread):
    from app.engine import trace

    reference = references.get(path)
    result = trace(path.read_text(encoding="utf-8"))
    assert compare_trace(result, reference) == []


# ---------------------------------------------------------------------------------------------------
# The corpus itself.


def header(path: Path) -> str:
    """The comment block a program starts with (a shebang line skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and lines[0].startswith("#!"):
        lines = lines[1:]
    block = []
    for line in lines:
        if not line.startswith("#"):
            break
        block.append(line)
    return "\n".join(block)


def test_corpus_headers():
    assert len([path for path in PROGRAMS if path != SEED_LESSON]) >= 34
    assert SEED_LESSON in PROGRAMS
    for path in PROGRAMS:
        text = header(path)
        source = re.search(r"^# Source: (.+)$", text, re.MULTILINE)
        assert source and len(source.group(1).strip()) > 20, f"{path.name}: no '# Source: ...' header naming a source"
        assert re.search(r"^# Changes: \S", text, re.MULTILINE), f"{path.name}: no '# Changes: ...' header line"
        assert re.match(r"\d\d_[a-z0-9_]+\.py$", path.name), f"{path.name}: name is not <nn>_<slug>.py"


def test_corpus_programs_are_self_contained():
    """Seeded when random, and nothing from the network, the file system, CUDA or torchvision."""
    for path in PROGRAMS:
        code = "\n".join(line.split("#")[0] for line in path.read_text(encoding="utf-8").splitlines())
        if re.search(r"\b(rand\w*|normal|random\.\w+|shuffle=True|multinomial)\(", code):
            assert re.search(r"manual_seed\(|default_rng\(\d+\)", code), f"{path.name}: random but not seeded"
        if re.search(r"(?<![\w.])random\.\w+\(", code):
            assert "random.seed(" in code, f"{path.name}: uses the random module unseeded"
        assert "torchvision" not in code, path.name
        assert not re.search(r"\bopen\(|requests|urllib|\.cuda\(|torch\.save|torch\.load", code), path.name
        assert re.search(r"\bprint\s*\(", code), f"{path.name}: prints nothing"


# ---------------------------------------------------------------------------------------------------
# The reference runner, on small inline programs (no engine needed).

LEAF_PROGRAM = """\
import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.zeros(3, requires_grad=True)
loss = (w * w).sum()
loss.backward()
h = torch.ones(2, requires_grad=True) * 2
print("loss", loss.item())
print(f"{w.grad}")
print(w.grad_fn, loss.grad_fn)
"""

MODULE_PROGRAM = """\
import os
import torch
torch.manual_seed(0)

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(2, 1)

    def forward(self, x):
        return self.fc1(x)

model = Net()
x = torch.tensor([[1.0, 2.0]])
cost = model(x).sum()
cost.backward()
train_loss = 0.5
print(model.fc1.weight.grad.tolist())
print(os.listdir("."))
"""


def test_reference_runner():
    leaf = run_plain(LEAF_PROGRAM)
    assert leaf.output[:2] == ["loss 5.0", "tensor([2., 4.])"]
    assert re.fullmatch(r"None <SumBackward0 object at 0x[0-9a-f]+>", leaf.output[2])
    assert len(leaf.output) == 3
    assert leaf.grads == {"w": [2.0, 4.0], "b": None}  # h is not a leaf
    assert leaf.values == {"loss": 5.0}

    module = run_plain(MODULE_PROGRAM)
    assert module.output[0] == "[[1.0, 2.0]]"
    assert module.output[1] == "['program.py']"  # a fresh working directory; the result file comes later
    assert module.grads == {"model.fc1.weight": [1.0, 2.0], "model.fc1.bias": [1.0]}
    assert module.values["train_loss"] == 0.5 and "cost" in module.values


def test_reference_runner_takes_a_path_and_reports_failures(tmp_path: Path):
    program = tmp_path / "fails.py"
    program.write_text("import torch\nprint('before')\nraise ValueError('boom')\n", encoding="utf-8")
    with pytest.raises(PlainRunError, match="boom"):
        run_plain(program)
    with pytest.raises(PlainRunError, match="still running"):
        run_plain("import time\ntime.sleep(30)\n", timeout_s=1)


def test_seed_lesson_numbers(references: ReferenceCache):
    """The notebook's printed numbers, reproduced by plain torch."""
    lesson = references.get(SEED_LESSON)
    assert lesson.output[0] == torch.__version__
    assert lesson.output[1] == "tensor([-28.])"  # dJ/dw after In [14]
    assert float(lesson.output[2]) == pytest.approx(-0.02798843, abs=1e-6)  # In [17]: J_new - J
    assert lesson.output[3:] == ["1.0", "[1. 1. 1. 1.]", "[ 0. -2. -4. -6.]", "-28.0"]  # In [18]
    assert lesson.values["J"] == 14.0  # In [13]
    assert lesson.values["J_new"] == pytest.approx(13.97201, abs=1e-4)  # In [16]
    assert lesson.grads["w"] == [0.0]  # zeroed by In [15]

    # The notebook shows -56 under In [14]: In [13] and In [14] ran twice, so the second backward added
    # another -28 to w.grad. Replaying those two cells once more reproduces it.
    source = SEED_LESSON.read_text(encoding="utf-8")
    replay = source[source.index("# In [13]:"):source.index("# In [15]:")]
    head, tail = source.split("# In [15]:")
    twice = run_plain(head + replay + "# In [15]:" + tail)
    assert twice.output[1:3] == ["tensor([-28.])", "tensor([-56.])"]


def test_seed_lesson_numbers_in_grafo(one_thread):
    """The same numbers, as Grafo shows them: values and gradients on the graph, the output printed."""
    from app.engine import trace

    source = SEED_LESSON.read_text(encoding="utf-8")
    result = trace(source)
    named = {name: node for node in result.nodes if node.kind == "tensor" for name in node.names}
    assert named["J"].value.data == 14.0
    assert result.output[1:] == ["tensor([-28.])", result.output[2], "1.0", "[1. 1. 1. 1.]", "[ 0. -2. -4. -6.]", "-28.0"]
    assert float(result.output[2]) == pytest.approx(-0.02798843, abs=1e-6)
    (leaf,) = [leaf for leaf in result.gradcheck.leaves if leaf.name == "w"]
    assert leaf.elements[0].delta == pytest.approx(-0.02798843, abs=1e-6)  # the eps experiment
    assert [step.accumulated.data for step in result.backward if step.kind == "accumulate"] == [[-28.0]]

    replay = source[source.index("# In [13]:"):source.index("# In [15]:")]
    head, tail = source.split("# In [15]:")
    twice = trace(head + replay + "# In [15]:" + tail)
    assert twice.output[1:3] == ["tensor([-28.])", "tensor([-56.])"]
    assert [step.accumulated.data for step in twice.backward if step.kind == "accumulate"] == [[-28.0], [-56.0]]


# ---------------------------------------------------------------------------------------------------
# The comparer, on hand-built traces (no engine needed).


def value(data, shape, truncated=False, **stats) -> TensorValue:
    numel = 1
    for size in shape:
        numel *= size
    return TensorValue(shape=shape, dtype="float32", numel=numel, data=data, truncated=truncated, **stats)


def node(id: str, names: list[str], role: str = "param", grad: TensorValue | None = None) -> TensorNode:
    return TensorNode(
        id=id, kind="tensor", names=names, name=names[-1] if names else None, label=id, role=role,
        value=value([0.0], [1]), grad=grad, requires_grad=role == "param", is_leaf=role != "intermediate", version=0,
    )


def make_trace(nodes: list[TensorNode], output: list[str]) -> Trace:
    stats = Stats(statements=0, ops=0, tensors=len(nodes), backward_passes=0, backward_steps=0, elapsed_ms=0.0)
    return Trace(version=3, nodes=nodes, forward=[], backward=[], output=output, stats=stats)


def test_compare_trace_matches_and_normalises_addresses():
    reference = Reference(
        output=["<MulBackward0 object at 0x7f3a1c2b9e50>", "done"],
        grads={"w": [1.0, 2.0, 3.0, 4.0], "model.fc1.bias": None, "unused": None},
    )
    trace = make_trace(
        [
            node("t0", ["w"], grad=value([[9.0, 9.0], [9.0, 9.0]], [2, 2])),  # an older version of w
            node("t1", ["w"], role="intermediate", grad=value([[5.0, 5.0], [5.0, 5.0]], [2, 2])),
            node("t2", ["w"], grad=value([[1.0, 2.0], [3.0, 4.000001]], [2, 2])),  # the last param version
            node("t3", ["model.fc1.bias"], grad=None),
        ],
        ["<MulBackward0 object at 0x55d0c0ffee00>", "done"],
    )
    assert compare_trace(trace, reference) == []
    assert compare_trace(trace.model_dump(), reference) == []
    assert normalise_line("at 0xABCdef12 and 0x1") == "at 0x? and 0x?"


def test_compare_trace_reports_mismatches():
    reference = Reference(output=["a", "b"], grads={"w": [1.0, 2.0], "b": [0.5], "c": None, "gone": [1.0]})
    trace = make_trace(
        [
            node("t0", ["w"], grad=value([1.0, 2.1], [2])),
            node("t1", ["b"], grad=None),
            node("t2", ["c"], grad=value(0.0, [])),
        ],
        ["a", "c", "extra"],
    )
    problems = compare_trace(trace, reference)
    assert any("3 lines" in p for p in problems)
    assert any("output line 2" in p and "'c'" in p and "'b'" in p for p in problems)
    assert any(p.startswith("w: grad element 1") for p in problems)
    assert any(p.startswith("b: the trace has no grad") for p in problems)
    assert any(p.startswith("c: grad should be None") for p in problems)
    assert any(p.startswith("gone: no param node") for p in problems)


def test_compare_trace_truncated_and_non_finite():
    expected = [float(i) for i in range(10)] + [float("nan")]
    reference = Reference(output=[], grads={"w": expected, "v": [float("inf"), -1.0, 2.0]})
    good = make_trace(
        [
            node("t0", ["w"], grad=value([0.0, 1.0, 2.0], [11], truncated=True, min="nan", max="nan", mean="nan")),
            node("t1", ["v"], grad=value(["inf", -1.0, 2.0], [3])),
        ],
        [],
    )
    assert compare_trace(good, reference) == []
    bad = make_trace(
        [
            node("t0", ["w"], grad=value([0.0, 1.5, 2.0], [11], truncated=True, min=0.0, max=9.0, mean="nan")),
            node("t1", ["v"], grad=value(["-inf", -1.0, 2.0], [3])),
        ],
        [],
    )
    problems = compare_trace(bad, reference)
    assert any(p.startswith("w: grad element 1") for p in problems)
    assert any(p.startswith("w: grad min") for p in problems) and any(p.startswith("w: grad max") for p in problems)
    assert any(p.startswith("v: grad element 0") for p in problems)


def test_compare_trace_none_grads_the_engine_may_fill():
    """A frozen parameter last bound to the name, and gradients from Grafo's own (implicit) backward."""
    from app.trace_model import BackwardPass

    reference = Reference(output=[], grads={"model.fc.weight": None, "w": None})
    nodes = [
        node("t0", ["model.fc.weight"], grad=value([1.0], [1])),  # the model the name was bound to first
        node("t1", ["model.fc.weight"], role="constant"),  # the frozen parameter it is bound to at the end
        node("t2", ["w"], grad=value([2.0], [1])),
    ]
    problems = compare_trace(make_trace(nodes, []), reference)
    assert problems == ["w: grad should be None (as torch leaves it), the trace has one of shape [1]"]
    implicit = make_trace(nodes, [])
    implicit.passes = [BackwardPass(index=0, root="t2", seed=value(1.0, []), implicit=True)]
    assert compare_trace(implicit, reference) == []
