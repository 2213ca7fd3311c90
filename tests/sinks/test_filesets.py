"""File names and the newest-set-wins rule that keeps reruns and overlaps exact."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.partitioning import chunk_bounds, partition_path


def test_file_name_round_trip_and_run_ids_sort_by_time():
    early = filesets.new_run_id(datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=timezone.utc))
    late = filesets.new_run_id(datetime(2026, 1, 1, 0, 0, 1, tzinfo=timezone.utc))
    assert early < late
    name = filesets.file_name("transactions", (1410048, 1410367), late, 2, 13)
    parsed = filesets.parse_file_name(name)
    assert (parsed.table, parsed.first, parsed.last, parsed.run_id, parsed.shard, parsed.part) == (
        "transactions", 1410048, 1410367, late, 2, 13)
    assert filesets.parse_file_name("part-0000.parquet") is None
    assert filesets.parse_file_name(name.replace(".parquet", ".tmp")) is None


@pytest.mark.parametrize(
    "intervals, cut, expected",
    [
        ([(10, 20)], (12, 15), [(10, 11), (16, 20)]),
        ([(10, 20)], (0, 9), [(10, 20)]),
        ([(10, 20)], (0, 30), []),
        ([(10, 20), (30, 40)], (15, 35), [(10, 14), (36, 40)]),
        ([(10, 20)], (20, 25), [(10, 19)]),
    ],
)
def test_subtract(intervals, cut, expected):
    assert filesets.subtract(intervals, cut) == expected


def test_live_coverage_newest_set_wins():
    sets = {
        ("r1", 100, 199): None,  # first run
        ("r2", 150, 249): None,  # overlapping run, newer
        ("r3", 120, 130): None,  # small rerun, newest
        ("r0", 300, 399): None,  # disjoint, oldest
    }
    live = filesets.live_coverage(sets)
    assert live[("r3", 120, 130)] == [(120, 130)]
    assert live[("r2", 150, 249)] == [(150, 249)]
    assert live[("r1", 100, 199)] == [(100, 119), (131, 149)]
    assert live[("r0", 300, 399)] == [(300, 399)]


def test_fully_covered_set_is_not_live():
    live = filesets.live_coverage({("r1", 0, 9): None, ("r2", 0, 9): None})
    assert live[("r1", 0, 9)] == [] and live[("r2", 0, 9)] == [(0, 9)]


@pytest.mark.parametrize(
    "scheme, expected",
    [
        ("ledger_day", "year=2022/month=06/day=10"),
        ("hour", "year=2022/month=06/day=10/hour=04"),
        ("ledger_range", "ledger_range=1410000-1419999"),
    ],
)
def test_partition_paths_follow_close_time_or_aligned_ranges(scheme, expected):
    close = int(datetime(2022, 6, 10, 4, 23, 44, tzinfo=timezone.utc).timestamp())
    assert partition_path(scheme, close, 1410048, 10000) == expected


def test_chunks_are_aligned_to_ledgers_per_file():
    assert chunk_bounds(1410048, 100) == (1410000, 1410099)
    assert chunk_bounds(1410099, 100) == (1410000, 1410099)
    assert chunk_bounds(1410100, 100) == (1410100, 1410199)


def test_commit_steps_are_idempotent_for_retried_bundles(tmp_path):
    """A retried commit finds its renames done and its deletions made: neither is an error."""
    from beam_pipeline.util import fs

    src, dst = tmp_path / "tmp" / "a.parquet", tmp_path / "final" / "a.parquet"
    src.parent.mkdir()
    src.write_bytes(b"x")
    fs.rename(str(src), str(dst))
    fs.rename(str(src), str(dst))  # the retry
    assert dst.read_bytes() == b"x" and not src.exists()
    fs.delete([str(dst)])
    fs.delete([str(dst)])
    assert not dst.exists()
    other = tmp_path / "b.parquet"
    with pytest.raises(OSError):  # a genuinely missing source is still an error (BeamIOError is an OSError)
        fs.rename(str(other), str(tmp_path / "final" / "b.parquet"))


def test_run_ids_are_checked_on_the_command_line(tmp_path, capsys):
    from tests.harness import datastore, job_config, run_job

    assert filesets.is_run_id(filesets.new_run_id())
    assert not filesets.is_run_id("nightly")
    cfg = job_config(datastore("testnet-p19-lpf64"), 1410048, 1410050, tmp_path / "out", ["ledgers"])
    assert run_job(cfg, tmp_path, "--run_id", "nightly") == 2
    assert "--run_id: invalid config" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
