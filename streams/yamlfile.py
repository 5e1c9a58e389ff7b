"""Validate YAML into a pydantic model with messages naming the file, line and field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

__all__ = ["YamlModelError", "line_of", "load_yaml_model"]

M = TypeVar("M", bound=BaseModel)


class YamlModelError(ValueError):
    """A YAML file does not describe a valid model; one `file:line: field: message` a line."""


def line_of(node: yaml.Node | None, path: Iterable[str | int]) -> int | None:
    """The 1-based line of the YAML node at `path` (a pydantic error location), or None."""
    line = None if node is None else node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pairs = [(k, v) for k, v in node.value if getattr(k, "value", None) == part]
            if not pairs:
                break
            key, node = pairs[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def load_yaml_model(model: type[M], text: str, source: str) -> M:
    """Parse `text` as YAML and validate it as `model`; raise YamlModelError on any problem."""
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise YamlModelError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise YamlModelError(f"{source}:1: expected a mapping")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            loc = [p for p in error["loc"] if isinstance(p, str | int)]
            line = line_of(root, loc)
            where = f"{source}:{line}" if line else source
            field = ".".join(str(p) for p in loc) or "(top level)"
            lines.append(f"{where}: {field}: {error['msg']}")
        raise YamlModelError("\n".join(lines)) from exc
