"""How every Kafka client ccmon makes connects: servers and, in one place, security.

Each aiokafka client (the worker's consumer and producer, the producers' sink, the
exporter's snapshot producer, topic creation, the ingest) takes ``**kafka_options(settings)``,
so a security setting reaches all of them at once.
"""

from __future__ import annotations

from typing import Any

from streams.settings import Settings

__all__ = ["kafka_options"]


def kafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaConsumer, AIOKafkaProducer and AIOKafkaAdminClient."""
    return {"bootstrap_servers": settings.brokers}
