"""`grafo.record()` and `grafo.trace()` in a real Jupyter kernel (nbclient + ipykernel), and the outputs
as a notebook page shows them: the page's own view from JavaScript sent once, or an SVG without scripts."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.local.conftest import graph_shown

ROOT = Path(__file__).resolve().parents[2]
CELLS = [
    """\
import json
import torch
import grafo

torch.manual_seed(0)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(3, 4)
        self.fc2 = torch.nn.Linear(4, 2)

    def forward(self, x):
        h = torch.relu(self.fc1(x))
        return self.fc2(h)


model, x = Net(), torch.randn(5, 3)""",
    """\
with grafo.record() as g:
    loss = torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 1, 0, 1]))
    loss.backward()
g""",
    """\
t = grafo.trace(model, x)
t""",
    """\
named = {n.name: n for n in g.trace.nodes if n.kind == "tensor" and n.name}
ops = [n for n in g.trace.nodes if n.kind == "op"]
g.save("g.html"), g.save("g.svg"), g.save("g.json")
print(json.dumps({
    "loss": [named["loss"].value.data, loss.item()],
    "grad": [named["model.fc2.weight"].grad.data, model.fc2.weight.grad.tolist()],
    "modules": [op.module for op in ops if op.op == "linear"],
    "record_lines": sorted({op.span.line for op in ops if op.op == "cross_entropy"}),
    "trace_relu": [(op.span.line, op.stack) for op in t.trace.nodes if op.kind == "op" and op.op == "relu"],
    "sources": [g.source.splitlines()[1].strip(), t.source.splitlines()[14].strip()],
    "files": sorted(os.listdir(".")) if (os := __import__("os")) else [],
}))""",
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env)
    client.start_new_kernel_client()
    try:
        client.execute(cleanup_kc=False, reset_kc=False)
    finally:
        client._cleanup_kernel()
    return notebook, folder


def test_the_kernel_recorded_what_torch_computed(executed):
    notebook, folder = executed
    result = json.loads(notebook.cells[3].outputs[0]["text"])
    assert result["loss"][0] == pytest.approx(result["loss"][1])
    assert result["grad"][0] == result["grad"][1]
    assert result["modules"] == ["model.fc1", "model.fc2"]
    assert result["record_lines"] == [2]  # the line in the cell, the cell's own file
    assert result["trace_relu"] == [[15, ["Net.forward"]]]  # grafo.trace: the line in the cell defining Net
    assert result["sources"] == [CELLS[1].splitlines()[1].strip(), "h = torch.relu(self.fc1(x))"]
    assert {"g.html", "g.svg", "g.json"} <= set(result["files"])


def test_outputs_carry_the_view_once_the_javascript_and_an_svg(executed):
    notebook, _ = executed
    first, second = (cell.outputs[0]["data"] for cell in notebook.cells[1:3])
    for data in (first, second):
        assert set(data) == {"text/html", "image/svg+xml", "text/plain"}
        assert data["image/svg+xml"].startswith("<svg") and 'class="grafo-fallback"' in data["text/html"]
        assert "<svg" in data["text/html"]  # shown where scripts do not run
    assert 'id="grafo-assets"' in first["text/html"]  # the page's JavaScript, in the first output only
    assert 'id="grafo-assets"' not in second["text/html"]
    assert len(second["text/html"]) < len(first["text/html"]) / 5
    assert "<grafo.Recording of model(…)" in second["text/plain"]


def test_the_notebook_page_shows_both_graphs_offline(executed, tmp_path, offline_page):
    """The outputs' HTML in one page, as a notebook front end (or nbconvert) lays them out."""
    notebook, _ = executed
    outputs = [cell.outputs[0]["data"]["text/html"] for cell in notebook.cells[1:3]]
    page_path = tmp_path / "notebook.html"
    page_path.write_text("<!doctype html><meta charset='utf-8'><body>" + "\n<hr>\n".join(outputs), encoding="utf-8")
    page = offline_page.page
    page.goto(page_path.as_uri())
    page.wait_for_function("document.querySelectorAll('iframe').length === 2")
    frames = [handle.content_frame() for handle in page.query_selector_all(".grafo-output iframe")]
    expected = [len(json.loads(cell.outputs[0]["data"]["text/html"].split('class="grafo-payload">')[1]
                               .split("</script>")[0])["trace"]["nodes"]) for cell in notebook.cells[1:3]]
    assert [graph_shown(frame) for frame in frames] == expected
    assert all(not el.is_visible() for el in page.query_selector_all(".grafo-fallback"))
    assert not offline_page.errors, offline_page.errors


def test_where_scripts_do_not_run_the_svg_shows(executed, local_browser, tmp_path):
    notebook, _ = executed
    html = notebook.cells[2].outputs[0]["data"]["text/html"]
    page_path = tmp_path / "no-scripts.html"
    page_path.write_text("<!doctype html><meta charset='utf-8'><body>" + html, encoding="utf-8")
    context = local_browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(page_path.as_uri())
        fallback = page.locator(".grafo-fallback svg")
        assert fallback.is_visible() and fallback.locator("g[data-id]").count() > 5
    finally:
        context.close()


def test_a_view_whose_assets_are_gone_says_so_and_opens_when_they_come_back(executed, tmp_path, offline_page):
    notebook, _ = executed
    import re

    import grafo

    page_path = tmp_path / "later-output-only.html"
    page_path.write_text("<!doctype html><meta charset='utf-8'><body>" + notebook.cells[2].outputs[0]["data"]["text/html"],
                         encoding="utf-8")
    page = offline_page.page
    page.goto(page_path.as_uri())
    page.wait_for_selector("text=Run grafo.init_notebook()", timeout=10_000)
    assert page.locator(".grafo-fallback svg").is_visible()
    assets = grafo.init_notebook()._repr_html_()  # what that call shows in a cell
    data = re.search(r'<script type="application/json" id="grafo-assets">(.*?)</script>', assets, re.S).group(1)
    loader = re.search(r"<script>(.*?)</script>\s*$", assets, re.S).group(1)
    page.evaluate("""(data) => { const s = document.createElement("script"); s.type = "application/json";
                     s.id = "grafo-assets"; s.textContent = data; document.body.appendChild(s); }""", data)
    page.add_script_tag(content=loader)
    frame = page.wait_for_selector(".grafo-output iframe").content_frame()
    assert graph_shown(frame) > 5
