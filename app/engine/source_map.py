"""Where things are in the program text: spans and short source snippets for AST nodes.

Python's AST counts columns in UTF-8 bytes; people (and editors) count characters. A comment in
Portuguese before an expression on the same line would otherwise shift every column.
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

    def place(self, node: ast.AST) -> tuple[int | None, int | None]:
        """1-based (line, col) of a node's start."""
        line = getattr(node, "lineno", None)
        if line is None:
            return None, None
        return line, self.char_col(line, node.col_offset)

    def span(self, node: ast.AST | None) -> Span | None:
        if node is None or getattr(node, "lineno", None) is None:
            return None
        end_line = node.end_lineno or node.lineno
        end_col = node.end_col_offset if node.end_col_offset is not None else node.col_offset
        return Span(
            line=node.lineno,
            col=self.char_col(node.lineno, node.col_offset),
            end_line=end_line,
            end_col=self.char_col(end_line, end_col),
        )

    def text(self, node: ast.AST | None, limit: int = 40) -> str | None:
        """The node's source, on one line, shortened to `limit` characters."""
        if node is None or getattr(node, "end_lineno", None) is None:
            return None
        first, last = node.lineno - 1, node.end_lineno - 1
        if last >= len(self._encoded):
            return None
        if first == last:
            raw = self._encoded[first][node.col_offset:node.end_col_offset]
        else:
            parts = [self._encoded[first][node.col_offset:], *self._encoded[first + 1:last],
                     self._encoded[last][:node.end_col_offset]]
            raw = b"\n".join(parts)
        segment = " ".join(raw.decode("utf-8", errors="replace").split())
        return segment if len(segment) <= limit else segment[: limit - 1] + "…"
