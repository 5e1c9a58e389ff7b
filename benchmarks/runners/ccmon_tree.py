"""The ccmon runner over another source tree, for before/after in one run.

``CCMON_BENCH_TREE`` names a directory holding another version of the repository (for
example ``git archive HEAD | tar -x -C /tmp/before``); its ``metrics``, ``streams`` and
``benchmarks`` packages go first on ``sys.path`` and its own ``benchmarks.runners.ccmon``
runs. ``CCMON_BENCH_TREE=/tmp/before python -m benchmarks.run --runners
raw,ccmon_tree,ccmon,quix`` then measures the committed code and the working tree on the
same topic, in the same run.
"""

from __future__ import annotations

import os
import runpy
import sys

#: The packages taken from the other tree.
PACKAGES = ("benchmarks", "metrics", "streams")


def use_tree(tree: str) -> None:
    """Put `tree` first on sys.path and forget the packages already imported from here."""
    if not os.path.isdir(os.path.join(tree, "streams")):
        raise SystemExit(f"CCMON_BENCH_TREE {tree!r} holds no streams/ package")
    sys.path.insert(0, tree)
    for name in [m for m in sys.modules if m.split(".", 1)[0] in PACKAGES]:
        del sys.modules[name]


if __name__ == "__main__":
    use_tree(os.environ.get("CCMON_BENCH_TREE", ""))
    runpy.run_module("benchmarks.runners.ccmon", run_name="__main__", alter_sys=True)
