"""What writes events into Kafka from outside the worker: sinks, pacing, replay, sim, importers."""

__all__: list[str] = []
