"""The ingest's wiring from the settings: tokens (variable and file) and HTTP bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.web.server import ServerOptions
from streams.ingest.run import load_tokens, server_options
from streams.settings import Settings


def test_tokens_come_from_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCMON_INGEST_TOKENS", "crm:t-1,pbx:t-2")
    tokens = load_tokens(Settings())
    assert tokens.names == ("crm", "pbx")
    assert tokens.match("Bearer t-2") == "pbx"


def test_or_from_a_mounted_file_of_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tokens"
    path.write_text("# mounted from a Kubernetes secret\ncrm:t-1\nwfm:t-3\n", encoding="utf-8")
    monkeypatch.setenv("CCMON_INGEST_TOKENS_FILE", str(path))
    tokens = load_tokens(Settings())
    assert tokens.names == ("crm", "wfm")
    assert tokens.match("Bearer t-3") == "wfm"


def test_no_token_setting_means_open() -> None:
    assert load_tokens(Settings()).pairs == ()


def test_defaults_bound_clients_and_keep_the_producer_safe_for_any_broker() -> None:
    settings = Settings()
    assert server_options(settings) == ServerOptions(10.0, 500, False)
    assert Settings(ingest_max_connections=7, ingest_idle_timeout_s=2).ingest_max_connections == 7
    assert server_options(Settings(ingest_max_connections=7, ingest_idle_timeout_s=2)) == (
        ServerOptions(2.0, 7, False)
    )
    assert (settings.ingest_port, settings.ingest_idempotence) == (9110, False)
    assert settings.ingest_max_body_bytes == 1 << 20


def test_the_in_flight_budget_refuses_beyond_its_limit_but_never_a_first_request() -> None:
    from streams.ingest.producer import Busy, _Budget

    budget = _Budget(limit=100)
    budget.take(150)  # alone in flight: taken, or one large request could never pass
    with pytest.raises(Busy, match="150 bytes wait for Kafka acks"):
        budget.take(1)
    budget.give(150)
    budget.take(60)
    budget.take(40)
    with pytest.raises(Busy):
        budget.take(1)
