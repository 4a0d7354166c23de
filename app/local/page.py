"""The page, as HTML that shows one given trace: served by `python -m app open`, or self-contained.

The page is `templates/index.html` with the ES modules of `static/js` (no build step). A page given
a trace (`{"trace": ..., "source": ...}` in `<script type="application/json" id="grafo-given">`)
shows it instead of tracing a program of its own (`static/js/main.js`).

Self-contained (a saved `.html`, a notebook): the CSS is inlined, and the modules (the page's own,
d3, dagre, CodeMirror, the layout worker) travel as text in one JSON block. A small loader turns
each into a `blob:` URL, dependencies first, with every relative import (and the worker's
`new URL("./layout-worker.js", import.meta.url)`, and `"/static/..."` fetches) rewritten to the
URL of its target; then it imports `main.js`. Nothing is fetched from anywhere: it works offline,
from `file://`, and inside a notebook's iframe (which reuses the loader of the notebook page, so
the 1 MB of JavaScript is in a notebook once).
"""

from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache
from pathlib import Path

from app import __version__

_ROOT = Path(__file__).resolve().parents[2]
_MODULE_TYPES = {".js": "text/javascript", ".css": "text/css"}
_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(?\s*|new\s+URL\(\s*)(["'])(\.{1,2}/[^"'\n]+)\2""")
_WORKER = re.compile(r"""new\s+Worker\(\s*new\s+URL\(\s*(["'])grafo-module:([^"']+)\1""")
_STATIC_URL = re.compile(r"""(["'])/static/([^"'\n]+)\1""")
PLACEHOLDER = "grafo-module:"
_START = "<!--grafo-start-->"


def web_root() -> Path:
    """Where `static/` and `templates/` are: the checkout, or the installed copy (`grafo/_web`)."""
    for candidate in (_ROOT, Path(__file__).resolve().parents[2] / "grafo" / "_web"):
        if (candidate / "static" / "js" / "main.js").exists() and (candidate / "templates" / "index.html").exists():
            return candidate
    raise FileNotFoundError("Grafo's page (static/ and templates/) was not found beside the app package")


def in_script(json_text: str) -> str:
    """JSON text that can sit inside a <script> element: no `</` or `<!--` can end or confuse it."""
    return json_text.replace("</", "<\\/").replace("<!--", "<\\u0021--")


def _json_in_html(value) -> str:
    return in_script(json.dumps(value, ensure_ascii=False))


def payload(trace_json: str, source: str, title: str | None = None) -> str:
    """The JSON the page is given: the trace (already JSON text, not parsed again) and its source."""
    extra = json.dumps({"source": source, "title": title}, ensure_ascii=False)
    return '{"trace": ' + trace_json + ", " + extra[1:]


def given_block_text(payload_json: str) -> str:
    return f'<script type="application/json" id="grafo-given">{in_script(payload_json)}</script>'


@lru_cache(maxsize=1)
def index_html() -> str:
    """templates/index.html rendered as the server renders it (the lesson's text is in it)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from app.examples import EXAMPLES

    environment = Environment(loader=FileSystemLoader(web_root() / "templates"), autoescape=select_autoescape())
    context = {"examples": [example.model_dump() for example in EXAMPLES], "version": __version__}
    return environment.get_template("index.html").render(**context)


@lru_cache(maxsize=1)
def shell() -> str:
    """The page with its CSS inlined and `<!--grafo-start-->` where its script goes."""
    page = index_html()
    static = web_root() / "static"

    def inline_css(match: re.Match) -> str:
        css = (static / match.group(1)).read_text(encoding="utf-8")
        return f"<style>\n{css}\n</style>"

    page = re.sub(r'<link rel="stylesheet" href="/static/([^"]+)">', inline_css, page)
    page = re.sub(r'\s*<link rel="modulepreload" href="[^"]+">', "", page)
    return page.replace('<script type="module" src="/static/js/main.js"></script>', _START)


@lru_cache(maxsize=1)
def modules() -> list[dict]:
    """Every module main.js needs, as {id, type, text, deps}, dependencies before what uses them."""
    static = web_root() / "static"
    found: dict[str, dict] = {}

    def visit(module_id: str, path: tuple[str, ...]) -> None:
        if module_id in path:
            raise ValueError(f"import cycle in static/: {' -> '.join(path + (module_id,))}")
        if module_id in found:
            return
        text = (static / module_id).read_text(encoding="utf-8")
        deps: list[str] = []

        def relative(match: re.Match) -> str:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(module_id), match.group(3)))
            if not (static / target).is_file():
                return match.group(0)
            deps.append(target)
            return f"{match.group(1)}{match.group(2)}{PLACEHOLDER}{target}{match.group(2)}"

        def absolute(match: re.Match) -> str:
            target = match.group(2)
            if not (static / target).is_file():
                return match.group(0)
            deps.append(target)
            return f"{match.group(1)}{PLACEHOLDER}{target}{match.group(1)}"

        if module_id.endswith(".js"):
            text = _STATIC_URL.sub(absolute, _IMPORT.sub(relative, text))
            workers.update(match.group(2) for match in _WORKER.finditer(text))
        for dep in deps:
            visit(dep, path + (module_id,))
        found[module_id] = {"id": module_id, "type": _MODULE_TYPES[Path(module_id).suffix],
                            "text": text, "deps": sorted(set(deps)), "data": False}

    workers: set[str] = set()
    visit("js/main.js", ())
    # A worker and what it imports travel as data: URLs: a page opened from file:// has an opaque
    # origin, and Chromium starts no module worker from a blob: URL there.
    pending = list(workers)
    while pending:
        module = found[pending.pop()]
        if not module["data"]:
            module["data"] = True
            pending.extend(module["deps"])
    return list(found.values())


# Defines `window.__grafoAssets` once per page: `url(id)` (the blob: URL of a module, all made on first use)
# and `page(payloadJson)` (the HTML of a page showing that trace, for a notebook's iframe).
_LOADER = """(function () {
  if (window.__grafoAssets) return;
  var assets = JSON.parse(document.getElementById("grafo-assets").textContent);
  var urls = null;
  function url(id) {
    if (!urls) {
      urls = {};
      assets.modules.forEach(function (m) {
        var text = m.text;
        m.deps.forEach(function (dep) { text = text.split("%(placeholder)s" + dep).join(urls[dep]); });
        urls[m.id] = m.data ? "data:" + m.type + ";charset=utf-8," + encodeURIComponent(text)
          : URL.createObjectURL(new Blob([text], { type: m.type }));
      });
    }
    return urls[id];
  }
  function page(payloadJson) {
    var given = payloadJson.split("</").join("<\\\\/");
    var start = '<script type="application/json" id="grafo-given">' + given + "</" + "script>" +
      "<script>import(parent.__grafoAssets.url('js/main.js'))</" + "script>";
    return assets.shell.replace("%(start)s", start);
  }
  window.__grafoAssets = { url: url, page: page };
  window.dispatchEvent(new Event("grafo-assets"));
})();"""


def assets_html() -> str:
    """The page's CSS, HTML and JavaScript with the loader: once per page (notebook or saved file)."""
    data = {"modules": modules(), "shell": shell()}
    loader = _LOADER % {"placeholder": PLACEHOLDER, "start": _START}
    return (f'<script type="application/json" id="grafo-assets">{_json_in_html(data)}</script>\n'
            f"<script>{loader}</script>")


def standalone_page(payload_json: str, title: str | None = None) -> str:
    """One HTML file that shows the trace with nothing else: no server, no network."""
    start = (given_block_text(payload_json) + "\n" + assets_html() + "\n"
             "<script>import(window.__grafoAssets.url('js/main.js'))</script>")
    return _titled(shell(), title).replace(_START, start)


def _titled(page: str, title: str | None) -> str:
    if not title:
        return page
    from html import escape

    return re.sub(r"<title>[^<]*</title>", f"<title>{escape(title)} · Grafo</title>", page, count=1)
