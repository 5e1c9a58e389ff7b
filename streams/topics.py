"""Every topic ccmon creates, through one creator that behaves the same on Apache Kafka and Tansu.

The worker and the producers create the events and dead-letter topics (:func:`ensure_topics`),
the exporter the compacted snapshots topic (:func:`ensure_snapshots_topic`); the test fixtures
and the benchmarks call :func:`create_topics` directly.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code

from metrics.errors import CcmonError
from streams.connections import kafka_options

if TYPE_CHECKING:
    from streams.settings import Settings

__all__ = [
    "DEFAULT_TOPIC_CONFIGS",
    "SNAPSHOT_TOPIC_CONFIGS",
    "TopicError",
    "create_topic",
    "create_topics",
    "ensure_snapshots_topic",
    "ensure_topics",
    "unique_name",
]

log = logging.getLogger(__name__)

#: Always sent at creation. Tansu's DescribeConfigs only returns configs that were set
#: explicitly when the topic was created, so clients (e.g. Faust) that read them back would
#: see nothing otherwise; on Apache Kafka they just restate the defaults.
DEFAULT_TOPIC_CONFIGS: Final[Mapping[str, str]] = {
    "retention.ms": "604800000",  # 7 days
    "cleanup.policy": "delete",
}

#: The snapshots topic keeps the latest snapshot per queue (compacted, no time retention).
SNAPSHOT_TOPIC_CONFIGS: Final[Mapping[str, str]] = {
    "cleanup.policy": "compact",
    "min.compaction.lag.ms": "0",
}

_TOPIC_ALREADY_EXISTS = 36
_MAX_TOPIC_LEN = 249


class TopicError(CcmonError, RuntimeError):
    """The broker refused to create a topic, or one exists with another partition count."""


def unique_name(prefix: str = "t", hint: str = "") -> str:
    """``prefix-hint-<8 hex>``, restricted to the characters Kafka allows in topic names."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", hint).strip("-").lower()[:60]
    parts = [p for p in (re.sub(r"[^a-zA-Z0-9._-]+", "-", prefix), slug) if p]
    return "-".join([*parts, uuid.uuid4().hex[:8]])[:_MAX_TOPIC_LEN]


def _leaders_ready(described: list[dict[str, Any]], wanted: Mapping[str, int]) -> bool:
    """True when every wanted topic is known and each partition has a leader."""
    by_name = {t["topic"]: t for t in described}
    for name, partitions in wanted.items():
        topic = by_name.get(name)
        if topic is None or topic["error_code"] != 0:
            return False
        parts = topic["partitions"]
        if len(parts) != partitions or any(p["leader"] < 0 or p["error_code"] for p in parts):
            return False
    return True


async def create_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    *,
    configs: Mapping[str, str] | None = None,
    exist_ok: bool = False,
    timeout_s: float = 30.0,
    defaults: Mapping[str, str] = DEFAULT_TOPIC_CONFIGS,
    options: Mapping[str, Any] | None = None,
) -> None:
    """Create ``{name: partitions}`` (replication factor 1) and wait until all have leaders.

    ``configs`` are merged over ``defaults``; ``options`` are the admin client's connection
    keywords (``kafka_options(settings)``: security protocol, TLS, SASL). Raises TopicError
    naming the broker error per topic; with ``exist_ok`` an existing topic is accepted if
    its partition count matches. Waiting for leaders avoids NotLeaderForPartition on the
    first produce to Apache Kafka, which answers CreateTopics before the broker has the new
    metadata.
    """
    if not topics:
        return
    topic_configs = {**defaults, **(configs or {})}
    admin = AIOKafkaAdminClient(
        **{**(options or {}), "bootstrap_servers": bootstrap},
        request_timeout_ms=int(timeout_s * 1000),
    )
    await admin.start()
    try:
        async with asyncio.timeout(timeout_s):
            response = await admin.create_topics(
                [NewTopic(name, n, 1, topic_configs=topic_configs) for name, n in topics.items()],
                timeout_ms=int(timeout_s * 1000),
            )
            errors = _refusals(response.topic_errors, exist_ok)
            if errors:
                raise TopicError(f"CreateTopics on {bootstrap} failed: " + "; ".join(errors))
            await _wait_for_leaders(admin, topics)
    except TimeoutError:
        raise TimeoutError(
            f"topics {sorted(topics)} not created with leaders on {bootstrap} within {timeout_s}s"
        ) from None
    finally:
        await admin.close()


def _refusals(topic_errors: list[tuple[Any, ...]], exist_ok: bool) -> list[str]:
    """'name: ErrorName (code) message' of each topic the broker did not create."""
    errors: list[str] = []
    for entry in topic_errors:  # (topic, code) in v0, (topic, code, msg) in v1+
        name, code = entry[0], entry[1]
        if code == 0 or (exist_ok and code == _TOPIC_ALREADY_EXISTS):
            continue
        message = entry[2] if len(entry) > 2 and entry[2] else ""
        errors.append(f"{name}: {for_code(code).__name__} ({code}) {message}".rstrip())
    return errors


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: Mapping[str, int]) -> None:
    """Poll until every partition has a leader; TopicError on a partition-count mismatch."""
    delay = 0.02
    while True:
        described = await admin.describe_topics(list(topics))
        if _leaders_ready(described, topics):
            return
        for t in described:
            want = topics.get(t["topic"])
            have = len(t["partitions"])
            if want is not None and t["error_code"] == 0 and have and have != want:
                raise TopicError(f"topic {t['topic']} exists with {have} partitions, wanted {want}")
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.25)


async def create_topic(
    bootstrap: str,
    name: str,
    partitions: int = 1,
    *,
    configs: Mapping[str, str] | None = None,
    exist_ok: bool = False,
    timeout_s: float = 30.0,
    options: Mapping[str, Any] | None = None,
) -> str:
    """Create one topic (see :func:`create_topics`) and return its name."""
    await create_topics(
        bootstrap,
        {name: partitions},
        configs=configs,
        exist_ok=exist_ok,
        timeout_s=timeout_s,
        options=options,
    )
    return name


async def _create_missing(
    settings: Settings,
    names: Sequence[str],
    *,
    configs: Mapping[str, str] | None = None,
    defaults: Mapping[str, str] = DEFAULT_TOPIC_CONFIGS,
) -> list[str]:
    """Create those of ``names`` the broker lacks, with the settings' partitions; their names."""
    options = kafka_options(settings)
    admin = AIOKafkaAdminClient(**options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    missing = [name for name in names if name not in existing]
    if missing:
        await create_topics(
            settings.brokers,
            dict.fromkeys(missing, settings.topic_partitions),
            configs=configs,
            exist_ok=True,
            defaults=defaults,
            options=options,
        )
    return missing


async def ensure_topics(settings: Settings) -> None:
    """Create the events and dead-letter topics when missing (7-day retention, delete)."""
    created = await _create_missing(settings, [settings.events_topic, settings.deadletter_topic])
    if created:
        log.info("created topics %s", created)


async def ensure_snapshots_topic(settings: Settings) -> bool:
    """Create the compacted snapshots topic when missing; True when it was created."""
    created = await _create_missing(
        settings, [settings.snapshots_topic], configs=SNAPSHOT_TOPIC_CONFIGS, defaults={}
    )
    if created:
        log.info("created compacted topic %s", settings.snapshots_topic)
    return bool(created)
