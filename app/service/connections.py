"""Connection handling that survives slow, idle and greedy clients: uvicorn's HTTP/1.1 protocol plus
the timeouts and caps it lacks.

uvicorn (0.54, h11) has no timeout for receiving a request: `timeout_keep_alive` runs only between
requests and any byte cancels it, so a client that sends half a request head holds a connection and a
file descriptor for as long as it likes; `limit_concurrency` answers 503 only once a head is complete,
so it never sees those connections; and a response is written into the transport's buffer whether
or not the client reads it. Hypercorn has only a blanket read timeout and Granian runs a supervisor
process beside its workers; neither caps connections per address. So this subclass of uvicorn's own
h11 protocol (passed as `Config(http=...)`, its documented way to choose the protocol) adds:

- a deadline for a request's head (`header_timeout_s`, counted from the connection's start or the
  end of the previous response, whatever arrives meanwhile) and one for its whole body
  (`body_timeout_s`, counted from the end of the head);
- a deadline for a client that stops reading a response (`send_timeout_s` with the write buffer
  above its high-water mark): the connection is aborted and its buffer freed;
- caps on open connections per client address (`max_connections_per_client`, over the limit the new
  connection is closed) and in all (`max_connections`): at that cap the connection that has waited
  longest for a request head is closed to make room, those that never had an answer before those
  kept alive after one, so idle and half-open connections can delay nobody with a real request.

Each of these closes the connection without an answer (as nginx does on its header timeout) and is
logged at most once per kind per `log_interval_s`, with a count of the rest.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from uvicorn.protocols.http.h11_impl import H11Protocol

from app.service.admission import client_key
from app.service.logs import log_event
from app.settings import ServiceSettings


class ConnectionGuard:
    """What every connection of one server shares: the counts, the caps and the timeouts."""

    def __init__(self, settings: ServiceSettings, max_connections: int | None = None):
        self.header_timeout_s = settings.header_timeout_s
        self.body_timeout_s = settings.body_timeout_s
        self.send_timeout_s = settings.send_timeout_s
        self.max_connections = max_connections if max_connections is not None else settings.max_connections
        self.max_per_client = settings.max_connections_per_client
        self.open = 0
        self.per_client: Counter[str] = Counter()  # no zero entries
        # Connections waiting for a request head, oldest first (dicts keep insertion order): those
        # never answered yet (half-open ones among them) are closed before kept-alive ones.
        self.new: dict[GuardedH11Protocol, None] = {}
        self.kept_alive: dict[GuardedH11Protocol, None] = {}
        self.events: Counter[str] = Counter()

    def admit(self, connection: GuardedH11Protocol) -> bool:
        """Count a new connection in, making room if needed; False: close it at once."""
        if self.max_per_client and self.per_client[connection.client_key] >= self.max_per_client:
            self.note("refused_per_client", connection)
            return False
        if self.max_connections and self.open >= self.max_connections:
            oldest = next(iter(self.new), None) or next(iter(self.kept_alive), None)
            if oldest is None:
                self.note("refused_total", connection)
                return False
            self.note("evicted", oldest)
            oldest.close_now()
        self.open += 1
        self.per_client[connection.client_key] += 1
        return True

    def release(self, connection: GuardedH11Protocol) -> None:
        self.open -= 1
        self.per_client[connection.client_key] -= 1
        if self.per_client[connection.client_key] <= 0:
            del self.per_client[connection.client_key]
        self.stop_waiting(connection)

    def wait_for_head(self, connection: GuardedH11Protocol, answered_before: bool) -> None:
        (self.kept_alive if answered_before else self.new)[connection] = None

    def stop_waiting(self, connection: GuardedH11Protocol) -> None:
        self.new.pop(connection, None)
        self.kept_alive.pop(connection, None)

    def note(self, event: str, connection: GuardedH11Protocol) -> None:
        self.events[event] += 1
        log_event(f"connection_{event}", limited=True, client=connection.client_key, open=self.open,
                  total=self.events[event])


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the guard's timeouts and caps (see the module's docstring)."""

    guard: ConnectionGuard  # set on the subclass `protocol_class` makes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.client_key = client_key(self.client[0] if self.client else None)
        self._phase: str | None = None
        self._read_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._answered = False
        self._counted = self.guard.admit(self)
        if not self._counted:
            transport.abort()
            return
        self._follow_phase()

    def connection_lost(self, exc: Exception | None) -> None:
        self._forget()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow_phase()

    def on_response_complete(self) -> None:
        self._answered = True
        super().on_response_complete()
        self._follow_phase()

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._counted and self._send_timer is None:
            self._send_timer = self.loop.call_later(self.guard.send_timeout_s, self._expire, "send_timeout")

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def close_now(self) -> None:
        """Close at once, discarding anything buffered (the guard has already let go of it)."""
        self._forget()
        self.transport.abort()

    # -- phases and timers ----------------------------------------------------------------------

    def _current_phase(self) -> str:
        """head: waiting for a request's head; body: for the rest of its body; app: answering."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return "head"
        if cycle.more_body and not cycle.response_started:
            return "body"
        return "app"

    def _follow_phase(self) -> None:
        """Start the deadline of the phase the connection has just entered (and only then)."""
        if not self._counted:
            return
        phase = self._current_phase()
        if phase == self._phase:
            return
        self._phase = phase
        if self._read_timer is not None:
            self._read_timer.cancel()
            self._read_timer = None
        if phase == "head":
            self.guard.wait_for_head(self, self._answered)
            self._read_timer = self.loop.call_later(self.guard.header_timeout_s, self._expire, "header_timeout")
            return
        self.guard.stop_waiting(self)
        if phase == "body":
            self._read_timer = self.loop.call_later(self.guard.body_timeout_s, self._expire, "body_timeout")

    def _expire(self, event: str) -> None:
        if event == "send_timeout":
            self._send_timer = None
        else:
            self._read_timer = None
        if not self._counted or self.transport.is_closing():
            return
        self.guard.note(event, self)
        self.close_now()

    def _forget(self) -> None:
        """Stop the timers and leave the guard's counts (once)."""
        for timer in (self._read_timer, self._send_timer):
            if timer is not None:
                timer.cancel()
        self._read_timer = self._send_timer = None
        if self._counted:
            self._counted = False
            self.guard.release(self)


def protocol_class(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """The protocol class to give uvicorn (`Config(http=...)`), bound to one server's guard."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})
