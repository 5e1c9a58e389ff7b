"""The ingest's HTTP routes (aiohttp), on a producer port, named tokens and vendor mappers.

- ``POST /ingest/v1/events``: ccmon events or CloudEvents (``streams.ingest.body``), behind
  the bearer tokens; 200 all accepted, 207 some refused, 400 none valid (an error per event),
  413 too large, 415 unknown content type, 429 / 503 with Retry-After when Kafka cannot
  take them now (nothing was acknowledged: send again; duplicate ids are dropped downstream).
- ``POST /ingest/v1/sources/{name}``: a vendor's webhook; its own signature
  (``mapper.verify``, 401 when wrong), then ``mapper.map``; what cannot be mapped or
  decoded goes to the dead-letter topic with its payload (the vendor cannot fix it, so the
  answer is still 200).
- ``GET /healthz``, ``/readyz`` (producer connected), ``/metrics``, ``/openapi.json``.

Errors are JSON ``{"error": ...}`` (metrics.web.errors, shared with the exporter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import orjson
from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from metrics.web.errors import Handler, error_response, json_errors
from streams.deadletter import (
    DETAIL_LIMIT,
    HEADER_DETAIL,
    HEADER_KEPT,
    HEADER_REASON,
    HEADER_SIZE,
    HEADER_TOPIC,
)
from streams.ingest.body import BodyError, Checked, check_binary, check_body, check_events
from streams.ingest.cloudevents import is_binary
from streams.ingest.metrics import IngestMetrics
from streams.ingest.openapi import openapi_document
from streams.ingest.producer import Busy, EventProducer, OutRecord, Unavailable
from streams.ingest.tokens import Tokens
from streams.settings import Settings
from streams.sources.base import Mapped, SourceMapper, Unmapped

__all__ = ["EVENTS_SOURCE", "ingest_app"]

log = logging.getLogger("ccmon.ingest")

#: The `source` label of events posted to /ingest/v1/events.
EVENTS_SOURCE = "events"
#: Seconds a client is told to wait after a 429 or 503.
RETRY_AFTER_S = 1


@dataclass
class Ingest:
    """What the handlers share."""

    settings: Settings
    producer: EventProducer
    tokens: Tokens
    sources: Mapping[str, SourceMapper]
    metrics: IngestMetrics
    registry: CollectorRegistry
    #: answering 503 now (one log line when an outage starts and one when it ends)
    outage: bool = False


_ROUTE = web.AppKey("ingest", Ingest)
#: the token name (or source) a request came with, for the metrics and the log
_TOKEN = web.RequestKey("token", str)


def _json(status: int, payload: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, content_type="application/json", headers=headers
    )


@web.middleware
async def _count(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every answer by route, status and token name (outermost middleware)."""
    response = await handler(request)
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "other"
    ingest = request.app[_ROUTE]
    ingest.metrics.requests.labels(name, str(response.status), request.get(_TOKEN, "none")).inc()
    return response


async def _produce(ingest: Ingest, records: Sequence[OutRecord]) -> web.Response | None:
    """Produce and wait for acks; None when done, else the 429 / 503 answer."""
    started = time.perf_counter()
    try:
        await ingest.producer.send(records)
    except Busy as exc:
        return error_response(429, str(exc), {"Retry-After": str(RETRY_AFTER_S)})
    except Unavailable as exc:
        if not ingest.outage:
            ingest.outage = True
            log.warning("ingest: answering 503 until Kafka takes events again: %s", exc)
        return error_response(503, str(exc), {"Retry-After": str(RETRY_AFTER_S)})
    if ingest.outage:
        ingest.outage = False
        log.warning("ingest: Kafka takes events again")
    ingest.metrics.produce_seconds.observe(time.perf_counter() - started)
    return None


async def _events(request: web.Request) -> web.StreamResponse:
    ingest = request.app[_ROUTE]
    if ingest.tokens.pairs:
        name = ingest.tokens.match(request.headers.get("Authorization"))
        if name is None:
            return error_response(
                401, "missing or wrong bearer token", {"WWW-Authenticate": 'Bearer realm="ccmon"'}
            )
        request[_TOKEN] = name
    else:
        request[_TOKEN] = "open"
    body = await request.read()  # over client_max_size: aiohttp's 413
    settings = ingest.settings
    headers = {k.lower(): v for k, v in request.headers.items()}
    try:
        if is_binary(headers):
            checked = check_binary(headers, body, settings.max_event_bytes)
        else:
            checked = check_body(
                body,
                headers.get("content-type"),
                settings.max_event_bytes,
                settings.ingest_max_events,
            )
    except BodyError as exc:
        ingest.metrics.rejected.labels(EVENTS_SOURCE, f"body_{exc.status}").inc()
        return error_response(exc.status, exc.message)
    for error in checked.errors:
        ingest.metrics.rejected.labels(EVENTS_SOURCE, error.reason).inc()
    if checked.errors:
        first = checked.errors[0]
        log.info(
            "ingest: token %s sent %d events, %d refused (first: #%d %s: %s)",
            request[_TOKEN],
            checked.total,
            len(checked.errors),
            first.index,
            first.reason,
            first.detail[:200],
        )
    if checked.valid:
        topic = settings.events_topic
        records = [OutRecord(topic, v.key.encode(), v.value) for v in checked.valid]
        refused = await _produce(ingest, records)
        if refused is not None:
            return refused
        ingest.metrics.accepted.labels(EVENTS_SOURCE).inc(len(records))
    return _answer(checked)


def _answer(checked: Checked) -> web.Response:
    accepted, errors = len(checked.valid), [e.as_json() for e in checked.errors]
    if not errors:
        return _json(200, {"accepted": accepted, "rejected": 0})
    payload: dict[str, object] = {"accepted": accepted, "rejected": len(errors), "errors": errors}
    if accepted:
        return _json(207, payload)
    return _json(400, {"error": "no valid event in the body", **payload})


def _dead_letter(
    settings: Settings, source: str, reason: str, detail: str, payload: bytes
) -> OutRecord:
    """A dead letter in the worker's header names, its source ``ingest:<name>``."""
    headers = [
        (HEADER_REASON, reason.encode()),
        (HEADER_DETAIL, detail[:DETAIL_LIMIT].encode()),
        (HEADER_TOPIC, f"ingest:{source}".encode()),
        (HEADER_SIZE, str(len(payload)).encode()),
    ]
    room = settings.producer_max_request_bytes - 16 * 1024
    if len(payload) > room:
        payload = payload[: min(room, settings.deadletter_prefix_bytes)]
        headers.append((HEADER_KEPT, str(len(payload)).encode()))
    return OutRecord(settings.deadletter_topic, None, payload, tuple(headers))


def _url(request: web.Request) -> str:
    """The URL the sender signed: the scheme a TLS-ending proxy saw, if it says so."""
    url = request.url
    proto = request.headers.get("X-Forwarded-Proto")
    if proto in ("http", "https"):
        url = url.with_scheme(proto)
    return str(url)


async def _source(request: web.Request) -> web.StreamResponse:
    ingest = request.app[_ROUTE]
    name = request.match_info["name"]
    mapper = ingest.sources.get(name)
    if mapper is None:
        known = ", ".join(sorted(ingest.sources)) or "none"
        return error_response(404, f"no source {name!r} is configured (configured: {known})")
    request[_TOKEN] = name
    body = await request.read()
    headers = {k.lower(): v for k, v in request.headers.items()}
    why = mapper.verify(body, headers, _url(request))
    if why is not None:
        log.warning("ingest: source %s: signature refused: %s", name, why)
        return error_response(401, f"signature check failed: {why}")
    try:
        mapped = mapper.map(body, headers)
    except Exception as exc:  # a mapper bug must not lose the payload
        log.exception("ingest: source %s: the mapper failed", name)
        mapped = Mapped(unmapped=[Unmapped("mapper_error", repr(exc), body)])
    settings = ingest.settings
    checked = check_events(list(mapped.events), settings.max_event_bytes)
    records = [OutRecord(settings.events_topic, v.key.encode(), v.value) for v in checked.valid]
    letters = [_dead_letter(settings, name, u.reason, u.detail, u.payload) for u in mapped.unmapped]
    for error in checked.errors:
        value = orjson.dumps(mapped.events[error.index])
        letters.append(_dead_letter(settings, name, error.reason, error.detail, value))
    refused = await _produce(ingest, records + letters)
    if refused is not None:
        return refused
    ingest.metrics.accepted.labels(name).inc(len(records))
    reasons = [u.reason for u in mapped.unmapped] + [e.reason for e in checked.errors]
    for reason in reasons:
        ingest.metrics.rejected.labels(name, reason).inc()
    if reasons:
        log.info(
            "ingest: source %s: %d dead-lettered (%s)",
            name,
            len(reasons),
            ", ".join(sorted(set(reasons))),
        )
    return _json(200, {"accepted": len(records), "dead_lettered": len(letters), "reasons": reasons})


async def _healthz(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok\n")


async def _readyz(request: web.Request) -> web.StreamResponse:
    if request.app[_ROUTE].producer.connected:
        return web.Response(text="ready\n")
    return web.Response(status=503, text="kafka not connected\n")


async def _metrics(request: web.Request) -> web.StreamResponse:
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    body = encoder(request.app[_ROUTE].registry)
    return web.Response(body=body, headers={"Content-Type": content_type})


async def _openapi(request: web.Request) -> web.StreamResponse:
    return web.Response(body=openapi_document(), content_type="application/json")


def ingest_app(
    settings: Settings,
    producer: EventProducer,
    tokens: Tokens,
    sources: Mapping[str, SourceMapper],
    registry: CollectorRegistry,
) -> web.Application:
    """The ingest application; its metrics go on `registry`."""
    metrics = IngestMetrics.create(registry)
    metrics.connected.set_function(lambda: float(producer.connected))
    app = web.Application(
        middlewares=[_count, json_errors], client_max_size=settings.ingest_max_body_bytes
    )
    app[_ROUTE] = Ingest(settings, producer, tokens, sources, metrics, registry)
    app.router.add_post("/ingest/v1/events", _events)
    app.router.add_post("/ingest/v1/sources/{name}", _source)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/openapi.json", _openapi)
    return app
