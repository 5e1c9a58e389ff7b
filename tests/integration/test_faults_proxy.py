"""Toxiproxy between the worker and both the broker and Redis: latency, resets, dropped data.

The proxy comes from `make deploy-tools` (tests/servers/toxiproxy.py); without it these
tests skip and say so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.faults_rig import through_toxiproxy
from tests.servers.toxiproxy import Toxiproxy

pytestmark = pytest.mark.integration


async def test_latency_resets_and_dropped_data_on_broker_and_redis_end_exact(
    toxiproxy: Toxiproxy, redis_url: str, tmp_path: Path
) -> None:
    figures = await through_toxiproxy(
        toxiproxy, redis_url, tmp_path, contacts=500, bad=1500, latency_ms=200, jitter_ms=50
    )
    assert figures.differing == 0, figures
    assert figures.letters_missing == 0 and figures.dead_lettered >= 1500, figures
    assert not figures.worker_exited, figures
    assert figures.mid_run == 2, figures  # both the resets and the dropped data struck mid-run
    # The latency stayed on both to the end; the reset and drop toxics were removed.
    for proxy in ("kafka", "redis"):
        assert sorted(toxiproxy.toxics(proxy)) == ["latency_downstream", "latency_upstream"]
