"""Before and after a run: the run-id rule, repairing what crashed runs left, and a failed run's cleanup.

`prepare_run` is called by the launcher before the pipeline is built: it completes commits that
crashed after their commit point (their journal, see `commit`), removes temporary files of runs
that are not running any more, refuses a run id that does not sort after every run in the archive,
and marks the run's temporary directory with its owner. `abandon_run` is the failure path:
nothing of a run that failed before its commit point becomes final, and one that failed after it
is completed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field

from beam_pipeline.sinks import commit
from beam_pipeline.sinks.commit import (
    COMMIT_DIR,
    COMMIT_LOCK,
    LOCK_DIR,
    TEMP_DIR,
    RunOrderError,
    journal_path,
    read_json,
    roll_forward,
    temp_root,
)
from beam_pipeline.util import fs

log = logging.getLogger(__name__)

MANIFEST_DIR = "_manifests"
STALE_RUN_SECONDS = 7 * 24 * 3600.0  # temporary files of a run on another host this old are a dead run's
OWNER_FILE = "_owner.json"


def _children(directory: str) -> list[str]:
    """Names directly under `directory` (files and sub-directories); none when it is absent."""
    if fs.is_local(directory):
        return sorted(os.listdir(directory)) if os.path.isdir(directory) else []
    base = directory.rstrip("/") + "/"
    return sorted({p[len(base):].split("/", 1)[0] for p, _ in fs.list_tree(directory) if p.startswith(base)})


def _temp_run_is_dead(root: str, run_id: str) -> bool:
    """A temporary directory's run is dead: its process is gone (same host), or it is far too old."""
    info = read_json(fs.join(temp_root(root, run_id), OWNER_FILE))
    if info is not None and info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        return commit.owner_is_dead(info)
    started = float(info.get("at", 0)) if info else commit.run_started(run_id)
    return time.time() - started > STALE_RUN_SECONDS


@dataclass
class Leftovers:
    """What crashed runs left in an archive: journals not carried out, temporary runs, a commit lock."""

    journals: list[str] = field(default_factory=list)
    temp_runs: list[str] = field(default_factory=list)
    lock: str | None = None
    # Dead runs' temporary directories that hold no file (local disk keeps a streaming pane's directory
    # after its partitions' scoped commits): removed by `repair`, not worth a report.
    empty_temp_dirs: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        out = [f"{j}: commit journal of a run that crashed while committing (the next run completes it)"
               for j in self.journals]
        out += [f"{t}: temporary files of a run that is not running (the next run removes them)"
                for t in self.temp_runs]
        if self.lock:
            out.append(f"{self.lock}: commit lock left by a run that died while committing")
        return out


def find_leftovers(root: str, exclude_run: str | None = None) -> Leftovers:
    """Journals, dead runs' temporary directories and a dead commit lock under `root`."""
    out = Leftovers()
    out.journals = [fs.join(root, COMMIT_DIR, n) for n in _children(fs.join(root, COMMIT_DIR)) if n.endswith(".json")]
    for run in _children(fs.join(root, TEMP_DIR)):
        if run != exclude_run and _temp_run_is_dead(root, run):
            where = temp_root(root, run)
            (out.temp_runs if fs.list_tree(where) else out.empty_temp_dirs).append(where)
    lock = fs.join(root, LOCK_DIR, COMMIT_LOCK)
    if fs.exists(lock):
        info = read_json(lock)
        if info is None or commit.lock_is_stale(info):
            out.lock = lock
    return out


def repair(root: str, exclude_run: str | None = None) -> list[str]:
    """Completes crashed commits and removes dead runs' temporary files; returns what it did."""
    found = find_leftovers(root, exclude_run)
    done = []
    if found.lock:
        commit.release_lock(root)
        done.append(f"removed the dead commit lock {found.lock}")
    if found.journals:
        try:
            with commit.commit_lock(root, exclude_run or "repair"):
                done += _complete_journals(root, found.journals)
        except commit.ConcurrentRunError as e:  # a live run is committing: its journal is its own business
            log.warning("archive %s: not completing journals now: %s", root, e)
    for t in found.temp_runs:
        fs.delete_tree(t)
        done.append(f"removed the temporary files {t}")
    for t in found.empty_temp_dirs:
        fs.delete_tree(t)
    return done


def _complete_journals(root: str, journals: list[str]) -> list[str]:
    done = []
    for path in journals:
        journal = read_json(path)
        if journal is None or "run_id" not in journal:
            fs.delete([path])  # torn while being written: the commit point was never passed
            done.append(f"removed the unfinished journal {path}")
            continue
        roll_forward(root, journal)
        done.append(f"completed the commit of crashed run {journal['run_id']}")
    return done


def check_run_id(root: str, run_id: str) -> None:
    """Refuses `run_id` unless it sorts after every run that has a manifest in the archive.

    Within a partition the newest run id wins (`filesets`): a rerun under an older id would lose to
    the rows it means to replace, and an id used twice would merge two runs and overwrite the first
    run's manifest. (Commits check the same against the file sets they touch.)
    """
    for name in _children(fs.join(root, MANIFEST_DIR)):
        other = name[: -len(".json")] if name.endswith(".json") else name
        if other >= run_id:
            what = "is the same run id" if other == run_id else "sorts after it"
            raise RunOrderError(
                f"run id {run_id}: the archive {root} already holds run {other} "
                f"({fs.join(root, MANIFEST_DIR, name)}), which {what}; a run needs an id newer than every run "
                "in the archive (leave --run_id out to get one)"
            )


def claim_temp_root(root: str, run_id: str) -> None:
    """Records which process owns a run's temporary directory, so `repair` can tell dead runs from live ones."""
    fs.write_bytes(fs.join(temp_root(root, run_id), OWNER_FILE), commit.lock_owner(run_id))


def prepare_run(root: str, run_id: str) -> list[str]:
    """Repairs the archive, checks the run id and claims the run's temporary directory (not for dry runs)."""
    done = repair(root, exclude_run=run_id)
    for line in done:
        log.warning("archive %s: %s", root, line)
    check_run_id(root, run_id)
    claim_temp_root(root, run_id)
    commit.ACTIVE_RUNS.add(run_id)
    return done


def end_run(run_id: str) -> None:
    """The launcher is done with a run (finished or failed): what it left is now a dead run's."""
    commit.ACTIVE_RUNS.discard(run_id)


def abandon_run(root: str, run_id: str) -> str:
    """After a failed run: completes its commit if the journal was written, else removes its temporary files."""
    end_run(run_id)  # from here on, a commit lock it left behind is a dead run's
    journal = read_json(journal_path(root, run_id))
    if journal is not None:
        with commit.commit_lock(root, run_id):
            roll_forward(root, journal)
        return "completed (its commit point had been passed)"
    fs.delete_tree(temp_root(root, run_id))
    return "left nothing final"
