"""The OpenAPI 3.1 description of the ingest's HTTP endpoints (pure data)."""

from __future__ import annotations

import functools
from typing import Any

import orjson

from streams.ingest.body import FORMATS

__all__ = ["OPENAPI", "openapi_document"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": _ref(schema)}}


_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_RETRY = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}

_ERRORS = {
    "401": "Missing or wrong bearer token (events), or the vendor signature does not check out.",
    "404": "No such source is configured.",
    "413": "Body over CCMON_INGEST_MAX_BODY_BYTES, or more than CCMON_INGEST_MAX_EVENTS events.",
    "415": "Content type not taken.",
    "429": "Too many bytes wait for Kafka acks: retry after Retry-After.",
    "503": "Kafka unreachable or did not acknowledge in time: retry after Retry-After.",
}


def _errors(*codes: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for code in codes:
        answer: dict[str, Any] = {"description": _ERRORS[code], "content": _json("Error")}
        if code in ("429", "503"):
            answer["headers"] = _RETRY
        out[code] = answer
    return out


_EVENT_ERROR = {
    "type": "object",
    "properties": {
        "index": {"type": "integer", "minimum": 0, "description": "0-based, in body order"},
        "reason": {"type": "string", "examples": ["missing_field", "unknown_type"]},
        "field": {"type": ["string", "null"], "examples": ["data.queue"]},
        "detail": {"type": "string"},
    },
    "required": ["index", "reason", "field", "detail"],
}

_RESULT = {
    "type": "object",
    "properties": {
        "accepted": {"type": "integer", "minimum": 0},
        "rejected": {"type": "integer", "minimum": 0},
        "errors": {"type": "array", "items": _ref("EventError")},
        "error": {"type": "string"},
    },
    "required": ["accepted", "rejected"],
}

_EVENT = {"type": "object", "description": "A ccmon event (docs/events.md) or a CloudEvent."}
_BODY = {
    media: {"schema": {"oneOf": [_EVENT, {"type": "array", "items": _EVENT}]}}
    if kind != "ndjson"
    else {"schema": {"type": "string", "description": "one JSON event a line"}}
    for media, kind in FORMATS.items()
}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "ccmon ingest",
        "version": "1",
        "description": "Events into Kafka over HTTP; see docs/ingest.md.",
    },
    "paths": {
        "/ingest/v1/events": {
            "post": {
                "operationId": "postEvents",
                "summary": "ccmon events or CloudEvents to the events topic",
                "description": "A body with a ce-specversion header is one CloudEvent in "
                "binary mode: attributes from the ce-* headers, data from the JSON body.",
                "security": [{"bearer": []}],
                "requestBody": {"required": True, "content": _BODY},
                "responses": {
                    "200": {
                        "description": "All accepted (acknowledged by Kafka)",
                        "content": _json("Result"),
                    },
                    "207": {
                        "description": "The valid ones accepted, an error per other one",
                        "content": _json("Result"),
                    },
                    "400": {
                        "description": "No valid event (Result), or an unreadable body (Error)",
                        "content": {
                            "application/json": {
                                "schema": {"anyOf": [_ref("Result"), _ref("Error")]}
                            }
                        },
                    },
                    **_errors("401", "413", "415", "429", "503"),
                },
            }
        },
        "/ingest/v1/sources/{name}": {
            "post": {
                "operationId": "postSource",
                "summary": "A vendor webhook, mapped to ccmon events",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "requestBody": {"required": True, "content": {"*/*": {"schema": {}}}},
                "responses": {
                    "200": {
                        "description": "Mapped events accepted; the rest dead-lettered",
                        "content": _json("SourceResult"),
                    },
                    **_errors("401", "404", "413", "429", "503"),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "Alive",
                "responses": {"200": {"description": "ok", "content": _TEXT}},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "Ready: the Kafka producer is connected",
                "responses": {
                    "200": {"description": "ready", "content": _TEXT},
                    "503": {"description": "kafka not connected", "content": _TEXT},
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics",
                "responses": {"200": {"description": "exposition", "content": _TEXT}},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            },
            "EventError": _EVENT_ERROR,
            "Result": _RESULT,
            "SourceResult": {
                "type": "object",
                "properties": {
                    "accepted": {"type": "integer", "minimum": 0},
                    "dead_lettered": {"type": "integer", "minimum": 0},
                    "reasons": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["accepted", "dead_lettered", "reasons"],
            },
        },
    },
}


@functools.cache
def openapi_document() -> bytes:
    """The document as JSON bytes."""
    return orjson.dumps(OPENAPI)
