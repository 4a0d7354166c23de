"""Admission control: what the service refuses before any worker sees a request, and who runs next.

The request body is capped while it streams (uvicorn has no body limit of its own, and a chunked
body announces no length), so an oversized body is refused with 413 after at most `max_body_bytes`
have been read. The number of runs in flight or waiting is capped (workers plus the queue); beyond
it a request is refused at once with 503 and `Retry-After`, instead of piling up. One client address
may have at most `max_runs_per_client` of them (429 and `Retry-After` beyond), and workers are
shared fairly between the addresses that are waiting: see `FairAdmission`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import json
from collections import Counter
from contextlib import asynccontextmanager
from typing import AsyncIterator

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class Saturated(Exception):
    """Every worker is busy and the queue is full (or nothing freed up in time)."""


class ClientBusy(Exception):
    """This client address already has as many requests running or waiting as one address may."""


def client_key(host: str | None) -> str:
    """Who a client is, for caps and fairness: its IPv4 address, or the /64 network of an IPv6
    address (one host is often given a whole /64, and could otherwise count as millions)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]  # not an address (the test client's "testclient", a unix socket)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class _Waiter:
    __slots__ = ("client", "granted", "order")

    def __init__(self, client: str, granted: asyncio.Future, order: int):
        self.client = client
        self.granted = granted
        self.order = order


class FairAdmission:
    """Admits runs and hands out the workers fairly between client addresses.

    At most `capacity` requests are admitted at once (beyond: `Saturated`, 503) and at most
    `per_client` from one address (beyond: `ClientBusy`, 429; 0 means no cap). Admitted requests wait
    for one of `slots` run slots (one per worker). A free slot goes to the waiting request whose
    address has the fewest runs going, the earliest first among equals; and no address may hold
    more than its share of the slots, `slots // addresses with requests admitted` (at least one),
    while other addresses have requests admitted. An address alone uses every worker; two greedy
    addresses on three workers get one each, and the third worker stays free for whoever comes next.
    A running program is never interrupted: an address above its share (it was alone a moment
    ago) gives slots back as its runs end. Used only from the event loop thread, so no lock.
    """

    def __init__(self, slots: int, capacity: int, per_client: int = 0):
        self.slots = slots
        self.capacity = capacity
        self.per_client = per_client
        self.in_flight = 0  # admitted: running or waiting
        self.busy = 0  # slots held
        self.admitted: Counter[str] = Counter()  # per address: running or waiting (no zero entries)
        self.running: Counter[str] = Counter()  # per address: slots held (no zero entries)
        self._waiting: list[_Waiter] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def slot(self, client: str, wait_s: float) -> AsyncIterator[None]:
        """Hold a run slot for `client`, waiting at most `wait_s` for one (then `Saturated`)."""
        if self.in_flight >= self.capacity:
            raise Saturated()
        if self.per_client and self.admitted[client] >= self.per_client:
            raise ClientBusy()
        waiter = _Waiter(client, asyncio.get_running_loop().create_future(), next(self._order))
        self.in_flight += 1
        self.admitted[client] += 1
        self._waiting.append(waiter)
        try:
            self._hand_out()
            if not waiter.granted.done():
                await asyncio.wait([waiter.granted], timeout=wait_s)
            if not waiter.granted.done():
                raise Saturated()
            yield
        finally:
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            else:  # it was granted (perhaps just as it gave up waiting): give the slot back
                self.busy -= 1
                _decrement(self.running, client)
            self.in_flight -= 1
            _decrement(self.admitted, client)
            self._hand_out()

    def _hand_out(self) -> None:
        """Give free slots to the waiting requests that may take them, the fairest first."""
        while self._waiting and self.busy < self.slots:
            share = max(1, self.slots // len(self.admitted))
            eligible = [waiter for waiter in self._waiting if self.running[waiter.client] < share]
            if not eligible:
                return
            chosen = min(eligible, key=lambda waiter: (self.running[waiter.client], waiter.order))
            self._waiting.remove(chosen)
            self.busy += 1
            self.running[chosen.client] += 1
            chosen.granted.set_result(None)


def _decrement(counter: Counter, key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class BodyLimitMiddleware:
    """ASGI middleware: read the body up to `max_bytes`, answer 413 past it, then replay it."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        if _declared_length(scope) > self.max_bytes:
            await self._refuse(scope, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left; nothing to answer
            body.extend(message.get("body", b""))
            if len(body) > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _refuse(self, scope, send) -> None:
        scope.setdefault("state", {})["error_kind"] = "limit"
        error = {
            "kind": "limit",
            "message": f"the request body is larger than the limit ({self.max_bytes} bytes)",
            "line": None,
            "col": None,
        }
        payload = json.dumps({"error": error}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                   (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _declared_length(scope) -> int:
    """The Content-Length header as a number (0 when absent; huge when unreadable, to refuse it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 1 << 62
    return 0


def _replay(body: bytes, receive):
    """A `receive` that hands the already-read body to the app once, then defers to the client."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
