"""skser._atomic.atomic_path: all or nothing."""

from __future__ import annotations

import pytest

from skser._atomic import atomic_path


def test_success_replaces_the_target_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"  # not visible before the block ends
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_concurrent_writers_get_distinct_temporaries(tmp_path):
    target = tmp_path / "x.npz"
    with atomic_path(target, suffix=".npz") as a, atomic_path(target, suffix=".npz") as b:
        assert a != b and a.suffix == b.suffix == ".npz"
        a.write_text("a")
        b.write_text("b")
    assert target.read_text() == "a"  # the outer block ends last and wins
