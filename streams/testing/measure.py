"""Feed simulated events through ccmon's own pure core and read the figures back.

The same code the worker runs: streams.decode.decode -> metrics.core.aggregator.Aggregator ->
metrics.store.base.InMemoryStore (flush) -> metrics.core.views (read). Only Kafka and Redis are
left out, which the integration test covers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.core.formulas import sum_counters
from metrics.core.panes import HOUR_MS
from metrics.core.reads import SeriesRequest
from metrics.core.update import Update
from metrics.core.views import window_view
from metrics.events import ContactResolution, TicketCreated
from metrics.store.memory import InMemoryStore
from streams.decode import decode
from streams.producers.sim.model import SimEvent
from streams.rekey import customer_contact_record

__all__ = ["Interval", "batch_means", "hourly_views", "measure", "update_of", "window"]

FLUSH_EVERY = 5000


def measure(
    events: Iterable[SimEvent], queues: QueuesConfig, end_ms: int, salt: bytes | None = None
) -> InMemoryStore:
    """Decode and aggregate every event (encoded as the Kafka sink would), flushing in batches.

    With a `salt`, every event naming a customer also gives the customer.contact event the
    worker would forward (streams.rekey), applied right after it, so FCR is measured too.
    """
    store = InMemoryStore(retention_ms=400 * 86_400_000, state_ttl_ms=400 * 86_400_000)
    aggregator = Aggregator(queues)
    pending = 0
    for _, _, event in events:
        decoded = decode(orjson.dumps(event), 65536)
        aggregator.apply(decoded)
        if salt is not None and isinstance(decoded, ContactResolution | TicketCreated):
            record = customer_contact_record(decoded, salt)
            if record is not None:
                aggregator.apply(decode(record[1], 65536))
        pending += 1
        if pending == FLUSH_EVERY:
            store.flush(aggregator.drain(), end_ms)
            pending = 0
    store.flush(aggregator.drain(), end_ms)
    return store


def window(
    store: InMemoryStore,
    queues: QueuesConfig,
    series: tuple[str, str],
    first_hour_ms: int,
    hours: int,
    end_ms: int,
) -> dict[str, Any]:
    """ccmon's window view of `hours` whole hours of one (queue, channel)."""
    starts = tuple(first_hour_ms + i * HOUR_MS for i in range(hours))
    (data,) = store.read([SeriesRequest(series, hours=starts)], end_ms)
    return window_view(sum_counters(data.hours), queues.get(series[0]))


def hourly_views(
    store: InMemoryStore,
    queues: QueuesConfig,
    queue: str,
    first_hour_ms: int,
    batches: int,
    hours_per_batch: int,
    end_ms: int,
) -> list[dict[str, Any]]:
    """ccmon's window view (counts and derived metrics) of each batch of whole hours."""
    hours = tuple(first_hour_ms + i * HOUR_MS for i in range(batches * hours_per_batch))
    (data,) = store.read([SeriesRequest((queue, "voice"), hours=hours)], end_ms)
    cfg = queues.get(queue)
    return [
        window_view(sum_counters(data.hours[b * hours_per_batch : (b + 1) * hours_per_batch]), cfg)
        for b in range(batches)
    ]


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile by the Cornish-Fisher expansion (error < 1e-3 for df >= 10)."""
    z = statistics.NormalDist().inv_cdf(p)
    return (
        z
        + (z**3 + z) / (4 * df)
        + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
        + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3)
    )


@dataclass(frozen=True)
class Interval:
    """A batch-means confidence interval of one metric."""

    mean: float
    half_width: float
    lag1: float

    def __contains__(self, value: float) -> bool:
        return abs(value - self.mean) <= self.half_width

    def __str__(self) -> str:
        return f"{self.mean:.4f} ± {self.half_width:.4f} (lag-1 corr of batches {self.lag1:+.2f})"


def batch_means(values: Sequence[float], confidence: float = 0.99) -> Interval:
    """Mean of per-batch values with a t interval; batches long enough to be ~independent."""
    n = len(values)
    mean = statistics.fmean(values)
    sd = statistics.stdev(values)
    deviations = [v - mean for v in values]
    lag1 = sum(a * b for a, b in zip(deviations, deviations[1:], strict=False)) / sum(
        d * d for d in deviations
    )
    half = t_quantile(1 - (1 - confidence) / 2, n - 1) * sd / math.sqrt(n)
    return Interval(mean, half, lag1)


def update_of(
    events: Sequence[dict[str, Any]], queues: QueuesConfig, partition: str = "events:0"
) -> Update:
    """The one Update the pure core makes of `events`, as offsets 0..n-1 of `partition`."""
    aggregator = Aggregator(queues)
    for event in events:
        aggregator.apply(decode(orjson.dumps(event), 1 << 16))
    update = aggregator.drain()
    update.mark_offset(partition, 0)
    update.mark_offset(partition, len(events) - 1)
    return update
