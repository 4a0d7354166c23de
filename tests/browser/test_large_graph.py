"""A large graph (1,000 nodes, generated as bench/browser_render.py does) is drawn in slices after its
first paint, and what lies far outside the view is culled: it eventually holds every node and edge, in
the scene's order, each with its text; an export taken while it is still being drawn holds the whole
graph, nothing hidden; a node reached by keyboard is brought into view. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from tests.browser.conftest import ROOT, screenshot, wait_for_graph


def generated_trace(total_nodes: int) -> dict:
    spec = importlib.util.spec_from_file_location("browser_render", ROOT / "bench" / "browser_render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generated_trace(total_nodes)


@pytest.fixture(scope="module")
def big_trace():
    return generated_trace(1000)


def load(page, trace):
    page.goto("/")
    wait_for_graph(page)
    done = page.evaluate("window.__grafo.complete ?? 0")
    page.evaluate("(t) => window.__grafoLoadTrace(JSON.parse(t))", json.dumps(trace))
    return done


def test_large_trace_eventually_renders_every_node(page, watch, big_trace):
    done = load(page, big_trace)
    page.wait_for_function(f"(window.__grafo.complete ?? 0) > {done}", timeout=120_000)
    assert page.locator("g.node").count() == len(big_trace["nodes"])
    assert page.locator("path.edge").count() == len(big_trace["edges"])
    # Document (and keyboard) order is the scene's order: the trace's order with the root last.
    ids = page.eval_on_selector_all("g.node", "els => els.map((e) => e.getAttribute('data-id'))")
    root = big_trace["passes"][0]["root"]
    assert ids == [n["id"] for n in big_trace["nodes"] if n["id"] != root] + [root]
    names = page.locator("g.node.tensor tspan.t-name").all_text_contents()
    assert sorted(names) == sorted(n["name"] for n in big_trace["nodes"] if n["kind"] == "tensor")
    assert all(page.locator("g.node.op text.t-op").all_text_contents())
    # The initial view is readable: it shows the root at a zoom where text is legible.
    assert re.search(r"scale\(0\.8\)", page.get_attribute("g.viewport", "transform") or "")
    assert not watch.console_errors
    screenshot(page, "large-graph-root")


def test_export_while_drawing_holds_the_whole_graph(page, big_trace, tmp_path):
    load(page, big_trace)
    page.wait_for_function("window.__grafo.painted > 1", timeout=120_000)
    page.click("#btn-export")
    with page.expect_download() as info:
        page.click("[data-export=svg]")
    path = tmp_path / "graph.svg"
    info.value.save_as(path)
    text = path.read_text()
    assert len(re.findall(r'<g [^>]*class="node ', text)) == len(big_trace["nodes"])
    assert "display: none" not in text  # nothing culled or hidden for the view (text included)


def test_keyboard_walk_through_a_culled_graph_keeps_focus_in_view(page, big_trace):
    done = load(page, big_trace)
    page.wait_for_function(f"(window.__grafo.complete ?? 0) > {done}", timeout=120_000)
    assert not page.locator("g.node").first.is_visible()  # far from the initial view: culled
    page.locator("g.node").last.focus()  # the root
    graph = page.locator("#graph").bounding_box()
    seen = set()
    for _ in range(40):  # walk backwards through the scene, well past the first screen
        page.keyboard.press("Shift+Tab")
        page.wait_for_timeout(350)
        focused = page.evaluate("() => document.activeElement.getAttribute('data-id')")
        assert focused and focused not in seen
        seen.add(focused)
        box = page.locator(f'g.node[data-id="{focused}"]').bounding_box()
        assert box, focused
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        assert graph["x"] <= cx <= graph["x"] + graph["width"] and graph["y"] <= cy <= graph["y"] + graph["height"], focused
