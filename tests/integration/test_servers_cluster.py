"""The cluster fixture is a real Redis Cluster: three primaries, every slot served, keys
spread over all three, and scripts held to the keys they declare (one slot per call)."""

from __future__ import annotations

from collections import Counter

import pytest
import redis
from redis.cluster import RedisCluster

from tests.servers.redis_cluster import SLOTS, RedisClusterServer

pytestmark = pytest.mark.integration


def _node_client(host: str, port: int) -> redis.Redis:
    return redis.Redis(host=host, port=port, socket_timeout=5, decode_responses=True)


def test_three_primaries_cover_every_slot(redis_cluster: RedisClusterServer) -> None:
    host, port = redis_cluster.nodes[0]
    node = _node_client(host, port)
    try:
        info = node.cluster("INFO")
        lines = node.execute_command("CLUSTER", "NODES").splitlines()
        slots = node.execute_command("CLUSTER", "SLOTS")
    finally:
        node.close()
    assert info["cluster_state"] == "ok"
    assert int(info["cluster_slots_assigned"]) == SLOTS
    assert int(info["cluster_size"]) == 3  # primaries serving slots
    flags = [line.split()[2] for line in lines]
    assert sorted(f.replace("myself,", "") for f in flags) == ["master"] * 3
    covered = sorted((int(r[0]), int(r[1])) for r in slots)
    assert covered[0][0] == 0 and covered[-1][1] == SLOTS - 1
    assert sum(high - low + 1 for low, high in covered) == SLOTS
    assert all(a[1] + 1 == b[0] for a, b in zip(covered, covered[1:], strict=False))


def test_cluster_client_writes_keys_to_all_three(redis_cluster_clean: RedisCluster) -> None:
    client = redis_cluster_clean
    keys = [f"spread:{i}" for i in range(60)]
    for i, key in enumerate(keys):
        client.set(key, str(i))
    assert client.mget_nonatomic(keys) == [str(i) for i in range(60)]
    expected = Counter(client.get_node_from_key(key).name for key in keys)
    counted = {node.name: int(client.dbsize(target_nodes=node)) for node in client.get_primaries()}
    assert len(counted) == 3
    assert counted == dict(expected)
    assert all(n > 0 for n in counted.values())


def test_scripts_run_on_declared_keys_of_one_slot(redis_cluster_clean: RedisCluster) -> None:
    client = redis_cluster_clean
    script = client.register_script(
        "redis.call('HINCRBY', KEYS[1], 'n', ARGV[1]) "
        "redis.call('HINCRBY', KEYS[2], 'n', ARGV[1]) return 'OK'"
    )
    # one hash tag: one slot, one node
    assert script(keys=["t:{p3}:a", "t:{p3}:b"], args=[5]) == "OK"
    assert client.hget("t:{p3}:a", "n") == "5"
    assert client.hget("t:{p3}:b", "n") == "5"
    assert client.keyslot("t:{p3}:a") == client.keyslot("t:{p3}:b")
    # keys of two slots in one call are refused before anything is written
    assert client.keyslot("t:a") != client.keyslot("t:b")
    with pytest.raises(redis.RedisClusterException, match="same key slot"):
        script(keys=["t:a", "t:b"], args=[1])
    assert client.exists("t:a", "t:b") == 0


def test_server_refuses_a_script_writing_an_undeclared_key(
    redis_cluster_clean: RedisCluster,
) -> None:
    """What ccmon's flush script did before it declared its keys: named them in ARGV."""
    client = redis_cluster_clean
    script = client.register_script(
        "redis.call('SET', KEYS[1], '1') redis.call('SET', ARGV[1], '1') return 'OK'"
    )
    home = client.get_node_from_key("t:{p3}:a").name
    other = next(
        k for k in (f"t:x{i}" for i in range(100)) if client.get_node_from_key(k).name != home
    )
    with pytest.raises(redis.ResponseError, match="(?i)slot|non local"):
        script(keys=["t:{p3}:a"], args=[other])
    assert client.exists(other) == 0
