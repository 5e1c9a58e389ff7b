"""Settings checks at start: the Redis URL's scheme, and CCMON_* names no setting reads."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from streams.settings import Settings, unknown_variables


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "url",
    ["redis://localhost:6379/0", "rediss://:pw@redis.example:6380/1", "unix:///run/redis.sock"],
)
def test_redis_tcp_tls_and_socket_urls_are_accepted(url: str) -> None:
    assert Settings(redis_url=url).redis_url.get_secret_value() == url  # type: ignore[arg-type]  # pydantic coerces str to SecretStr


@pytest.mark.parametrize(
    ("url", "got"),
    [
        ("http://:hunter2@redis:6379/0", "got scheme 'http'"),
        ("localhost:6379", "got scheme 'localhost'"),
        ("redis.example", "got no scheme"),
    ],
)
def test_other_redis_urls_are_refused_without_echoing_the_password(url: str, got: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(redis_url=url)  # type: ignore[arg-type]  # pydantic coerces str to SecretStr
    [error] = raised.value.errors()
    assert error["loc"] == ("redis_url",)
    assert error["msg"] == (
        f"Value error, must start with redis://, rediss:// (TLS) or unix:// (a socket); {got}"
    )
    assert "hunter2" not in error["msg"]


def test_a_misspelt_setting_is_named_with_the_closest_valid_one() -> None:
    environ = {
        "CCMON_EXPORTR_PORT": "9200",
        "CCMON_REDIS_URL": "redis://r:6379/0",  # valid
        "CCMON_TEST_KAFKA_BOOTSTRAP": "x:9092",  # the fixtures' own
        "CCMON_TOOLS_DIR": "/tmp/tools",  # the Makefile's
        "CCMON_XYZZY": "1",
        "HOME": "/root",  # not ccmon's
    }
    assert unknown_variables(environ) == [
        "CCMON_EXPORTR_PORT is not a ccmon setting and is ignored; "
        "did you mean CCMON_EXPORTER_PORT?",
        "CCMON_XYZZY is not a ccmon setting and is ignored (`ccmon check-config` lists them)",
    ]


def test_every_setting_name_is_known() -> None:
    environ = {f"CCMON_{name.upper()}": "" for name in Settings.model_fields}
    assert unknown_variables(environ) == []
