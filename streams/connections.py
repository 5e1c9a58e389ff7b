"""How every Kafka client ccmon makes connects: servers and, in one place, security.

Each aiokafka client (the worker's consumer and producer, the producers' sink, the
exporter's snapshot producer, topic creation, the ingest, the connectors) takes
``**kafka_options(settings)``, so a security setting reaches all of them at once.
``kafka_refusal`` tells a broker that refuses these settings (wrong password, untrusted
certificate) from one that is away: aiokafka reports both as "Unable to bootstrap".
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from aiokafka.conn import create_conn
from aiokafka.errors import (
    IllegalSaslStateError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)

from streams.settings import Settings

__all__ = [
    "KafkaRefused",
    "kafka_options",
    "kafka_refusal",
    "kafka_ssl_context",
    "refusal_message",
]

#: aiokafka's answers when the broker refuses the SASL credentials or mechanism.
_SASL_REFUSALS = (
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
    IllegalSaslStateError,
)


class KafkaRefused(OSError):
    """The broker refused ccmon's security settings, or they cannot be loaded; restarting
    cannot help. An OSError, so that callers which report a broker they cannot reach
    report this too."""


def kafka_ssl_context(settings: Settings) -> ssl.SSLContext:
    """The TLS context of CCMON_KAFKA_SSL_*: CA file (else the system's CAs), optional
    client certificate and key, hostname verification unless turned off. A file that is
    not what it should be raises KafkaRefused naming the setting."""
    ca_file = settings.kafka_ssl_ca_file
    try:
        context = ssl.create_default_context(cafile=None if ca_file is None else str(ca_file))
    except ssl.SSLError as exc:
        raise KafkaRefused(
            f"CCMON_KAFKA_SSL_CA_FILE ({ca_file}) holds no PEM certificate ({exc})"
        ) from exc
    context.check_hostname = settings.kafka_ssl_check_hostname
    cert = settings.kafka_ssl_cert_file
    if cert is not None:
        key = settings.kafka_ssl_key_file
        password = settings.kafka_ssl_key_password
        try:
            context.load_cert_chain(
                str(cert),
                None if key is None else str(key),
                None if password is None else password.get_secret_value(),
            )
        except ssl.SSLError as exc:
            raise KafkaRefused(
                f"cannot load the client certificate CCMON_KAFKA_SSL_CERT_FILE ({cert}) with "
                f"its key ({exc}); check CCMON_KAFKA_SSL_KEY_FILE and "
                "CCMON_KAFKA_SSL_KEY_PASSWORD"
            ) from exc
    return context


def kafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaConsumer, AIOKafkaProducer and AIOKafkaAdminClient."""
    options: dict[str, Any] = {"bootstrap_servers": settings.brokers}
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return options
    options["security_protocol"] = protocol
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = kafka_ssl_context(settings)
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        password = settings.kafka_sasl_password
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        options["sasl_plain_password"] = None if password is None else password.get_secret_value()
    return options


def _host_port(server: str) -> tuple[str, int]:
    host, _, port = server.strip().rpartition(":")
    return host.strip("[]") or "localhost", int(port or 9092)


def refusal_message(settings: Settings, error: BaseException) -> str | None:
    """The line for a connection error that is the broker refusing these settings, naming
    the setting to fix; None for anything else (the broker away, a timeout). aiokafka
    wraps a refusal after the handshake (TLS 1.3 reports a refused client certificate
    on the first read) as "connection closed": its cause is looked at too."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        message = _refusal(settings, current)
        if message is not None:
            return message
        current = current.__cause__ or current.__context__
    return None


def _refusal(settings: Settings, error: BaseException) -> str | None:
    """`refusal_message` for one error of the chain."""
    verify_message = str(getattr(error, "verify_message", "") or error)
    if isinstance(error, ssl.SSLCertVerificationError) and "mismatch" in verify_message:
        return (
            f"Kafka's TLS certificate does not name the host in CCMON_BROKERS: "
            f"{verify_message}; connect by a name the certificate holds, or set "
            "CCMON_KAFKA_SSL_CHECK_HOSTNAME=false"
        )
    if isinstance(error, ssl.SSLCertVerificationError):
        where = (
            f"CCMON_KAFKA_SSL_CA_FILE ({settings.kafka_ssl_ca_file})"
            if settings.kafka_ssl_ca_file is not None
            else "the system's CAs (set CCMON_KAFKA_SSL_CA_FILE)"
        )
        return (
            f"Kafka's TLS certificate is not trusted by {where}: {verify_message}; "
            "fix the setting (CCMON_KAFKA_SSL_CHECK_HOSTNAME=false only skips the host name)"
        )
    if isinstance(error, ssl.SSLError) and any(
        alert in str(error) for alert in ("BAD_CERTIFICATE", "CERTIFICATE_REQUIRED", "UNKNOWN_CA")
    ):
        return (
            f"Kafka refused ccmon's TLS client certificate ({error}); set "
            "CCMON_KAFKA_SSL_CERT_FILE and CCMON_KAFKA_SSL_KEY_FILE to a certificate the "
            "broker trusts"
        )
    if isinstance(error, ssl.SSLError):
        return (
            f"the TLS handshake with Kafka failed ({error}); check CCMON_KAFKA_SECURITY_PROTOCOL "
            "and CCMON_KAFKA_SSL_* (a client certificate the broker refuses?)"
        )
    if isinstance(error, _SASL_REFUSALS):
        return (
            f"Kafka refused the SASL credentials ({type(error).__name__}: {error}); check "
            "CCMON_KAFKA_SASL_USERNAME, CCMON_KAFKA_SASL_PASSWORD and CCMON_KAFKA_SASL_MECHANISM"
        )
    return None


async def kafka_refusal(settings: Settings, timeout_s: float = 10.0) -> str | None:
    """Connect to each bootstrap server once with the security settings; the line naming
    the setting to fix when every server that answered refused them, else None."""
    options = kafka_options(settings)
    refusals: list[str] = []
    for server in settings.brokers.split(","):
        if not server.strip():
            continue
        host, port = _host_port(server)
        try:
            async with asyncio.timeout(timeout_s):
                conn = await create_conn(
                    host,
                    port,
                    ssl_context=options.get("ssl_context"),
                    security_protocol=options.get("security_protocol", "PLAINTEXT"),
                    sasl_mechanism=options.get("sasl_mechanism", "PLAIN"),
                    sasl_plain_username=options.get("sasl_plain_username"),
                    sasl_plain_password=options.get("sasl_plain_password"),
                )
        except Exception as error:  # whatever stops the connection is looked at
            message = refusal_message(settings, error)
            if message is None:
                continue  # away or slow: the caller's retries wait it out
            refusals.append(message)
            continue
        conn.close()
        return None  # one server accepted these settings
    return refusals[0] if refusals else None
