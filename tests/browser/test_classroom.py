"""Issue 11 in the browser: the page in front of a class. Presentation mode and the header at three
window sizes in both languages, the explanation's size on screen, dJ/dJ = 1 in every pass, a failing
program's own graph with its failing step, the implicit-backward notice, NaN/Inf gradients, notation,
the inspector at the player's step, the Tab order and the keyboard's focus, the share link, the
float32 round-off of the gradient check, and no English left in PT-BR.

The graph's first view keeps its node text readable: at least 12 px on screen at a desk, 20 px in
presentation mode (a projector), showing a part of the graph when the whole would be smaller; its
layout runs along the pane's longer side when that shows more of it. Screenshots go to
test-output/screenshots/classroom-*.png.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import in_view, localhost_only_context, screenshot, wait_for_graph
from app.examples import INPLACE_ERROR as INPLACE
from tests.browser.test_page import set_program, step_to, tensor
from tests.browser.test_teaching import DOUBLE_BACKWARD


SHAPE_ERROR = """\
import torch
w = torch.ones(3, requires_grad=True)
x = torch.ones(4)
h = w * 2
y = (h * x).sum()
y.backward()
"""

NO_BACKWARD_NAN = """\
import torch
w = torch.tensor([2.0, 0.0], requires_grad=True)
x = torch.tensor([1.0, 3.0])
loss = (x * w).log().sum()
"""

TWO_PASSES = """\
import torch
y = 2 * torch.arange(0, 4)
x = torch.arange(0, 4)
w = torch.ones(1, requires_grad=True)
J = (x * w - y).pow(2).sum()
J.backward(retain_graph=True)
J.backward()
"""

# Python's own words for the page's text that must not be left in English in PT-BR (code, torch's
# messages and the program's output are not translated; the graph's node text is the renderer's).
ENGLISH = re.compile(
    r"\b(the|and|with|of|is|to|from|this|step|click|show|value|program|error|line|traced|"
    r"parameter|operation|copy|download|legend|panels|fold|diagnostics|find|would|could|not)\b", re.I)
SCAN = r"""() => {
  const skip = (el) => el.closest('code, .cm-content, .cm-gutters, .torch-message, [lang=en], pre.console, #graph, script, style');
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const el = n.parentElement;
    if (!el || skip(el) || !el.getClientRects().length) continue;
    const text = n.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (el.closest('#graph, [lang=en]')) continue;
    for (const a of ['aria-label', 'title', 'placeholder']) if (el.getAttribute(a)) out.push(`${a}: ${el.getAttribute(a)}`);
  }
  out.push(`document.title: ${document.title}`);
  return out;
}"""


def run(page, source, *, error=False, graph=True):
    """Trace `source` from the editor; wait for the error box (error=True) and for its graph (graph=True)."""
    painted = page.evaluate("window.__grafo.painted")
    set_program(page, source)
    page.keyboard.press("Control+Enter")
    if error:
        page.wait_for_selector("#error:not([hidden])")
    if graph:
        wait_for_graph(page, after=painted)


def english_left(page):
    return sorted({t for t in page.evaluate(SCAN) if ENGLISH.search(t)})


def node_font_px(page):
    """The lesson's value text as drawn on screen (font size times the view's zoom)."""
    return page.evaluate("""() => {
      const t = document.querySelector('#graph text.t-value');
      if (!t) return null;
      return Math.round(parseFloat(t.getAttribute('font-size')) * t.getScreenCTM().a * 10) / 10;
    }""")


def camera_still(page):
    """Wait until the graph's camera has got where it was going (it follows the player's step)."""
    page.wait_for_function("!window.__grafo.pane.moving()")


@pytest.fixture
def lesson(page):
    page.goto("/")
    wait_for_graph(page)
    return page


def to_backward(page, pattern=r"PowBackward0"):
    page.locator("#step-text").click()
    page.keyboard.press("End")
    step_to(page, pattern, key="ArrowLeft")


# ---- presentation mode and the header, at a projector's and a laptop's sizes ----------------------

@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768), (1024, 768)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_header_fits_and_the_explanation_reads_from_the_back(browser, server_url, watch, size):
    width, height = size
    context = localhost_only_context(browser, server_url, watch)
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    try:
        page.goto("/")
        wait_for_graph(page)
        fonts = {}
        for lang in ["en", "pt-BR"]:
            page.click(f"[data-lang={lang}]")
            for presentation in [False, True]:
                painted = page.evaluate("window.__grafo.painted")
                if page.is_checked("#toggle-presentation") != presentation:
                    (page.check if presentation else page.uncheck)("#toggle-presentation")
                    wait_for_graph(page, after=painted)
                mode = f"{lang} {'presentation' if presentation else 'normal'} {width}x{height}"
                # Everything in the header is on screen: nothing past the right edge, no page scroll.
                header = page.evaluate("""() => {
                  const items = [...document.querySelectorAll('.topbar *')].filter((e) => e.getClientRects().length);
                  return { right: Math.max(...items.map((e) => e.getBoundingClientRect().right)),
                           page: document.documentElement.scrollWidth, height: document.querySelector('.topbar').offsetHeight };
                }""")
                assert header["right"] <= width and header["page"] <= width, (mode, header)
                assert header["height"] <= (90 if presentation else 60), (mode, header)
                # Forward steps: the chain-rule panel is one line, leaving the room to the graph.
                page.locator("#step-text").click()
                page.keyboard.press("Home")
                page.keyboard.press("ArrowRight")
                waiting = page.evaluate("document.getElementById('explain').getBoundingClientRect().height")
                # A backward step: the rule is large in presentation, whole, and on screen.
                to_backward(page)
                ex = page.evaluate("""() => {
                  const e = document.getElementById('explain');
                  const result = e.querySelector('.rhs.result').getBoundingClientRect();
                  return { font: parseFloat(getComputedStyle(e.querySelector('.explain-eq')).fontSize),
                           height: e.getBoundingClientRect().height, wide: e.scrollWidth > e.clientWidth + 1,
                           resultBottom: result.bottom, resultRight: result.right };
                }""")
                assert waiting < 0.45 * ex["height"] and waiting <= 2.2 * ex["font"] * 1.6, (mode, waiting, ex)
                assert not ex["wide"], mode
                assert ex["resultBottom"] <= height and ex["resultRight"] <= width, (mode, ex)
                if presentation:
                    assert ex["font"] >= 20, (mode, ex)
                # The graph's text reads from the back of the room in presentation, at a desk otherwise.
                camera_still(page)
                fonts[mode] = node_font_px(page)
                assert fonts[mode] >= (20 if presentation else 12), (mode, fonts[mode])
                screenshot(page, f"classroom-{lang}-{'presentation' if presentation else 'normal'}-{width}")
        print("\nnode value text on screen (px):", fonts)
    finally:
        context.close()
    assert not watch.console_errors


def node_boxes(page):
    """Screen boxes of the graph's tensors by name, and of the minimap when it shows."""
    return page.evaluate("""() => {
      const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
      const nodes = {};
      for (const g of document.querySelectorAll('#graph g.node.tensor')) nodes[g.querySelector('tspan.t-name').textContent] = box(g);
      const map = document.querySelector('#graph canvas.minimap');
      return { nodes, minimap: map && !map.hidden ? box(map) : null, pane: box(document.getElementById('graph')) };
    }""")


@pytest.mark.parametrize("size, presentation, across", [((1366, 768), True, True), ((760, 1000), False, False)],
                         ids=["wide-presentation", "tall-narrow"])
def test_the_layout_runs_along_the_panes_longer_side(browser, server_url, watch, size, presentation, across):
    """A wide pane lays the lesson out left to right (the root J right of every other tensor); a tall,
    narrow one top to bottom (J under them). The minimap's corner stays clear of the nodes."""
    context = localhost_only_context(browser, server_url, watch)
    page = context.new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    try:
        page.goto("/")
        wait_for_graph(page)
        if presentation:
            painted = page.evaluate("window.__grafo.painted")
            page.check("#toggle-presentation")
            wait_for_graph(page, after=painted)
        seen = node_boxes(page)
        pane = seen["pane"]
        assert pane[2] - pane[0] > pane[3] - pane[1] if across else pane[2] - pane[0] < pane[3] - pane[1], seen
        root = seen["nodes"].pop("J")
        if across:
            assert all((root[0] + root[2]) / 2 > b[2] for b in seen["nodes"].values()), seen
        else:
            assert all((root[1] + root[3]) / 2 > b[3] for b in seen["nodes"].values()), seen
        if seen["minimap"]:
            m = seen["minimap"]
            covered = [n for n, b in seen["nodes"].items() if b[0] < m[2] and b[2] > m[0] and b[1] < m[3] and b[3] > m[1]]
            assert not covered, (covered, seen)
        assert node_font_px(page) >= (20 if presentation else 12)
        screenshot(page, f"classroom-direction-{'wide' if across else 'tall'}")
    finally:
        context.close()
    assert not watch.console_errors


def test_a_window_resized_from_tall_to_wide_turns_the_layout(browser, server_url, watch):
    """The direction is chosen again when the window changes shape (a projector's window dragged wider)."""
    context = localhost_only_context(browser, server_url, watch)
    page = context.new_page()
    page.set_viewport_size({"width": 760, "height": 1000})
    try:
        page.goto("/")
        wait_for_graph(page)
        painted = page.evaluate("window.__grafo.painted")
        page.check("#toggle-presentation")
        wait_for_graph(page, after=painted)
        seen = node_boxes(page)
        root = seen["nodes"].pop("J")
        assert all((root[1] + root[3]) / 2 > b[3] for b in seen["nodes"].values()), seen  # top to bottom
        painted = page.evaluate("window.__grafo.painted")
        page.set_viewport_size({"width": 1366, "height": 768})
        wait_for_graph(page, after=painted)
        seen = node_boxes(page)
        root = seen["nodes"].pop("J")
        assert all((root[0] + root[2]) / 2 > b[2] for b in seen["nodes"].values()), seen  # left to right
        screenshot(page, "classroom-direction-resized")
    finally:
        context.close()
    assert not watch.console_errors


# ---- the maths on screen ---------------------------------------------------------------------------

def test_dJ_dJ_is_one_in_every_pass_and_only_leaves_accumulate(lesson):
    page = lesson
    run(page, TWO_PASSES)
    page.locator("#step-text").click()
    page.keyboard.press("End")
    # The first step of the second pass: the seed, dJ/dJ = 1, and nothing doubled.
    step_to(page, r"\(pass 2/2\)", key="ArrowLeft")
    while True:
        page.keyboard.press("ArrowLeft")
        if "pass 2/2" not in page.inner_text("#step-text"):
            page.keyboard.press("ArrowRight")
            break
    assert "dJ/dJ = 1" in page.inner_text("#step-text"), page.inner_text("#step-text")
    assert tensor(page, "J").locator("text.t-grad").text_content() == "∇ 1"
    # Intermediates wait for this pass's gradient; w still holds pass 1's .grad.
    assert tensor(page, "x * w - y").locator("text.t-grad").text_content() == "∇ …"
    assert tensor(page, "w").locator("text.t-grad").text_content() == "∇ [-28]"
    end_of_pass_1 = page.locator("g.node.tensor text.t-grad").all_text_contents()
    page.keyboard.press("End")
    assert tensor(page, "J").locator("text.t-grad").text_content() == "∇ 1"
    assert tensor(page, "x * w - y").locator("text.t-grad").text_content() == "∇ [0, -2, -4, -6]"
    assert tensor(page, "w").locator("text.t-grad").text_content() == "∇ [-56]"
    assert "∇ [0, -4, -8, -12]" not in page.locator("g.node.tensor text.t-grad").all_text_contents(), end_of_pass_1
    screenshot(page, "classroom-two-passes")


def test_notation_names_the_root_and_brackets_expressions(lesson):
    page = lesson
    run(page, TWO_PASSES)
    to_backward(page, r"PowBackward0")
    words = page.inner_text("#step-text")
    assert "dJ/d(x * w - y) = [0, -2, -4, -6]" in words and "dJ/dx * w" not in words, words
    page.click("#tab-backprop")
    symbols = page.locator("#panel-backprop td.symbol").all_inner_texts()
    assert "dJ/d(x * w - y)" in symbols and not any("?" in s for s in symbols), symbols
    # The root's own name everywhere: dloss/dloss, never dJ/... for a root called loss.
    run(page, "import torch\nw = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\nloss.backward()\n")
    to_backward(page, r"SumBackward0")
    words = page.inner_text("#step-text")
    assert "dloss/dloss = 1" in words and "dJ/" not in words, words
    assert "dloss/d" in page.inner_text("#explain") and "dJ/dloss" not in page.inner_text("#explain")


def test_steps_past_the_explanation_budget_say_so(lesson):
    page = lesson
    html = page.evaluate("""async () => {
      const { explanationHtml } = await import('/static/js/explain.js');
      const { t, message } = await import('/static/js/i18n/index.js');
      const step = { index: 612, pass_index: 0, node: null, grad_fn: 'MulBackward0', kind: 'op', grad_in: [], grads_out: [], explanation: null };
      const index = { trace: { backward: [step], passes: [] }, byId: new Map() };
      return explanationHtml(index, { type: 'backward', i: 612, step }, { t, message });
    }""")
    assert "first 500 backward steps" in html and "step 613" in html and "could not explain" not in html, html


# ---- a failing program: its own graph, the failing step marked, the explanation beside it ----------

def test_a_failing_program_shows_its_own_graph_and_the_failed_step(lesson, watch):
    page = lesson
    run(page, INPLACE, error=True)
    titles = page.locator("g.node.tensor tspan.t-name").all_text_contents()
    assert "w" in titles and "J" in titles and "y_pred" not in titles, titles  # not the lesson's graph
    assert "dimmed" not in (page.locator("#graph").get_attribute("class") or "")
    # The player stands on the backward step that raised; that op is selected and lit.
    assert "ExpBackward0" in page.inner_text("#step-text") and "fails" in page.inner_text("#step-text")
    exp = page.locator("g.node.op").filter(has=page.locator("text.t-op", has_text=re.compile(r"^exp$")))
    assert exp.get_attribute("aria-pressed") == "true" and "hl-active" in exp.get_attribute("class")
    failed = page.locator("#explain .explain-failed")
    assert failed.is_visible() and "changed in place" in failed.inner_text(), failed.inner_text()
    assert "inplace operation" in failed.locator(".torch-message").inner_text()
    assert page.inner_text("#status").startswith("Stopped by an error")
    page.click("#tab-console")
    assert "printed nothing" in page.inner_text("#panel-console")  # its console, not the lesson's
    screenshot(page, "classroom-failing-inplace")
    # Backward twice: pass 1 whole, pass 2 stops at its second step.
    run(page, DOUBLE_BACKWARD, error=True)
    assert "(pass 2/2)" in page.inner_text("#step-text") and "fails" in page.inner_text("#step-text")
    assert "retain_graph=True" in page.inner_text("#explain .explain-failed")
    page.click("[data-lang=pt-BR]")
    assert "Este passo falhou" in page.inner_text("#explain") and "falha" in page.inner_text("#step-text")
    screenshot(page, "classroom-failing-twice-pt")
    page.click("[data-lang=en]")
    # Stopped in the forward pass: what ran is drawn, and beside it where and why the program stopped.
    run(page, SHAPE_ERROR, error=True)
    assert sorted(page.locator("g.node.tensor tspan.t-name").all_text_contents()) == ["h", "w", "x"]
    assert "stopped at line 5" in page.inner_text("#explain .explain-failed")
    assert page.inner_text("#step-text").startswith("After the error")
    assert not [e for e in watch.console_errors if "status of 400" not in e]


def test_grafos_own_errors_read_in_portuguese(lesson):
    page = lesson
    page.click("[data-lang=pt-BR]")
    run(page, "import torch\nw = torch.ones(2, requires_grad=True)\nJ = (w * w).sum(\n", error=True, graph=False)
    text = page.inner_text("#error")
    assert "Python não consegue ler esta linha" in text and "Erro de sintaxe" in text, text
    page.click("[data-lang=en]")
    assert "Python cannot read this line" in page.inner_text("#error")


# ---- notices: Grafo called backward(), NaN/Inf gradients ---------------------------------------------

def test_implicit_backward_and_nan_gradients_are_announced(lesson):
    page = lesson
    assert page.locator("#notices").is_hidden()  # the lesson calls backward() itself
    run(page, NO_BACKWARD_NAN)
    implicit = page.locator("#notices .notice-implicit")
    assert "never calls backward()" in implicit.inner_text() and "w.grad would still be None" in implicit.inner_text()
    assert "loss.backward()" in implicit.inner_text()
    nonfinite = page.locator("#notices .notice-nonfinite")
    assert "dloss/d(x * w) is NaN or infinite" in nonfinite.inner_text(), nonfinite.inner_text()
    assert "⚠" in tensor(page, "w").locator("text.t-grad").text_content()
    screenshot(page, "classroom-implicit-nan")
    nonfinite.locator("button[data-pos]").click()
    assert "LogBackward0" in page.inner_text("#step-text") and "⚠" in page.inner_text("#step-text")
    assert page.locator("#explain .explain-nonfinite").is_visible()
    page.keyboard.press("End")
    in_view(page, tensor(page, "w")).click()
    assert page.locator("#panel-inspector .inspector-nonfinite").is_visible()
    cell = page.locator("#panel-inspector table.tensor.grad td.nonfinite")
    assert cell.inner_text() == "inf"
    assert page.evaluate("getComputedStyle(document.querySelector('#panel-inspector td.nonfinite')).color") == "rgb(176, 0, 32)"
    page.click("[data-lang=pt-BR]")
    assert "continuaria None" in page.inner_text("#notices .notice-implicit")
    screenshot(page, "classroom-implicit-nan-pt")


# ---- the inspector at the player's step -----------------------------------------------------------------

def test_the_inspector_shows_the_current_steps_value_and_gradient(lesson):
    page = lesson
    in_view(page, tensor(page, "e")).click()
    panel = page.locator("#panel-inspector")
    assert panel.locator("table.tensor.grad td").all_inner_texts() == ["0", "-2", "-4", "-6"]
    page.locator("#step-text").click()
    page.keyboard.press("Home")
    assert "Not computed yet" in panel.inner_text() and "Not arrived yet" in panel.inner_text()
    step_to(page, r"e = y_pred - y")
    assert panel.locator("table.tensor.value td").all_inner_texts() == ["0", "-1", "-2", "-3"]
    assert "Not arrived yet" in panel.inner_text()
    step_to(page, r"PowBackward0")
    assert panel.locator("table.tensor.grad td").all_inner_texts() == ["0", "-2", "-4", "-6"]


# ---- the keyboard ---------------------------------------------------------------------------------------

def test_tab_order_reads_the_page_in_order_and_every_stop_has_a_name(lesson):
    page = lesson
    page.click("[data-lang=pt-BR]")
    page.locator("h1.brand").click()
    stops = []
    for _ in range(80):
        page.keyboard.press("Tab")
        stop = page.evaluate("""() => {
          const e = document.activeElement;
          const by = e.getAttribute('aria-labelledby');
          const name = (e.getAttribute('aria-label') || (by && document.getElementById(by)?.textContent) ||
                        e.labels?.[0]?.textContent || e.textContent || e.title || e.placeholder || '').trim();
          return { id: e.id || e.getAttribute('data-id') || e.tagName, name, inGraph: !!e.closest('#graph') };
        }""")
        if stops and stop["id"] == stops[0]["id"]:
            break
        stops.append(stop)
    unnamed = [s for s in stops if not s["name"] and s["id"] != "BODY"]
    assert unnamed == [], unnamed
    order = [s["id"] for s in stops]
    landmarks = ["examples", "btn-trace", "tab-inspector", "graph", "btn-first", "slider"]
    assert [order.index(k) for k in landmarks] == sorted(order.index(k) for k in landmarks), order
    print("\nTab stops:", len(stops), "of them in the graph:", sum(s["inGraph"] for s in stops))


def press_until_disabled(page, button):
    """Focus a player button and press Enter on it until it disables; return where the focus went."""
    page.focus(button)
    for _ in range(40):
        if page.evaluate(f"document.querySelector('{button}').disabled"):
            break
        page.keyboard.press("Enter")
    return page.evaluate("[document.activeElement.id, !!document.activeElement.closest('.player')]")


def test_focus_stays_in_the_player_and_its_ring_contrasts(lesson):
    page = lesson
    page.click("#btn-first")
    assert press_until_disabled(page, "#btn-next") == ["btn-play", True]  # at the last step
    assert press_until_disabled(page, "#btn-prev") == ["btn-play", True]  # back at the first
    # The focus ring against the page behind it: at least 3:1 (WCAG 2.2 focus appearance).
    page.keyboard.press("Tab")
    ring = page.evaluate("""() => {
      const lum = (c) => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                           return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
      const el = document.activeElement;
      const ring = lum(getComputedStyle(el).outlineColor);
      const behind = lum(getComputedStyle(el.closest('.player')).backgroundColor.replace(/rgba\\(0, 0, 0, 0\\)/, 'rgb(255, 255, 255)'));
      const [hi, lo] = ring > behind ? [ring, behind] : [behind, ring];
      return { contrast: (hi + 0.05) / (lo + 0.05), style: getComputedStyle(el).outlineStyle };
    }""")
    assert ring["style"] != "none" and ring["contrast"] >= 3, ring


# ---- the share link ---------------------------------------------------------------------------------------

def test_the_share_link_keeps_step_selection_eps_and_language(lesson, browser, server_url, watch):
    page = lesson
    page.click("#tab-gradcheck")
    page.fill("#panel-gradcheck input[name=eps]", "0.01")
    page.press("#panel-gradcheck input[name=eps]", "Enter")
    page.wait_for_function("document.getElementById('panel-gradcheck').innerText.includes('eps = 0.01;')")
    in_view(page, tensor(page, "e2")).click()
    page.locator("#step-text").click()
    page.keyboard.press("End")
    step_to(page, r"PowBackward0", key="ArrowLeft")
    page.click("[data-lang=pt-BR]")
    words = page.inner_text("#step-text")
    page.click("#btn-share")
    page.wait_for_function("document.getElementById('status').innerText.length > 0")
    url = page.url
    assert "&s=" in url and "&n=" in url and "e=0.01" in url and "l=pt-BR" in url, url
    context = localhost_only_context(browser, server_url, watch, locale="en-US")
    other = context.new_page()
    try:
        other.goto(url)
        wait_for_graph(other)
        other.wait_for_function("document.querySelector('#panel-inspector h3')?.innerText.includes('e2')")
        assert other.inner_text("#step-text") == words
        assert other.get_attribute("html", "lang") == "pt-BR" and other.inner_text("#tab-inspector") == "Inspetor"
        assert other.input_value("#panel-gradcheck input[name=eps]") == "0.01"
        screenshot(other, "classroom-shared-link")
        # A damaged link says so, and shows the lesson.
        other.goto(url.split("#")[0] + "#p=c3RpbGwgbm90IGRlZmxhdGU&s=3")
        other.reload()
        wait_for_graph(other)
        assert "damaged" in other.inner_text("#notices .notice-broken-link") or "danificado" in other.inner_text("#notices")
        assert "y_pred" in other.locator("g.node.tensor tspan.t-name").all_text_contents()
        screenshot(other, "classroom-broken-link")
    finally:
        context.close()


# ---- the gradient check at an eps too small for float32 -------------------------------------------------

def test_round_off_at_a_tiny_eps_is_explained(lesson):
    page = lesson
    page.click("#tab-gradcheck")
    assert page.locator("#panel-gradcheck .round-off").count() == 0
    page.fill("#panel-gradcheck input[name=eps]", "1e-7")
    page.press("#panel-gradcheck input[name=eps]", "Enter")
    page.wait_for_function("document.getElementById('panel-gradcheck').innerText.includes('1e-7')")
    note = page.locator("#panel-gradcheck .round-off").inner_text()
    assert "float32" in note and "round-off" in note and "float64" in note, note
    assert "largest |autograd − central|" in page.inner_text("#panel-gradcheck")
    screenshot(page, "classroom-round-off")


# ---- Portuguese everywhere -----------------------------------------------------------------------------

def test_portuguese_leaves_nothing_in_english(lesson):
    page = lesson
    page.click("[data-lang=pt-BR]")
    assert page.title() == "Grafo: veja o que o autograd faz"
    left = english_left(page)
    in_view(page, tensor(page, "w")).click()
    to_backward(page)
    left += english_left(page)
    for tab in ["backprop", "gradcheck", "console", "warnings"]:
        page.click(f"#tab-{tab}")
        left += english_left(page)
    run(page, INPLACE, error=True)
    left += english_left(page)
    run(page, NO_BACKWARD_NAN)
    left += english_left(page)
    assert sorted(set(left)) == [], sorted(set(left))
    assert page.get_attribute("#graph", "aria-label") == "Grafo do autograd"
    assert page.get_attribute("#slider", "aria-label") == "Passo"
    # The editor's own words (CodeMirror's search panel).
    page.click(".cm-content")
    page.keyboard.press("Control+f")
    assert page.get_attribute(".cm-search input[name=search]", "placeholder") == "Buscar"
    screenshot(page, "classroom-pt-everywhere")


# ---- words that grow in another language ---------------------------------------------------------

OVERFLOW = """() => {
  const out = [];
  for (const g of document.querySelectorAll('#graph svg g.node, #graph svg g.frame-head')) {
    const shape = g.querySelector(':scope > rect.shape, :scope > rect.frame-head-shape');
    if (!shape) continue;
    const right = shape.getBBox().x + shape.getBBox().width;
    for (const text of g.querySelectorAll(':scope > text')) {
      if (!text.textContent) continue;
      const box = text.getBBox();
      if (box.x + box.width > right + 1) out.push([g.getAttribute('data-id'), text.textContent, Math.round(box.x + box.width - right)]);
    }
  }
  return out;
}"""


def test_switching_language_measures_the_boxes_again(lesson):
    """Portuguese words are longer: after a switch every box is measured for its new words."""
    page = lesson
    painted = page.evaluate("window.__grafo.painted")
    # 300 iterations drawn as closed groups whose words ("iterations 0-99 · 200 ops") grow in Portuguese.
    set_program(page, "import torch\nh = torch.tensor([0.5, -0.25, 1.0], requires_grad=True)\n"
                      "for i in range(300):\n    h = h * 1.01 + 0.01\nJ = h.sum()\nJ.backward()\n")
    page.keyboard.press("Control+Enter")
    wait_for_graph(page, after=painted)
    page.locator("#step-text").click()
    page.keyboard.press("End")
    assert page.evaluate(OVERFLOW) == []
    painted = page.evaluate("window.__grafo.painted")
    page.click("[data-lang=pt-BR]")
    wait_for_graph(page, after=painted)
    assert page.evaluate(OVERFLOW) == []
    screenshot(page, "classroom-language-switch-pt")
