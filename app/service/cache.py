"""A small cache of successful traces, keyed by the exact request.

Tracing is deterministic (the engine seeds torch's generator from `Limits.seed`, and the limits
are fixed for the life of the server), so the same request always yields the same trace. Most
traffic is the built-in examples, the lesson first, which every visitor traces on arrival: those
are answered from memory without taking a worker from someone else's program. Only successful
traces are kept (an error may depend on load, like a timeout); the cache is bounded in bytes, and
a single trace larger than an eighth of it is never kept.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict

from app.service.models import TraceRequest


class ResultCache:
    """Least-recently-used trace bodies; used only from the event loop thread, so no lock."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()

    @staticmethod
    def key(request: TraceRequest) -> bytes:
        fields = [request.source, request.root, request.gradcheck, repr(request.eps), sorted(set(request.passes))]
        return hashlib.sha256(json.dumps(fields).encode()).digest()

    def get(self, key: bytes) -> bytes | None:
        body = self._entries.get(key)
        if body is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return body

    def put(self, key: bytes, body: bytes) -> None:
        if len(body) * 8 > self.max_bytes or key in self._entries:
            return
        self._entries[key] = body
        self.bytes += len(body)
        while self.bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= len(evicted)

    def state(self) -> dict:
        return {"entries": len(self._entries), "bytes": self.bytes, "max_bytes": self.max_bytes,
                "hits": self.hits, "misses": self.misses}
