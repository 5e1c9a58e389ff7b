"""A bare Faust agent that only counts events: the cost of Faust's per-event stream machinery.

The app runs in-process under ``faust.Worker`` (what ``faust -A app worker`` builds), with
no web server and an in-memory store. The agent decodes JSON values (Faust uses orjson when
it is installed, like the raw ceiling) and counts; at N it notes the time and stops the
worker, which makes ``execute_from_commandline`` return via ``SystemExit(0)``.

Faust against Tansu (single node, memory-only), as found while writing this:

* ``broker_session_timeout``: Tansu answers a new group's first JoinGroup only after about
  half the session timeout; Faust's default 60 s meant 30 s before the first event. 6 s
  here (heartbeat 1 s). See ``SESSION_TIMEOUT_MS``.
* ``topic_replication_factor=1``: Tansu is one broker; Faust creates its internal topics
  (``<app id>-__assignor-__leader``, table changelogs, repartition topics) with this
  factor. 1 is Faust's default, set explicitly so nobody copies a bigger one here.
* ``topic_allow_declare=True`` (default): Faust creates the 1-partition leader topic with a
  raw CreateTopics request, which Tansu accepts, and skips the source topic that already
  exists. With ``False`` it still runs, but only because Tansu auto-creates any unknown
  topic on a Metadata request, with 4 partitions and no configs: so the leader topic
  silently gets 4 partitions, and a misspelt topic never fails. Create real topics
  explicitly (``benchmarks.broker.create_topic``) before any client asks for them.
* Consumer groups: the app id is the group id and Faust joins it with its own ``faust``
  assignor protocol; a plain aiokafka consumer joining that same group id is refused by
  Tansu with InconsistentGroupProtocolError (23), as Kafka would. A batch aiokafka
  consumer embedded in a Faust app (an ``app.task``) needs its own group id; so it works
  on Tansu at ~250k events/s with the Faust worker otherwise idle.
* ``consumer_auto_offset_reset="earliest"`` and a fresh app id per run, so the whole topic
  is read from offset 0; ``web_enabled=False`` avoids a port and start-up time.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import faust

from benchmarks.runners._common import (
    HEARTBEAT_INTERVAL_MS,
    SESSION_TIMEOUT_MS,
    Clock,
    cli,
    fresh_group,
    result,
)


def run(bootstrap: str, topic: str, n: int) -> dict[str, Any]:
    """Run a counting Faust agent over ``topic`` until ``n`` events; return its figures."""
    clock = Clock()
    app = faust.App(
        fresh_group("faust"),
        broker=f"kafka://{bootstrap}",
        store="memory://",
        web_enabled=False,
        topic_replication_factor=1,
        topic_partitions=4,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        # Faust's default 60 s session timeout costs 30 s of JoinGroup wait on Tansu.
        broker_session_timeout=SESSION_TIMEOUT_MS / 1000,
        broker_heartbeat_interval=HEARTBEAT_INTERVAL_MS / 1000,
    )
    source = app.topic(topic, value_serializer="json", key_serializer="raw")
    state: dict[str, Any] = {"count": 0, "stopping": None}
    worker = faust.Worker(app, loglevel=logging.WARNING, quiet=True, daemon=True, stdout=sys.stderr)

    @app.agent(source)
    async def count(stream: faust.StreamT[Any]) -> None:
        async for _event in stream:
            if state["count"] == 0:
                clock.seen_first()
            state["count"] += 1
            if state["count"] == n:
                clock.seen_last()
                state["stopping"] = asyncio.ensure_future(worker.stop())

    try:
        worker.execute_from_commandline()
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    return result(n, state["count"], clock, value_serializer="json", faust=faust.__version__)


if __name__ == "__main__":
    cli(run)
