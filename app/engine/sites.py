"""Where the program is right now: the innermost frame running the program's own code.

Every recorded op asks this module for its *site*: the exact source span of the expression that
caused it (Python 3.11's `co_positions`, so `x * w` inside `y = x * w + b` has its own span), that
expression's text, and the chain of the program's functions that led there (`train > Net.forward`).
An op that runs inside torch's own Python code (`nn.Linear.forward` calling `F.linear`) is placed at
the program line that called into torch, which is where a person would look for it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from app.engine.source_map import SourceMap
from app.trace_model import Span

PROGRAM_FILENAME = "<grafo>"

# Functions of torch's that build modules: ops they run set parameters up; they are not the program's
# computation, and recording them would fill the graph with `empty` and `kaiming_uniform_` nodes.
_SET_UP_FUNCTIONS = frozenset({"__init__", "reset_parameters", "_reset_parameters", "_init_weights"})


@dataclass(frozen=True)
class Site:
    """One place in the program: a span, its text, and the program's call stack at that moment."""

    span: Span | None
    text: str | None
    stack: tuple[str, ...] = ()
    key: tuple = ()  # (id(frame), f_lasti): the same key means the same call instruction, right now
    calls: tuple[int, ...] = ()  # one number per `stack` entry: the same number, the same call


class SiteFinder:
    """Finds the program's innermost frame and turns its current instruction into a `Site`."""

    def __init__(self, source_map: SourceMap, filename: str = PROGRAM_FILENAME):
        self.source_map = source_map
        self.filename = filename
        self._positions: dict[object, list] = {}
        self._places: dict[tuple, tuple[Span | None, str | None]] = {}
        # The program's frames on the stack at the last look, with their call numbers. Holding the
        # frames keeps their ids from being reused by a later call while they are remembered.
        self._live: dict[int, tuple[object, int]] = {}
        self._calls_made = 0

    def program_frame(self, start=None):
        """The innermost frame of the program's code, or None (Grafo's own work, the warm-up)."""
        frame = start or sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            frame = frame.f_back
        return frame

    def in_module_set_up(self) -> bool:
        """True while torch's own code between here and the program is building a module."""
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename != self.filename:
            code = frame.f_code
            if code.co_name in _SET_UP_FUNCTIONS and "torch" in code.co_filename:
                return True
            frame = frame.f_back
        return False

    def current(self) -> Site | None:
        frame = self.program_frame(sys._getframe(1))
        if frame is None:
            return None
        span, text = self._place(frame.f_code, frame.f_lasti)
        stack, calls = self._stack(frame)
        return Site(span=span, text=text, stack=stack, key=(id(frame), frame.f_lasti), calls=calls)

    def frame_site(self, frame, lasti: int | None = None) -> Site:
        """The site of a given program frame (a traceback entry, a frame the tracer kept)."""
        span, text = self._place(frame.f_code, frame.f_lasti if lasti is None else lasti)
        stack, calls = self._stack(frame)
        return Site(span=span, text=text, stack=stack, calls=calls)

    def code_span(self, code) -> Span | None:
        """The line a function of the program starts on (its `def`), or None for anyone else's code."""
        if getattr(code, "co_filename", None) != self.filename:
            return None
        line = code.co_firstlineno
        while (self.source_map.line_text(line) or "").lstrip().startswith("@"):  # decorators come first
            line += 1
        text = self.source_map.line_text(line) or ""
        return Span(line=line, col=len(text) - len(text.lstrip()) + 1, end_line=line, end_col=len(text) + 1)

    def _place(self, code, lasti: int) -> tuple[Span | None, str | None]:
        key = (code, lasti)
        place = self._places.get(key)
        if place is None:
            place = self._places[key] = self._compute_place(code, lasti)
        return place

    def _compute_place(self, code, lasti: int) -> tuple[Span | None, str | None]:
        positions = self._positions.get(code)
        if positions is None:
            positions = self._positions[code] = list(code.co_positions())
        index = lasti // 2
        if not 0 <= index < len(positions):
            return None, None
        line, end_line, col, end_col = positions[index]
        if line is None or col is None:
            return (Span(line=line, col=1, end_line=line, end_col=1) if line else None), None
        end_line = end_line or line
        end_col = end_col if end_col is not None else col
        return self.source_map.span_of(line, col, end_line, end_col), self.source_map.text_of(line, col, end_line, end_col)

    def _stack(self, frame) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The program's own functions from the outermost call to `frame` (module level omitted), and
        each one's call number: a frame seen at the last look keeps its number, a new one gets the next."""
        frames = []
        while frame is not None:
            code = frame.f_code
            if code.co_filename == self.filename and code.co_name != "<module>":
                frames.append(frame)
            frame = frame.f_back
        frames.reverse()
        live = {}
        for each in frames:
            known = self._live.get(id(each))
            if known is None or known[0] is not each:
                self._calls_made += 1
                known = (each, self._calls_made)
            live[id(each)] = known
        self._live = live
        return tuple(each.f_code.co_qualname for each in frames), tuple(live[id(each)][1] for each in frames)

    def forget_frames(self) -> None:
        """Let go of the frames remembered (the run is over: their locals can be freed)."""
        self._live = {}
