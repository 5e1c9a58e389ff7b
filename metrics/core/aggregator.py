"""Apply typed events to entity states and collect pane deltas (pure).

The caller loads the states a batch touches (``missing`` then ``load``), applies the
batch, and ``drain``s one coalesced Update to flush. Contacts, tickets and customers
follow one rule (metrics.core.contribution); agents are a live count plus time in state;
surveys, self-service sessions and contact outcomes add counters without state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

from metrics.config.queues import QueueConfig, QueuesConfig
from metrics.core.agent_figures import (
    AGENT_SCOPE,
    STATE_BUSY_CHANNELS,
    TEAM_SCOPE,
    AgentContactEvent,
    contact_deltas,
    live_deltas,
    span_weights,
)
from metrics.core.agents import NO_TEAM, AgentState, Change, insert_change, split_by_pane
from metrics.core.contacts import (
    ContactRules,
    ContactState,
    Segment,
    contribution_of,
    wait_maximum,
)
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
    CallbackAttempted,
    ContactActivity,
    ContactEnded,
    ContactEvent,
    ContactHeld,
    ContactOfferDeclined,
    ContactOffered,
    ContactOutcome,
    ContactQueued,
    ContactResolution,
    ContactResumed,
    ContactTransferred,
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
#: Contact events merged into the contact's segment of their queue (metrics.core.contacts).
_CONTACT_TYPES = (
    ContactQueued,
    ContactOutcome,
    WrapupCompleted,
    ContactOffered,
    ContactOfferDeclined,
    ContactHeld,
    ContactResumed,
    ContactTransferred,
    ContactEnded,
    CallbackAttempted,
)

#: The same, as a set: checked per event.
_CONTACT_KINDS = frozenset(_CONTACT_TYPES)

#: Contact events that add to the figures of the agent they name (metrics.core.agent_figures).
_AGENT_CONTACT_TYPES = frozenset(
    {WrapupCompleted, ContactOffered, ContactOfferDeclined, ContactTransferred}
)

__all__ = ["Aggregator"]


class Aggregator:
    """The aggregation core: state caches plus the pending Update."""

    def __init__(
        self,
        queues: QueuesConfig,
        retention_ms: int = 8 * 86_400_000,
        lateness_ms: int = 0,
        agent_teams: Mapping[str, str] | None = None,
        agent_capacity: Mapping[str, tuple[tuple[str, int], ...]] | None = None,
    ) -> None:
        self.queues = queues
        #: agent id -> team, and agent id -> default capacity, from the agents directory
        self.agent_teams: Mapping[str, str] = agent_teams or {}
        self.agent_capacity: Mapping[str, tuple[tuple[str, int], ...]] = agent_capacity or {}
        self._reasons = frozenset(queues.reason_codes)
        self._teams = frozenset(queues.teams)
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
        self._configured = frozenset(self._configs)
        self._wrapup_codes = frozenset(queues.wrapup_codes)
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
            **{kind: self._apply_contact for kind in _CONTACT_TYPES},
            AgentStateChanged: self._apply_agent,
            CustomerContacted: self._apply_customer,
            SurveySubmitted: self._apply_stateless,
            SelfServiceSession: self._apply_stateless,
            ContactResolution: self._apply_stateless,
            **{kind: self._apply_ticket for kind in _TICKET_TYPES},
        }
        self.update = Update()
        #: per state kind, the ids drained in an Update since the last trim (see trim)
        self._written: dict[str, set[str]] = {kind: set() for kind in self.cache}
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
            if isinstance(event, _CONTACT_TYPES):
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
        for written in self._written.values():
            written.clear()

    def trim(self) -> int:
        """Drop the cached states no drained Update wrote since the last trim (all
        flushed, so a later event reloads them from the store); return how many.

        Keeps memory flat on a long run: the states still in use are the ones that change.
        """
        dropped = 0
        for kind, states in self.cache.items():
            written = self._written[kind]
            idle = [key for key in states if key not in written]
            for key in idle:
                del states[key]
            dropped += len(idle)
            written.clear()
        return dropped

    def cached(self) -> int:
        """How many states are cached."""
        return sum(len(states) for states in self.cache.values())

    def apply(self, event: Event) -> None:
        kind = type(event)
        self._handlers[kind](event)
        if kind in _AGENT_CONTACT_TYPES:
            self._apply_agent_contact(event)  # type: ignore[arg-type]

    def apply_all(self, events: Iterable[Event]) -> None:
        """``apply`` each event, a contact's events in one queue merged first: one
        contribution per contact visit and batch, not one per event. Merges commute and
        the other handlers only add up, so the Update is the one ``apply`` would build."""
        visits: dict[tuple[str, str], list[ContactEvent | ContactActivity]] = {}
        handlers, contact_kinds = self._handlers, _CONTACT_KINDS
        for event in events:
            kind = type(event)
            if kind in contact_kinds:
                visit = cast(ContactEvent | ContactActivity, event)
                key = (visit.contact_id, visit.queue)
                group = visits.get(key)
                if group is None:
                    visits[key] = [visit]
                else:
                    group.append(visit)
            else:
                handlers[kind](event)
            if kind in _AGENT_CONTACT_TYPES:
                self._apply_agent_contact(event)  # type: ignore[arg-type]
        for group in visits.values():
            self._apply_visit(group)

    def drain(self) -> Update:
        update, self.update = self.update, Update()
        for kind, changed in update.states.items():
            self._written[kind].update(changed)
        return update

    def contact_rules(self, queue: str) -> ContactRules:
        found = self._contact_rules.get(queue)
        if found is None:
            found = self._contact_rules[queue] = ContactRules.of(
                self.config(queue), self.bounds, self._configured, self._wrapup_codes
            )
        return found

    def _apply_contact(self, event: ContactEvent | ContactActivity) -> None:
        self._apply_visit((event,))

    def _apply_visit(self, events: Sequence[ContactEvent | ContactActivity]) -> None:
        """Merge events of one contact in one queue into its segment; apply the change."""
        first = events[0]
        contact_id, queue = first.contact_id, first.queue
        previous = self.contacts.get(contact_id)
        segments = previous.segments if previous is not None else {}
        old = segments.get(queue)
        new = old.copy() if old is not None else Segment()
        new.merge(first)
        for event in events[1:]:  # a maximum of a state in between stays (not retractable)
            between = wait_maximum(new, queue)
            if between is not None:
                self.update.add_max(*between)
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

    def _team(self, agent_id: str) -> str:
        """The agent's team from the directory, "none" if it has none or one not configured."""
        team = self.agent_teams.get(agent_id, NO_TEAM)
        return team if team in self._teams else NO_TEAM

    def _apply_agent(self, event: AgentStateChanged) -> None:
        """Insert the change at its time; re-split the time in state it lands in.

        Time in a state (and its reason and slot time) goes to the (queue, channel) pairs
        and panes of the change that began it, and to the agent's and its team's panes;
        live counts follow the latest change by event time.
        """
        agent_id = event.agent_id
        old = self.agents.get(agent_id)
        change = Change.of(event, self._team(agent_id), self.agent_capacity.get(agent_id, ()))
        resplit = insert_change(old, change, self.lateness_ms)
        if resplit is None:
            self.stale_agent_events += 1
            return
        new = resplit.state
        if new is old:
            return
        update = self.update
        sums, scoped, reasons = update.sums, update.scoped, self._reasons
        for span_change, start_ms, end_ms, sign in resplit.spans:
            per_series, per_entity = span_weights(span_change, reasons)
            if not per_entity:
                continue
            team = span_change.team
            for pane, ms in split_by_pane(start_ms, end_ms):
                delta = sign * ms
                if not delta:
                    continue
                for (queue, channel), weights in per_series:
                    target = sums[(queue, channel, pane)]
                    for name, weight in weights.items():
                        target[name] += weight * delta
                for scope, ident in ((AGENT_SCOPE, agent_id), (TEAM_SCOPE, team)):
                    target = scoped[(scope, ident, pane)]
                    for name, weight in per_entity.items():
                        target[name] += weight * delta
        was = old.latest if old is not None else None
        now = new.latest
        if was != now:
            for latest, sign in ((was, -1), (now, 1)):
                if latest is None:
                    continue
                per_series, per_team = live_deltas(latest, reasons)
                for series, fields in per_series:
                    live = update.live[series]
                    for name, amount in fields.items():
                        live[name] += sign * amount
                if per_team:
                    team_live = update.scoped_live[(TEAM_SCOPE, latest.team)]
                    for name, amount in per_team.items():
                        team_live[name] += sign * amount
        self.agents[agent_id] = new
        update.states["agent"][agent_id] = new

    def _apply_agent_contact(self, event: AgentContactEvent) -> None:
        """A contact event's share of its agent's and team's figures (stateless sums).

        A wrap-up on a channel whose busy slots come from contacts (not voice) also adds
        its handle time as busy slot time to its (queue, channel) pane.
        """
        update, pane = self.update, pane_start(event.time_ms)
        if isinstance(event, WrapupCompleted) and event.channel not in STATE_BUSY_CHANNELS:
            busy = event.talk_ms + event.hold_ms + event.acw_ms
            update.add((event.queue, event.channel, pane), "agent_busy_slots_ms", busy)
        agent_id = event.agent_id
        if agent_id is None:
            return
        deltas = [(name, amount) for name, amount in contact_deltas(event) if amount]
        for key in ((AGENT_SCOPE, agent_id, pane), (TEAM_SCOPE, self._team(agent_id), pane)):
            target = update.scoped[key]
            for name, amount in deltas:
                target[name] += amount
