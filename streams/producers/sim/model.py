"""The contact-centre model: a discrete-event simulation that emits contract-v1 events.

Pure and deterministic: no I/O and no clock; the start time and the seed are passed in,
and the same inputs give the same events in the same order. Times inside are seconds
after the start (floats); emitted event times are whole milliseconds.

Routing is first come, first served: a new contact goes to the longest-idle available
agent serving its queue; a freed agent takes the contact that has waited longest in any
queue it serves. That is the M/M/N queue of Erlang C (and, with patience, Erlang A) when
arrivals are Poisson and talk times exponential. With a capacity above 1 an agent takes
several contacts of one channel at once (fewest in hand first); with `offers` a contact
rings at the agent first and may be declined (docs/producers.md, the agents' view).

`truth` keeps the run's totals as the simulator knows them (streams/producers/sim/truth.py),
for the tests that compare them with ccmon's figures.
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
from streams.producers.sim.floor import draw
from streams.producers.sim.scenario import AgentGroup, QueueScenario, Scenario
from streams.producers.sim.sections import SelfService, TicketStream
from streams.producers.sim.tickets import TicketDesk
from streams.producers.sim.truth import AgentSpan, GroundTruth

__all__ = ["SimEvent", "Simulation"]

#: (event time in epoch ms, Kafka key, contract-v1 event as a JSON-ready dict)
SimEvent = tuple[int, str, dict[str, Any]]


@dataclass(slots=True, eq=False)
class _Visit:
    """One contact waiting in one queue."""

    contact_id: str
    queue: QueueScenario
    arrived: float
    visited: frozenset[str]
    #: waiting in the queue (not ringing, answered or gone)
    active: bool = True
    #: the customer's number in the pool (with a `customers` section)
    customer: int | None = None
    #: an agent moved it on to another queue (the last queue's agent reports the outcome)
    transferred: bool = False
    direction: str = "inbound"
    #: the agent it rings at now, and the number of its current offer
    ringing: _Agent | None = None
    offers: int = 0
    gone: bool = False


@dataclass(slots=True, eq=False)
class _Job:
    """A contact in an agent's hands: talk and hold seconds; in wrap-up once talk ends."""

    visit: _Visit
    talk: float
    hold: float
    acw: bool = False
    #: the customer hung up during a hold
    hold_abandoned: bool = False


@dataclass(slots=True, eq=False)
class _Agent:
    id: str
    group: AgentGroup
    queues: tuple[str, ...]
    channels: tuple[str, ...]
    state: str = "offline"
    reason: str | None = None
    idle_since: float = 0.0
    on_shift: bool = False
    break_due: bool = False
    leave_due: bool = False
    #: which shift the agent is on (a shift end of an earlier one is ignored)
    shift_no: int = 0
    #: the contacts in hand (one at most unless the group has a capacity above 1)
    jobs: list[_Job] = field(default_factory=list)
    #: a contact rings at the agent
    ringing: bool = False
    #: not_ready after a missed offer (Offers.pause)
    pausing: bool = False

    @property
    def busy(self) -> bool:
        return bool(self.jobs) or self.ringing

    def free_slot(self, channel: str) -> bool:
        """Could take one more contact of `channel` alongside those in hand."""
        if not self.jobs:
            return True
        own = self.jobs[0].visit.queue.channel
        return own == channel and len(self.jobs) < self.group.slots(channel)


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
        #: draws of the floor keys (offers, holds, codes, ...), apart from the main ones
        self._floor_rng = random.Random(f"{self.seed}/floor")
        #: how many events of each type were emitted
        self.counts: Counter[str] = Counter()
        #: the run's figures as the simulator knows them (for the agreement tests)
        self.truth = GroundTruth()
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._ids = itertools.count(1)
        self._contacts = itertools.count(1)
        self._out: list[SimEvent] = []
        self.now = 0.0
        self._queues = {q.name: q for q in scenario.queues}
        self._waiting: dict[str, deque[_Visit]] = {q.name: deque() for q in scenario.queues}
        #: agents that can take a contact now (idle ones, and those with a free slot)
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
            self.truth.finish(self._now_ms())
            yield from self._out
            self._out.clear()

    def _at(self, t: float, handler: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._heap, (t, next(self._seq), handler, args))

    # -- emitting -------------------------------------------------------------------

    def _now_ms(self) -> int:
        return self.start_ms + round(self.now * 1000)

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        time_ms = self._now_ms()
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

    def _contact(self, kind: str, visit: _Visit, /, **extra: Any) -> None:
        data = {"contact_id": visit.contact_id, "queue": visit.queue.name}
        data["channel"] = visit.queue.channel
        self._emit(kind, data | extra)

    def _count(self, visit: _Visit, name: str, agent: _Agent | None = None) -> None:
        series = (visit.queue.name, visit.queue.channel)
        self.truth.add(series, name, agent=agent.id if agent is not None else None)

    def _set_state(self, agent: _Agent, state: str, reason: str | None = None) -> None:
        if agent.state == state and agent.reason == reason:
            return
        agent.state, agent.reason = state, reason
        if state != "not_ready":
            agent.pausing = False
        if state == "available":
            agent.idle_since = self.now
        self._refresh(agent)
        data: dict[str, Any] = {"agent_id": agent.id, "state": state, "queues": list(agent.queues)}
        data["channels"] = list(agent.channels)
        if reason is not None:
            data["reason"] = reason
        if agent.group.capacity is not None:
            data["capacity"] = {c: agent.group.slots(c) for c in agent.channels}
        self._emit("agent.state_changed", data)
        self._track(agent)

    def _refresh(self, agent: _Agent) -> None:
        """Keep `_available` to the agents that can take a contact now."""
        if agent.ringing:
            can = False
        elif not agent.jobs:
            can = agent.state == "available"
        else:
            channel = agent.jobs[0].visit.queue.channel
            can = (
                agent.free_slot(channel)
                and agent.on_shift
                and not (agent.break_due or agent.leave_due)
            )
        if not can:
            self._available.pop(agent.id, None)
        elif agent.id not in self._available:
            self._available[agent.id] = agent

    def _track(self, agent: _Agent) -> None:
        """Tell the ground truth what holds for the agent from now on."""
        if agent.state == "offline":
            self.truth.agent(agent.id, self._now_ms(), None)
            return
        slots = tuple((channel, agent.group.slots(channel)) for channel in agent.channels)
        series = tuple((q, c) for q in agent.queues for c in agent.channels)
        span = AgentSpan(self._now_ms(), agent.state, agent.reason, series, slots)
        self.truth.agent(agent.id, self._now_ms(), span)

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
        self._enqueue(contact_id, queue, frozenset(), customer, queue.direction)

    def _enqueue(
        self,
        contact_id: str,
        queue: QueueScenario,
        visited: frozenset[str],
        customer: int | None = None,
        direction: str = "inbound",
    ) -> None:
        visit = _Visit(contact_id, queue, self.now, visited | {queue.name}, customer=customer)
        visit.direction = direction
        self._contact("contact.queued", visit, **self._direction(visit))
        self._count(visit, "queued")
        if direction != "inbound":
            self._count(visit, f"queued_{direction}")
        rng = self.rng
        if queue.patience is not None:
            self._at(self.now + queue.patience.sample(rng), self._abandon, visit)
        if queue.callback is not None and rng.random() < queue.callback.probability:
            self._at(self.now + queue.callback.offer_after_s, self._take_callback, visit)
        if queue.overflow is not None and queue.overflow.to not in visit.visited:
            self._at(self.now + queue.overflow.after_s, self._overflow, visit)
        agent = self._agent_for(visit)
        if agent is None:
            self._waiting[queue.name].append(visit)
        else:
            self._offer(agent, visit)

    @staticmethod
    def _direction(visit: _Visit) -> dict[str, str]:
        """The direction field (left out when inbound, the contract's default)."""
        return {} if visit.direction == "inbound" else {"direction": visit.direction}

    def _agent_for(self, visit: _Visit, skip: _Agent | None = None) -> _Agent | None:
        """The agent to offer `visit` to: fewest contacts in hand, then longest idle."""
        queue, channel = visit.queue.name, visit.queue.channel
        best: _Agent | None = None
        for agent in self._available.values():
            if queue not in agent.queues or agent is skip or not agent.free_slot(channel):
                continue
            if best is None or (len(agent.jobs), agent.idle_since) < (
                len(best.jobs),
                best.idle_since,
            ):
                best = agent
        return best

    def _leave(self, visit: _Visit) -> bool:
        """Take a waiting visit out of its queue; False if it is no longer waiting."""
        if not visit.active:
            return False
        visit.active = False
        return True

    def _abandon(self, visit: _Visit) -> None:
        agent = visit.ringing
        if agent is not None:  # the customer hangs up while it rings
            visit.ringing, agent.ringing = None, False
            visit.gone = True
            self._contact("contact.abandoned", visit)
            self._count(visit, "abandoned")
            self._free(agent)
        elif self._leave(visit):
            visit.gone = True
            self._contact("contact.abandoned", visit)
            self._count(visit, "abandoned")

    def _take_callback(self, visit: _Visit) -> None:
        if not self._leave(visit):
            return
        visit.gone = True
        self._contact("contact.callback_requested", visit)
        self._count(visit, "callbacks")
        callback = visit.queue.callback
        if callback is not None and callback.return_after_s is not None:
            self._at(self.now + callback.return_after_s, self._callback_attempt, visit, 1)

    def _callback_attempt(self, visit: _Visit, attempt: int) -> None:
        """Call the customer back: connected, the callback contact is queued."""
        callback = visit.queue.callback
        assert callback is not None
        attempts = callback.attempts
        outcome = "connected" if attempts is None else attempts.outcome(self._floor_rng)
        self._contact("contact.callback_attempted", visit, outcome=outcome)
        self._count(visit, f"callback_attempts_{outcome}")
        if outcome == "connected":
            contact_id = f"{visit.contact_id}-cb"
            self._enqueue(contact_id, visit.queue, frozenset(), visit.customer, "callback")
        elif outcome == "no_answer" and attempts is not None and attempt < attempts.max_attempts:
            later = self.now + attempts.retry_after_s
            self._at(later, self._callback_attempt, visit, attempt + 1)

    def _overflow(self, visit: _Visit) -> None:
        overflow = visit.queue.overflow
        if overflow is None or not self._leave(visit):
            return
        visit.gone = True
        self._contact("contact.flowed_out", visit, reason="transfer")
        to = self._queues[overflow.to]
        self._enqueue(visit.contact_id, to, visit.visited, visit.customer, visit.direction)

    # -- offers ---------------------------------------------------------------------

    def _offer(self, agent: _Agent, visit: _Visit) -> None:
        """Present `visit` to `agent`: answered at once, or it rings (Offers)."""
        offers = visit.queue.offers
        if offers is None:
            self._answer(agent, visit)
            return
        visit.active = False
        visit.ringing, agent.ringing = agent, True
        visit.offers += 1
        if not agent.jobs:  # e.g. out of wrap-up: free, then ringing
            self._set_state(agent, "available")
        self._refresh(agent)
        self._contact("contact.offered", visit, agent_id=agent.id)
        self._count(visit, "offers", agent)
        rng = self._floor_rng
        outcome = offers.outcome(rng)
        if outcome is None:
            ring = offers.alert.sample(rng) if offers.alert is not None else 0.0
            self._at(self.now + ring, self._pickup, agent, visit, visit.offers)
        else:
            ring = offers.reject_after_s if outcome == "rejected" else offers.ring_timeout_s
            self._at(self.now + ring, self._decline, agent, visit, visit.offers, outcome)

    def _rings(self, agent: _Agent, visit: _Visit, offer: int) -> bool:
        """Is this offer of `visit` still ringing at `agent`?"""
        if visit.ringing is not agent or visit.offers != offer:
            return False
        visit.ringing, agent.ringing = None, False
        return True

    def _pickup(self, agent: _Agent, visit: _Visit, offer: int) -> None:
        if self._rings(agent, visit, offer):
            self._answer(agent, visit, offered=False)
            self._fill(agent)

    def _decline(self, agent: _Agent, visit: _Visit, offer: int, outcome: str) -> None:
        """The agent did not take it: the contact waits again, offered elsewhere first."""
        if not self._rings(agent, visit, offer):
            return
        self._contact("contact.offer_declined", visit, agent_id=agent.id, outcome=outcome)
        self._count(visit, f"offers_declined_{outcome}", agent)
        visit.active = True
        waiting = self._waiting[visit.queue.name]
        place = next((i for i, v in enumerate(waiting) if v.arrived > visit.arrived), None)
        waiting.insert(len(waiting) if place is None else place, visit)
        other = self._agent_for(visit, skip=agent)
        if other is not None:
            waiting.remove(visit)
            self._offer(other, visit)
        offers = visit.queue.offers
        assert offers is not None
        pause = offers.pause is not None and outcome != "rejected"
        if pause and not agent.jobs and agent.on_shift and not agent.leave_due:
            assert offers.pause is not None
            self._set_state(agent, "not_ready", offers.pause_reason)
            agent.pausing = True
            self._at(self.now + offers.pause.sample(self._floor_rng), self._pause_end, agent)
            return
        agent.idle_since = self.now
        self._free(agent, skip=visit)

    def _pause_end(self, agent: _Agent) -> None:
        if not agent.pausing or agent.state != "not_ready":
            return
        agent.pausing = False
        if agent.on_shift:
            self._next_for(agent)
        else:
            self._set_state(agent, "offline")

    # -- agents ---------------------------------------------------------------------

    def _answer(self, agent: _Agent, visit: _Visit, offered: bool = True) -> None:
        visit.active = False
        queue, rng = visit.queue, self.rng
        talk = queue.talk.sample(rng)
        hold = queue.hold.sample(rng) if queue.hold is not None else 0.0
        holds, abandoned = [hold] if hold > 0 else [], None
        if queue.holds is not None:
            holds, abandoned = queue.holds.plan(self._floor_rng)
        job = _Job(visit, talk, sum(holds, 0.0))
        agent.jobs.append(job)
        if offered:
            self._contact("contact.offered", visit, agent_id=agent.id)
            self._count(visit, "offers", agent)
        self._contact("contact.answered", visit, agent_id=agent.id, **self._direction(visit))
        self._count(visit, "answered")
        self._settle(agent)
        end = self.now + talk + job.hold
        if holds:
            end = self._schedule_holds(agent, job, holds, abandoned, end)
        self._at(end, self._talk_end, agent, job)

    def _schedule_holds(
        self, agent: _Agent, job: _Job, holds: list[float], abandoned: int | None, end: float
    ) -> float:
        """Holds spread evenly over the talk; the talk's end (earlier after a hold abandon)."""
        held = 0.0
        for i, length in enumerate(holds):
            at = min(self.now + job.talk * (i + 1) / (len(holds) + 1) + held, end)
            self._at(at, self._hold, job, "contact.held", agent)
            held += length
            back = min(at + length, end)
            if i == abandoned:
                job.talk = job.talk * (i + 1) / (len(holds) + 1)
                job.hold = held
                job.hold_abandoned = True
                return back
            self._at(back, self._hold, job, "contact.resumed", agent)
        return end

    def _hold(self, job: _Job, kind: str, agent: _Agent) -> None:
        self._contact(kind, job.visit, agent_id=agent.id)
        if kind == "contact.held":
            self._count(job.visit, "holds")

    def _talk_end(self, agent: _Agent, job: _Job) -> None:
        visit = job.visit
        queue = visit.queue
        transfer = queue.transfer
        if (
            transfer is not None
            and not job.hold_abandoned
            and transfer.to not in visit.visited
            and self.rng.random() < transfer.probability
        ):
            visit.transferred = True
            kinds = transfer.kinds
            kind = draw(kinds, self._floor_rng) if kinds is not None else "blind"
            self._contact(
                "contact.transferred",
                visit,
                kind=kind,
                target="queue",
                to=transfer.to,
                agent_id=agent.id,
            )
            self._count(visit, f"transfers_out_{kind}", agent)
            to = self._queues[transfer.to]
            self.truth.add((to.name, to.channel), "transfers_in")
            self.truth.add((to.name, to.channel), f"transfers_in_{kind}")
            self._enqueue(visit.contact_id, to, visit.visited, visit.customer, visit.direction)
        else:
            side = "customer"
            if job.hold_abandoned:
                self._count(visit, "hold_abandons")
            elif queue.disconnects is not None:
                side = draw(queue.disconnects, self._floor_rng)
            self._contact("contact.ended", visit, disconnected_by=side, agent_id=agent.id)
            self._count(visit, f"disconnect_{side}")
        acw = queue.acw.sample(self.rng) if queue.acw is not None else 0.0
        if acw > 0:
            job.acw = True
            self._settle(agent)
            self._at(self.now + acw, self._wrapup, agent, job, acw)
        else:
            self._wrapup(agent, job, 0.0)

    def _wrapup(self, agent: _Agent, job: _Job, acw: float) -> None:
        visit = job.visit
        agent.jobs.remove(job)
        extra: dict[str, Any] = {}
        codes = visit.queue.wrapup_codes
        if codes is not None:
            extra["wrapup_code"] = draw(codes, self._floor_rng)
            self._count(visit, f"wrapup_{extra['wrapup_code']}")
        self._contact(
            "contact.wrapup_completed",
            visit,
            talk_s=round(job.talk, 3),
            hold_s=round(job.hold, 3),
            acw_s=round(acw, 3),
            agent_id=agent.id,
            **extra,
        )
        series = (visit.queue.name, visit.queue.channel)
        talk, hold = round(job.talk, 3), round(job.hold, 3)
        self.truth.wrapup(series, agent.id, talk, hold, round(acw, 3))
        if not visit.transferred:
            self._handled(visit)
        self._free(agent)

    def _settle(self, agent: _Agent) -> None:
        """The state the contacts in hand make: on_contact while one talks, else ACW."""
        if agent.jobs:
            talking = any(not job.acw for job in agent.jobs)
            self._set_state(agent, "on_contact" if talking else "after_contact_work")
        self._refresh(agent)
        self._track(agent)

    def _free(self, agent: _Agent, skip: _Visit | None = None) -> None:
        """An agent with one contact fewer (or an offer less): the next thing to do."""
        if not agent.jobs and not agent.ringing:
            self._next_for(agent, skip)
            return
        agent.idle_since = self.now
        self._settle(agent)
        self._fill(agent)

    def _fill(self, agent: _Agent) -> None:
        """An agent with a free slot takes waiting contacts of its channel."""
        while agent.jobs and agent.id in self._available:
            visit = self._oldest_for(agent, agent.jobs[0].visit.queue.channel)
            if visit is None:
                return
            self._offer(agent, visit)

    def _oldest_for(
        self, agent: _Agent, channel: str | None = None, skip: _Visit | None = None
    ) -> _Visit | None:
        """Take the longest-waiting contact the agent serves out of its queue (or None)."""
        oldest: _Visit | None = None
        for name in agent.queues:
            waiting = self._waiting[name]
            while waiting and not waiting[0].active:
                waiting.popleft()
            if not waiting or (channel is not None and waiting[0].queue.channel != channel):
                continue
            first = next((v for v in waiting if v.active and v is not skip), None)
            if first is not None and (oldest is None or first.arrived < oldest.arrived):
                oldest = first
        if oldest is not None:
            waiting = self._waiting[oldest.queue.name]
            if waiting[0] is oldest:
                waiting.popleft()
            else:
                waiting.remove(oldest)
        return oldest

    def _next_for(self, agent: _Agent, skip: _Visit | None = None) -> None:
        """A free agent: off shift, on a break due, or the longest-waiting contact."""
        if agent.leave_due or not agent.on_shift:
            agent.leave_due = False
            self._set_state(agent, "offline")
            return
        if agent.break_due:
            self._start_break(agent)
            return
        oldest = self._oldest_for(agent, skip=skip)
        if oldest is None:
            self._set_state(agent, "available")
            self._refresh(agent)  # already available after an offer it did not take
        else:
            self._offer(agent, oldest)
            self._fill(agent)

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
        if not agent.busy and not agent.pausing:
            self._next_for(agent)

    def _shift_end(self, agent: _Agent, shift_no: int) -> None:
        if shift_no != agent.shift_no:
            return  # a back-to-back shift has begun at this very moment
        agent.on_shift = False
        if not agent.busy:
            self._set_state(agent, "offline")
        else:
            agent.leave_due = True
            self._refresh(agent)

    def _schedule_break(self, agent: _Agent) -> None:
        breaks = agent.group.breaks
        if breaks is not None:
            self._at(self.now + self.rng.expovariate(1 / breaks.every_s), self._break_due, agent)

    def _break_due(self, agent: _Agent) -> None:
        if not agent.on_shift or (agent.state == "not_ready" and not agent.pausing):
            return
        if not agent.busy and not agent.pausing:
            self._start_break(agent)
        else:
            agent.break_due = True
            self._refresh(agent)

    def _start_break(self, agent: _Agent) -> None:
        breaks = agent.group.breaks
        agent.break_due = False
        if breaks is None:
            return
        reason = draw(breaks.reasons, self._floor_rng) if breaks.reasons is not None else None
        self._set_state(agent, "not_ready", reason)
        self._at(self.now + breaks.length.sample(self.rng), self._break_end, agent)

    def _break_end(self, agent: _Agent) -> None:
        if agent.state != "not_ready" or agent.pausing:
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
