"""Issue #19, "losing or duplicating rows": each case a whole CLI run on real testnet ledgers.

Every scenario ends by checking the archive independently of the job (one ledgers row per ledger,
transaction ids unique and equal to the ledgers' counts) and, where manifests exist, with
``verify --manifests``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_pipeline.sinks import commit
from beam_pipeline.sinks.filesets import file_name, parse_file_name
from tests.harness import (
    assert_exact,
    datastore,
    job_config,
    manifests,
    parquet_files,
    run_text,
    verify_range,
    write_config,
)
from tests.test_faults import FIRST, LAST, STORE, TABLES, TX_ROWS

RANGE = {"partition_by": "ledger_range", "ledgers_per_file": 100}


def fingerprint(root: Path) -> dict[str, str]:
    """Every file under `root` (Parquet, manifests, dead letters) by path and content."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def store(tmp_path, shared_ledgers) -> Path:
    """A private copy of the p19 data store, so objects can go bad."""
    dst = tmp_path / "store"
    shutil.copytree(datastore(STORE), dst)
    return dst


# --- dead letters -----------------------------------------------------------------------------------


def test_dead_letter_rerun_keeps_the_rows_an_earlier_run_archived(tmp_path, capsys, store):
    out = tmp_path / "out"
    cfg = job_config(str(store), FIRST, LAST, out, tables=TABLES, **RANGE)
    cfg["pipeline"]["on_error"] = "dead_letter"
    assert run_text(capsys, cfg, tmp_path)[0] == 0
    bad = next(store.rglob("*--1410112-1410175.xdr.zst"))
    bad.write_bytes(b"")  # the object has since gone bad

    code, text = run_text(capsys, cfg, tmp_path)
    assert code == 3, text  # dead letters written and reported
    assert_exact(out, FIRST, LAST, TX_ROWS)  # the earlier run's rows of 1410112..1410175 are still there
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report
    newest = manifests(out)[-1]
    assert newest["dead_letters"] == 1
    # The rerun claims only what it archived: none of its sets covers a dead-lettered ledger.
    for f in newest["files"]:
        first, last = f["ledger_range"]
        assert last < 1410112 or first > 1410175 or f["action"] == "carried", f


# --- all or nothing -----------------------------------------------------------------------------------


def test_disk_full_while_carrying_leaves_nothing_final(tmp_path, capsys, monkeypatch, shared_ledgers):
    out = tmp_path / "out"
    assert run_text(capsys, job_config(datastore(STORE), FIRST, 1410200, out, tables=TABLES, **RANGE), tmp_path)[0] == 0
    before = fingerprint(out)
    real = commit._rewrite

    def full_disk(layout, table, partition, sources, schema, interval, shard, run_id):
        if table == "transactions":
            raise OSError(28, "No space left on device")
        return real(layout, table, partition, sources, schema, interval, shard, run_id)

    monkeypatch.setattr(commit, "_rewrite", full_disk)
    code, text = run_text(capsys, job_config(datastore(STORE), 1410150, LAST, out, tables=TABLES, **RANGE), tmp_path)
    assert code == 1 and "No space left on device" in text
    assert fingerprint(out) == before  # not one file of the failed run is final, the old run is intact
    assert_exact(out, FIRST, 1410200)

    monkeypatch.undo()
    code, text = run_text(capsys, job_config(datastore(STORE), 1410150, LAST, out, tables=TABLES, **RANGE), tmp_path)
    assert code == 0, text
    assert_exact(out, FIRST, LAST, TX_ROWS)
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report


def test_schema_error_in_the_second_table_leaves_nothing_final(tmp_path, capsys, shared_ledgers):
    out = tmp_path / "out"
    assert run_text(capsys, job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES, **RANGE), tmp_path)[0] == 0
    # An older transactions file with another schema (a column changed type) makes that table's plan fail.
    victim = Path(parquet_files(out, "transactions")[-1])
    table = pq.read_table(victim)
    i = table.column_names.index("id")
    pq.write_table(table.set_column(i, "id", table["id"].cast(pa.string())), victim)
    before = fingerprint(out)

    code, text = run_text(capsys, job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES, **RANGE), tmp_path)
    assert code == 1 and victim.name in text and "schema" in text
    assert fingerprint(out) == before  # the ledgers table was not committed either


# --- run ids ------------------------------------------------------------------------------------------


def test_a_run_id_older_than_the_archive_is_refused(tmp_path, capsys, shared_ledgers):
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES)
    assert run_text(capsys, cfg, tmp_path, "--run_id", "r20260601T000000000000Zaaaa")[0] == 0
    before = fingerprint(out)
    code, text = run_text(capsys, cfg, tmp_path, "--run_id", "r20260101T000000000000Zbbbb")
    assert code == 2
    assert "r20260101T000000000000Zbbbb" in text and "r20260601T000000000000Zaaaa" in text
    assert fingerprint(out) == before


def test_a_run_id_reused_for_another_range_is_refused(tmp_path, capsys, shared_ledgers):
    out = tmp_path / "out"
    run_id = "r20260601T000000000000Zaaaa"
    assert run_text(capsys, job_config(datastore(STORE), FIRST, 1410200, out, tables=TABLES), tmp_path,
               "--run_id", run_id)[0] == 0
    before = fingerprint(out)
    code, text = run_text(capsys, job_config(datastore(STORE), 1410150, LAST, out, tables=TABLES), tmp_path,
                     "--run_id", run_id)
    assert code == 2 and f"run id {run_id}" in text and "same run id" in text
    assert fingerprint(out) == before  # the first run's manifest was not overwritten


# --- overlapping runs at the same time ---------------------------------------------------------------


@pytest.mark.parametrize("listing", ["per partition", "per table"])
def test_a_run_that_committed_meanwhile_makes_the_older_run_fail(listing, tmp_path, capsys, monkeypatch,
                                                                 shared_ledgers):
    """Run A plans, run B commits an overlapping range, A's commit-time check refuses A."""
    if listing == "per table":
        monkeypatch.setattr(commit, "LIST_TREE_ABOVE", 0)
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES, **RANGE)
    assert run_text(capsys, cfg, tmp_path)[0] == 0
    assert run_text(capsys, cfg, tmp_path)[0] == 0  # alone, a rerun passes the check (and retires every old set)
    real = commit.apply_plans

    def other_run_commits_first(root, run_id, plans, writes=None, before_journal=None, **kwargs):
        # What B's commit leaves: a newer set of the same ledgers in one of A's partitions.
        plan = next(p for p in plans if p.table == "ledgers" and p.deletes)
        old = Path(plan.deletes[0])
        parsed = parse_file_name(old.name)
        newer = run_id[:-4] + "ffff" if run_id[-4:] != "ffff" else run_id[:-4] + "fffe"
        shutil.copy(old, old.with_name(file_name("ledgers", parsed.coverage, newer, 0, 0)))
        return real(root, run_id, plans, writes, before_journal, **kwargs)

    monkeypatch.setattr(commit, "apply_plans", other_run_commits_first)
    before = {p for p in parquet_files(out)}
    code, text = run_text(capsys, cfg, tmp_path)
    assert code == 1 and "overlapping runs are refused" in text and "while this run was running" in text
    after = set(parquet_files(out))
    assert len(after - before) == 1  # only B's set: A made nothing final
    assert not any((out / d).exists() for d in ("_temporary", "_commits", "_locks"))


def test_a_commit_lock_held_by_a_live_run_refuses_the_commit(tmp_path, capsys, monkeypatch, shared_ledgers):
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, 1410200, out, tables=TABLES)
    assert run_text(capsys, cfg, tmp_path)[0] == 0
    before = fingerprint(out)
    lock = out / commit.LOCK_DIR / commit.COMMIT_LOCK
    lock.parent.mkdir(exist_ok=True)
    # A live process on this host (our parent) holds it, as a second run would.
    lock.write_text(json.dumps({"run_id": "r20990101T000000000000Zcccc", "host": os.uname().nodename,
                                "pid": os.getppid(), "at": 4e9}))
    monkeypatch.setattr(commit, "LOCK_WAIT_SECONDS", 0.5)
    code, text = run_text(capsys, cfg, tmp_path)
    assert code == 1 and "r20990101T000000000000Zcccc" in text and "overlapping runs are refused" in text
    lock.unlink()
    assert fingerprint(out) == {k: v for k, v in before.items() if "_locks" not in k}


def test_two_disjoint_runs_started_together_both_land(tmp_path, capsys, shared_ledgers):
    """Two launcher processes into one archive at once (ledger_range partitions of 100, disjoint): each
    commits under the lock while the other writes, waits or commits, and removes the then empty
    ``_locks/``, ``_commits/`` and ``_temporary/`` the other may be creating its files in."""
    out = tmp_path / "out"
    ranges = [(FIRST, 1410199), (1410200, LAST)]
    procs = []
    for i, (start, end) in enumerate(ranges):
        path = write_config(job_config(datastore(STORE), start, end, out, tables=TABLES, **RANGE), tmp_path,
                            f"job{i}.yaml")
        procs.append(subprocess.Popen([sys.executable, "-m", "beam_pipeline", "run", "--config", path],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    for proc in procs:
        text = proc.communicate(timeout=600)[0]
        assert proc.returncode == 0, text
    assert len(manifests(out)) == 2
    assert_exact(out, FIRST, LAST, TX_ROWS)
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report
    assert sorted(p.name for p in out.iterdir()) == ["_manifests", "ledgers", "transactions"]


# --- glob characters in path pieces -----------------------------------------------------------------


@pytest.mark.parametrize("name, sibling", [("[ps]ubnet", "pubnet"), ("net*", "net1"), ("a?c", "abc")])
def test_glob_characters_in_the_root_never_reach_a_sibling(name, sibling, tmp_path, capsys, shared_ledgers):
    base = tmp_path / "base"
    other = base / sibling
    assert run_text(capsys, job_config(datastore(STORE), FIRST, LAST, other, tables=TABLES), tmp_path)[0] == 0
    before = fingerprint(other)
    mine = base / name
    for _ in range(2):  # the rerun lists and supersedes its own files only
        code, text = run_text(capsys, job_config(datastore(STORE), FIRST, LAST, mine, tables=TABLES), tmp_path)
        assert code == 0, text
    assert fingerprint(other) == before
    assert_exact(mine, FIRST, LAST, TX_ROWS)
    assert_exact(other, FIRST, LAST, TX_ROWS)
    code, report = verify_range(capsys, mine, FIRST, LAST, "--manifests")
    assert code == 0, report


# --- crash leftovers and verify -----------------------------------------------------------------------


def test_verify_reports_a_dead_runs_temporary_files_and_the_next_run_removes_them(tmp_path, capsys,
                                                                                  shared_ledgers):
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES)
    assert run_text(capsys, cfg, tmp_path)[0] == 0
    dead = out / commit.TEMP_DIR / "r20250101T000000000000Zdead"
    (dead / "ledgers").mkdir(parents=True)
    (dead / "ledgers" / "half.parquet").write_bytes(b"PAR1")
    (dead / "_owner.json").write_text(json.dumps({"run_id": dead.name, "host": os.uname().nodename,
                                                  "pid": 2**22 + 12345, "at": 0}))
    code, report = verify_range(capsys, out, FIRST, LAST)
    assert code == 1 and "temporary files of a run that is not running" in report and dead.name in report
    assert run_text(capsys, cfg, tmp_path)[0] == 0
    assert not dead.exists()
    code, report = verify_range(capsys, out, FIRST, LAST, "--manifests")
    assert code == 0, report


def test_verify_without_manifests_does_not_call_an_archive_without_a_table_exact(tmp_path, capsys,
                                                                                 shared_ledgers):
    out = tmp_path / "out"
    assert run_text(capsys, job_config(datastore(STORE), FIRST, LAST, out, tables=TABLES), tmp_path)[0] == 0
    shutil.rmtree(out / "_manifests")
    shutil.rmtree(out / "transactions")
    code, report = verify_range(capsys, out, FIRST, LAST)
    assert code == 1, report
    assert "transactions" in report and "ok, the archive is exact" not in report
