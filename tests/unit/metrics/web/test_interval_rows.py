"""Interval rows rendered once: the same JSON as rendering every row, made again exactly
when a row's counters, its FCR status or the queue's settings change."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import orjson

from metrics.config.queues import QueueConfig
from metrics.core.panes import DAY_MS, HOUR_MS
from metrics.core.rollups import interval_rows, plan_intervals
from metrics.routing.snapshot import iso
from metrics.web.interval_rows import IntervalRows, minute_iso

D0 = 20_000 * DAY_MS  # a UTC midnight
SERIES = ("sales", "voice")
QUEUE = QueueConfig(name="sales", sl_threshold_s=20, fcr_horizon_s=3600)
#: two hours of 30-minute intervals: four rows
PLAN = plan_intervals(30, D0 + 9 * HOUR_MS, D0 + 11 * HOUR_MS, ZoneInfo("UTC"))
NOW = D0 + 10 * HOUR_MS + 29 * 60_000  # every row provisional (the FCR horizon is an hour)


def counters(queued: int) -> dict[str, int]:
    return {"queued": queued, "answered": queued - 1, "answered_within_t": 1, "talk_ms": 60_000}


def uncached(summed: list[dict[str, int]], queue: QueueConfig, now: int) -> bytes:
    """The body as rendering every row gives it."""
    rows = interval_rows(PLAN, summed, queue, now)
    for row in rows:
        row["start"], row["end"] = iso(row["start_ms"]), iso(row["end_ms"])
    return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS)


def body(fragments: list[orjson.Fragment]) -> bytes:
    return orjson.dumps(fragments, option=orjson.OPT_NON_STR_KEYS)


def test_the_same_json_as_every_row_rendered_and_kept_while_unchanged() -> None:
    summed = [counters(4), counters(2), {}, counters(7)]
    rendered = IntervalRows()
    first = rendered.render(SERIES, PLAN, summed, QUEUE, NOW)
    assert body(first) == uncached(summed, QUEUE, NOW)
    row = orjson.loads(body(first))[1]
    assert (row["start"], row["queued"], row["service_level"]) == (iso(PLAN.starts[1]), 2, 1.0)
    assert row["start"].endswith("T09:30:00Z") and row["end"].endswith("T10:00:00Z")
    again = rendered.render(SERIES, PLAN, [dict(c) for c in summed], QUEUE, NOW)  # equal copies
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_a_changed_counter_renders_its_row_again() -> None:
    summed = [counters(4), counters(2), {}, counters(7)]
    rendered = IntervalRows()
    first = rendered.render(SERIES, PLAN, summed, QUEUE, NOW)
    summed[2] = counters(3)  # a late correction into an empty interval
    summed[1]["queued"] = 5  # a caller changed a dict it had been handed: still exact
    second = rendered.render(SERIES, PLAN, summed, QUEUE, NOW)
    assert body(second) == uncached(summed, QUEUE, NOW)
    assert [row["queued"] for row in orjson.loads(body(second))] == [4, 5, 3, 7]
    assert second[0] is first[0] and second[3] is first[3]


def test_fcr_turning_final_and_new_queue_settings_render_again() -> None:
    summed = [counters(4), counters(2), counters(1), counters(7)]
    rendered = IntervalRows()
    rendered.render(SERIES, PLAN, summed, QUEUE, NOW)
    later = NOW + 60_000  # 10:30: the first interval's FCR horizon has passed, not the others'
    rows = orjson.loads(body(rendered.render(SERIES, PLAN, summed, QUEUE, later)))
    assert [r["cx"]["fcr_status"] for r in rows] == ["final", "provisional", "provisional"] + [
        "provisional"
    ]
    assert body(rendered.render(SERIES, PLAN, summed, QUEUE, later)) == uncached(
        summed, QUEUE, later
    )
    stricter = QueueConfig(name="sales", sl_threshold_s=10, fcr_horizon_s=3600)
    assert body(rendered.render(SERIES, PLAN, summed, stricter, later)) == uncached(
        summed, stricter, later
    )
    equal = QueueConfig(name="sales", sl_threshold_s=10, fcr_horizon_s=3600)  # equal settings
    assert body(rendered.render(SERIES, PLAN, summed, equal, later)) == uncached(
        summed, equal, later
    )


def test_at_most_kept_rows_oldest_dropped() -> None:
    summed = [counters(4), counters(2), counters(1), counters(7)]
    rendered = IntervalRows(kept=3)
    first = rendered.render(SERIES, PLAN, summed, QUEUE, NOW)
    again = rendered.render(SERIES, PLAN, summed, QUEUE, NOW)
    assert body(again) == body(first) == uncached(summed, QUEUE, NOW)
    assert len(rendered._rows) == 3


def test_bounds_read_as_rfc_3339_utc_the_same_as_iso() -> None:
    assert minute_iso(D0 + 9 * HOUR_MS + 30 * 60_000) == "2024-10-04T09:30:00Z"
    assert minute_iso(-60_000) == "1969-12-31T23:59:00Z"
    assert minute_iso(D0 + 1_500) == iso(D0 + 1_500) == "2024-10-04T00:00:01.500000Z"
    for ms in range(D0 - 3 * DAY_MS, D0 + 3 * DAY_MS, 7 * 60_000):
        assert minute_iso(ms) == iso(ms)
