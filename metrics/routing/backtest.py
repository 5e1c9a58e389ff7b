"""EWT backtest: each contact's EWT at arrival against its actual wait (pure).

Events are replayed in event-time order through the real aggregation core and the
in-memory store. Just before each `contact.queued` is applied, the store is read exactly
as the routing snapshot reads it, and every EWT method under test plus the baseline
("mean of the last N answered waits of the queue") predicts that contact's wait. A
contact's actual wait is known once it is answered; abandoned, flowed-out and callback
contacts have no actual answered wait and are left out of the accuracy figures.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from metrics.config.queues import QueuesConfig
from metrics.core.aggregator import Aggregator
from metrics.events import AgentStateChanged, ContactOutcome, ContactQueued, Event, WrapupCompleted
from metrics.routing.ewt import EwtMethod, ewt_for_arrival
from metrics.routing.snapshot import ewt_inputs, routing_request
from metrics.store.memory import InMemoryStore

__all__ = ["BASELINE", "Prediction", "WITHIN_S", "replay", "summarize"]

#: Name of the baseline in the results.
BASELINE = "baseline_last_n"
#: Accuracy band reported beside the mean absolute error.
WITHIN_S = 30.0

_Key = tuple[str, str]  # (contact id, queue)


@dataclass
class Prediction:
    """One contact's arrival: what each method predicted, and what happened."""

    queue: str
    channel: str
    arrival_ms: int
    predicted: dict[str, float | None] = field(default_factory=dict)
    actual_s: float | None = None
    outcome: str | None = None


def replay(
    events: Iterable[Event],
    queues: QueuesConfig,
    methods: Mapping[str, EwtMethod],
    baseline_n: int = 10,
) -> list[Prediction]:
    """Predictions for every contact.queued of `events` (contact and agent events only)."""
    wanted = (ContactQueued, ContactOutcome, WrapupCompleted, AgentStateChanged)
    ordered = sorted((e for e in events if isinstance(e, wanted)), key=lambda e: e.time_ms)
    aggregator = Aggregator(queues)
    store = InMemoryStore()
    recent: defaultdict[tuple[str, str], deque[float]] = defaultdict(
        lambda: deque(maxlen=baseline_n)
    )
    arrivals: dict[_Key, Prediction] = {}
    out: list[Prediction] = []
    for event in ordered:
        if isinstance(event, ContactQueued):
            key = (event.contact_id, event.queue)
            if key not in arrivals:
                now = event.time_ms
                store.flush(aggregator.drain(), now)
                series = (event.queue, event.channel)
                (data,) = store.read([routing_request(series, now)], now)
                inputs = ewt_inputs(data, queues.get(event.queue))
                p = Prediction(event.queue, event.channel, now)
                for name, method in methods.items():
                    p.predicted[name] = ewt_for_arrival(inputs, method)
                waits = recent[series]
                p.predicted[BASELINE] = sum(waits) / len(waits) if waits else None
                arrivals[key] = p
                out.append(p)
        elif isinstance(event, ContactOutcome):
            p_or_none = arrivals.get((event.contact_id, event.queue))
            if p_or_none is not None and p_or_none.outcome is None:
                p_or_none.outcome = event.kind
                if event.kind == "answered":
                    wait = max(0, event.time_ms - p_or_none.arrival_ms) / 1000
                    p_or_none.actual_s = wait
                    recent[(event.queue, event.channel)].append(wait)
        aggregator.apply(event)
    return out


def summarize(predictions: Iterable[Prediction], names: Iterable[str]) -> dict[str, object]:
    """Per method: MAE and share within ±WITHIN_S over answered contacts every method covers."""
    names = list(names)
    rows = [p for p in predictions if p.actual_s is not None]
    common = [p for p in rows if all(p.predicted.get(n) is not None for n in names)]
    methods: dict[str, dict[str, float | int | None]] = {}
    for name in names:
        # `common` holds only predictions with both a predicted and an actual wait.
        errors = [abs(cast(float, p.predicted[name]) - cast(float, p.actual_s)) for p in common]
        covered = sum(1 for p in rows if p.predicted.get(name) is not None)
        methods[name] = {
            "mae_s": round(sum(errors) / len(errors), 2) if errors else None,
            "within_30s": round(sum(e <= WITHIN_S for e in errors) / len(errors), 4)
            if errors
            else None,
            "coverage": round(covered / len(rows), 4) if rows else None,
        }
    return {"answered": len(rows), "compared": len(common), "methods": methods}
