"""The Redis adapter of AggregateStore: one atomic, fenced Lua flush per update.

Key layout (prefix configurable, default ``ccmon``)::

    {p}:p1:{queue}|{channel}:{pane ms}        hash  1-minute pane counters (expire)
    {p}:p15:{queue}|{channel}:{interval ms}   hash  15-minute interval counters (expire)
    {p}:p60:{queue}|{channel}:{hour ms}       hash  hourly rollup (UTC hours), for long reads
    {p}:p1d:{queue}|{channel}:{day ms}        hash  daily rollup (UTC days); p60 and p1d
                                                    expire after the rollup retention
    {p}:tot:{queue}|{channel}                 hash  all-time counters (Prometheus counters)
    {p}:live:{queue}|{channel}                hash  agents by state
    {p}:e1|e15|e60:{scope}|{id}:{start ms}    hash  team and agent panes (scope "team" or
                                                    "agent"; agents have no e1), expire
                                                    after the panes' retention (no rollups)
    {p}:elive:{scope}|{id}                    hash  a team's agents by state and reason, slots
    {p}:ents:{scope} / {p}:agents:all         set   team names met / agent ids met
    {p}:z:{set}:{queue}|{channel}             zset  live set member id -> score ms
                                                    (wait: waiting contact -> enqueue ms)
    {p}:{kind part}:{id}                      string JSON state of a contact, agent, ...
                                                    (metrics.core.states; expire per kind)
    {p}:seen:{hour ms}                        hash  event ids applied (expire)
    {p}:offsets / {p}:evtime                  hash  "topic:partition" -> offset / event ms
    {p}:series / {p}:queues                   set   "queue|channel" / queue names
    {p}:gen:all                               string generation marker: a flush checks it
                                                    is still the one its worker claimed

The exporter's reads can be mirrored (`RedisStore.mirror_reads`): a local copy of the keys
it reads, kept current by the server naming each changed key (CLIENT TRACKING, RESP3).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any

import orjson
import redis
from redis.client import Pipeline

from metrics.core.agent_figures import AGENT_SCOPE, TEAM_SCOPE
from metrics.core.agents import AgentState
from metrics.core.contacts import CALLBACKS_SET, HANDLING_SET
from metrics.core.formulas import sum_counters
from metrics.core.panes import buckets_of, level_retention_ms
from metrics.core.reads import BucketRequest, Live, SeriesData, SeriesRequest, SetQuery, SetStats
from metrics.core.states import DECODERS, KEY_PARTS
from metrics.core.update import Series, Update
from metrics.fields import MAX_FIELDS
from metrics.store.base import WAIT_SET, FencedError, StoreError, StoreLostError
from metrics.store.mirror import AGENT, HASH, SET, ZSET, KeyMirror, ReadKeys
from metrics.store.tracking import Tracking

__all__ = ["RedisStore"]

log = logging.getLogger(__name__)

_HOUR_MS = 3_600_000

#: (hash key, expire at ms; 0 for never)
_Target = tuple[str, int]

# KEYS: every key the flush writes, each once (a script may touch only the keys it declares:
# Redis Cluster routes a call by them): KEYS[1] offsets hash, KEYS[2] event-time hash,
# KEYS[3] generation marker, then the keys the payload names by their index, then the state
# keys. ARGV[1] the JSON payload (numbers as strings, key indexes as numbers; p.g the claimed
# generation or ''); then value, TTL ms pairs, one per state key, in order: passed as plain
# arguments, not inside the JSON, because decoding them in Lua cost more than writing them.
_FLUSH_LUA = """
local p = cjson.decode(ARGV[1])
if p.g ~= '' then
  local held = redis.call('GET', KEYS[3])
  if held ~= p.g then
    return redis.error_reply('LOST generation ' .. p.g .. ' not held (' .. tostring(held) .. ')')
  end
end
for _, f in ipairs(p.f) do
  local cur = redis.call('HGET', KEYS[1], f[1])
  if cur and tonumber(cur) >= tonumber(f[2]) then
    return redis.error_reply('FENCED ' .. f[1] .. ' applied up to ' .. cur)
  end
end
for _, f in ipairs(p.f) do redis.call('HSET', KEYS[1], f[1], f[3]) end
for _, h in ipairs(p.h) do
  local key = KEYS[h[1]]
  for i = 3, #h, 2 do redis.call('HINCRBY', key, h[i], h[i + 1]) end
  if h[2] ~= '0' then redis.call('PEXPIREAT', key, h[2]) end
end
for _, h in ipairs(p.m) do
  local key = KEYS[h[1]]
  for i = 3, #h, 2 do
    local cur = redis.call('HGET', key, h[i])
    if not cur or tonumber(cur) < tonumber(h[i + 1]) then
      redis.call('HSET', key, h[i], h[i + 1])
    end
  end
  redis.call('PEXPIREAT', key, h[2])
end
for _, z in ipairs(p.z) do
  -- z = {key index, trim below score, member, score or '', member, score or '', ...}
  local key = KEYS[z[1]]
  for i = 3, #z, 2 do
    if z[i + 1] == '' then redis.call('ZREM', key, z[i])
    else redis.call('ZADD', key, z[i + 1], z[i]) end
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. z[2])
end
local states = (#ARGV - 1) / 2
local first = #KEYS - states
for j = 1, states do
  redis.call('SET', KEYS[first + j], ARGV[2 * j], 'PX', ARGV[2 * j + 1])
end
for _, h in ipairs(p.d) do
  -- h = {key index, expire at, id, id, ...}: one HSET per 500 ids
  local key = KEYS[h[1]]
  local args = {}
  for i = 3, #h do
    args[#args + 1] = h[i]
    args[#args + 1] = '1'
    if #args == 1000 or i == #h then
      redis.call('HSET', key, unpack(args))
      args = {}
    end
  end
  redis.call('PEXPIREAT', key, h[2])
end
for _, m in ipairs(p.a) do
  -- m = {key index, member, member, ...}
  local key = KEYS[m[1]]
  for i = 2, #m do redis.call('SADD', key, m[i]) end
end
for _, t in ipairs(p.t) do
  local cur = redis.call('HGET', KEYS[2], t[1])
  if not cur or tonumber(cur) < tonumber(t[2]) then redis.call('HSET', KEYS[2], t[1], t[2]) end
end
return 'OK'
"""


# KEYS: hashes; the reply holds, for each, the SHA-1 of its DUMP (its exact content) and
# its HGETALL as one string, "field,value,field,value" (field names are ccmon's own and
# configured codes, never a comma). One script call instead of a pipeline of HGETALLs: long
# reads take thousands of hashes, and the client's per-command and per-value costs, not the
# server, were most of their time. One string a hash rather than its fields and integer
# values: the server's Lua-to-reply conversion and the client's parsing cost per element
# (a month of 15-minute hashes: 184k elements, 2,976 strings), measured 1.9x cheaper for
# both (benchmarks/rollups.py). Summing groups of hashes in Lua was measured slower: its
# tables cost the server more than it saved.
_HASHES_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  local h = table.concat(redis.call('HGETALL', key), ',')
  out[i] = {redis.sha1hex(redis.call('DUMP', key) or ''), h}
end
return out
"""

# KEYS: hashes; the reply holds the SHA-1 of each one's DUMP: a read of hashes the reader
# already holds asks only which changed, a third of the server's work of reading them.
_DIGESTS_LUA = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.sha1hex(redis.call('DUMP', key) or '') end
return out
"""

#: at most this many hashes per script call (a long read is split into several)
_HASHES_PER_CALL = 4096

#: hashes kept by key with their digest, as long reads last read them (see read_buckets)
_HASHES_KEPT = 8192

#: summed groups of hashes kept by their raw replies (see RedisStore.read_buckets)
_GROUPS_KEPT = 4096


def _summed(raws: tuple[str, ...]) -> dict[str, int]:
    """The counters of a group of _HASHES_LUA replies added up (as sum_counters adds them).

    Hashes written by the same flushes list the same fields in the same order: then the
    values are added column by column, maxima taken where they are kept."""
    present = [raw.split(",") for raw in raws if raw]
    if not present:
        return {}
    names = present[0][::2]
    if len(present) == 1 or all(p[::2] == names for p in present[1:]):
        columns = zip(*(map(int, p[1::2]) for p in present), strict=True)
        total = dict(zip(names, map(sum, columns), strict=True))
        for name in MAX_FIELDS:
            if name in total:
                at = 2 * names.index(name) + 1
                total[name] = max(int(p[at]) for p in present)
        return total
    return sum_counters([dict(zip(p[::2], map(int, p[1::2]), strict=True)) for p in present])


def _ints(raw: dict[str, str]) -> dict[str, int]:
    return {k: int(v) for k, v in raw.items()}


#: a row of the flush payload: the index of its key in KEYS, then strings
_Row = list[int | str]


class _Keys:
    """The KEYS of one flush call: each key once, in the order first named; the payload
    names a key by its 1-based index here."""

    __slots__ = ("_index", "names")

    def __init__(self, fixed: list[str]) -> None:
        self.names = list(fixed)
        self._index = {key: i for i, key in enumerate(self.names, 1)}

    def __call__(self, key: str) -> int:
        """The index of `key`, added now if it is new."""
        index = self._index.get(key)
        if index is None:
            self.names.append(key)
            index = self._index[key] = len(self.names)
        return index


def _flat(entries: dict[_Target, dict[str, int]], keep_zero: bool, keys: _Keys) -> list[_Row]:
    """Hash rows for the flush script: key index, expire at, then field, value pairs.

    Zero values are left out unless `keep_zero`; a row with no fields is dropped (and its
    key is not declared).
    """
    rows: list[_Row] = []
    for (key, expiry), fields in entries.items():
        pairs: _Row = []
        for name, value in fields.items():
            if value or keep_zero:
                pairs += [name, str(value)]
        if pairs:
            rows.append([keys(key), str(expiry), *pairs])
    return rows


def _touched_series(update: Update) -> set[Series]:
    """Every (queue, channel) the update writes: pane sums, maxima, live counts, live sets."""
    touched = {(queue, channel) for queue, channel, _ in update.sums}
    touched.update((queue, channel) for queue, channel, _ in update.maxes)
    touched.update(update.live)
    touched.update((queue, channel) for _, queue, channel in update.members)
    return touched


def _lowest_score(reply: list[tuple[str, float]] | None) -> int | None:
    """The score of a one-member ZRANGE ... WITHSCORES reply, or None when it is empty."""
    return int(reply[0][1]) if reply else None


def _set_stats(query: SetQuery, replies: Iterator[Any]) -> SetStats:
    """Take one live set's replies (see RedisStore._queue_reads)."""
    count, lowest = int(next(replies)), next(replies)
    below = tuple(int(next(replies)) for _ in query.bounds)
    following = next(replies) if query.next_from is not None else None
    return SetStats(count, _lowest_score(lowest), below, _lowest_score(following))


def _series_data(req: SeriesRequest, replies: Iterator[Any]) -> SeriesData:
    """Take one request's replies, in the order RedisStore._queue_reads queued them."""
    panes = [_ints(next(replies)) for _ in req.panes]
    intervals = [_ints(next(replies)) for _ in req.intervals]
    hours = [_ints(next(replies)) for _ in req.hours]
    waiting = int(next(replies))
    oldest = next(replies)
    sets = {query.name: _set_stats(query, replies) for query in req.sets}
    agents = _ints(next(replies))
    totals = {k: v for k, v in _ints(next(replies)).items() if k not in MAX_FIELDS}
    live = Live(waiting, _lowest_score(oldest), agents, sets)
    return SeriesData(panes, intervals, hours, live, totals)


def _parsed(kind: str, reply: Any) -> Any:
    if kind == HASH:
        return _ints(reply)
    if kind == ZSET:
        return [score for _, score in reply]  # ZRANGE is in ascending score order
    if kind == AGENT:
        return None if reply is None else AgentState.from_dict(orjson.loads(reply))
    return set(reply)


class RedisStore:
    """AggregateStore on a Redis (or Valkey) server, through a synchronous client.

    Synchronous on purpose: the worker calls it from a thread so the event loop keeps
    consuming while a flush runs, and the exporter calls it from its scrape thread.
    """

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = "ccmon",
        retention_ms: int = 8 * 24 * _HOUR_MS,
        rollup_retention_ms: int = 396 * 24 * _HOUR_MS,
        dedupe_horizon_ms: int = 24 * _HOUR_MS,
        state_ttl_ms: int = 24 * _HOUR_MS,
        long_state_ttl_ms: int = 90 * 24 * _HOUR_MS,
        customer_ttl_ms: int | None = None,
        key_tag: str | None = None,
    ) -> None:
        self.client = client
        #: with a key tag every key is ``{prefix}:{{tag}}:...``: one Redis Cluster hash slot
        #: (docs/cluster.md); without one (the default) the keys are as documented above
        if key_tag is not None and (not key_tag or "{" in key_tag or "}" in key_tag):
            raise ValueError(f"key_tag must be non-empty text without braces, got {key_tag!r}")
        self.prefix = prefix if key_tag is None else f"{prefix}:{{{key_tag}}}"
        self.retention_ms = retention_ms
        #: hourly and daily rollups (p60, p1d) are kept this long (13 months by default)
        self.rollup_retention_ms = rollup_retention_ms
        self.dedupe_horizon_ms = dedupe_horizon_ms
        self.state_ttl_ms = state_ttl_ms
        #: contacts live a state TTL; agents change state rarely and live a week; tickets
        #: and customers live long, and so do the ticket live sets
        self.long_state_ttl_ms = long_state_ttl_ms
        self.state_ttls = {"contact": state_ttl_ms, "agent": state_ttl_ms * 7}
        if customer_ttl_ms is not None:
            self.state_ttls["customer"] = customer_ttl_ms
        self._flush_script = client.register_script(_FLUSH_LUA)
        self._hashes_script = client.register_script(_HASHES_LUA)
        self._digests_script = client.register_script(_DIGESTS_LUA)
        self._hashes: dict[str, tuple[str, str]] = {}
        self._groups: dict[tuple[str, ...], dict[str, int]] = {}
        self._groups_lock = threading.Lock()
        self._generation = ""
        self._mirror: KeyMirror | None = None
        #: the mirrored series set last parsed, and its series (see series)
        self._series_memo: tuple[AbstractSet[str], tuple[Series, ...]] | None = None
        self._tracking: Tracking | None = None
        #: per thread, when its reading() block began (monotonic s)
        self._local = threading.local()

    def mirror_reads(self) -> None:
        """Serve `read` and `series` from a local copy of the keys they read, kept current by
        the server's change notifications (CLIENT TRACKING): only changed keys are read again.

        For a process that reads much more than it writes (the exporter). Freshness: every
        write that completed before a read began is in that read. The panes, intervals,
        hours and totals of the SeriesData it returns are shared with later reads until
        their keys change: callers must not change them (none in ccmon does).
        """
        kinds = ("p1", "p15", "p60", "tot", "live", "z", "e1", "e15", "e60", "elive")
        prefixes = [self._key(kind, "") for kind in kinds]
        prefixes += [self._key("series", ""), self._key("agents", "")]
        prefixes.append(self._key(KEY_PARTS["agent"], ""))  # agents' states
        self._tracking = Tracking(self.client, prefixes)
        self._mirror = KeyMirror(self._tracking.changed, self._fetch, self.prefix)

    def _fetch(self, keys: list[tuple[str, str]]) -> list[Any]:
        """The parsed values of (key, kind) pairs, in one pipelined round trip."""
        pipe = self.client.pipeline(transaction=False)
        for key, kind in keys:
            if kind == HASH:
                pipe.hgetall(key)
            elif kind == ZSET:
                pipe.zrange(key, 0, -1, withscores=True)
            elif kind == AGENT:
                pipe.get(key)
            else:
                pipe.smembers(key)
        return [_parsed(kind, reply) for (_, kind), reply in zip(keys, pipe.execute(), strict=True)]

    @classmethod
    def from_url(
        cls, url: str, *, connection: dict[str, Any] | None = None, **kwargs: Any
    ) -> RedisStore:
        """A store on its own pool; `connection` adds redis-py options (TLS files)."""
        client = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=10, **(connection or {})
        )
        return cls(client, **kwargs)

    def _key(self, kind: str, rest: str) -> str:
        return f"{self.prefix}:{kind}:{rest}"

    def _series_key(self, kind: str, series: Series) -> str:
        return self._key(kind, f"{series[0]}|{series[1]}")

    def _set_key(self, name: str, series: Series) -> str:
        return self._key("z", f"{name}:{series[0]}|{series[1]}")

    def _payload(self, update: Update, now_ms: int, keys: _Keys) -> dict[str, Any]:
        """The flush script's JSON argument: every write of one update, grouped by command,
        each key named by its index in `keys` (which declares it)."""
        floor = now_ms + 60_000  # never expire a key that was just written
        return {
            "g": self._generation,
            "f": [[tp, str(a), str(b)] for tp, (a, b) in update.offsets.items()],
            "h": _flat(self._increments(update, floor), False, keys),
            "m": _flat(self._maxima(update, floor), True, keys),
            "z": self._set_rows(update, now_ms, keys),
            "d": self._dedupe_rows(update, now_ms, keys),
            "a": self._registry_rows(update, keys),
            "t": [[tp, str(t)] for tp, t in update.event_time.items()],
        }

    def _pane_targets(self, series: Series, pane: int, floor: int) -> list[_Target]:
        """The 1-minute, 15-minute, hourly and daily hashes a pane adds to, with their
        expiry: each level's retention after its bucket ends."""
        return [
            (
                self._series_key(level, series) + f":{start}",
                max(start + size + self._keep_ms(level), floor),
            )
            for level, start, size in buckets_of(pane)
        ]

    def _keep_ms(self, level: str) -> int:
        return level_retention_ms(level, self.retention_ms, self.rollup_retention_ms)

    def _increments(self, update: Update, floor: int) -> dict[_Target, dict[str, int]]:
        """HINCRBY amounts: pane sums into their buckets and all-time totals, then live."""
        incr: defaultdict[_Target, dict[str, int]] = defaultdict(dict)
        for (queue, channel, pane), deltas in update.sums.items():
            series = (queue, channel)
            totals = (self._series_key("tot", series), 0)
            for target in [*self._pane_targets(series, pane, floor), totals]:
                bucket = incr[target]
                for name, delta in deltas.items():
                    bucket[name] = bucket.get(name, 0) + delta
        for series, deltas in update.live.items():
            bucket = incr[(self._series_key("live", series), 0)]
            for name, delta in deltas.items():
                bucket[name] = bucket.get(name, 0) + delta
        for (scope, ident, pane), deltas in update.scoped.items():
            for target in self._entity_targets((scope, ident), pane, floor):
                bucket = incr[target]
                for name, delta in deltas.items():
                    bucket[name] = bucket.get(name, 0) + delta
        for entity, deltas in update.scoped_live.items():
            bucket = incr[(self._series_key("elive", entity), 0)]
            for name, delta in deltas.items():
                bucket[name] = bucket.get(name, 0) + delta
        return incr

    def _entity_targets(self, entity: tuple[str, str], pane: int, floor: int) -> list[_Target]:
        """A team's or agent's 1-minute (teams only), 15-minute and hourly hashes, all
        kept the panes' retention: teams and agents have no year-long rollups."""
        return [
            (
                self._series_key("e" + level[1:], entity) + f":{start}",
                max(start + size + self.retention_ms, floor),
            )
            for level, start, size in buckets_of(pane)
            if level != "p1d" and not (level == "p1" and entity[0] == AGENT_SCOPE)
        ]

    def _maxima(self, update: Update, floor: int) -> dict[_Target, dict[str, int]]:
        """Values each bucket keeps the largest of (merged by HSET when larger)."""
        maxes: defaultdict[_Target, dict[str, int]] = defaultdict(dict)
        for (queue, channel, pane), values in update.maxes.items():
            for target in self._pane_targets((queue, channel), pane, floor):
                bucket = maxes[target]
                for name, value in values.items():
                    bucket[name] = max(bucket.get(name, value), value)
        return maxes

    def _set_rows(self, update: Update, now_ms: int, keys: _Keys) -> list[_Row]:
        """Live set changes, each with the score below which members are trimmed.

        Trimmed below the newest event time, but never past the wall clock: events may run
        a little ahead of it (CCMON_MAX_FUTURE_S), and a read at `now` still counts the
        members younger than the TTL.
        """
        newest = min(max(update.event_time.values(), default=0), now_ms)
        sets: list[_Row] = []
        for (name, queue, channel), members in update.members.items():
            # Members older than their state's TTL (in event time) lost their last event.
            contact = name in (WAIT_SET, HANDLING_SET, CALLBACKS_SET)  # contacts' own sets
            ttl = self.state_ttl_ms if contact else self.long_state_ttl_ms
            row: _Row = [keys(self._set_key(name, (queue, channel))), str(newest - ttl)]
            for member, score in members.items():
                row += [member, "" if score is None else str(score)]
            sets.append(row)
        return sets

    def _dedupe_rows(self, update: Update, now_ms: int, keys: _Keys) -> list[_Row]:
        """Applied event ids by hour, each hour's hash expiring after the dedupe horizon."""
        seen: defaultdict[int, list[str]] = defaultdict(list)
        for event_id, t in update.seen.items():
            seen[t - t % _HOUR_MS].append(event_id)
        return [
            [
                keys(self._key("seen", str(hour))),
                str(max(hour + _HOUR_MS, now_ms) + self.dedupe_horizon_ms),
                *ids,
            ]
            for hour, ids in seen.items()
        ]

    def _registry_rows(self, update: Update, keys: _Keys) -> list[_Row]:
        """SADD rows (key index, members): every series the update writes, the queues new
        to the store, the agents and the teams or agents with live counts."""
        added: defaultdict[str, set[str]] = defaultdict(set)
        added[self._key("series", "all")].update(f"{q}|{c}" for q, c in _touched_series(update))
        added[self._key("queues", "all")].update(update.new_queues)
        added[self._key("agents", "all")].update(update.states.get("agent", ()))
        for scope, ident in update.scoped_live:
            added[self._key("ents", scope)].add(ident)
        return [[keys(key), *members] for key, members in added.items() if members]

    def flush(self, update: Update, now_ms: int) -> None:
        """One script call that declares every key it writes (see _FLUSH_LUA)."""
        keys = _Keys(
            [self._key("offsets", "all"), self._key("evtime", "all"), self._key("gen", "all")]
        )
        payload = orjson.dumps(self._payload(update, now_ms, keys))
        state_keys: list[str] = []
        states: list[str | bytes] = []
        for kind, changed in update.states.items():
            part, ttl = KEY_PARTS[kind], str(self.state_ttls.get(kind, self.long_state_ttl_ms))
            for entity, state in changed.items():
                state_keys.append(self._key(part, entity))
                states += [orjson.dumps(state.to_dict()), ttl]
        try:
            self._flush_script(keys=[*keys.names, *state_keys], args=[payload, *states])
        except redis.ResponseError as exc:
            if "LOST" in str(exc):
                raise StoreLostError(str(exc)) from exc
            if "FENCED" in str(exc):
                raise FencedError(str(exc)) from exc
            raise StoreError(f"flush failed: {exc}") from exc
        except redis.RedisError as exc:
            raise StoreError(f"flush failed: {exc}") from exc

    def claim_generation(self) -> str:
        key = self._key("gen", "all")
        marker = uuid.uuid4().hex
        self._call(lambda: self.client.set(key, marker, nx=True))
        self._generation = str(self._call(self.client.get, key))
        return self._generation

    def holds_generation(self) -> bool:
        held = self._call(self.client.get, self._key("gen", "all"))
        return not self._generation or held == self._generation

    def load_offsets(self) -> dict[str, int]:
        return _ints(self._call(self.client.hgetall, self._key("offsets", "all")))

    def event_times(self) -> dict[str, int]:
        return _ints(self._call(self.client.hgetall, self._key("evtime", "all")))

    def load_states(self, wanted: dict[str, set[str]]) -> dict[str, dict[str, Any]]:
        order = [(kind, sorted(ids)) for kind, ids in wanted.items() if ids]
        keys = [self._key(KEY_PARTS[kind], i) for kind, ids in order for i in ids]
        raw = iter(self._call(self.client.mget, keys) if keys else [])
        found: dict[str, dict[str, Any]] = {}
        for kind, ids in order:
            decode = DECODERS[kind]
            found[kind] = {
                i: None if v is None else decode(orjson.loads(v))
                for i, v in zip(ids, raw, strict=False)
            }
        return found

    def seen(self, events: dict[str, int]) -> set[str]:
        by_hour: defaultdict[int, list[str]] = defaultdict(list)
        for event_id, t in events.items():
            by_hour[t - t % _HOUR_MS].append(event_id)
        if not by_hour:
            return set()
        pipe = self.client.pipeline(transaction=False)
        for hour, ids in by_hour.items():
            pipe.hmget(self._key("seen", str(hour)), ids)
        replies = self._call(pipe.execute)
        return {
            event_id
            for ids, hits in zip(by_hour.values(), replies, strict=True)
            for event_id, hit in zip(ids, hits, strict=True)
            if hit is not None
        }

    def known_queues(self) -> set[str]:
        return set(self._call(self.client.smembers, self._key("queues", "all")))

    def series(self) -> list[Series]:
        members = self._set_members(self._key("series", "all"))
        memo = self._series_memo
        if memo is not None and memo[0] is members:  # the mirror's set, unchanged
            return list(memo[1])
        pairs = (m.split("|", 1) for m in members)
        found = sorted((queue, channel) for queue, channel in pairs)
        if self._mirror is not None:
            self._series_memo = (members, tuple(found))
        return found

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        outer = getattr(self._local, "began", None)
        if outer is None:
            self._local.began = time.monotonic()
        try:
            yield
        finally:
            if outer is None:
                self._local.began = None

    def _began(self) -> float:
        """When this read began: its reading() block's start, else now (monotonic s)."""
        began: float | None = getattr(self._local, "began", None)
        return time.monotonic() if began is None else began

    def _set_members(self, key: str) -> AbstractSet[str]:
        """A set's members, from the mirror when reads are mirrored (then the mirror's own
        set, the same object while the key is unchanged: not to be changed)."""
        if self._mirror is not None:
            began = self._began()
            with self._mirror.lock:
                found: AbstractSet[str] = self._call(self._mirror.refresh, {SET: [key]}, began)[key]
                return found
        return set(self._call(self.client.smembers, key))

    def read(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        """Read every request in one pipelined round trip; waits older than a state TTL
        no longer count (their contacts lost their last event)."""
        floor = now_ms - self.state_ttl_ms
        if self._mirror is not None:
            return self._mirrored_read(self._mirror, requests, floor)
        pipe = self.client.pipeline(transaction=False)
        for req in requests:
            self._queue_reads(pipe, req, floor)
        replies = iter(self._call(pipe.execute))
        return [_series_data(req, replies) for req in requests]

    def read_buckets(
        self, requests: list[BucketRequest], now_ms: int
    ) -> list[list[dict[str, int]]]:
        """Long reads (intervals, hours, days) by read-only scripts, at most 4,096 hashes a
        call, summed `per` buckets at a time here; never from the mirror: they are one-off
        reads of many keys the mirror would only hold briefly.

        The hashes read are kept (at most 8,192) with the digest of their content: when
        most of a read's are kept, the server is first asked only for digests, and only the
        changed hashes are read. A group's sum is kept by the exact replies it was made from
        (at most 4,096) and handed out again while they are the same: callers can tell an
        unchanged group by identity, and must not change the dicts (they are shared).
        """
        out = []
        for req in requests:
            base = self._series_key(req.level, req.series) + ":"
            raw = self._raw_hashes([base + str(start) for start in req.starts])
            groups = range(0, len(raw), req.per)
            out.append([self._group(tuple(raw[i : i + req.per])) for i in groups])
        return out

    def _raw_hashes(self, keys: list[str]) -> list[str]:
        """Each hash as _HASHES_LUA replies it, the unchanged ones from those kept."""
        kept = self._hashes
        held = [kept.get(key) for key in keys]
        stale = keys
        if 2 * sum(h is not None for h in held) >= len(keys):
            digests = self._scripted(self._digests_script, keys)
            pairs = zip(keys, held, digests, strict=True)
            stale = [k for k, h, digest in pairs if h is None or h[0] != digest]
        fresh = dict(zip(stale, self._scripted(self._hashes_script, stale), strict=True))
        found = [
            h[1] if h is not None and k not in fresh else fresh[k][1]
            for k, h in zip(keys, held, strict=True)
        ]
        with self._groups_lock:
            for key, (digest, raw) in fresh.items():
                if len(kept) >= _HASHES_KEPT and key not in kept:
                    del kept[next(iter(kept))]
                kept[key] = (digest, raw)
        return found

    def _scripted(self, script: Any, keys: list[str]) -> list[Any]:
        """A read script's replies for `keys`, at most _HASHES_PER_CALL keys a call."""
        replies: list[Any] = []
        for i in range(0, len(keys), _HASHES_PER_CALL):
            chunk = keys[i : i + _HASHES_PER_CALL]
            replies += self._call(lambda c=chunk: script(keys=c))
        return replies

    def _group(self, raws: tuple[str, ...]) -> dict[str, int]:
        """The summed group of these replies: kept, or made and kept (oldest dropped)."""
        groups = self._groups
        found = groups.get(raws)
        if found is None:
            found = _summed(raws)
            with self._groups_lock:
                if len(groups) >= _GROUPS_KEPT:
                    del groups[next(iter(groups))]
                groups[raws] = found
        return found

    def _queue_reads(self, pipe: Pipeline, req: SeriesRequest, floor: int) -> None:
        """Queue one request's commands, in the order _series_data takes the replies."""
        for pane in req.panes:
            pipe.hgetall(self._series_key("p1", req.series) + f":{pane}")
        for interval in req.intervals:
            pipe.hgetall(self._series_key("p15", req.series) + f":{interval}")
        for hour in req.hours:
            pipe.hgetall(self._series_key("p60", req.series) + f":{hour}")
        wait_key = self._set_key(WAIT_SET, req.series)
        pipe.zcount(wait_key, floor, "+inf")
        pipe.zrangebyscore(wait_key, floor, "+inf", start=0, num=1, withscores=True)
        for query in req.sets:
            key = self._set_key(query.name, req.series)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            for bound in query.bounds:
                pipe.zcount(key, "-inf", f"({bound}")
            if query.next_from is not None:
                pipe.zrangebyscore(key, query.next_from, "+inf", 0, 1, withscores=True)
        pipe.hgetall(self._series_key("live", req.series))
        pipe.hgetall(self._series_key("tot", req.series))

    def _read_keys(self, req: SeriesRequest) -> ReadKeys:
        """The keys one request reads: pane, interval and hour hashes, wait set, live sets,
        live and totals hashes."""
        name = f"{req.series[0]}|{req.series[1]}"
        p1, p15, p60 = (self._key(kind, f"{name}:") for kind in ("p1", "p15", "p60"))
        return ReadKeys(
            [p1 + str(pane) for pane in req.panes],
            [p15 + str(start) for start in req.intervals],
            [p60 + str(hour) for hour in req.hours],
            self._set_key(WAIT_SET, req.series),
            [self._set_key(query.name, req.series) for query in req.sets],
            self._series_key("live", req.series),
            self._series_key("tot", req.series),
        )

    def _scoped_read_keys(self, req: SeriesRequest) -> ReadKeys:
        """The keys of a team or agent request; its wait set and totals are never written
        (they read as empty), so the mirror plans it like a series."""
        p1, p15, p60 = (self._series_key(kind, req.series) + ":" for kind in ("e1", "e15", "e60"))
        return ReadKeys(
            [p1 + str(pane) for pane in req.panes],
            [p15 + str(start) for start in req.intervals],
            [p60 + str(hour) for hour in req.hours],
            self._set_key(WAIT_SET, req.series),
            [],
            self._series_key("elive", req.series),
            self._series_key("tot", req.series),
        )

    def _mirrored_read(
        self,
        mirror: KeyMirror,
        requests: list[SeriesRequest],
        floor: int,
        keys_of: Callable[[SeriesRequest], ReadKeys] | None = None,
    ) -> list[SeriesData]:
        """read() from the mirror: the same SeriesData, the live sets counted locally."""
        planner = self._read_keys if keys_of is None else keys_of
        began = self._began()
        with mirror.lock:
            mirror.start_read()
            plans = [mirror.plan(req, planner) for req in requests]
        hashes: list[str] = []
        zsets: list[str] = []
        for _, plan in plans:
            hashes += plan.panes
            hashes += plan.intervals
            hashes += plan.hours
            hashes += (plan.live, plan.totals)
            zsets.append(plan.wait)
            zsets += plan.sets
        with mirror.lock:
            self._call(mirror.refresh, {HASH: hashes, ZSET: zsets}, began)
            return [
                mirror.data(req, asked, plan, floor)
                for req, (asked, plan) in zip(requests, plans, strict=True)
            ]

    def read_scoped(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        """Team and agent reads, in one pipelined round trip; team reads from the mirror
        when there is one (team names hold neither ':' nor '|', agent ids may)."""
        requests = [dataclasses.replace(req, sets=()) for req in requests]
        if self._mirror is not None and all(r.series[0] == TEAM_SCOPE for r in requests):
            return self._mirrored_read(self._mirror, requests, 0, self._scoped_read_keys)
        pipe = self.client.pipeline(transaction=False)
        for req in requests:
            for level, starts in (("e1", req.panes), ("e15", req.intervals), ("e60", req.hours)):
                for start in starts:
                    pipe.hgetall(self._series_key(level, req.series) + f":{start}")
            pipe.hgetall(self._series_key("elive", req.series))
        replies = iter(self._call(pipe.execute))
        out = []
        for req in requests:
            panes = [_ints(next(replies)) for _ in req.panes]
            intervals = [_ints(next(replies)) for _ in req.intervals]
            hours = [_ints(next(replies)) for _ in req.hours]
            live = Live(agents=_ints(next(replies)))
            out.append(SeriesData(panes, intervals, hours, live, {}))
        return out

    def entities(self, scope: str) -> list[str]:
        return sorted(self._call(self.client.smembers, self._key("ents", scope)))

    def agent_states(self, agent_ids: set[str] | None = None) -> dict[str, AgentState]:
        known = self._set_members(self._key("agents", "all")) if agent_ids is None else agent_ids
        ids = sorted(known)
        if not ids:
            return {}
        part = KEY_PARTS["agent"]
        if self._mirror is not None:  # only the agents that changed are read and parsed
            keys = [self._key(part, i) for i in ids]
            began = self._began()
            with self._mirror.lock:
                values = self._call(self._mirror.refresh, {AGENT: keys}, began)
                mirrored = {i: values[k] for i, k in zip(ids, keys, strict=True)}
            return {i: state for i, state in mirrored.items() if state is not None}
        raw = self._call(self.client.mget, [self._key(part, i) for i in ids])
        return {
            i: AgentState.from_dict(orjson.loads(v))
            for i, v in zip(ids, raw, strict=True)
            if v is not None
        }

    def set_members(
        self, name: str, series: list[Series], now_ms: int
    ) -> dict[Series, dict[str, int]]:
        if not series:
            return {}
        floor = now_ms - self.state_ttl_ms
        pipe = self.client.pipeline(transaction=False)
        for s in series:
            pipe.zrangebyscore(self._set_key(name, s), floor, "+inf", withscores=True)
        replies = self._call(pipe.execute)
        return {
            s: {member: int(score) for member, score in reply}
            for s, reply in zip(series, replies, strict=True)
        }

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    @staticmethod
    def _call(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise StoreError(str(exc)) from exc
