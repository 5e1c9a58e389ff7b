"""Kafka and the processes: the worker, the exporter, the producers and the ``ccmon`` command.

- ``cli``         parsing and dispatch of the ``ccmon`` command only
- ``settings``    every ``CCMON_*`` setting, in one pydantic-settings model; ``secretfiles``
  reads secrets from the files ``CCMON_<NAME>_FILE`` names
- ``connections`` how every Kafka client connects (``kafka_options``: SASL, TLS) and how a
  refused password or certificate is told from a broker that is away
- ``app``         the worker wiring (a Faust app running the batch consumer as a service)
- ``exporter``    the exporter wiring (/metrics, read API, wall board, routing feed), in one
  process or split by role (``--role api`` and ``--role metrics``)
- ``topics``      every topic ccmon creates, through one creator
- the worker: ``kafka`` (consumer loop, rebalances), ``consume`` (batches into the core and
  the store), ``decode`` (contract v1 and its JSON Schema; ``decode_structs`` its msgspec
  fast path), ``deadletter``, ``outbox``, ``rekey``, ``health`` (the worker's own
  metrics), ``healthserver`` (its /healthz, /readyz and /metrics port), ``retry`` (backoff,
  one log line per outage), ``faults`` (what is waited out, what exits with which status),
  ``snapshots`` (the snapshot publisher)
- ``export``      ``ccmon export``: interval reports from the store as CSV
- ``producers/``  what writes events into Kafka from outside the worker: ``keys`` (the
  contract's Kafka key of every event), ``sinks``, ``pacing``, ``progress``, ``history``
  (event times against the worker's retention), ``runner`` (what the producer commands
  share), ``replay``, ``sim/``, ``importers/`` (files, and ``follow`` for a growing
  queue_log), ``connect/`` (live sources: the Asterisk Manager Interface, a Kafka topic of
  vendor records); it imports no worker module (checked by ``make lint``)
- ``sources/``    pure mappers from vendors' payloads (Asterisk AMI, Twilio TaskRouter,
  Amazon Connect, Genesys Cloud, Zendesk) to contract v1 events: ``base`` (the port),
  ``registry`` (what the ingest serves)
- ``ingest/``     ``ccmon ingest``: the HTTP ingest (events and CloudEvents over HTTP,
  vendor webhooks through ``sources/``, produced to Kafka after the broker's ack)
- ``localservers/`` local Tansu and Valkey from pip wheels (demo and test fixtures);
  ``demo/`` the ``ccmon demo`` command
"""

__all__: list[str] = []
