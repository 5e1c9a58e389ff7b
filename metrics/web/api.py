"""The HTTP side of the exporter: /metrics and the JSON read API.

Store reads run in threads, so a slow Redis never blocks other requests.

    GET /api/v1/queues                       live snapshot of every queue
    GET /api/v1/queues/{queue}               one queue: live state and every window
    GET /api/v1/queues/{queue}/intervals     ?size=15|30|60|1d&from=...&to=...[&channel=voice]
    GET /api/v1/agents[/{agent_id}]          the per-agent API (metrics/web/agents.py)
    GET /metrics                             Prometheus exposition
    GET /healthz                             200 when the store answers, else 503
    GET /wallboard                           the built-in wall board (metrics/web/wallboard)
    GET /, GET /docs                         the endpoints, the browsable OpenAPI (web/docs)

Bad input is a 4xx with ``{"error": ...}`` (metrics/web/errors.py), never a 500: queue
names must match the queue-name pattern, times are strict RFC 3339 (metrics/rfc3339).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from metrics.clock import wall_ms
from metrics.config.queues import QUEUE_NAME_PATTERN, QueueDefaults, QueuesConfig
from metrics.core.agent_views import AgentInfo, Windows, open_series_windows, queue_bounds
from metrics.core.formulas import sum_counters
from metrics.core.panes import ROLLING_WINDOWS, rolling_panes
from metrics.core.reads import BucketRequest, Live, SeriesData, SeriesRequest
from metrics.core.rollups import MAX_SPAN_MS, SIZES, plan_intervals
from metrics.core.update import Series
from metrics.core.views import (
    live_contacts,
    live_view,
    snapshot_request,
    ticket_set_queries,
    window_view,
    windows_of,
)
from metrics.exposition.text import render_latest
from metrics.fields import CHANNELS
from metrics.rfc3339 import Rfc3339Error, parse_ms
from metrics.store.base import AggregateStore
from metrics.web.agents import add_agents
from metrics.web.docs import add_docs
from metrics.web.errors import BAD_QUEUE_NAME, error_response, json_errors
from metrics.web.interval_rows import IntervalRows
from metrics.web.wallboard import add_wallboard

__all__ = ["MAX_INTERVAL_SPAN_MS", "make_app"]

#: Longest period one request of 15- or 30-minute intervals may cover (a month).
MAX_INTERVAL_SPAN_MS = MAX_SPAN_MS[15]

_DAY_MS = 86_400_000
_SIZE_ERROR = "size must be 15 or 30 (minutes), 60 or 1h (UTC hours), 1440 or 1d (UTC days)"


def _days(ms: int) -> str:
    return f"{ms / _DAY_MS:g} days"


def _json(data: Any, status: int = 200) -> web.Response:
    body = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
    return web.Response(body=body, status=status, content_type="application/json")


_error = error_response


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat().replace("+00:00", "Z")


class _BadRequest(Exception):
    """A query parameter is wrong; the message is the 400's error."""


def _parse_time(value: str, name: str) -> int:
    try:
        return parse_ms(value)
    except Rfc3339Error as exc:
        raise _BadRequest(f"{name} must be RFC 3339 with an offset: {exc}") from exc


@dataclass(frozen=True, slots=True)
class _Windows:
    """One series' window counters and their rendered views, and the pane, interval and hour
    lists they came from (a mirrored store hands out the same lists until a key changes)."""

    sources: tuple[list[dict[str, int]], ...]
    counters: dict[str, dict[str, int]]
    rendered: orjson.Fragment


@dataclass(frozen=True, slots=True)
class _Combined:
    """One queue's all-channel views, rendered, and the channels' counters they came from."""

    sources: tuple[dict[str, int], ...]
    rendered: orjson.Fragment


def _same(seen: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    return len(seen) == len(now) and all(a is b for a, b in zip(seen, now, strict=True))


def _views_json(windows: dict[str, dict[str, int]], cfg: QueueDefaults) -> orjson.Fragment:
    """The window views of `windows`, rendered as the response renders them."""
    views = {w: window_view(c, cfg) for w, c in windows.items()}
    return orjson.Fragment(orjson.dumps(views, option=orjson.OPT_NON_STR_KEYS))


class ReadApi:
    """Handlers over a store; `clock_ms` is injectable so tests can fix 'now'."""

    def __init__(
        self,
        store: AggregateStore,
        queues: QueuesConfig,
        registry: CollectorRegistry,
        clock_ms: Callable[[], int],
    ) -> None:
        self.store = store
        self.queues = queues
        self.registry = registry
        self.clock_ms = clock_ms
        #: per series: the pane dicts its 15-minute figures came from, and those figures.
        #: A store with mirrored reads hands out the same dict while a pane is unchanged, so
        #: a poll derives again only the series a flush touched.
        self._w15: dict[Series, tuple[list[dict[str, int]], dict[str, Any]]] = {}
        #: per series: its windows for the one-queue read, and per queue its all-channel
        #: views, kept while the store hands out the same panes (see _w15)
        self._windows: dict[Series, _Windows] = {}
        self._combined: dict[str, _Combined] = {}
        self._every: list[Series] = []  # the store's series at the last one-queue read
        self._configs: dict[str, QueueDefaults] = {}  # queues.get builds a model each call
        #: whether the store hands out the same lists: views are kept only while one did
        #: (a store that copies its reads would only grow _windows, never hit it)
        self._kept_hits, self._kept_misses = 0, 0
        self._reasons = frozenset(queues.reason_codes)
        #: interval rows rendered once, again only when their counters change
        self._interval_rows = IntervalRows()

    def _figures_15m(self, series: Series, panes: list[dict[str, int]]) -> dict[str, Any]:
        """The 15-minute SL, abandonment and ASA of one series, memoised on its panes."""
        seen = self._w15.get(series)
        if (
            seen is not None
            and len(seen[0]) == len(panes)
            and all(a is b for a, b in zip(seen[0], panes, strict=True))
        ):
            return seen[1]
        w15 = window_view(sum_counters(panes), self.queues.get(series[0]))
        figures = {
            "service_level_15m": w15["service_level"],
            "abandonment_rate_15m": w15["abandonment_rate"],
            "asa_seconds_15m": w15["asa_seconds"],
        }
        self._w15[series] = (panes, figures)
        return figures

    def _snapshots(
        self, wanted: str, cfg: QueueDefaults, now: int
    ) -> tuple[list[Series], list[SeriesData], dict[Series, Windows]]:
        """One queue's series, their snapshot reads and its agents' open states: the store
        calls of one request, run in one thread hop (each hop waits for the event loop)."""
        with self.store.reading():
            every = self._every = self.store.series()
            series = [s for s in every if s[0] == wanted]
            requests = [snapshot_request(s, now, cfg) for s in series]
            data = self.store.read(requests, now) if requests else []
            return series, data, self._open_agents(now, wanted) if series else {}

    def _open_agents(self, now: int, queue: str) -> dict[Series, Windows]:
        """The open state of each agent serving `queue` now, inside each window of the
        series it serves (an open span counts for the queues of the agent's last change)."""
        serving = [s for s in self.store.agent_states().values() if queue in s.latest.queues]
        return open_series_windows(serving, now, self._reasons, queue_bounds(self.queues, now))

    def _live(self, live: Live, now: int) -> dict[str, Any]:
        view = live_view(live, now)
        view["oldest_enqueued_at"] = _iso(view.pop("oldest_enqueued_ms"))
        return view

    def _index_reads(self, now: int) -> tuple[list[Series], list[SeriesData]]:
        series = self.store.series()
        panes = tuple(rolling_panes(now, ROLLING_WINDOWS["15m"]))
        sets = ticket_set_queries(now)
        requests = [SeriesRequest(s, panes, sets=sets) for s in series]
        return series, self.store.read(requests, now)

    async def queues_index(self, request: web.Request) -> web.Response:
        # Routing systems poll this: read only the 15 panes it shows, not every window.
        # Read and built in the thread: the rows of 1,000 queues would hold the event loop
        # for tens of milliseconds while one-queue reads wait (docs/performance.md).
        now = self.clock_ms()
        body = await asyncio.to_thread(self._index, now)
        return web.Response(body=body, content_type="application/json")

    def _index(self, now: int) -> bytes:
        series, data = self._index_reads(now)
        rows = [
            {"queue": s[0], "channel": s[1]}
            | self._live(d.live, now)
            | self._figures_15m(s, d.panes)
            for s, d in zip(series, data, strict=True)
        ]
        if len(self._w15) > len(series):  # series gone from the store
            self._w15 = {s: self._w15[s] for s in series if s in self._w15}
        document = {"generated_at": _iso(now), "queues": rows}
        return orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)

    async def queue(self, request: web.Request) -> web.Response:
        name = request.match_info["queue"]
        if not QUEUE_NAME_PATTERN.match(name):
            return _error(400, BAD_QUEUE_NAME)
        now = self.clock_ms()
        cfg = self._configs.get(name)
        cfg = self.queues.get(name) if cfg is None else cfg
        series, data, opened = await asyncio.to_thread(self._snapshots, name, cfg, now)
        if not series and not self.queues.is_configured(name):
            return _error(404, f"queue {name!r} has no data and is not configured")
        if series:  # kept for queues with data only, so unknown names add nothing
            self._configs[name] = cfg
        channels = {}
        sources: list[dict[str, int]] = []
        combined: dict[str, list[dict[str, int]]] = {}
        for s, d in zip(series, data, strict=True):
            windows, rendered = self._series_windows(s, d, opened.get(s), cfg)
            channels[s[1]] = (
                self._live(d.live, now) | live_contacts(d.live, now) | {"windows": rendered}
            )
            for w, c in windows.items():
                combined.setdefault(w, []).append(c)
                sources.append(c)
        return _json(
            {
                "queue": name,
                "generated_at": _iso(now),
                "config": {
                    "sl_threshold_s": cfg.sl_threshold_s,
                    "sl_target": cfg.sl_target,
                    "sl_formula": cfg.sl_formula.value,
                    "short_abandon_s": cfg.short_abandon_s,
                    "time_zone": cfg.time_zone,
                    "daily_reset": cfg.daily_reset,
                },
                "channels": channels,
                "all_channels": self._all_channels(name, tuple(sources), combined, cfg),
            }
        )

    def _series_windows(
        self, series: Series, data: SeriesData, opened: Windows | None, cfg: QueueDefaults
    ) -> tuple[dict[str, dict[str, int]], orjson.Fragment]:
        """One series' counters per window and their views rendered, kept while its panes,
        intervals and hours are the same objects; open agent states (they count up to now)
        are added afresh."""
        sources = (data.panes, data.intervals, data.hours)
        seen = self._windows.get(series)
        if seen is not None and _same(seen.sources, sources):
            self._kept_hits += 1
        else:
            self._kept_misses += 1
            if len(self._windows) > len(self._every):  # series gone from the store
                kept = set(self._every)
                self._windows = {k: v for k, v in self._windows.items() if k in kept}
                names = {k[0] for k in kept}
                self._combined = {k: v for k, v in self._combined.items() if k in names}
                self._configs = {k: v for k, v in self._configs.items() if k in names}
            counters = windows_of(data)
            seen = _Windows(sources, counters, _views_json(counters, cfg))
            if self._kept_hits or self._kept_misses <= len(self._every) + 64:
                self._windows[series] = seen
            else:  # never hit: this store copies its reads
                self._windows.clear()
        if not opened:
            return seen.counters, seen.rendered
        windows = dict(seen.counters)
        for w, more in opened.items():
            windows[w] = sum_counters([windows[w], more])
        return windows, _views_json(windows, cfg)

    def _all_channels(
        self,
        queue: str,
        sources: tuple[dict[str, int], ...],
        combined: dict[str, list[dict[str, int]]],
        cfg: QueueDefaults,
    ) -> orjson.Fragment:
        """The queue's views summed over its channels, kept while every channel's window
        counters are the same objects."""
        seen = self._combined.get(queue)
        if seen is not None and _same(seen.sources, sources):
            return seen.rendered
        rendered = _views_json({w: sum_counters(cs) for w, cs in combined.items()}, cfg)
        self._combined[queue] = _Combined(sources, rendered)
        return rendered

    async def intervals(self, request: web.Request) -> web.Response:
        name = request.match_info["queue"]
        if not QUEUE_NAME_PATTERN.match(name):
            return _error(400, BAD_QUEUE_NAME)
        query = request.query
        size = SIZES.get(query.get("size", "15"))
        if size is None:
            return _error(400, _SIZE_ERROR)
        if "from" not in query:
            return _error(400, "from is required (RFC 3339)")
        channel = query.get("channel")
        if channel is not None and channel not in CHANNELS:
            return _error(400, f"channel must be one of {list(CHANNELS)}")
        try:
            start = _parse_time(query["from"], "from")
            end = _parse_time(query["to"], "to") if "to" in query else self.clock_ms()
        except _BadRequest as exc:
            return _error(400, str(exc))
        if end <= start:
            return _error(400, "to must be after from")
        if end - start > MAX_SPAN_MS[size]:
            return _error(400, f"at most {_days(MAX_SPAN_MS[size])} per request of size {size}")
        cfg = self.queues.get(name)
        now = self.clock_ms()
        plan = plan_intervals(size, start, end, cfg.zone)
        oldest = plan.oldest_kept_ms(self.store.retention_ms, self.store.rollup_retention_ms, now)
        if plan.buckets[0] < oldest:
            return _error(400, self._too_old(size))
        series = [s for s in await asyncio.to_thread(self.store.series) if s[0] == name]
        if channel is not None:
            series = [s for s in series if s[1] == channel]
        if not series and not self.queues.is_configured(name):
            return _error(404, f"queue {name!r} has no data and is not configured")
        requests = [BucketRequest(s, plan.level, plan.buckets, plan.per) for s in series]

        def rendered() -> dict[str, list[orjson.Fragment]]:  # one thread hop: read, render
            data = self.store.read_buckets(requests, now)
            render = self._interval_rows.render
            return {s[1]: render(s, plan, b, cfg, now) for s, b in zip(series, data, strict=True)}

        out = await asyncio.to_thread(rendered)
        return _json(
            {"queue": name, "size_minutes": size, "time_zone": cfg.time_zone} | {"channels": out}
        )

    def _too_old(self, size: int) -> str:
        """The 400 of a read reaching past what its size's buckets are kept."""
        if size in (15, 30):
            kept = _days(self.store.retention_ms)
            return (
                f"15- and 30-minute intervals are kept {kept} (CCMON_RETENTION_S): from is "
                "older; read older periods with size=60 or size=1440 (hourly and daily rollups)"
            )
        kept = _days(max(self.store.rollup_retention_ms, self.store.retention_ms))
        return f"hourly and daily rollups are kept {kept} (CCMON_ROLLUP_RETENTION_S): from is older"

    async def metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(render_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(self, request: web.Request) -> web.Response:
        ok = await asyncio.to_thread(self.store.ping)
        return _json({"store": "up" if ok else "down"}, 200 if ok else 503)


def make_app(
    store: AggregateStore,
    queues: QueuesConfig,
    registry: CollectorRegistry,
    clock_ms: Callable[[], int] = wall_ms,
    agents: Mapping[str, AgentInfo] | None = None,
    queue_store: AggregateStore | None = None,
) -> web.Application:
    """The exporter's aiohttp application; `agents` is the agents directory, by agent id.

    `queue_store` (the same data on its own connection and mirror) serves the one-queue
    read, so it never waits for the mirror lock an all-queues read or a scrape holds."""
    api = ReadApi(store, queues, registry, clock_ms)
    one = api if queue_store is None else ReadApi(queue_store, queues, registry, clock_ms)
    app = web.Application(middlewares=[json_errors])
    app.router.add_get("/api/v1/queues", api.queues_index)
    app.router.add_get("/api/v1/queues/{queue}", one.queue)
    app.router.add_get("/api/v1/queues/{queue}/intervals", api.intervals)
    add_agents(app, store, queues, clock_ms, agents)
    app.router.add_get("/metrics", api.metrics)
    app.router.add_get("/healthz", api.healthz)
    add_wallboard(app, queues)
    add_docs(app)
    return app
