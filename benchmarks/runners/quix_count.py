"""Quix Streams: a 1-minute tumbling count per message key, with RocksDB state and changelog.

The pipeline is ``tumbling_window(60 s).count().current()`` over JSON values, keyed by the
Kafka message key (contact id, or agent id for agent events): Quix state is always per
message key, and a count per queue would need ``sdf.group_by("queue")``, which adds a
repartition topic (one more produce and consume per event). Key cardinality matters: the
same pipeline over a copy of the topic keyed by queue (20 keys instead of ~60k contacts)
ran ~1.5x faster here. Window time is the Kafka record timestamp, which the producer sets
to the event time, so windows open and expire as in production. ``current()`` emits once
per input event and late events are counted by ``on_late``, so the run stops exactly when
all N events went through the window.

Quix Streams against Tansu:

* Quix reads each topic's config back with DescribeConfigs and requires ``retention.ms``
  and ``cleanup.policy``; Tansu returns only configs set explicitly at creation, so the
  source topic must be created beforehand with both (``benchmarks.broker.create_topic``).
  The changelog topic Quix creates for the window store carries explicit configs, so it
  passes the same check.
* librdkafka's default ``session.timeout.ms`` (45 s) makes Tansu hold the first JoinGroup
  ~22 s; set to 6 s through ``consumer_extra_config`` (see ``SESSION_TIMEOUT_MS``).
"""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta
from typing import Any

from quixstreams import Application

from benchmarks.runners._common import (
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
    Clock,
    cli,
    fresh_group,
    result,
)


def run(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    """Run the Quix tumbling-count pipeline over ``topic`` until ``n`` events; return figures."""
    clock = Clock()
    state = {"count": 0, "late": 0}
    with tempfile.TemporaryDirectory(prefix="bench-quix-") as state_dir:
        app = Application(
            broker_address=bootstrap,
            consumer_group=fresh_group("quix"),
            auto_offset_reset="earliest",
            state_dir=state_dir,
            loglevel=logging.WARNING,
            # librdkafka's default 45 s means ~22 s of JoinGroup wait on Tansu.
            consumer_extra_config={
                "session.timeout.ms": SESSION_TIMEOUT_MS,
                "heartbeat.interval.ms": HEARTBEAT_INTERVAL_MS,
            },
        )
        sdf = app.dataframe(app.topic(topic, value_deserializer="json"))
        sdf = sdf.update(lambda _value: clock.seen_first())

        def done_one() -> None:
            state["count"] += 1
            if state["count"] == n:
                clock.seen_last()
                app.stop()

        def on_late(*_args: Any, **_kwargs: Any) -> bool:
            # A late event yields no output; count it so the run still stops at N.
            state["late"] += 1
            done_one()
            return False

        window = sdf.tumbling_window(timedelta(minutes=1), on_late=on_late).count()
        window.current().update(lambda _window: done_one())
        app.run()
    return result(
        n,
        state["count"],
        clock,
        window="tumbling 60s count().current(), key = message key",
        late_events=state["late"],
    )


if __name__ == "__main__":
    cli(run)
