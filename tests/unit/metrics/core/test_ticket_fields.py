"""Derived ticket metrics, backlog age buckets and histogram field names."""

from __future__ import annotations

import pytest

from metrics.core.ticket_fields import (
    BACKLOG_AGE_BUCKETS,
    TICKET_DERIVED,
    backlog_age_bucket,
    backlog_by_age,
    derive_tickets,
    parse_ticket_hist_field,
    ticket_hist_field,
)

M, H, D = 60_000, 3_600_000, 86_400_000

WINDOW = {
    "tickets_created": 40,
    "tickets_solved": 30,
    "tickets_reopened": 3,
    "ticket_first_response_count": 20,
    "ticket_first_response_sum_ms": 20 * 45 * M,
    "ticket_response_count": 50,
    "ticket_response_sum_ms": 50 * 12 * M,
    "ticket_first_resolution_count": 25,
    "ticket_first_resolution_sum_ms": 25 * 3 * H,
    "ticket_full_resolution_count": 24,
    "ticket_full_resolution_sum_ms": 24 * 4 * H,
    "ticket_solved_public_replies": 96,
    "ticket_sla_first_reply_met": 18,
    "ticket_sla_first_reply_breached": 2,
    "ticket_sla_resolution_met": 20,
    "ticket_sla_resolution_breached": 10,
}


@pytest.mark.parametrize(
    ("counters", "metric", "expected"),
    [
        (WINDOW, "first_response_time_seconds", 2_700.0),
        (WINDOW, "response_time_seconds", 720.0),
        (WINDOW, "first_resolution_time_seconds", 10_800.0),
        (WINDOW, "resolution_time_seconds", 14_400.0),
        (WINDOW, "resolution_rate", 0.75),
        (WINDOW, "reopen_rate", 0.1),
        (WINDOW, "interactions_per_ticket", 4.0),
        (WINDOW, "sla_met", 38.0),
        (WINDOW, "sla_breached", 12.0),
        (WINDOW, "sla_compliance", 0.76),
        # Empty denominators give no value, never 0.
        ({}, "first_response_time_seconds", None),
        ({}, "response_time_seconds", None),
        ({}, "resolution_time_seconds", None),
        ({}, "first_resolution_time_seconds", None),
        ({"tickets_solved": 2}, "resolution_rate", None),
        ({"tickets_reopened": 1}, "reopen_rate", None),
        ({"ticket_solved_public_replies": 3}, "interactions_per_ticket", None),
        ({}, "sla_compliance", None),
        ({}, "sla_met", 0.0),
        # All breached is a real 0.
        ({"ticket_sla_resolution_breached": 4}, "sla_compliance", 0.0),
        # More solved than created in a window (older tickets solved) is allowed.
        ({"tickets_created": 2, "tickets_solved": 3}, "resolution_rate", 1.5),
    ],
)
def test_derive(counters: dict[str, int], metric: str, expected: float | None) -> None:
    assert derive_tickets(counters)[metric] == expected


def test_derive_names_every_metric() -> None:
    assert tuple(derive_tickets({})) == TICKET_DERIVED


@pytest.mark.parametrize(
    ("age_ms", "label"),
    [
        (-5_000, "0-1h"),  # created "in the future" by a skewed clock
        (0, "0-1h"),
        (H - 1, "0-1h"),
        (H, "1-4h"),
        (4 * H - 1, "1-4h"),
        (4 * H, "4-24h"),
        (D, "1-3d"),
        (3 * D - 1, "1-3d"),
        (3 * D, "3-7d"),
        (7 * D, "7d+"),
        (400 * D, "7d+"),
    ],
)
def test_backlog_age_bucket(age_ms: int, label: str) -> None:
    assert backlog_age_bucket(age_ms) == label


def test_backlog_by_age_lists_every_label() -> None:
    now = 1_000 * D
    counts = backlog_by_age([now - 10 * M, now - 2 * H, now - 3 * H, now - 8 * D], now)
    assert counts == {"0-1h": 1, "1-4h": 2, "4-24h": 0, "1-3d": 0, "3-7d": 0, "7d+": 1}
    assert tuple(counts) == BACKLOG_AGE_BUCKETS


@pytest.mark.parametrize(
    ("kind", "le_ms", "name"),
    [
        ("first_response", 900_000, "ticket_hist_first_response_le_900000"),
        ("resolution", None, "ticket_hist_resolution_le_inf"),
    ],
)
def test_hist_fields_round_trip(kind: str, le_ms: int | None, name: str) -> None:
    assert ticket_hist_field(kind, le_ms) == name
    assert parse_ticket_hist_field(name) == (kind, le_ms)


def test_other_fields_are_no_hist_fields() -> None:
    assert parse_ticket_hist_field("hist_answered_le_5000") is None
