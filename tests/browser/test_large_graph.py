"""Large graphs (issue 13): the programs of bench/browser_render.py (a chain, a chain whose every step
also reads one shared weight, a small MLP trained with SGD) at 1,000, 3,000 and 10,000 ops, traced by
a server of their own (its time and size limits let 10,000 ops through) and handed to the page. Each
paints with its groups, answers a click, and opens a group in place; the player steps over a
collapsed group as one step and into it; search jumps to a node; past SVG_MAX nodes the canvas draws,
with a minimap, clicks and a whole export; a new trace during a long layout cancels it. No timing is
asserted. Screenshots go to test-output/screenshots/large-*.png."""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import re
import urllib.request

import pytest

from tests.browser.conftest import ROOT, running_server, screenshot, wait_for_graph

SIZES = (1000, 3000, 10000)


def _bench():
    spec = importlib.util.spec_from_file_location("browser_render", ROOT / "bench" / "browser_render.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


@pytest.fixture(scope="module")
def traces(server_url):
    """(shape, ops) -> a future of the trace's JSON text, from a server with room for 10,000 ops."""
    env = {"GRAFO_TIME_LIMIT_S": "300", "GRAFO_WORKERS": "2"}
    with running_server("browser-large-server.log", env) as url:

        def fetch(source):
            request = urllib.request.Request(url + "/api/trace", data=json.dumps({"source": source, "gradcheck": False}).encode(),
                                             headers={"Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=600) as response:
                return response.read().decode()

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)
        # Small ones first: the first tests need them; the 10,000-op traces are made meanwhile.
        yield {(shape, size): pool.submit(fetch, BENCH.program(shape, size)) for size in SIZES for shape in BENCH.SHAPES}
        pool.shutdown(cancel_futures=True)


def load(page, text, source=""):
    """Open the page and give it a trace (and its program) as if the API had just sent it."""
    page.goto("/")
    wait_for_graph(page)
    painted = page.evaluate("window.__grafo.painted")
    page.evaluate("([t, s]) => window.__grafoLoadTrace(JSON.parse(t), s)", [text, source])
    wait_for_graph(page, after=painted, timeout=120_000)


def first_in_view(page, selector):
    """The first element matching `selector` whose centre is inside the graph pane."""
    graph = page.locator("#graph").bounding_box()
    for el in page.locator(selector).all():
        box = el.bounding_box()
        if box and graph["x"] <= box["x"] + box["width"] / 2 <= graph["x"] + graph["width"] \
                and graph["y"] <= box["y"] + box["height"] / 2 <= graph["y"] + graph["height"]:
            return el
    raise AssertionError(f"no {selector} in view")


def scene_box(page, item_id):
    """Where item `item_id` of the scene is on the screen (x, y of its centre), from the pane's camera."""
    return page.evaluate("""(id) => { const p = window.__grafo.pane, b = p.scene().pos.get(id), t = p.transform();
      const r = document.getElementById('graph').getBoundingClientRect();
      return b ? {x: r.left + t.x + b.x * t.k, y: r.top + t.y + b.y * t.k} : null; }""", item_id)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("shape", BENCH.SHAPES)
def test_large_program_paints_its_groups_answers_and_opens_a_group(page, watch, traces, shape, size):
    trace = json.loads(text := traces[(shape, size)].result())
    assert trace["stats"]["ops"] >= size * 0.95 if shape != "mlp" else trace["stats"]["backward_passes"] > 10
    load(page, text, BENCH.program(shape, size))
    groups = page.locator("g.node.group, g.frame")
    assert groups.count() > 0
    assert page.locator("#graph").get_attribute("data-renderer") == "svg"
    screenshot(page, f"large-{shape}-{size}")
    # A click gets an answer: the inspector shows what was clicked.
    target = first_in_view(page, "g.node.group" if page.locator("g.node.group").count() else "g.node.tensor")
    target.click()
    page.locator("#panel-inspector h3").wait_for()
    assert page.locator("#panel-inspector h3").inner_text()
    # Open a collapsed group in place (a small graph starts open: close one first).
    if not page.locator("g.node.group").count():
        # The smallest frame, its header in the middle of the view.
        frame = page.evaluate("""() => { const p = window.__grafo.pane, f = [...p.scene().frames].sort((a, b) => a.w * a.h - b.w * b.h)[0];
          p.centerOn(f.x + f.w / 2, f.y + 12); return f.id; }""")
        painted = page.evaluate("window.__grafo.painted")
        page.locator(f'g.frame[data-id="{frame}"] .toggle').click()
        wait_for_graph(page, after=painted)
        assert page.locator(f'g.node.group[data-id="{frame}"]').count() == 1
    gid = first_in_view(page, "g.node.group").get_attribute("data-id")
    before = page.locator("g.node").count()
    painted = page.evaluate("window.__grafo.painted")
    page.locator(f'g.node.group[data-id="{gid}"] .toggle').click()
    wait_for_graph(page, after=painted, timeout=60_000)
    assert page.locator(f'g.frame[data-id="{gid}"]').count() == 1
    assert page.locator("g.node").count() > before
    assert not watch.console_errors, watch.console_errors
    screenshot(page, f"large-{shape}-{size}-opened")


def test_player_steps_over_a_collapsed_group_and_into_it(page, traces):
    load(page, traces[("chain", 1000)].result(), BENCH.program("chain", 1000))
    page.locator("#step-text").click()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    text = page.inner_text("#step-text")
    match = re.match(r"Forward (\d+)–(\d+)/(\d+): (.+?), (\d+) ops", text)
    assert match, text
    assert int(match.group(2)) - int(match.group(1)) + 1 == int(match.group(5)) > 1
    assert page.locator("g.node.hl-active, g.frame.hl-active").count() == 1
    assert page.locator("#btn-into").is_visible()
    painted = page.evaluate("window.__grafo.painted")
    page.keyboard.press("ArrowDown")
    wait_for_graph(page, after=painted)
    inner = page.inner_text("#step-text")
    assert inner.startswith(f"Forward {match.group(1)}"), inner  # the group's first step, now finer
    assert inner != text
    screenshot(page, "large-player-into")


def test_search_jumps_to_a_node_inside_closed_groups(page, traces):
    load(page, traces[("shared", 3000)].result(), BENCH.program("shared", 3000))
    page.fill("#graph-search", "J")
    page.locator("#graph-search-results li[data-pick]").first.wait_for()
    painted = page.evaluate("window.__grafo.painted")
    page.press("#graph-search", "Enter")
    page.wait_for_function("() => document.querySelector('g.node.selected') !== null")
    assert "J" in page.locator("#panel-inspector h3").inner_text()
    # A line number finds the ops on that line; picking one opens the groups around it.
    page.fill("#graph-search", "line 5")
    first = page.locator("#graph-search-results li[data-pick]").first
    first.wait_for()
    picked = first.get_attribute("data-pick")
    page.press("#graph-search", "Enter")
    wait_for_graph(page, after=painted)
    page.wait_for_function("(id) => document.querySelector(`g.node[data-id='${id}']`)?.classList.contains('selected')", arg=picked)
    box = page.locator(f'g.node[data-id="{picked}"]').bounding_box()
    graph = page.locator("#graph").bounding_box()
    assert graph["x"] <= box["x"] + box["width"] / 2 <= graph["x"] + graph["width"]
    assert graph["y"] <= box["y"] + box["height"] / 2 <= graph["y"] + graph["height"]
    # The selected node's source line is highlighted in the editor.
    assert page.locator(".cm-selected-line").count() == 1
    screenshot(page, "large-search")


def test_open_all_draws_on_canvas_with_a_minimap_clicks_and_export(page, watch, traces, tmp_path):
    trace = json.loads(text := traces[("chain", 1000)].result())
    load(page, text)
    page.evaluate("window.__grafo.layoutBudgetMs = 600000")  # every group opens, however busy the machine
    painted = page.evaluate("window.__grafo.painted")
    page.click("#btn-expand-all")
    wait_for_graph(page, after=painted, timeout=60_000)
    assert page.locator("#graph").get_attribute("data-renderer") == "canvas"
    assert page.locator("canvas.grafo-canvas").is_visible()
    scene_nodes = page.evaluate("window.__grafo.pane.scene().nodes.filter((n) => n.kind !== 'port').length")
    assert scene_nodes >= len(trace["nodes"])
    screenshot(page, "large-canvas-root")
    # The minimap shows where the view is; a click on it moves the view.
    minimap = page.locator("canvas.minimap")
    assert minimap.is_visible()
    before = page.evaluate("JSON.stringify(window.__grafo.pane.transform())")
    box = minimap.bounding_box()
    minimap.click(position={"x": box["width"] / 2, "y": 6})
    assert page.evaluate("JSON.stringify(window.__grafo.pane.transform())") != before
    # A click on a node drawn on the canvas selects it.
    root = trace["passes"][0]["root"]
    page.evaluate("(id) => window.__grafo.pane.jumpTo(id, {select: false})", root)
    page.wait_for_timeout(400)
    at = scene_box(page, root)
    page.mouse.click(at["x"], at["y"])
    page.wait_for_function("() => /J/.test(document.querySelector('#panel-inspector h3')?.innerText ?? '')")
    screenshot(page, "large-canvas-selected")
    # The export is the whole scene, as SVG.
    page.click("#btn-export")
    with page.expect_download() as info:
        page.click("[data-export=svg]")
    path = tmp_path / "graph.svg"
    info.value.save_as(path)
    svg = path.read_text()
    assert len(re.findall(r'<g [^>]*class="node ', svg)) == scene_nodes
    assert not watch.console_errors, watch.console_errors


def test_a_layout_past_its_time_budget_falls_back_to_coarser_groups(page, traces):
    load(page, traces[("shared", 3000)].result())
    opened = page.evaluate("window.__grafo.pane.expanded().size")
    page.evaluate("window.__grafo.layoutBudgetMs = 1")  # any layout of open groups is over it
    painted = page.evaluate("window.__grafo.painted")
    page.click("#btn-expand-all")
    wait_for_graph(page, after=painted, timeout=60_000)
    assert "innermost groups stay closed" in page.inner_text("#status")
    assert page.evaluate("window.__grafo.pane.expanded().size") <= opened  # coarser than asked for (all groups)
    assert page.locator("g.node.group").count() > 0
    screenshot(page, "large-coarser")


def test_a_new_trace_during_a_long_layout_cancels_it(page, traces):
    load(page, traces[("chain", 10000)].result())
    # Thousands of groups to lay out, each made to take 20 ms more, and no time budget: the layout
    # surely outlasts a new trace's round trip, on any machine.
    page.evaluate("window.__grafo.layoutBudgetMs = 600000; window.__grafo.layoutDelayMs = 20")
    page.click("#btn-expand-all")
    page.locator(".graph-progress").wait_for(state="visible", timeout=30_000)
    cancelled = page.evaluate("window.__grafo.cancelled ?? 0")
    painted = page.evaluate("window.__grafo.painted")
    page.click("#btn-trace")  # the lesson, still in the editor
    wait_for_graph(page, after=painted)
    assert page.evaluate("window.__grafo.cancelled") == cancelled + 1
    assert page.locator(".graph-progress").is_hidden()
    assert page.locator("g.node.tensor").filter(has=page.locator("tspan.t-name", has_text=re.compile("^J$"))) \
        .locator("text.t-value").text_content() == "14"
    painted = page.evaluate("window.__grafo.painted")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__grafo.painted") == painted  # nothing of the big layout came back
    screenshot(page, "large-cancelled")
