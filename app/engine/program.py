"""The program itself: compiled from its text, run as `__main__`, its output kept, its errors placed.

The program is real Python: loops, functions, classes, `nn.Module`, numpy. Like a notebook cell, a
bare expression on the last line is shown. Everything it prints goes to `ProgramOutput` (bounded),
and an exception it raises becomes a `ProgramError` at the line and column of the program's own code
where it happened, however deep inside torch it was raised.
"""

from __future__ import annotations

import ast
import builtins
import io
import linecache
import sys
from contextlib import contextmanager

from app.engine.deadline import ProgramTimeout
from app.engine.sites import SiteFinder
from app.engine.source_map import SourceMap
from app.errors import ProgramError
from app.settings import Limits

_MAX_MESSAGE = 600


def clean_text(text: str) -> str:
    """Text that is valid UTF-8: a lone surrogate (`'\\ud800'`) becomes U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class ProgramOutput(io.TextIOBase):
    """What the program printed, as lines, within the output limits (stdout and stderr alike)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.lines: list[str] = []
        self._partial = ""
        self._chars = 0

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        self._chars += len(text)
        if self._chars > self.limits.max_output_chars:
            raise ProgramError("limit", f"the program printed more than {self.limits.max_output_chars:,} characters",
                               key="limit_output_chars", count=self.limits.max_output_chars)
        pieces = (self._partial + text).split("\n")
        self._partial = pieces.pop()
        self.lines.extend(clean_text(piece) for piece in pieces)
        if len(self.lines) > self.limits.max_output_lines:
            raise ProgramError("limit", f"the program printed more than {self.limits.max_output_lines:,} lines",
                               key="limit_output_lines", count=self.limits.max_output_lines)
        return len(text)

    def finish(self) -> list[str]:
        if self._partial:
            self.lines.append(clean_text(self._partial))
            self._partial = ""
        return self.lines


class Program:
    """One program's code, ready to run: the body, and the last line's bare expression, if any."""

    def __init__(self, source: str, limits: Limits, filename: str):
        check_size(source, limits)
        check_text(source)
        self.source = source
        self.filename = filename
        self.source_map = SourceMap(source)
        self.tree = parse(source, filename)
        body, self.last_expression = self.tree.body, None
        if body and isinstance(body[-1], ast.Expr):
            body, self.last_expression = body[:-1], body[-1].value
        self.body = compile(ast.Module(body=body, type_ignores=[]), filename, "exec")
        self.last = (compile(ast.Expression(body=self.last_expression), filename, "eval")
                     if self.last_expression is not None else None)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # for tracebacks, inspect

    def run(self, namespace: dict, output: ProgramOutput) -> None:
        """Run the program as `__main__` in `namespace`; show a last bare expression as a notebook does."""
        namespace.setdefault("__name__", "__main__")
        namespace.setdefault("__builtins__", builtins)
        with redirected(output):
            exec(self.body, namespace)
            if self.last is not None:
                value = eval(self.last, namespace)
                if value is not None:
                    output.write(repr(value) + "\n")


def check_text(source: str) -> None:
    """Python source is UTF-8: a lone surrogate (`\ud800`, which JSON can carry) is not a character."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as error:
        line = source.count("\n", 0, error.start) + 1
        col = error.start - (source.rfind("\n", 0, error.start) + 1) + 1
        message = "the program holds a lone surrogate (an invalid character)"
        raise ProgramError("syntax", message, line, col, key="syntax_error", detail=message) from None


def check_size(source: str, limits: Limits) -> None:
    if len(source.encode("utf-8", "surrogatepass")) > limits.max_source_bytes:
        raise ProgramError("limit", f"the program is longer than {limits.max_source_bytes:,} bytes",
                           key="limit_source_bytes", count=limits.max_source_bytes)
    if source.count("\n") + 1 > limits.max_lines:
        raise ProgramError("limit", f"the program has more than {limits.max_lines:,} lines", key="limit_lines",
                           count=limits.max_lines)


def parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename)
    except SyntaxError as error:
        # For text (not bytes) Python counts the offset in characters, as editors do.
        message = clean_text(error.msg or "invalid syntax")
        raise ProgramError("syntax", message, error.lineno, error.offset, key="syntax_error", detail=message) from None
    except ValueError as error:  # a NUL character, for example
        message = clean_text(str(error))
        raise ProgramError("syntax", message, key="syntax_error", detail=message) from None


@contextmanager
def redirected(output: ProgramOutput):
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = output
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def program_error(error: BaseException, sites: SiteFinder) -> ProgramError:
    """An exception the program raised (or torch raised for it), placed in the program's own code."""
    if isinstance(error, ProgramError) and error.line is not None:
        return error
    line, col = _place(error, sites)
    if isinstance(error, ProgramError):
        error.line, error.col = line, col
        return error
    if isinstance(error, ProgramTimeout):
        return ProgramError("timeout", "the program ran past its time limit", line, col, key="timeout_here")
    message = clean_text(str(error).split("\n")[0].strip())
    if type(error) is not RuntimeError or not message:  # torch's own errors read well as they are
        message = f"{type(error).__name__}: {message}" if message else type(error).__name__
    message = message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"
    if isinstance(error, (MemoryError, RecursionError)):
        return ProgramError("limit", message, line, col, key="limit_memory" if isinstance(error, MemoryError)
                            else "limit_recursion")
    return ProgramError(_kind(error), message, line, col)


def _kind(error: BaseException) -> str:
    if isinstance(error, NameError):
        return "name"
    if isinstance(error, TypeError):
        return "type"
    if isinstance(error, (MemoryError, RecursionError)):
        return "limit"
    return "runtime"


def _place(error: BaseException, sites: SiteFinder) -> tuple[int | None, int | None]:
    """(line, col) of the innermost traceback entry in the program's code."""
    found = None
    entry = error.__traceback__
    while entry is not None:
        if entry.tb_frame.f_code.co_filename == sites.filename:
            found = entry
        entry = entry.tb_next
    if found is None:
        return None, None
    site = sites.frame_site(found.tb_frame, found.tb_lasti)
    if site.span is not None:
        return site.span.line, site.span.col
    return found.tb_lineno, None
