"""A local copy of the keys store reads ask for, dropped key by key as changes are reported.

The Redis adapter feeds it (metrics.store.redis: the server names every changed key through
CLIENT TRACKING) and reads the keys it lacks; this module holds no connection. Reads served
from it give the same SeriesData as reading every key: the live state is counted afresh
each time (it moves with the clock), the panes, intervals, hours and totals are shared
between reads until one of their keys changes, so callers must not change them.
"""

from __future__ import annotations

import bisect
import functools
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from metrics.core.reads import Live, SeriesData, SeriesRequest, SetQuery, SetStats
from metrics.core.update import Series
from metrics.fields import MAX_FIELDS

__all__ = [
    "AGENT",
    "HASH",
    "SET",
    "ZSET",
    "Asked",
    "Built",
    "KeyMirror",
    "ReadKeys",
    "scores_stats",
]

#: a series and what a request of it asks for: panes, intervals, hours, set names
Asked = tuple[Series, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[str, ...]]

#: kinds of mirrored keys: hash (fields as ints), sorted set (scores ascending), set, and an
#: agent's JSON state (parsed by the adapter; None for a missing key)
HASH, ZSET, SET, AGENT = "hash", "zset", "set", "agent"


@functools.lru_cache(maxsize=16)
def _empty_stats(bounds: int) -> SetStats:
    """An empty set's stats (frozen, so one is shared by every empty set)."""
    return SetStats(0, None, (0,) * bounds, None)


def scores_stats(query: SetQuery, scores: list[float]) -> SetStats:
    """What a SetQuery asks of one live set (as RedisStore reads it), from its sorted scores."""
    if not scores:
        return _empty_stats(len(query.bounds))
    after = None
    if query.next_from is not None:
        i = bisect.bisect_left(scores, query.next_from)
        after = int(scores[i]) if i < len(scores) else None
    return SetStats(
        len(scores),
        int(scores[0]),
        tuple(bisect.bisect_left(scores, bound) for bound in query.bounds),
        after,
    )


@dataclass(frozen=True)
class ReadKeys:
    """The keys of one SeriesRequest, by role."""

    panes: list[str]
    intervals: list[str]
    hours: list[str]
    wait: str
    sets: list[str]
    live: str
    totals: str


@dataclass(frozen=True)
class Built:
    """A series' panes, intervals, hours and totals as one plan read them."""

    fetched: int
    panes: list[dict[str, int]]
    intervals: list[dict[str, int]]
    hours: list[dict[str, int]]
    totals: dict[str, int]


@dataclass(frozen=True)
class _LiveInputs:
    """A live state and the values it was counted from: reused while they are the same
    objects, the wait count unchanged and every live set empty."""

    wait: list[float]
    first: int
    agents: dict[str, int]
    shape: tuple[int, ...]
    live: Live


class KeyMirror:
    """Parsed values of the keys reads asked for, dropped as `changed` reports changes.

    At most every `_SWEEP_S` seconds, what no read asked for in the last `_KEEP_S` seconds
    is forgotten, so old windows and one-off interval reads do not accumulate. By time, not
    by reads: a sweep walks every kept key (tens of ms at 1,000 queues), and one-queue
    reads come hundreds a second.
    """

    _SWEEP_S = 30.0
    _KEEP_S = 300.0

    def __init__(
        self,
        changed: Callable[[float], set[str] | None],
        fetch: Callable[[list[tuple[str, str]]], list[Any]],
        store_prefix: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        #: keys changed since the last call, None when any may have (then all are dropped);
        #: its argument is when the read began (monotonic s): every change the server
        #: finished before then must be in the answer
        self.changed = changed
        #: the parsed values of (key, kind) pairs, in order: hash fields as ints, sorted-set
        #: scores ascending, set members as a set
        self.fetch = fetch
        self.values: dict[str, Any] = {}
        self.reads = 0
        self.lock = threading.Lock()
        self._skip = len(store_prefix) + 1
        #: (series, what its request asks for) -> its keys; and what they held when last
        #: read (see built). Scrapes and API reads ask for different panes of a series.
        self._plans: dict[Asked, ReadKeys] = {}
        self._built: dict[Asked, Built] = {}
        #: the last live state of each plan and what it was counted from (see data)
        self._lives: dict[Asked, _LiveInputs] = {}
        #: per series, how many of its keys were fetched so far: a built entry stays valid
        #: while the series' count is the one it was made at
        self._fetched: defaultdict[Series, int] = defaultdict(int)
        #: when each plan was last asked for (monotonic seconds of the read)
        self._used: dict[Asked, float] = {}
        self._monotonic = monotonic
        self._tick = monotonic()
        self._swept = self._tick

    def start_read(self) -> None:
        """Mark the plans asked for from now on as used now."""
        self._tick = self._monotonic()

    def plan(
        self, req: SeriesRequest, plan: Callable[[SeriesRequest], ReadKeys]
    ) -> tuple[Asked, ReadKeys]:
        """The keys of `req`, worked out once per series and panes, intervals, hours, sets."""
        asked = (req.series, req.panes, req.intervals, req.hours, tuple(q.name for q in req.sets))
        keys = self._plans.get(asked)
        if keys is None:
            keys = self._plans[asked] = plan(req)
        self._used[asked] = self._tick
        return asked, keys

    def _series_of(self, key: str) -> Series | None:
        """The series a data key belongs to ("{p}:{kind}:[set:]{queue}|{channel}[:{time}]");
        queue names and channels hold neither ':' nor '|'."""
        rest = key[self._skip :]
        bar = rest.find("|")
        if bar < 0:
            return None
        start = rest.rfind(":", 0, bar) + 1
        end = rest.find(":", bar)
        return rest[start:bar], rest[bar + 1 : end if end >= 0 else len(rest)]

    def built(self, asked: Asked, plan: ReadKeys) -> Built:
        """The parts of a series' SeriesData that do not move with the clock, made again
        only when one of its keys was fetched again; shared between reads (and with
        `values`)."""
        entry = self._built.get(asked)
        fetched = self._fetched[asked[0]]
        if entry is not None and entry.fetched == fetched:
            return entry
        values = self.values
        entry = Built(
            fetched,
            [values[key] for key in plan.panes],
            [values[key] for key in plan.intervals],
            [values[key] for key in plan.hours],
            {k: v for k, v in values[plan.totals].items() if k not in MAX_FIELDS},
        )
        self._built[asked] = entry
        return entry

    def refresh(self, keys: dict[str, list[str]], began: float | None = None) -> dict[str, Any]:
        """Bring the keys of each kind up to date (changed or unknown ones in one pipeline)
        and return the values by key; call with `lock` held. `began`: when the read began
        (monotonic s, before it waited for the lock; default now)."""
        changed = self.changed(self._monotonic() if began is None else began)
        if changed is None:
            self.values.clear()
            self._built.clear()
            self._lives.clear()
        else:
            for key in changed:
                self.values.pop(key, None)
        values = self.values
        missing = [(k, kind) for kind, ks in keys.items() for k in ks if k not in values]
        for key, _ in missing:  # a key read again may hold a new value for its series
            series = self._series_of(key)
            if series is not None:
                self._fetched[series] += 1
        if missing:
            for (key, _), value in zip(missing, self.fetch(missing), strict=True):
                values[key] = value
        self.reads += 1
        if self._tick - self._swept >= self._SWEEP_S:
            self._swept = self._tick
            self._sweep(keys)
        return self.values

    def data(self, req: SeriesRequest, asked: Asked, plan: ReadKeys, floor: int) -> SeriesData:
        """One request's SeriesData after `refresh`: waits from `floor` on, live sets counted
        from their scores, the rest shared (see the module's docstring)."""
        values = self.values
        wait = values[plan.wait]
        first = bisect.bisect_left(wait, floor)
        agents = values[plan.live]
        scores = [values[key] for key in plan.sets]
        shape = tuple(len(query.bounds) for query in req.sets)
        known = self._lives.get(asked)
        if (
            known is not None
            and known.wait is wait
            and known.first == first
            and known.agents is agents
            and known.shape == shape
            and not any(scores)  # empty sets' stats do not move with the bounds
        ):
            live = known.live
        else:
            sets = {
                query.name: scores_stats(query, found)
                for query, found in zip(req.sets, scores, strict=True)
            }
            oldest = int(wait[first]) if first < len(wait) else None
            live = Live(len(wait) - first, oldest, dict(agents), sets)
            self._lives[asked] = _LiveInputs(wait, first, agents, shape, live)
        built = self.built(asked, plan)
        return SeriesData(built.panes, built.intervals, built.hours, live, built.totals)

    def _sweep(self, keys: dict[str, list[str]]) -> None:
        """Forget the plans no read asked for in `_KEEP_S`, and the values no plan kept
        (nor this read) needs."""
        cutoff = self._tick - self._KEEP_S
        kept = {asked for asked, at in self._used.items() if at >= cutoff}
        self._used = {asked: self._used[asked] for asked in kept}
        self._plans = {asked: p for asked, p in self._plans.items() if asked in kept}
        self._built = {asked: b for asked, b in self._built.items() if asked in kept}
        self._lives = {asked: v for asked, v in self._lives.items() if asked in kept}
        wanted = {k for ks in keys.values() for k in ks}
        for plan in self._plans.values():
            wanted.update(plan.panes, plan.intervals, plan.hours, plan.sets)
            wanted.update((plan.wait, plan.live, plan.totals))
        self.values = {k: v for k, v in self.values.items() if k in wanted}
