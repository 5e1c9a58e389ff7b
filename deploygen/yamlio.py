"""YAML and JSON writing with stable output, so generated files diff cleanly."""

from __future__ import annotations

import json
from typing import Any

import yaml

__all__ = ["dump_json", "dump_yaml"]


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings (PromQL) as literal blocks."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any, header: str = "") -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=4096, allow_unicode=True)
    return header + body


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"
