"""The key mirror's bookkeeping: what it reads again, what it shares, what it forgets."""

from __future__ import annotations

from typing import Any

import pytest

from metrics.core.reads import SeriesRequest, SetQuery, SetStats
from metrics.store.mirror import HASH, ZSET, KeyMirror, ReadKeys, scores_stats

SALES = ("sales", "voice")


class Server:
    """What the mirror is fed: key values, and the names of keys changed since last asked."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.changed: set[str] | None = None  # the first call: anything may have changed
        self.fetched: list[str] = []

    def report(self, began: float = 0.0) -> set[str] | None:
        changed, self.changed = self.changed, set()
        return changed

    def fetch(self, keys: list[tuple[str, str]]) -> list[Any]:
        self.fetched += [key for key, _ in keys]
        return [self.values.get(key, {} if kind == HASH else []) for key, kind in keys]

    def write(self, key: str, value: Any) -> None:
        self.values[key] = value
        assert self.changed is not None
        self.changed.add(key)


def keys_of(req: SeriesRequest) -> ReadKeys:
    """The key layout of metrics.store.redis, prefix "c"."""
    name = f"{req.series[0]}|{req.series[1]}"
    return ReadKeys(
        [f"c:p1:{name}:{p}" for p in req.panes],
        [],
        [],
        f"c:z:wait:{name}",
        [f"c:z:{q.name}:{name}" for q in req.sets],
        f"c:live:{name}",
        f"c:tot:{name}",
    )


def read(mirror: KeyMirror, req: SeriesRequest, floor: int = 0) -> Any:
    with mirror.lock:
        mirror.start_read()
        asked, plan = mirror.plan(req, keys_of)
        hashes = [*plan.panes, plan.live, plan.totals]
        mirror.refresh({HASH: hashes, ZSET: [plan.wait, *plan.sets]})
        return mirror.data(req, asked, plan, floor)


REQ = SeriesRequest(SALES, (1, 2), sets=(SetQuery("backlog:high", (50,)),))


def test_only_changed_keys_are_read_again_and_unchanged_data_is_shared() -> None:
    server = Server()
    server.values = {"c:p1:sales|voice:2": {"queued": 1}, "c:z:wait:sales|voice": [10.0, 20.0]}
    mirror = KeyMirror(server.report, server.fetch, "c")
    first = read(mirror, REQ)
    assert (first.panes, first.live.waiting, first.live.oldest_enqueued_ms) == (
        [{}, {"queued": 1}],
        2,
        10,
    )
    assert len(server.fetched) == 6
    server.fetched.clear()
    again = read(mirror, REQ, floor=15)  # a later floor: the wait at 10 no longer counts
    assert server.fetched == []
    assert again.panes is first.panes
    assert (again.live.waiting, again.live.oldest_enqueued_ms) == (1, 20)
    server.write("c:p1:sales|voice:1", {"queued": 2})
    third = read(mirror, REQ)
    assert server.fetched == ["c:p1:sales|voice:1"]
    assert third.panes == [{"queued": 2}, {"queued": 1}] and third.panes is not first.panes


def test_anything_changed_drops_every_value() -> None:
    server = Server()
    mirror = KeyMirror(server.report, server.fetch, "c")
    read(mirror, REQ)
    server.values["c:tot:sales|voice"] = {"queued": 5, "wait_answered_max_ms": 9}
    server.changed = None  # a flushed database, a lost tracking connection
    server.fetched.clear()
    data = read(mirror, REQ)
    assert len(server.fetched) == 6
    assert data.totals == {"queued": 5}  # maxima are no totals, as in RedisStore.read


def test_plans_no_read_asked_for_are_forgotten() -> None:
    server = Server()
    clock = [0.0]
    mirror = KeyMirror(server.report, server.fetch, "c", monotonic=lambda: clock[0])
    mirror._SWEEP_READS = 2
    old = SeriesRequest(("billing", "chat"), (1,))
    read(mirror, old)
    clock[0] = 400.0  # past the 300 s a plan is kept
    read(mirror, REQ)  # the second read sweeps
    assert not any("billing" in key for key in mirror.values)
    assert "c:p1:sales|voice:1" in mirror.values


@pytest.mark.parametrize(
    ("key", "series"),
    [
        ("c:p1:sales|voice:1794787200000", ("sales", "voice")),
        ("c:tot:q-1.a|chat", ("q-1.a", "chat")),
        ("c:z:backlog:high:support|email", ("support", "email")),
        ("c:series:all", None),
    ],
)
def test_the_series_of_a_key(key: str, series: tuple[str, str] | None) -> None:
    mirror = KeyMirror(Server().report, Server().fetch, "c")
    assert mirror._series_of(key) == series


@pytest.mark.parametrize(
    ("scores", "query", "stats"),
    [
        ([], SetQuery("s", (5, 9), next_from=3), SetStats(0, None, (0, 0), None)),
        ([1.0, 5.0, 7.0], SetQuery("s", (5, 9)), SetStats(3, 1, (1, 3), None)),
        ([1.0, 5.0, 7.0], SetQuery("s", next_from=5), SetStats(3, 1, (), 5)),
        ([1.0, 5.0, 7.0], SetQuery("s", next_from=8), SetStats(3, 1, (), None)),
    ],
)
def test_set_stats_from_scores(scores: list[float], query: SetQuery, stats: SetStats) -> None:
    assert scores_stats(query, scores) == stats


def test_a_live_state_is_counted_again_when_its_bounds_can_move_it() -> None:
    server = Server()
    server.values = {"c:z:wait:sales|voice": [10.0]}
    mirror = KeyMirror(server.report, server.fetch, "c")
    first = read(mirror, REQ)
    assert read(mirror, REQ).live is first.live  # same waits, empty sets: nothing moved
    server.write("c:z:backlog:high:sales|voice", [40.0, 60.0])
    before = read(mirror, REQ)
    later = SeriesRequest(SALES, (1, 2), sets=(SetQuery("backlog:high", (70,)),))
    after = read(mirror, later)
    assert before.live.sets["backlog:high"] == SetStats(2, 40, (1,), None)
    assert after.live.sets["backlog:high"] == SetStats(2, 40, (2,), None)
