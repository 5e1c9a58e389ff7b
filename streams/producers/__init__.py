"""What writes events into Kafka from outside the worker: keys (the one key function),
sinks, pacing, progress, history (retime and the retention check), replay, sim, importers
(files, and follow for a growing queue_log), connect (live: Asterisk AMI, a Kafka topic of
vendor records)."""

__all__: list[str] = []
