"""Secrets from files (CCMON_<NAME>_FILE), the security settings' checks, and masking."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import trustme
from pydantic import ValidationError

from streams.secretfiles import file_variables, secret_fields
from streams.settings import Settings, unknown_variables


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


@pytest.fixture
def ca_file(tmp_path: Path) -> Path:
    path = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def errors_of(**values: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        Settings(**values)
    return [(e["loc"], e["msg"]) for e in raised.value.errors()]


def test_every_secret_takes_a_file_variable() -> None:
    variables = file_variables(Settings)
    # Secrets other parts add (ingest tokens, webhook secrets, the AMI secret) get one too.
    assert set(variables) == set(secret_fields(Settings))
    core = ["redis_url", "kafka_sasl_password", "kafka_ssl_key_password"]
    core += ["customer_id_salt", "api_token"]
    assert {name: variables[name] for name in core} == {
        "redis_url": "CCMON_REDIS_URL_FILE",
        "kafka_sasl_password": "CCMON_KAFKA_SASL_PASSWORD_FILE",
        "kafka_ssl_key_password": "CCMON_KAFKA_SSL_KEY_PASSWORD_FILE",
        "customer_id_salt": "CCMON_CUSTOMER_ID_SALT_FILE",
        "api_token": "CCMON_API_TOKEN_FILE",
    }


def test_a_secret_file_is_read_without_its_trailing_newline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "url").write_text("rediss://ccmon:s3cret@redis.example:6380/0\n")
    (tmp_path / "salt").write_text("pepper\r\n")
    monkeypatch.setenv("CCMON_REDIS_URL_FILE", str(tmp_path / "url"))
    monkeypatch.setenv("CCMON_CUSTOMER_ID_SALT_FILE", str(tmp_path / "salt"))
    settings = Settings()
    assert settings.redis_url.get_secret_value() == "rediss://ccmon:s3cret@redis.example:6380/0"
    assert settings.customer_id_salt is not None
    assert settings.customer_id_salt.get_secret_value() == "pepper"


def test_a_missing_secret_file_fails_its_setting_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv("CCMON_API_TOKEN_FILE", str(missing))
    assert errors_of() == [
        (
            ("api_token",),
            f"Value error, CCMON_API_TOKEN_FILE: cannot read {missing}: No such file or directory",
        )
    ]


def test_a_secret_given_both_ways_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pw").write_text("from-file")
    monkeypatch.setenv("CCMON_KAFKA_SASL_PASSWORD_FILE", str(tmp_path / "pw"))
    monkeypatch.setenv("CCMON_KAFKA_SASL_PASSWORD", "from-env")
    assert errors_of() == [
        (
            ("kafka_sasl_password",),
            "Value error, set CCMON_KAFKA_SASL_PASSWORD or CCMON_KAFKA_SASL_PASSWORD_FILE, "
            "not both",
        )
    ]


def test_file_variables_of_secrets_are_known_and_others_are_not() -> None:
    environ = {"CCMON_KAFKA_SASL_PASSWORD_FILE": "/x", "CCMON_BROKERS_FILE": "/y"}
    [warning] = unknown_variables(environ)
    assert warning.startswith("CCMON_BROKERS_FILE is not a ccmon setting")


def test_every_secret_is_masked_in_check_config(ca_file: Path) -> None:
    settings = Settings(
        redis_url="rediss://u:redis-pw@r:6380/0",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_username="ccmon",
        kafka_sasl_password="kafka-pw",
        kafka_ssl_ca_file=ca_file,
        kafka_ssl_key_password="key-pw",
        api_token="api-pw",
        customer_id_salt="salt-pw",
    )
    shown = settings.as_dict()
    masked = ["redis_url", "kafka_sasl_password", "kafka_ssl_key_password", "api_token"]
    assert [shown[name] for name in [*masked, "customer_id_salt"]] == ["**********"] * 5
    assert shown["kafka_sasl_username"] == "ccmon"
    assert "pw" not in repr(shown)
    assert settings.as_dict(plaintext_secrets=True)["kafka_sasl_password"] == "kafka-pw"


def test_sasl_needs_a_user_and_a_password() -> None:
    message = (
        "Value error, CCMON_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs CCMON_KAFKA_SASL_USERNAME "
        "and CCMON_KAFKA_SASL_PASSWORD (or CCMON_KAFKA_SASL_PASSWORD_FILE)"
    )
    assert errors_of(kafka_security_protocol="SASL_SSL", kafka_sasl_username="ccmon") == [
        (("kafka_sasl_password",), message)
    ]


def test_tls_files_the_connection_would_ignore_are_refused(ca_file: Path) -> None:
    assert errors_of(kafka_ssl_ca_file=ca_file) == [
        (
            ("kafka_ssl_ca_file",),
            "Value error, set, but CCMON_KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not use TLS "
            "(choose SSL or SASL_SSL)",
        )
    ]
    assert errors_of(redis_ssl_ca_file=ca_file) == [
        (
            ("redis_ssl_ca_file",),
            "Value error, set, but CCMON_REDIS_URL does not use TLS (a rediss:// URL does)",
        )
    ]


def test_a_tls_file_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    [(loc, message)] = errors_of(
        kafka_security_protocol="SSL", kafka_ssl_ca_file=tmp_path / "nope.pem"
    )
    assert (loc, message) == (("kafka_ssl_ca_file",), "Path does not point to a file")


def test_redis_tls_options_follow_the_url(ca_file: Path) -> None:
    assert Settings().redis_tls_options() == {}
    settings = Settings(
        redis_url="rediss://r:6380/0",
        redis_ssl_ca_file=ca_file,
        redis_ssl_cert_file=ca_file,
        redis_ssl_check_hostname=False,
    )
    assert settings.redis_tls_options() == {
        "ssl_check_hostname": False,
        "ssl_ca_certs": str(ca_file),
        "ssl_certfile": str(ca_file),
        "ssl_keyfile": str(ca_file),  # the key in the certificate file when none is given
    }
