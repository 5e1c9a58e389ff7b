"""The scripted week: tickets, surveys, self-service and customer contacts (shared data).

Used by the end-to-end test (tests/e2e/test_scripted_week.py), which holds the expected
figures, and by the unit tests of the aggregator's order independence.
"""

from __future__ import annotations

from typing import Any

from metrics.config.queues import parse_queues_yaml
from streams.testing.events import (
    contact,
    outcome,
    selfservice,
    survey,
    ticket,
    wrapup,
    yesterday_ms,
)

H, M, S = 3_600_000, 60_000, 1000
DAY = 24 * H
D6 = yesterday_ms()
NOW = D6 + 17 * H
SALT = "week-test-salt-0123456789"

QUEUES = parse_queues_yaml(
    """
calendars:
  daytime:
    time_zone: UTC
    hours:
      mon-sun: "09:00-17:00"
defaults:
  fcr_horizon_s: 86400
queues:
  - name: support
    channels: [email, chat]
    ticket_calendar: daytime
    ticket_sla:
      - tier: [enterprise]
        first_reply: 1h
        resolution: 8h
        business_hours: true
      - first_reply: 4h
        resolution: 3d
  - name: sales
    channels: [voice]
    cost_per_agent_hour: 36
""",
    "week.yaml",
)


def d(day: int, hour: int, minute: int = 0) -> int:
    """Day 0..6 of the week (6 is yesterday), at hour:minute UTC."""
    return D6 - (6 - day) * DAY + hour * H + minute * M


def tk(kind: str, t: int, tid: str, **extra: Any) -> dict[str, Any]:
    return ticket(kind, t, tid, "support", "email", **extra)


def status(t: int, tid: str, value: str) -> dict[str, Any]:
    return tk("ticket.status_changed", t, tid, status=value)


def reply(t: int, tid: str, author: str = "agent", public: bool = True) -> dict[str, Any]:
    return tk("ticket.replied", t, tid, author=author, public=public)


TICKETS = [
    # T1, enterprise (business hours 09-17): first reply due 10:00, met at 09:30 (1800 s);
    # resolution due 17:00, met at 12:00 (10800 s). A complaint, created and resolved today.
    tk(
        "ticket.created",
        d(6, 9),
        "T1",
        priority="high",
        customer_tier="enterprise",
        tags=["complaint"],
    ),
    reply(d(6, 9, 10), "T1", public=False),  # an internal note: not a reply
    reply(d(6, 9, 30), "T1"),
    status(d(6, 12), "T1", "solved"),
    # T2, enterprise, created 16:30: 30 business minutes today and 30 tomorrow -> first
    # reply due d7 09:30, 16.5 h after NOW: the next breach.
    tk("ticket.created", d(6, 16, 30), "T2", customer_tier="enterprise"),
    # T3, free tier (calendar hours): first reply due 14:00, given at 15:00 (18000 s):
    # breached; its resolution target (due d9 10:00) still runs.
    tk("ticket.created", d(6, 10), "T3", priority="urgent", customer_tier="free"),
    reply(d(6, 15), "T3"),
    # T4, free tier: replied d5 11:00 (3600 s, met), pending until the customer answers
    # d6 08:00; answered 09:00 (a 3600 s response); solved 10:00 (first resolution 86400 s),
    # reopened 11:00, solved 15:00: full resolution 104400 s with 3 public replies, met.
    tk("ticket.created", d(5, 10), "T4", priority="low", customer_tier="free"),
    reply(d(5, 11), "T4"),
    status(d(5, 11), "T4", "pending"),
    reply(d(6, 8), "T4", author="customer"),
    status(d(6, 8), "T4", "open"),
    reply(d(6, 9), "T4"),
    status(d(6, 10), "T4", "solved"),
    tk("ticket.reopened", d(6, 11), "T4"),
    status(d(6, 15), "T4", "solved"),
    # T5, a complaint never answered: first reply due d0 14:00, breached now; escalated today.
    tk("ticket.created", d(0, 10), "T5", tags=["complaint"]),
    tk("ticket.escalated", d(6, 13), "T5"),
    # TB: customer B's ticket 3 h after their call c4 (a repeat on another channel);
    # first reply 3600 s (met), solved after 7200 s (met).
    tk("ticket.created", d(4, 12), "TB", customer_id="cust-B"),
    reply(d(4, 13), "TB"),
    status(d(4, 14), "TB", "solved"),
]

CSAT = [5, 5, 4, 4, 4, 3, 2, 1, 5, 4]  # 7 of 10 satisfied (4-5): 0.7
NPS = [10, 9, 9, 8, 7, 6, 0, 10, 9, 3]  # 5 promoters, 3 detractors of 10: 20
CES = [2, 3, 7]  # mean 4
SURVEYS = [
    survey(d(6, 10, i), kind, score)
    for kind, scores in (("csat", CSAT), ("nps", NPS), ("ces", CES))
    for i, score in enumerate(scores)
]

# Support chat today: 4 self-service sessions, 2 resolved, 1 escalated (k1); 2 contacts
# queued. Usage 4 / (4 + 2 - 1) = 0.8, containment 2 / 4 = 0.5.
SELF_SERVICE = [
    selfservice(d(6, 9), "s1", "started"),
    selfservice(d(6, 9, 5), "s1", "resolved"),
    selfservice(d(6, 9, 10), "s2", "started"),
    selfservice(d(6, 9, 12), "s2", "escalated"),
    selfservice(d(6, 9, 20), "s3", "started"),
    selfservice(d(6, 9, 21), "s3", "resolved"),
    selfservice(d(6, 9, 30), "s4", "started"),
    contact("contact.queued", d(6, 9, 12), "k1", "support", "chat"),
    contact("contact.answered", d(6, 9, 13), "k1", "support", "chat"),
    contact("contact.queued", d(6, 11), "k2", "support", "chat"),
    contact("contact.answered", d(6, 11, 1), "k2", "support", "chat"),
]


def sale(t: int, cid: str, resolved: bool, customer: str, **extra: Any) -> dict[str, Any]:
    return outcome(t, cid, resolved, "sales", "voice", customer_id=customer, **extra)


# FCR horizon 1 day. Customer A: c1, c2 (5 h later: c1 is not resolved at first contact,
# c2 is a repeat), c3 (3 days later: no repeat). Customer B: c4, then ticket TB 3 h later.
# Customer C: c5. Sales: 5 contacts, 3 first-contact resolutions (c2, c3, c5), 1 repeat.
CUSTOMER_CONTACTS = [
    sale(d(3, 10), "c1", True, "cust-A", upsell_offered=True, upsell_accepted=True),
    sale(d(3, 15), "c2", True, "cust-A"),
    sale(d(6, 10), "c3", True, "cust-A", upsell_offered=True, upsell_accepted=True),
    sale(d(4, 9), "c4", True, "cust-B", cross_sell_offered=True, cross_sell_accepted=True),
    sale(d(6, 16), "c5", False, "cust-C", upsell_offered=True),
    # handle times today: 300 s + 420 s; cost 36/h x 720 s / 2 contacts = 3.6
    wrapup(d(6, 10, 5), "c3", talk=240, hold=0, acw=60),
    wrapup(d(6, 16, 7), "c5", talk=360, hold=30, acw=30),
]

SCRIPT = TICKETS + SURVEYS + SELF_SERVICE + CUSTOMER_CONTACTS
