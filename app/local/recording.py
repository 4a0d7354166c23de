"""Your own code, recorded: a script, a `with` block, a function call. It runs with your own rights.

- `record()`: `with grafo.record() as g: loss = model(x).sum(); loss.backward()`;
- `trace(fn, *args, **kwargs)`: calls `fn(*args, **kwargs)` with recording on;
- `trace_script(path, args)`: runs a script as `python path args...` would (what `python -m app open`
  and `python -m app trace --local` do).

Each gives a `Recording`: it shows itself in a notebook (the page's own view, or a static SVG where
scripts don't run) and saves itself as `.html` (the page, self-contained and offline), `.svg`, `.png`
(through a headless Chromium) or `.json` (the trace).
"""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

from app.engine.naming import name_in_frame
from app.engine.session import LOCAL_LIMITS, Session, source_of
from app.local import notebook, page, svg
from app.settings import Limits
from app.trace_model import Trace, wire_json

_MISSING = object()


class Recording:
    """A trace with the source its lines point into. `trace` is None until the `with` block ends."""

    height = 640  # pixels of the notebook view

    def __init__(self, trace: Trace | None = None, source: str = "", filename: str | None = None,
                 title: str | None = None, result=None):
        self.trace = trace
        self.source = source
        self.filename = filename
        self.title = title
        self.result = result  # what the traced function returned (`trace()` only)

    # --- formats -------------------------------------------------------------------------
    def to_json(self, indent: int | None = None) -> str:
        return wire_json(self._finished(), indent=indent)

    def payload(self) -> str:
        """What the page is given: `{"trace": ..., "source": ..., "title": ...}`."""
        return page.payload(self.to_json(), self.source, self.title)

    def to_html(self) -> str:
        """The page showing this trace, in one file that needs no server and no network."""
        return page.standalone_page(self.payload(), self.title)

    def to_svg(self) -> str:
        return svg.render_svg(self._finished(), self.title)

    def to_png(self) -> bytes:
        from app.local.png import svg_to_png

        text, width, height = svg.draw(self._finished(), self.title)
        return svg_to_png(text, width, height)

    def save(self, path: str | Path) -> Path:
        """Write `.html`, `.svg`, `.png` or `.json`, chosen by the file's suffix; returns the path."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".html", ".htm"):
            path.write_text(self.to_html(), encoding="utf-8")
        elif suffix == ".svg":
            path.write_text(self.to_svg(), encoding="utf-8")
        elif suffix == ".json":
            path.write_text(self.to_json(indent=2), encoding="utf-8")
        elif suffix == ".png":
            path.write_bytes(self.to_png())
        else:
            raise ValueError(f"cannot save as {suffix or 'a file without a suffix'}: use .html, .svg, .png or .json")
        return path

    # --- display -------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        if self.trace is None:
            return {"text/plain": repr(self)}
        static = self.to_svg()
        return {"text/html": notebook.view_html(self.payload(), static, self.height),
                "image/svg+xml": static, "text/plain": repr(self)}

    def __repr__(self) -> str:
        if self.trace is None:
            return "<grafo.Recording (recording…)>"
        stats = self.trace.stats
        where = f" of {self.title}" if self.title else ""
        return (f"<grafo.Recording{where}: {stats.ops} ops, {stats.tensors} tensors, "
                f"{stats.backward_passes} backward pass{'es' if stats.backward_passes != 1 else ''}>")

    def _finished(self) -> Trace:
        if self.trace is None:
            raise RuntimeError("nothing recorded yet: use the recording after its `with` block ends")
        return self.trace


def _annotator(explain: bool):
    if not explain:
        return None
    from app.teaching.annotate import annotate

    return annotate


class record:
    """`with record() as g:` records the torch work of the block; `g` is a `Recording`, filled in
    when the block ends (an exception in the block propagates, and nothing is recorded).

    If the block runs no backward(), Grafo runs one from `root` (a variable's name; by default the last
    named tensor that requires grad) so that gradients show, and then puts every `.grad` back as it
    was; `backward=False` skips it. `gradcheck` compares autograd with finite differences (`eps`);
    `explain` adds the chain rule at each backward step. `limits` (`app.settings.Limits`): none by default.
    """

    def __init__(self, root: str | None = None, *, backward: bool = True, gradcheck: bool = True,
                 eps: float = 1e-3, explain: bool = True, limits: Limits | None = None, title: str | None = None,
                 _filename: str | None = None, _frame=None):
        self.options = dict(root=root, backward=backward, gradcheck=gradcheck, eps=eps,
                            annotate=_annotator(explain), limits=limits or LOCAL_LIMITS)
        self.title = title
        self._filename = _filename
        self._frame = _frame
        self._session: Session | None = None
        self.recording: Recording | None = None

    def __enter__(self) -> Recording:
        frame = self._frame or sys._getframe(1)
        self._session = Session(frame, filename=self._filename, **self.options)
        self.recording = Recording(filename=self._session.filename, title=self.title)
        self._session.__enter__()
        return self.recording

    def __exit__(self, exc_type, exc, tb) -> bool:
        session, self._session = self._session, None
        session.__exit__(exc_type, exc, tb)
        if exc_type is None:
            self.recording.trace = session.trace
            self.recording.source = session.code.source
        return False

    def name(self, name: str, value, root: bool = False) -> None:
        """Name a value no variable of the block holds (a function's result); `root`: backward from it
        if the block ran none."""
        self._session.add(name, value)
        if root:
            self._session.root = name


def trace(fn, *args, **kwargs) -> Recording:
    """Call `fn(*args, **kwargs)` with recording on; the Recording's `result` is what it returned.

    Ops are placed at the lines of the file `fn` is written in (its cell, in a notebook), or at the
    caller's line when `fn` is torch's own (`nn.Sequential`). For options, use `record()` around the
    call instead."""
    caller = sys._getframe(1)
    code_file = _code_file(fn)
    name = name_in_frame(caller, fn) or getattr(fn, "__name__", None) or type(fn).__name__
    label = f"{name}(…)"
    recorder = record(title=label, _filename=code_file, _frame=caller)
    with recorder as recording:
        result = fn(*args, **kwargs)
        if _is_tensor(result):
            recorder.name(label, result, root=result.requires_grad)
    recording.result = result
    return recording


def _is_tensor(value) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


def _code_file(fn) -> str | None:
    """The file `fn`'s code is written in; None when that is torch's own code (or not Python)."""
    import torch

    target = fn
    if isinstance(fn, torch.nn.Module):
        target = type(fn).forward
    target = getattr(target, "func", target)  # functools.partial
    target = getattr(target, "__func__", target)  # bound methods
    code = getattr(target, "__code__", None)
    if code is None:
        return None
    torch_dir = str(Path(torch.__file__).parent)
    return None if code.co_filename.startswith(torch_dir) else code.co_filename


def trace_script(path: str | Path, args: list[str] | tuple[str, ...] = (), root: str | None = None,
                 gradcheck: bool = True, eps: float = 1e-3, explain: bool = True,
                 limits: Limits | None = None) -> Recording:
    """Run a Python script as `python path *args` would (argv, its folder first on sys.path,
    `__name__ == "__main__"`, `__file__`, its real file name in tracebacks) and record it.

    Raises `app.errors.ProgramError` if the script fails; its `__context__` is the script's own exception.
    Like the server, Grafo seeds torch, random and numpy with 0 before the script starts (`GRAFO_SEED`),
    and a training loop with more backward passes than it keeps in full is run a second time to record
    the last ones (as `app.engine.trace` does for every program).
    """
    from app import engine
    from app.teaching.annotate import traced

    given, path = str(path), Path(path).resolve()
    source = path.read_text(encoding="utf-8")
    run = traced if explain else engine.trace
    saved = sys.argv, list(sys.path), getattr(builtins, "__file__", _MISSING)
    sys.argv = [given, *args]
    sys.path.insert(0, str(path.parent))
    # The engine runs the script in a namespace of its own; `__file__` is found in builtins instead.
    builtins.__file__ = str(path)
    try:
        result = run(source, root=root, gradcheck=gradcheck, eps=eps, limits=limits or LOCAL_LIMITS,
                     filename=str(path))
    finally:
        sys.argv, sys.path[:] = saved[0], saved[1]
        if saved[2] is _MISSING:
            del builtins.__file__
        else:
            builtins.__file__ = saved[2]
    return Recording(result, source_of(str(path)) or source, str(path), title=path.name)
