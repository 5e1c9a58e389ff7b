"""A queue's ticket rules: its SLA policies with calendars resolved, from the queues config."""

from __future__ import annotations

from dataclasses import dataclass

from metrics.config.calendars import CalendarConfig
from metrics.config.queues import QueuesConfig
from metrics.config.tickets import FirstReplyFrom, SlaPolicyConfig
from metrics.core.business_hours import ALWAYS_OPEN, BusinessCalendar
from metrics.core.ticket_sla import SlaPolicy

__all__ = ["TicketRules", "business_calendar", "sla_policy", "ticket_rules"]


@dataclass(frozen=True, slots=True)
class TicketRules:
    """What a queue's ticket contributions depend on, resolved from the config."""

    policies: tuple[SlaPolicy, ...] = ()
    first_reply_from: FirstReplyFrom = FirstReplyFrom.CREATED


def business_calendar(config: CalendarConfig) -> BusinessCalendar:
    """The calendar a `calendars:` entry describes."""
    return BusinessCalendar(config.time_zone, config.week, frozenset(config.holidays))


def sla_policy(config: SlaPolicyConfig, calendar: BusinessCalendar | None) -> SlaPolicy:
    """One configured policy, on `calendar` when it counts business hours (else 24/7)."""

    def ms(seconds: float | None) -> int | None:
        return None if seconds is None else round(seconds * 1000)

    return SlaPolicy(
        first_reply_ms=ms(config.first_reply),
        resolution_ms=ms(config.resolution),
        calendar=calendar if config.business_hours and calendar else ALWAYS_OPEN,
        priorities=frozenset(config.priority),
        tiers=frozenset(config.tier),
        pause_statuses=frozenset(config.pause),
    )


def ticket_rules(config: QueuesConfig, queue: str) -> TicketRules:
    """The SLA policies (calendars resolved) and first-reply start of one queue."""
    settings = config.get(queue)
    found = config.calendars.get(settings.ticket_calendar or "")
    calendar = business_calendar(found) if found is not None else None
    return TicketRules(
        tuple(sla_policy(p, calendar) for p in settings.ticket_sla),
        settings.ticket_first_reply_from,
    )
