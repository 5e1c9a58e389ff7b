"""Apply typed events to entity states and collect pane deltas (pure).

The caller loads the states a batch touches (``missing`` then ``load``), applies the
batch, and ``drain``s one coalesced Update to flush. Contacts, tickets and customers
follow one rule (metrics.core.contribution); agents are a live count plus time in state;
surveys, self-service sessions and contact outcomes add counters without state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.agents import AgentState, Change, insert_change, split_by_pane
from metrics.core.contacts import ContactRules, ContactState, Segment, contribution_of
from metrics.core.contribution import apply_change
from metrics.core.customers import CustomerContact, CustomerState, prune_pair
from metrics.core.experience import experience_deltas
from metrics.core.fcr import FcrRule, customer_contribution, longest_horizon_ms
from metrics.core.panes import pane_start
from metrics.core.ticket_rules import TicketRules, ticket_rules
from metrics.core.tickets import TicketState, ticket_contribution_of
from metrics.core.update import Update
from metrics.events import (
    AgentStateChanged,
    ContactEvent,
    ContactOutcome,
    ContactQueued,
    ContactResolution,
    CustomerContacted,
    Event,
    SelfServiceSession,
    SurveySubmitted,
    TicketCreated,
    TicketEscalated,
    TicketEvent,
    TicketPriorityChanged,
    TicketReopened,
    TicketReplied,
    TicketStatusChanged,
    WrapupCompleted,
)

_TICKET_TYPES = (
    TicketCreated,
    TicketReplied,
    TicketStatusChanged,
    TicketReopened,
    TicketEscalated,
    TicketPriorityChanged,
)

__all__ = ["Aggregator"]


class Aggregator:
    """The aggregation core: state caches plus the pending Update."""

    def __init__(
        self, queues: QueuesConfig, retention_ms: int = 8 * 86_400_000, lateness_ms: int = 0
    ) -> None:
        self.queues = queues
        self.bounds = queues.wait_buckets_ms()
        #: how far behind the newest event admission still takes events (retention plus
        #: lateness): customer contacts older than newest - horizon - this change no count
        self.retention_ms = retention_ms
        #: how far back each agent's history reaches behind its newest change (the worker
        #: passes CCMON_LATENESS_S): a later-arriving change within it is re-split, not stale;
        #: 0 keeps only the current state
        self.lateness_ms = lateness_ms
        self.horizon_ms = longest_horizon_ms(queues)
        self._configs: dict[str, QueueConfig] = {q.name: q for q in queues.queues}
        self._contact_rules: dict[str, ContactRules] = {}
        self._ticket_rules: dict[str, TicketRules] = {}
        self._fcr_rules: dict[str, FcrRule] = {}
        self.contacts: dict[str, ContactState | None] = {}
        self.agents: dict[str, AgentState | None] = {}
        self.tickets: dict[str, TicketState | None] = {}
        self.customers: dict[str, CustomerState | None] = {}
        #: state kind -> id -> cached state (None: the store has none)
        self.cache: dict[str, dict[str, Any]] = {
            "contact": self.contacts,
            "agent": self.agents,
            "ticket": self.tickets,
            "customer": self.customers,
        }
        self._handlers: dict[type, Callable[[Any], None]] = {
            ContactQueued: self._apply_contact,
            ContactOutcome: self._apply_contact,
            WrapupCompleted: self._apply_contact,
            AgentStateChanged: self._apply_agent,
            CustomerContacted: self._apply_customer,
            SurveySubmitted: self._apply_stateless,
            SelfServiceSession: self._apply_stateless,
            ContactResolution: self._apply_stateless,
            **{kind: self._apply_ticket for kind in _TICKET_TYPES},
        }
        self.update = Update()
        #: agent events older than the agent's whole history (ignored: see metrics.core.agents)
        self.stale_agent_events = 0
        #: customer contacts dropped because a customer had more than the cap
        self.customer_contacts_over_cap = 0

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
            if isinstance(event, ContactQueued | ContactOutcome | WrapupCompleted):
                if event.contact_id not in contacts:
                    wanted["contact"].add(event.contact_id)
            elif isinstance(event, AgentStateChanged):
                if event.agent_id not in agents:
                    wanted["agent"].add(event.agent_id)
            elif isinstance(event, _TICKET_TYPES):
                if event.ticket_id not in self.tickets:
                    wanted["ticket"].add(event.ticket_id)
            elif isinstance(event, CustomerContacted) and event.customer not in self.customers:
                wanted["customer"].add(event.customer)
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
        self._handlers[type(event)](event)

    def drain(self) -> Update:
        update, self.update = self.update, Update()
        return update

    def contact_rules(self, queue: str) -> ContactRules:
        found = self._contact_rules.get(queue)
        if found is None:
            found = self._contact_rules[queue] = ContactRules.of(self.config(queue), self.bounds)
        return found

    def _apply_contact(self, event: ContactEvent) -> None:
        contact_id, queue = event.contact_id, event.queue
        previous = self.contacts.get(contact_id)
        segments = previous.segments if previous is not None else {}
        old = segments.get(queue)
        new = old.copy() if old is not None else Segment()
        new.merge(event)
        rules = self._contact_rules.get(queue) or self.contact_rules(queue)
        after = contribution_of(new, rules)
        before = contribution_of(old, rules) if old is not None else None
        update = self.update
        apply_change(update, contact_id, before, after)
        # Copy on write: the published state may be serialised by a flush thread.
        state = ContactState({**segments, queue: new})
        self.contacts[contact_id] = state
        update.states["contact"][contact_id] = state

    def _apply_ticket(self, event: TicketEvent) -> None:
        old = self.tickets.get(event.ticket_id)
        new = old.copy() if old is not None else TicketState()
        new.merge(event)
        if new.created is not None:  # its queue is the one ticket.created names
            rules = self.ticket_rules(new.created[2])
            after = ticket_contribution_of(new, rules)
            before = ticket_contribution_of(old, rules) if old is not None else None
            apply_change(self.update, event.ticket_id, before, after)
        self.tickets[event.ticket_id] = new
        self.update.states["ticket"][event.ticket_id] = new

    def ticket_rules(self, queue: str) -> TicketRules:
        found = self._ticket_rules.get(queue)
        if found is None:
            found = self._ticket_rules[queue] = ticket_rules(self.queues, queue)
        return found

    def _fcr_rule(self, queue: str) -> FcrRule:
        found = self._fcr_rules.get(queue)
        if found is None:
            found = self._fcr_rules[queue] = FcrRule.of(self.config(queue))
        return found

    def _apply_customer(self, event: CustomerContacted) -> None:
        old = self.customers.get(event.customer)
        grown = old.copy() if old is not None else CustomerState()
        contact = CustomerContact(event.time_ms, event.queue, event.channel, event.resolved)
        grown.add(event.contact, contact)
        before, new, over_cap = prune_pair(old, grown, self.horizon_ms, self.retention_ms)
        self.customer_contacts_over_cap += over_cap
        after = customer_contribution(new, rule_of=self._fcr_rule)
        was = customer_contribution(before, rule_of=self._fcr_rule) if old is not None else None
        apply_change(self.update, event.customer, was, after)
        self.customers[event.customer] = new
        self.update.states["customer"][event.customer] = new

    def _apply_stateless(
        self, event: SurveySubmitted | SelfServiceSession | ContactResolution
    ) -> None:
        target = self.update.sums[(event.queue, event.channel, pane_start(event.time_ms))]
        for name, amount in experience_deltas(event).items():
            target[name] += amount

    def _apply_agent(self, event: AgentStateChanged) -> None:
        """Insert the change at its time; re-split the time in state it lands in.

        Time in a state goes to the (queue, channel) pairs and panes of the change that
        began it; live counts follow the latest change by event time.
        """
        old = self.agents.get(event.agent_id)
        resplit = insert_change(old, Change.of(event), self.lateness_ms)
        if resplit is None:
            self.stale_agent_events += 1
            return
        new = resplit.state
        if new is old:
            return
        update = self.update
        sums = update.sums
        for change, start_ms, end_ms, sign in resplit.spans:
            field = change.time_field
            if field is not None:
                pairs = tuple(change.series())
                for pane, ms in split_by_pane(start_ms, end_ms):
                    delta = sign * ms
                    if delta:
                        for queue, channel in pairs:
                            sums[(queue, channel, pane)][field] += delta
        was = old.latest if old is not None else None
        now = new.latest
        if was != now:
            if was is not None and was.counted:
                for series in was.series():
                    update.live[series][f"agents_{was.state}"] -= 1
            if now.counted:
                for series in now.series():
                    update.live[series][f"agents_{now.state}"] += 1
        self.agents[event.agent_id] = new
        update.states["agent"][event.agent_id] = new
