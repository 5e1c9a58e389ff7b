"""Admission: duplicates, lateness against the watermark and retention, the queue cap."""

from __future__ import annotations

from metrics.core.admission import Admission, Verdict

MIN = 60_000
DAY = 24 * 60 * MIN
NOW = 100 * DAY


def admission(max_queues: int = 10) -> Admission:
    return Admission(
        lateness_ms=2 * MIN, retention_ms=8 * DAY, max_queues=max_queues, known_queues={"sales"}
    )


def test_in_order_events_apply() -> None:
    adm = admission()
    assert adm.judge("t:0", NOW - MIN, ["sales"], False, NOW) is Verdict.APPLY
    assert adm.judge("t:0", NOW, ["sales"], False, NOW) is Verdict.APPLY


def test_duplicates_are_ignored() -> None:
    assert admission().judge("t:0", NOW, ["sales"], True, NOW) is Verdict.DUPLICATE


def test_behind_the_watermark_but_inside_retention_is_a_correction() -> None:
    adm = admission()
    adm.judge("t:0", NOW, ["sales"], False, NOW)
    # Within the allowed lateness: still on time.
    assert adm.judge("t:0", NOW - 2 * MIN, ["sales"], False, NOW) is Verdict.APPLY
    assert adm.judge("t:0", NOW - 2 * MIN - 1, ["sales"], False, NOW) is Verdict.LATE_CORRECTION
    assert adm.judge("t:0", NOW - 7 * DAY, ["sales"], False, NOW) is Verdict.LATE_CORRECTION


def test_older_than_retention_is_too_late() -> None:
    adm = admission()
    assert adm.judge("t:0", NOW - 8 * DAY - 1, ["sales"], False, NOW) is Verdict.TOO_LATE


def test_watermarks_are_per_partition() -> None:
    adm = admission()
    adm.judge("t:0", NOW, ["sales"], False, NOW)
    assert adm.judge("t:1", NOW - 30 * MIN, ["sales"], False, NOW) is Verdict.APPLY


def test_an_idle_partition_watermark_moves_with_the_wall_clock() -> None:
    adm = admission()
    adm.judge("t:0", NOW, ["sales"], False, NOW)
    later = NOW + 10 * MIN  # nothing arrived for ten minutes
    assert adm.judge("t:0", NOW + 5 * MIN, ["sales"], False, later) is Verdict.LATE_CORRECTION


def test_queue_cap_rejects_new_queues_beyond_the_cap_but_keeps_known_ones() -> None:
    adm = admission(max_queues=2)
    assert adm.judge("t:0", NOW, ["new-1"], False, NOW) is Verdict.APPLY
    assert adm.judge("t:0", NOW, ["new-2"], False, NOW) is Verdict.QUEUE_CAP
    assert adm.judge("t:0", NOW, ["sales", "new-1"], False, NOW) is Verdict.APPLY
    assert adm.take_new_queues() == {"new-1"}
    assert adm.take_new_queues() == set()


def test_an_event_dated_past_the_future_bound_is_too_early_and_leaves_the_watermark() -> None:
    adm = admission()
    adm.judge("t:0", NOW, ["sales"], False, NOW)
    # Five minutes ahead (the default bound) is still admitted; one millisecond more is not.
    assert adm.judge("t:0", NOW + 5 * MIN, ["sales"], False, NOW) is Verdict.APPLY
    assert adm.judge("t:0", NOW + 5 * MIN + 1, ["sales"], False, NOW) is Verdict.TOO_EARLY
    assert adm.judge("t:0", NOW + 30 * DAY, ["sales"], False, NOW) is Verdict.TOO_EARLY
    assert adm.watermark("t:0").max_event_ms == NOW + 5 * MIN
    # Later events of the partition are judged against the real watermark, not the future.
    assert adm.judge("t:0", NOW + 4 * MIN, ["sales"], False, NOW) is Verdict.APPLY


def test_a_future_event_naming_a_new_queue_does_not_take_a_place_under_the_cap() -> None:
    adm = admission(max_queues=2)
    assert adm.judge("t:0", NOW + DAY, ["new-1"], False, NOW) is Verdict.TOO_EARLY
    assert adm.take_new_queues() == set()
    assert adm.known_queues == {"sales"}


def test_the_future_bound_is_configurable() -> None:
    adm = Admission(lateness_ms=0, retention_ms=DAY, max_queues=5, max_future_ms=0)
    assert adm.judge("t:0", NOW, ["q"], False, NOW) is Verdict.APPLY
    assert adm.judge("t:0", NOW + 1, ["q"], False, NOW) is Verdict.TOO_EARLY
