"""The derived contact figures: non-response rate per window, counts derived from the
contact counters, and the live in-progress and callback figures (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from metrics.config.queues import QueueDefaults
from metrics.core.formulas import derive
from metrics.core.reads import Live, SetStats
from metrics.core.views import CONTACT_SET_QUERIES, live_contacts, snapshot_request, window_view

Q = QueueDefaults()
NOW = 1_800_000_000_000


@pytest.mark.parametrize(
    ("counters", "expected"),
    [
        ({}, None),  # no offers: no value, never 0
        ({"offers_declined_missed": 2}, None),  # declines without offers in the window
        ({"offers": 4}, 0.0),
        ({"offers": 4, "offers_declined_missed": 1}, 0.25),
        (
            {
                "offers": 8,
                "offers_declined_missed": 1,
                "offers_declined_rejected": 2,
                "offers_declined_timed_out": 3,
            },
            0.75,
        ),
    ],
)
def test_agent_non_response_rate_is_declined_over_offers(
    counters: dict[str, int], expected: float | None
) -> None:
    assert derive(counters, Q)["agent_non_response_rate"] == expected


def test_window_view_counts_directions_declines_and_wrapup_codes() -> None:
    counters = {
        "queued": 10,
        "queued_outbound": 3,
        "queued_callback": 2,
        "offers": 5,
        "offers_declined_rejected": 1,
        "offers_declined_timed_out": 1,
        "wrapup_sale": 4,
        "wrapup_other": 1,
        "wrapup_no_sale": 0,  # a code whose count went back to 0 is not listed
        "holds": 2,
    }
    view = window_view(counters, Q)
    assert view["queued_inbound"] == 5
    assert view["offers_declined"] == 2
    assert view["wrapup_codes"] == {"other": 1, "sale": 4}
    assert view["agent_non_response_rate"] == 0.4
    assert (view["holds"], view["hold_abandons"], view["transfers_in"]) == (2, 0, 0)


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        (
            {},
            {
                "contacts_in_progress": 0,
                "longest_in_progress_seconds": None,
                "callbacks_waiting": 0,
                "oldest_callback_wait_seconds": None,
            },
        ),
        (
            {
                "handling": SetStats(count=3, min_score=NOW - 95_500),
                "callbacks": SetStats(count=2, min_score=NOW - 600_000),
            },
            {
                "contacts_in_progress": 3,
                "longest_in_progress_seconds": 95.5,
                "callbacks_waiting": 2,
                "oldest_callback_wait_seconds": 600.0,
            },
        ),
        (  # an answer time a little ahead of the clock reads as 0, never negative
            {"handling": SetStats(count=1, min_score=NOW + 2_000)},
            {
                "contacts_in_progress": 1,
                "longest_in_progress_seconds": 0.0,
                "callbacks_waiting": 0,
                "oldest_callback_wait_seconds": None,
            },
        ),
    ],
)
def test_live_contacts(sets: dict[str, SetStats], expected: dict[str, Any]) -> None:
    assert live_contacts(Live(sets=sets), NOW) == expected


def test_the_snapshot_read_asks_for_the_contact_live_sets() -> None:
    request = snapshot_request(("sales", "voice"), NOW, Q)
    assert {q.name for q in request.sets} >= {q.name for q in CONTACT_SET_QUERIES}
    assert {q.name for q in CONTACT_SET_QUERIES} == {"handling", "callbacks"}
