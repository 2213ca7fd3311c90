"""The partition commit, without Beam: newest set wins, all or nothing, refused when runs collide.

Both sinks drive it from their own DoFns (`parquet.py` per partition then once per run,
`streaming.py` once per pane). A commit has two phases:

1. **Plan** (`plan_partition`, one per table and partition, in parallel). Lists the partition's
   file sets, refuses a set of a run that sorts at or after this one (`RunOrderError`: the
   newest-set-wins rule would otherwise keep stale rows or mix two runs under one id), checks the
   schema of what is there, and writes *everything* the commit will make final to this run's
   ``_temporary/`` directory: the new sets (re-cut around dead-lettered ledgers, which the run does
   not cover, so that an older run's rows of them stay live) and the carried rows of older sets
   that are only partly covered. Nothing outside ``_temporary/`` changes: a plan that fails (full
   disk while carrying, a schema error in any table) leaves the archive as it was.
2. **Apply** (`apply_plans`, once for all of a run's plans). Under the archive's commit lock
   (`commit_lock`) it re-lists every planned partition and refuses (`ConcurrentRunError`) when a
   set overlapping the plan appeared or a planned file vanished since planning: another run
   committed meanwhile. Then it writes the run's *journal* (``_commits/{run_id}.json``: every
   rename, delete and small file such as the manifest) — the commit point — and carries it out.
   A crash before the journal leaves nothing final; a crash after it is rolled forward by the
   next run (`repair`), so the archive never keeps half a commit. On local disk ``_commits/`` and
   ``_locks/`` are removed once empty (a finished run leaves neither, as on an object store, which
   has no directories); a crashed run's journal keeps ``_commits/``. With ``table_format: delta |
   iceberg`` the journal also says so, and carrying it out commits the table format's transaction
   between the renames and the deletes (`table_formats.sync_journal`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.records import get_table
from beam_pipeline.records.base import ledger_column, output_schema
from beam_pipeline.sinks import filesets, table_formats
from beam_pipeline.sinks.parquet_files import RollingParquetWriter, read_batches, read_schema
from beam_pipeline.sinks.partitioning import chunk_bounds
from beam_pipeline.util import fs

log = logging.getLogger(__name__)

TEMP_DIR = "_temporary"
COMMIT_DIR = "_commits"
LOCK_DIR = "_locks"
COMMIT_LOCK = "commit.lock"
JOURNAL_VERSION = 1

Interval = filesets.Interval
SetKey = tuple[str, int, int]


class CommitError(RuntimeError):
    """A commit this run must not make; the message names the run, table and partition."""


class RunOrderError(CommitError):
    """The archive already holds a run that sorts at or after this run id."""


class ConcurrentRunError(CommitError):
    """Another run committed (or is committing) the same files while this one ran."""


class TempFile(NamedTuple):
    temp_path: str
    name: str
    table: str
    partition: str
    first: int
    last: int
    rows: int
    bytes: int
    sha256: str
    ledger_min: int
    ledger_max: int


class FileRecord(NamedTuple):
    """One file this run made final (``written``/``carried``) or removed (``deleted``)."""

    action: str
    path: str
    table: str
    partition: str
    first: int
    last: int
    rows: int
    bytes: int
    sha256: str
    schema_version: int
    replaced_by_run: str = ""


def temp_root(root: str, run_id: str) -> str:
    return fs.join(root, TEMP_DIR, run_id)


def journal_path(root: str, run_id: str, scope: tuple[str, str] | None = None) -> str:
    """``_commits/{run_id}.json``; a scoped commit's (see `apply_plans`) adds a digest of its table and partition."""
    if scope is None:
        return fs.join(root, COMMIT_DIR, f"{run_id}.json")
    digest = hashlib.sha256("/".join(scope).encode()).hexdigest()[:16]
    return fs.join(root, COMMIT_DIR, f"{run_id}.{digest}.json")


class Layout:
    """Picklable settings of a sink that its DoFns and the commit share."""

    def __init__(self, cfg: ParquetSinkConfig, run_id: str, run_range: tuple[int, int]):
        self.root = cfg.root
        self.scheme = cfg.partition_by
        self.ledgers_per_file = cfg.ledgers_per_file
        self.num_shards = cfg.num_shards
        self.compression = cfg.compression
        self.buffer_size = cfg.buffer_size
        self.max_file_bytes = int(cfg.max_file_size_mb * 1024 * 1024)
        self.xdr_encoding = cfg.xdr_encoding
        self.include_metadata = cfg.include_metadata
        self.schema_evolution = cfg.schema_evolution
        self.dry_run = cfg.dry_run
        self.run_id = run_id
        self.run_range = run_range

    def coverage(self, chunk_start: int) -> tuple[int, int]:
        """The ledgers of a chunk this run is authoritative for."""
        start, end = chunk_bounds(chunk_start, self.ledgers_per_file)
        return max(start, self.run_range[0]), min(end, self.run_range[1])

    def schema(self, table: str) -> pa.Schema:
        return output_schema(get_table(table), self.xdr_encoding, self.include_metadata)

    def writer(self, table: str, schema: pa.Schema, path_for) -> RollingParquetWriter:
        return RollingParquetWriter(
            schema,
            path_for,
            ledger_column(get_table(table)),
            self.compression,
            self.buffer_size,
            self.max_file_bytes,
            dry_run=self.dry_run,
        )


@dataclass(frozen=True)
class PartitionPlan:
    """What committing one (table, partition) will do; everything it renames is already written."""

    table: str
    partition: str
    run_id: str
    seen: tuple[SetKey, ...]  # the sets listed when planning, for the commit-time check
    coverage: tuple[Interval, ...]  # what the committed sets of this run cover
    renames: tuple[tuple[str, str], ...]
    deletes: tuple[str, ...]
    records: tuple[FileRecord, ...] = field(default=())


# --- planning ----------------------------------------------------------------------------------


def existing_sets(final_dir: str, table: str) -> dict[SetKey, list[str]]:
    """The file sets of `table` in one partition directory (foreign files are not the job's)."""
    sets: dict[SetKey, list[str]] = {}
    for path, _ in fs.list_files(final_dir, f"{table}_*.parquet"):
        parsed = filesets.parse_file_name(path.rsplit("/", 1)[-1])
        if parsed is not None and parsed.table == table:
            sets.setdefault(parsed.set_key, []).append(path)
    return sets


def _overlaps(a: Interval, b: Interval) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def _minus(interval: Interval, cuts: Sequence[Interval]) -> list[Interval]:
    out = [interval]
    for cut in cuts:
        out = filesets.subtract(out, cut)
    return out


def _rewrite(layout: Layout, table: str, partition: str, sources: list[str], schema: pa.Schema,
             interval: Interval, shard: int, run_id: str) -> list[TempFile]:
    """The rows of `sources` whose ledger lies in `interval`, as temp files of a set of `run_id`."""
    column = ledger_column(get_table(table))
    temp_dir = fs.join(temp_root(layout.root, layout.run_id), table, partition)

    def path_for(part: int) -> str:
        return fs.join(temp_dir, filesets.file_name(table, interval, run_id, shard, part))

    writer = layout.writer(table, schema, path_for)
    for path in sorted(sources):
        for batch in read_batches(path):
            ledgers = batch.column(column)
            keep = pc.and_(pc.greater_equal(ledgers, interval[0]), pc.less_equal(ledgers, interval[1]))
            writer.write(batch.filter(keep))
    return [
        TempFile(f.path, f.path.rsplit("/", 1)[-1], table, partition, *interval, f.rows, f.bytes, f.sha256,
                 f.ledger_min, f.ledger_max)
        for f in writer.close()
    ]


def _recut(layout: Layout, table: str, partition: str, temps: list[TempFile],
           dead: Sequence[Interval]) -> list[TempFile]:
    """New sets whose coverage holds dead-lettered ledgers, re-cut into sets that leave them out.

    A dead-lettered ledger was not archived by this run, so this run must not claim it: an older
    run's rows of it stay live (the carry keeps them) instead of being retired by an empty claim.
    """
    by_set: dict[tuple[int, int, int], list[TempFile]] = {}
    for t in temps:
        by_set.setdefault((t.first, t.last, _shard_of(t.name)), []).append(t)
    out: list[TempFile] = []
    for (first, last, shard), files in sorted(by_set.items()):
        cuts = [d for d in dead if _overlaps(d, (first, last))]
        if not cuts:
            out.extend(files)
            continue
        schema = layout.schema(table)
        for interval in _minus((first, last), cuts):
            out.extend(_rewrite(layout, table, partition, [t.temp_path for t in files], schema, interval, shard,
                                layout.run_id))
        fs.delete([t.temp_path for t in files])
    return out


def _shard_of(name: str) -> int:
    parsed = filesets.parse_file_name(name)
    return parsed.shard if parsed else 0


def check_run_order(run_id: str, key: SetKey, where: str, own_earlier=None) -> None:
    """Refuses a set of a run sorting at or after `run_id` (own panes, `own_earlier`, are fine)."""
    if key[0] < run_id or (own_earlier is not None and own_earlier(key[0])):
        return  # (a pane's own id: a retried pane commit, which rewrites the same files)
    what = "was already used" if key[0] == run_id else "sorts after it"
    raise RunOrderError(
        f"run id {run_id}: {where} holds ledgers {key[1]}-{key[2]} of run {key[0]}, whose id {what}; "
        "the newest run id wins, so a run must have an id newer than every run in the archive "
        "(leave --run_id out to get one)"
    )


def plan_partition(
    layout: Layout,
    table: str,
    partition: str,
    temps: Sequence[TempFile],
    dead: Sequence[Interval] = (),
    own_earlier=None,
) -> PartitionPlan:
    """Plans the commit of one partition's new sets and stages every file it will make final.

    `dead` are ledger intervals the run dead-lettered; `own_earlier(run_id)` says whether a set is
    an earlier pane of this (streaming) run, which the new set may supersede.
    """
    run_id = layout.run_id
    version = get_table(table).version
    final_dir = fs.join(layout.root, table, partition)
    temps = sorted(temps, key=lambda t: t.name)
    if layout.dry_run:
        records = tuple(
            FileRecord("would_write", fs.join(final_dir, t.name), table, partition, t.first, t.last, t.rows,
                       t.bytes, "", version)
            for t in temps
        )
        return PartitionPlan(table, partition, run_id, (), (), (), (), records)

    existing = existing_sets(final_dir, table)
    for key in sorted(existing):
        check_run_order(run_id, key, f"{table}/{partition}", own_earlier)
    for paths in existing.values():  # every set: one run's files share a schema, two runs' may not
        check_schema(layout, table, sorted(paths)[0])
    if dead:
        temps = _recut(layout, table, partition, temps, dead)

    sets: dict[SetKey, list[str]] = dict(existing)
    for t in temps:
        sets.setdefault((run_id, t.first, t.last), []).append(t.name)
    live = filesets.live_coverage(sets)
    staged = list(temps)
    carried: set[str] = set()
    deletes: list[tuple[SetKey, str]] = []
    for key, paths in sorted(existing.items()):
        if live[key] == [(key[1], key[2])]:
            continue  # untouched by this run
        schema = read_schema(paths[0])
        for interval in live[key]:
            for t in _rewrite(layout, table, partition, paths, schema, interval, 0, run_id):
                staged.append(t)
                carried.add(t.temp_path)
        deletes.extend((key, p) for p in sorted(paths))

    renames, records = [], []
    for t in staged:
        final = fs.join(final_dir, t.name)
        renames.append((t.temp_path, final))
        action = "carried" if t.temp_path in carried else "written"
        records.append(FileRecord(action, final, table, partition, t.first, t.last, t.rows, t.bytes, t.sha256,
                                  version))
    for key, p in deletes:
        records.append(FileRecord("deleted", p, table, partition, key[1], key[2], 0, 0, "", version, run_id))
    coverage = tuple(sorted({(t.first, t.last) for t in staged}))
    return PartitionPlan(table, partition, run_id, tuple(sorted(existing)), coverage, tuple(renames),
                         tuple(p for _, p in deletes), tuple(records))


def check_schema(layout: Layout, table: str, existing_path: str) -> None:
    """An existing file's schema must match, or (schema_evolution) be a prefix-compatible subset."""
    current = layout.schema(table)
    old = read_schema(existing_path)
    old_version = (old.metadata or {}).get(b"stellar.schema_version", b"?").decode()
    if old.remove_metadata().equals(current.remove_metadata()):
        return
    current_fields = {f.name: f.type for f in current}
    old_fields = {f.name: f.type for f in old}
    added = [n for n in current_fields if n not in old_fields]
    removed = [n for n in old_fields if n not in current_fields]
    changed = [f"{n} ({old_fields[n]} -> {t})" for n, t in current_fields.items()
               if n in old_fields and old_fields[n] != t]
    diff = "; ".join(f"{label}: {', '.join(names)}" for label, names in (
        ("added columns", added), ("removed columns", removed), ("changed types", changed)) if names)
    version = get_table(table).version
    if not layout.schema_evolution:
        if old_version == str(version):  # same table version: the run's settings differ from the archive's
            what = (f"table {table!r} was written with other column settings (include_metadata, xdr_encoding) "
                    f"than this run, both schema version {version}")
        else:
            what = f"schema version {old_version} differs from the current version {version} of table {table!r}"
        raise ValueError(f"{existing_path}: {what} ({diff or 'column order'}) and schema_evolution is false")
    if removed or changed:
        # A rerun must never drop columns from an archive (nor retype them): only additions evolve it.
        raise ValueError(
            f"{existing_path}: this run would change table {table!r} ({diff}); schema_evolution allows only "
            "added columns (write with the archive's include_metadata and xdr_encoding, or to a new root)"
        )


# --- applying ----------------------------------------------------------------------------------

LOCK_WAIT_SECONDS = 120.0  # how long a commit waits for another run's commit to finish
LOCK_STALE_SECONDS = 900.0  # a commit lock this old belongs to a run that died while committing
LOCK_POLL_SECONDS = 0.5  # how often a waiting commit tries the lock again


def lock_owner(run_id: str) -> bytes:
    return json.dumps({"run_id": run_id, "host": socket.gethostname(), "pid": os.getpid(),
                       "at": time.time()}).encode()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# Runs this process is running (their launcher registers them): a lock or temporary directory
# recorded by this very process for a run that is not among them was left by a run that failed.
ACTIVE_RUNS: set[str] = set()


def _same_run(a: str, b: str) -> bool:
    """Run ids of one run: equal, or a streaming pane id of it (same random suffix)."""
    return a[-5:] == b[-5:]


def owner_is_dead(info: dict) -> bool:
    """Whether the process (and run) an owner record names is gone; only answerable on the same host."""
    if info.get("pid") == os.getpid() and info.get("host") == socket.gethostname():
        return not any(_same_run(str(info.get("run_id", "")), r) for r in ACTIVE_RUNS)
    return not pid_alive(info["pid"])


def lock_is_stale(info: dict) -> bool:
    if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
        return owner_is_dead(info)
    return time.time() - float(info.get("at", 0)) > LOCK_STALE_SECONDS


def read_json(path: str) -> dict | None:
    """A small JSON object (lock, journal), or None when it is gone or torn."""
    try:
        value = json.loads(fs.read_bytes(path, max_bytes=256 << 20))
    except Exception:  # noqa: BLE001 - absent or half-written: the caller decides
        return None
    return value if isinstance(value, dict) else None


@contextmanager
def commit_lock(root: str, run_id: str) -> Iterator[None]:
    """Holds ``{root}/_locks/commit.lock`` while a run checks and applies its commit.

    Created exclusively (see `fs.create_exclusive`), so two runs never apply at once; a run that
    waited `LOCK_WAIT_SECONDS` for a live holder fails naming it. A lock whose holder died (same
    host and its process is gone, or older than `LOCK_STALE_SECONDS`) is taken over.
    """
    path = fs.join(root, LOCK_DIR, COMMIT_LOCK)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while not fs.create_exclusive(path, lock_owner(run_id)):
        info = read_json(path)
        if info is None or lock_is_stale(info):
            log.warning("taking over the stale commit lock %s (%s)", path, info)
            fs.delete([path])
            continue
        if time.monotonic() > deadline:
            raise ConcurrentRunError(
                f"run {run_id}: the archive's commit lock {path} is held by run {info.get('run_id')} "
                f"(host {info.get('host')}, pid {info.get('pid')}); overlapping runs are refused"
            )
        time.sleep(LOCK_POLL_SECONDS)
    try:
        yield
    finally:
        release_lock(root)


def release_lock(root: str) -> None:
    """Removes the commit lock, and ``_locks/`` with it when no other run has created its lock there meanwhile."""
    fs.delete([fs.join(root, LOCK_DIR, COMMIT_LOCK)])
    fs.remove_empty_dir(fs.join(root, LOCK_DIR))


LIST_TREE_ABOVE = 32  # more planned partitions of one table than this: one recursive listing of the table


def _current_sets(root: str, plans: Sequence[PartitionPlan]) -> dict[tuple[str, str], dict[SetKey, list[str]]]:
    """The sets of every planned partition now, listed per partition or (many partitions) per table."""
    out: dict[tuple[str, str], dict[SetKey, list[str]]] = {(p.table, p.partition): {} for p in plans}
    by_table: dict[str, list[str]] = {}
    for p in plans:
        by_table.setdefault(p.table, []).append(p.partition)
    for table, partitions in by_table.items():
        if len(partitions) <= LIST_TREE_ABOVE:
            for partition in partitions:
                out[(table, partition)] = existing_sets(fs.join(root, table, partition), table)
            continue
        table_dir = fs.join(root, table)
        for path, _ in fs.list_tree(table_dir):
            name = path.replace(os.sep, "/").rsplit("/", 1)[-1]
            parsed = filesets.parse_file_name(name)
            partition = path[len(table_dir) + 1 : -len(name) - 1].replace(os.sep, "/")
            if parsed is not None and parsed.table == table and (table, partition) in out:
                out[(table, partition)].setdefault(parsed.set_key, []).append(path)
    return out


def _check_unchanged(plan: PartitionPlan, current: dict[SetKey, list[str]]) -> None:
    """The commit-time check: nothing overlapping the plan was committed by another run since planning."""
    seen = set(plan.seen)
    for key in sorted(current):
        if key in seen or key[0] == plan.run_id:
            continue
        if key[0] > plan.run_id or any(_overlaps((key[1], key[2]), c) for c in plan.coverage):
            raise ConcurrentRunError(
                f"run {plan.run_id}: run {key[0]} committed ledgers {key[1]}-{key[2]} of "
                f"{plan.table}/{plan.partition} while this run was running; overlapping runs are refused and "
                "this run made nothing final (rerun it once the other run has finished)"
            )
    present = {p for paths in current.values() for p in paths}
    for p in plan.deletes:
        if p not in present:
            raise ConcurrentRunError(
                f"run {plan.run_id}: {p} was removed by another run while this run was running; overlapping "
                "runs are refused and this run made nothing final"
            )


def apply_plans(root: str, run_id: str, plans: Sequence[PartitionPlan], writes: dict[str, bytes] | None = None,
                before_journal=None, scope: tuple[str, str] | None = None,
                table_format: dict | None = None) -> None:
    """Makes a run's plans final, all or nothing: check, journal (the commit point), then carry out.

    `writes` are small files written with the commit (the manifest, the dead letters);
    `before_journal()` runs under the lock just before the commit point (tests use it).
    `scope`, a (table, partition) that is one of several commits under the same run id (a streaming
    pane id is shared by every partition's pane of that index): the journal is that partition's own,
    and carrying it out removes only that partition's temporary files, not the other partitions'
    files still waiting for their commit.
    `table_format` (`table_formats.TableFormat.as_dict()`): the Delta or Iceberg tables to commit the
    file changes to, recorded in the journal so that a roll-forward after a crash commits them too.
    """
    journal_file = journal_path(root, run_id, scope)
    with commit_lock(root, run_id):
        done = read_json(journal_file)
        if done is not None:  # a retried finalize: the commit point was passed already
            roll_forward(root, done)
            return
        current = _current_sets(root, plans)
        try:
            for plan in plans:
                _check_unchanged(plan, current[(plan.table, plan.partition)])
        except ConcurrentRunError:
            if _already_applied(plans, writes):
                return  # a retried bundle of a commit that completed: nothing left to do
            raise
        journal = {
            "journal_version": JOURNAL_VERSION,
            "run_id": run_id,
            "renames": [list(r) for plan in plans for r in plan.renames],
            "deletes": [p for plan in plans for p in plan.deletes],
            "writes": {p: base64.b64encode(data).decode() for p, data in (writes or {}).items()},
            "journal": journal_file,
            "cleanup": fs.join(temp_root(root, run_id), *scope) if scope else temp_root(root, run_id),
        }
        if table_format:
            journal["table_format"] = table_format
        if before_journal is not None:
            before_journal()
        fs.write_bytes(journal_file, json.dumps(journal).encode())
        roll_forward(root, journal)


RENAME_THREADS = 16  # renames are independent; object stores take ~0.1 s each (copy + delete)


def _already_applied(plans: Sequence[PartitionPlan], writes: dict[str, bytes] | None) -> bool:
    """Whether these plans were carried out already (every file moved, every small file written)."""
    renames = [r for plan in plans for r in plan.renames]
    return (
        bool(renames or writes)
        and all(fs.exists(dst) and not fs.exists(src) for src, dst in renames)
        and all(fs.exists(p) for p in writes or {})
    )


def roll_forward(root: str, journal: dict) -> None:
    """Carries out a journal; every step is idempotent, so a crash anywhere can be rolled forward again.

    All renames happen before any delete, so an interrupted roll-forward never leaves a ledger with
    no rows: at worst old and new sets side by side until the journal is completed. A table format's
    transaction (Delta, Iceberg) comes between the two: the files it adds are in place and the files
    it removes still exist, so its readers never see a table listing a missing file.
    """

    def move(pair: list[str]) -> None:
        src, dst = pair
        if fs.exists(src):
            fs.rename(src, dst)
        elif not fs.exists(dst):
            raise CommitError(f"run {journal.get('run_id')}: {src} and {dst} are both missing; the journal "
                              f"{own_journal} cannot be completed")

    own_journal = journal.get("journal") or journal_path(root, journal["run_id"])

    renames = journal.get("renames", [])
    if len(renames) > 1 and not fs.is_local(root):
        with ThreadPoolExecutor(RENAME_THREADS) as pool:
            list(pool.map(move, renames))
    else:
        for pair in renames:
            move(pair)
    table_formats.sync_journal(root, journal)
    fs.delete(list(journal.get("deletes", [])))
    for path, text in journal.get("writes", {}).items():
        fs.write_bytes(path, base64.b64decode(text))
    cleanup = journal.get("cleanup") or temp_root(root, journal["run_id"])
    fs.delete_tree(cleanup)
    fs.remove_empty_parents(cleanup, fs.join(root, TEMP_DIR))  # a scoped commit's pane and table directories
    fs.delete([own_journal])
    fs.remove_empty_dir(fs.join(root, COMMIT_DIR))  # journals are written under the lock: none is on its way


def run_started(run_id: str) -> float:
    """A run id's start time (seconds since the epoch); 0 for ids that are not the job's."""
    try:
        return datetime.strptime(run_id[1:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return 0.0
