"""The contact-centre model: a discrete-event simulation that emits contract-v1 events.

Pure and deterministic: no I/O and no clock; the start time and the seed are passed in,
and the same inputs give the same events in the same order. Times inside are seconds
after the start (floats); emitted event times are whole milliseconds.

Routing is first come, first served: a new contact goes to the longest-idle available
agent serving its queue; a freed agent takes the contact that has waited longest in any
queue it serves. That is the M/M/N queue of Erlang C (and, with patience, Erlang A) when
arrivals are Poisson and talk times exponential.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import math
import random
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from streams.producers.keys import event_key
from streams.producers.sim.arrivals import Arrivals
from streams.producers.sim.experience import CustomerPool, outcome_fields, survey_answers
from streams.producers.sim.scenario import AgentGroup, QueueScenario, Scenario
from streams.producers.sim.sections import SelfService, TicketStream
from streams.producers.sim.tickets import TicketDesk

__all__ = ["SimEvent", "Simulation"]

#: (event time in epoch ms, Kafka key, contract-v1 event as a JSON-ready dict)
SimEvent = tuple[int, str, dict[str, Any]]


@dataclass(slots=True)
class _Visit:
    """One contact waiting in one queue."""

    contact_id: str
    queue: QueueScenario
    arrived: float
    visited: frozenset[str]
    active: bool = True
    #: the customer's number in the pool (with a `customers` section)
    customer: int | None = None
    #: an agent moved it on to another queue (the last queue's agent reports the outcome)
    transferred: bool = False


@dataclass(slots=True)
class _Agent:
    id: str
    group: AgentGroup
    queues: tuple[str, ...]
    channels: tuple[str, ...]
    state: str = "offline"
    idle_since: float = 0.0
    on_shift: bool = False
    break_due: bool = False
    leave_due: bool = False
    #: which shift the agent is on (a shift end of an earlier one is ignored)
    shift_no: int = 0
    #: the contact in hand: (visit, talk s, hold s)
    work: tuple[_Visit, float, float] | None = field(default=None)


class Simulation:
    """Run a scenario from `start` for `duration_s` (None: the scenario's; inf: forever)."""

    def __init__(
        self,
        scenario: Scenario,
        start: dt.datetime,
        seed: int | None = None,
        duration_s: float | None = None,
        run_id: str | None = None,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start needs a time zone")
        self.scenario = scenario
        self.start_ms = round(start.timestamp() * 1000)
        self.seed = scenario.seed if seed is None else seed
        self.horizon = scenario.duration if duration_s is None else duration_s
        self.run_id = run_id or f"sim{self.seed}-{self.start_ms // 1000:x}"
        self.rng = random.Random(self.seed)
        #: how many events of each type were emitted
        self.counts: Counter[str] = Counter()
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._contacts = itertools.count(1)
        self._out: list[SimEvent] = []
        self.now = 0.0
        self._queues = {q.name: q for q in scenario.queues}
        self._waiting: dict[str, deque[_Visit]] = {q.name: deque() for q in scenario.queues}
        self._available: dict[str, _Agent] = {}
        self._agents: list[_Agent] = []
        self._arrivals = {
            q.name: Arrivals(q, start.timestamp(), scenario.zone) for q in scenario.queues
        }
        for group in scenario.agents:
            channels = tuple(sorted({self._queues[q].channel for q in group.queues}))
            for i in range(1, group.count + 1):
                agent = _Agent(f"{self.run_id}-{group.name}-{i}", group, group.queues, channels)
                self._agents.append(agent)
                self._schedule_shift(agent)
        for queue in scenario.queues:
            self._schedule_arrival(queue, 0.0)
        self._start_sections(start)

    # -- the event loop -------------------------------------------------------------

    def events(self) -> Iterator[SimEvent]:
        """Every event of the run, in time order."""
        heap = self._heap
        while heap and heap[0][0] <= self.horizon:
            t, _, handler, args = heapq.heappop(heap)
            self.now = t
            handler(*args)
            if self._out:
                yield from self._out
                self._out.clear()
        if math.isfinite(self.horizon):
            self.now = self.horizon
            for agent in self._agents:
                if agent.state != "offline":
                    self._set_state(agent, "offline")
            yield from self._out
            self._out.clear()

    def _at(self, t: float, handler: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), handler, args))

    # -- emitting -------------------------------------------------------------------

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        time_ms = self.start_ms + round(self.now * 1000)
        moment = dt.datetime.fromtimestamp(time_ms / 1000, tz=dt.UTC)
        event = {
            "id": f"{self.run_id}-e{next(self._ids)}",
            "type": kind,
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "source": self.scenario.source,
            "data": data,
        }
        self.counts[kind] += 1
        self._out.append((time_ms, event_key(event), event))

    def _contact(self, kind: str, visit: _Visit, **extra: Any) -> None:
        data = {"contact_id": visit.contact_id, "queue": visit.queue.name}
        data["channel"] = visit.queue.channel
        self._emit(kind, data | extra)

    def _set_state(self, agent: _Agent, state: str) -> None:
        if agent.state == state:
            return
        agent.state = state
        if state == "available":
            agent.idle_since = self.now
            self._available[agent.id] = agent
        else:
            self._available.pop(agent.id, None)
        data = {"agent_id": agent.id, "state": state, "queues": list(agent.queues)}
        data["channels"] = list(agent.channels)
        self._emit("agent.state_changed", data)

    # -- contacts -------------------------------------------------------------------

    def _schedule_arrival(self, queue: QueueScenario, after: float) -> None:
        t = self._arrivals[queue.name].next_after(after, self.rng, self.horizon)
        if t is not None:
            self._at(t, self._arrival, queue)

    def _arrival(self, queue: QueueScenario) -> None:
        self._schedule_arrival(queue, self.now)
        self._new_contact(queue)

    def _new_contact(self, queue: QueueScenario, customer: int | None = None) -> None:
        """A new contact in `queue`, of `customer` (or one drawn from the pool, if any)."""
        if customer is None and self._pool is not None:
            customer = self._pool.pick(self._cx_rng)
        contact_id = f"{self.run_id}-c{next(self._contacts)}"
        self._enqueue(contact_id, queue, frozenset(), customer)

    def _enqueue(
        self,
        contact_id: str,
        queue: QueueScenario,
        visited: frozenset[str],
        customer: int | None = None,
    ) -> None:
        visit = _Visit(contact_id, queue, self.now, visited | {queue.name}, customer=customer)
        self._contact("contact.queued", visit)
        rng = self.rng
        if queue.patience is not None:
            self._at(self.now + queue.patience.sample(rng), self._abandon, visit)
        if queue.callback is not None and rng.random() < queue.callback.probability:
            self._at(self.now + queue.callback.offer_after_s, self._take_callback, visit)
        if queue.overflow is not None and queue.overflow.to not in visit.visited:
            self._at(self.now + queue.overflow.after_s, self._overflow, visit)
        agent = self._idle_agent_for(queue.name)
        if agent is None:
            self._waiting[queue.name].append(visit)
        else:
            self._answer(agent, visit)

    def _idle_agent_for(self, queue: str) -> _Agent | None:
        best: _Agent | None = None
        for agent in self._available.values():
            if queue in agent.queues and (best is None or agent.idle_since < best.idle_since):
                best = agent
        return best

    def _leave(self, visit: _Visit) -> bool:
        """Take a waiting visit out of its queue; False if it is no longer waiting."""
        if not visit.active:
            return False
        visit.active = False
        return True

    def _abandon(self, visit: _Visit) -> None:
        if self._leave(visit):
            self._contact("contact.abandoned", visit)

    def _take_callback(self, visit: _Visit) -> None:
        if not self._leave(visit):
            return
        self._contact("contact.callback_requested", visit)
        callback = visit.queue.callback
        if callback is not None and callback.return_after_s is not None:
            self._at(self.now + callback.return_after_s, self._callback_return, visit)

    def _callback_return(self, visit: _Visit) -> None:
        self._enqueue(f"{visit.contact_id}-cb", visit.queue, frozenset(), visit.customer)

    def _overflow(self, visit: _Visit) -> None:
        overflow = visit.queue.overflow
        if overflow is None or not self._leave(visit):
            return
        self._contact("contact.flowed_out", visit, reason="transfer")
        self._enqueue(visit.contact_id, self._queues[overflow.to], visit.visited, visit.customer)

    # -- agents ---------------------------------------------------------------------

    def _answer(self, agent: _Agent, visit: _Visit) -> None:
        visit.active = False
        queue, rng = visit.queue, self.rng
        talk = queue.talk.sample(rng)
        hold = queue.hold.sample(rng) if queue.hold is not None else 0.0
        agent.work = (visit, talk, hold)
        self._contact("contact.answered", visit, agent_id=agent.id)
        self._set_state(agent, "on_contact")
        self._at(self.now + talk + hold, self._talk_end, agent)

    def _talk_end(self, agent: _Agent) -> None:
        assert agent.work is not None
        visit, talk, hold = agent.work
        queue = visit.queue
        transfer = queue.transfer
        if (
            transfer is not None
            and transfer.to not in visit.visited
            and self.rng.random() < transfer.probability
        ):
            visit.transferred = True
            self._enqueue(
                visit.contact_id, self._queues[transfer.to], visit.visited, visit.customer
            )
        acw = queue.acw.sample(self.rng) if queue.acw is not None else 0.0
        if acw > 0:
            self._set_state(agent, "after_contact_work")
            self._at(self.now + acw, self._wrapup, agent, acw)
        else:
            self._wrapup(agent, 0.0)

    def _wrapup(self, agent: _Agent, acw: float) -> None:
        assert agent.work is not None
        visit, talk, hold = agent.work
        agent.work = None
        self._contact(
            "contact.wrapup_completed",
            visit,
            talk_s=round(talk, 3),
            hold_s=round(hold, 3),
            acw_s=round(acw, 3),
            agent_id=agent.id,
        )
        if not visit.transferred:
            self._handled(visit)
        self._next_for(agent)

    def _next_for(self, agent: _Agent) -> None:
        """A free agent: off shift, on a break due, or the longest-waiting contact."""
        if agent.leave_due or not agent.on_shift:
            agent.leave_due = False
            self._set_state(agent, "offline")
            return
        if agent.break_due:
            self._start_break(agent)
            return
        oldest: _Visit | None = None
        for name in agent.queues:
            waiting = self._waiting[name]
            while waiting and not waiting[0].active:
                waiting.popleft()
            if waiting and (oldest is None or waiting[0].arrived < oldest.arrived):
                oldest = waiting[0]
        if oldest is None:
            self._set_state(agent, "available")
        else:
            self._waiting[oldest.queue.name].popleft()
            self._answer(agent, oldest)

    # -- shifts and breaks ----------------------------------------------------------

    def _second_of_day(self, t: float) -> float:
        zone = self.scenario.zone
        moment = dt.datetime.fromtimestamp(self.start_ms / 1000 + t, tz=zone)
        return moment.hour * 3600 + moment.minute * 60 + moment.second + moment.microsecond / 1e6

    def _local(self, t: float, second_of_day: float, days: int) -> float:
        """Sim time of `second_of_day` on the local day `days` after the day of `t`."""
        zone = self.scenario.zone
        epoch = self.start_ms / 1000
        day = dt.datetime.fromtimestamp(epoch + t, tz=zone).date() + dt.timedelta(days=days)
        whole = int(second_of_day)
        clock = dt.time(whole // 3600, whole % 3600 // 60, whole % 60)
        return dt.datetime.combine(day, clock, tzinfo=zone).timestamp() - epoch

    def _next_local(self, after: float, second_of_day: float) -> float:
        """The first sim time strictly after `after` at that local time of day (DST-aware)."""
        for days in range(-1, 3):
            t = self._local(after, second_of_day, days)
            if t > after:
                return t
        raise AssertionError("unreachable")

    def _schedule_shift(self, agent: _Agent) -> None:
        shift = agent.group.shift
        if shift is None:
            self._at(0.0, self._shift_start, agent, math.inf)
            return
        end_s = (shift.start_s + shift.length_s) % 86400
        last_start = max(t for t in (self._local(0.0, shift.start_s, d) for d in (-1, 0)) if t <= 0)
        last_end = self._next_local(last_start, end_s)
        if last_end > 0:  # the run starts during a shift
            self._at(0.0, self._shift_start, agent, last_end)
        self._at(self._next_local(0.0, shift.start_s), self._shift_start, agent, None)

    def _shift_start(self, agent: _Agent, end: float | None) -> None:
        """Start a shift that ends at `end` (None: the shift's end after now; inf: never)."""
        shift = agent.group.shift
        if end is None and shift is not None:
            end = self._next_local(self.now, (shift.start_s + shift.length_s) % 86400)
            self._at(self._next_local(self.now, shift.start_s), self._shift_start, agent, None)
        agent.on_shift, agent.leave_due, agent.break_due = True, False, False
        agent.shift_no += 1
        if end is not None and math.isfinite(end):
            self._at(end, self._shift_end, agent, agent.shift_no)
        self._schedule_break(agent)
        if agent.work is None:
            self._next_for(agent)

    def _shift_end(self, agent: _Agent, shift_no: int) -> None:
        if shift_no != agent.shift_no:
            return  # a back-to-back shift has begun at this very moment
        agent.on_shift = False
        if agent.work is None:
            self._set_state(agent, "offline")
        else:
            agent.leave_due = True

    def _schedule_break(self, agent: _Agent) -> None:
        breaks = agent.group.breaks
        if breaks is not None:
            self._at(self.now + self.rng.expovariate(1 / breaks.every_s), self._break_due, agent)

    def _break_due(self, agent: _Agent) -> None:
        if not agent.on_shift or agent.state == "not_ready":
            return
        if agent.work is None:
            self._start_break(agent)
        else:
            agent.break_due = True

    def _start_break(self, agent: _Agent) -> None:
        breaks = agent.group.breaks
        agent.break_due = False
        if breaks is None:
            return
        self._set_state(agent, "not_ready")
        self._at(self.now + breaks.length.sample(self.rng), self._break_end, agent)

    def _break_end(self, agent: _Agent) -> None:
        if agent.state != "not_ready":
            return
        if agent.on_shift:
            self._schedule_break(agent)
            self._next_for(agent)
        else:
            self._set_state(agent, "offline")

    # -- tickets, surveys, self-service and customers (optional sections) -----------

    def _start_sections(self, start: dt.datetime) -> None:
        """Set up the optional sections, each with its own random source.

        Without them nothing here draws a number, so a scenario without them gives the
        same events as before they existed.
        """
        scenario, seed = self.scenario, self.seed
        customers = scenario.customers
        self._pool = CustomerPool(customers, self.run_id) if customers is not None else None
        self._cx_rng = random.Random(f"{seed}/customers")
        self._survey_rng = random.Random(f"{seed}/surveys")
        self._service_rng = random.Random(f"{seed}/self-service")
        self._sessions = itertools.count(1)
        self._services = [
            Arrivals(service, start.timestamp(), scenario.zone) for service in scenario.self_service
        ]
        for arrivals in self._services:
            self._schedule_session(arrivals, 0.0)
        if scenario.tickets:
            rng = random.Random(f"{seed}/tickets")
            zone = scenario.zone
            TicketDesk(self, scenario.tickets, rng, self.run_id, start.timestamp(), zone)

    def schedule(self, t: float, handler: Callable[..., None], *args: Any) -> None:
        """Run `handler(*args)` at sim time `t` (for the ticket desk)."""
        self._at(t, handler, *args)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Emit one event now (for the ticket desk)."""
        self._emit(kind, data)

    def ticket_customer(self, stream: TicketStream) -> dict[str, str]:
        """customer_id and customer_tier of a new ticket: from the pool, else a tier drawn."""
        if self._pool is None:
            if stream.tiers is None:
                return {}
            return {"customer_tier": self._tier(stream.tiers)}
        tier = self._tier(stream.tiers) if stream.tiers is not None else None
        number = self._pool.pick(self._cx_rng, tier)
        fields = {"customer_id": self._pool.id_of(number)}
        found = self._pool.tier_of(number)
        return fields | ({"customer_tier": found} if found is not None else {})

    def _tier(self, weights: dict[str, float]) -> str:
        (tier,) = self._cx_rng.choices(list(weights), weights=list(weights.values()))
        return tier

    def ticket_solved(self, stream: TicketStream, ticket_id: str) -> None:
        """A ticket's final solve: maybe survey answers later."""
        about = {"ticket_id": ticket_id}
        self._surveys(stream.queue, stream.channel, about, "ticket")

    def _handled(self, visit: _Visit) -> None:
        """A contact ended with an agent: its outcome, a come-back, survey answers."""
        customers = self.scenario.customers
        queue = visit.queue
        if customers is not None and self._pool is not None and visit.customer is not None:
            rng = self._cx_rng
            fields = outcome_fields(customers, rng)
            customer_id = self._pool.id_of(visit.customer)
            self._contact("contact.outcome", visit, customer_id=customer_id, **fields)
            come_back = customers.come_back
            if (
                not fields["resolved"]
                and come_back is not None
                and rng.random() < come_back.probability
            ):
                later = self.now + come_back.delay.sample(rng)
                self._at(later, self._new_contact, queue, visit.customer)
        about = {"contact_id": visit.contact_id}
        self._surveys(queue.name, queue.channel, about, "contact")

    def _surveys(self, queue: str, channel: str, about: dict[str, str], after: str) -> None:
        surveys = self.scenario.surveys
        if surveys is None:
            return
        rng = self._survey_rng
        for kind, score in survey_answers(surveys, after, rng):
            delay = surveys.delay.sample(rng) if surveys.delay is not None else 0.0
            data = {"queue": queue, "channel": channel, "kind": kind, "score": score} | about
            self._at(self.now + delay, self._emit, "survey.submitted", data)

    def _schedule_session(self, arrivals: Arrivals, after: float) -> None:
        t = arrivals.next_after(after, self._service_rng, self.horizon)
        if t is not None:
            self._at(t, self._session, arrivals)

    def _session(self, arrivals: Arrivals) -> None:
        self._schedule_session(arrivals, self.now)
        service = arrivals.queue
        assert isinstance(service, SelfService)
        session_id = f"{self.run_id}-s{next(self._sessions)}"
        self._session_stage(service, session_id, "started")
        rng = self._service_rng
        draw = rng.random()
        stage = "resolved" if draw < service.resolved else None
        if stage is None and draw < service.resolved + service.escalated:
            stage = "escalated"
        if stage is not None:
            self._at(
                self.now + service.duration.sample(rng),
                self._session_end,
                service,
                session_id,
                stage,
            )

    def _session_end(self, service: SelfService, session_id: str, stage: str) -> None:
        self._session_stage(service, session_id, stage)
        if stage == "escalated":
            self._new_contact(self._queues[service.queue])

    def _session_stage(self, service: SelfService, session_id: str, stage: str) -> None:
        queue = self._queues[service.queue]
        data = {"session_id": session_id, "queue": queue.name, "channel": queue.channel}
        self._emit("selfservice.session", data | {"stage": stage})
