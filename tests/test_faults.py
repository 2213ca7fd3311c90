"""Faults during a run: retried reads and writes, a crash mid-commit, overlapping and disjoint runs.

FnApiRunner runs every step in this process, so monkeypatching a module function or a DoFn method
reaches the workers. Each scenario ends with `verify` over the archive and a comparison with the
row counts of a single clean run: the archive must be exact, not just "not failed".
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from pathlib import Path

import pytest

from beam_pipeline.sinks import parquet as parquet_sink
from beam_pipeline.util import fs
from tests.harness import assert_exact, datastore, job_config, parquet_files, run_text, verify_range

STORE = "testnet-p19-lpf64"
FIRST, LAST = 1410048, 1410367
TABLES = ["ledgers", "transactions"]
TX_ROWS = 1145  # transactions in ledgers 1410048..1410367 (the data set's README)


# --- retried reads and writes --------------------------------------------------------------------


def test_transient_read_failure_is_retried(tmp_path, capsys, monkeypatch, shared_ledgers):
    real = fs.read_bytes
    failed: set[str] = set()
    lock = threading.Lock()

    def flaky(path, max_bytes=None):
        if path.endswith(".xdr.zst"):
            with lock:
                first = path not in failed
                failed.add(path)
            if first:
                raise OSError(f"simulated connection reset reading {path}")
        return real(path, max_bytes)

    monkeypatch.setattr(fs, "read_bytes", flaky)
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES)
    cfg["pipeline"]["source"]["config"]["retry_wait"] = 0.01
    code, text = run_text(capsys, cfg, tmp_path)
    assert code == 0, text
    assert len(failed) == 5  # every object failed once ...
    assert "retries: 5 (read_retries 5)" in text  # ... and was read again
    assert_exact(out, FIRST, LAST, TX_ROWS)
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report


def test_read_failing_every_time_gives_up_after_retry_limit(tmp_path, capsys, monkeypatch, shared_ledgers):
    real = fs.read_bytes
    calls = itertools.count()

    def broken(path, max_bytes=None):
        if path.endswith("FFEA7BFF--1410048-1410111.xdr.zst"):
            next(calls)
            raise OSError("simulated outage")
        return real(path, max_bytes)

    monkeypatch.setattr(fs, "read_bytes", broken)
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, 1410060, out, tables=["ledgers"])
    cfg["pipeline"]["source"]["config"].update(retry_wait=0.01, retry_limit=2)
    code, text = run_text(capsys, cfg, tmp_path)
    assert code == 1
    assert "FFEA7BFF--1410048-1410111.xdr.zst: read failed after 3 attempts: simulated outage" in text
    assert next(calls) == 3
    assert parquet_files(out) == [] and not (out / "_temporary").exists()


def test_transient_write_failure_is_retried(tmp_path, capsys, monkeypatch, shared_ledgers):
    real = fs.create
    failed: set[str] = set()
    lock = threading.Lock()

    def flaky(path):
        if "/_temporary/" in path and path.endswith(".parquet"):
            with lock:
                first = path not in failed
                failed.add(path)
            if first:
                raise OSError(f"simulated write failure on {path}")
        return real(path)

    monkeypatch.setattr(fs, "create", flaky)
    monkeypatch.setattr(parquet_sink._WriteTempFilesFn, "RETRY_WAIT", 0.01)
    out = tmp_path / "out"
    code, text = run_text(capsys, job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES), tmp_path)
    assert code == 0, text
    assert len(failed) == 2  # one file set per table, each failed once
    assert "retries: 2 (write_retries 2)" in text
    assert_exact(out, FIRST, LAST, TX_ROWS)
    assert len(parquet_files(out)) == 2
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report


# --- a crash, then a rerun -----------------------------------------------------------------------


def test_crash_after_renames_before_deletes_then_rerun_is_exact(tmp_path, capsys, monkeypatch, shared_ledgers):
    out = tmp_path / "out"
    assert run_text(capsys, job_config(datastore(STORE), FIRST, 1410200, out, tables=TABLES), tmp_path)[0] == 0

    def crash(paths):
        raise OSError("simulated crash: the worker died before deleting superseded files")

    with monkeypatch.context() as m:
        m.setattr(fs, "delete", crash)
        code, text = run_text(capsys, job_config(datastore(STORE), 1410100, LAST, out, tables=TABLES), tmp_path)
    assert code == 1
    assert "simulated crash" in text
    # The crash came after the commit point: both runs' files for 1410100..1410200 are there, and so
    # is the crashed run's journal, which verify reports and the next run completes.
    code, report = verify_range(capsys, out, FIRST, LAST)
    assert code == 1 and "duplicated: 101 ledgers in 1410100-1410200: rows in 2 file sets" in report
    assert "commit journal of a run that crashed" in report

    code, text = run_text(capsys, job_config(datastore(STORE), 1410100, LAST, out, tables=TABLES), tmp_path)
    assert code == 0, text
    assert_exact(out, FIRST, LAST, TX_ROWS)
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report
    assert not (out / "_temporary").exists() and not list((out / "_commits").glob("*"))


def test_crash_after_some_partitions_committed_then_rerun_is_exact(tmp_path, capsys, monkeypatch, shared_ledgers):
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES, partition_by="ledger_range",
                     ledgers_per_file=100)
    real = parquet_sink._PlanPartitionFn.process
    commits = itertools.count()

    def crash_on_third(self, element, **side):
        if next(commits) == 2:
            raise RuntimeError("simulated crash during commit")
        yield from real(self, element, **side)

    with monkeypatch.context() as m:
        m.setattr(parquet_sink._PlanPartitionFn, "process", crash_on_third)
        code, text = run_text(capsys, cfg, tmp_path)
    assert code == 1 and "simulated crash during commit" in text
    assert parquet_files(out) == []  # all or nothing: no partition was made final
    assert not (out / "_manifests").exists() and not (out / "_temporary").exists()

    code, text = run_text(capsys, cfg, tmp_path)
    assert code == 0, text
    assert_exact(out, FIRST, LAST, TX_ROWS)
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report


# --- several runs into one archive --------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["ledger_day", "hour", "ledger_range"])
def test_overlapping_and_partial_runs_leave_an_exact_archive(scheme, tmp_path, capsys, shared_ledgers):
    """Files of 100 ledgers: the second run overlaps the first; the third covers part of one file."""
    out = tmp_path / "out"
    sink = {"partition_by": scheme, "ledgers_per_file": 100}
    first = job_config(datastore(STORE), FIRST, 1410200, out, tables=TABLES, **sink)
    second = job_config(datastore(STORE), 1410100, LAST, out, tables=TABLES, **sink)
    assert run_text(capsys, first, tmp_path)[0] == 0
    code, text = run_text(capsys, second, tmp_path)
    assert code == 0, text
    assert "replaced" in text
    # Only tables and manifests: the commit's empty _locks/, _commits/ and _temporary/ are gone.
    assert sorted(p.name for p in out.iterdir()) == ["_manifests", "ledgers", "transactions"]
    full = assert_exact(out, FIRST, LAST, TX_ROWS).sort_by("id")
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report
    assert f"partition_by {scheme}" in report
    # A run over part of a file's ledgers must not destroy what earlier runs wrote for the rest of it.
    partial = job_config(datastore(STORE), 1410130, 1410140, out, tables=TABLES, **sink)
    assert run_text(capsys, partial, tmp_path)[0] == 0
    assert assert_exact(out, FIRST, LAST, TX_ROWS).sort_by("id").to_pylist() == full.to_pylist()


def _fingerprint(paths: list[str]) -> dict[str, tuple[int, str]]:
    return {p: (Path(p).stat().st_mtime_ns, hashlib.sha256(Path(p).read_bytes()).hexdigest()) for p in paths}


def test_disjoint_runs_never_touch_each_others_files(tmp_path, capsys, shared_ledgers):
    out = tmp_path / "out"
    assert run_text(capsys, job_config(datastore(STORE), FIRST, 1410111, out, tables=TABLES), tmp_path)[0] == 0
    before = _fingerprint(parquet_files(out))
    assert len(before) == 2
    code, text = run_text(capsys, job_config(datastore(STORE), 1410176, 1410239, out, tables=TABLES), tmp_path)
    assert code == 0, text
    assert "replaced" not in text
    after = _fingerprint(parquet_files(out))
    assert {p: after[p] for p in before} == before
    assert len(after) == 4
    for start, end in ((FIRST, 1410111), (1410176, 1410239)):
        code, report = verify_range(capsys, out, start, end, "--manifests")
        assert code == 0, report
    code, report = verify_range(capsys, out, FIRST, 1410239)
    assert code == 1 and "missing: 64 ledgers have no row: 1410112-1410175" in report
