"""The OpenAPI part of the per-agent API (pure data, merged into metrics.web.openapi)."""

from __future__ import annotations

from typing import Any

from metrics.config.queues import QUEUE_NAME_PATTERN
from metrics.events import DECLINE_OUTCOMES
from metrics.fields import AGENT_STATES, AGENT_TIME_FIELD, CHANNELS

__all__ = ["AGENT_PATHS", "AGENT_SCHEMAS"]

_NUM = {"type": ["number", "null"]}
_SECONDS = {"type": "number", "minimum": 0}
_COUNT = {"type": "integer", "minimum": 0}
_TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }


_LIVE = {
    "agent_id": {"type": "string"},
    "name": {"type": ["string", "null"], "description": "from the agents directory"},
    "team": {"type": ["string", "null"], "description": "a configured team, or null"},
    "state": {"enum": list(AGENT_STATES)},
    "reason": {
        "type": ["string", "null"],
        "description": "not-ready reason: a configured code or 'other'; null without one",
    },
    "state_seconds": {**_SECONDS, "description": "now - the latest change"},
    "state_since": _TIME,
    "contacts": {
        "type": "array",
        "description": "contacts it handles now, longest first: answered by it (or moved to "
        "it by a consult or conference transfer), not yet ended, wrapped up or blind-transferred",
        "items": _obj(
            {
                "contact_id": {"type": "string"},
                "queue": {"type": "string"},
                "channel": {"enum": list(CHANNELS)},
                "seconds": _SECONDS,
            }
        ),
    },
    "queues": {"type": "array", "items": {"type": "string"}},
    "capacity": {
        "type": "object",
        "description": "concurrent contacts per channel it takes (1 when not given)",
        "propertyNames": {"enum": list(CHANNELS)},
        "additionalProperties": {"type": "integer", "minimum": 0},
    },
}

_FIGURES = {
    "handled": _COUNT,
    "talk_seconds": _SECONDS,
    "hold_seconds": _SECONDS,
    "acw_seconds": _SECONDS,
    "aht_seconds": _NUM,
    "state_seconds": {
        "type": "object",
        "propertyNames": {"enum": list(AGENT_TIME_FIELD)},
        "additionalProperties": {"type": "number"},
        "description": "time per state; the open state counts up to now",
    },
    "reason_seconds": {
        "type": "object",
        "additionalProperties": {"type": "number"},
        "description": "not-ready time per configured reason code, 'other' and 'none'",
    },
    "occupancy": {**_NUM, "description": "busy slot-time / staffed slot-time"},
    "offers": _COUNT,
    "offers_declined": {**_COUNT, "description": f"declined: {', '.join(DECLINE_OUTCOMES)}"},
    "transfers": {**_COUNT, "description": "transfers out, every kind"},
}

AGENT_SCHEMAS: dict[str, Any] = {
    "AgentLive": _obj(_LIVE),
    "AgentsIndex": _obj(
        {"generated_at": _TIME, "agents": {"type": "array", "items": _ref("AgentLive")}}
    ),
    "AgentFigures": _obj(_FIGURES),
    "AgentDetail": _obj(
        {
            **_LIVE,
            "generated_at": _TIME,
            "interval_minutes": {"enum": [15, 30]},
            "today": {
                "allOf": [_ref("AgentFigures"), _obj({"start": _TIME})],
            },
            "intervals": {
                "type": "array",
                "items": {
                    "allOf": [_ref("AgentFigures"), _obj({"start": _TIME, "end": _TIME})],
                },
            },
        }
    ),
}


def _errors(codes: dict[int, str]) -> dict[str, Any]:
    return {
        str(code): {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for code, text in codes.items()
    }


_ERRORS = {
    400: "Malformed request (bad parameter, unknown parameter, too many parameters).",
    401: "Missing or wrong bearer token (only when CCMON_API_TOKEN is set).",
    413: "The request had a body.",
    414: "Query string too long.",
    503: "Store unreachable.",
}

AGENT_PATHS: dict[str, Any] = {
    "/api/v1/agents": {
        "get": {
            "operationId": "agents",
            "summary": "Every agent now: state, reason, time in state, queues, capacity "
            "(offline agents only if they changed state today)",
            "security": [{"bearer": []}, {}],
            "parameters": [
                {"name": "team", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "queue",
                    "in": "query",
                    "schema": {"type": "string", "pattern": QUEUE_NAME_PATTERN.pattern},
                },
                {"name": "state", "in": "query", "schema": {"enum": list(AGENT_STATES)}},
            ],
            "responses": {
                "200": {
                    "description": "The agents, by agent id",
                    "content": {"application/json": {"schema": _ref("AgentsIndex")}},
                },
                **_errors(_ERRORS),
            },
        }
    },
    "/api/v1/agents/{agent_id}": {
        "get": {
            "operationId": "agent",
            "summary": "One agent: its live entry, today and today's 15- or 30-minute intervals",
            "security": [{"bearer": []}, {}],
            "parameters": [
                {
                    "name": "agent_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": r"^[^\x00-\x1f\x7f/]{1,128}$"},
                    "example": "a1",
                },
                {"name": "interval", "in": "query", "schema": {"enum": ["15m", "30m"]}},
            ],
            "responses": {
                "200": {
                    "description": "The agent",
                    "content": {"application/json": {"schema": _ref("AgentDetail")}},
                },
                **_errors({404: "No agent with this id has a state.", **_ERRORS}),
            },
        }
    },
}
