"""The per-agent read API: the live list and one agent's today and intervals.

    GET /api/v1/agents                ?team=&queue=&state=   the live list, by agent id
    GET /api/v1/agents/{agent_id}     ?interval=15m|30m      live entry, today, intervals

Per-agent figures live here only, never in a Prometheus label; the same bearer token as
the rest of /api guards them. An agent's open state counts up to now, and its current
contacts are the ``handling`` live-set members that name it (metrics.core.agent_views).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiohttp import web

from metrics.config.queues import QUEUE_NAME_PATTERN, QueuesConfig
from metrics.core.agent_figures import AGENT_SCOPE
from metrics.core.agent_views import (
    AgentContact,
    AgentInfo,
    Panes,
    add_panes,
    agent_figures,
    contacts_by_agent,
    live_entry,
    open_panes,
    within,
)
from metrics.core.agents import AgentState
from metrics.core.contacts import HANDLING_SET
from metrics.core.panes import INTERVAL_MS, interval_start, local_interval_starts, today_start
from metrics.core.reads import SeriesRequest
from metrics.fields import AGENT_STATES
from metrics.store.base import AggregateStore
from metrics.web.errors import BAD_QUEUE_NAME, error_response

__all__ = ["AGENT_ID_PATTERN", "AgentsApi", "add_agents"]

#: Agent ids the API accepts in a path (the event contract's ids are short strings).
AGENT_ID_PATTERN = re.compile(r"^[^\x00-\x1f\x7f/]{1,128}$")
#: Team names the filter accepts.
_TEAM_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_SIZES = {"15m": 15, "30m": 30}


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


class AgentsApi:
    """Handlers over a store and the agents directory; `clock_ms` is injectable for tests."""

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        clock_ms: Callable[[], int],
        directory: Mapping[str, AgentInfo] | None = None,
    ) -> None:
        self.store = store
        self.queues = queues
        self.clock_ms = clock_ms
        self.directory: Mapping[str, AgentInfo] = directory or {}
        self.configured: tuple[str, ...] = queues.reason_codes
        self.reasons = frozenset(self.configured)

    def _today(self, now_ms: int) -> int:
        defaults = self.queues.defaults
        return today_start(now_ms, defaults.zone, defaults.reset_time)

    def _entry(
        self,
        agent_id: str,
        state: AgentState,
        now_ms: int,
        contacts: Mapping[str, list[AgentContact]],
    ) -> dict[str, Any]:
        info = self.directory.get(agent_id)
        held = contacts.get(agent_id, ())
        entry = live_entry(agent_id, state, info, now_ms, self.reasons, held)
        return entry | {"state_since": _iso(state.since_ms)}

    def _contacts(self, now_ms: int) -> dict[str, list[AgentContact]]:
        """Every agent's contacts now: the handling sets of all series, then the states
        of their members (two pipelined reads; see metrics.core.agent_views)."""
        members = self.store.set_members(HANDLING_SET, self.store.series(), now_ms)
        ids = {contact_id for found in members.values() for contact_id in found}
        states = self.store.load_states({"contact": ids}).get("contact", {}) if ids else {}
        return contacts_by_agent(members, states, now_ms)

    async def index(self, request: web.Request) -> web.Response:
        query = request.query
        team, queue, state = query.get("team"), query.get("queue"), query.get("state")
        if team is not None and not _TEAM_PATTERN.match(team):
            return error_response(400, "team must be 1-64 letters, digits, '_', '.' or '-'")
        if queue is not None and not QUEUE_NAME_PATTERN.match(queue):
            return error_response(400, BAD_QUEUE_NAME)
        if state is not None and state not in AGENT_STATES:
            return error_response(400, f"state must be one of {list(AGENT_STATES)}")
        now = self.clock_ms()
        states = await asyncio.to_thread(self.store.agent_states)
        contacts = await asyncio.to_thread(self._contacts, now)
        since = self._today(now)
        rows = []
        for agent_id, found in sorted(states.items()):
            if found.state == "offline" and found.since_ms < since:
                continue  # offline agents only if they changed state today
            entry = self._entry(agent_id, found, now, contacts)
            if team is not None and entry["team"] != team:
                continue
            if queue is not None and queue not in entry["queues"]:
                continue
            if state is not None and entry["state"] != state:
                continue
            rows.append(entry)
        return _json({"generated_at": _iso(now), "agents": rows})

    async def agent(self, request: web.Request) -> web.Response:
        agent_id = request.match_info["agent_id"]
        if not AGENT_ID_PATTERN.match(agent_id):
            return error_response(400, "agent_id must be 1-128 characters, no '/' or controls")
        size = _SIZES.get(request.query.get("interval", "15m"))
        if size is None:
            return error_response(400, "interval must be 15m or 30m")
        now = self.clock_ms()
        states = await asyncio.to_thread(self.store.agent_states, {agent_id})
        state = states.get(agent_id)
        if state is None:
            return error_response(404, f"agent {agent_id!r} has no state")
        start = self._today(now)
        fifteen = tuple(range(interval_start(start), now, INTERVAL_MS))
        request_ = SeriesRequest((AGENT_SCOPE, agent_id), intervals=fifteen)
        (data,) = await asyncio.to_thread(self.store.read_scoped, [request_], now)
        panes: Panes = {s: fields for s, fields in zip(fifteen, data.intervals, strict=True)}
        _, open_span = open_panes(state, now, self.reasons)
        for pane, fields in open_span.items():  # the open state, up to now
            add_panes(panes, {interval_start(pane): fields})
        intervals = []
        zone = self.queues.defaults.zone
        for begin in local_interval_starts(start, now, size, zone):
            end = begin + size * 60_000
            figures = agent_figures(within(panes, begin, end), self.configured)
            intervals.append({"start": _iso(begin), "end": _iso(end)} | figures)
        today = agent_figures(within(panes, interval_start(start), now + 1), self.configured)
        contacts = await asyncio.to_thread(self._contacts, now)
        return _json(
            self._entry(agent_id, state, now, contacts)
            | {
                "generated_at": _iso(now),
                "interval_minutes": size,
                "today": {"start": _iso(start)} | today,
                "intervals": intervals,
            }
        )


def add_agents(
    app: web.Application,
    store: AggregateStore,
    queues: QueuesConfig,
    clock_ms: Callable[[], int],
    directory: Mapping[str, AgentInfo] | None = None,
) -> AgentsApi:
    """Add the two agent routes to `app`."""
    api = AgentsApi(store, queues, clock_ms, directory)
    app.router.add_get("/api/v1/agents", api.index)
    app.router.add_get("/api/v1/agents/{agent_id}", api.agent)
    return api
