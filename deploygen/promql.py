"""Metric names a PromQL expression reads: enough of a lexer to tell names from the rest.

Prometheus 2.42 (Debian's) has no parse endpoint, and the check must run without a
server, so this walks the tokens: label matchers in braces, ranges in brackets, label
lists after by/without/on/ignoring/group_left/group_right, function names (followed by
"("), keywords, strings, numbers, durations and Grafana variables are not metric names.
"""

from __future__ import annotations

import re

__all__ = ["metric_names", "selectors"]

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<var>\$\{[^}]*\}|\$\w+|\[\[\w+\]\])
  | (?P<number>[0-9][0-9a-zA-Z.]*|\.[0-9][0-9a-zA-Z.]*)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}\[\]@:])
  | (?P<space>\s+|\#[^\n]*)
    """,
    re.VERBOSE,
)

_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan", "start", "end",
}  # fmt: skip
#: Aggregations may be followed by `by (...)` before their "(", so name them outright.
_AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip
_LABEL_LIST = {"by", "without", "on", "ignoring", "group_left", "group_right"}


class PromQLSyntaxError(ValueError):
    """A character the lexer does not know, with its position."""


def _tokens(expr: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise PromQLSyntaxError(f"unexpected {expr[pos]!r} at offset {pos} in {expr!r}")
        kind = m.lastgroup or ""
        if kind != "space":
            out.append((kind, m.group(), pos))
        pos = m.end()
    return out


def _skip_group(tokens: list[tuple[str, str, int]], i: int, open_: str, close: str) -> int:
    """Index just past the group opening at tokens[i]."""
    depth = 0
    while i < len(tokens):
        if tokens[i][1] == open_:
            depth += 1
        elif tokens[i][1] == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def selectors(expr: str) -> list[str]:
    """Each vector selector as written (name plus its {matchers}), in order."""
    tokens = _tokens(expr)
    out: list[str] = []
    i = 0
    while i < len(tokens):
        kind, text, pos = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if text == "[":
            i = _skip_group(tokens, i, "[", "]")
            continue
        if text == "{":
            end = _skip_group(tokens, i, "{", "}")
            inner = tokens[i + 1 : end - 1]
            for j, (_, t, _) in enumerate(inner):
                if t == "__name__" and j + 2 < len(inner) and inner[j + 1][1] == "=":
                    out.append(expr[tokens[i][2] : tokens[end - 1][2] + 1])
            i = end
            continue
        if kind == "ident" and text in _LABEL_LIST:
            i += 1
            if i < len(tokens) and tokens[i][1] == "(":
                i = _skip_group(tokens, i, "(", ")")
            continue
        if kind == "ident" and text not in _KEYWORDS | _AGGREGATIONS and nxt != "(":
            if nxt == "{":
                end = _skip_group(tokens, i + 1, "{", "}")
                out.append(expr[pos : tokens[end - 1][2] + 1])
                i = end
                continue
            out.append(text)
        i += 1
    return out


def metric_names(expr: str) -> set[str]:
    """Every metric (or recording rule) name the expression selects."""
    names: set[str] = set()
    for sel in selectors(expr):
        if sel.startswith("{"):
            m = re.search(r"__name__\s*=\s*[\"'`]([^\"'`]+)", sel)
            if m:
                names.add(m.group(1))
        else:
            names.add(re.split(r"[{\s]", sel, maxsplit=1)[0])
    return names
