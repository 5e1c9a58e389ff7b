"""The one settings object: environment variables with the CCMON_ prefix."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    FilePath,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from metrics.config.agents import AgentsDirectory, load_agents
from metrics.config.queues import QueuesConfig, parse_queues_yaml
from metrics.core.fcr import longest_horizon_ms
from metrics.core.views import WINDOWS
from metrics.store.redis import RedisStore
from streams.secretfiles import SecretFileError, SecretFiles, secret_fields

__all__ = ["NOT_SETTINGS", "REDIS_SCHEMES", "Settings", "unknown_variables"]

#: The URL schemes redis-py connects with: TCP, TLS and a Unix socket.
REDIS_SCHEMES = ("redis", "rediss", "unix")

#: CCMON_* variables that are not settings: the test fixtures' and benchmarks' own
#: (prefixes), and those of the scripts and of Grafana's provisioning (names).
NOT_SETTINGS = (
    "CCMON_TEST_",
    "CCMON_BENCH_",
    "CCMON_TOOLS_DIR",
    "CCMON_KAFKA_CACHE",
    "CCMON_KAFKA_DATA_DIR",
    "CCMON_KAFKA_MAVEN_REPO",
    "CCMON_KAFKA_VERSION",
    "CCMON_PROMETHEUS_URL",
)


class Settings(BaseSettings):
    """ccmon settings; every field can be set as CCMON_<FIELD> (e.g. CCMON_BROKERS)."""

    model_config = SettingsConfigDict(env_prefix="CCMON_", frozen=True, extra="forbid")

    brokers: str = Field("localhost:9092", description="Kafka bootstrap servers, comma separated")
    redis_url: SecretStr = Field(
        SecretStr("redis://localhost:6379/0"), description="Redis URL (may hold a password)"
    )
    redis_prefix: str = Field("ccmon", description="prefix of every Redis key")
    # Secured connections (docs/security.md); every secret may come from CCMON_<NAME>_FILE.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="how every Kafka client connects: TLS (SSL), SASL, both or none"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "PLAIN", description="SASL mechanism (with SASL_PLAINTEXT or SASL_SSL)"
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name")
    kafka_sasl_password: SecretStr | None = Field(
        None, validate_default=True, description="SASL password"
    )
    kafka_ssl_ca_file: FilePath | None = Field(
        None, description="PEM CAs that sign the brokers' certificates (unset: the system's)"
    )
    kafka_ssl_cert_file: FilePath | None = Field(
        None, description="PEM client certificate, for brokers that require one"
    )
    kafka_ssl_key_file: FilePath | None = Field(
        None, description="PEM key of the client certificate (unset: in the certificate file)"
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        None, description="password of an encrypted client key"
    )
    kafka_ssl_check_hostname: bool = Field(
        True, description="the broker's certificate must name the host connected to"
    )
    redis_ssl_ca_file: FilePath | None = Field(
        None, description="PEM CAs that sign Redis's certificate (rediss:// URLs; unset: system's)"
    )
    redis_ssl_cert_file: FilePath | None = Field(
        None, description="PEM client certificate, for a Redis that requires one"
    )
    redis_ssl_key_file: FilePath | None = Field(
        None, description="PEM key of the client certificate (unset: in the certificate file)"
    )
    redis_ssl_check_hostname: bool = Field(
        True, description="Redis's certificate must name the host connected to"
    )
    events_topic: str = Field("ccmon.events", description="topic of contact and agent events")
    deadletter_topic: str = Field("ccmon.deadletter", description="topic of rejected events")
    group_id: str = Field("ccmon", description="Kafka consumer group of the workers")
    create_topics: bool = Field(True, description="create missing topics at worker start")
    topic_partitions: int = Field(4, ge=1, description="partitions of topics ccmon creates")
    queues_file: Path | None = Field(None, description="queues YAML; defaults apply if unset")
    agents_file: Path | None = Field(
        None, description="agents directory YAML (names, teams, queues, capacity); optional"
    )
    exporter_host: str = Field("0.0.0.0", description="address of /metrics and the read API")
    exporter_port: int = Field(9108, ge=0, le=65535, description="port of /metrics and the API")
    exporter_idle_timeout_s: float = Field(
        10.0,
        gt=0,
        description="the exporter closes a connection idle, or with its request headers "
        "still incomplete, this long after it opened or last answered",
    )
    exporter_max_connections: int = Field(
        500, gt=0, description="open HTTP connections the exporter keeps; more are answered 503"
    )
    exporter_access_log: bool = Field(
        False, description="the exporter logs one INFO line per HTTP request"
    )
    exporter_role: Literal["all", "api", "metrics"] = Field(
        "all",
        description="what the exporter serves: all; api (read, routing and agents APIs, wall "
        "board; /metrics has only its own process metrics); metrics (/metrics and /healthz)",
    )
    worker_metrics_port: int = Field(
        9109, ge=0, le=65535, description="port of a worker's own health metrics (0: off)"
    )
    retention_s: int = Field(8 * 86400, gt=0, description="how long panes are kept")
    rollup_retention_s: int = Field(
        396 * 86400,
        gt=0,
        description="how long the hourly and daily rollups (UTC hours and days) are kept: "
        "13 months by default, never less than CCMON_RETENTION_S",
    )
    lateness_s: int = Field(120, ge=0, description="allowed lateness behind the newest event")
    dedupe_horizon_s: int = Field(86400, ge=0, description="how long event ids are remembered")
    state_ttl_s: int = Field(86400, gt=0, description="how long contact states are kept")
    max_event_bytes: int = Field(65536, gt=0, description="larger payloads are dead-lettered")
    max_queues: int = Field(1000, gt=0, description="cap on distinct queues, configured or not")
    flush_interval_ms: int = Field(250, gt=0, description="how often aggregates are flushed")
    cache_trim_s: float = Field(
        600,
        gt=0,
        description="every this many seconds of event time the worker drops the cached"
        " states that did not change since the last time (keeps its memory flat; they reload"
        " from Redis when needed)",
    )
    session_timeout_ms: int = Field(
        10_000,
        ge=1000,
        description="consumer group session timeout; a dead worker's partitions move after it",
    )
    max_batch: int = Field(10000, gt=0, description="records fetched per poll")
    max_pending_events: int = Field(
        200_000, gt=0, description="events buffered while a flush is slow before pausing"
    )
    # The worker's outbox (dead letters, re-keyed customer contacts) and its producer.
    outbox_max_records: int = Field(
        20_000, gt=0, description="records the worker produces in flight before it pauses fetching"
    )
    outbox_max_bytes: int = Field(
        32 << 20, gt=0, description="bytes the worker produces in flight before it pauses fetching"
    )
    producer_acks: Literal["all", "1"] = Field(
        "all", description="acks the worker's producer waits for (all: every in-sync replica)"
    )
    producer_request_timeout_ms: int = Field(
        30_000, ge=1000, description="how long one produce request may take before it is retried"
    )
    producer_retry_backoff_ms: int = Field(
        100, ge=0, description="the producer's own pause before it retries a failed request"
    )
    producer_max_request_bytes: int = Field(
        1 << 20,
        ge=1024,
        description="largest produce request; a dead letter above it keeps only a prefix",
    )
    deadletter_prefix_bytes: int = Field(
        65536, ge=0, description="bytes kept of a record whose dead letter is too large to produce"
    )
    delivery_max_backoff_s: float = Field(
        5.0, gt=0, description="longest pause between retries of Kafka and Redis calls"
    )
    max_future_s: int = Field(
        300, ge=0, description="events dated further ahead of the wall clock are dead-lettered"
    )
    deadletter_log_interval_s: float = Field(
        10.0, gt=0, description="dead letters are logged once per reason per this interval"
    )
    ready_flush_age_s: float = Field(
        60.0, gt=0, description="/readyz fails when the last flush is older than this"
    )
    customer_id_salt: SecretStr | None = Field(
        None,
        description="key of the customer-id hash; FCR and repeat contacts need it (unset: off)",
    )
    ticket_ttl_s: int = Field(
        90 * 86400,
        gt=0,
        description="how long ticket and customer states are kept "
        "(unset: the retention plus 82 days, at least 90 days)",
    )
    backfill_s: int | None = Field(
        None,
        gt=0,
        description="load history this far back: unless CCMON_RETENTION_S is set, the "
        "retention becomes this plus 8 days (and the ticket TTL follows the retention)",
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
    exported_windows: str = Field(
        "5m,15m,60m,today",
        description="windows /metrics exports, comma-separated (5m, 15m, 60m, today); "
        "each costs a voice queue up to 19 of its windowed samples",
    )
    # The Asterisk Manager Interface (`ccmon connect asterisk`; docs/sources/asterisk.md).
    ami_host: str = Field("localhost", description="Asterisk Manager Interface host")
    ami_port: int = Field(5038, ge=1, le=65535, description="Asterisk Manager Interface port")
    ami_username: str = Field("ccmon", description="AMI user (a manager.conf section)")
    ami_secret: SecretStr | None = Field(
        None, description="the AMI user's secret (or CCMON_AMI_SECRET_FILE)"
    )
    # Vendor webhook sources (/ingest/v1/sources/{name}; docs/sources/).
    twilio_auth_token: SecretStr | None = Field(
        None, description="Twilio auth token: checks X-Twilio-Signature (unset: no twilio source)"
    )
    zendesk_webhook_secret: SecretStr | None = Field(
        None, description="Zendesk webhook signing secret (unset: no zendesk source)"
    )
    amazon_connect_access_key: SecretStr | None = Field(
        None,
        description="key amazon-connect requests carry in X-Amz-Firehose-Access-Key or "
        "X-Api-Key (unset: no amazon-connect source)",
    )
    genesys_api_key: SecretStr | None = Field(
        None, description="key genesys requests carry in X-Api-Key (unset: no genesys source)"
    )
    genesys_agent_queues: str = Field(
        "", description="queues (comma-separated) Genesys agents' states are counted in"
    )
    # The HTTP ingest (`ccmon ingest`, streams/ingest/; docs/ingest.md).
    ingest_host: str = Field("0.0.0.0", description="address of the HTTP ingest")
    ingest_port: int = Field(9110, ge=0, le=65535, description="port of the HTTP ingest")
    ingest_tokens: SecretStr | None = Field(
        None,
        description="bearer tokens of /ingest/v1/events as name:token,name:token or one a "
        "line (the name appears in metrics and logs; unset: the endpoint is open)",
    )
    ingest_max_body_bytes: int = Field(
        1 << 20, ge=1024, description="largest request body the ingest reads; larger: 413"
    )
    ingest_max_events: int = Field(5000, gt=0, description="most events in one request; more: 413")
    ingest_idempotence: bool = Field(
        False,
        description="idempotent Kafka producer (Apache Kafka accepts it; Tansu refuses "
        "InitProducerId, so off by default; the worker dedupes event ids either way)",
    )
    ingest_produce_timeout_s: float = Field(
        10.0, gt=0, description="how long the ingest waits for the broker's ack before a 503"
    )
    ingest_max_inflight_bytes: int = Field(
        16 << 20, ge=1024, description="bytes awaiting the broker's ack; beyond: 429"
    )
    ingest_idle_timeout_s: float = Field(
        10.0, gt=0, description="the ingest closes a connection idle or slow this long"
    )
    ingest_max_connections: int = Field(
        500, gt=0, description="open HTTP connections the ingest keeps; more are answered 503"
    )

    @field_validator("exported_windows")
    @classmethod
    def _known_windows(cls, value: str) -> str:
        """Refuse a window /metrics does not know, naming the known ones."""
        chosen = [w.strip() for w in value.split(",") if w.strip()]
        unknown = [w for w in chosen if w not in WINDOWS]
        if unknown or not chosen:
            raise ValueError(f"unknown windows {unknown}; choose among {list(WINDOWS)}")
        return ",".join(chosen)

    def exported_window_list(self) -> tuple[str, ...]:
        """CCMON_EXPORTED_WINDOWS as a tuple."""
        return tuple(self.exported_windows.split(","))

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr) -> SecretStr:
        """Refuse a URL redis-py cannot use, naming only its scheme (never the password)."""
        scheme = urlsplit(value.get_secret_value()).scheme
        if scheme not in REDIS_SCHEMES:
            got = f"scheme {scheme!r}" if scheme else "no scheme"
            raise ValueError(
                f"must start with redis://, rediss:// (TLS) or unix:// (a socket); got {got}"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then secrets read from CCMON_<NAME>_FILE, then CCMON_* variables."""
        # Files before the plain variables, so that both set is an error rather than a guess.
        return init_settings, SecretFiles(settings_cls), env_settings, dotenv_settings

    @field_validator("*", mode="before")
    @classmethod
    def _secret_file_usable(cls, value: Any) -> Any:
        """A CCMON_<NAME>_FILE that could not be used fails its setting, saying why."""
        if isinstance(value, SecretFileError):
            raise ValueError(value.message)
        return value

    @field_validator("kafka_sasl_password")
    @classmethod
    def _sasl_complete(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """SASL needs a user name and a password."""
        protocol = info.data.get("kafka_security_protocol", "PLAINTEXT")
        if protocol.startswith("SASL") and (
            value is None or not info.data.get("kafka_sasl_username")
        ):
            raise ValueError(
                f"CCMON_KAFKA_SECURITY_PROTOCOL={protocol} needs CCMON_KAFKA_SASL_USERNAME "
                "and CCMON_KAFKA_SASL_PASSWORD (or CCMON_KAFKA_SASL_PASSWORD_FILE)"
            )
        return value

    @field_validator("kafka_ssl_ca_file", "kafka_ssl_cert_file", "kafka_ssl_key_file")
    @classmethod
    def _kafka_tls_used(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Refuse a TLS file the protocol would silently ignore."""
        protocol = info.data.get("kafka_security_protocol", "PLAINTEXT")
        if value is not None and protocol not in ("SSL", "SASL_SSL"):
            raise ValueError(
                f"set, but CCMON_KAFKA_SECURITY_PROTOCOL={protocol} does not use TLS "
                "(choose SSL or SASL_SSL)"
            )
        return value

    @field_validator("redis_ssl_ca_file", "redis_ssl_cert_file", "redis_ssl_key_file")
    @classmethod
    def _redis_tls_used(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Refuse a TLS file a redis:// or unix:// URL would silently ignore."""
        url = info.data.get("redis_url")
        if value is not None and url is not None and not _is_tls(url):
            raise ValueError("set, but CCMON_REDIS_URL does not use TLS (a rediss:// URL does)")
        return value

    def redis_tls_options(self) -> dict[str, Any]:
        """redis-py keyword arguments for a rediss:// URL (none for a plain one)."""
        if not _is_tls(self.redis_url):
            return {}
        options: dict[str, Any] = {"ssl_check_hostname": self.redis_ssl_check_hostname}
        if self.redis_ssl_ca_file is not None:
            options["ssl_ca_certs"] = str(self.redis_ssl_ca_file)
        if self.redis_ssl_cert_file is not None:
            options["ssl_certfile"] = str(self.redis_ssl_cert_file)
            options["ssl_keyfile"] = str(self.redis_ssl_key_file or self.redis_ssl_cert_file)
        return options

    @model_validator(mode="before")
    @classmethod
    def _backfill(cls, data: Any) -> Any:
        """The retention follows CCMON_BACKFILL_S and the ticket TTL the retention, where
        they are not set: one setting opens a history load (`ccmon replay` checks it)."""
        if not isinstance(data, dict):
            return data
        default_retention, ttl_beyond = 8 * 86400, 82 * 86400  # 90-day TTL at 8 days
        out = dict(data)
        try:
            if out.get("backfill_s") is not None and "retention_s" not in out:
                out["retention_s"] = int(out["backfill_s"]) + default_retention
            retention = int(out.get("retention_s", default_retention))
        except (TypeError, ValueError):
            return data  # the field validators name the bad value
        if "ticket_ttl_s" not in out:
            out["ticket_ttl_s"] = max(90 * 86400, retention + ttl_beyond)
        if "rollup_retention_s" not in out:  # rollups keep at least what the panes keep
            out["rollup_retention_s"] = max(396 * 86400, retention)
        return out

    @model_validator(mode="after")
    def _rollups_outlive_panes(self) -> Settings:
        """Hours serve 'today' beside the panes: rollups kept less than the panes would
        make windows inside the pane retention read short."""
        if self.rollup_retention_s < self.retention_s:
            raise ValueError(
                f"CCMON_ROLLUP_RETENTION_S ({self.rollup_retention_s}) must be at least "
                f"CCMON_RETENTION_S ({self.retention_s}): hourly rollups serve 'today' and "
                "long windows inside the pane retention"
            )
        return self

    def queues(self) -> QueuesConfig:
        """Read and validate the queues file (or the defaults when none is set)."""
        if self.queues_file is None:
            return QueuesConfig()
        text = self.queues_file.read_text(encoding="utf-8")
        return parse_queues_yaml(text, str(self.queues_file))

    def agents(self, queues: QueuesConfig) -> AgentsDirectory:
        """Read and validate the agents file against the queues file's teams (empty if unset)."""
        if self.agents_file is None:
            return AgentsDirectory()
        return load_agents(self.agents_file, queues.teams)

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
            rollup_retention_ms=self.rollup_retention_s * 1000,
            dedupe_horizon_ms=self.dedupe_horizon_s * 1000,
            state_ttl_ms=self.state_ttl_s * 1000,
            long_state_ttl_ms=self.ticket_ttl_s * 1000,
            customer_ttl_ms=None if queues is None else self.customer_ttl_ms(queues),
            connection=self.redis_tls_options(),
        )

    def as_dict(self, plaintext_secrets: bool = False) -> dict[str, Any]:
        """Settings for logs and `ccmon check-config`, secrets masked unless asked."""
        data = self.model_dump()
        for name in secret_fields(type(self)):
            secret = getattr(self, name)
            if secret is not None:
                data[name] = secret.get_secret_value() if plaintext_secrets else "**********"
        return data


def _is_tls(url: SecretStr) -> bool:
    """True for a rediss:// URL."""
    return urlsplit(url.get_secret_value()).scheme == "rediss"


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning per CCMON_* variable in `environ` (default: this process's) that no
    setting reads, with the closest valid name: a typo would otherwise go unnoticed."""
    environ = os.environ if environ is None else environ
    prefix = Settings.model_config.get("env_prefix", "")
    valid = [f"{prefix}{name}".upper() for name in Settings.model_fields]
    valid += [f"{prefix}{name}_FILE".upper() for name in secret_fields(Settings)]
    out = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(prefix) or upper in valid or upper.startswith(NOT_SETTINGS):
            continue
        close = difflib.get_close_matches(upper, valid, n=1)
        hint = f"; did you mean {close[0]}?" if close else " (`ccmon check-config` lists them)"
        out.append(f"{name} is not a ccmon setting and is ignored{hint}")
    return out
