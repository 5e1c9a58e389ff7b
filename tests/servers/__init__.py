"""Real Kafka-protocol and Redis-protocol servers for ccmon's integration tests.

Import as ``tests.servers``; the pytest side
(fixtures, header line) lives in :mod:`servers.plugin`; quirks are in README.md here.
"""

from .kafka_server import KafkaServer, find_tansu_binary
from .probes import kafka_api_versions, redis_ping
from .process import ManagedProcess, ServerStartError, free_port
from .redis_server import RedisServer, find_redis_binary
from .topics import DEFAULT_TOPIC_CONFIGS, create_topic, create_topics, unique_name

__all__ = [
    "DEFAULT_TOPIC_CONFIGS",
    "KafkaServer",
    "ManagedProcess",
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
