"""What the simulator knows happened: whole-run totals under the pane fields' names.

Per (queue, channel), and per agent (the figures ccmon keeps per agent for its API:
handled, talk / hold / ACW, offers and declines, transfers out, time per state and per
reason, slot time).

The agreement tests compare these with what ccmon's pipeline computes from the same
events (tests/statistical/test_floor_agreement.py). Counts are per (queue, channel) as
the contract attributes them; agent time is attributed, as ccmon does, to every
(queue, channel) pair of the agent's queues and channels, in whole milliseconds of the
emitted event times. Reason and wrap-up codes are kept as emitted (`none` for a
not-ready without a reason); a test maps them onto its queues file's bounded sets.

Slots (occupancy with concurrency = busy slot-time / staffed slot-time, as ccmon
defines it): while an agent is available, on a contact or in after-contact work, each of
its (queue, channel) pairs has `capacity(channel)` staffed slots (1 unless the scenario
gives a capacity). Voice slots are busy while the agent is on a contact or in ACW (the
agent's state says so); a digital contact keeps one slot of its own (queue, channel)
busy for its handle time (talk + hold + ACW, as its wrap-up reports it). Without
capacities that is today's occupancy: (on contact + ACW) / (those + available).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from metrics.fields import AGENT_TIME_FIELD

__all__ = ["AgentSpan", "GroundTruth"]

Series = tuple[str, str]
_STAFFED = frozenset({"available", "on_contact", "after_contact_work"})
_BUSY = frozenset({"on_contact", "after_contact_work"})
#: Channels whose busy slots follow the agent's state (one contact at a time).
STATE_BUSY_CHANNELS = frozenset({"voice"})


@dataclass(frozen=True, slots=True)
class AgentSpan:
    """What holds for an agent from `since_ms` until its next change."""

    since_ms: int
    state: str
    reason: str | None
    series: tuple[Series, ...]
    #: channel -> staffed slots
    slots: tuple[tuple[str, int], ...]


@dataclass
class GroundTruth:
    """Totals per (queue, channel) and per agent, by pane-field name."""

    counts: defaultdict[Series, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    #: agent id -> the agent's own totals
    agents: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    _spans: dict[str, AgentSpan] = field(default_factory=dict)

    def add(self, series: Series, name: str, n: int = 1, agent: str | None = None) -> None:
        """Count `n` under `name` for `series` (and for `agent`, when it is the agent's)."""
        self.counts[series][name] += n
        if agent is not None:
            self.agents[agent][name] += n

    def wrapup(
        self, series: Series, agent: str, talk_s: float, hold_s: float, acw_s: float
    ) -> None:
        """A wrap-up as reported: handled, its times, a digital contact's busy slot time."""
        self.add(series, "handled", agent=agent)
        ms = [round(s * 1000) for s in (talk_s, hold_s, acw_s)]
        for name, value in zip(("talk_ms", "hold_ms", "acw_ms"), ms, strict=True):
            self.add(series, name, value, agent)
        if series[1] not in STATE_BUSY_CHANNELS:
            self.add(series, "agent_busy_slots_ms", sum(ms), agent)

    def agent(self, agent_id: str, now_ms: int, span: AgentSpan | None) -> None:
        """The agent's span so far ends at `now_ms`; `span` (None: offline) starts."""
        last = self._spans.pop(agent_id, None)
        if last is not None:
            self._close(agent_id, last, now_ms - last.since_ms)
        if span is not None:
            self._spans[agent_id] = span

    def _close(self, agent_id: str, span: AgentSpan, ms: int) -> None:
        if ms <= 0:
            return
        time_field = AGENT_TIME_FIELD.get(span.state)
        slots = dict(span.slots)
        own = self.agents[agent_id]
        if time_field is not None:
            own[time_field] += ms
        if span.state == "not_ready":
            own[f"agent_reason_ms_{span.reason or 'none'}"] += ms
        if span.state in _STAFFED:
            own["agent_slots_ms"] += sum(slots.values()) * ms
        if span.state in _BUSY:
            voice = sum(n for c, n in slots.items() if c in STATE_BUSY_CHANNELS)
            own["agent_busy_slots_ms"] += voice * ms
        for series in span.series:
            counts = self.counts[series]
            if time_field is not None:
                counts[time_field] += ms
            if span.state == "not_ready":
                counts[f"agent_reason_ms_{span.reason or 'none'}"] += ms
            if span.state in _STAFFED:
                counts["agent_slots_ms"] += slots[series[1]] * ms
            if span.state in _BUSY and series[1] in STATE_BUSY_CHANNELS:
                counts["agent_busy_slots_ms"] += slots[series[1]] * ms

    def finish(self, now_ms: int) -> None:
        """Close every open span at `now_ms` (the end of a finite run)."""
        for agent_id in list(self._spans):
            self.agent(agent_id, now_ms, None)

    def totals(self) -> dict[Series, dict[str, int]]:
        """The non-zero totals per (queue, channel)."""
        return {s: {k: v for k, v in c.items() if v} for s, c in self.counts.items()}

    def agent_totals(self) -> dict[str, dict[str, int]]:
        """The non-zero totals per agent."""
        return {a: {k: v for k, v in c.items() if v} for a, c in self.agents.items()}
