"""The exporter's HTTP server bounds come from the settings (CCMON_EXPORTER_*)."""

from __future__ import annotations

import pytest

from metrics.web.server import ServerOptions
from streams.exporter import server_options
from streams.settings import Settings


def test_defaults_bound_slow_clients_and_keep_access_logs_off() -> None:
    assert server_options(Settings()) == ServerOptions(
        idle_timeout_s=10.0, max_connections=500, access_log=False
    )


def test_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CCMON_EXPORTER_IDLE_TIMEOUT_S", "2.5")
    monkeypatch.setenv("CCMON_EXPORTER_MAX_CONNECTIONS", "64")
    monkeypatch.setenv("CCMON_EXPORTER_ACCESS_LOG", "true")
    assert server_options(Settings()) == ServerOptions(
        idle_timeout_s=2.5, max_connections=64, access_log=True
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("CCMON_EXPORTER_IDLE_TIMEOUT_S", "0"), ("CCMON_EXPORTER_MAX_CONNECTIONS", "0")],
)
def test_zero_is_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name.removeprefix("CCMON_").lower()):
        Settings()
