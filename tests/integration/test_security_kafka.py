"""Every Kafka client of ccmon over SASL_SSL with SCRAM, on Apache Kafka's secured listener.

`make test-apache-kafka` starts the broker with a SASL_SSL listener (SCRAM-SHA-256/512 users
created at storage format time, PLAIN in the JAAS line, certificates made by openssl) and
names it in CCMON_TEST_KAFKA_SASL_SSL_*; without those the tests skip, saying so. A replay
produces, the worker consumes into Redis, the exporter publishes routing snapshots, all
with the same CCMON_KAFKA_* settings; a wrong password and an untrusted certificate end
the worker with exit status 2 and one line naming the setting.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives import serialization

from streams.connections import kafka_options, kafka_refusal
from streams.localservers import free_port
from streams.localservers.process import ManagedProcess
from streams.settings import Settings
from streams.topics import create_topics
from tests.integration.pipeline_helpers import settings_for
from tests.integration.test_security_redis import (
    EXPECTED,
    env_of,
    recent_calls,
    start_exporter,
    window_counts,
    worker_exit,
)
from tests.integration.test_worker_process import get, lines_with, start_worker, until
from tests.servers.secure import MutualTlsKafka, SecureKafka, make_certs

pytestmark = pytest.mark.integration


def secured(secure_kafka: SecureKafka, redis_url: str, **overrides: Any) -> Settings:
    """Unique topics, group and prefix, connected to the SASL_SSL listener."""
    values: dict[str, Any] = {**secure_kafka.settings(), "worker_metrics_port": free_port()}
    values.update(overrides)
    return settings_for(secure_kafka.bootstrap, redis_url, **values)


async def read_secured(
    settings: Settings, topic: str, count: int, timeout_s: float = 30
) -> list[Any]:
    """`count` records of `topic` from the start, read over the secured listener."""
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_options(settings),
        auto_offset_reset="earliest",
        group_id=f"reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    out: list[Any] = []
    try:
        deadline = time.monotonic() + timeout_s
        while len(out) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(records)
    finally:
        await consumer.stop()
    return out


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"])
async def test_each_sasl_mechanism_creates_produces_and_consumes(
    secure_kafka: SecureKafka, redis_url: str, mechanism: str
) -> None:
    settings = secured(secure_kafka, redis_url, kafka_sasl_mechanism=mechanism)
    options = kafka_options(settings)
    await create_topics(settings.brokers, {settings.events_topic: 1}, options=options)
    producer = AIOKafkaProducer(**options)
    await producer.start()
    try:
        sent = await producer.send_and_wait(settings.events_topic, b"over TLS", key=b"k")
    finally:
        await producer.stop()
    assert sent.offset == 0
    [record] = await read_secured(settings, settings.events_topic, 1)
    assert (record.key, record.value) == (b"k", b"over TLS")


async def test_replay_worker_and_exporter_over_sasl_ssl_scram(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    health, exporter_port = free_port(), free_port()
    settings = secured(
        secure_kafka,
        redis_url,
        worker_metrics_port=health,
        session_timeout_ms=6000,
        snapshots_topic=f"snapshots-{uuid.uuid4().hex[:8]}",
    )
    events = recent_calls(int(time.time() * 1000))
    day = tmp_path / "calls.jsonl"
    day.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    # The replay creates the topics (with the settings' partitions) and produces.
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "streams.cli", "replay", str(day), "--no-checkpoint"],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(await read_secured(settings, settings.events_topic, len(events))) == len(events)

    proc = start_worker(settings, tmp_path / "worker.log")
    exporter = start_exporter(settings, exporter_port, tmp_path / "exporter.log")
    try:
        await until(lambda: get(health, "/readyz") == (200, "ready\n"), "/readyz ready", 90)
        await until(lambda: window_counts(exporter_port) == EXPECTED, "the figures", 60)
        # The exporter's snapshot producer reached the broker with the same settings.
        snapshots = await read_secured(settings, settings.snapshots_topic, 1, timeout_s=60)
        assert [r.key for r in snapshots[:1]] == [b"sales"]
        assert proc.poll() is None
    finally:
        proc.kill()
        exporter.stop()


async def test_a_wrong_sasl_password_exits_2_naming_the_setting(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    settings = secured(secure_kafka, redis_url, kafka_sasl_password="not-the-password")
    assert "SaslAuthenticationFailed" in (await kafka_refusal(settings) or "")
    log = tmp_path / "worker.log"
    assert worker_exit(settings, log) == 2, log.read_text()[-3000:]
    [line] = lines_with(log, "CRITICAL")
    assert "Kafka refused the SASL credentials" in line
    assert "CCMON_KAFKA_SASL_PASSWORD" in line
    assert "not-the-password" not in log.read_text()


async def test_a_replay_with_a_wrong_sasl_password_names_the_setting(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    settings = secured(secure_kafka, redis_url, kafka_sasl_password="not-the-password")
    day = tmp_path / "calls.jsonl"
    day.write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for e in recent_calls(int(time.time() * 1000)))
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "streams.cli", "replay", str(day), "--no-checkpoint"],
        env=env_of(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "CCMON_KAFKA_SASL_PASSWORD" in done.stderr, done.stderr[-2000:]
    assert "not-the-password" not in done.stderr


async def test_an_untrusted_broker_certificate_exits_2_naming_the_setting(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    other = make_certs(tmp_path / "other", "other")  # a CA that signed nothing of the broker's
    settings = secured(secure_kafka, redis_url, kafka_ssl_ca_file=other.ca_file)
    log = tmp_path / "worker.log"
    assert worker_exit(settings, log) == 2, log.read_text()[-3000:]
    [line] = lines_with(log, "CRITICAL")
    assert f"not trusted by CCMON_KAFKA_SSL_CA_FILE ({other.ca_file})" in line
    assert secure_kafka.password not in log.read_text()


async def test_the_secrets_can_come_from_files(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text(secure_kafka.password + "\n", encoding="utf-8")  # as `echo` writes it
    env = env_of(secured(secure_kafka, redis_url))
    del env["CCMON_KAFKA_SASL_PASSWORD"]
    env["CCMON_KAFKA_SASL_PASSWORD_FILE"] = str(secret)
    checked = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "streams.cli", "check-config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stderr
    assert "kafka_sasl_password = **********" in checked.stdout
    assert secure_kafka.password not in checked.stdout + checked.stderr


def post(port: int, body: bytes, token: str) -> tuple[int, dict[str, Any]]:
    """POST NDJSON to the ingest; its status and JSON answer."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/ingest/v1/events",
        data=body,
        headers={"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, orjson.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, orjson.loads(exc.read())


async def test_the_ingest_produces_over_sasl_ssl(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = secured(secure_kafka, redis_url, kafka_sasl_mechanism="SCRAM-SHA-256")
    await create_topics(
        settings.brokers, {settings.events_topic: 2}, options=kafka_options(settings)
    )
    env = env_of(settings)
    env.update(CCMON_INGEST_HOST="127.0.0.1", CCMON_INGEST_TOKENS="crm:tls-token")
    ingest = ManagedProcess(
        "ccmon ingest",
        [sys.executable, "-m", "streams.cli", "ingest", "--port", str(port)],
        tmp_path / "ingest.log",
        env=env,
        cwd=Path(env["PYTHONPATH"]),
    )
    ingest.start()
    try:
        await until(lambda: get(port, "/readyz")[0] == 200, "the ingest ready", 60)
        events = recent_calls(int(time.time() * 1000))
        body = b"".join(orjson.dumps(e) + b"\n" for e in events)
        answer = await asyncio.to_thread(post, port, body, "tls-token")
        assert answer == (200, {"accepted": 6, "rejected": 0})
    finally:
        ingest.stop()
    records = await read_secured(settings, settings.events_topic, len(events))
    assert sorted(orjson.loads(r.value)["id"] for r in records) == sorted(e["id"] for e in events)
    assert {r.key for r in records} == {b"tls-1", b"tls-2", b"tls-3"}


async def test_the_exporter_and_the_ingest_name_a_wrong_sasl_password(
    secure_kafka: SecureKafka, redis_url: str, tmp_path: Path
) -> None:
    exporter_port, ingest_port = free_port(), free_port()
    settings = secured(
        secure_kafka,
        redis_url,
        kafka_sasl_password="not-the-password",
        snapshots_topic=f"snapshots-{uuid.uuid4().hex[:8]}",
    )
    exporter = start_exporter(settings, exporter_port, tmp_path / "exporter.log")
    env = env_of(settings)
    env.update(CCMON_INGEST_HOST="127.0.0.1", CCMON_INGEST_TOKENS="crm:tls-token")
    ingest = ManagedProcess(
        "ccmon ingest",
        [sys.executable, "-m", "streams.cli", "ingest", "--port", str(ingest_port)],
        tmp_path / "ingest.log",
        env=env,
        cwd=Path(env["PYTHONPATH"]),
    )
    ingest.start()
    logs = (tmp_path / "exporter.log", tmp_path / "ingest.log")
    try:

        def named() -> bool:
            return all(p.exists() and "CCMON_KAFKA_SASL_PASSWORD" in p.read_text() for p in logs)

        await until(named, "both logs name CCMON_KAFKA_SASL_PASSWORD", 60)
        assert get(ingest_port, "/readyz")[0] == 503
        # The figures are still served: only the snapshot topic is off.
        await until(lambda: get(exporter_port, "/healthz")[0] == 200, "the exporter serves", 30)
    finally:
        exporter.stop()
        ingest.stop()
    assert all("not-the-password" not in p.read_text() for p in logs)


def encrypted_copy(key: Path, password: bytes, directory: Path) -> Path:
    """`key` encrypted with `password` (PKCS#8), as a key store would hand it out."""
    loaded = serialization.load_pem_private_key(key.read_bytes(), password=None)
    out = directory / "client-encrypted.key"
    out.write_bytes(
        loaded.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
    )
    return out


async def test_mutual_tls_with_an_encrypted_client_key(
    mtls_kafka: MutualTlsKafka, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        mtls_kafka.bootstrap,
        redis_url,
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=mtls_kafka.ca_file,
        kafka_ssl_cert_file=mtls_kafka.client_cert,
        kafka_ssl_key_file=encrypted_copy(mtls_kafka.client_key, b"key-pw", tmp_path),
        kafka_ssl_key_password="key-pw",
    )
    assert await kafka_refusal(settings) is None
    options = kafka_options(settings)
    await create_topics(settings.brokers, {settings.events_topic: 1}, options=options)
    producer = AIOKafkaProducer(**options)
    await producer.start()
    try:
        await producer.send_and_wait(settings.events_topic, b"mutual", key=b"k")
    finally:
        await producer.stop()
    [record] = await read_secured(settings, settings.events_topic, 1)
    assert record.value == b"mutual"


async def test_no_client_certificate_exits_2_naming_the_setting(
    mtls_kafka: MutualTlsKafka, redis_url: str, tmp_path: Path
) -> None:
    settings = settings_for(
        mtls_kafka.bootstrap,
        redis_url,
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=mtls_kafka.ca_file,
        worker_metrics_port=free_port(),
    )
    log = tmp_path / "worker.log"
    assert worker_exit(settings, log) == 2, log.read_text()[-3000:]
    [line] = lines_with(log, "CRITICAL")
    assert "Kafka refused ccmon's TLS client certificate" in line
    assert "CCMON_KAFKA_SSL_CERT_FILE" in line
