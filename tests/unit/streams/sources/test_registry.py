"""Which sources the ingest serves: those that need a secret only once it is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.settings import Settings
from streams.sources.amazon_connect import AmazonConnect
from streams.sources.genesys import GenesysCloud
from streams.sources.registry import source_mappers


def test_without_secrets_no_source_is_served() -> None:
    assert source_mappers(Settings()) == {}


def test_secrets_add_the_signed_sources_and_are_used() -> None:
    settings = Settings(
        twilio_auth_token="12345",
        zendesk_webhook_secret="z-secret",
        amazon_connect_access_key="a-key",
        genesys_api_key="g-key",
        genesys_agent_queues=" sales, billing ,",
    )
    mappers = source_mappers(settings)
    assert sorted(mappers) == ["amazon-connect", "genesys", "twilio", "zendesk"]
    assert all(name == m.name for name, m in mappers.items())
    assert mappers["amazon-connect"].verify(b"{}", {"x-api-key": "a-key"}, "/") is None
    assert mappers["amazon-connect"].verify(b"{}", {}, "/") is not None
    assert mappers["genesys"].verify(b"{}", {"x-api-key": "g-key"}, "/") is None
    assert isinstance(mappers["amazon-connect"], AmazonConnect)
    genesys = mappers["genesys"]
    assert isinstance(genesys, GenesysCloud) and genesys._queues == ["sales", "billing"]
    assert mappers["twilio"].verify(b"", {}, "/") == "missing X-Twilio-Signature header"


def test_webhook_secrets_are_masked_in_the_settings_dump() -> None:
    shown = Settings(twilio_auth_token="12345", genesys_api_key="g").as_dict()
    assert shown["twilio_auth_token"] == "**********"
    assert shown["genesys_api_key"] == "**********"
    assert shown["zendesk_webhook_secret"] is None


def test_a_webhook_secret_can_come_from_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "twilio-token"
    secret.write_text("12345\n")
    monkeypatch.setenv("CCMON_TWILIO_AUTH_TOKEN_FILE", str(secret))
    mappers = source_mappers(Settings())
    assert list(mappers) == ["twilio"]
    assert mappers["twilio"].verify(b"", {"x-twilio-signature": "x"}, "https://a/") == (
        "X-Twilio-Signature does not match (check the auth token and the public URL)"
    )
