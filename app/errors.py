"""The one error type a program can cause.

Everything that goes wrong because of the program text (and not because of Grafo) is raised as a
`ProgramError`, so the CLI, the API and the browser can all show it the same way: a kind, a message,
and where in the source it happened.
"""

from __future__ import annotations

from typing import Literal

ErrorKind = Literal["syntax", "name", "type", "runtime", "limit", "timeout", "sandbox"]


class ProgramError(Exception):
    """A program could not be traced. `line` and `col` are 1-based; None when no place applies."""

    def __init__(self, kind: ErrorKind, message: str, line: int | None = None, col: int | None = None,
                 hint: str | None = None, key: str | None = None, **params):
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.line = line
        self.col = col
        self.hint = hint  # a message key (app/teaching/messages.py) explaining a common autograd error
        self.trace = None  # what the program did before the error (an app.trace_model.Trace), if anything
        self.key = key  # the message key of the words (app/teaching/messages.py), so the page can translate
        self.params = params

    def to_dict(self) -> dict:
        body = {"kind": self.kind, "message": self.message, "line": self.line, "col": self.col}
        if self.hint is not None:  # only when set, so errors without one keep their exact shape
            body["hint"] = self.hint
        if self.key is not None:
            body["key"], body["params"] = self.key, dict(self.params)
        return body

    def __repr__(self) -> str:
        return f"ProgramError({self.kind!r}, {self.message!r}, line={self.line}, col={self.col})"
