"""Real Kafka-protocol and Redis-protocol servers for ccmon's integration tests.

Import as ``tests.servers``; the pytest side
(fixtures, header line) lives in :mod:`servers.plugin`; quirks are in README.md here.
The local Tansu and Valkey processes are started by :mod:`streams.localservers`, the same
code `ccmon demo` uses.
"""

from streams.localservers import (
    ManagedProcess,
    ServerStartError,
    find_redis_binary,
    find_tansu_binary,
    free_port,
    kafka_api_versions,
    redis_ping,
)
from streams.topics import (
    DEFAULT_TOPIC_CONFIGS,
    create_topic,
    create_topics,
    unique_name,
)

from .kafka_server import KafkaServer
from .redis_cluster import RedisClusterServer
from .redis_server import RedisServer

__all__ = [
    "DEFAULT_TOPIC_CONFIGS",
    "KafkaServer",
    "ManagedProcess",
    "RedisClusterServer",
    "RedisServer",
    "ServerStartError",
    "create_topic",
    "create_topics",
    "find_redis_binary",
    "find_tansu_binary",
    "free_port",
    "kafka_api_versions",
    "redis_ping",
    "unique_name",
]
