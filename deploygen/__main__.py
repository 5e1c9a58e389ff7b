"""`python -m deploygen write|check`: write the generated files, or fail if any differs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploygen.links import DEFAULT_LINKS, Links
from deploygen.outputs import render_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploygen")
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    parser.add_argument(
        "--grafana-url",
        default=DEFAULT_LINKS.grafana_url,
        help=f"Grafana as on-call opens it, for alert links (default {DEFAULT_LINKS.grafana_url})",
    )
    parser.add_argument(
        "--runbook-url",
        default=DEFAULT_LINKS.runbook_url,
        help="where docs/runbooks.md is published; each alert links to its section "
        f"(default {DEFAULT_LINKS.runbook_url})",
    )
    args = parser.parse_args(argv)
    links = Links(grafana_url=args.grafana_url, runbook_url=args.runbook_url)
    stale: list[str] = []
    # Some outputs are built from others (the PrometheusRule from the rules files), so
    # writing repeats until nothing changes.
    for _ in range(3):
        changed = False
        for rel, text in render_all(links).items():
            path = args.root / rel
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            if args.command == "write":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
                print(f"wrote {rel}")
                changed = True
            else:
                stale.append(rel)
        if not changed:
            break
    if stale:
        print(
            "generated files differ from deploygen (run `make deploy-generate`):", file=sys.stderr
        )
        for rel in stale:
            print(f"  {rel}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
