"""Training loops in the browser: the loss curve (one point per pass), a click on a pass that was only
summarised (a new trace with passes=[k], then pass k's graph), the update step with before, after
and the rule, zero_grad, a parameter's plots over the passes, NaN/Inf passes, both languages."""

from __future__ import annotations

import json
import re

from tests.browser.conftest import screenshot, wait_for_graph
from tests.programs.training import REAL
from tests.whole import whole

# The PyTorch tutorials' polynomial fit with autograd (the corpus program, seeded) with 500 of its
# 2,000 iterations: the page behaves the same, and a loaded machine stays within the time limit.
POLYNOMIAL = (REAL / "01_polynomial_autograd.py").read_text(encoding="utf-8").replace("range(60)", "range(500)")
DIVERGES = """import torch
w = torch.tensor([1.0], requires_grad=True)
opt = torch.optim.SGD([w], lr=1.0)
for i in range(30):
    opt.zero_grad()
    loss = (10 * w).pow(2).sum()
    loss.backward()
    opt.step()
"""
KEY_LEFT = re.compile(r"\b(?:training|update|plots|step)\.[a-zA-Z_]+")


def run(page, source):
    """Put `source` in the editor, trace it, wait for its graph; the trace the server sent."""
    painted = page.evaluate("window.__grafo.painted")
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)
    with page.expect_response("**/api/trace") as response:
        page.keyboard.press("Control+Enter")
    wait_for_graph(page, after=painted)
    return whole(response.value.json())


def tensor(page, name):
    return page.locator("g.node.tensor").filter(has=page.locator("tspan.t-name", has_text=re.compile(rf"^{re.escape(name)}$")))


def step_to(page, prefix, key):
    page.locator("#graph").click(position={"x": 4, "y": 4})
    page.keyboard.press("End" if key == "ArrowLeft" else "Home")
    for _ in range(80):
        if page.inner_text("#step-text").startswith(prefix):
            return page.inner_text("#step-text")
        page.keyboard.press(key)
    raise AssertionError(f"no step starting {prefix!r}; last: {page.inner_text('#step-text')}")


def close(text, number):
    return abs(float(text) - number) <= 1e-3 * max(1.0, abs(number))


def test_loss_curve_a_summarised_pass_in_full_and_its_update(page, watch):
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto("/")
    wait_for_graph(page)
    trace = run(page, POLYNOMIAL)
    n = trace["stats"]["backward_passes"]
    assert n == 500 and [p["index"] for p in trace["passes"]] == [0, 499]
    strip = page.locator("#training")
    assert strip.is_visible()
    # One point per pass, the two detailed passes ringed, the first shown.
    assert page.locator(".loss-chart circle.pass-point").count() == n
    assert page.locator(".loss-chart circle.detailed").count() == 2
    assert page.input_value("#training .pass-input") == "1"
    assert close(tensor(page, "loss").locator("text.t-value").text_content(), trace["summaries"][0]["loss"])
    # Axes with ticks and labels; the log scale toggles (it is on by default when the losses span
    # three orders of magnitude or more).
    losses = [s["loss"] for s in trace["summaries"]]
    assert page.is_checked("#training .log-input") == (max(losses) / min(losses) >= 1e3)
    assert page.locator(".loss-chart .x-axis .tick").count() >= 3
    ticks = page.locator(".loss-chart .y-axis .tick text").all_text_contents()
    assert len(ticks) >= 2
    page.click("#training .log-input")
    assert page.locator(".loss-chart .y-axis .tick text").all_text_contents() != ticks
    page.click("#training .log-input")
    assert page.locator(".loss-chart .y-axis .tick text").all_text_contents() == ticks
    # Hovering says the pass and its loss.
    point = page.locator('.loss-chart circle.pass-point[data-pass="300"]').bounding_box()
    x, y = point["x"] + point["width"] / 2, point["y"] + point["height"] / 2
    page.mouse.move(x, y)
    tip = page.locator(".loss-tip")
    tip.wait_for(state="visible")
    assert re.match(r"Pass \d+: loss [\d.]+", tip.inner_text()), tip.inner_text()
    screenshot(page, "training-hover-1366")
    # A click on a summarised pass asks for it in full, then shows its graph.
    painted = page.evaluate("window.__grafo.painted")
    with page.expect_request("**/api/trace") as request, page.expect_response("**/api/trace") as response:
        page.mouse.click(x, y)
    asked = json.loads(request.value.post_data)["passes"]
    k = asked[-1]
    assert abs(k - 300) <= 2, asked
    wait_for_graph(page, after=painted)
    fetched = whole(response.value.json())
    assert k in [p["index"] for p in fetched["passes"]]
    assert page.input_value("#training .pass-input") == str(k + 1)
    assert close(tensor(page, "loss").locator("text.t-value").text_content(), fetched["summaries"][k]["loss"])
    assert page.locator(".loss-chart circle.detailed.shown").get_attribute("data-pass") == str(k)
    # Back to the first pass: the same shape, so the same layout (no new layout, the view stays).
    box = tensor(page, "loss").bounding_box()
    painted = page.evaluate("window.__grafo.painted")
    page.fill("#training .pass-input", "1")
    page.press("#training .pass-input", "Enter")
    wait_for_graph(page, after=painted)
    assert page.evaluate("window.__grafo.layoutMs") == 0
    assert tensor(page, "loss").bounding_box() == box
    assert close(tensor(page, "loss").locator("text.t-value").text_content(), fetched["summaries"][0]["loss"])
    page.fill("#training .pass-input", str(k + 1))
    page.press("#training .pass-input", "Enter")
    wait_for_graph(page, after=painted + 1)
    # Its steps run forward, backward, then the updates: a ← a − lr·dloss/da with its numbers.
    text = step_to(page, "Update 1/", "ArrowLeft")
    update = next(u for u in fetched["updates"] if u["pass_index"] == k and u["params"])
    param = update["params"][0]
    assert "←" in text and "lr" in text, text
    explain = page.locator("#explain")
    assert param["text"] in explain.locator(".update-text").first.inner_text()
    assert explain.locator("code.before").first.inner_text() and explain.locator("code.after").first.inner_text()
    page.wait_for_timeout(400)  # the graph pans to the updated parameter
    after = tensor(page, param["name"]).locator("text.t-value").text_content()
    assert close(after, param["after"]["data"]), (after, param["after"])
    screenshot(page, "training-update-1366")
    # The cleared gradient is said as what it is.
    page.keyboard.press("End")
    text = step_to(page, "Update 5/", "ArrowLeft")
    assert ".grad ← None" in text and "cleared" in text, text
    assert tensor(page, "a").locator("text.t-grad").text_content() == "∇ None"
    # A parameter's inspector: its value and gradient over the passes.
    tensor(page, "a").click()
    plots = page.locator("#panel-inspector .param-plots")
    plots.wait_for()
    assert plots.locator("svg.sparkline").count() == 2
    assert plots.locator("svg.sparkline").first.get_attribute("data-n") == str(n)
    assert f"pass {k + 1}:" in plots.inner_text()
    screenshot(page, "training-inspector-1366")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(300)
    screenshot(page, "training-1920")
    # Both languages: nothing is left as a catalogue key.
    for lang in ["pt-BR", "en"]:
        page.click(f"[data-lang={lang}]")
        page.wait_for_timeout(100)
        body = page.inner_text("body")
        assert not KEY_LEFT.search(body), KEY_LEFT.search(body)
        if lang == "pt-BR":
            assert "Loss por passada" in body and "Passada" in body
            screenshot(page, "training-pt-1920")
    assert not watch.console_errors, watch.console_errors


def test_nan_passes_are_marked_and_zero_grad_is_a_step(page, watch):
    page.goto("/")
    wait_for_graph(page)
    trace = run(page, DIVERGES)
    bad = [s["index"] for s in trace["summaries"] if s["nonfinite"]]
    assert bad, "the program should diverge"
    assert page.locator(".loss-chart .nonfinite-band").count() == len(bad)
    assert page.locator(".loss-chart .nonfinite-mark").count() >= 1
    assert not page.is_checked("#training .log-input") or not page.is_disabled("#training .log-input")
    # The last pass is NaN: its badge says so.
    page.fill("#training .pass-input", str(len(trace["summaries"])))
    page.press("#training .pass-input", "Enter")
    page.locator("#training .nonfinite-badge").wait_for()
    text = step_to(page, "Update 1/", "ArrowLeft")
    assert "SGD.step()" in text or "w ←" in text, text
    assert "lr = 1" in page.inner_text("#explain")
    screenshot(page, "training-nan")
    assert not watch.console_errors, watch.console_errors
