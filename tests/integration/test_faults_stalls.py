"""Redis and the broker stalled (SIGSTOP) mid-run, Redis restarted with AOF: each ends exact.

Bounded versions of the soak's runs (`make soak-faults` runs them at 30 s stalls and full
size). Each run has a server of its own, so stopping it touches no other test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.faults_rig import broker_stalled, redis_restarted, redis_stalled

pytestmark = pytest.mark.integration


async def test_a_redis_stalled_for_12_s_is_waited_out_and_the_run_ends_exact(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    # 12 s: longer than the store client's 10 s socket timeout, so calls fail meanwhile.
    figures = await redis_stalled(kafka_bootstrap, tmp_path, stall_s=12, contacts=500, bad=1500)
    assert figures.differing == 0, figures
    assert figures.letters_missing == 0 and figures.dead_lettered >= 1500, figures
    assert not figures.worker_exited, figures
    assert 503 in figures.ready_during, figures
    assert figures.ready_after == 200, figures


async def test_a_broker_stalled_for_15_s_is_waited_out_and_the_run_ends_exact(
    redis_url: str, tmp_path: Path
) -> None:
    figures = await broker_stalled(redis_url, tmp_path, stall_s=15, contacts=800, bad=4000)
    assert figures.differing == 0, figures
    assert figures.letters_missing == 0 and figures.dead_lettered >= 4000, figures
    assert not figures.worker_exited, figures
    assert figures.mid_run == 1, figures
    # /readyz turns 503 only once what was fetched before the stall is flushed (on a busy
    # machine that can outlast the stall), so only the recovery is asserted.
    assert figures.ready_after == 200, figures


async def test_a_redis_with_aof_always_killed_and_restarted_needs_no_rebuild(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    figures = await redis_restarted(kafka_bootstrap, tmp_path, aof=True, contacts=600)
    assert figures.differing == 0, figures
    assert figures.store_lost == 0, figures
    assert not figures.worker_exited, figures
