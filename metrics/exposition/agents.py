"""The agent families: queues' agents by reason, reason time and slots; teams' figures.

A plain Collector beside the queue collector (metrics.exposition.queues), registered on
the same registry. Labels come from bounded sets only: `reason` from the queues file's
reason codes plus other and none, `team` from its teams plus none; never an agent id.
Open states count up to now: each agent's current state adds its time so far to every
window it overlaps (metrics.core.agent_views.open_windows). Sample output::

    ccmon_queue_agents_by_reason{channel="voice",queue="sales",reason="lunch"} 2.0
    ccmon_queue_slots{channel="chat",kind="total",queue="sales"} 9.0
    ccmon_team_occupancy_ratio{team="team-a",window="15m"} 0.82
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from metrics.clock import wall_ms
from metrics.config.queues import QueueDefaults, QueuesConfig
from metrics.core.agent_figures import (
    STATE_BUSY_CHANNELS,
    TEAM_SCOPE,
    reason_codes,
    reason_field,
    reason_live_field,
)
from metrics.core.agent_views import Windows, occupancy, open_totals, queue_bounds, window_bounds
from metrics.core.agents import NO_TEAM
from metrics.core.contacts import HANDLING_SET
from metrics.core.formulas import sum_counters
from metrics.core.reads import SeriesData, SetQuery
from metrics.core.update import Series
from metrics.core.views import WINDOWS, snapshot_request, windows_of
from metrics.fields import AGENT_TIME_FIELD, COUNTED_AGENT_STATES
from metrics.store.base import AggregateStore, StoreError

__all__ = ["AgentCollector"]

log = logging.getLogger(__name__)


class AgentCollector(Collector):
    """Queue agent families per (queue, channel) and team families per configured team."""

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        clock_ms: Callable[[], int] = wall_ms,
    ) -> None:
        self.store = store
        self.queues = queues
        self.clock_ms = clock_ms
        self.configured: tuple[str, ...] = queues.reason_codes
        self.reasons = frozenset(self.configured)
        self.codes = reason_codes(self.configured)
        self.teams: tuple[str, ...] = (*queues.teams, NO_TEAM)
        self._configs: dict[str, QueueDefaults] = {}
        #: per series (or team): the pane dicts its stored windows were summed from, and
        #: those windows (a mirrored store hands out the same dicts until a key changes)
        self._stored: dict[Series, tuple[list[dict[str, int]], dict[str, dict[str, int]]]] = {}

    def describe(self) -> Iterator[Metric]:
        return iter(())  # no collect() at registration time

    def collect(self) -> Iterator[Metric]:
        now = self.clock_ms()
        try:
            with self.store.reading():
                series = self.store.series()
                sets = (SetQuery(HANDLING_SET),)
                requests = [
                    dataclasses.replace(snapshot_request(s, now, self._config(s[0])), sets=sets)
                    for s in series
                ]
                data = self.store.read(requests, now)
                defaults = self.queues.defaults
                team_requests = [
                    dataclasses.replace(snapshot_request((TEAM_SCOPE, t), now, defaults), sets=())
                    for t in self.teams
                ]
                teams = self.store.read_scoped(team_requests, now)
                states = self.store.agent_states()
        except StoreError as exc:  # the queue collector reports the store down
            log.warning("agent families skipped: %s", exc)
            return
        team_bounds = window_bounds(now, defaults.zone, defaults.reset_time)
        series_open, team_open = open_totals(
            states.values(), now, self.reasons, queue_bounds(self.queues, now), team_bounds
        )
        yield from self._queue_families(series, data, series_open)
        yield from self._team_families(teams, team_open)

    def _config(self, queue: str) -> QueueDefaults:
        found = self._configs.get(queue)
        if found is None:
            found = self._configs[queue] = self.queues.get(queue)
        return found

    def _windows(self, key: Series, data: SeriesData, opened: Windows) -> Windows:
        parts = [*data.panes, *data.intervals, *data.hours]
        seen = self._stored.get(key)
        if (
            seen is not None
            and len(seen[0]) == len(parts)
            and all(a is b for a, b in zip(seen[0], parts, strict=True))
        ):
            stored = seen[1]
        else:
            stored = windows_of(data)
            self._stored[key] = (parts, stored)
        return {w: sum_counters([stored[w], opened.get(w, {})]) for w in WINDOWS}

    def _queue_families(
        self, series: list[Series], data: list[SeriesData], opened: Mapping[Series, Windows]
    ) -> Iterator[Metric]:
        by_reason = GaugeMetricFamily(
            "ccmon_queue_agents_by_reason",
            "Not-ready agents serving the (queue, channel) now, by reason code.",
            labels=["queue", "channel", "reason"],
        )
        reason_seconds = GaugeMetricFamily(
            "ccmon_queue_agent_reason_seconds",
            "Not-ready time in the window by reason code (open states up to now).",
            labels=["queue", "channel", "window", "reason"],
        )
        slots = GaugeMetricFamily(
            "ccmon_queue_slots",
            "Contact slots of the agents serving the (queue, channel) now: total (available, "
            "on contact or ACW, times capacity) and busy.",
            labels=["queue", "channel", "kind"],
        )
        for s, d in zip(series, data, strict=True):
            live = d.live.agents
            if not any(name.startswith("agents_") for name in live):
                continue  # no agent has served this series
            for code in self.codes:
                by_reason.add_metric([*s, code], max(0, live.get(reason_live_field(code), 0)))
            windows = self._windows(s, d, opened.get(s, {}))
            for w, counters in windows.items():
                for code in self.codes:
                    reason_seconds.add_metric(
                        [*s, w, code], counters.get(reason_field(code), 0) / 1000
                    )
            total = max(0, live.get("slots_total", 0))
            busy = max(0, live.get("slots_busy", 0))
            if s[1] not in STATE_BUSY_CHANNELS:
                handling = d.live.sets.get(HANDLING_SET)
                busy = handling.count if handling is not None else 0
            slots.add_metric([*s, "total"], total)
            slots.add_metric([*s, "busy"], busy)
        yield from (by_reason, reason_seconds, slots)

    def _team_families(
        self, teams: list[SeriesData], opened: Mapping[str, Windows]
    ) -> Iterator[Metric]:
        agents = GaugeMetricFamily(
            "ccmon_team_agents", "The team's agents in each state now.", labels=["team", "state"]
        )
        by_reason = GaugeMetricFamily(
            "ccmon_team_agents_by_reason",
            "The team's not-ready agents now, by reason code.",
            labels=["team", "reason"],
        )
        occupancy_ratio = GaugeMetricFamily(
            "ccmon_team_occupancy_ratio",
            "Busy slot-time / staffed slot-time of the team's agents in the window.",
            labels=["team", "window"],
        )
        state_seconds = GaugeMetricFamily(
            "ccmon_team_agent_state_seconds",
            "Time the team's agents spent in each state in the window (open states up to now).",
            labels=["team", "window", "state"],
        )
        for team, d in zip(self.teams, teams, strict=True):
            live = d.live.agents
            windows = self._windows((TEAM_SCOPE, team), d, opened.get(team, {}))
            if not live and not any(windows.values()):
                continue  # a team with no agents yet
            for state in COUNTED_AGENT_STATES:
                agents.add_metric([team, state], max(0, live.get(f"agents_{state}", 0)))
            for code in self.codes:
                by_reason.add_metric([team, code], max(0, live.get(reason_live_field(code), 0)))
            for w, counters in windows.items():
                ratio = occupancy(counters)
                if ratio is not None:
                    occupancy_ratio.add_metric([team, w], ratio)
                for state, field in AGENT_TIME_FIELD.items():
                    state_seconds.add_metric([team, w, state], counters.get(field, 0) / 1000)
        yield from (agents, by_reason, occupancy_ratio, state_seconds)
