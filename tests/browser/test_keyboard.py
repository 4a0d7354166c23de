"""The graph by keyboard (issues 11 and 13): one Tab stop for the graph whatever its size (the Tab
stops of the whole page counted on the lesson, on a 1,000-op graph drawn as SVG and the same graph
open on the canvas); the arrow keys move between nodes and the accessible name (the container's
aria-activedescendant) follows; Enter selects as a click does, and opens or closes a group; Escape
gives the arrow keys back to the player; the camera follows on the canvas; the focus ring's contrast
against the pane, measured on screen pixels, in both renderers and in presentation mode; the nodes'
names and the graph's other words in PT-BR. Screenshots go to test-output/screenshots/keyboard-*.png.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.request

import pytest

from tests.browser.conftest import screenshot, wait_for_graph
from tests.browser.test_large_graph import BENCH, first_in_view, load

STOP = """() => {
  const e = document.activeElement;
  const by = e.getAttribute('aria-labelledby');
  const name = (e.getAttribute('aria-label') || (by && document.getElementById(by)?.textContent) ||
                e.labels?.[0]?.textContent || e.textContent || e.title || e.placeholder || '').trim();
  return { id: e.id || e.tagName, name, inGraph: !!e.closest('#graph') };
}"""
# The accessible name of what the keyboard is on in the graph: the container's active descendant.
ACTIVE = """() => {
  const g = document.getElementById('graph');
  const id = g.getAttribute('aria-activedescendant');
  const el = id && document.getElementById(id);
  return { item: g.dataset.keyboardItem || null, id, name: el ? el.getAttribute('aria-label') : null,
           focused: document.activeElement === g };
}"""
# Where the keyboard's item is on screen: its box's centre and top edge (page pixels).
ITEM_BOX = """(id) => {
  const p = window.__grafo.pane, sc = p.scene(), t = p.transform(), r = document.getElementById('graph').getBoundingClientRect();
  const f = sc.frames.find((fr) => fr.id === id);
  const b = f ? { x: f.x + f.w / 2, y: f.y + sc.metrics.header / 2, w: f.w, h: sc.metrics.header }
              : (({ x, y, w, h }) => ({ x, y, w, h }))(sc.nodes.find((n) => n.id === id));
  return { cx: r.left + t.x + b.x * t.k, top: r.top + t.y + (b.y - b.h / 2) * t.k, w: b.w * t.k, h: b.h * t.k,
           pane: { left: r.left, top: r.top, right: r.right, bottom: r.bottom } };
}"""
# The camera at rest: the same transform over several animation frames.
SETTLE = """() => new Promise((resolve) => {
  let last = '', same = 0;
  const tick = () => {
    const now = JSON.stringify(window.__grafo.pane.transform());
    same = now === last ? same + 1 : 0;
    last = now;
    if (same >= 5) resolve(); else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""
# The pixels of a PNG (base64) as [[r, g, b], ...], top to bottom, for a 1-pixel-wide column.
PIXELS = """async (png) => {
  const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
  const img = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const c = new OffscreenCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, img.width, img.height).data;
  const out = [];
  for (let y = 0; y < img.height; y++) out.push([d[y * img.width * 4], d[y * img.width * 4 + 1], d[y * img.width * 4 + 2]]);
  return out;
}"""
ENGLISH = re.compile(r"\b(gradient|scalar|operation|not computed|not arrived|mean|nodes|overview|arrow keys|"
                     r"selects|leaves|read in many|iterations?|lines?|ops?|program|loop|click|could not|pass)\b", re.I)


@pytest.fixture(scope="module")
def chain_1000(server_url):
    """A 1,000-op chain's trace (the default server's limits let it through)."""
    source = BENCH.program("chain", 1000)
    request = urllib.request.Request(server_url + "/api/trace", data=json.dumps({"source": source, "gradcheck": False}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read().decode(), source


@pytest.fixture
def lesson(page):
    page.goto("/")
    wait_for_graph(page)
    return page


def tab_stops(page):
    """Every Tab stop of the page, in order, from the page's top once round."""
    page.locator("h1.brand").click()
    stops = []
    for _ in range(120):
        page.keyboard.press("Tab")
        stop = page.evaluate(STOP)
        if stops and stop["id"] == stops[0]["id"]:
            break
        stops.append(stop)
    return stops


def tab_into_graph(page):
    page.locator("h1.brand").click()
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "graph":
            page.evaluate(SETTLE)
            return page.evaluate(ACTIVE)
    raise AssertionError("Tab never reached the graph")


def press(page, key):
    page.keyboard.press(key)
    page.evaluate(SETTLE)
    return page.evaluate(ACTIVE)


def open_all(page):
    page.evaluate("window.__grafo.layoutBudgetMs = 600000")  # every group opens, however busy the machine
    painted = page.evaluate("window.__grafo.painted")
    page.click("#btn-expand-all")
    wait_for_graph(page, after=painted, timeout=60_000)
    assert page.locator("#graph").get_attribute("data-renderer") == "canvas"


def luminance(rgb):
    def channel(v):
        v /= 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    hi, lo = sorted([luminance(a), luminance(b)], reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ring_contrast(page, item):
    """The ring above `item` as drawn on screen: its darkest pixel in the 8 px above the item's top
    edge, against the pane's background and against the pixels just outside the ring."""
    box = page.evaluate(ITEM_BOX, item)
    x = round(box["cx"])
    top = box["top"]
    assert box["pane"]["top"] + 14 < top < box["pane"]["bottom"], box  # the ring is in view
    png = page.screenshot(clip={"x": x, "y": round(top) - 14, "width": 1, "height": 14})
    column = page.evaluate(PIXELS, base64.b64encode(png).decode())
    ring = min(column[4:13], key=luminance)  # 2 to 10 px above the top edge
    outside = column[0:3]  # 12 to 14 px above: what surrounds the ring
    renderer = page.get_attribute("#graph", "data-renderer")
    pane = page.evaluate(f"""() => getComputedStyle(document.querySelector('{'svg.grafo-graph' if renderer == 'svg' else 'canvas.grafo-canvas'}')).backgroundColor""")
    background = [int(v) for v in re.findall(r"\d+", pane)[:3]]
    return {
        "ring": ring, "background": background, "outside": outside,
        "vs_background": round(contrast(ring, background), 2),
        "vs_outside": round(min(contrast(ring, o) for o in outside), 2),
    }


# ---- one Tab stop -----------------------------------------------------------------------------------

def test_the_graph_is_one_tab_stop_whatever_its_size(lesson, chain_1000):
    page = lesson
    counts = {}
    small = tab_stops(page)
    counts["lesson"] = (len(small), sum(s["inGraph"] for s in small))
    text, source = chain_1000
    load(page, text, source)
    assert page.locator("g.node.group").count() > 0
    large = tab_stops(page)
    counts["1,000 ops, groups closed (SVG)"] = (len(large), sum(s["inGraph"] for s in large))
    open_all(page)
    nodes = page.evaluate("window.__grafo.pane.scene().nodes.length")
    assert nodes > 2000
    canvas = tab_stops(page)
    counts[f"1,000 ops open, {nodes} scene nodes (canvas)"] = (len(canvas), sum(s["inGraph"] for s in canvas))
    print("\nTab stops (all, in the graph):", counts)
    for total, in_graph in counts.values():
        assert in_graph == 1
        assert total <= 45
    assert len({total for total, _ in counts.values()}) == 1, counts  # the graph's size changes nothing
    assert [s for s in large if s["inGraph"]] == [{"id": "graph", "name": "Autograd graph", "inGraph": True}]


# ---- arrows, Enter, Escape: SVG ---------------------------------------------------------------------

def test_arrows_move_between_nodes_and_enter_selects(lesson):
    page = lesson
    start = tab_into_graph(page)
    assert start["focused"] and start["item"] and start["name"], start
    seen = {start["item"]: start["name"]}
    at = start
    for key in ["ArrowUp", "ArrowUp", "ArrowLeft", "ArrowDown", "ArrowRight", "ArrowRight", "ArrowDown"]:
        now = press(page, key)
        if now["item"] != at["item"]:
            assert now["id"] != at["id"] and now["name"] != at["name"], (at, now)
        seen[now["item"]] = now["name"]
        at = now
    assert len(seen) >= 4, seen
    # The player did not move: the arrows belonged to the graph.
    assert page.inner_text("#step-text").startswith("After the program")
    screenshot(page, "keyboard-svg-focus")
    # Enter selects, as a click does: the inspector shows it, its line is highlighted in the editor.
    page.keyboard.press("Enter")
    item = at["item"]
    page.wait_for_function("(id) => document.querySelector(`g.node[data-id='${id}']`)?.classList.contains('selected')", arg=item)
    heading = page.locator("#panel-inspector h3").inner_text()
    assert heading
    name = page.locator(f'g.node[data-id="{item}"] tspan.t-name, g.node[data-id="{item}"] text.t-op').first.text_content()
    assert name in heading, (name, heading)
    assert page.locator(".cm-selected-line").count() == 1
    # Escape leaves the nodes: the arrows drive the player again; Enter comes back.
    assert press(page, "Escape")["id"] is None
    page.keyboard.press("ArrowLeft")
    assert not page.inner_text("#step-text").startswith("After the program")
    assert press(page, "Enter")["item"] == item  # on the selected node
    # Out and back in with Tab: on the selected node again.
    page.keyboard.press("Tab")
    assert page.evaluate(ACTIVE)["id"] is None
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(ACTIVE)["item"] == item


def test_tab_enters_on_the_current_steps_node(lesson):
    page = lesson
    page.locator("#step-text").click()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#step-text").startswith("Forward 1/")
    active = page.locator("g.node.hl-active").get_attribute("data-id")
    assert tab_into_graph(page)["item"] == active


def test_a_mouse_click_leaves_the_arrows_to_the_player(lesson):
    page = lesson
    first_in_view(page, "g.node.tensor").click()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#step-text").startswith("Forward 1/")
    assert page.evaluate(ACTIVE)["id"] is None


# ---- groups and the canvas ----------------------------------------------------------------------------

def test_a_group_opens_and_closes_with_enter(page, chain_1000):
    text, source = chain_1000
    load(page, text, source)
    at = tab_into_graph(page)
    for key in ["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"] * 6:
        if at["item"].startswith("g:"):
            break
        at = press(page, key)
    gid = at["item"]
    assert gid.startswith("g:") and page.locator(f'g.node.group[data-id="{gid}"]').count() == 1, at
    painted = page.evaluate("window.__grafo.painted")
    page.keyboard.press("Enter")
    wait_for_graph(page, after=painted)
    assert page.locator(f'g.frame[data-id="{gid}"]').count() == 1
    now = page.evaluate(ACTIVE)
    assert now["item"] == gid and now["focused"] and now["name"], now  # on the open group's header
    assert page.locator("#panel-inspector [data-toggle-group]").inner_text() == "Close"
    screenshot(page, "keyboard-group-open")
    # Down goes inside it.
    inside = press(page, "ArrowDown")
    assert inside["item"] != gid
    painted = page.evaluate("window.__grafo.painted")
    press(page, "ArrowUp")
    page.keyboard.press("Enter")
    wait_for_graph(page, after=painted)
    assert page.locator(f'g.node.group[data-id="{gid}"]').count() == 1
    assert page.evaluate(ACTIVE)["item"] == gid


def test_the_canvas_has_a_stand_in_a_ring_and_a_camera_that_follows(page, watch, chain_1000):
    text, source = chain_1000
    load(page, text, source)
    open_all(page)
    at = tab_into_graph(page)
    assert at["name"] and page.locator(f"#{at['id']}").get_attribute("role") == "button", at
    names = {at["name"]}
    # Far along the chain: the camera keeps the node in view at every step.
    for _ in range(25):
        at = press(page, "ArrowUp")
        names.add(at["name"])
        box = page.evaluate(ITEM_BOX, at["item"])
        pane = box["pane"]
        assert pane["top"] <= box["top"] and box["top"] + box["h"] <= pane["bottom"], (at, box)
        assert pane["left"] <= box["cx"] <= pane["right"], (at, box)
    assert len(names) >= 10
    ring = ring_contrast(page, at["item"])
    print("\ncanvas ring:", ring)
    assert ring["vs_background"] >= 3 and ring["vs_outside"] >= 3, ring
    screenshot(page, "keyboard-canvas-focus")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !!document.querySelector('#panel-inspector h3')")
    assert at["name"].split(" ")[1].rstrip(",") in page.locator("#panel-inspector h3").inner_text()
    assert not watch.console_errors, watch.console_errors


# ---- the ring's contrast ---------------------------------------------------------------------------------

def test_the_focus_ring_contrasts_with_the_pane_in_svg_and_presentation(lesson):
    page = lesson
    at = tab_into_graph(page)
    ring = ring_contrast(page, at["item"])
    print("\nSVG ring:", ring)
    assert ring["vs_background"] >= 3 and ring["vs_outside"] >= 3, ring
    # Stepping dims the other nodes; the ring is not dimmed with them.
    page.keyboard.press("Escape")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.evaluate(SETTLE)
    dimmed = press(page, "ArrowUp")
    ring = ring_contrast(page, dimmed["item"])
    print("SVG ring at a step:", ring)
    assert ring["vs_background"] >= 3 and ring["vs_outside"] >= 3, ring
    painted = page.evaluate("window.__grafo.painted")
    page.check("#toggle-presentation")
    wait_for_graph(page, after=painted)
    at = tab_into_graph(page)
    ring = ring_contrast(page, at["item"])
    print("SVG ring, presentation:", ring)
    assert ring["vs_background"] >= 3 and ring["vs_outside"] >= 3, ring
    screenshot(page, "keyboard-svg-presentation")


# ---- Portuguese ------------------------------------------------------------------------------------------

def english(texts):
    return sorted({t for t in texts if t and ENGLISH.search(t)})


NAMES = """() => [...document.querySelectorAll('#graph [aria-label], #graph [title]')]
  .flatMap((el) => [el.getAttribute('aria-label'), el.getAttribute('title')]).filter(Boolean)"""


def test_the_graphs_names_are_portuguese(lesson, chain_1000):
    page = lesson
    page.click("[data-lang=pt-BR]")
    left = []
    # Every node's name at the end, before the first step (values not computed) and at a backward
    # step (gradients on their way).
    names = page.evaluate("() => [...document.querySelectorAll('#graph g.node')].map((g) => g.getAttribute('aria-label'))")
    assert any("gradiente" in n for n in names), names
    assert any("escalar float32" in n for n in names), names
    left += english(names)
    page.locator("#step-text").click()
    for key in ["Home", "End", "ArrowLeft", "ArrowLeft"]:
        page.keyboard.press(key)
        left += english(page.evaluate(NAMES))
    assert any("ainda não chegou" in n for n in page.evaluate(NAMES)), page.evaluate(NAMES)
    page.keyboard.press("Home")
    assert any("ainda não calculado" in n for n in page.evaluate(NAMES))
    at = tab_into_graph(page)
    left += english([at["name"], page.inner_text("#graph-keys-hint")])
    # Groups, references, the minimap, search, and the canvas's stand-in.
    text, source = chain_1000
    load(page, text, source)
    left += english(page.evaluate(NAMES))
    page.fill("#graph-search", "J")
    page.locator("#graph-search-results li[data-pick]").first.wait_for()
    left += english(page.locator("#graph-search-results").all_inner_texts())
    open_all(page)
    left += english(page.evaluate(NAMES))
    for key in ["ArrowUp"] * 3:
        at = press(page, key) if page.evaluate(ACTIVE)["focused"] else tab_into_graph(page)
        left += english([at["name"]])
    assert page.get_attribute("canvas.minimap", "aria-label").startswith("Visão geral")
    assert left == [], left
    screenshot(page, "keyboard-canvas-pt")


def test_a_failed_pass_fetch_is_said_in_portuguese(page):
    from tests.browser.test_training import DIVERGES, run
    page.goto("/")
    wait_for_graph(page)
    page.click("[data-lang=pt-BR]")
    trace = run(page, DIVERGES)
    summarised = next(s["index"] for s in trace["summaries"] if s["index"] not in {p["index"] for p in trace["passes"]})
    page.route("**/api/trace", lambda route: route.abort())
    page.fill("#training .pass-input", str(summarised + 1))
    page.press("#training .pass-input", "Enter")
    page.wait_for_function("() => /passada/.test(document.getElementById('status').innerText)")
    status = page.inner_text("#status")
    assert "Não foi possível falar com o servidor" in status and not english([status]), status
