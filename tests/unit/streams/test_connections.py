"""kafka_options: one set of CCMON_KAFKA_* settings for every Kafka client; and how a
refused password or certificate becomes one line naming the setting, with exit status 2."""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

import faust
import pytest
import trustme
from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed
from cryptography.hazmat.primitives import serialization
from redis.exceptions import ConnectionError as RedisConnectionError

from metrics.store.base import StoreError
from streams.app import _credentials
from streams.connections import KafkaRefused, kafka_options, refusal_message
from streams.faults import EXIT_CONFIG, exit_status, store_retriable
from streams.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A CA, and a client certificate with its key, as PEM files."""
    ca = trustme.CA(organization_name="ccmon test CA")
    client = ca.issue_cert("ccmon-client")
    paths = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "c.pem", "key": tmp_path / "c.key"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    client.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    client.private_key_pem.write_to_path(str(paths["key"]))
    return paths


def sasl_ssl(pki: dict[str, Path], **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "brokers": "kafka-1.example:9094,kafka-2.example:9094",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "ccmon",
        "kafka_sasl_password": "s3cret",
        "kafka_ssl_ca_file": pki["ca"],
    }
    return Settings(**{**values, **overrides})


def test_plaintext_gives_only_the_servers() -> None:
    assert kafka_options(Settings(brokers="k:9092")) == {"bootstrap_servers": "k:9092"}


def test_sasl_ssl_with_scram_gives_credentials_and_a_verifying_context(
    pki: dict[str, Path],
) -> None:
    options = kafka_options(sasl_ssl(pki))
    context = options.pop("ssl_context")
    assert options == {
        "bootstrap_servers": "kafka-1.example:9094,kafka-2.example:9094",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "ccmon",
        "sasl_plain_password": "s3cret",
    }
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    [ca] = context.get_ca_certs()
    assert ("organizationName", "ccmon test CA") in [rdn[0] for rdn in ca["subject"]]


def test_sasl_plaintext_has_no_tls() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_username="ccmon",
        kafka_sasl_password="pw",
    )
    assert kafka_options(settings) == {
        "bootstrap_servers": "localhost:9092",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "PLAIN",
        "sasl_plain_username": "ccmon",
        "sasl_plain_password": "pw",
    }


def test_ssl_with_a_client_certificate_and_no_hostname_check(pki: dict[str, Path]) -> None:
    settings = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_ca_file=pki["ca"],
        kafka_ssl_cert_file=pki["cert"],
        kafka_ssl_key_file=pki["key"],
        kafka_ssl_check_hostname=False,
    )
    options = kafka_options(settings)
    assert sorted(options) == ["bootstrap_servers", "security_protocol", "ssl_context"]
    assert options["ssl_context"].check_hostname is False
    assert options["ssl_context"].verify_mode == ssl.CERT_REQUIRED


def test_a_key_that_does_not_match_the_certificate_fails_at_once(
    pki: dict[str, Path], tmp_path: Path
) -> None:
    other_key = tmp_path / "other.key"
    trustme.CA().issue_cert("x").private_key_pem.write_to_path(str(other_key))
    settings = Settings(
        kafka_security_protocol="SSL", kafka_ssl_cert_file=pki["cert"], kafka_ssl_key_file=other_key
    )
    with pytest.raises(KafkaRefused) as raised:
        kafka_options(settings)
    assert str(raised.value).startswith(
        f"cannot load the client certificate CCMON_KAFKA_SSL_CERT_FILE ({pki['cert']}) with "
        "its key ([X509: KEY_VALUES_MISMATCH]"
    )
    assert str(raised.value).endswith(
        "check CCMON_KAFKA_SSL_KEY_FILE and CCMON_KAFKA_SSL_KEY_PASSWORD"
    )
    assert exit_status(raised.value)[0] == EXIT_CONFIG


def test_an_encrypted_key_loads_with_its_password(pki: dict[str, Path], tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(pki["key"].read_bytes(), password=None)
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"key-pw"),
        )
    )
    values: dict[str, Any] = {
        "kafka_security_protocol": "SSL",
        "kafka_ssl_cert_file": pki["cert"],
        "kafka_ssl_key_file": encrypted,
    }
    assert kafka_options(Settings(**values, kafka_ssl_key_password="key-pw"))["ssl_context"]
    with pytest.raises(KafkaRefused, match="CCMON_KAFKA_SSL_KEY_PASSWORD"):
        kafka_options(Settings(**values, kafka_ssl_key_password="wrong"))


def test_a_ca_file_without_a_certificate_names_the_setting(tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.pem"
    not_pem.write_text("not a certificate\n")
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_ca_file=not_pem)
    with pytest.raises(KafkaRefused, match=r"^CCMON_KAFKA_SSL_CA_FILE \(.*\) holds no PEM"):
        kafka_options(settings)


def test_faust_gets_the_same_credentials(pki: dict[str, Path]) -> None:
    credentials = _credentials(sasl_ssl(pki))
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("ccmon", "s3cret")
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.protocol.value == "SASL_SSL"
    assert _credentials(Settings()) is None


def test_an_untrusted_certificate_names_the_ca_setting(pki: dict[str, Path]) -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "unable to get local issuer certificate"
    message = refusal_message(sasl_ssl(pki), error)
    assert message == (
        f"Kafka's TLS certificate is not trusted by CCMON_KAFKA_SSL_CA_FILE ({pki['ca']}): "
        "unable to get local issuer certificate; fix the setting "
        "(CCMON_KAFKA_SSL_CHECK_HOSTNAME=false only skips the host name)"
    )


def test_a_refused_password_names_the_sasl_settings_and_never_the_password(
    pki: dict[str, Path],
) -> None:
    message = refusal_message(sasl_ssl(pki), SaslAuthenticationFailed("invalid credentials"))
    assert message is not None
    assert "CCMON_KAFKA_SASL_PASSWORD" in message and "CCMON_KAFKA_SASL_USERNAME" in message
    assert "s3cret" not in message


def test_a_broker_that_is_away_is_not_a_refusal(pki: dict[str, Path]) -> None:
    settings = sasl_ssl(pki)
    assert refusal_message(settings, ConnectionRefusedError(111, "refused")) is None
    assert refusal_message(settings, TimeoutError()) is None
    assert refusal_message(settings, KafkaConnectionError("Unable to bootstrap")) is None


def test_a_kafka_refusal_exits_2() -> None:
    status, line = exit_status(KafkaRefused("Kafka refused the SASL credentials (...)"))
    assert (status, line) == (
        EXIT_CONFIG,
        "Kafka refused the SASL credentials (...); start the worker again once it is fixed",
    )


def test_an_untrusted_redis_certificate_exits_2_and_is_not_retried() -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    try:
        try:
            raise verify
        except ssl.SSLError as exc:
            raise RedisConnectionError("Error 1 connecting to r:6380.") from exc
    except RedisConnectionError as exc:
        error = StoreError("Redis unavailable")
        error.__cause__ = exc
    assert not store_retriable(error)
    status, line = exit_status(error)
    assert status == EXIT_CONFIG
    assert line.startswith("Redis's TLS certificate is not trusted by CCMON_REDIS_SSL_CA_FILE")


def test_a_certificate_for_another_host_names_the_hostname_setting(pki: dict[str, Path]) -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "IP address mismatch, certificate is not valid for '10.0.0.7'."
    assert refusal_message(sasl_ssl(pki), error) == (
        "Kafka's TLS certificate does not name the host in CCMON_BROKERS: IP address "
        "mismatch, certificate is not valid for '10.0.0.7'.; connect by a name the "
        "certificate holds, or set CCMON_KAFKA_SSL_CHECK_HOSTNAME=false"
    )


def test_a_tls_error_outside_redis_is_not_blamed_on_redis() -> None:
    status, line = exit_status(ssl.SSLError(1, "record layer failure"))
    assert status != EXIT_CONFIG and "Redis" not in line
