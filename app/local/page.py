"""The page, as HTML that shows one given trace: served by `python -m app open`, or self-contained.

The page is `templates/index.html` with the ES modules of `static/js` (no build step). A page given
a trace (`{"trace": ..., "source": ...}` in `<script type="application/json" id="grafo-given">`)
shows it instead of tracing a program of its own (`static/js/main.js`).

Self-contained (a saved `.html`, a notebook): the CSS is inlined, and the files main.js needs (the
page's modules, d3, dagre, CodeMirror, the workers, files it fetches) travel as text in one JSON block.
A small loader makes each page module a `blob:` URL under a bare name (`@grafo/js/model.js`, every
relative import rewritten to one) in an import map, so modules may import each other in cycles as ES
modules allow; a worker and what it imports become `data:` URLs. Then it imports main.js. Nothing is
fetched from anywhere: it works offline, from `file://`, and in a notebook's iframe (which uses the
loader of the notebook page, so the JavaScript is in a notebook once).
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
_STATIC_URL = re.compile(r"""(["'])/static/([^"'\n]+)\1""")
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
    """Every file main.js needs, as {id, type, text, main}: `main` when the page imports it (the rest
    are workers, what they import, and files fetched by URL). In `text`, an import of another module
    reads `grafo-import:<id>`, a URL of one (`new URL("./w.js", import.meta.url)`, `"/static/..."`)
    reads `grafo-url:<id>`; the loader puts the real URLs in. Cycles between the page's modules are
    fine (ES modules allow them); a worker's imports must not have any."""
    static = web_root() / "static"
    found: dict[str, dict] = {}

    def visit(module_id: str, main: bool) -> None:
        if module_id in found:
            found[module_id]["main"] |= main
            return
        text = (static / module_id).read_text(encoding="utf-8")
        imports: list[str] = []
        urls: list[str] = []

        def relative(match: re.Match) -> str:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(module_id), match.group(3)))
            if not (static / target).is_file():
                return match.group(0)
            is_url = match.group(1).startswith("new")
            (urls if is_url else imports).append(target)
            kind = "url" if is_url else "import"
            return f"{match.group(1)}{match.group(2)}grafo-{kind}:{target}{match.group(2)}"

        def absolute(match: re.Match) -> str:
            target = match.group(2)
            if not (static / target).is_file():
                return match.group(0)
            urls.append(target)
            return f"{match.group(1)}grafo-url:{target}{match.group(1)}"

        if module_id.endswith(".js"):
            text = _STATIC_URL.sub(absolute, _IMPORT.sub(relative, text))
        found[module_id] = {"id": module_id, "type": _MODULE_TYPES.get(Path(module_id).suffix, "text/plain"),
                            "text": text, "main": main}
        for target in imports:
            visit(target, main)
        for target in urls:
            visit(target, False)

    visit("js/main.js", True)
    return list(found.values())


# Defines `window.__grafoAssets` once per page: `importMap()` (the page's modules as blob: URLs, made on
# first use, under bare names `@grafo/<id>`) and `page(payloadJson)` (the HTML of a page showing that
# trace, for a notebook's iframe). A worker, what it imports and a fetched file travel as data: URLs
# instead: import maps do not reach into workers, and a page opened from file:// has an opaque origin,
# where Chromium starts no module worker from a blob: URL.
_LOADER = """(function () {
  if (window.__grafoAssets) return;
  var assets = JSON.parse(document.getElementById("grafo-assets").textContent);
  var byId = {}, inline = {}, imports = null;
  assets.modules.forEach(function (m) { byId[m.id] = m; });
  var REFERENCE = /grafo-(import|url):([^"'`\\s]+)/g;
  function dataUrl(id, path) {
    if (inline[id]) return inline[id];
    if (path.indexOf(id) >= 0) throw new Error("Grafo: import cycle in a worker: " + path.concat(id).join(" > "));
    var text = byId[id].text.replace(REFERENCE, function (_, kind, dep) { return dataUrl(dep, path.concat(id)); });
    return (inline[id] = "data:" + byId[id].type + ";charset=utf-8," + encodeURIComponent(text));
  }
  function importMap() {
    if (!imports) {
      imports = {};
      assets.modules.forEach(function (m) {
        if (!m.main) return;
        var text = m.text.replace(REFERENCE, function (_, kind, dep) {
          return kind === "import" ? "@grafo/" + dep : dataUrl(dep, []);
        });
        imports["@grafo/" + m.id] = URL.createObjectURL(new Blob([text], { type: m.type }));
      });
    }
    return { imports: imports };
  }
  function page(payloadJson) {
    // payloadJson comes from a <script> element's text, so it has no "</" left to escape.
    var start = '<script type="application/json" id="grafo-given">' + payloadJson + "</" + "script>" +
      "<script>" + %(start_parent)s + "</" + "script>";
    return assets.shell.replace("%(start)s", start);
  }
  window.__grafoAssets = { importMap: importMap, page: page };
  window.dispatchEvent(new Event("grafo-assets"));
})();"""
# Runs in the document that shows the page (the page itself, or a notebook's iframe): its import map
# first, then main.js, in that document's own realm.
_START_SCRIPT = ('var map = document.createElement("script"); map.type = "importmap"; '
                 'map.textContent = JSON.stringify(%s.__grafoAssets.importMap()); document.head.appendChild(map); '
                 'import("@grafo/js/main.js");')


def assets_html() -> str:
    """The page's CSS, HTML and JavaScript with the loader: once per page (notebook or saved file)."""
    data = {"modules": modules(), "shell": shell()}
    loader = _LOADER % {"start": _START, "start_parent": json.dumps(_START_SCRIPT % "parent")}
    return (f'<script type="application/json" id="grafo-assets">{_json_in_html(data)}</script>\n'
            f"<script>{loader}</script>")


def standalone_page(payload_json: str, title: str | None = None) -> str:
    """One HTML file that shows the trace with nothing else: no server, no network."""
    start = (given_block_text(payload_json) + "\n" + assets_html() + "\n"
             f"<script>{_START_SCRIPT % 'window'}</script>")
    return _titled(shell(), title).replace(_START, start)


def _titled(page: str, title: str | None) -> str:
    if not title:
        return page
    from html import escape

    return re.sub(r"<title>[^<]*</title>", f"<title>{escape(title)} · Grafo</title>", page, count=1)
