"""The graph as a static SVG, drawn in Python: no browser, no Graphviz, no JavaScript.

It is what a notebook shows where scripts do not run (GitHub's notebook view, an exported file), and
what `.save("x.svg")` writes. The page's colours and text, in the page's order: inputs at the top,
the root at the bottom; each tensor with its name, shape, value and gradient; each op with its label
(its module, call stack and source line in a tooltip). The layout is a plain layered one: ranks by
longest path, long edges through bend points, a few barycentre sweeps to untangle each rank.
"""

from __future__ import annotations

import math
from collections import defaultdict
from html import escape

from app.trace_model import Trace

_SANS = '"DejaVu Sans", "Segoe UI", "Helvetica Neue", Arial, sans-serif'
_MONO = '"DejaVu Sans Mono", "SFMono-Regular", Menlo, Consolas, monospace'
_PAD_X, _PAD_Y, _LINE_TITLE, _LINE_VALUE, _OP_H, _MIN_W, _MIN_OP_W = 9, 5, 17, 16, 23, 56, 34
_NODE_GAP, _RANK_GAP, _MARGIN = 18, 30, 16
_SWEEPS = 8
_ROLE_STYLE = {  # fill, stroke, stroke width, dash: static/css/graph.css
    "param": ("#fff1d1", "#b57c00", 2.6, None),
    "constant": ("#f3f3f3", "#8c8c8c", 1.6, "5 3"),
    "intermediate": ("#e2eff9", "#0072b2", 1.6, None),
    "root": ("#d9f2e9", "#00795a", 3.2, None),
}


# --- text, as static/js/format.js writes it ------------------------------------------------------
def fmt_number(v) -> str:
    """One number as the page writes it: integers as they are, others with 4 significant digits."""
    if v is None:
        return "–"
    if isinstance(v, str):
        return v  # "nan", "inf", "-inf"
    if isinstance(v, bool):
        return "True" if v else "False"
    if float(v).is_integer():
        return _exponent(v).replace("e", "e+", 1).replace("e+-", "e-") if abs(v) >= 1e6 else str(int(v))
    if abs(v) < 1e-3 or abs(v) >= 1e6:
        return _exponent(v)
    rounded = float(f"{v:.4g}")
    return str(int(rounded)) if rounded.is_integer() else repr(rounded)


def _exponent(v) -> str:
    mantissa, exponent = f"{v:.2e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _short(v) -> str:
    if isinstance(v, float) and not v.is_integer():
        return "0" if abs(v) < 1e-6 else fmt_number(float(f"{v:.3g}"))
    return fmt_number(v)


def _nested(data) -> str:
    return f"[{', '.join(_nested(d) for d in data)}]" if isinstance(data, list) else fmt_number(data)


def shape_text(value) -> str:
    return f"[{', '.join(map(str, value.shape))}]" if value.shape else "scalar"


def inline_value(value, max_chars: int = 30) -> str:
    if value is None:
        return ""
    if not value.truncated and value.numel <= 16 and value.data is not None:
        text = _nested(value.data)
        if len(text) <= max_chars:
            return text
    return f"min {_short(value.min)} max {_short(value.max)} mean {_short(value.mean)}"


def _width(text: str, size: float, mono: bool = False, bold: bool = False) -> float:
    """An estimate of a text's width in DejaVu (the page measures it on a canvas; here no font is at hand)."""
    per_char = 0.61 if mono else (0.66 if bold else 0.6)
    return len(text) * size * per_char


# --- nodes ----------------------------------------------------------------------------------------
class _Box:
    __slots__ = ("id", "node", "lines", "w", "h", "rank", "order", "x", "y", "dummy")

    def __init__(self, node_id, node=None, lines=None, w=0.0, h=0.0, dummy=False):
        self.id, self.node, self.lines, self.w, self.h, self.dummy = node_id, node, lines, w, h, dummy
        self.rank = self.order = 0
        self.x = self.y = 0.0


def _box(node, has_backward: bool) -> _Box:
    if node.kind == "op":
        w = max(_MIN_OP_W, _width(node.label, 12.5, bold=True) + 2 * _PAD_X + 6)
        return _Box(node.id, node, {"title": node.label}, w, _OP_H)
    title = node.name or node.label
    meta = f"{shape_text(node.value)} {node.value.dtype}"
    value = inline_value(node.value)
    grad = f"∇ {inline_value(node.grad)}" if has_backward and node.grad is not None else None
    widths = [_width(title, 13, bold=True) + 7 + _width(meta, 10.5), _width(value, 12, mono=True),
              _width(grad, 12, mono=True) if grad else 0]
    w = max(_MIN_W, max(widths) + 2 * _PAD_X)
    h = 2 * _PAD_Y + _LINE_TITLE + _LINE_VALUE + (_LINE_VALUE if grad else 0)
    return _Box(node.id, node, {"title": title, "meta": meta, "value": value, "grad": grad}, math.ceil(w), h)


# --- layout ---------------------------------------------------------------------------------------
def _layout(boxes: dict[str, _Box], edges: list[tuple[str, str]]):
    """Ranks, order within ranks, coordinates; returns (edge polylines, width, height)."""
    succ, pred = defaultdict(list), defaultdict(list)
    for s, t in edges:
        succ[s].append(t)
        pred[t].append(s)
    for node_id in _topological(list(boxes), succ, pred):  # longest path from the inputs
        boxes[node_id].rank = max((boxes[p].rank + 1 for p in pred[node_id]), default=0)
    for node_id, box in boxes.items():  # an input sits just above its first use (a layer's weight too)
        if not pred[node_id] and succ[node_id]:
            box.rank = min(boxes[t].rank for t in succ[node_id]) - 1
    # Long edges pass through one bend point per rank they cross.
    chains, layer_edges = [], []
    for s, t in edges:
        chain = [s]
        for rank in range(boxes[s].rank + 1, boxes[t].rank):
            dummy = _Box(f"~{len(boxes)}", w=2, h=0, dummy=True)
            dummy.rank = rank
            boxes[dummy.id] = dummy
            chain.append(dummy.id)
        chain.append(t)
        chains.append(chain)
        layer_edges.extend(zip(chain, chain[1:]))
    up, down = defaultdict(list), defaultdict(list)
    for s, t in layer_edges:
        down[s].append(t)
        up[t].append(s)
    ranks: list[list[_Box]] = [[] for _ in range(1 + max((b.rank for b in boxes.values()), default=0))]
    for box in boxes.values():
        ranks[box.rank].append(box)
    _order(ranks, boxes, up, down)
    width = _place_x(ranks, boxes, up, down)
    y = _MARGIN
    for rank in ranks:
        tallest = max((b.h for b in rank), default=0)
        for box in rank:
            box.y = y + tallest / 2
        y += tallest + _RANK_GAP
    polylines = [[(boxes[i].x, boxes[i].y) for i in chain] for chain in chains]
    return polylines, width, y - _RANK_GAP + _MARGIN


def _topological(ids: list[str], succ, pred) -> list[str]:
    waiting = {i: len(pred[i]) for i in ids}
    ready = [i for i in ids if waiting[i] == 0]
    ordered = []
    while ready:
        node_id = ready.pop()
        ordered.append(node_id)
        for t in succ[node_id]:
            waiting[t] -= 1
            if waiting[t] == 0:
                ready.append(t)
    seen = set(ordered)
    return ordered + [i for i in ids if i not in seen]  # a cycle cannot happen; never drop a node


def _order(ranks, boxes, up, down) -> None:
    for rank in ranks:
        for i, box in enumerate(rank):
            box.order = i
    for sweep in range(_SWEEPS):
        downward = sweep % 2 == 0
        sequence = ranks[1:] if downward else ranks[-2::-1]
        neighbours = up if downward else down
        for rank in sequence:
            def barycentre(box):
                linked = neighbours[box.id]
                return sum(boxes[n].order for n in linked) / len(linked) if linked else box.order
            rank.sort(key=barycentre)
            for i, box in enumerate(rank):
                box.order = i


def _place_x(ranks, boxes, up, down) -> float:
    """Pack each rank, then pull nodes towards their neighbours' centres, keeping order and spacing."""
    for rank in ranks:
        x = _MARGIN
        for box in rank:
            box.x = x + box.w / 2
            x += box.w + (_NODE_GAP if not box.dummy else _NODE_GAP / 2)
    for sweep in range(_SWEEPS):
        sequence = ranks[1:] if sweep % 2 == 0 else ranks[-2::-1]
        for rank in sequence:
            wanted = []
            for box in rank:
                linked = up[box.id] + down[box.id]
                wanted.append(sum(boxes[n].x for n in linked) / len(linked) if linked else box.x)
            _fit(rank, wanted)
    left = min((b.x - b.w / 2 for r in ranks for b in r), default=0)
    for rank in ranks:
        for box in rank:
            box.x += _MARGIN - left
    return max((b.x + b.w / 2 for r in ranks for b in r), default=0) + _MARGIN


def _fit(rank: list[_Box], wanted: list[float]) -> None:
    """Place a rank's boxes as near `wanted` as their order and spacing allow (two passes, averaged)."""
    def gap(a, b):
        return (a.w + b.w) / 2 + (_NODE_GAP if not (a.dummy or b.dummy) else _NODE_GAP / 2)

    forward = list(wanted)
    for i in range(1, len(rank)):
        forward[i] = max(forward[i], forward[i - 1] + gap(rank[i - 1], rank[i]))
    backward = list(wanted)
    for i in range(len(rank) - 2, -1, -1):
        backward[i] = min(backward[i], backward[i + 1] - gap(rank[i], rank[i + 1]))
    placed = [(f + b) / 2 for f, b in zip(forward, backward)]
    for i in range(1, len(rank)):
        placed[i] = max(placed[i], placed[i - 1] + gap(rank[i - 1], rank[i]))
    for box, x in zip(rank, placed):
        box.x = x


# --- drawing --------------------------------------------------------------------------------------
def _path(points: list[tuple[float, float]], boxes_from, boxes_to) -> str:
    (x0, y0), (x1, y1) = points[0], points[-1]
    points = [(x0, y0 + boxes_from.h / 2), *points[1:-1], (x1, y1 - boxes_to.h / 2 - 5)]
    d = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for (ax, ay), (bx, by) in zip(points, points[1:]):
        mid = (ay + by) / 2
        d.append(f"C{ax:.1f},{mid:.1f} {bx:.1f},{mid:.1f} {bx:.1f},{by:.1f}")
    return "".join(d)


def _tooltip(node) -> str:
    if node.kind == "op":
        parts = [node.source or node.label]
        if node.module:
            parts.append(f"module {node.module} ({node.module_class})")
        if node.stack:
            parts.append(" > ".join(node.stack))
        if node.grad_fn:
            parts.append(node.grad_fn)
    else:
        parts = [node.name or node.label, node.role]
    if node.span:
        parts.append(f"line {node.span.line}")
    return " · ".join(parts)


def _draw_node(box: _Box) -> str:
    node, lines = box.node, box.lines
    x, y = box.x - box.w / 2, box.y - box.h / 2
    title = f"<title>{escape(_tooltip(node))}</title>"
    if node.kind == "op":
        return (f'<g class="node op" data-id="{node.id}">{title}'
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{box.w:.1f}" height="{box.h}" rx="{box.h / 2}" '
                f'fill="#ffffff" stroke="#555555" stroke-width="1.6"/>'
                f'<text x="{box.x:.1f}" y="{box.y + 4.5:.1f}" text-anchor="middle" font-weight="600" '
                f'font-size="12.5">{escape(lines["title"])}</text></g>')
    fill, stroke, width, dash = _ROLE_STYLE.get(node.role, _ROLE_STYLE["intermediate"])
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    tx, ty = x + _PAD_X, y + _PAD_Y + 13
    parts = [f'<g class="node tensor role-{node.role}" data-id="{node.id}">{title}',
             f'<rect x="{x:.1f}" y="{y:.1f}" width="{box.w:.1f}" height="{box.h}" rx="6" fill="{fill}" '
             f'stroke="{stroke}" stroke-width="{width}"{dash_attr}/>',
             f'<text x="{tx:.1f}" y="{ty:.1f}" font-size="13"><tspan font-weight="700">{escape(lines["title"])}'
             f'</tspan><tspan dx="7" font-size="10.5" fill="#5a5a5a">{escape(lines["meta"])}</tspan></text>',
             f'<text x="{tx:.1f}" y="{ty + _LINE_VALUE + 1:.1f}" font-size="12" font-family=\'{_MONO}\'>'
             f'{escape(lines["value"])}</text>']
    if lines["grad"]:
        parts.append(f'<text x="{tx:.1f}" y="{ty + 2 * _LINE_VALUE + 1:.1f}" font-size="12" font-weight="600" '
                     f'fill="#a8336f" font-family=\'{_MONO}\'>{escape(lines["grad"])}</text>')
    parts.append("</g>")
    return "".join(parts)


def render_svg(trace: Trace, title: str | None = None) -> str:
    """The whole graph as a standalone SVG document (text)."""
    return draw(trace, title)[0]


def draw(trace: Trace, title: str | None = None) -> tuple[str, float, float]:
    """(the SVG document, its width, its height)."""
    has_backward = bool(trace.backward)
    boxes = {node.id: _box(node, has_backward) for node in trace.nodes}
    edges = [(e.source, e.target) for e in trace.edges if e.source in boxes and e.target in boxes]
    ends = list(edges)
    polylines, width, height = _layout(boxes, edges)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="grafo-static" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family=\'{_SANS}\' role="img" '
           f'aria-label="{escape(title or "Autograd graph")}">',
           '<defs><marker id="grafo-arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" markerHeight="6" '
           'orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#8a8a8a"/></marker></defs>',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="#ffffff"/>']
    if title:
        out.append(f"<title>{escape(title)}</title>")
    out.append('<g class="edges" fill="none" stroke="#8a8a8a" stroke-width="1.4">')
    for (source, target), points in zip(ends, polylines):
        out.append(f'<path d="{_path(points, boxes[source], boxes[target])}" marker-end="url(#grafo-arrow)"/>')
    out.append("</g><g class=\"nodes\" fill=\"#1a1a1a\">")
    out.extend(_draw_node(box) for box in boxes.values() if not box.dummy)
    out.append("</g></svg>")
    return "\n".join(out), width, height
