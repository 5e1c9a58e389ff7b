"""The aggregate store port: what the worker writes and the exporter reads, and its errors."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Protocol

from metrics.core.agents import AgentState
from metrics.core.reads import BucketRequest, SeriesData, SeriesRequest
from metrics.core.update import Series, Update
from metrics.errors import CcmonError

__all__ = ["AggregateStore", "FencedError", "StoreError", "StoreLostError", "WAIT_SET"]

#: The live set of waiting contacts (score: enqueue time ms).
WAIT_SET = "wait"


class StoreError(CcmonError):
    """The store could not be read or written; retriable once it is reachable again."""

    retriable = True


class FencedError(StoreError):
    """A flush carried offsets at or below ones already applied: another worker owns them."""

    retriable = False


class StoreLostError(StoreError):
    """The store no longer holds the generation this worker wrote under: it lost its data
    (restarted without persistence, flushed, evicted). Writing on would add deltas onto
    nothing; the worker must claim the new generation and rebuild from the log."""

    retriable = False


class AggregateStore(Protocol):
    """Where panes, live state, entity states and applied offsets are kept."""

    #: how long panes and 15-minute intervals are kept after they end (ms)
    retention_ms: int
    #: how long the hourly and daily rollups are kept after they end (ms)
    rollup_retention_ms: int

    def flush(self, update: Update, now_ms: int) -> None:
        """Write `update` atomically, fenced by its offsets; raise FencedError if stale.

        After `claim_generation`, a flush onto a store that no longer holds that generation
        writes nothing and raises StoreLostError.
        """

    def claim_generation(self) -> str:
        """Adopt the store's generation marker, creating one if it has none; later flushes
        are checked against it. Every worker on one store shares the same marker."""

    def holds_generation(self) -> bool:
        """True while the store still holds the generation last claimed (or none was)."""

    def load_offsets(self) -> dict[str, int]:
        """Last applied offset per "topic:partition"."""

    def load_states(self, wanted: dict[str, set[str]]) -> dict[str, dict[str, Any]]:
        """Stored states by kind and id (None where there is none); kinds: metrics.core.states."""

    def seen(self, events: dict[str, int]) -> set[str]:
        """Which of these event ids (id -> event time ms) were applied within the horizon."""

    def known_queues(self) -> set[str]:
        """Queue names met so far."""

    def series(self) -> list[Series]:
        """All (queue, channel) pairs that have data."""

    def reading(self) -> AbstractContextManager[None]:
        """The reads of this thread inside the block as one: every write finished before the
        block began is in each of them (a mirrored store then checks the server's changes
        once for the block, not once a read)."""

    def read(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        """Read panes, intervals, live state and totals for many series at once.

        Contacts that have waited longer than the state TTL at `now_ms` are not counted as
        waiting: their outcome event was lost, and they must not hold up oldest-wait alerts.
        """

    def read_buckets(
        self, requests: list[BucketRequest], now_ms: int
    ) -> list[list[dict[str, int]]]:
        """The buckets of one level per request (15-minute intervals, hours, days), for long
        interval reads; a bucket past its level's retention reads as empty."""

    def read_scoped(self, requests: list[SeriesRequest], now_ms: int) -> list[SeriesData]:
        """Like `read`, for team and agent entities: each request's series is an Entity
        (scope, id). Agents keep no 1-minute panes (their panes read as empty); the live
        counts are the entity's (a team's agents by state and reason, slots); no totals."""

    def entities(self, scope: str) -> list[str]:
        """Ids of the scope's entities that have live counts (teams met so far)."""

    def agent_states(self, agent_ids: set[str] | None = None) -> dict[str, AgentState]:
        """The stored state of every agent met within the agent state TTL (or of these)."""

    def set_members(
        self, name: str, series: list[Series], now_ms: int
    ) -> dict[Series, dict[str, int]]:
        """Member id -> score of one live set (e.g. "handling") of each series; members
        older than the state TTL at `now_ms` are left out, as `read` leaves out waits."""

    def event_times(self) -> dict[str, int]:
        """Highest event time applied per "topic:partition"."""

    def ping(self) -> bool:
        """True when the store answers."""
