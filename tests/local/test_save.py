"""`.save()` in each format; the saved HTML opened from file:// in Chromium, offline, shows the graph."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree

import pytest
import torch

import grafo
from app.local.png import PngUnavailable
from app.trace_model import Trace, wire_json
from tests.local.conftest import graph_shown


@pytest.fixture(scope="module")
def recording():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    x = torch.randn(2, 3)
    with grafo.record(title="two layers") as g:
        loss = model(x).pow(2).sum()
        loss.backward()
    return g


def test_json_is_the_trace(recording, tmp_path):
    saved = json.loads(recording.save(tmp_path / "g.json").read_text())
    assert saved == json.loads(wire_json(recording.trace))
    assert Trace.model_validate(saved) == recording.trace


def test_svg_draws_every_node_with_its_value_and_gradient(recording, tmp_path):
    text = recording.save(tmp_path / "g.svg").read_text()
    root = ElementTree.fromstring(text)  # well-formed, standalone
    groups = root.findall(".//{http://www.w3.org/2000/svg}g[@data-id]")
    assert len(groups) == len(recording.trace.nodes)
    loss = [n for n in recording.trace.nodes if n.kind == "tensor" and n.name == "loss"][0]
    assert f"{loss.value.data:.4g}"[:5] in text and "∇ 1" in text
    assert "model.0.weight" in text


def test_png_through_chromium(recording, tmp_path, chromium_path, monkeypatch):
    monkeypatch.setenv("GRAFO_CHROMIUM", chromium_path)
    data = recording.save(tmp_path / "g.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    assert width >= 1920


def test_png_without_a_browser_says_what_to_do(recording, tmp_path, monkeypatch):
    monkeypatch.setenv("GRAFO_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(PngUnavailable, match="needs Chromium or Chrome"):
        recording.save(tmp_path / "g.png")
    with pytest.raises(ValueError, match="use .html, .svg, .png or .json"):
        recording.save(tmp_path / "g.gif")


def test_saved_html_shows_the_graph_offline(recording, tmp_path, offline_page):
    path = recording.save(tmp_path / "g.html")
    text = path.read_text()
    assert '<link rel="stylesheet"' not in text and 'src="/static/' not in text
    assert "<title>two layers · Grafo</title>" in text
    page = offline_page.page
    page.goto(path.as_uri())
    assert graph_shown(page) == len(recording.trace.nodes)
    assert "loss = model(x).pow(2).sum()" in page.locator("#editor").inner_text()
    assert page.locator("#btn-trace").is_hidden()
    at_end = page.locator("#step-text").inner_text()
    page.locator("#btn-first").click()  # the player steps through the recorded run
    page.locator("#btn-next").click()
    assert page.locator("#step-text").inner_text().strip() not in ("", at_end)
    assert not offline_page.errors, offline_page.errors
