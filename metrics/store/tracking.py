"""The mirror's change feed: a RESP3 connection on which the server names every changed key
(CLIENT TRACKING ON BCAST), with a PING for freshness that waiting reads share."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

__all__ = ["Tracking"]

log = logging.getLogger(__name__)


class Tracking:
    """A RESP3 connection on which the server names every changed key under some prefixes
    (CLIENT TRACKING ON BCAST): the change feed of the mirror."""

    #: after the server refused tracking, ask again this much later (seconds)
    RETRY_S = 30.0
    #: reads that waited behind another one's PING share it (see changed); off only to
    #: measure the difference (benchmarks/mirror_ping.py)
    SHARE_PINGS = True

    def __init__(self, client: redis.Redis, prefixes: list[str]) -> None:
        pool = client.connection_pool
        self._pool_args = (pool.connection_class, {**pool.connection_kwargs, "protocol": 3})
        self._prefixes = prefixes
        self._client: redis.Redis | None = None
        self._changed: set[str] = set()
        self._everything = True
        #: connects seen by the callback; tracking holds while no new one happened
        self._connects = self._tracked_since = 0
        self._retry_at = 0.0
        #: when the last PING that answered was sent (monotonic s)
        self._pinged_at = float("-inf")

    def _start(self) -> redis.Redis:
        connection_class, kwargs = self._pool_args
        pool = redis.ConnectionPool(connection_class=connection_class, **kwargs)
        client = redis.Redis(connection_pool=pool, single_connection_client=True)
        connection = client.connection
        assert connection is not None  # single_connection_client holds one
        # redis-py leaves these two untyped.
        connection.register_connect_callback(self._on_connect)  # type: ignore[no-untyped-call]
        connection._parser.set_invalidation_push_handler(self._on_invalidate)
        prefixes = [arg for prefix in self._prefixes for arg in ("PREFIX", prefix)]
        try:
            client.execute_command("CLIENT", "TRACKING", "ON", "BCAST", *prefixes)  # type: ignore[no-untyped-call]
        except redis.RedisError as exc:
            client.close()
            pool.disconnect()
            self._retry_at = time.monotonic() + self.RETRY_S
            log.warning("no CLIENT TRACKING (%s): reads read every key for %ss", exc, self.RETRY_S)
            raise
        self._client, self._everything = client, True
        self._tracked_since = self._connects
        return client

    def _on_connect(self, connection: Any) -> None:
        self._connects += 1

    def _on_invalidate(self, message: list[Any]) -> None:
        if message[1] is None:  # FLUSHALL / FLUSHDB
            self._everything = True
        else:
            self._changed.update(message[1])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client.connection_pool.disconnect()
        self._client = None
        self._pinged_at = float("-inf")

    def changed(self, began: float) -> set[str] | None:
        """Keys changed since the last call; None when any may have (first call, flush of
        the database, lost connection: tracking restarts and the caller reads afresh).

        `began`: when the read began (monotonic s). A PING sent after that already brought
        every notification it needs, so reads that waited behind another one's PING share
        it instead of sending their own."""
        if self._client is None and time.monotonic() < self._retry_at:
            return None
        fresh = self._pinged_at >= began and self.SHARE_PINGS
        if fresh and self._client is not None and not self._everything:
            changed, self._changed = self._changed, set()
            return changed
        try:
            client = self._client or self._start()
            # Notifications of writes the server finished before this PING arrive before
            # its reply, and the handler takes them while the reply is read.
            sent = time.monotonic()
            client.ping()
        except redis.RedisError:
            self.close()
            return None
        if self._connects != self._tracked_since:  # reconnected: the new one tracks nothing
            self.close()
            return None
        self._pinged_at = sent
        if self._everything:
            self._everything = False
            self._changed.clear()
            return None
        changed, self._changed = self._changed, set()
        return changed
