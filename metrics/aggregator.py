"""Apply typed events to contact and agent state and collect pane deltas (pure).

The caller loads the states of the contacts and agents a batch touches (``missing`` then
``load``), applies the batch, and ``drain``s one coalesced Update to flush.
"""

from __future__ import annotations

from collections.abc import Iterable

from metrics.agents import AgentState, split_by_pane
from metrics.contacts import ContactState, Segment, contribution_of
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
        self.update = Update()
        #: agent events older than the agent's current state (ignored for live state)
        self.stale_agent_events = 0

    def config(self, queue: str) -> QueueConfig:
        found = self._configs.get(queue)
        if found is None:
            found = self._configs[queue] = self.queues.get(queue)
        return found

    def missing(self, events: Iterable[Event]) -> tuple[set[str], set[str]]:
        """Contact and agent ids whose state must be loaded before applying `events`."""
        contacts: set[str] = set()
        agents: set[str] = set()
        for event in events:
            if isinstance(event, AgentStateChanged):
                if event.agent_id not in self.agents:
                    agents.add(event.agent_id)
            elif event.contact_id not in self.contacts:
                contacts.add(event.contact_id)
        return contacts, agents

    def load(
        self,
        contacts: dict[str, ContactState | None],
        agents: dict[str, AgentState | None],
    ) -> None:
        self.contacts.update(contacts)
        self.agents.update(agents)

    def forget(self) -> None:
        """Drop cached states (all flushed): bounds memory and follows rebalances."""
        self.contacts.clear()
        self.agents.clear()

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
        sums, update = self.update.sums, self.update
        for (channel, pane), fields in after.sums.items():
            was = before.sums.get((channel, pane)) if before is not None else None
            target = sums[(queue, channel, pane)]
            for name, amount in fields.items():
                delta = amount - was.get(name, 0) if was else amount
                if delta:
                    target[name] += delta
        if before is not None:
            for (channel, pane), fields in before.sums.items():
                now = after.sums.get((channel, pane))
                for name, amount in fields.items():
                    if now is None or name not in now:
                        sums[(queue, channel, pane)][name] -= amount
        for (channel, pane), values in after.maxes.items():
            for name, value in values.items():
                update.add_max((queue, channel, pane), name, value)
        waiting_before = before.waiting if before is not None else None
        if waiting_before != after.waiting:
            if waiting_before is not None:
                update.waiting[(queue, waiting_before[0])][event.contact_id] = None
            if after.waiting is not None:
                update.waiting[(queue, after.waiting[0])][event.contact_id] = after.waiting[1]
        # Copy on write: the published state may be serialised by a flush thread.
        state = ContactState({**segments, queue: new})
        self.contacts[event.contact_id] = state
        update.contacts[event.contact_id] = state

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
        update.agents[event.agent_id] = new
