"""The HTTP ingest (``ccmon ingest``): webhooks and producers POST events, Kafka gets them.

- ``body``        PURE: a request body (ccmon JSON, array, NDJSON, CloudEvents) to events
                  checked by the worker's decoder, with an error per bad one
- ``cloudevents`` PURE: how a CloudEvent maps to a ccmon event
- ``tokens``      PURE: the named bearer tokens and their constant-time check
- ``producer``    the port to Kafka (acks from all in-sync replicas, bounded in flight),
                  its aiokafka adapter and an in-memory twin
- ``metrics``     the ingest's own Prometheus families
- ``openapi``     the OpenAPI document of the ingest
- ``app``         the aiohttp routes; ``run`` wires the process
"""

__all__: list[str] = []
