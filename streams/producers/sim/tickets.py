"""The ticket desk of the simulation: ticket arrivals and each ticket's conversation.

Pure: it schedules its steps on the host simulation's event loop and emits through it,
so ticket events come in event-time order with everything else. See TicketStream for the
lifecycle it plays.
"""

from __future__ import annotations

import itertools
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from metrics.events import TICKET_PRIORITIES
from streams.producers.sim.arrivals import Arrivals
from streams.producers.sim.sections import TicketStream

__all__ = ["MAX_CUSTOMER_REPLIES", "TicketDesk", "TicketHost"]

#: a ticket's customer replies stop here, so that no conversation runs forever
MAX_CUSTOMER_REPLIES = 20


class TicketHost(Protocol):
    """What the desk needs of the simulation."""

    now: float
    horizon: float

    def schedule(self, t: float, handler: Callable[..., None], *args: Any) -> None: ...

    def emit(self, kind: str, data: dict[str, Any]) -> None: ...

    def ticket_customer(self, stream: TicketStream) -> dict[str, str]: ...

    def ticket_solved(self, stream: TicketStream, ticket_id: str) -> None: ...


@dataclass(slots=True)
class _Ticket:
    id: str
    stream: TicketStream
    priority: str
    status: str = "new"
    customer_replies: int = 0
    replied: bool = False


class TicketDesk:
    """All ticket streams of a scenario, drawing from their own random source."""

    def __init__(
        self,
        host: TicketHost,
        streams: tuple[TicketStream, ...],
        rng: random.Random,
        run_id: str,
        start_epoch_s: float,
        zone: zoneinfo.ZoneInfo,
    ) -> None:
        self.host = host
        self.rng = rng
        self.run_id = run_id
        self._numbers = itertools.count(1)
        self._arrivals = [Arrivals(s, start_epoch_s, zone) for s in streams]
        for arrivals in self._arrivals:
            self._schedule_arrival(arrivals, 0.0)

    def _schedule_arrival(self, arrivals: Arrivals, after: float) -> None:
        t = arrivals.next_after(after, self.rng, self.host.horizon)
        if t is not None:
            self.host.schedule(t, self._arrival, arrivals)

    def _arrival(self, arrivals: Arrivals) -> None:
        self._schedule_arrival(arrivals, self.host.now)
        stream = arrivals.queue
        assert isinstance(stream, TicketStream)
        rng = self.rng
        (priority,) = rng.choices(list(stream.priorities), weights=list(stream.priorities.values()))
        ticket = _Ticket(f"{self.run_id}-t{next(self._numbers)}", stream, priority)
        extra: dict[str, Any] = {"priority": priority} | self.host.ticket_customer(stream)
        if stream.complaint > 0 and rng.random() < stream.complaint:
            extra["tags"] = ["complaint"]
        self._emit(ticket, "ticket.created", **extra)
        self._agent_turn(ticket, stream.first_reply.sample(rng))

    def _emit(self, ticket: _Ticket, kind: str, **extra: Any) -> None:
        data = {"ticket_id": ticket.id, "queue": ticket.stream.queue}
        data["channel"] = ticket.stream.channel
        self.host.emit(kind, data | extra)

    def _status(self, ticket: _Ticket, status: str) -> None:
        if ticket.status != status:
            ticket.status = status
            self._emit(ticket, "ticket.status_changed", status=status)

    def _agent(self, ticket: _Ticket) -> str:
        number = self.rng.randrange(ticket.stream.agents) + 1
        return f"{self.run_id}-{ticket.stream.queue}-{ticket.stream.channel}-{number}"

    # -- the conversation ------------------------------------------------------------

    def _agent_turn(self, ticket: _Ticket, delay: float) -> None:
        """An agent will reply `delay` from now (maybe after a note and an on-hold spell)."""
        stream, rng, now = ticket.stream, self.rng, self.host.now
        if stream.internal_note > 0 and rng.random() < stream.internal_note:
            self.host.schedule(now + rng.random() * delay, self._note, ticket)
        hold = stream.on_hold
        if hold is not None and rng.random() < hold.probability:
            self.host.schedule(now + delay, self._hold, ticket, hold.length.sample(rng))
        else:
            self.host.schedule(now + delay, self._reply, ticket)

    def _note(self, ticket: _Ticket) -> None:
        self._emit(
            ticket, "ticket.replied", author="agent", public=False, agent_id=self._agent(ticket)
        )

    def _hold(self, ticket: _Ticket, length: float) -> None:
        self._status(ticket, "on_hold")
        self.host.schedule(self.host.now + length, self._reply, ticket)

    def _reply(self, ticket: _Ticket) -> None:
        stream, rng = ticket.stream, self.rng
        if ticket.status == "on_hold":
            self._status(ticket, "open")
        self._emit(
            ticket, "ticket.replied", author="agent", public=True, agent_id=self._agent(ticket)
        )
        if not ticket.replied:
            ticket.replied = True
            if stream.escalation > 0 and rng.random() < stream.escalation:
                self._escalate(ticket)
        self._status(ticket, "pending")
        answer = stream.customer_reply
        if (
            answer is not None
            and ticket.customer_replies < MAX_CUSTOMER_REPLIES
            and rng.random() < answer.probability
        ):
            ticket.customer_replies += 1
            self.host.schedule(self.host.now + answer.delay.sample(rng), self._customer, ticket)
        else:
            self.host.schedule(self.host.now + stream.solve.sample(rng), self._solve, ticket)

    def _escalate(self, ticket: _Ticket) -> None:
        self._emit(ticket, "ticket.escalated")
        level = TICKET_PRIORITIES.index(ticket.priority)
        if level + 1 < len(TICKET_PRIORITIES):
            ticket.priority = TICKET_PRIORITIES[level + 1]
            self._emit(ticket, "ticket.priority_changed", priority=ticket.priority)

    def _customer(self, ticket: _Ticket) -> None:
        self._emit(ticket, "ticket.replied", author="customer", public=True)
        self._status(ticket, "open")
        self._agent_turn(ticket, ticket.stream.follow_up.sample(self.rng))

    def _solve(self, ticket: _Ticket) -> None:
        stream, rng = ticket.stream, self.rng
        self._status(ticket, "solved")
        reopen = stream.reopen
        if reopen is not None and rng.random() < reopen.probability:
            self.host.schedule(self.host.now + reopen.length.sample(rng), self._reopen, ticket)
            return
        self.host.ticket_solved(stream, ticket.id)
        if stream.close_after is not None:
            self.host.schedule(self.host.now + stream.close_after.sample(rng), self._close, ticket)

    def _reopen(self, ticket: _Ticket) -> None:
        self._emit(ticket, "ticket.reopened")
        self._customer(ticket)

    def _close(self, ticket: _Ticket) -> None:
        self._status(ticket, "closed")
