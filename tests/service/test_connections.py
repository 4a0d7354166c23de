"""The connection guard's bookkeeping, without sockets (the real thing is in
tests/security/test_service_hardening.py): caps, and whom it closes to make room."""

from __future__ import annotations

from app.service.connections import ConnectionGuard
from app.settings import ServiceSettings


class _Connection:
    """What the guard needs of a connection: an address key and a way to close it."""

    def __init__(self, guard: ConnectionGuard, key: str):
        self.guard = guard
        self.client_key = key
        self.closed = False

    def close_now(self) -> None:
        self.closed = True
        self.guard.release(self)


def _open(guard: ConnectionGuard, key: str, answered_before: bool | None = False) -> _Connection | None:
    connection = _Connection(guard, key)
    if not guard.admit(connection):
        return None
    if answered_before is not None:  # None: busy with a request, not waiting for a head
        guard.wait_for_head(connection, answered_before)
    return connection


def test_caps_per_address_and_in_all():
    guard = ConnectionGuard(ServiceSettings(max_connections_per_client=2), max_connections=3)
    first, second = _open(guard, "a"), _open(guard, "a")
    assert _open(guard, "a") is None  # a third from "a": refused
    third = _open(guard, "b")
    assert guard.open == 3 and dict(guard.per_client) == {"a": 2, "b": 1}
    fourth = _open(guard, "c")  # at the cap in all: the oldest waiting connection makes room
    assert first.closed and not (second.closed or third.closed or fourth.closed)
    assert guard.open == 3 and dict(guard.per_client) == {"a": 1, "b": 1, "c": 1}
    assert guard.events == {"refused_per_client": 1, "evicted": 1}


def test_new_connections_make_room_before_kept_alive_ones_and_busy_ones_never_do():
    guard = ConnectionGuard(ServiceSettings(max_connections_per_client=0), max_connections=3)
    kept_alive = _open(guard, "a", answered_before=True)  # the oldest, but it has had an answer
    busy = _open(guard, "b", answered_before=None)
    half_open = _open(guard, "c")
    _open(guard, "d")
    assert half_open.closed and not kept_alive.closed
    _open(guard, "e")  # "d" is new too, and waits: it goes next
    assert not kept_alive.closed
    guard.release(busy)  # "busy" answered; the cap has room again
    _open(guard, "f")
    _open(guard, "g")  # now only kept-alive and new ones wait: new first ("e", then "f")
    assert not kept_alive.closed
    assert guard.open == 3


def test_nothing_waits_then_a_new_connection_is_refused():
    guard = ConnectionGuard(ServiceSettings(), max_connections=1)
    busy = _open(guard, "a", answered_before=None)
    assert _open(guard, "b") is None and not busy.closed
    assert guard.events == {"refused_total": 1}
