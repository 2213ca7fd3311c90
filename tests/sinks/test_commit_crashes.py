"""Issue #19: the archive invariants under a crash at every file-system step of a commit.

The commit (`sinks.commit`) is driven here without Beam, the way the sink drives it, on real
Parquet files: an archive of testnet ledgers 1410048-1410200 (two tables, ledger_range
partitions of 100) and a second run over 1410150-1410367, whose commit rewrites one partly covered
set (carry), retires others and adds new ones. The storage layer (`util.fs`) is patched to raise at
step N, for every N the commit takes; after each crash:

- a failed run leaves nothing final: before its journal is written, the archive is byte for byte
  what it was; after, the journal is there (verify reports it) and completing it gives the new run
  (a crash while releasing the lock, after the journal is gone, leaves the complete run);
- the next run repairs the crash (`runs.repair`) and a rerun then leaves every ledger's rows
  exactly once per table, equal to a clean run's, with ``verify --manifests`` passing.

Runs committing into one archive at the same time all land, and leave no empty ``_locks/``,
``_commits/`` or ``_temporary/`` behind (each removes them once empty while another creates them).
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import threading
from pathlib import Path

import pyarrow.compute as pc
import pytest

from beam_pipeline.cli import main
from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.records import get_table
from beam_pipeline.records.base import ledger_column
from beam_pipeline.sinks import commit, filesets, runs
from beam_pipeline.sinks.commit import Layout, TempFile, temp_root
from beam_pipeline.sinks.manifest import RunInfo, build_manifest, run_files
from beam_pipeline.sinks.partitioning import chunk_bounds, partition_path
from beam_pipeline.util import fs
from tests.harness import datastore, job_config, read_table, run_job
from tests.test_faults import FIRST, LAST, STORE, TABLES

SECOND = (1410150, LAST)
LPF = 100
STEPS = ("create", "rename", "delete", "delete_tree", "create_exclusive", "remove_empty_dir")


class Crash(Exception):
    """The process dies here."""


@pytest.fixture(scope="module")
def archives(tmp_path_factory, shared_ledgers) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("crash")
    keys = {"partition_by": "ledger_range", "ledgers_per_file": LPF}
    assert run_job(job_config(datastore(STORE), FIRST, 1410200, tmp / "base", tables=TABLES, **keys), tmp) == 0
    assert run_job(job_config(datastore(STORE), FIRST, LAST, tmp / "clean", tables=TABLES, **keys), tmp) == 0
    return {"base": tmp / "base", "clean": tmp / "clean"}


def _layout(root: Path, run_id: str, run_range: tuple[int, int] = SECOND) -> Layout:
    cfg = ParquetSinkConfig(local_path=str(root), partition_by="ledger_range", ledgers_per_file=LPF)
    return Layout(cfg, run_id, run_range)


def _stage(root: Path, clean: Path, run_id: str,
           run_range: tuple[int, int] = SECOND) -> dict[tuple[str, str], list[TempFile]]:
    """The second run's temp files, as its write step leaves them: the clean rows of its range."""
    layout = _layout(root, run_id, run_range)
    out: dict[tuple[str, str], list[TempFile]] = {}
    for table in TABLES:
        rows = read_table(clean, table)
        column = rows[ledger_column(get_table(table))]
        for chunk in range(chunk_bounds(run_range[0], LPF)[0], run_range[1] + 1, LPF):
            coverage = layout.coverage(chunk)
            keep = pc.and_(pc.greater_equal(column, coverage[0]), pc.less_equal(column, coverage[1]))
            part_rows = rows.filter(keep)
            partition = partition_path("ledger_range", 0, chunk, LPF)
            temp_dir = fs.join(temp_root(str(root), run_id), table, partition)
            writer = layout.writer(table, layout.schema(table), lambda part, c=coverage, d=temp_dir, t=table:
                                   fs.join(d, filesets.file_name(t, c, run_id, 0, part)))
            for batch in part_rows.cast(layout.schema(table)).to_batches():
                writer.write(batch)
            out[(table, partition)] = [
                TempFile(f.path, Path(f.path).name, table, partition, *coverage, f.rows, f.bytes, f.sha256,
                         f.ledger_min, f.ledger_max)
                for f in writer.close()
            ]
    return out


def _commit_run(root: Path, clean: Path, run_id: str, run_range: tuple[int, int] = SECOND) -> None:
    """What one run does from its write step on: stage, plan every partition, apply with its manifest."""
    runs.claim_temp_root(str(root), run_id)
    layout = _layout(root, run_id, run_range)
    staged = sorted(_stage(root, clean, run_id, run_range).items())
    plans = [commit.plan_partition(layout, t, p, temps) for (t, p), temps in staged]
    info = RunInfo(run_id, "test", "", run_range[0], run_range[1], "", "", "", "", tuple(TABLES), str(root),
                   layout=(("partition_by", "ledger_range"), ("ledgers_per_file", LPF)))
    files = [r for plan in plans for r in plan.records]
    commit.apply_plans(str(root), run_id, plans, run_files(info, build_manifest(info, files, 0), []))


def _final_state(root: Path) -> dict[str, str]:
    """Tables and manifests: what readers and verify see as final."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] in (*TABLES, "_manifests")
    }


def _assert_exact(root: Path, clean: Path, last: int) -> None:
    for table in TABLES:
        rows = read_table(root, table)
        expected = read_table(clean, table)
        expected = expected.filter(pc.less_equal(expected[ledger_column(get_table(table))], last))
        ids = rows["id"].to_pylist() if "id" in rows.column_names else rows["sequence"].to_pylist()
        assert len(ids) == len(set(ids)), f"{table}: duplicated rows"
        want = expected["id"].to_pylist() if "id" in expected.column_names else expected["sequence"].to_pylist()
        assert sorted(ids) == sorted(want), f"{table}: rows differ from a clean run's"


def _crash_at(monkeypatch, n: int) -> itertools.count:
    """Patches every storage step to count, and to raise `Crash` at step `n`."""
    counter = itertools.count()
    for name in STEPS:
        real = getattr(fs, name)

        def step(*args, _real=real, _name=name, **kwargs):
            if next(counter) == n:
                raise Crash(f"crash at step {n} ({_name} {args[0] if args else ''})")
            return _real(*args, **kwargs)

        monkeypatch.setattr(fs, name, step)
    return counter


def _steps_of_a_clean_commit(tmp_path, archives, monkeypatch) -> int:
    root = tmp_path / "count"
    shutil.copytree(archives["base"], root)
    with monkeypatch.context() as m:
        counter = _crash_at(m, -1)
        _commit_run(root, archives["clean"], filesets.new_run_id())
        steps = next(counter)
    _assert_exact(root, archives["clean"], LAST)
    return steps


def test_every_crash_point_leaves_nothing_final_or_a_journal_and_a_rerun_repairs_it(
    tmp_path, archives, monkeypatch, capsys
):
    steps = _steps_of_a_clean_commit(tmp_path, archives, monkeypatch)
    assert steps > 20  # staging, carry, lock, journal, renames, deletes, manifest, cleanup
    base_state = _final_state(archives["base"])
    outcomes = {"nothing final": 0, "journal": 0, "complete": 0}
    for n in range(steps):
        root = tmp_path / f"n{n}"
        shutil.copytree(archives["base"], root)
        run2 = filesets.new_run_id()
        with monkeypatch.context() as m:
            _crash_at(m, n)
            with pytest.raises(Crash):
                _commit_run(root, archives["clean"], run2)
        had_journal = (root / commit.COMMIT_DIR / f"{run2}.json").exists()
        complete = not had_journal and (root / "_manifests" / f"{run2}.json").exists()
        if complete:  # crashed after its commit was carried out (releasing the lock): nothing to repair
            outcomes["complete"] += 1
        elif had_journal:
            outcomes["journal"] += 1
            capsys.readouterr()
            assert main(["verify", "--path", str(root)]) == 1
            assert "commit journal of a run that crashed" in capsys.readouterr().out
        else:
            outcomes["nothing final"] += 1
            assert _final_state(root) == base_state, f"step {n}: the failed run left something final"

        # The next run: repair first (as `runs.prepare_run` does), then its own commit.
        runs.repair(str(root))
        assert not (root / commit.TEMP_DIR).exists() or not any((root / commit.TEMP_DIR).iterdir()), n
        assert not list((root / commit.COMMIT_DIR).glob("*")) if (root / commit.COMMIT_DIR).exists() else True
        assert not (root / commit.LOCK_DIR / commit.COMMIT_LOCK).exists(), n
        _assert_exact(root, archives["clean"], LAST if had_journal or complete else 1410200)
        _commit_run(root, archives["clean"], filesets.new_run_id())
        _assert_exact(root, archives["clean"], LAST)
        capsys.readouterr()
        code = main(["verify", "--path", str(root), "--start-ledger", str(FIRST), "--end-ledger", str(LAST),
                     "--manifests"])
        assert code == 0, f"step {n}:\n{capsys.readouterr().out}"
    assert outcomes["nothing final"] > 0 and outcomes["journal"] > 0, outcomes


def test_a_retried_apply_after_the_commit_completed_changes_nothing(tmp_path, archives):
    """A runner may retry the finalize bundle after the commit went through: it must not fail or undo it."""
    root = tmp_path / "retry"
    shutil.copytree(archives["base"], root)
    run_id = filesets.new_run_id()
    runs.claim_temp_root(str(root), run_id)
    layout = _layout(root, run_id)
    plans = [commit.plan_partition(layout, t, p, temps) for (t, p), temps in sorted(_stage(root, archives["clean"],
                                                                                           run_id).items())]
    commit.apply_plans(str(root), run_id, plans)
    done = _final_state(root)
    commit.apply_plans(str(root), run_id, plans)  # the retry
    assert _final_state(root) == done
    _assert_exact(root, archives["clean"], LAST)


def test_partition_commits_sharing_a_run_id_leave_each_other_s_staged_files(tmp_path, archives, monkeypatch):
    """A streaming pane id is shared by every partition's pane of that index, and a real runner (Flink)
    commits those panes while the others' files are still staged: a scoped commit removes only its own
    partition's temporary files, so every partition's commit goes through and the archive is exact."""
    root = tmp_path / "panes"
    shutil.copytree(archives["base"], root)
    run_id = filesets.new_run_id()
    layout = _layout(root, run_id)
    staged = sorted(_stage(root, archives["clean"], run_id).items())
    assert len(staged) > 2
    plans = [((t, p), commit.plan_partition(layout, t, p, temps)) for (t, p), temps in staged]
    for scope, plan in plans:  # every partition staged before the first commit, as on a parallel runner
        commit.apply_plans(str(root), run_id, [plan], scope=scope)
        assert commit.journal_path(str(root), run_id, scope) != commit.journal_path(str(root), run_id)
        assert not Path(commit.journal_path(str(root), run_id, scope)).exists()
    _assert_exact(root, archives["clean"], LAST)
    # The last partition's commit removed the run's then empty directories, up to _temporary/.
    assert _bookkeeping(root) == []
    # An empty run directory (left by a crash between a scoped commit and its cleanup, or by an older
    # version): once the run is gone (here: every run without an owner), no leftover to report, and
    # repair removes it.
    (root / commit.TEMP_DIR / run_id / "ledgers").mkdir(parents=True)
    monkeypatch.setattr(runs, "STALE_RUN_SECONDS", -1)
    assert runs.find_leftovers(str(root)).describe() == []
    runs.repair(str(root))
    assert _bookkeeping(root) == []


def _bookkeeping(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name in (commit.LOCK_DIR, commit.COMMIT_DIR, commit.TEMP_DIR))


def test_runs_committing_into_one_archive_at_the_same_time_all_land(tmp_path, archives, monkeypatch, capsys):
    """Two runs of disjoint partitions commit round after round at the same moment (a barrier before
    each commit), so that one run removes the empty ``_locks/``, ``_commits/`` and ``_temporary/``
    while the other creates its lock, journal or temporary files there; every commit must land."""
    root = tmp_path / "together"
    root.mkdir()
    monkeypatch.setattr(commit, "LOCK_POLL_SECONDS", 0.001)
    ranges = [(FIRST, 1410199), (1410200, LAST)]  # partitions 1410000-1410199 and 1410200-1410399
    rounds = 4
    barrier = threading.Barrier(len(ranges))
    errors: list[BaseException] = []
    real_apply = commit.apply_plans

    def apply_together(*args, **kwargs):
        barrier.wait(timeout=60)
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(commit, "apply_plans", apply_together)

    def run(run_range: tuple[int, int]) -> None:
        try:
            for _ in range(rounds):  # each round a rerun with a newer id: it supersedes its previous sets
                _commit_run(root, archives["clean"], filesets.new_run_id(), run_range)
        except BaseException as e:  # noqa: BLE001 - reported by the test thread
            errors.append(e)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(r,)) for r in ranges]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    assert len(list((root / "_manifests").glob("*.json"))) == rounds * len(ranges)
    _assert_exact(root, archives["clean"], LAST)
    assert _bookkeeping(root) == []
    capsys.readouterr()
    code = main(["verify", "--path", str(root), "--start-ledger", str(FIRST), "--end-ledger", str(LAST),
                 "--manifests"])
    assert code == 0, capsys.readouterr().out


def test_a_crashed_commit_keeps_its_journal_directory_and_the_next_run_removes_it(tmp_path, archives,
                                                                                    monkeypatch):
    """The bookkeeping directories go only once empty: a crashed run's journal stays for the roll-forward."""
    root = tmp_path / "crashed"
    shutil.copytree(archives["base"], root)
    assert _bookkeeping(root) == []  # the CLI runs that made it left none
    run_id = filesets.new_run_id()

    def crash(paths):
        raise Crash("the process dies after its commit point, before deleting superseded files")

    with monkeypatch.context() as m:
        m.setattr(fs, "delete", crash)
        with pytest.raises(Crash):
            _commit_run(root, archives["clean"], run_id)
    assert (root / commit.COMMIT_DIR / f"{run_id}.json").is_file()
    runs.repair(str(root))
    _assert_exact(root, archives["clean"], LAST)
    assert _bookkeeping(root) == []
