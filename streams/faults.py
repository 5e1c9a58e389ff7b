"""Which worker errors are waited out and which end the process, with what status.

Kafka or Redis being away (at start or later) is retried with backoff. Anything else the
worker cannot recover from ends the process non-zero with one log line, so a supervisor
restarts it: 2 when Redis or Kafka refuses the configured credentials or certificate (a
restart cannot help until the setting is fixed), 1 otherwise.
"""

from __future__ import annotations

import ssl

from aiokafka.errors import KafkaError, KafkaTimeoutError
from redis.exceptions import AuthenticationError, RedisError, ResponseError

from metrics.store.base import StoreError
from streams.connections import KafkaRefused

__all__ = [
    "EXIT_CONFIG",
    "EXIT_FAILURE",
    "credentials_refused",
    "exit_status",
    "kafka_retriable",
    "store_retriable",
    "tls_refused",
    "wrong_type",
]

#: Exit status of an error in the configuration (as for bad settings at start).
EXIT_CONFIG = 2
#: Exit status of any other error the worker cannot recover from.
EXIT_FAILURE = 1


def _causes(error: BaseException) -> list[BaseException]:
    """`error` and the errors it was raised from."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def credentials_refused(error: BaseException) -> bool:
    """True when Redis refused the credentials (wrong password or user, or none given)."""
    return any(isinstance(e, AuthenticationError) for e in _causes(error))


def tls_refused(error: BaseException) -> ssl.SSLError | None:
    """The TLS error when Redis's certificate is not trusted or the handshake failed (a
    Redis or store error caused by one; Kafka's refusals are KafkaRefused)."""
    chain = _causes(error)
    if not any(isinstance(e, StoreError | RedisError) for e in chain):
        return None
    return next((e for e in chain if isinstance(e, ssl.SSLError)), None)


def wrong_type(error: BaseException) -> bool:
    """True when a key under ccmon's prefix holds another type: something else writes there,
    and waiting will not change it."""
    return any(
        isinstance(e, ResponseError) and str(e).startswith("WRONGTYPE") for e in _causes(error)
    )


def store_retriable(error: BaseException) -> bool:
    """A store error worth waiting out: Redis away or busy; not a fence, a lost store,
    refused credentials or a key of the wrong type."""
    return (
        isinstance(error, StoreError)
        and bool(getattr(error, "retriable", False))
        and not credentials_refused(error)
        and tls_refused(error) is None
        and not wrong_type(error)
    )


def kafka_retriable(error: BaseException) -> bool:
    """A Kafka error worth waiting out: the broker away, busy, or still electing leaders."""
    if isinstance(error, KafkaTimeoutError | TimeoutError | ConnectionError):
        return True
    return isinstance(error, KafkaError) and bool(getattr(error, "retriable", False))


def exit_status(error: BaseException) -> tuple[int, str]:
    """The process exit status for an error the worker cannot recover from, and its line."""
    if credentials_refused(error):
        return EXIT_CONFIG, (
            f"Redis refused the credentials in CCMON_REDIS_URL ({error}); "
            "fix the setting and start the worker again"
        )
    if isinstance(error, KafkaRefused):
        return EXIT_CONFIG, f"{error}; start the worker again once it is fixed"
    tls = tls_refused(error)
    if tls is not None:
        if not isinstance(tls, ssl.SSLCertVerificationError):
            what = (
                "the TLS handshake with Redis failed; check CCMON_REDIS_URL (rediss://), "
                "CCMON_REDIS_SSL_CERT_FILE and CCMON_REDIS_SSL_KEY_FILE"
            )
        elif "mismatch" in str(getattr(tls, "verify_message", "")):
            what = (
                "Redis's TLS certificate does not name the host in CCMON_REDIS_URL (connect "
                "by a name it holds, or set CCMON_REDIS_SSL_CHECK_HOSTNAME=false)"
            )
        else:
            what = (
                "Redis's TLS certificate is not trusted by CCMON_REDIS_SSL_CA_FILE (or the "
                "system's CAs)"
            )
        return EXIT_CONFIG, f"{what} ({tls}); fix the setting and start the worker again"
    if wrong_type(error):
        return EXIT_FAILURE, (
            f"Redis keys under CCMON_REDIS_PREFIX hold data of another type ({error}); "
            "is something else writing under that prefix?"
        )
    return EXIT_FAILURE, f"worker stopped: {type(error).__name__}: {error}"
