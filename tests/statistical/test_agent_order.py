"""The large centre's simulated day reordered within 110 s gives the in-order figures.

The measurement of issue 11 (agent time independent of arrival order), on the scenario it
was found with: voice, chat, email and messaging queues, about 100,000 events, through the
pure pipeline (helpers in tests/unit/metrics/core/test_agents_day.py). About 10 s.
"""

from __future__ import annotations

import pytest

from tests.unit.metrics.core.test_agents_day import (
    AGENT_FIELDS,
    LATENESS_MS,
    WITHIN_MS,
    aggregate,
    cells,
    day_events,
    differing,
    reordered,
)

pytestmark = pytest.mark.statistical


def test_large_centre_day_reordered_within_110_s_gives_zero_differing_cells() -> None:
    events = day_events("large-centre.yaml")
    shuffled = reordered(events, WITHIN_MS, seed=11)
    clean, clean_stale = aggregate(events, LATENESS_MS)
    late, late_stale = aggregate(shuffled, LATENESS_MS)
    in_order = cells(clean)
    assert sum(1 for _, _, name in in_order if name in AGENT_FIELDS) > 5000
    assert differing(in_order, cells(late)) == set()
    assert clean_stale == late_stale == 0
    # and what the issue saw: with only the current state kept, agent time changes
    before, _ = aggregate(events, 0)
    before_late, stale = aggregate(shuffled, 0)
    changed = differing(cells(before), cells(before_late))
    assert stale > 0
    assert sum(1 for table, _, name in changed if name in AGENT_FIELDS) > 1000
