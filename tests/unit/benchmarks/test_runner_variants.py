"""The variant runners: another source tree first on sys.path, other GC thresholds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks.runners import VARIANTS
from benchmarks.runners.ccmon_gc import DEFAULT, thresholds
from benchmarks.runners.ccmon_tree import use_tree


def test_the_variants_are_registered_by_name() -> None:
    assert VARIANTS["ccmon_tree"] == "benchmarks.runners.ccmon_tree"
    assert VARIANTS["ccmon_gc"] == "benchmarks.runners.ccmon_gc"


def test_gc_thresholds_are_three_integers() -> None:
    assert thresholds(DEFAULT) == (1_000_000, 50, 1000)
    assert thresholds("700,10,10") == (700, 10, 10)
    with pytest.raises(ValueError):
        thresholds("700,10")


def test_another_tree_goes_first_and_its_packages_are_imported_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "streams").mkdir()
    (tmp_path / "streams" / "__init__.py").write_text("FROM_TREE = 1\n")
    monkeypatch.setattr(sys, "path", list(sys.path))
    ours = {m: sys.modules[m] for m in list(sys.modules) if _ours(m)}
    try:
        use_tree(str(tmp_path))
        assert sys.path[0] == str(tmp_path)
        assert not [m for m in sys.modules if _ours(m)]
        import streams

        assert streams.FROM_TREE == 1  # type: ignore[attr-defined]
    finally:  # this process's own packages back, as they were
        for name in [m for m in sys.modules if _ours(m)]:
            del sys.modules[name]
        sys.modules.update(ours)


def _ours(module: str) -> bool:
    return module.split(".", 1)[0] in ("streams", "metrics", "benchmarks")


def test_a_tree_without_the_packages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="holds no streams/ package"):
        use_tree(str(tmp_path))
