"""The routing snapshot of a queue: live state, EWT, live service level and staffing (pure).

One snapshot per queue, with an entry per channel. The same JSON document is the body of
GET /api/v1/routing/queues/{queue} and the value of the snapshot topic (docs/events.md).
It carries counts, durations and ratios only: no contact, customer or agent ids.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from metrics.config.queues import QueueDefaults
from metrics.core.agent_figures import STATE_BUSY_CHANNELS
from metrics.core.contacts import HANDLING_SET
from metrics.core.formulas import derive, sum_counters
from metrics.core.panes import PANE_MS, rolling_panes
from metrics.core.reads import SeriesData, SeriesRequest, SetQuery
from metrics.core.update import Series
from metrics.fields import COUNTED_AGENT_STATES
from metrics.routing.ewt import EwtInputs, ewt_for_arrival, ewt_positions
from metrics.routing.staffing import Staffing, agents_staffed, staffing

__all__ = [
    "MAX_POSITIONS",
    "SCHEMA_VERSION",
    "STAFFING_WINDOWS",
    "change_key",
    "channel_snapshot",
    "ewt_inputs",
    "free_slots",
    "iso",
    "queue_snapshot",
    "routing_request",
]

#: Version of the snapshot document; bumped on any incompatible change.
SCHEMA_VERSION = 1
#: Waiting positions listed with their own EWT (the rest of a long queue is left out).
MAX_POSITIONS = 50
#: Staffing windows, by label: minutes of history.
STAFFING_WINDOWS: dict[str, int] = {"15m": 15, "30m": 30}
#: The staffing windows' complete minutes, plus the current one for the live figures.
_PANES = max(STAFFING_WINDOWS.values()) + 1


def iso(ms: int | None) -> str | None:
    """RFC 3339 UTC with a Z, or None."""
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat().replace("+00:00", "Z")


def routing_request(series: Series, now_ms: int) -> SeriesRequest:
    """The panes a snapshot needs: the current minute and the 30 complete ones before it;
    the contacts being handled (busy slots of the channels that take several at once)."""
    return SeriesRequest(series, tuple(rolling_panes(now_ms, _PANES)), sets=_SETS)


#: The live sets a snapshot reads.
_SETS = (SetQuery(HANDLING_SET),)


def free_slots(channel: str, data: SeriesData) -> int:
    """Slots of the staffed agents not in use now: total - busy, never below 0.

    Busy on voice: agents on contact or in ACW (their one slot); on the other channels:
    the contacts being handled (docs/metrics.md, occupancy with concurrency).
    """
    live = data.live
    if channel in STATE_BUSY_CHANNELS:
        busy = live.agents.get("slots_busy", 0)
    else:
        handling = live.sets.get(HANDLING_SET)
        busy = 0 if handling is None else handling.count
    return max(0, live.agents.get("slots_total", 0) - busy)


def _staffing_view(s: Staffing | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "arrival_rate_per_s": s.arrival_rate_per_s,
        "aht_seconds": s.aht_s,
        "patience_seconds": s.patience_s,
        "model": s.model,
        "agents_required": s.agents_required,
        "agents_staffed": s.agents_staffed,
        "gap_agents": s.gap_agents,
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _live_agents(data: SeriesData) -> dict[str, int]:
    agents = data.live.agents
    return {state: max(0, agents.get(f"agents_{state}", 0)) for state in COUNTED_AGENT_STATES}


def _staffing_windows(panes: Sequence[Mapping[str, int]]) -> dict[str, dict[str, int]]:
    # Whole minutes only, so the figures (and the snapshot) change when counts change or
    # a minute closes, not with the clock alone.
    return {
        label: sum_counters(panes[-1 - minutes : -1]) for label, minutes in STAFFING_WINDOWS.items()
    }


def ewt_inputs(data: SeriesData, cfg: QueueDefaults) -> EwtInputs:
    """What the EWT of one (queue, channel) is made from: live state, last 30 whole minutes."""
    c30 = _staffing_windows(data.panes)["30m"]
    return _ewt_inputs(data, _live_agents(data), c30, derive(c30, cfg))


def _ewt_inputs(
    data: SeriesData,
    agents: dict[str, int],
    c30: Mapping[str, int],
    w30: Mapping[str, float | None],
) -> EwtInputs:
    ended = c30.get("answered", 0) + c30.get("abandoned", 0)
    handle_ms = c30.get("talk_ms", 0) + c30.get("hold_ms", 0) + c30.get("acw_ms", 0)
    busy_ms = c30.get("agent_on_contact_ms", 0) + c30.get("agent_acw_ms", 0)
    abandoned = c30.get("abandoned", 0)
    waited_ms = c30.get("wait_answered_sum_ms", 0) + c30.get("wait_abandoned_sum_ms", 0)
    return EwtInputs(
        waiting=data.live.waiting,
        agents_available=agents["available"],
        agents_staffed=agents_staffed(agents),
        aht_s=w30["aht_seconds"],
        handled=c30.get("handled", 0),
        asa_s=w30["asa_seconds"],
        answered=c30.get("answered", 0),
        abandon_share=c30.get("abandoned", 0) / ended if ended else None,
        busy_share=handle_ms / busy_ms if busy_ms > 0 else None,
        patience_s=waited_ms / 1000 / abandoned if abandoned else None,
    )


def channel_snapshot(
    data: SeriesData, now_ms: int, cfg: QueueDefaults, channel: str = "voice"
) -> dict[str, Any]:
    """One (queue, channel): data read with routing_request at `now_ms`."""
    live = data.live
    agents = _live_agents(data)
    staffed = agents_staffed(agents)
    # Live figures: the rolling 15 minutes, current minute included (as everywhere else).
    w15 = derive(sum_counters(data.panes[-15:]), cfg)
    windows = _staffing_windows(data.panes)
    w30 = derive(windows["30m"], cfg)
    inputs = _ewt_inputs(data, agents, windows["30m"], w30)
    oldest = live.oldest_enqueued_ms
    return {
        "contacts_waiting": live.waiting,
        "oldest_wait_seconds": None if oldest is None else max(0, now_ms - oldest) / 1000,
        "oldest_enqueued_at": iso(oldest),
        "agents_available": agents["available"],
        "agents_staffed": staffed,
        "agents": agents,
        "free_slots": free_slots(channel, data),
        "ewt_seconds": _round(ewt_for_arrival(inputs), 1),
        "ewt_positions_seconds": [_round(e, 1) for e in ewt_positions(inputs, MAX_POSITIONS)],
        "service_level_15m": _round(w15["service_level"], 4),
        "abandonment_rate_15m": _round(w15["abandonment_rate"], 4),
        "asa_seconds_15m": _round(w15["asa_seconds"], 1),
        "aht_seconds_30m": _round(w30["aht_seconds"], 1),
        "staffing": {
            label: _staffing_view(
                staffing(
                    windows[label],
                    minutes * PANE_MS / 1000,
                    staffed,
                    cfg.sl_threshold_s,
                    cfg.sl_target,
                )
            )
            for label, minutes in STAFFING_WINDOWS.items()
        },
    }


def queue_snapshot(
    queue: str,
    channels: Mapping[str, SeriesData],
    now_ms: int,
    cfg: QueueDefaults,
) -> dict[str, Any]:
    """The snapshot document of one queue (every channel it has data for)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "queue": queue,
        "time": iso(now_ms),
        "sl_threshold_s": cfg.sl_threshold_s,
        "sl_target": cfg.sl_target,
        "channels": {
            ch: channel_snapshot(d, now_ms, cfg, ch) for ch, d in sorted(channels.items())
        },
    }


def change_key(snapshot: Mapping[str, Any]) -> bytes:
    """A digest of what must differ for a snapshot to count as changed: all but the clock.

    The time and the oldest wait in seconds move with the clock alone; the oldest
    contact's enqueue time stands for the latter.
    """
    parts = {
        name: {k: v for k, v in ch.items() if k != "oldest_wait_seconds"}
        for name, ch in snapshot["channels"].items()
    }
    return hashlib.blake2b(
        orjson.dumps(parts, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).digest()
