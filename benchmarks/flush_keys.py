"""The flush with every key declared, against the flush before it: ``python -m
benchmarks.flush_keys``.

Records the Updates ``streams.consume.Pipeline`` drains from the deterministic events of
``benchmarks.run`` (same seed, one flush per getmany-sized batch), then writes them through
``RedisStore.flush`` (the script names every key in KEYS, the payload refers to them by
index: legal on Redis Cluster) and through ``LegacyFlushStore`` (the script as it was: keys
named inside the JSON payload, undeclared), alternately on one server, each round on an
emptied database. Reports the median wall time and client CPU of a round per variant and
their ratio, and checks that both leave exactly the same keys, values and expiry times.
``--cluster`` adds a third variant: the new flush with a key tag (every key in one hash
slot) onto a local three-primary Redis Cluster (streams.localservers.LocalRedisCluster).
Figures go to benchmarks/results/flush-keys.json (``--out`` for another file).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import orjson
import redis
from prometheus_client import CollectorRegistry
from redis.cluster import ClusterNode, RedisCluster

from benchmarks.local_redis import redis_server
from benchmarks.throughput_inproc import batches
from metrics.config.queues import QueuesConfig
from metrics.core.contacts import CALLBACKS_SET, HANDLING_SET
from metrics.core.states import KEY_PARTS
from metrics.core.update import Update
from metrics.store.base import WAIT_SET, FencedError, StoreError, StoreLostError
from metrics.store.memory import InMemoryStore
from metrics.store.redis import RedisStore, _Target, _touched_series
from streams.consume import Pipeline
from streams.health import WorkerMetrics
from streams.localservers import LazyTempDir, LocalRedisCluster, find_redis_binary
from streams.outbox import InMemoryOutbox
from streams.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
_HOUR_MS = 3_600_000

# The flush script before its keys were declared, kept verbatim for the side-by-side.
_LEGACY_FLUSH_LUA = """
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
  for i = 3, #h, 2 do redis.call('HINCRBY', h[1], h[i], h[i + 1]) end
  if h[2] ~= '0' then redis.call('PEXPIREAT', h[1], h[2]) end
end
for _, h in ipairs(p.m) do
  for i = 3, #h, 2 do
    local cur = redis.call('HGET', h[1], h[i])
    if not cur or tonumber(cur) < tonumber(h[i + 1]) then
      redis.call('HSET', h[1], h[i], h[i + 1])
    end
  end
  redis.call('PEXPIREAT', h[1], h[2])
end
for _, z in ipairs(p.z) do
  for i = 3, #z, 2 do
    if z[i + 1] == '' then redis.call('ZREM', z[1], z[i])
    else redis.call('ZADD', z[1], z[i + 1], z[i]) end
  end
  redis.call('ZREMRANGEBYSCORE', z[1], '-inf', '(' .. z[2])
end
for i = 2, #ARGV, 3 do redis.call('SET', ARGV[i], ARGV[i + 1], 'PX', ARGV[i + 2]) end
for _, h in ipairs(p.d) do
  local args = {}
  for i = 3, #h do
    args[#args + 1] = h[i]
    args[#args + 1] = '1'
    if #args == 1000 or i == #h then
      redis.call('HSET', h[1], unpack(args))
      args = {}
    end
  end
  redis.call('PEXPIREAT', h[1], h[2])
end
for _, m in ipairs(p.a) do redis.call('SADD', m[1], m[2]) end
for _, t in ipairs(p.t) do
  local cur = redis.call('HGET', KEYS[2], t[1])
  if not cur or tonumber(cur) < tonumber(t[2]) then redis.call('HSET', KEYS[2], t[1], t[2]) end
end
return 'OK'
"""


def _legacy_flat(entries: dict[_Target, dict[str, int]], keep_zero: bool) -> list[list[str]]:
    rows = []
    for (key, expiry), fields in entries.items():
        row = [key, str(expiry)]
        for name, value in fields.items():
            if value or keep_zero:
                row += [name, str(value)]
        if len(row) > 2:
            rows.append(row)
    return rows


class LegacyFlushStore(RedisStore):
    """RedisStore with the flush as it was before its keys were declared (verbatim)."""

    def __init__(self, client: redis.Redis, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self._legacy_script = client.register_script(_LEGACY_FLUSH_LUA)

    def _legacy_payload(self, update: Update, now_ms: int) -> dict[str, Any]:
        floor = now_ms + 60_000
        return {
            "g": self._generation,
            "f": [[tp, str(a), str(b)] for tp, (a, b) in update.offsets.items()],
            "h": _legacy_flat(self._increments(update, floor), keep_zero=False),
            "m": _legacy_flat(self._maxima(update, floor), keep_zero=True),
            "z": self._legacy_set_rows(update, now_ms),
            "d": self._legacy_dedupe_rows(update, now_ms),
            "a": self._legacy_registry_rows(update),
            "t": [[tp, str(t)] for tp, t in update.event_time.items()],
        }

    def _legacy_set_rows(self, update: Update, now_ms: int) -> list[list[str]]:
        newest = min(max(update.event_time.values(), default=0), now_ms)
        sets = []
        for (name, queue, channel), members in update.members.items():
            contact = name in (WAIT_SET, HANDLING_SET, CALLBACKS_SET)
            ttl = self.state_ttl_ms if contact else self.long_state_ttl_ms
            row = [self._set_key(name, (queue, channel)), str(newest - ttl)]
            for member, score in members.items():
                row += [member, "" if score is None else str(score)]
            sets.append(row)
        return sets

    def _legacy_dedupe_rows(self, update: Update, now_ms: int) -> list[list[str]]:
        seen: defaultdict[int, list[str]] = defaultdict(list)
        for event_id, t in update.seen.items():
            seen[t - t % _HOUR_MS].append(event_id)
        return [
            [
                self._key("seen", str(hour)),
                str(max(hour + _HOUR_MS, now_ms) + self.dedupe_horizon_ms),
                *ids,
            ]
            for hour, ids in seen.items()
        ]

    def _legacy_registry_rows(self, update: Update) -> list[list[str]]:
        added = [[self._key("series", "all"), f"{q}|{c}"] for q, c in _touched_series(update)]
        added += [[self._key("queues", "all"), q] for q in update.new_queues]
        added += [[self._key("agents", "all"), a] for a in update.states.get("agent", ())]
        added += [[self._key("ents", scope), ident] for scope, ident in update.scoped_live]
        return added

    def flush(self, update: Update, now_ms: int) -> None:
        payload = orjson.dumps(self._legacy_payload(update, now_ms))
        states: list[str | bytes] = []
        for kind, changed in update.states.items():
            part, ttl = KEY_PARTS[kind], str(self.state_ttls.get(kind, self.long_state_ttl_ms))
            for entity, state in changed.items():
                states += [self._key(part, entity), orjson.dumps(state.to_dict()), ttl]
        keys = [self._key("offsets", "all"), self._key("evtime", "all"), self._key("gen", "all")]
        try:
            self._legacy_script(keys=keys, args=[payload, *states])
        except redis.ResponseError as exc:
            if "LOST" in str(exc):
                raise StoreLostError(str(exc)) from exc
            if "FENCED" in str(exc):
                raise FencedError(str(exc)) from exc
            raise StoreError(f"flush failed: {exc}") from exc


class _Recording(InMemoryStore):
    """The in-memory twin, keeping every Update it is given (and the time it was given)."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[tuple[Update, int]] = []

    def flush(self, update: Update, now_ms: int) -> None:
        self.flushed.append((update, now_ms))
        super().flush(update, now_ms)


def record(n: int, seed: int, batch: int) -> list[tuple[Update, int]]:
    """The Updates the pipeline drains, one per batch of ``batch`` records."""

    async def go() -> list[tuple[Update, int]]:
        store = _Recording()

        async def commit(offsets: dict[str, int]) -> None:
            return None

        metrics = WorkerMetrics.create(CollectorRegistry())
        pipeline = Pipeline(Settings(), QueuesConfig(), store, InMemoryOutbox(), metrics, commit)
        await pipeline.start()
        for work in batches(n, seed, batch):
            await pipeline.process(work)
            await pipeline.flush_all()
        return [(u, now) for u, now in store.flushed if not u.is_empty()]

    return asyncio.run(go())


def contents(client: redis.Redis) -> str:
    """A hash of every key: its type, value and expiry time (strings: whether they expire,
    their TTL runs from the moment of the flush)."""
    found: dict[str, Any] = {}
    for key in sorted(client.scan_iter(count=1000)):
        kind = client.type(key)
        if kind == "hash":
            value: Any = sorted(client.hgetall(key).items())
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = sorted(client.smembers(key))
        else:
            value = client.get(key)
        expiry = client.execute_command("PEXPIRETIME", key)
        found[key] = (kind, value, expiry > 0 if kind == "string" else expiry)
    return hashlib.sha256(orjson.dumps(found)).hexdigest()[:16]


def _script_seconds(client: redis.Redis | RedisCluster) -> float:
    """The servers' time in EVALSHA since the last CONFIG RESETSTAT (0 when not allowed);
    on a cluster, summed over its primaries."""
    try:
        if isinstance(client, RedisCluster):
            infos = [client.info("commandstats", target_nodes=n) for n in client.get_primaries()]
        else:
            infos = [client.info("commandstats")]
    except redis.RedisError:
        return 0.0
    usec = sum(float(i.get("cmdstat_evalsha", {}).get("usec", 0)) for i in infos)
    return usec / 1e6


def one_round(store: RedisStore, updates: list[tuple[Update, int]]) -> tuple[float, float, float]:
    """Wall, client CPU and server script seconds to flush every update onto an emptied
    database."""
    client: Any = store.client  # a RedisCluster for the cluster variant
    if isinstance(client, RedisCluster):
        client.flushall(target_nodes=RedisCluster.PRIMARIES)
        with contextlib.suppress(redis.RedisError):
            client.config_resetstat(target_nodes=RedisCluster.PRIMARIES)
    else:
        client.flushdb()
        with contextlib.suppress(redis.RedisError):
            client.config_resetstat()
    wall, cpu = time.perf_counter(), time.process_time()
    for update, now_ms in updates:
        store.flush(update, now_ms)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, _script_seconds(client)


@contextlib.contextmanager
def _local_cluster() -> Iterator[RedisCluster]:
    """A three-primary cluster of the local binary (streams.localservers), stopped after."""
    found = find_redis_binary()
    if found is None:
        raise SystemExit("no valkey-server/redis-server found for --cluster")
    workdir = LazyTempDir(prefix="bench-redis-cluster-")
    cluster = LocalRedisCluster(found[0], found[1], workdir.path)
    try:
        nodes = cluster.start()
        client = RedisCluster(
            startup_nodes=[ClusterNode(h, p) for h, p in nodes],
            decode_responses=True,
            socket_timeout=60,
        )
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.stop()
        workdir.cleanup()


def run(args: argparse.Namespace) -> dict[str, Any]:
    updates = record(args.n, args.seed, args.batch)
    events = sum(len(u.seen) for u, _ in updates)
    with contextlib.ExitStack() as stack:
        url, where = stack.enter_context(redis_server())
        client = redis.Redis.from_url(url, decode_responses=True, socket_timeout=60)
        stack.callback(client.close)
        stores: dict[str, RedisStore] = {
            "before": LegacyFlushStore(client),
            "after": RedisStore(client),
        }
        digests = {}
        for name, store in stores.items():
            one_round(store, updates)  # warm: scripts loaded, allocator grown
            digests[name] = contents(client)
        if args.cluster:
            cluster = stack.enter_context(_local_cluster())
            # RedisCluster is not a redis.Redis, but answers every call the flush makes
            stores["after_cluster_tagged"] = RedisStore(cast(redis.Redis, cluster), key_tag="p0")
            one_round(stores["after_cluster_tagged"], updates)
        took: dict[str, list[tuple[float, float, float]]] = {name: [] for name in stores}
        for _ in range(args.rounds):
            for name, store in stores.items():
                took[name].append(one_round(store, updates))
    figures: dict[str, Any] = {}
    for name, rounds in took.items():
        wall = statistics.median(r[0] for r in rounds)
        cpu = statistics.median(r[1] for r in rounds)
        server = statistics.median(r[2] for r in rounds)
        figures[name] = {
            "round_wall_ms": round(wall * 1e3, 1),
            "round_wall_ms_min": round(min(r[0] for r in rounds) * 1e3, 1),
            "round_client_cpu_ms": round(cpu * 1e3, 1),
            "round_server_script_ms": round(server * 1e3, 1),
            "flush_wall_ms": round(wall * 1e3 / len(updates), 2),
        }
    before, after = figures["before"], figures["after"]
    return {
        "benchmark": "flush_keys",
        "redis": where,
        "events": events,
        "updates": len(updates),
        "events_per_update": round(events / len(updates)),
        "rounds": args.rounds,
        "same_contents": digests["before"] == digests["after"],
        "digests": digests,
        **figures,
        "ratio_wall_after_over_before": round(after["round_wall_ms"] / before["round_wall_ms"], 3),
        "ratio_client_cpu_after_over_before": round(
            after["round_client_cpu_ms"] / before["round_client_cpu_ms"], 3
        ),
        "ratio_server_script_after_over_before": round(
            after["round_server_script_ms"] / max(before["round_server_script_ms"], 1e-9), 3
        ),
        **(
            {
                "ratio_wall_cluster_over_after": round(
                    figures["after_cluster_tagged"]["round_wall_ms"] / after["round_wall_ms"], 3
                )
            }
            if "after_cluster_tagged" in figures
            else {}
        ),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="events")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--batch", type=int, default=10_000, help="records per flush")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="also flush with a key tag onto a local three-primary Redis Cluster",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "benchmarks/results/flush-keys.json"
    )
    args = parser.parse_args(argv)
    results = run(args)
    text = orjson.dumps(results, option=orjson.OPT_INDENT_2)
    args.out.write_bytes(text + b"\n")
    print(text.decode())
    return 0 if results["same_contents"] else 1


if __name__ == "__main__":
    sys.exit(main())
