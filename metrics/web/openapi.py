"""The OpenAPI 3.1 description of every HTTP endpoint ccmon serves (pure data).

Schemas are JSON Schema 2020-12 (OpenAPI 3.1), so tests validate real responses against
them with jsonschema. CI validates the document itself with openapi-spec-validator and
checks that every /api route the app registers is described here.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from metrics.config.queues import QUEUE_NAME_PATTERN
from metrics.fields import CHANNELS, COUNTED_AGENT_STATES
from metrics.routing.snapshot import MAX_POSITIONS, SCHEMA_VERSION, STAFFING_WINDOWS
from metrics.web.openapi_agents import AGENT_PATHS, AGENT_SCHEMAS

__all__ = ["OPENAPI", "endpoints", "openapi_document", "snapshot_json_schema"]

_NUM = {"type": ["number", "null"]}
_INT = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_CHANNEL_MAP = {"propertyNames": {"enum": list(CHANNELS)}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        **extra,
    }


_AGENTS = _obj({state: {"type": "integer", "minimum": 0} for state in COUNTED_AGENT_STATES})

_WINDOW: dict[str, Any] = {
    "type": "object",
    "description": "Counts (integers) and derived metrics (number, or null for an empty "
    "denominator) of one window; see docs/metrics.md.",
    "properties": {
        "queued": _INT,
        "answered": _INT,
        "abandoned": _INT,
        "service_level": _NUM,
        "abandonment_rate": _NUM,
        "asa_seconds": _NUM,
        "aht_seconds": _NUM,
        "agent_non_response_rate": _NUM,
        "wrapup_codes": {
            "type": "object",
            "description": "contacts wrapped up per wrap-up code (the queues file's codes, "
            "other); only codes counted in the window",
            "additionalProperties": {"type": "integer", "minimum": 0},
        },
        # Ticket and customer-experience figures, where the build has them (issue 3).
        "tickets": {"type": "object", "description": "ticket figures of the window"},
        "cx": {"type": "object", "description": "survey and resolution figures of the window"},
    },
    "required": ["queued", "answered", "abandoned", "service_level", "asa_seconds"],
    "additionalProperties": {"type": ["number", "null"]},
}

_INTERVAL_BOUNDS = {"start": _TIME, "end": _TIME, "start_ms": _INT, "end_ms": _INT}

_INTERVAL_ROW = {
    **_WINDOW,
    "description": "One interval: its bounds, then the window figures.",
    "properties": {**_WINDOW["properties"], **_INTERVAL_BOUNDS},
    "required": [*_WINDOW["required"], *_INTERVAL_BOUNDS],
}

_LIVE = {
    "contacts_waiting": {"type": "integer", "minimum": 0},
    "oldest_wait_seconds": _NUM,
    "oldest_enqueued_at": _TIME_OR_NULL,
    "agents": _AGENTS,
}

#: The queue endpoint's live contact figures (metrics.core.views.live_contacts).
_LIVE_CONTACTS = {
    "contacts_in_progress": {"type": "integer", "minimum": 0},
    "longest_in_progress_seconds": {**_NUM, "minimum": 0},
    "callbacks_waiting": {"type": "integer", "minimum": 0},
    "oldest_callback_wait_seconds": {**_NUM, "minimum": 0},
}

_STAFFING = {
    "type": ["object", "null"],
    "description": "Null without enough wrap-ups in the window to know the AHT.",
    "properties": {
        "arrival_rate_per_s": {"type": "number", "minimum": 0},
        "aht_seconds": {"type": "number", "exclusiveMinimum": 0},
        "patience_seconds": _NUM,
        "model": {"enum": ["erlang_c", "erlang_a"]},
        "agents_required": {"type": "integer", "minimum": 0},
        "agents_staffed": {"type": "integer", "minimum": 0},
        "gap_agents": {"type": "integer", "description": "required - staffed"},
    },
    "required": [
        "arrival_rate_per_s",
        "aht_seconds",
        "patience_seconds",
        "model",
        "agents_required",
        "agents_staffed",
        "gap_agents",
    ],
    "additionalProperties": False,
}

_ROUTING_CHANNEL = _obj(
    {
        **_LIVE,
        "agents_available": {"type": "integer", "minimum": 0},
        "agents_staffed": {"type": "integer", "minimum": 0},
        "free_slots": {
            "type": "integer",
            "minimum": 0,
            "description": "slots of staffed agents not in use now (capacity - busy)",
        },
        "ewt_seconds": {**_NUM, "minimum": 0, "description": "EWT of a contact arriving now"},
        "ewt_positions_seconds": {
            "type": "array",
            "maxItems": MAX_POSITIONS,
            "items": {**_NUM, "minimum": 0},
            "description": "EWT of waiting positions 1, 2, ... (at most 50)",
        },
        "service_level_15m": _NUM,
        "abandonment_rate_15m": _NUM,
        "asa_seconds_15m": _NUM,
        "aht_seconds_30m": _NUM,
        "staffing": _obj({w: _ref("Staffing") for w in STAFFING_WINDOWS}),
    },
    additionalProperties=False,
)

_ROUTING_SNAPSHOT = _obj(
    {
        "schema_version": {"const": SCHEMA_VERSION},
        "queue": {"type": "string"},
        "time": _TIME,
        "sl_threshold_s": {"type": "number"},
        "sl_target": {"type": "number"},
        "channels": {
            "type": "object",
            **_CHANNEL_MAP,
            "additionalProperties": _ref("RoutingChannel"),
        },
    },
    additionalProperties=False,
)

_SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": {"type": "string"}}),
    "Agents": _AGENTS,
    "Window": _WINDOW,
    "QueueRow": _obj(
        {
            "queue": {"type": "string"},
            "channel": {"enum": list(CHANNELS)},
            **_LIVE,
            "service_level_15m": _NUM,
            "abandonment_rate_15m": _NUM,
            "asa_seconds_15m": _NUM,
        }
    ),
    "QueuesIndex": _obj(
        {"generated_at": _TIME, "queues": {"type": "array", "items": _ref("QueueRow")}}
    ),
    "QueueDetail": _obj(
        {
            "queue": {"type": "string"},
            "generated_at": _TIME,
            "config": {"type": "object"},
            "channels": {
                "type": "object",
                **_CHANNEL_MAP,
                "additionalProperties": _obj(
                    {
                        **_LIVE,
                        **_LIVE_CONTACTS,
                        "windows": {"type": "object", "additionalProperties": _ref("Window")},
                    }
                ),
            },
            "all_channels": {"type": "object", "additionalProperties": _ref("Window")},
        }
    ),
    "Intervals": _obj(
        {
            "queue": {"type": "string"},
            "size_minutes": {"enum": [15, 30, 60, 1440]},
            "time_zone": {"type": "string"},
            "channels": {
                "type": "object",
                **_CHANNEL_MAP,
                "additionalProperties": {"type": "array", "items": _ref("IntervalRow")},
            },
        }
    ),
    "IntervalRow": _INTERVAL_ROW,
    "Staffing": _STAFFING,
    "RoutingChannel": _ROUTING_CHANNEL,
    "RoutingSnapshot": _ROUTING_SNAPSHOT,
    "RoutingIndex": _obj(
        {"generated_at": _TIME, "queues": {"type": "array", "items": _ref("RoutingSnapshot")}}
    ),
    "Health": _obj({"store": {"enum": ["up", "down"]}}),
    "Endpoints": _obj(
        {
            "endpoints": {
                "type": "array",
                "items": _obj(
                    {
                        "name": {"type": "string"},
                        "method": {"const": "GET"},
                        "path": {"type": "string"},
                        "summary": {"type": "string"},
                    },
                    additionalProperties=False,
                ),
            }
        }
    ),
}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema)}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed request (bad parameter, unknown parameter, too many parameters).",
        401: "Missing or wrong bearer token (only when CCMON_API_TOKEN is set).",
        404: "Queue neither configured nor seen.",
        413: "The request had a body.",
        414: "Query string too long.",
        503: "Store unreachable, or routing snapshot not ready / stale.",
    }
    return {str(c): {"description": text[c], "content": _json("Error")} for c in codes}


_QUEUE_PARAM = {
    "name": "queue",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": QUEUE_NAME_PATTERN.pattern},
    "example": "sales",
}

_API_ERRORS = (400, 401, 413, 414, 503)

_PAGE = {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "ccmon read API",
        "version": "1",
        "description": "Live contact-centre queue state, windows, intervals and routing "
        "snapshots. No contact or customer ids appear in any response; agent ids only "
        "in the per-agent API (/api/v1/agents), never in /metrics.",
    },
    "components": {
        "schemas": {**_SCHEMAS, **AGENT_SCHEMAS},
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "Required on /api/* only when CCMON_API_TOKEN is set.",
            }
        },
    },
    "paths": {
        "/": {
            "get": {
                "operationId": "index",
                "summary": "Every endpoint and page (always open)",
                "responses": {"200": {"description": "This list", "content": _json("Endpoints")}},
            }
        },
        "/docs": {
            "get": {
                "operationId": "docs",
                "summary": "The OpenAPI document in Swagger UI, served locally (always open)",
                "responses": {"200": _PAGE},
            }
        },
        "/wallboard": {
            "get": {
                "operationId": "wallboard",
                "summary": "The wall board page (always open; ?queues=a,b or ?team=x)",
                "responses": {"200": _PAGE},
            }
        },
        "/api/v1/queues": {
            "get": {
                "operationId": "queues",
                "summary": "Live state and 15-minute figures of every (queue, channel)",
                "security": [{"bearer": []}, {}],
                "responses": {
                    "200": {"description": "Every series", "content": _json("QueuesIndex")},
                    **_errors(*_API_ERRORS),
                },
            }
        },
        "/api/v1/queues/{queue}": {
            "get": {
                "operationId": "queue",
                "summary": "One queue: live state and every window per channel",
                "security": [{"bearer": []}, {}],
                "parameters": [_QUEUE_PARAM],
                "responses": {
                    "200": {"description": "The queue", "content": _json("QueueDetail")},
                    **_errors(404, *_API_ERRORS),
                },
            }
        },
        "/api/v1/queues/{queue}/intervals": {
            "get": {
                "operationId": "queue_intervals",
                "summary": "15- or 30-minute, hourly or daily figures over a period (at most "
                "31 days; days: 400)",
                "security": [{"bearer": []}, {}],
                "parameters": [
                    _QUEUE_PARAM,
                    {
                        "name": "size",
                        "in": "query",
                        "description": "minutes: 15 and 30 (kept CCMON_RETENTION_S), 60 or 1h "
                        "(UTC hours), 1440 or 1d (UTC days; both kept CCMON_ROLLUP_RETENTION_S)",
                        "schema": {"enum": ["15", "30", "60", "1h", "1440", "1d"]},
                    },
                    {
                        "name": "from",
                        "in": "query",
                        "required": True,
                        "description": "RFC 3339 with an offset (e.g. ...T08:00:00Z)",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                    {
                        "name": "to",
                        "in": "query",
                        "description": "RFC 3339 with an offset; default: now",
                        "schema": {"type": "string", "format": "date-time"},
                    },
                    {"name": "channel", "in": "query", "schema": {"enum": list(CHANNELS)}},
                ],
                "responses": {
                    "200": {"description": "Intervals per channel", "content": _json("Intervals")},
                    **_errors(404, *_API_ERRORS),
                },
            }
        },
        **AGENT_PATHS,
        "/api/v1/routing/queues": {
            "get": {
                "operationId": "routing_queues",
                "summary": "Routing snapshots of every queue (in-memory, refreshed in the "
                "background)",
                "security": [{"bearer": []}, {}],
                "responses": {
                    "200": {"description": "Every queue", "content": _json("RoutingIndex")},
                    **_errors(*_API_ERRORS),
                },
            }
        },
        "/api/v1/routing/queues/{queue}": {
            "get": {
                "operationId": "routing_queue",
                "summary": "Routing snapshot of one queue (same document as the snapshot "
                "topic's value)",
                "security": [{"bearer": []}, {}],
                "parameters": [_QUEUE_PARAM],
                "responses": {
                    "200": {"description": "The queue", "content": _json("RoutingSnapshot")},
                    **_errors(404, *_API_ERRORS),
                },
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "security": [{"bearer": []}, {}],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(401),
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus exposition (always open)",
                "responses": {
                    "200": {
                        "description": "Text format 0.0.4",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Store reachability (always open)",
                "responses": {
                    "200": {"description": "Store up", "content": _json("Health")},
                    "503": {"description": "Store down", "content": _json("Health")},
                },
            }
        },
    },
}


@functools.cache
def _body() -> bytes:
    return orjson.dumps(OPENAPI)


def openapi_document() -> bytes:
    """The document as JSON bytes."""
    return _body()


def endpoints() -> list[dict[str, str]]:
    """Every operation of the document as name, method, path and summary (for ``/``)."""
    return [
        {
            "name": operation["operationId"],
            "method": method.upper(),
            "path": path,
            "summary": operation["summary"],
        }
        for path, item in OPENAPI["paths"].items()
        for method, operation in item.items()
    ]


def snapshot_json_schema() -> dict[str, Any]:
    """Standalone JSON Schema of a snapshot-topic value (streams/schema/, generated from here)."""
    names = ("RoutingSnapshot", "RoutingChannel", "Staffing", "Agents")
    text = orjson.dumps({n: _SCHEMAS[n] for n in names}).decode()
    defs = orjson.loads(text.replace("#/components/schemas/", "#/$defs/"))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ccmon.example/schema/routing-snapshot-v1.schema.json",
        "title": "ccmon routing snapshot (value of the snapshots topic, key = queue name)",
        "$ref": "#/$defs/RoutingSnapshot",
        "$defs": defs,
    }


if __name__ == "__main__":
    # python -m metrics.web.openapi > streams/schema/routing-snapshot-v1.schema.json
    import sys

    sys.stdout.write(orjson.dumps(snapshot_json_schema(), option=orjson.OPT_INDENT_2).decode())
    sys.stdout.write("\n")
