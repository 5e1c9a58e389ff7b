"""The traffic simulator: a YAML scenario, a pure discrete-event model, and its runner."""

__all__: list[str] = []
