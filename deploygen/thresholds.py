"""The numbers alerts fire on and wall boards colour by, where the queues file gives none.

Service level and oldest wait are coloured by each queue's own targets (dashboards/targets.py),
and the oldest-wait page follows them too (a multiple of the queue's exported SL threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

from metrics.web.wallboard.thresholds import ABANDON_AMBER, ABANDON_RED

__all__ = [
    "ABANDON_MIN_QUEUED",
    "ABANDON_RATE_TICKET",
    "ABANDON_RATE_WARN",
    "BURN_RATE_TIERS",
    "CONSUMER_LAG_MAX",
    "DEADLETTER_RATIO_MAX",
    "ERROR_RATIO_CAP",
    "EVENT_TIME_LAG_MAX_S",
    "NO_AGENTS_FOR",
    "OLDEST_WAIT_PAGE_FACTOR",
    "OLDEST_WAIT_PAGE_S",
    "SL_WINDOW_MIN_CONTACTS",
    "TICKET_BACKLOG_AGE_S",
    "TICKET_SLA_COMPLIANCE_MIN",
    "TICKET_SLA_MIN_DECIDED",
    "BurnTier",
]

#: A contact waiting longer than this many times its queue's SL threshold T *now* pages
#: on-call (CcmonContactWaitingTooLong): the red of the wall boards (beyond 2 T,
#: metrics/web/wallboard/thresholds.py `limits`; a test keeps the two the same)...
OLDEST_WAIT_PAGE_FACTOR = 2
#: ... but never below this, which is also the limit of a queue with no SL threshold: the
#: board turns red early for a supervisor; a page wakes someone (a 20 s voice queue would
#: page at 40 s otherwise), while a slow queue (email, T = 1 h) pages at 2 T, not 120 s.
OLDEST_WAIT_PAGE_S = 120

#: Abandonment (excluding short abandons) over 30 minutes above this opens a ticket; the
#: same figures colour ccmon's built-in wall board.
ABANDON_RATE_WARN = ABANDON_AMBER
ABANDON_RATE_TICKET = ABANDON_RED

#: Volume guards: fewer contacts than this in the window never alert (quiet nights).
SL_WINDOW_MIN_CONTACTS = 10
ABANDON_MIN_QUEUED = 10

#: No agent available while contacts wait for this long pages.
NO_AGENTS_FOR = "3m"

#: Tickets: SLA compliance over 1 h below this, with at least this many decided targets.
TICKET_SLA_COMPLIANCE_MIN = 0.9
TICKET_SLA_MIN_DECIDED = 10
#: The oldest unresolved ticket older than this opens a ticket (48 h).
TICKET_BACKLOG_AGE_S = 2 * 86400

#: Pipeline health.
CONSUMER_LAG_MAX = 10_000
EVENT_TIME_LAG_MAX_S = 300
DEADLETTER_RATIO_MAX = 0.01

#: A burn-rate threshold is an error ratio; this cap keeps it reachable for low targets.
ERROR_RATIO_CAP = 0.9


@dataclass(frozen=True)
class BurnTier:
    """One multi-window burn-rate alert: both windows must burn faster than `burn`.

    The SLO period is one day (contact centres report service level per day), so the
    share of the day's error budget a tier has spent when it fires is
    burn x long window / 24 h.
    """

    name: str
    severity: str
    long: str
    short: str
    long_hours: float
    burn: float
    min_contacts: int
    for_: str

    def budget_spent(self) -> float:
        return self.burn * self.long_hours / 24


#: With an 80 % target the error ratio can reach at most 1 / (1 - 0.8) = 5x the budget
#: rate, so the SRE workbook's 14.4x and 6x could never fire; these can (see docs).
BURN_RATE_TIERS = (
    BurnTier("Fast", "page", "1h", "5m", 1, 3.0, 20, "2m"),
    BurnTier("Slow", "page", "6h", "30m", 6, 1.5, 50, "15m"),
    BurnTier("Day", "ticket", "1d", "2h", 24, 1.0, 100, "1h"),
)
