"""What writes events into Kafka from outside the worker: keys (the one key function),
sinks, pacing, progress, history (retime and the retention check), replay, sim, importers."""

__all__: list[str] = []
