"""Live connectors: long-running producers that read a PBX's own protocol and write ccmon
events to Kafka.

- ``deadletters`` what a connector cannot map, kept in the dead-letter topic (port,
  Kafka adapter, in-memory twin)
- ``asterisk``    the Asterisk Manager Interface client (login, events, reconnects)
- ``command``     the ``ccmon connect`` command
"""

__all__: list[str] = []
