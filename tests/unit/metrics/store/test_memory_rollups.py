"""The in-memory twin's rollups: hours and days outlive the panes, each level is forgotten
after its own retention, teams and agents get no days."""

from __future__ import annotations

from metrics.core.panes import DAY_MS, HOUR_MS, INTERVAL_MS
from metrics.core.reads import BucketRequest, SeriesRequest
from metrics.core.update import Update
from metrics.store.memory import InMemoryStore

D0 = 20_000 * DAY_MS
PANE = D0 + 9 * HOUR_MS + 5 * 60_000
SERIES = ("sales", "voice")
TEAM = ("team", "team-a")


def store() -> InMemoryStore:
    update = Update()
    update.add((*SERIES, PANE), "queued", 4)
    update.scoped[("team", "team-a", PANE)]["handled"] += 2
    update.mark_offset("events:0", 0)
    memory = InMemoryStore(retention_ms=8 * DAY_MS, rollup_retention_ms=396 * DAY_MS)
    memory.flush(update, PANE)
    return memory


def levels(memory: InMemoryStore) -> list[list[dict[str, int]]]:
    quarter = D0 + 9 * HOUR_MS
    return memory.read_buckets(
        [
            BucketRequest(SERIES, "p15", (quarter,)),
            BucketRequest(SERIES, "p60", (quarter,)),
            BucketRequest(SERIES, "p1d", (D0,)),
        ],
        memory.now_ms,
    )


def test_every_level_holds_the_pane_and_days_are_utc_days() -> None:
    assert levels(store()) == [[{"queued": 4}], [{"queued": 4}], [{"queued": 4}]]


def test_past_the_pane_retention_only_hours_and_days_are_kept() -> None:
    memory = store()
    quarter_end = D0 + 9 * HOUR_MS + INTERVAL_MS
    memory.flush(Update(), quarter_end + 8 * DAY_MS)
    assert levels(memory) == [[{}], [{"queued": 4}], [{"queued": 4}]]
    memory.flush(Update(), D0 + 10 * HOUR_MS + 396 * DAY_MS)  # the hour is gone, the day not
    assert levels(memory) == [[{}], [{}], [{"queued": 4}]]
    memory.flush(Update(), D0 + DAY_MS + 396 * DAY_MS)
    assert levels(memory) == [[{}], [{}], [{}]]


def test_teams_keep_hours_for_the_pane_retention_and_no_days() -> None:
    memory = store()
    hour = D0 + 9 * HOUR_MS
    assert {level for level, _, _ in memory.scoped} == {"p1", "p15", "p60"}
    (team,) = memory.read_scoped([SeriesRequest(TEAM, hours=(hour,))], PANE)
    assert team.hours == [{"handled": 2}]
    memory.flush(Update(), hour + HOUR_MS + 8 * DAY_MS)
    (team,) = memory.read_scoped([SeriesRequest(TEAM, hours=(hour,))], memory.now_ms)
    assert team.hours == [{}]
