"""Which worker errors are waited out and which end the process with which status."""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, TopicAuthorizationFailedError
from redis.exceptions import AuthenticationError, ConnectionError, ResponseError

from metrics.store.base import FencedError, StoreError
from streams.faults import exit_status, kafka_retriable, store_retriable


def wrapped(cause: Exception) -> StoreError:
    try:
        raise StoreError(str(cause)) from cause
    except StoreError as exc:
        return exc


def test_redis_away_is_waited_out_but_a_fence_bad_credentials_or_a_wrong_type_are_not() -> None:
    assert store_retriable(wrapped(ConnectionError("Connection refused")))
    assert not store_retriable(FencedError("FENCED"))
    assert not store_retriable(wrapped(AuthenticationError("invalid password")))
    assert not store_retriable(wrapped(ResponseError("WRONGTYPE Operation against a key")))
    assert not store_retriable(ValueError("a bug"))


def test_kafka_away_or_slow_is_waited_out_but_a_refusal_is_not() -> None:
    assert kafka_retriable(KafkaConnectionError("Unable to bootstrap"))
    assert kafka_retriable(KafkaTimeoutError())
    assert not kafka_retriable(TopicAuthorizationFailedError())


def test_refused_credentials_exit_2_naming_the_setting_anything_else_1() -> None:
    status, line = exit_status(wrapped(AuthenticationError("invalid username-password pair")))
    assert status == 2 and "CCMON_REDIS_URL" in line
    status, line = exit_status(wrapped(ResponseError("WRONGTYPE Operation against a key")))
    assert status == 1 and "CCMON_REDIS_PREFIX" in line
    assert exit_status(RuntimeError("boom")) == (1, "worker stopped: RuntimeError: boom")
