"""Routing-feed settings: the API token is a secret, the snapshot topic is configurable."""

from __future__ import annotations

import os

import pytest

from streams.cli import main
from streams.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


def test_the_api_token_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_API_TOKEN", "tok-hunter2-tok")
    monkeypatch.setenv("CCMON_SNAPSHOTS_TOPIC", "routing.snaps")
    assert main(["check-config"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out
    assert "api_token = **********" in out
    assert "snapshots_topic = routing.snaps" in out
    token = Settings().api_token
    assert token is not None and token.get_secret_value() == "tok-hunter2-tok"


def test_defaults() -> None:
    settings = Settings()
    assert settings.api_token is None
    assert settings.as_dict()["api_token"] is None
    assert (settings.snapshots_topic, settings.snapshot_interval_ms) == ("ccmon.snapshots", 1000)
    assert settings.publish_snapshots is True


def test_a_bad_interval_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CCMON_ROUTING_REFRESH_MS", "5")
    assert main(["check-config"]) == 2
    assert "CCMON_ROUTING_REFRESH_MS" in capsys.readouterr().err
