"""Checks on the raw text, before the parser sees it.

The parser is the first thing hostile text reaches, so the text is bounded and cleaned first:
its size, its line count, and characters that can make code look different from what it is
(bidi overrides, zero-width characters, NUL). Identifiers must be ASCII, because Python folds
look-alike letters together (NFKC): `ｔｏｒｃｈ` would otherwise *be* `torch`. Comments and strings may
hold any Unicode: the lesson's comments are in Portuguese.
"""

from __future__ import annotations

import io
import re
import tokenize
import unicodedata

from app.errors import ProgramError
from app.settings import Limits

# Characters that reorder or hide text ("Trojan Source"), refused anywhere in a program.
_INVISIBLE = {
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\ufeff": "zero-width no-break space",
    "\u00ad": "soft hyphen",
}
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _position(source: str, index: int) -> tuple[int, int]:
    line = source.count("\n", 0, index) + 1
    col = index - (source.rfind("\n", 0, index) + 1) + 1
    return line, col


def _check_size(source: str, limits: Limits) -> None:
    try:
        size = len(source.encode("utf-8"))
    except UnicodeEncodeError as error:
        line, col = _position(source, error.start)
        raise ProgramError("syntax", "the program contains a lone surrogate character (invalid Unicode)", line, col)
    if size > limits.max_source_bytes:
        raise ProgramError(
            "limit", f"the program is {size} bytes long; the limit is {limits.max_source_bytes} bytes", None, None
        )
    lines = source.count("\n") + 1
    if lines > limits.max_lines:
        raise ProgramError("limit", f"the program has {lines} lines; the limit is {limits.max_lines}", None, None)


_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_characters(source: str) -> None:
    if source.isascii():
        match = _ASCII_CONTROL.search(source)
        if match is None:
            return
        candidates = [match.start()]
    else:
        candidates = range(len(source))
    for index in candidates:
        char = source[index]
        if char in "\n\t\r" or (" " <= char < "\x7f"):
            continue
        reason = None
        if char in _BIDI:
            reason = f"a bidirectional-text control character (U+{ord(char):04X})"
        elif char in _INVISIBLE:
            reason = f"an invisible character ({_INVISIBLE[char]}, U+{ord(char):04X})"
        elif char == "\x00":
            reason = "a NUL character"
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            reason = f"a control or unassigned character (U+{ord(char):04X})"
        if reason:
            line, col = _position(source, index)
            raise ProgramError("forbidden", f"the program contains {reason}; remove it", line, col)


def _check_identifiers(source: str) -> None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return  # the parser reports syntax errors with better messages
    for token in tokens:
        if token.type == tokenize.NAME and not token.string.isascii():
            line, col = token.start
            raise ProgramError(
                "forbidden",
                f"identifier {token.string!r} uses non-ASCII letters; names must be plain ASCII",
                line,
                col + 1,
            )
        if token.type == tokenize.ERRORTOKEN and not token.string.isspace() and not token.string.isascii():
            line, col = token.start
            raise ProgramError("forbidden", f"unexpected character {token.string!r}", line, col + 1)


def check_source(source: str, limits: Limits) -> None:
    """Refuse text the parser should never see. Raises ProgramError."""
    _check_size(source, limits)
    _check_characters(source)
    if not source.isascii():
        _check_identifiers(source)
