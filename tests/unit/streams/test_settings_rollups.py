"""CCMON_ROLLUP_RETENTION_S: 13 months by default, never less than the pane retention,
following a backfill, and handed to the Redis store."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from streams.settings import Settings

DAY = 86_400


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CCMON_"):
            monkeypatch.delenv(name)


def test_rollups_keep_13_months_and_panes_8_days_by_default() -> None:
    settings = Settings()
    assert (settings.rollup_retention_s, settings.retention_s) == (396 * DAY, 8 * DAY)


def test_the_rollup_retention_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CCMON_ROLLUP_RETENTION_S", str(800 * DAY))
    assert Settings().rollup_retention_s == 800 * DAY


def test_rollups_shorter_than_the_panes_are_refused_naming_both() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(retention_s=30 * DAY, rollup_retention_s=10 * DAY)
    message = str(raised.value)
    assert "CCMON_ROLLUP_RETENTION_S (864000) must be at least CCMON_RETENTION_S (2592000)" in (
        message
    )


def test_zero_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(rollup_retention_s=0)


def test_a_long_backfill_lengthens_the_rollups_unless_they_are_set() -> None:
    assert Settings(backfill_s=500 * DAY).rollup_retention_s == 508 * DAY
    assert Settings(backfill_s=30 * DAY).rollup_retention_s == 396 * DAY
    with pytest.raises(ValidationError):
        Settings(backfill_s=500 * DAY, rollup_retention_s=400 * DAY)


def test_the_redis_store_gets_both_retentions() -> None:
    store = Settings(retention_s=10 * DAY, rollup_retention_s=400 * DAY).redis_store()
    assert (store.retention_ms, store.rollup_retention_ms) == (10 * DAY * 1000, 400 * DAY * 1000)
