"""Local bookkeeping directories removed once empty, and creates that survive another run removing them.

A finished run removes ``_locks/``, ``_commits/`` and ``_temporary/`` when they are empty
(`fs.remove_empty_dir`); another run may be about to create its lock, journal or temporary file
there. The race window is between that run's ``makedirs`` and its create: the tests open it on
purpose (the directory is removed right after ``makedirs``) and the create must still land.
"""

from __future__ import annotations

import os

import pytest

from beam_pipeline.util import fs


@pytest.fixture
def removed_after_makedirs(monkeypatch):
    """After the first ``makedirs`` of a directory, that directory is removed (another run's cleanup)."""
    real = os.makedirs
    removed: list[str] = []

    def makedirs(name, mode=0o777, exist_ok=False):
        real(name, mode, exist_ok)
        if not removed and os.path.isdir(name) and not os.listdir(name):
            assert fs.remove_empty_dir(name)
            removed.append(str(name))

    monkeypatch.setattr(os, "makedirs", makedirs)
    return removed


def test_create_exclusive_recreates_a_directory_removed_under_it(tmp_path, removed_after_makedirs):
    lock = tmp_path / "_locks" / "commit.lock"
    assert fs.create_exclusive(str(lock), b"mine")
    assert removed_after_makedirs == [str(lock.parent)]  # the window was hit ...
    assert lock.read_bytes() == b"mine"  # ... and the lock was taken all the same
    assert not fs.create_exclusive(str(lock), b"other")  # still exclusive


def test_write_bytes_recreates_a_directory_removed_under_it(tmp_path, removed_after_makedirs):
    journal = tmp_path / "_commits" / "r1.json"
    fs.write_bytes(str(journal), b"{}")
    assert removed_after_makedirs == [str(journal.parent)]
    assert journal.read_bytes() == b"{}"


def test_rename_recreates_a_directory_removed_under_it(tmp_path, removed_after_makedirs):
    src = tmp_path / "staged.parquet"
    src.write_bytes(b"PAR1")
    dst = tmp_path / "ledgers" / "final.parquet"
    fs.rename(str(src), str(dst))
    assert removed_after_makedirs == [str(dst.parent)]
    assert dst.read_bytes() == b"PAR1" and not src.exists()
    fs.rename(str(src), str(dst))  # a retried bundle: already moved
    with pytest.raises(FileNotFoundError):
        fs.rename(str(tmp_path / "never-written"), str(tmp_path / "ledgers" / "other.parquet"))


def test_remove_empty_dir_leaves_a_directory_in_use(tmp_path):
    used, empty = tmp_path / "_locks", tmp_path / "_commits"
    used.mkdir()
    (used / "commit.lock").write_bytes(b"")
    empty.mkdir()
    assert not fs.remove_empty_dir(str(used)) and (used / "commit.lock").exists()
    assert fs.remove_empty_dir(str(empty)) and not empty.exists()
    assert not fs.remove_empty_dir(str(empty))  # already gone: fine
    assert not fs.remove_empty_dir("s3://bucket/_locks")  # object stores have no directories
