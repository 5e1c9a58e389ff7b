"""window_view made in one pass: the same figures, in the same order, as the definition
(each count, the derived contact counts, then derive, tickets and CX), for any counters."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.config.queues import QueueDefaults, SlFormula
from metrics.core.experience import derive_experience
from metrics.core.formulas import DECLINED_FIELDS, derive
from metrics.core.ticket_fields import TICKET_SUM_FIELDS, derive_tickets
from metrics.core.views import (
    COUNT_FIELDS,
    CX_COUNT_FIELDS,
    TICKET_COUNT_FIELDS,
    window_view,
    window_view_into,
)
from metrics.fields import MAX_FIELDS, SUM_FIELDS, WRAPUP_PREFIX

Q = QueueDefaults()
KNOWN = (*SUM_FIELDS, *MAX_FIELDS, *TICKET_SUM_FIELDS, *CX_COUNT_FIELDS)
NAMES = (*KNOWN, "wrapup_sale", "wrapup_no_sale", "wrapup_b", "wait_answered_le_5000", "odd")


def by_definition(counters: dict[str, int], queue: QueueDefaults, fcr: str) -> dict[str, Any]:
    """The window figures as first written: one dict per part, merged."""
    get = counters.get
    view: dict[str, Any] = {name: get(name, 0) for name in COUNT_FIELDS}
    codes = sorted(n for n in counters if n.startswith(WRAPUP_PREFIX) and counters[n])
    view["offers_declined"] = sum(get(name, 0) for name in DECLINED_FIELDS)
    view["queued_inbound"] = (
        get("queued", 0) - get("queued_outbound", 0) - get("queued_callback", 0)
    )
    view["wrapup_codes"] = {name[len(WRAPUP_PREFIX) :]: counters[name] for name in codes}
    view.update(derive(counters, queue))
    tickets = {name: get(name, 0) for name in TICKET_COUNT_FIELDS}
    view["tickets"] = tickets | derive_tickets(counters)
    cx = {name: get(name, 0) for name in CX_COUNT_FIELDS}
    view["cx"] = cx | derive_experience(counters, queue) | {"fcr_status": fcr}
    return view


@settings(max_examples=300, deadline=None)
@given(
    counters=st.dictionaries(st.sampled_from(NAMES), st.integers(-5, 10**9)),
    queue=st.sampled_from(
        (Q, QueueDefaults(cost_per_agent_hour=42.5, sl_formula=SlFormula.ANSWERED_ONLY))
    ),
    fcr=st.sampled_from(("provisional", "final")),
)
def test_the_same_figures_in_the_same_order_as_by_definition(
    counters: dict[str, int], queue: QueueDefaults, fcr: str
) -> None:
    expected = orjson.dumps(by_definition(counters, queue, fcr))
    assert orjson.dumps(window_view(counters, queue, fcr)) == expected


def test_a_window_without_tickets_shows_the_figures_of_no_tickets() -> None:
    view = window_view({"queued": 3, "answered": 2, "talk_ms": 90_000, "handled": 2}, Q)
    assert view["tickets"] == dict.fromkeys(TICKET_COUNT_FIELDS, 0) | {
        "first_response_time_seconds": None,
        "response_time_seconds": None,
        "resolution_time_seconds": None,
        "first_resolution_time_seconds": None,
        "resolution_rate": None,
        "reopen_rate": None,
        "interactions_per_ticket": None,
        "sla_met": 0.0,
        "sla_breached": 0.0,
        "sla_compliance": None,
    }
    assert (view["answer_rate"], view["avg_talk_seconds"]) == (2 / 3, 45.0)


def test_a_ticket_duration_alone_still_derives_the_ticket_figures() -> None:
    view = window_view({"ticket_first_response_sum_ms": 9_000}, Q)
    assert view["tickets"]["first_response_time_seconds"] is None  # no count: no average
    two = window_view({"ticket_first_response_sum_ms": 9_000, "ticket_first_response_count": 2}, Q)
    assert two["tickets"]["first_response_time_seconds"] == 4.5
    assert two["tickets"]["ticket_first_response_count"] == 2


def test_the_ticket_figures_read_ticket_counters_only() -> None:
    """What lets a window with no ticket counter skip derive_tickets."""
    everything_else = dict.fromkeys((*SUM_FIELDS, *MAX_FIELDS, *CX_COUNT_FIELDS), 7)
    for name in TICKET_SUM_FIELDS:
        everything_else.pop(name, None)
    assert derive_tickets(everything_else) == derive_tickets({})


def test_no_known_counter_reads_as_a_wrapup_code() -> None:
    assert [name for name in KNOWN if name.startswith(WRAPUP_PREFIX)] == []


def test_an_interval_row_keeps_its_bounds_first() -> None:
    row = window_view_into({"start_ms": 0, "end_ms": 1_800_000}, {"queued": 4}, Q, "final")
    assert list(row)[:3] == ["start_ms", "end_ms", COUNT_FIELDS[0]]
    assert (row["queued"], row["cx"]["fcr_status"]) == (4, "final")
    assert row == {"start_ms": 0, "end_ms": 1_800_000} | window_view({"queued": 4}, Q, "final")
