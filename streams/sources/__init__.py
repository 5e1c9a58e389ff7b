"""Vendor sources: pure mappers from a platform's own payloads to ccmon events (contract v1).

``base`` holds the port every mapper fits; one module per vendor; ``registry`` names the
mappers the HTTP ingest serves. Mappers do no I/O: the ingest and the connectors around
them do.
"""

__all__: list[str] = []
