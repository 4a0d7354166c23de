"""The browser view on the real server: the lesson, stepping, inspector, examples, errors, sharing, export."""

from __future__ import annotations

import json
import re
import struct
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from app.trace_model import Trace
from tests.browser.conftest import in_view, screenshot, wait_for_graph


def tensor(page, name):
    """The tensor node whose title is exactly `name`."""
    return page.locator("g.node.tensor").filter(has=page.locator("tspan.t-name", has_text=re.compile(rf"^{re.escape(name)}$")))


def value_of(page, name):
    return tensor(page, name).locator("text.t-value").text_content()


def grad_of(page, name):
    return tensor(page, name).locator("text.t-grad").text_content()


def step_to(page, pattern, key="ArrowRight", limit=40):
    """Press `key` until the step text matches `pattern`."""
    for _ in range(limit):
        if re.search(pattern, page.inner_text("#step-text")):
            return
        page.keyboard.press(key)
    raise AssertionError(f"no step matching {pattern!r}; last: {page.inner_text('#step-text')}")


def set_program(page, source):
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)


@pytest.fixture
def lesson(page):
    page.goto("/")
    wait_for_graph(page)
    return page


def test_lesson_graph_has_named_nodes_and_J_is_14(lesson, watch):
    page = lesson
    titles = page.locator("g.node.tensor tspan.t-name").all_text_contents()
    for name in ["w", "x", "y", "y_pred", "e", "e2", "J"]:
        assert name in titles, titles
    ops = page.locator("g.node.op text.t-op").all_text_contents()
    for label in ["×", "−", "pow 2", "sum"]:
        assert label in ops, ops
    assert value_of(page, "J") == "14"
    assert grad_of(page, "w") == "∇ [-28]"
    assert page.locator("g.node.op title").first.text_content()  # grad_fn on hover
    assert "MulBackward0" in " ".join(page.locator("g.node.op title").all_text_contents())
    assert not watch.console_errors


def test_forward_steps_reveal_values_in_order(lesson):
    page = lesson
    page.locator("#graph").click(position={"x": 5, "y": 5})
    page.keyboard.press("Home")
    order = ["y_pred", "e", "e2", "J"]
    revealed_at = {}
    for step in range(20):
        for name in order:
            if name not in revealed_at and value_of(page, name) != "…":
                revealed_at[name] = step
        text = page.inner_text("#step-text")
        if text.startswith("Forward") and "y_pred = x * w" in text:
            assert value_of(page, "y_pred") == "[0, 1, 2, 3]"
            assert value_of(page, "e") == "…"
            assert "cm-step-line" in page.locator(".cm-line", has_text="y_pred = x * w").get_attribute("class")
            screenshot(page, "forward-step")
        if text.startswith("Backward"):
            break
        page.keyboard.press("ArrowRight")
    assert [revealed_at[n] for n in order] == sorted(revealed_at[n] for n in order)
    assert len(set(revealed_at.values())) == len(order), revealed_at
    assert value_of(page, "J") == "14"


def test_backward_steps_send_gradients(lesson):
    page = lesson
    page.locator("#graph").click(position={"x": 5, "y": 5})
    page.keyboard.press("Home")
    step_to(page, r"PowBackward0")
    assert grad_of(page, "e") == "∇ [0, -2, -4, -6]"
    assert "hl-grad-out" in tensor(page, "e").get_attribute("class")
    assert grad_of(page, "w") == "∇ …"
    assert "[0, -2, -4, -6]" in page.inner_text("#step-text")
    page.wait_for_timeout(700)  # let the gradient run along its edge
    screenshot(page, "backward-step")
    step_to(page, r"AccumulateGrad")
    assert grad_of(page, "w") == "∇ [-28]"
    assert "w.grad = [-28]" in page.inner_text("#step-text")


def test_inspector_and_source_links(lesson):
    page = lesson
    in_view(page, tensor(page, "w")).click()
    panel = page.locator("#panel-inspector")
    assert "requires_grad" in panel.inner_text()
    assert panel.locator("table.tensor.grad td").all_text_contents() == ["-28"]
    screenshot(page, "inspector")
    panel.locator("button[data-line='6']").click()
    assert page.locator(".cm-lineNumbers .cm-activeLineGutter").inner_text().strip() == "6"
    # The cursor on a line selects that line's nodes.
    page.locator(".cm-line", has_text="e2 = e.pow(2)").click()
    assert "pow" in page.locator("#panel-inspector h3").inner_text()
    assert "on-line" in tensor(page, "e2").get_attribute("class")


def test_gradient_check_panel(lesson):
    page = lesson
    page.click("#tab-gradcheck")
    text = page.locator("#panel-gradcheck").inner_text()
    assert "w" in text
    central = page.locator("#panel-gradcheck table.gradcheck tbody td").nth(1).inner_text()
    assert abs(float(central) + 28) < 0.05


def test_console_panel_shows_printed_output(lesson):
    page = lesson
    page.click("#tab-console")
    assert "tensor([-28.])" in page.locator("#panel-console").inner_text()


def test_every_example_traces(page, watch, server_url):
    page.goto("/")
    wait_for_graph(page)
    examples = json.load(urllib.request.urlopen(server_url + "/api/examples"))
    assert len(examples) >= 2
    for example in examples:
        request = urllib.request.Request(
            server_url + "/api/trace", data=json.dumps({"source": example["source"]}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        try:
            urllib.request.urlopen(request)
            expect_error = False
        except urllib.error.HTTPError as error:
            assert error.code == 400, (example["id"], error.code)
            expect_error = True
        watch.console_errors.clear()
        painted = page.evaluate("window.__grafo.painted")
        page.select_option("#examples", example["id"])
        if expect_error:
            page.locator("#error").wait_for(state="visible")
            assert page.locator(".cm-lintRange-error").count() >= 1 or "Line" not in page.inner_text("#error")
            errors = [e for e in watch.console_errors if "status of 400" not in e]
        else:
            wait_for_graph(page, after=painted)
            assert page.locator("#error").is_hidden()
            assert page.locator("g.node").count() > 0
            errors = watch.console_errors
        assert not errors, (example["id"], errors)


def test_invalid_program_shows_inline_error_and_keeps_graph(lesson):
    page = lesson
    set_program(page, "import torch\nw = torch.ones(2, requires_grad=True)\nJ = (w * w).sum(\nJ.backward()\n")
    page.keyboard.press("Control+Enter")
    error = page.locator("#error")
    error.wait_for(state="visible")
    match = re.search(r"Line (\d+)", error.inner_text())
    assert match, error.inner_text()
    line = int(match.group(1))
    assert line in (3, 4)
    # The diagnostic sits on that line in the editor.
    marked = page.locator(".cm-line").nth(line - 1).locator(".cm-lintRange-error")
    assert marked.count() == 1
    # The previous graph stays, dimmed.
    assert "dimmed" in page.locator("#graph").get_attribute("class")
    assert value_of(page, "J") == "14"


def test_error_on_a_known_line(lesson):
    page = lesson
    set_program(page, "import torch\nx = torch.ones(3)\ny = undefined_name * 2\n")
    page.click("#btn-trace")
    page.locator("#error").wait_for(state="visible")
    assert "Line 3" in page.inner_text("#error")
    assert page.locator(".cm-line").nth(2).locator(".cm-lintRange-error").count() == 1


def test_shared_url_reopens_the_same_program(page, browser, server_url):
    program = "import torch\na = torch.tensor([1.0, 2.0], requires_grad=True)\nc = (a + a * a).sum()\nc.backward()\n"
    page.goto("/")
    wait_for_graph(page)
    set_program(page, program)
    painted = page.evaluate("window.__grafo.painted")
    page.keyboard.press("Control+Enter")
    wait_for_graph(page, after=painted)
    url = page.url
    assert "#p=" in url
    other = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    try:
        other.goto(url)
        wait_for_graph(other)
        assert other.locator(".cm-content").inner_text().rstrip("\n") == program.rstrip("\n")
        titles = sorted(page.locator("g.node tspan.t-name").all_text_contents())
        assert sorted(other.locator("g.node tspan.t-name").all_text_contents()) == titles
        assert other.locator("g.node.tensor").filter(has=other.locator("tspan.t-name", has_text=re.compile("^a$"))) \
            .locator("text.t-grad").text_content() == "∇ [3, 5]"
    finally:
        other.context.close()


def test_svg_and_png_downloads_are_valid(lesson, tmp_path):
    page = lesson
    page.click("#btn-export")
    with page.expect_download() as info:
        page.click("[data-export=svg]")
    svg_path = tmp_path / "graph.svg"
    info.value.save_as(svg_path)
    root = ET.parse(svg_path).getroot()
    assert root.tag.endswith("svg")
    text = svg_path.read_text()
    assert ">J<" in text and "#ffffff" in text and "<style" in text

    page.click("#btn-export")
    with page.expect_download() as info:
        page.click("[data-export=png]")
    png_path = tmp_path / "graph.png"
    info.value.save_as(png_path)
    data = png_path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1920 and height > 100

    page.click("#btn-export")
    with page.expect_download() as info:
        page.click("[data-export=json]")
    trace_path = tmp_path / "trace.json"
    info.value.save_as(trace_path)
    exported = Trace.model_validate_json(trace_path.read_text())  # the contract, as Python reads it
    assert exported.version == 3 and [n.name for n in exported.nodes if n.kind == "tensor" and n.name == "J"]


def test_hide_constants_and_presentation_mode(lesson):
    page = lesson
    assert tensor(page, "x").count() == 1
    painted = page.evaluate("window.__grafo.painted")
    page.uncheck("#toggle-constants")
    wait_for_graph(page, after=painted)
    assert tensor(page, "x").count() == 0 and tensor(page, "w").count() == 1
    painted = page.evaluate("window.__grafo.painted")
    page.check("#toggle-presentation")
    wait_for_graph(page, after=painted)
    assert "presentation" in page.locator("body").get_attribute("class")
    screenshot(page, "presentation")


def test_player_buttons_and_keyboard(lesson):
    page = lesson
    page.click("#btn-first")
    assert page.inner_text("#step-text").startswith("Before the first operation")
    page.click("#btn-next")
    assert page.inner_text("#step-text").startswith("Forward 1/")
    page.click("#btn-last")
    assert page.inner_text("#step-text").startswith("After the program")
    page.click("#btn-prev")
    assert "AccumulateGrad" in page.inner_text("#step-text")
    # A node the keyboard is on (tests/browser/test_keyboard.py: by Tab and the arrows) opens with Enter.
    page.evaluate("(id) => window.__grafo.pane.focusNode(id)", tensor(page, "e").get_attribute("data-id"))
    page.keyboard.press("Enter")
    assert "e" in page.locator("#panel-inspector h3").inner_text()


def test_the_page_restores_a_trace_sent_without_its_defaults(lesson, server_url):
    """static/js/trace-wire.js turns what the API sends into the whole trace pydantic reads."""
    from app.engine.tracer import trace
    from app.errors import ProgramError
    from app.examples import EXAMPLES
    from app.trace_model import wire_json
    from tests.whole import whole_json

    for example in EXAMPLES:
        try:
            result = trace(example.source)
        except ProgramError as error:  # the examples that fail on purpose: the trace of what ran
            result = error.trace
        whole = lesson.evaluate("""async (sent) => {
          const { inflateTrace } = await import('/static/js/trace-wire.js');
          return inflateTrace(JSON.parse(sent));
        }""", wire_json(result))
        expected = whole_json(result)
        assert whole == expected, (example.id, first_difference(whole, expected))


def first_difference(a, b, path="trace"):
    """Where two JSON values first differ, as a path and the two values (None when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{path}.{key}", a.get(key, "<missing>"), b.get(key, "<missing>")
            if (found := first_difference(a[key], b[key], f"{path}.{key}")) is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := first_difference(x, y, f"{path}[{i}]"))), None)
    return None if a == b else (path, a, b)
