"""The simulator is statistically right, as ccmon itself measures it (seeded, a few seconds).

M/M/N (Poisson arrivals, exponential talk time, N agents always on, no wrap-up time): the
service level, ASA and probability of waiting that ccmon computes from the simulated
stream must fall within a 99.9 % batch-means confidence interval of Erlang C; with
exponential patience, the abandonment rate and service level must match Erlang A.

Method: one long run per case, the first hours dropped as warm-up, the rest cut into
30 batches of whole hours; ccmon's figure of each batch is read from its own store
(hour buckets) through metrics.core.views, and the t interval of the 30 batch values must
contain the formula's value. Batches are long against the queue's relaxation time
(a few minutes), so their values are close to independent (lag-1 correlation shown).
Each interval is at 99.9 %, so that the ten comparisons here together have a family-wise
error near 1 % (Bonferroni); the seeds are fixed, so a run is reproducible, and the model
was also checked unbiased over other seeds (not a seed picked to pass).

Formulas compared (the queue has short_abandon_s: 0):
- service level (T = 20 s), default formula answered_within_T / (answered + abandoned);
  without abandonment that is P(wait <= T) = 1 - C(N, A) e^{-(N mu - lambda) T}
- probability of waiting: 1 - service level at T = 1 ms (answered_only formula), against
  1 - erlang_c_service_level(T = 0.001 s) (C(N, A) itself differs by under 1e-5)
- ASA: wait_answered_sum / answered, against C(N, A) / (N mu - lambda)
- Erlang A: abandonment_rate = abandoned / queued, against abandon_probability; and the
  answered_of_offered service level against ErlangA.service_level (answered within T of
  all arrivals)
"""

from __future__ import annotations

import pytest

from metrics.config.queues import QueueConfig, SlFormula
from metrics.routing.erlang import (
    erlang_a,
    erlang_c,
    erlang_c_asa_seconds,
    erlang_c_service_level,
)
from streams.testing.erlang_agreement import ccmon_views, interval, metric, scenario, simulate

pytestmark = pytest.mark.statistical

# (agents, arrivals per hour, AHT s, hours per batch, seed)
ERLANG_C_CASES = [
    pytest.param(10, 160.0, 180.0, 6, 11, id="10 agents at 80% load"),
    pytest.param(3, 150.0, 60.0, 8, 12, id="3 agents at 83% load"),
]


@pytest.mark.parametrize(("agents", "per_hour", "aht", "hours_per_batch", "seed"), ERLANG_C_CASES)
def test_service_level_asa_and_wait_probability_match_erlang_c(
    agents: int, per_hour: float, aht: float, hours_per_batch: int, seed: int
) -> None:
    rate = per_hour / 3600
    sl_queue = QueueConfig(name="q", sl_threshold_s=20, short_abandon_s=0)
    events = simulate(scenario(per_hour, aht, agents, None), hours_per_batch, seed)
    views = ccmon_views(events, hours_per_batch, sl_queue)
    sl = interval(metric(views, "service_level"))
    asa = interval(metric(views, "asa_seconds"))
    assert erlang_c_service_level(agents, rate, aht, 20) in sl, f"SL {sl}"
    assert erlang_c_asa_seconds(agents, rate, aht) in asa, f"ASA {asa}"
    # The intervals are narrow enough to tell a wrong model from a right one.
    assert sl.half_width < 0.07 and asa.half_width < 0.35 * asa.mean

    wait_queue = QueueConfig(
        name="q", sl_threshold_s=0.001, short_abandon_s=0, sl_formula=SlFormula.ANSWERED_ONLY
    )
    views = ccmon_views(events, hours_per_batch, wait_queue)
    waited = interval([1 - v for v in metric(views, "service_level")])
    expected = 1 - erlang_c_service_level(agents, rate, aht, 0.001)
    assert abs(expected - erlang_c(agents, rate * aht)) < 1e-4
    assert expected in waited, f"P(wait) {waited}"


# (agents, arrivals per hour, AHT s, patience s, hours per batch, seed)
ERLANG_A_CASES = [
    pytest.param(10, 200.0, 180.0, 120.0, 4, 21, id="10 agents at 100% load, patience 120s"),
    pytest.param(4, 100.0, 120.0, 60.0, 6, 22, id="4 agents at 83% load, patience 60s"),
]


@pytest.mark.parametrize(
    ("agents", "per_hour", "aht", "patience", "hours_per_batch", "seed"), ERLANG_A_CASES
)
def test_abandonment_and_service_level_match_erlang_a(
    agents: int, per_hour: float, aht: float, patience: float, hours_per_batch: int, seed: int
) -> None:
    rate = per_hour / 3600
    queue = QueueConfig(
        name="q",
        sl_threshold_s=20,
        short_abandon_s=0,
        sl_formula=SlFormula.ANSWERED_OF_OFFERED,
    )
    events = simulate(scenario(per_hour, aht, agents, patience), hours_per_batch, seed)
    views = ccmon_views(events, hours_per_batch, queue)
    expected = erlang_a(agents, rate, aht, patience, 20)
    abandoned = interval(metric(views, "abandonment_rate"))
    sl = interval(metric(views, "service_level"))
    assert expected.abandon_probability in abandoned, f"abandonment {abandoned}"
    assert expected.service_level in sl, f"SL {sl}"
    assert abandoned.half_width < 0.04 and sl.half_width < 0.07
