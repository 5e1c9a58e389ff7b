"""Request bodies to checked events: every format, malformed input, mixed, limits."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streams.ingest.body import BodyError, Checked, EventError, check_binary, check_body
from streams.producers.keys import event_key
from streams.testing.events import T0, contact

LIMIT = 65536


def good(n: int) -> dict[str, Any]:
    return contact("contact.queued", T0 + n * 1000, f"c-{n}", event_id=f"ev-{n}")


def cloud(event: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The CloudEvent of a ccmon event, plus extension attributes."""
    return {
        "specversion": "1.0",
        "datacontenttype": "application/json",
        **{k: event[k] for k in ("id", "type", "source", "time", "data")},
        **extra,
    }


def check(
    body: bytes, content_type: str | None = "application/json", max_events: int = 100
) -> Checked:
    return check_body(body, content_type, LIMIT, max_events)


def test_one_event_is_kept_whole_and_keyed_by_the_contract() -> None:
    event = good(1)
    checked = check(orjson.dumps(event))
    assert [(v.index, v.key, orjson.loads(v.value)) for v in checked.valid] == [(0, "c-1", event)]
    assert checked.errors == []


def test_an_array_gives_its_events_in_order() -> None:
    events = [good(1), good(2), good(3)]
    checked = check(orjson.dumps(events))
    assert [v.key for v in checked.valid] == ["c-1", "c-2", "c-3"]
    assert [v.index for v in checked.valid] == [0, 1, 2]


@pytest.mark.parametrize(
    "content_type",
    ["application/x-ndjson", "application/ndjson", "application/jsonl; charset=utf-8"],
)
def test_ndjson_one_event_a_line_blank_lines_skipped(content_type: str) -> None:
    body = (
        b"\n".join(orjson.dumps(good(n)) for n in (1, 2)) + b"\n\n" + orjson.dumps(good(3)) + b"\n"
    )
    checked = check(body, content_type)
    assert [v.key for v in checked.valid] == ["c-1", "c-2", "c-3"]


def test_ndjson_a_malformed_line_is_an_error_of_its_own_index() -> None:
    body = orjson.dumps(good(1)) + b"\n{nope\n" + orjson.dumps(good(2))
    checked = check(body, "application/x-ndjson")
    assert [v.index for v in checked.valid] == [0, 2]
    assert [(e.index, e.reason, e.field) for e in checked.errors] == [(1, "malformed_json", None)]


def test_a_structured_cloudevent_maps_type_data_id_time_source() -> None:
    event = good(1)
    checked = check(orjson.dumps(cloud(event, traceparent="00-x")), "application/cloudevents+json")
    assert [orjson.loads(v.value) for v in checked.valid] == [event]
    assert checked.valid[0].key == "c-1"


def test_a_cloudevents_batch_gives_each_event_and_an_error_per_bad_one() -> None:
    batch = [
        cloud(good(1)),
        {**cloud(good(2)), "specversion": "0.3"},
        {**cloud(good(3)), "data_base64": "AAAA"},
        {k: v for k, v in cloud(good(4)).items() if k != "time"},
        cloud(good(5)),
    ]
    checked = check(orjson.dumps(batch), "application/cloudevents-batch+json")
    assert [v.key for v in checked.valid] == ["c-1", "c-5"]
    assert [(e.index, e.reason, e.field) for e in checked.errors] == [
        (1, "invalid_value", "specversion"),
        (2, "unsupported_data", "data_base64"),
        (3, "missing_field", "time"),
    ]


def test_a_cloudevents_batch_must_be_an_array() -> None:
    with pytest.raises(BodyError) as caught:
        check(orjson.dumps(cloud(good(1))), "application/cloudevents-batch+json")
    assert caught.value.status == 400


def test_mixed_good_and_bad_events_each_bad_one_names_index_reason_field() -> None:
    no_queue = good(2)
    del no_queue["data"]["queue"]
    wrong_channel = good(3)
    wrong_channel["data"]["channel"] = "pigeon"
    items = [good(1), no_queue, wrong_channel, {"type": "contact.teleported"}, 42, good(6)]
    checked = check(orjson.dumps(items))
    assert [v.index for v in checked.valid] == [0, 5]
    got = [(e.index, e.reason, e.field) for e in checked.errors]
    assert got == [
        (1, "missing_field", "data.queue"),
        (2, "invalid_value", "data.channel"),
        (3, "unknown_type", "type"),
        (4, "not_an_object", None),
    ]
    assert checked.total == 6


def test_an_event_over_the_event_limit_is_refused_alone() -> None:
    big = good(2)
    big["data"]["padding"] = "x" * LIMIT
    checked = check(orjson.dumps([good(1), big]))
    assert [v.index for v in checked.valid] == [0]
    assert [(e.index, e.reason) for e in checked.errors] == [(1, "too_large")]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "application/json", 400),
        (b"   ", "application/json", 400),
        (b"[]", "application/json", 400),
        (b"{not json", "application/json", 400),
        (b"\n\n", "application/x-ndjson", 400),
        (b"{}", "text/plain", 415),
        (b"{}", "application/xml", 415),
    ],
)
def test_a_body_that_cannot_be_read_is_one_answer(
    body: bytes, content_type: str, status: int
) -> None:
    with pytest.raises(BodyError) as caught:
        check(body, content_type)
    assert caught.value.status == status


def test_more_events_than_the_limit_is_413() -> None:
    with pytest.raises(BodyError) as caught:
        check(orjson.dumps([good(n) for n in range(11)]), max_events=10)
    assert caught.value.status == 413
    assert len(check(orjson.dumps([good(n) for n in range(10)]), max_events=10).valid) == 10


def test_no_content_type_means_json() -> None:
    assert [v.key for v in check(orjson.dumps(good(1)), None).valid] == ["c-1"]


def test_keys_are_the_one_key_function_for_every_family() -> None:
    agent = {
        "specversion": "1.0",
        "id": "a-1",
        "type": "agent.state_changed",
        "source": "tests",
        "time": good(1)["time"],
        "data": {"agent_id": "agent-7", "state": "available", "queues": ["sales"]},
    }
    checked = check(orjson.dumps([agent, good(2)]))
    assert [v.key for v in checked.valid] == [event_key(agent), "c-2"] == ["agent-7", "c-2"]


def test_error_json_has_index_reason_field_detail() -> None:
    error = EventError(3, "missing_field", "data.queue is required", "data.queue")
    assert error.as_json() == {
        "index": 3,
        "reason": "missing_field",
        "field": "data.queue",
        "detail": "data.queue is required",
    }


def binary_headers(event: dict[str, Any], **extra: str) -> dict[str, str]:
    headers = {f"ce-{k}": event[k] for k in ("id", "type", "source", "time")}
    return {"ce-specversion": "1.0", "content-type": "application/json", **headers, **extra}


def test_a_binary_mode_cloudevent_takes_its_attributes_from_ce_headers() -> None:
    event = good(1)
    headers = binary_headers(event, **{"ce-traceparent": "00-ab"})
    checked = check_binary(headers, orjson.dumps(event["data"]), LIMIT)
    assert [(v.key, orjson.loads(v.value)) for v in checked.valid] == [("c-1", event)]


def test_binary_mode_errors_name_the_attribute() -> None:
    event = good(1)
    no_time = {k: v for k, v in binary_headers(event).items() if k != "ce-time"}
    assert [(e.index, e.reason, e.field) for e in check_binary(no_time, b"{}", LIMIT).errors] == [
        (0, "missing_field", "time")
    ]
    xml = binary_headers(event, **{"content-type": "application/xml"})
    assert [(e.reason, e.field) for e in check_binary(xml, b"{}", LIMIT).errors] == [
        ("unsupported_data", "datacontenttype")
    ]
    with pytest.raises(BodyError) as caught:
        check_binary(binary_headers(event), b"{nope", LIMIT)
    assert caught.value.status == 400
