"""A recording in a notebook: the page's own view in an iframe, and a static SVG where scripts don't run.

The first recording shown in a kernel session carries the page's assets (`page.assets_html()`: CSS,
HTML and about 1 MB of JavaScript, inlined, so no CDN and no network); every later one only its trace
and a few lines that wait for the assets and mount an iframe from them. A notebook opened where
scripts do not run (GitHub, an untrusted notebook) shows the SVG each output carries instead; so does
an output whose assets went away with the output that brought them: it says so, and
`grafo.init_notebook()` in any cell sends them again (the views waiting for them then open).
"""

from __future__ import annotations

import uuid

from app.local import page

_sent_assets = False
_VIEW = """<div class="grafo-output" id="%(id)s">
<div class="grafo-fallback" style="overflow:auto;max-height:%(height)dpx;border:1px solid #d0d0d0;border-radius:4px">
%(svg)s
</div>
<script type="application/json" class="grafo-payload">%(payload)s</script>
<script>
(function () {
  var root = document.getElementById("%(id)s");
  function mount() {
    if (!window.__grafoAssets || !root || root.querySelector("iframe")) return !!window.__grafoAssets;
    var frame = document.createElement("iframe");
    frame.title = "Grafo";
    frame.style.cssText = "width:100%%;height:%(height)dpx;border:1px solid #d0d0d0;border-radius:4px;background:#fff";
    frame.srcdoc = window.__grafoAssets.page(root.querySelector(".grafo-payload").textContent);
    root.querySelector(".grafo-fallback").style.display = "none";
    root.appendChild(frame);
    return true;
  }
  if (mount()) return;
  window.addEventListener("grafo-assets", mount);
  setTimeout(function () {
    if (window.__grafoAssets || !root) return;
    var note = document.createElement("p");
    note.style.cssText = "font:13px sans-serif;color:#555;margin:4px 0";
    note.textContent = "A static picture: the interactive view's scripts came with an earlier Grafo output " +
      "that is gone. Run grafo.init_notebook() in a cell to load them.";
    root.insertBefore(note, root.firstChild);
  }, 3000);
})();
</script>
</div>"""


def view_html(payload_json: str, svg: str, height: int = 640) -> str:
    """The HTML of one output: the assets the first time in this kernel, the view every time."""
    global _sent_assets
    assets = "" if _sent_assets else page.assets_html() + "\n"
    _sent_assets = True
    view = _VIEW % {"id": f"grafo-{uuid.uuid4().hex[:12]}", "height": height, "svg": svg,
                    "payload": page.in_script(payload_json)}
    return assets + view


class _Assets:
    def _repr_html_(self) -> str:
        return page.assets_html()

    def __repr__(self) -> str:
        return "<grafo: the page's scripts, for this notebook's Grafo views>"


def init_notebook() -> _Assets:
    """Show this (the last line of a cell) to send the page's assets to the notebook again."""
    global _sent_assets
    _sent_assets = True
    return _Assets()
