"""Worker and exporter against a TLS-only Redis with an ACL user (the default user off).

The server is Debian's redis-server (built with TLS), started by the `secure_redis`
fixture with certificates made by trustme. A wrong password and a CA that did not sign
the server's certificate end the worker with exit status 2 and one line naming the
setting to fix; the password never reaches the log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from streams.localservers import free_port
from streams.localservers.process import ManagedProcess
from streams.settings import Settings
from streams.testing.events import contact
from tests.integration.pipeline_helpers import (
    create_topics,
    keyed,
    produce,
    settings_for,
    wait_until_applied,
)
from tests.integration.test_worker_process import get, lines_with, start_worker, until
from tests.servers import KafkaServer
from tests.servers.secure import SecureRedis, find_tls_redis, make_certs

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]


def recent_calls(now_ms: int) -> list[dict[str, Any]]:
    """Three sales calls a few minutes ago: two answered, one abandoned."""
    t = now_ms - 6 * 60_000
    return [
        contact("contact.queued", t, "tls-1"),
        contact("contact.queued", t + 1000, "tls-2"),
        contact("contact.queued", t + 2000, "tls-3"),
        contact("contact.answered", t + 20_000, "tls-1"),
        contact("contact.answered", t + 25_000, "tls-2"),
        contact("contact.abandoned", t + 40_000, "tls-3"),
    ]


def env_of(settings: Settings) -> dict[str, str]:
    """The environment a `ccmon` subprocess needs to use these settings."""
    env = dict(os.environ)
    for name, value in settings.as_dict(plaintext_secrets=True).items():
        if value is not None:
            env[f"CCMON_{name.upper()}"] = str(value)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def start_exporter(settings: Settings, port: int, log: Path) -> ManagedProcess:
    """`ccmon exporter` on 127.0.0.1:port with these settings."""
    env = env_of(settings)
    env["CCMON_EXPORTER_HOST"] = "127.0.0.1"
    process = ManagedProcess(
        "ccmon exporter",
        [sys.executable, "-m", "streams.cli", "exporter", "--port", str(port)],
        log,
        env=env,
        cwd=REPO_ROOT,
    )
    process.start()
    return process


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of `name` carrying all of `labels`."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{"):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{key}="{want}"' in head for key, want in labels.items()):
            return float(value)
    return None


#: What /metrics shows of `recent_calls` in the sales voice queue's 15-minute window.
EXPECTED = {"queued": 3.0, "answered": 2.0, "abandoned": 1.0}


def window_counts(port: int) -> dict[str, float | None]:
    """Queued, answered and abandoned sales calls of the last 15 minutes, from /metrics."""
    status, body = get(port, "/metrics")
    return (
        {
            kind: sample(body, f"ccmon_queue_window_{kind}_contacts", queue="sales", window="15m")
            for kind in EXPECTED
        }
        if status == 200
        else {}
    )


def worker_exit(settings: Settings, log: Path) -> int:
    """Run a worker until it exits on its own; its status."""
    proc = start_worker(settings, log)
    try:
        return proc.wait(60)
    finally:
        proc.kill()


async def test_worker_and_exporter_use_tls_redis_with_an_acl_user(
    kafka_server: KafkaServer, secure_redis: SecureRedis, tmp_path: Path
) -> None:
    health, exporter_port = free_port(), free_port()
    settings = settings_for(
        kafka_server.bootstrap,
        secure_redis.url(),
        redis_ssl_ca_file=secure_redis.certs.ca_file,
        worker_metrics_port=health,
        # Apache Kafka refuses session timeouts under 6 s; Tansu joins in half of one.
        session_timeout_ms=2000 if kafka_server.is_tansu else 6000,
        publish_snapshots=False,
    )
    await create_topics(settings)
    wanted = await produce(settings, keyed(recent_calls(int(time.time() * 1000))))
    worker_log = tmp_path / "worker.log"
    proc = start_worker(settings, worker_log)
    exporter = start_exporter(settings, exporter_port, tmp_path / "exporter.log")
    try:
        await wait_until_applied(settings.redis_store(), wanted, timeout_s=60)
        await until(lambda: get(health, "/readyz") == (200, "ready\n"), "/readyz ready")

        await until(
            lambda: window_counts(exporter_port) == EXPECTED, "the exporter reads them over TLS"
        )
        assert proc.poll() is None
    finally:
        proc.kill()
        exporter.stop()
    # The keys were written through the ACL user on the TLS port, under the prefix.
    client = secure_redis.client()
    try:
        assert client.keys(f"{settings.redis_prefix}:*")
    finally:
        client.close()


async def test_a_wrong_redis_password_over_tls_exits_2_naming_the_setting(
    kafka_bootstrap: str, secure_redis: SecureRedis, tmp_path: Path
) -> None:
    settings = settings_for(
        kafka_bootstrap,
        secure_redis.url(password="not-the-password"),
        redis_ssl_ca_file=secure_redis.certs.ca_file,
        worker_metrics_port=free_port(),
    )
    log = tmp_path / "worker.log"
    assert worker_exit(settings, log) == 2, log.read_text()[-3000:]
    [line] = lines_with(log, "CRITICAL")
    assert "refused the credentials in CCMON_REDIS_URL" in line
    assert "not-the-password" not in log.read_text()


async def test_an_untrusted_redis_certificate_exits_2_naming_the_setting(
    kafka_bootstrap: str, secure_redis: SecureRedis, tmp_path: Path
) -> None:
    other = make_certs(tmp_path / "other", "other")  # a CA that signed nothing of the server's
    settings = settings_for(
        kafka_bootstrap,
        secure_redis.url(),
        redis_ssl_ca_file=other.ca_file,
        worker_metrics_port=free_port(),
    )
    log = tmp_path / "worker.log"
    assert worker_exit(settings, log) == 2, log.read_text()[-3000:]
    [line] = lines_with(log, "CRITICAL")
    assert "not trusted by CCMON_REDIS_SSL_CA_FILE" in line
    assert secure_redis.password not in log.read_text()


def test_a_plain_client_gets_nothing_from_the_tls_port(secure_redis: SecureRedis) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", f"import redis; redis.Redis(port={secure_redis.port}).ping()"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert probe.returncode != 0 and "ConnectionError" in probe.stderr


async def test_the_host_name_is_checked_unless_turned_off(
    kafka_bootstrap: str, secure_redis: SecureRedis, tmp_path: Path
) -> None:
    binary = find_tls_redis()
    assert binary is not None  # secure_redis would have skipped
    elsewhere = SecureRedis(binary, tmp_path / "elsewhere", ("redis.example",), False).start()
    try:
        settings = settings_for(
            kafka_bootstrap,
            elsewhere.url(),
            redis_ssl_ca_file=elsewhere.certs.ca_file,
            worker_metrics_port=free_port(),
        )
        log = tmp_path / "worker.log"
        assert worker_exit(settings, log) == 2, log.read_text()[-3000:]
        [line] = lines_with(log, "CRITICAL")
        assert "does not name the host in CCMON_REDIS_URL" in line
        # Trusting the CA but not checking the name connects (a certificate made for a
        # load balancer's name, reached by address).
        unchecked = Settings(
            redis_url=elsewhere.url(),
            redis_ssl_ca_file=elsewhere.certs.ca_file,
            redis_ssl_check_hostname=False,
        )
        store = unchecked.redis_store()
        assert store.load_offsets() == {}
    finally:
        elsewhere.stop()
