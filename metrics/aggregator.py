"""Apply typed events to contact and agent state and collect pane deltas (pure).

The caller loads the states of the contacts and agents a batch touches (``missing`` then
``load``), applies the batch, and ``drain``s one coalesced Update to flush.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from metrics.agents import AgentState, split_by_pane
from metrics.contacts import ContactState, Segment, contribution_of
from metrics.contribution import apply_change
from metrics.events import AgentStateChanged, ContactEvent, Event
from metrics.queue_config import QueueConfig, QueuesConfig
from metrics.update import Update

__all__ = ["Aggregator"]


class Aggregator:
    """The aggregation core: state caches plus the pending Update."""

    def __init__(self, queues: QueuesConfig) -> None:
        self.queues = queues
        self.bounds = queues.wait_buckets_ms()
        self._configs: dict[str, QueueConfig] = {q.name: q for q in queues.queues}
        self.contacts: dict[str, ContactState | None] = {}
        self.agents: dict[str, AgentState | None] = {}
        #: state kind -> id -> cached state (None: the store has none)
        self.cache: dict[str, dict[str, Any]] = {"contact": self.contacts, "agent": self.agents}
        self.update = Update()
        #: agent events older than the agent's current state (ignored for live state)
        self.stale_agent_events = 0

    def config(self, queue: str) -> QueueConfig:
        found = self._configs.get(queue)
        if found is None:
            found = self._configs[queue] = self.queues.get(queue)
        return found

    def missing(self, events: Iterable[Event]) -> dict[str, set[str]]:
        """Ids per state kind whose state must be loaded before applying `events`."""
        wanted: dict[str, set[str]] = {kind: set() for kind in self.cache}
        contacts, agents = self.contacts, self.agents
        for event in events:
            if isinstance(event, AgentStateChanged):
                if event.agent_id not in agents:
                    wanted["agent"].add(event.agent_id)
            elif event.contact_id not in contacts:
                wanted["contact"].add(event.contact_id)
        return {kind: ids for kind, ids in wanted.items() if ids}

    def load(self, found: dict[str, dict[str, Any]]) -> None:
        for kind, states in found.items():
            self.cache[kind].update(states)

    def forget(self) -> None:
        """Drop cached states (all flushed): bounds memory and follows rebalances."""
        for states in self.cache.values():
            states.clear()

    def cached(self) -> int:
        """How many states are cached."""
        return sum(len(states) for states in self.cache.values())

    def apply(self, event: Event) -> None:
        if isinstance(event, AgentStateChanged):
            self._apply_agent(event)
        else:
            self._apply_contact(event)

    def drain(self) -> Update:
        update, self.update = self.update, Update()
        return update

    def _apply_contact(self, event: ContactEvent) -> None:
        previous = self.contacts.get(event.contact_id)
        segments = previous.segments if previous is not None else {}
        queue = event.queue
        old = segments.get(queue)
        new = old.copy() if old is not None else Segment()
        new.merge(event)
        cfg = self.config(queue)
        after = contribution_of(new, cfg, self.bounds)
        before = contribution_of(old, cfg, self.bounds) if old is not None else None
        apply_change(self.update, event.contact_id, before, after)
        # Copy on write: the published state may be serialised by a flush thread.
        state = ContactState({**segments, queue: new})
        self.contacts[event.contact_id] = state
        self.update.states["contact"][event.contact_id] = state

    def _apply_agent(self, event: AgentStateChanged) -> None:
        old = self.agents.get(event.agent_id)
        if old is not None and event.time_ms < old.since_ms:
            self.stale_agent_events += 1
            return
        new = AgentState.of(event)
        if old == new:
            return
        update = self.update
        if old is not None:
            field = old.time_field
            if field is not None:
                for pane, ms in split_by_pane(old.since_ms, event.time_ms):
                    for queue, channel in old.series():
                        update.add((queue, channel, pane), field, ms)
            if old.counted:
                for series in old.series():
                    update.live[series][f"agents_{old.state}"] -= 1
        if new.counted:
            for series in new.series():
                update.live[series][f"agents_{new.state}"] += 1
        self.agents[event.agent_id] = new
        update.states["agent"][event.agent_id] = new
