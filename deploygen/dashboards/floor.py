"""The people on the floor (issue 11): agents by state and reason, offers, holds, transfers,
disconnects, callbacks and contacts in progress, for the wall board and the drill-down.

Every query reads one ccmon_queue_* family for the selected queues (`$queue`) and takes
`max` over the exporter replicas first, as the other panels do. None of these figures
has a target in the queues file, so their tiles are one neutral colour: a colour would be
a fixed threshold the queues file does not give (the service-level and oldest-wait tiles,
which have targets, are coloured per queue in targets.py).
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import stat
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.models import dashboard as dm

from deploygen.dashboards.common import graph, query, stat_panel, steps

__all__ = ["drilldown_agent_panels", "drilldown_contact_panels", "wallboard_tiles"]

Q = 'queue=~"$queue"'
NEUTRAL = steps((None, "blue"))


def _live(metric: str, by: str = "channel", extra: str = "") -> str:
    """A live gauge per `by` (labels besides queue), replicas counted once."""
    return f"max by ({by}) ({metric}{{{Q}{extra}}})"


def _window(metric: str, window: str, by: str = "channel", extra: str = "") -> str:
    return _live(metric, by, f', window="{window}"{extra}')


def _summed(metric: str, by: str, extra: str = "") -> str:
    """Summed over the selected queues' channels, per `by`; replicas counted once."""
    return f"sum by ({by}) (max by (queue, channel, {by}) ({metric}{{{Q}{extra}}}))"


def _counts(title: str, description: str, targets: list[Any], width: int = 8) -> stat.Panel:
    """A stat panel of plain counts: no unit, one neutral colour, no coloured background."""
    return stat_panel(
        title, description, targets, "none", NEUTRAL, width=width, colour_background=False
    )


def wallboard_tiles() -> list[Builder[dm.Panel]]:
    """A second line of tiles in each queue's row: who is doing what, and what waits."""
    return [
        _counts(
            "Agents by state",
            "Agents serving the queue per channel and state, right now (offline not counted).",
            [query(_live("ccmon_queue_agents", "channel, state"), "{{channel}} {{state}}")],
            width=6,
        ),
        _counts(
            "Not ready by reason",
            "Agents not ready now, per reason code: the queues file's reason_codes, "
            "'other' for an unlisted code, 'none' when the agent gave none.",
            [
                query(
                    _live("ccmon_queue_agents_by_reason", "channel, reason"),
                    "{{channel}} {{reason}}",
                )
            ],
            width=6,
        ),
        stat_panel(
            "Callbacks waiting",
            "Customers who asked to be called back and have no connected or failed attempt yet.",
            [query(_live("ccmon_queue_callbacks_waiting"), "{{channel}}")],
            "none",
            NEUTRAL,
            width=3,
        ),
        stat_panel(
            "Oldest callback",
            "How long the oldest waiting callback has waited since it was asked for.",
            [query(_live("ccmon_queue_oldest_callback_wait_seconds"), "{{channel}}")],
            "s",
            NEUTRAL,
            width=3,
            no_value="none waiting",
        ),
        stat_panel(
            "In progress",
            "Contacts being handled now: answered, not yet ended or wrapped up.",
            [query(_live("ccmon_queue_contacts_in_progress"), "{{channel}}")],
            "none",
            NEUTRAL,
            width=3,
        ),
        stat_panel(
            "Non-response 15 min",
            "Agent non-response: offers declined (missed, rejected, timed out) / offers, "
            "last 15 minutes.",
            [query(_window("ccmon_queue_agent_non_response_ratio", "15m"), "{{channel}}")],
            "percentunit",
            NEUTRAL,
            width=3,
            no_value="no offers",
        ),
    ]


def drilldown_agent_panels() -> list[Builder[dm.Panel]]:
    """Agents by reason, slots and non-response over the day, for one queue."""
    return [
        graph(
            "Agents not ready by reason",
            "Not-ready agents serving the queue per reason code, summed over its channels.",
            [query(_summed("ccmon_queue_agents_by_reason", "reason"), "{{reason}}")],
            "none",
            stacked=True,
        ),
        graph(
            "Concurrency slots: staffed and busy",
            "Slots = each agent's capacity per channel (voice 1 unless given) while "
            "available, on a contact or in after-contact work; busy = slots in use.",
            [query(_live("ccmon_queue_slots", "channel, kind"), "{{channel}} {{kind}}")],
            "none",
        ),
        stat_panel(
            "Not-ready time today by reason",
            "Time the queue's agents spent not ready today, per reason code (an open "
            "not-ready state counts up to now).",
            [
                query(
                    _summed("ccmon_queue_agent_reason_seconds", "reason", ', window="today"'),
                    "{{reason}}",
                )
            ],
            "s",
            NEUTRAL,
            width=12,
            colour_background=False,
        ),
        _counts(
            "Offers today",
            "Contacts presented to agents today, and declined offers by outcome "
            "(missed, rejected, timed out); non-response = declined / offers.",
            [
                query(_window("ccmon_queue_offers_contacts", "today"), "{{channel}} offers", "A"),
                query(
                    _window("ccmon_queue_offers_declined_contacts", "today", "channel, outcome"),
                    "{{channel}} {{outcome}}",
                    "B",
                ),
                query(
                    _window("ccmon_queue_agent_non_response_ratio", "today"),
                    "{{channel}} non-response",
                    "C",
                ),
            ],
            width=12,
        ).override_by_query("C", [dm.DynamicConfigValue(id_val="unit", value="percentunit")]),
    ]


def drilldown_contact_panels() -> list[Builder[dm.Panel]]:
    """Contacts in progress, holds, transfers, disconnects, directions, callbacks, codes."""
    today = ', window="today"'
    return [
        _counts(
            "In progress now",
            "Contacts being handled now (answered, not yet ended or wrapped up), and how "
            "long the longest of them has run.",
            [
                query(_live("ccmon_queue_contacts_in_progress"), "{{channel}}", "A"),
                query(_live("ccmon_queue_longest_in_progress_seconds"), "{{channel}} longest", "B"),
            ],
        ).override_by_query("B", [dm.DynamicConfigValue(id_val="unit", value="s")]),
        _counts(
            "Holds today",
            "Holds started today, and hold abandons (the customer hung up while on hold).",
            [
                query(_window("ccmon_queue_holds_contacts", "today"), "{{channel}} holds", "A"),
                query(
                    _window("ccmon_queue_hold_abandons_contacts", "today"),
                    "{{channel}} hold abandons",
                    "B",
                ),
            ],
        ),
        _counts(
            "Transfers today",
            "Transfers out of the queue by kind (blind, consult, conference) and into it.",
            [
                query(
                    _summed("ccmon_queue_transfers_contacts", "direction, kind", today),
                    "{{direction}} {{kind}}",
                )
            ],
        ),
        _counts(
            "Disconnects today",
            "Who ended the contacts that ended today: the customer, the agent or the system.",
            [query(_summed("ccmon_queue_disconnects_contacts", "side", today), "{{side}}")],
        ),
        _counts(
            "Contacts today by direction",
            "Queued today: inbound, outbound and callback contacts.",
            [
                query(
                    _summed("ccmon_queue_contacts_by_direction_contacts", "direction", today),
                    "{{direction}}",
                )
            ],
        ),
        _counts(
            "Wrap-up codes today",
            "Contacts wrapped up today per wrap-up code (the queues file's wrapup_codes, "
            "'other' for an unlisted code).",
            [query(_summed("ccmon_queue_wrapup_contacts", "code", today), "{{code}}")],
        ),
        _counts(
            "Callbacks now",
            "Callbacks asked for and not yet connected or failed, and how long the oldest "
            "has waited since it was asked for.",
            [
                query(_live("ccmon_queue_callbacks_waiting"), "{{channel}} waiting", "A"),
                query(_live("ccmon_queue_oldest_callback_wait_seconds"), "{{channel}} oldest", "B"),
            ],
            width=12,
        ).override_by_query("B", [dm.DynamicConfigValue(id_val="unit", value="s")]),
        _counts(
            "Callback attempts today",
            "Attempts to call back customers today, by outcome.",
            [
                query(
                    _summed("ccmon_queue_callback_attempts_contacts", "outcome", today),
                    "{{outcome}}",
                )
            ],
            width=12,
        ),
    ]
