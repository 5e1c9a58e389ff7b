"""YAML config files validated into pydantic models, with messages naming file, line and
field; and the field types such files share (pure: text in, model out)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from metrics.errors import CcmonError

__all__ = ["TimeZoneName", "YamlModelError", "check_time_zone", "line_of", "load_yaml_model"]

M = TypeVar("M", bound=BaseModel)


class YamlModelError(CcmonError, ValueError):
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


def check_time_zone(value: str) -> str:
    """An IANA time zone name, or ValueError."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


#: A field holding an IANA time zone name, e.g. "Europe/Berlin".
TimeZoneName = Annotated[str, AfterValidator(check_time_zone)]


def load_yaml_model(
    model: type[M],
    text: str,
    source: str,
    *,
    error: type[YamlModelError] = YamlModelError,
    context: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None,
    expected: str = "a mapping",
) -> M:
    """Parse `text` as YAML and validate it as `model`; raise `error` on any problem.

    An empty document is an empty mapping; `context` derives pydantic's validation context
    from the parsed mapping (e.g. names defined elsewhere in the same file).
    """
    try:
        root = yaml.compose(text)
        data: Any = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: e.g. a date 2026-13-01
        raise error(f"{source}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise error(f"{source}:1: expected {expected}")
    try:
        return model.model_validate(data, context=None if context is None else context(data))
    except ValidationError as exc:
        lines = []
        for problem in exc.errors():
            loc = [p for p in problem["loc"] if isinstance(p, str | int)]
            line = line_of(root, loc)
            where = f"{source}:{line}" if line else source
            field = ".".join(str(p) for p in loc) or "(top level)"
            lines.append(f"{where}: {field}: {problem['msg']}")
        raise error("\n".join(lines)) from exc
