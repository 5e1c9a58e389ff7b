"""`ccmon export` against a real Redis: the CSV holds the figures the store has."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from metrics.config.queues import QueuesConfig
from streams.settings import Settings
from streams.testing.events import contact, wrapup, yesterday_ms
from streams.testing.measure import update_of

pytestmark = pytest.mark.integration

DAY = yesterday_ms()
HOUR = 3_600_000


def ccmon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_export_writes_the_stored_intervals_of_a_day_as_csv(
    redis_url: str, tmp_path: Path
) -> None:
    prefix = f"export-{uuid.uuid4().hex[:8]}"
    settings = Settings(redis_url=redis_url, redis_prefix=prefix)  # type: ignore[arg-type]
    events = [
        contact("contact.queued", DAY + 9 * HOUR + 60_000, "c1"),
        contact("contact.answered", DAY + 9 * HOUR + 75_000, "c1"),
        wrapup(DAY + 9 * HOUR + 300_000, "c1", talk=200, hold=10, acw=15),
        contact("contact.queued", DAY + 9 * HOUR + 40 * 60_000, "c2", channel="chat"),
        contact("contact.abandoned", DAY + 9 * HOUR + 41 * 60_000, "c2", channel="chat"),
        contact("contact.queued", DAY + 14 * HOUR, "c3", queue="support"),
    ]
    store = settings.redis_store(QueuesConfig())
    await asyncio.to_thread(store.flush, update_of(events, QueuesConfig()), DAY + 15 * HOUR)

    env = {k: v for k, v in os.environ.items() if not k.startswith("CCMON_")}
    env |= {"CCMON_REDIS_URL": redis_url, "CCMON_REDIS_PREFIX": prefix}
    day = dt.datetime.fromtimestamp(DAY / 1000, tz=dt.UTC).date().isoformat()
    out = tmp_path / "report.csv"
    done = await asyncio.to_thread(
        ccmon, env, "export", "--from", day, "--to", day, "--queue", "sales", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    assert "ccmon export: 96 intervals of 1 queues" in done.stderr  # 2 channels x 48
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    busy = [
        (
            r["channel"],
            r["start"][11:16],
            r["queued"],
            r["answered"],
            r["abandoned"],
            r["aht_seconds"],
        )
        for r in rows
        if r["queued"] != "0"
    ]
    assert busy == [
        ("chat", "09:30", "1", "0", "1", ""),
        ("voice", "09:00", "1", "1", "0", "225.0"),
    ]
    assert {r["queue"] for r in rows} == {"sales"}

    # Every queue, yesterday as a word, 15-minute intervals, to stdout.
    done = await asyncio.to_thread(
        ccmon, env, "export", "--from", "yesterday", "--to", "yesterday", "--size", "15"
    )
    assert done.returncode == 0, done.stderr
    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(table) == 3 * 96 and sum(int(r["queued"]) for r in table) == 3

    bad = await asyncio.to_thread(ccmon, env, "export", "--from", "2026-11-16T09:00")
    assert bad.returncode == 2 and "needs a UTC offset" in bad.stderr
