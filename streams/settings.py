"""The one settings object: environment variables with the CCMON_ prefix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from metrics.config.queues import QueuesConfig, parse_queues_yaml
from metrics.core.fcr import longest_horizon_ms
from metrics.store.redis import RedisStore

__all__ = ["Settings"]


class Settings(BaseSettings):
    """ccmon settings; every field can be set as CCMON_<FIELD> (e.g. CCMON_BROKERS)."""

    model_config = SettingsConfigDict(env_prefix="CCMON_", frozen=True, extra="forbid")

    brokers: str = Field("localhost:9092", description="Kafka bootstrap servers, comma separated")
    redis_url: SecretStr = Field(
        SecretStr("redis://localhost:6379/0"), description="Redis URL (may hold a password)"
    )
    redis_prefix: str = Field("ccmon", description="prefix of every Redis key")
    events_topic: str = Field("ccmon.events", description="topic of contact and agent events")
    deadletter_topic: str = Field("ccmon.deadletter", description="topic of rejected events")
    group_id: str = Field("ccmon", description="Kafka consumer group of the workers")
    create_topics: bool = Field(True, description="create missing topics at worker start")
    topic_partitions: int = Field(4, ge=1, description="partitions of topics ccmon creates")
    queues_file: Path | None = Field(None, description="queues YAML; defaults apply if unset")
    exporter_host: str = Field("0.0.0.0", description="address of /metrics and the read API")
    exporter_port: int = Field(9108, ge=0, le=65535, description="port of /metrics and the API")
    worker_metrics_port: int = Field(
        9109, ge=0, le=65535, description="port of a worker's own health metrics (0: off)"
    )
    retention_s: int = Field(8 * 86400, gt=0, description="how long panes are kept")
    lateness_s: int = Field(120, ge=0, description="allowed lateness behind the newest event")
    dedupe_horizon_s: int = Field(86400, ge=0, description="how long event ids are remembered")
    state_ttl_s: int = Field(86400, gt=0, description="how long contact states are kept")
    max_event_bytes: int = Field(65536, gt=0, description="larger payloads are dead-lettered")
    max_queues: int = Field(1000, gt=0, description="cap on distinct queues, configured or not")
    flush_interval_ms: int = Field(250, gt=0, description="how often aggregates are flushed")
    session_timeout_ms: int = Field(
        10_000,
        ge=1000,
        description="consumer group session timeout; a dead worker's partitions move after it",
    )
    max_batch: int = Field(10000, gt=0, description="records fetched per poll")
    max_pending_events: int = Field(
        200_000, gt=0, description="events buffered while a flush is slow before pausing"
    )
    customer_id_salt: SecretStr | None = Field(
        None,
        description="key of the customer-id hash; FCR and repeat contacts need it (unset: off)",
    )
    ticket_ttl_s: int = Field(
        90 * 86400, gt=0, description="how long ticket and customer states are kept"
    )

    api_token: SecretStr | None = Field(
        None, description="bearer token required on /api/* (unset: the API is open)"
    )
    routing_refresh_ms: int = Field(
        500, ge=50, description="how often the in-memory routing snapshots are rebuilt"
    )
    snapshots_topic: str = Field("ccmon.snapshots", description="compacted routing-snapshot topic")
    publish_snapshots: bool = Field(
        True, description="the exporter publishes routing snapshots to the snapshots topic"
    )
    snapshot_interval_ms: int = Field(
        1000, ge=0, description="at most one snapshot per queue per this interval (on change)"
    )

    def queues(self) -> QueuesConfig:
        """Read and validate the queues file (or the defaults when none is set)."""
        if self.queues_file is None:
            return QueuesConfig()
        text = self.queues_file.read_text(encoding="utf-8")
        return parse_queues_yaml(text, str(self.queues_file))

    def conflicts(self, queues: QueuesConfig) -> list[str]:
        """Where these settings contradict the queues file, one message each."""
        horizon = longest_horizon_ms(queues) // 1000
        out = []
        if horizon + self.lateness_s >= self.retention_s:
            out.append(
                f"CCMON_RETENTION_S ({self.retention_s}) must exceed the longest fcr_horizon_s "
                f"({horizon}) plus CCMON_LATENESS_S ({self.lateness_s}): a repeat contact "
                "corrects the FCR count in the pane of the contact before it"
            )
        if horizon + self.retention_s + self.lateness_s > self.ticket_ttl_s:
            out.append(
                f"CCMON_TICKET_TTL_S ({self.ticket_ttl_s}) must be at least the longest "
                f"fcr_horizon_s ({horizon}) plus CCMON_RETENTION_S and CCMON_LATENESS_S: "
                "customer states must outlive every correction they can receive"
            )
        return out

    def customer_ttl_ms(self, queues: QueuesConfig) -> int:
        """How long a customer's contacts are kept: the longest FCR horizon plus the
        retention and the lateness, the longest a correction can still reach them."""
        return longest_horizon_ms(queues) + (self.retention_s + self.lateness_s) * 1000

    def redis_store(self, queues: QueuesConfig | None = None) -> RedisStore:
        """The Redis store these settings describe (its own connection pool); with the
        queues, customer states expire as `customer_ttl_ms` says."""
        return RedisStore.from_url(
            self.redis_url.get_secret_value(),
            prefix=self.redis_prefix,
            retention_ms=self.retention_s * 1000,
            dedupe_horizon_ms=self.dedupe_horizon_s * 1000,
            state_ttl_ms=self.state_ttl_s * 1000,
            long_state_ttl_ms=self.ticket_ttl_s * 1000,
            customer_ttl_ms=None if queues is None else self.customer_ttl_ms(queues),
        )

    def as_dict(self, plaintext_secrets: bool = False) -> dict[str, Any]:
        """Settings for logs and `ccmon check-config`, secrets masked unless asked."""
        data = self.model_dump()
        for name in ("redis_url", "customer_id_salt", "api_token"):
            secret = getattr(self, name)
            if secret is not None:
                data[name] = secret.get_secret_value() if plaintext_secrets else "**********"
        return data
