"""The vendor sources the HTTP ingest serves, built from the settings (secrets included)."""

from __future__ import annotations

from streams.settings import Settings
from streams.sources.amazon_connect import AmazonConnect
from streams.sources.base import SourceMapper
from streams.sources.genesys import GenesysCloud
from streams.sources.twilio import TwilioTaskRouter
from streams.sources.zendesk import Zendesk

__all__ = ["source_mappers"]


def source_mappers(settings: Settings) -> dict[str, SourceMapper]:
    """Every configured source by name. Each needs its secret (a signing key, or for the
    vendors that cannot sign, an API key): one whose secret is unset is left out, so no
    source route is ever open (the ingest answers 404 for it and logs the sources it
    serves at start)."""
    queues = [q.strip() for q in settings.genesys_agent_queues.split(",") if q.strip()]
    mappers: list[SourceMapper] = []
    if settings.amazon_connect_access_key is not None:
        key = settings.amazon_connect_access_key.get_secret_value()
        mappers.append(AmazonConnect(key))
    if settings.genesys_api_key is not None:
        key = settings.genesys_api_key.get_secret_value()
        mappers.append(GenesysCloud(key, agent_queues=queues))
    if settings.twilio_auth_token is not None:
        mappers.append(TwilioTaskRouter(settings.twilio_auth_token.get_secret_value()))
    if settings.zendesk_webhook_secret is not None:
        mappers.append(Zendesk(settings.zendesk_webhook_secret.get_secret_value()))
    return {m.name: m for m in mappers}
