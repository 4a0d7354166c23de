"""Where things are in the program text: spans and short source snippets.

Python counts columns in UTF-8 bytes (in the AST and in `co_positions`); people and editors count
characters. A comment in Portuguese before an expression on the same line would otherwise shift
every column, so every position is converted here, in one place.
"""

from __future__ import annotations

import ast

from app.trace_model import Span


class SourceMap:
    def __init__(self, source: str):
        self.source = source
        self._lines = source.splitlines()
        self._encoded = [line.encode("utf-8") for line in self._lines]

    def char_col(self, line: int, byte_col: int) -> int:
        """The 1-based character column of a 0-based UTF-8 byte offset on `line`."""
        if 1 <= line <= len(self._encoded):
            return len(self._encoded[line - 1][:byte_col].decode("utf-8", errors="replace")) + 1
        return byte_col + 1

    def line_text(self, line: int) -> str | None:
        return self._lines[line - 1] if 1 <= line <= len(self._lines) else None

    def span_of(self, line: int, byte_col: int, end_line: int, end_byte_col: int) -> Span:
        """A span from Python's 1-based lines and 0-based byte columns."""
        return Span(line=line, col=self.char_col(line, byte_col), end_line=end_line,
                    end_col=self.char_col(end_line, end_byte_col))

    def text_of(self, line: int, byte_col: int, end_line: int, end_byte_col: int, limit: int = 80) -> str | None:
        """The source between two positions, on one line, shortened to `limit` characters."""
        first, last = line - 1, end_line - 1
        if not 0 <= first <= last < len(self._encoded):
            return None
        if first == last:
            raw = self._encoded[first][byte_col:end_byte_col]
        else:
            parts = [self._encoded[first][byte_col:], *self._encoded[first + 1:last],
                     self._encoded[last][:end_byte_col]]
            raw = b"\n".join(parts)
        segment = " ".join(raw.decode("utf-8", errors="replace").split())
        return segment if len(segment) <= limit else segment[: limit - 1] + "…"

    def node_span(self, node: ast.AST) -> Span | None:
        if getattr(node, "lineno", None) is None:
            return None
        end_line = node.end_lineno or node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return self.span_of(node.lineno, node.col_offset, end_line, end_col)

    def node_text(self, node: ast.AST, limit: int = 80) -> str | None:
        if getattr(node, "end_lineno", None) is None:
            return None
        return self.text_of(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset, limit)
