"""Everything that touches Kafka and the process: decoding, consumption, the app and CLI."""
