"""`python -m deploygen write|check`: write the generated files, or fail if any differs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploygen.outputs import render_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploygen")
    parser.add_argument("command", choices=["write", "check"])
    parser.add_argument("--root", type=Path, default=Path("."), help="repository root")
    args = parser.parse_args(argv)
    stale: list[str] = []
    # Some outputs are built from others (the PrometheusRule from the rules files), so
    # writing repeats until nothing changes.
    for _ in range(3):
        changed = False
        for rel, text in render_all().items():
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
