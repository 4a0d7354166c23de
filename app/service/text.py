"""Text that crosses into a response or a log line: always encodable, always bounded.

A Python `str` can hold lone surrogates (`'\\ud800'`, from a JSON escape or a program's string
literal) that UTF-8 cannot encode; one of them in a response is a 500 when the response is encoded.
So everything the service echoes back (validation errors, a worker's error message, a trace's bytes)
passes through here first: surrogates become U+FFFD, long text is cut, and a 422 lists a few errors
described in a few words, whatever the body held (15,000 unknown keys make one short error, not a
1.5 MB answer built on the event loop).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

SURROGATES = re.compile("[\ud800-\udfff]")
MAX_ECHO_CHARS = 200  # any text echoed back in an error: a field's value, a message
MAX_LOC_CHARS = 64  # one part of an error's location (a field name)
MAX_VALIDATION_ERRORS = 8  # a 422 lists at most this many errors, then says how many it left out


def clean_text(value: str, limit: int | None = None) -> str:
    """`value` cut to `limit` characters (saying how many were cut), lone surrogates replaced."""
    if limit is not None and len(value) > limit:
        value = f"{value[:limit]}… ({len(value) - limit:,} more characters)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = SURROGATES.sub("\ufffd", value)
    return value


def valid_utf8(body: bytes) -> bytes:
    """JSON bytes from a worker as they are when they are UTF-8 (nearly always ASCII: no copy);
    otherwise with every invalid sequence replaced by U+FFFD, so no client ever receives them."""
    if body.isascii():
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("utf-8", "replace").encode("utf-8")
    return body


def summarize(value):
    """A short stand-in for a value the client sent, safe to encode: what it is, not all of it."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if value.bit_length() <= 64 else f"<an integer of {value.bit_length():,} bits>"
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return clean_text(value, MAX_ECHO_CHARS)
    if isinstance(value, dict):
        return f"<an object with {len(value):,} keys>"
    if isinstance(value, (list, tuple)):
        return f"<an array of {len(value):,} items>"
    return f"<{type(value).__name__}>"


def validation_detail(errors: Sequence[dict]) -> list[dict]:
    """The `detail` of a 422 (FastAPI's shape: type, loc, msg, input), bounded whatever the errors."""
    detail = [_one_error(error) for error in errors[:MAX_VALIDATION_ERRORS]]
    if len(errors) > MAX_VALIDATION_ERRORS:
        left = len(errors) - MAX_VALIDATION_ERRORS
        detail.append({"type": "too_many_errors", "loc": ["body"], "msg": f"and {left:,} more errors"})
    return detail


def _one_error(error: dict) -> dict:
    loc = [part if isinstance(part, int) and not isinstance(part, bool) else clean_text(str(part), MAX_LOC_CHARS)
           for part in list(error.get("loc") or ())[:8]]
    item = {
        "type": clean_text(str(error.get("type", "invalid")), MAX_LOC_CHARS),
        "loc": loc,
        "msg": clean_text(str(error.get("msg", "")), MAX_ECHO_CHARS),
    }
    if "input" in error:
        item["input"] = summarize(error["input"])
    return item
