"""YAML config files validated into pydantic models, with messages naming file, line and
field; and the field types such files share (pure: text in, model out)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, TypeVar

import yaml
from pydantic import AfterValidator, BaseModel, ValidationError

from metrics.errors import CcmonError

__all__ = [
    "TimeZoneName",
    "YamlModelError",
    "check_time_zone",
    "duplicate_keys",
    "line_of",
    "load_yaml_model",
]

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


def duplicate_keys(node: yaml.Node | None) -> list[str]:
    """`line: duplicate key 'k' (first at line n)` for every mapping key given twice.

    PyYAML keeps the last value without a word, so a second `sales:` would silently
    replace the first; merge keys (`<<`) are YAML's own way to combine and are left alone.
    """
    out: list[str] = []
    stack = [] if node is None else [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key, value in current.value:
                stack.append(value)
                if not isinstance(key, yaml.ScalarNode) or key.tag.endswith(":merge"):
                    continue
                line = key.start_mark.line + 1
                if key.value in seen:
                    out.append(
                        f"{line}: duplicate key {key.value!r} (first at line {seen[key.value]})"
                    )
                else:
                    seen[key.value] = line
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return sorted(out, key=lambda message: int(message.split(":", 1)[0]))


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
    duplicates = duplicate_keys(root)
    if duplicates:
        raise error("\n".join(f"{source}:{message}" for message in duplicates))
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
