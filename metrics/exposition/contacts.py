"""The contact families of the agents' view (issue 11): handling, callbacks, offers,
holds, transfers, disconnects, directions, callback attempts and wrap-up codes.

Live gauges (contacts in progress, callbacks waiting) are exported for every series;
the windowed gauges only for a series that has counted any of the newer contact facts
(its totals hold one), so a producer that sends none of them adds no samples. Labels
come from bounded sets only: the event vocabularies and the queues file's wrap-up codes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric

from metrics.core.contacts import CALLBACKS_SET, HANDLING_SET
from metrics.core.reads import SeriesData
from metrics.core.update import Series
from metrics.core.views import live_contacts
from metrics.events import (
    CALLBACK_OUTCOMES,
    DECLINE_OUTCOMES,
    DIRECTIONS,
    DISCONNECT_SIDES,
    TRANSFER_KINDS,
)
from metrics.exposition.services import WindowViews
from metrics.fields import CONTACT_ACTIVITY_FIELDS, WRAPUP_PREFIX

__all__ = ["contact_clock_families", "contact_families", "contact_key", "has_contact_activity"]

_LABELS = ["queue", "channel"]
_WINDOW_LABELS = ["queue", "channel", "window"]

#: where the clock-driven families sit among contact_families' families
_LONGEST_AT, _OLDEST_CALLBACK_AT = 1, 3


def has_contact_activity(totals: Mapping[str, int]) -> bool:
    """Whether a series ever counted an offer, hold, transfer, end, non-inbound contact,
    callback attempt or wrap-up code."""
    return any(totals.get(name) for name in CONTACT_ACTIVITY_FIELDS) or any(
        name.startswith(WRAPUP_PREFIX) and value for name, value in totals.items()
    )


def contact_key(data: SeriesData, views: WindowViews) -> object:
    """What contact_families' samples of one series depend on (besides the clock)."""
    sets = (data.live.sets.get(HANDLING_SET), data.live.sets.get(CALLBACKS_SET))
    return (sets, views) if has_contact_activity(data.totals) else sets


def _live_families() -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "ccmon_queue_contacts_in_progress",
            "Contacts answered and not yet ended or wrapped up, now.",
            labels=_LABELS,
        ),
        GaugeMetricFamily(
            "ccmon_queue_longest_in_progress_seconds",
            "Time since answer of the longest contact in progress, now.",
            labels=_LABELS,
        ),
        GaugeMetricFamily(
            "ccmon_queue_callbacks_waiting",
            "Callbacks requested and not yet connected or failed, now.",
            labels=_LABELS,
        ),
        GaugeMetricFamily(
            "ccmon_queue_oldest_callback_wait_seconds",
            "Time since the request of the oldest waiting callback, now.",
            labels=_LABELS,
        ),
    ]


def _add_live(families: list[GaugeMetricFamily], s: Series, d: SeriesData, now_ms: int) -> None:
    view = live_contacts(d.live, now_ms)
    in_progress, longest, waiting, oldest = families
    in_progress.add_metric(list(s), view["contacts_in_progress"])
    if view["longest_in_progress_seconds"] is not None:
        longest.add_metric(list(s), view["longest_in_progress_seconds"])
    waiting.add_metric(list(s), view["callbacks_waiting"])
    if view["oldest_callback_wait_seconds"] is not None:
        oldest.add_metric(list(s), view["oldest_callback_wait_seconds"])


def contact_clock_families(
    series: list[Series], data: list[SeriesData], now_ms: int
) -> dict[int, Metric]:
    """The families of contact_families whose values move with the clock alone (longest
    in progress, oldest callback), by their position there, for every series."""
    families = _live_families()
    for s, d in zip(series, data, strict=True):
        _add_live(families, s, d, now_ms)
    return {_LONGEST_AT: families[_LONGEST_AT], _OLDEST_CALLBACK_AT: families[_OLDEST_CALLBACK_AT]}


def contact_families(
    series: list[Series],
    data: list[SeriesData],
    views: list[WindowViews],
    now_ms: int,
    wrapup_codes: tuple[str, ...] = (),
) -> Iterator[Metric]:
    """Live then windowed contact families; `views` holds each series' window views
    (metrics.core.views.window_views), in the order of `series`."""
    live = _live_families()
    windowed = _Windowed(wrapup_codes)
    for s, d, by_window in zip(series, data, views, strict=True):
        _add_live(live, s, d, now_ms)
        if has_contact_activity(d.totals):
            for window, view in by_window.items():
                windowed.add(view, [*s, window])
    yield from live
    yield from windowed.all()


class _Windowed:
    """The windowed contact gauges, labelled by queue, channel, window (and a detail)."""

    def __init__(self, wrapup_codes: tuple[str, ...]) -> None:
        self.codes = (*sorted(set(wrapup_codes) - {"other"}), "other")

        def family(name: str, help_: str, *extra: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, help_, labels=[*_WINDOW_LABELS, *extra])

        self.offers = family("ccmon_queue_offers_contacts", "Offers to agents in the window.")
        self.declined = family(
            "ccmon_queue_offers_declined_contacts",
            "Offers the agent did not take in the window, by outcome.",
            "outcome",
        )
        self.non_response = family(
            "ccmon_queue_agent_non_response_ratio", "Declined offers / offers in the window."
        )
        self.holds = family("ccmon_queue_holds_contacts", "Holds started in the window.")
        self.hold_abandons = family(
            "ccmon_queue_hold_abandons_contacts",
            "Contacts ended by the customer while on hold in the window.",
        )
        self.transfers = family(
            "ccmon_queue_transfers_contacts",
            "Transfers in the window: out of the queue by kind, into it (kind all).",
            "direction",
            "kind",
        )
        self.disconnects = family(
            "ccmon_queue_disconnects_contacts",
            "Contacts ended in the window, by the side that ended them.",
            "side",
        )
        self.directions = family(
            "ccmon_queue_contacts_by_direction_contacts",
            "Contacts queued in the window, by direction.",
            "direction",
        )
        self.attempts = family(
            "ccmon_queue_callback_attempts_contacts",
            "Callback attempts in the window, by outcome.",
            "outcome",
        )
        self.wrapups = family(
            "ccmon_queue_wrapup_contacts",
            "Wrap-ups in the window by wrap-up code (the queues file's codes, other).",
            "code",
        )

    def add(self, view: Mapping[str, Any], labels: list[str]) -> None:
        self.offers.add_metric(labels, view["offers"])
        for outcome in DECLINE_OUTCOMES:
            self.declined.add_metric([*labels, outcome], view[f"offers_declined_{outcome}"])
        if view["agent_non_response_rate"] is not None:
            self.non_response.add_metric(labels, view["agent_non_response_rate"])
        self.holds.add_metric(labels, view["holds"])
        self.hold_abandons.add_metric(labels, view["hold_abandons"])
        for kind in TRANSFER_KINDS:
            self.transfers.add_metric([*labels, "out", kind], view[f"transfers_out_{kind}"])
            self.transfers.add_metric([*labels, "in", kind], view[f"transfers_in_{kind}"])
        for side in DISCONNECT_SIDES:
            self.disconnects.add_metric([*labels, side], view[f"disconnect_{side}"])
        for direction in DIRECTIONS:
            self.directions.add_metric([*labels, direction], view[f"queued_{direction}"])
        for outcome in CALLBACK_OUTCOMES:
            self.attempts.add_metric([*labels, outcome], view[f"callback_attempts_{outcome}"])
        counted = view["wrapup_codes"]
        for code in self.codes:
            self.wrapups.add_metric([*labels, code], counted.get(code, 0))

    def all(self) -> Iterator[Metric]:
        yield from (self.offers, self.declined, self.non_response, self.holds)
        yield from (self.hold_abandons, self.transfers, self.disconnects, self.directions)
        yield from (self.attempts, self.wrapups)
