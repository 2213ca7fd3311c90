"""SaveToParquet while following the chain: hourly (or daily) partitions written pane by pane.

    chunks --WindowInto(FixedWindows, AfterWatermark(early=every rotation interval, late=each element),
                        DISCARDING, allowed lateness)
           --KeyByPartition--> ((table, partition), chunk) --GroupByPartition--> --CommitPane--> FileRecord

**Discarding panes, accumulated through the archive.** A pane carries only the rows that arrived
since the previous firing, so the runner's window state never holds more than one rotation interval
of rows (accumulating panes would keep a whole hour of Arrow batches per table in state and re-send
it on every firing). The pane's commit then rebuilds the partition's file set itself: it reads what
the archive already holds for the pane's ledger span (the earlier panes of this run, and any older
run's rows there), adds the pane's rows, and writes *one* new set whose coverage is the whole span.
That set is named with a *pane run id* (`pane_run_id`): the run id advanced by ``pane.index + 1``
microseconds, so it sorts after this run's earlier panes and before any later run. The pane is
then planned and applied as one commit (`commit.plan_partition`, `commit.apply_plans`), with the
newest-set-wins rule as in batch: the previous pane's
set is fully covered and deleted, older runs' sets are deleted or carried. After any pane, and in
particular after the final one, a partition holds each ledger's rows exactly once, in one file set
(plus rolled parts) instead of one set per firing.

Coverage comes from the pane's data (its ledgers and the span this run already wrote), not from
the run's fixed range, which an unbounded run does not have.

Restart: `resume_ledger` finds where a stopped tail should start again (see docs/streaming.md).
"""

from __future__ import annotations

import copy
import logging
from datetime import datetime, timedelta, timezone

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.transforms import trigger as triggers
from apache_beam.transforms.window import FixedWindows, GlobalWindows
from apache_beam.utils.timestamp import Duration

from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.handoff import TableChunk, chunk_to_batch
from beam_pipeline.records import get_table
from beam_pipeline.records.base import ledger_column
from beam_pipeline.sinks import commit, filesets
from beam_pipeline.sinks.commit import FileRecord, Layout, TempFile, temp_root
from beam_pipeline.sinks.manifest import RunInfo, finalize_streaming
from beam_pipeline.sinks.parquet_files import read_batches
from beam_pipeline.sinks.partitioning import WINDOW_SECONDS, partition_path
from beam_pipeline.util import fs

log = logging.getLogger(__name__)

MAX_PANES = 999_999  # pane ids stay within one second of the run id, far below the next run's id
_RUN_TIME = "%Y%m%dT%H%M%S%f"


# --- windowing ---------------------------------------------------------------------------------


def streaming_windowing(sink: ParquetSinkConfig, early_panes: bool = True) -> beam.WindowInto:
    """Event-time windows matching the partitions, firing early every rotation interval.

    Early panes (processing time, ``rotation_interval_minutes``; none when 0) make fresh rows
    visible before the hour ends; the on-time pane fires when the source's watermark (the close
    time of the newest ledger read) passes the end of the hour; each late element within
    ``allowed_lateness_minutes`` fires a late pane; later ones are dropped by the runner.

    `early_panes` False leaves the processing-time trigger out, for the in-process FnApiRunner: it
    groups batch-style (one pass after all input), has no processing-time clock for triggers and
    fails on one, and would have nothing to fire early anyway.
    """
    seconds = WINDOW_SECONDS.get(sink.partition_by)
    if seconds is None:
        raise ValueError(
            f"partition_by {sink.partition_by!r} cannot be used while following the chain: ledger_range "
            "partitions have no event-time end to close at; use hour or ledger_day"
        )
    rotation = sink.rotation_interval_minutes * 60
    # Whole seconds: the runner API encodes the delay as an integer (a float fails to translate).
    early = triggers.AfterProcessingTime(max(1, round(rotation))) if rotation > 0 and early_panes else None
    return beam.WindowInto(
        FixedWindows(seconds),
        trigger=triggers.AfterWatermark(early=early, late=triggers.AfterCount(1)),
        accumulation_mode=triggers.AccumulationMode.DISCARDING,
        allowed_lateness=Duration(seconds=int(sink.allowed_lateness_minutes * 60)),
    )


# --- pane naming -------------------------------------------------------------------------------


def _split_run_id(run_id: str) -> tuple[datetime, str]:
    stamp, suffix = run_id[1:].split("Z")
    return datetime.strptime(stamp, _RUN_TIME).replace(tzinfo=timezone.utc), suffix


def pane_run_id(run_id: str, pane_index: int) -> str:
    """The run id of one pane's file set: newer than the run's earlier panes, older than later runs."""
    if not 0 <= pane_index < MAX_PANES:
        raise ValueError(f"pane index {pane_index} out of range 0..{MAX_PANES - 1}")
    when, suffix = _split_run_id(run_id)
    return "r" + (when + timedelta(microseconds=pane_index + 1)).strftime(_RUN_TIME) + "Z" + suffix


def is_pane_of(candidate: str, run_id: str) -> bool:
    """Whether a set's run id is a pane id of `run_id` (or the run id itself)."""
    try:
        when, suffix = _split_run_id(candidate)
        base, base_suffix = _split_run_id(run_id)
    except ValueError:
        return False
    return suffix == base_suffix and timedelta(0) <= when - base <= timedelta(microseconds=MAX_PANES)


# --- writing a pane ----------------------------------------------------------------------------


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Rows of an older file in the current schema (columns added since are null)."""
    columns = []
    for f in schema:
        i = batch.schema.get_field_index(f.name)
        columns.append(batch.column(i).cast(f.type) if i >= 0 else pa.nulls(batch.num_rows, f.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class _CommitPaneFn(beam.DoFn):
    """One pane of one (table, partition): rebuild the span's file set with the pane's rows, commit it."""

    def __init__(self, layout: Layout):
        self._layout = layout

    def process(self, element, pane=beam.DoFn.PaneInfoParam):
        (table, partition), chunks = element
        chunks = sorted(chunks, key=lambda c: c.ledger)
        if not chunks:
            return
        layout = self._layout
        pane_id = pane_run_id(layout.run_id, pane.index)
        final_dir = fs.join(layout.root, table, partition)
        sets = commit.existing_sets(final_dir, table)
        delta = sorted({c.ledger for c in chunks})
        mine = [k for k in sets if is_pane_of(k[0], layout.run_id)]
        span = (min([delta[0]] + [k[1] for k in mine]), max([delta[-1]] + [k[2] for k in mine]))

        schema = layout.schema(table)
        temp_dir = fs.join(temp_root(layout.root, pane_id), table, partition)

        def path_for(part: int) -> str:
            return fs.join(temp_dir, filesets.file_name(table, span, pane_id, 0, part))

        writer = layout.writer(table, schema, path_for)
        column = ledger_column(get_table(table))
        fresh = pa.array(delta, pa.int64())
        live = filesets.live_coverage(sets)
        for key in sorted(sets):
            for a, b in live[key]:
                lo, hi = max(a, span[0]), min(b, span[1])
                if lo > hi:
                    continue
                for path in sorted(sets[key]):
                    for batch in read_batches(path):
                        ledgers = batch.column(column).cast(pa.int64())
                        keep = pc.and_(
                            pc.and_(pc.greater_equal(ledgers, lo), pc.less_equal(ledgers, hi)),
                            pc.invert(pc.is_in(ledgers, value_set=fresh)),
                        )
                        writer.write(_conform(batch.filter(keep), schema))
        for chunk in chunks:
            writer.write(chunk_to_batch(chunk, schema))
        temps = [
            TempFile(f.path, f.path.rsplit("/", 1)[-1], table, partition, *span, f.rows, f.bytes, f.sha256,
                     f.ledger_min, f.ledger_max)
            for f in writer.close()
        ]
        pane_layout = copy.copy(layout)
        pane_layout.run_id = pane_id
        plan = commit.plan_partition(pane_layout, table, partition, temps,
                                     own_earlier=lambda run: is_pane_of(run, layout.run_id))
        if not layout.dry_run:
            commit.apply_plans(layout.root, pane_id, [plan], scope=(table, partition))
        yield from plan.records


class WriteStreamingParquet(beam.PTransform):
    """Windowed, triggered TableChunks -> FileRecords of every pane's commit."""

    def __init__(self, cfg: ParquetSinkConfig, run_id: str):
        super().__init__()
        # The run range is unused: coverage comes from each pane's ledgers.
        self._layout = Layout(cfg, run_id, (0, 0))

    def expand(self, chunks):
        layout = self._layout
        return (
            chunks
            | "KeyByPartition" >> beam.Map(_partition_key, layout.scheme, layout.ledgers_per_file)
            | "GroupByPartition" >> beam.GroupByKey()
            | "CommitPane" >> beam.ParDo(_CommitPaneFn(layout))
        )


def _partition_key(chunk: TableChunk, scheme: str, ledgers_per_file: int):
    return (chunk.table, partition_path(scheme, chunk.close_time, chunk.ledger, ledgers_per_file)), chunk


def net_file_records(records: list[FileRecord]) -> list[FileRecord]:
    """The run's net effect: files one pane wrote and a later pane replaced are left out of the manifest."""
    replaced = {r.path for r in records if r.action == "deleted"}
    transient = {r.path for r in records if r.action in ("written", "carried") and r.path in replaced}
    return [r for r in records if r.path not in transient]


def _at_end() -> beam.WindowInto:
    """One global pane when the input ends: the end ledger is read, or the job is drained.

    Explicitly `AfterWatermark`: Beam refuses the default trigger on an unbounded global window,
    although on the global window both fire exactly once, at the end.
    """
    return beam.WindowInto(
        GlobalWindows(), trigger=triggers.AfterWatermark(), accumulation_mode=triggers.AccumulationMode.DISCARDING
    )


class FinalizeStreamingRun(beam.PTransform):
    """(files, dead letters) -> the run's manifest, written when the stream ends or is drained.

    Like `manifest.FinalizeRun`, but the run's net files: a pane's set replaced by a later pane of
    the same run is neither listed nor reported as replaced. A cancelled job writes no manifest;
    the archive is still exact and `resume_ledger` needs none.
    """

    def __init__(self, run: RunInfo):
        super().__init__()
        self._run = run

    def expand(self, pcolls):
        files, dead = pcolls
        # Without defaults: Beam cannot invent an empty result for an unbounded input, so a run that
        # committed no file at all writes no manifest (documented in docs/streaming.md).
        all_files = (
            files
            | "FilesAtEnd" >> _at_end()
            | "CollectFiles" >> beam.CombineGlobally(beam.combiners.ToListCombineFn()).without_defaults()
            | "DropReplaced" >> beam.Map(net_file_records)
        )
        all_dead = dead | "DeadAtEnd" >> _at_end()
        return all_files | "WriteManifest" >> beam.Map(finalize_streaming, beam.pvalue.AsList(all_dead), self._run)


# --- restart -----------------------------------------------------------------------------------


def resume_ledger(
    root: str, tables: tuple[str, ...] | list[str], windows_back: int = 1, start: int | None = None
) -> int | None:
    """Where a stopped tail starts again: never past a ledger from `start` on that the archive lacks.

    Without `start`: the first live ledger of the newest partitions. The newest partition of any
    table (and `windows_back` partitions before it, because a tail that was cancelled rather than
    drained may have committed early panes of the new hour while the previous hour's last pane was
    still pending) is re-archived from its first live ledger; re-archiving supersedes those sets
    ledger by ledger, so a restart neither loses nor duplicates rows.

    With `start` (the configured start): the archive's coverage only counts where it is contiguous
    from `start` on. A backfill of 1410060-1410067 must not make a tail configured from 1410048
    skip 1410048-1410059: the result is at most the first ledger from `start` on that no set of the
    `ledgers` table (the one table with rows for every ledger; else any of `tables`) covers.
    None when the archive holds none of these tables.
    """
    by_partition: dict[str, dict[str, dict[tuple, list[str]]]] = {}
    for table in tables:
        table_dir = fs.join(root, table)
        for path, _ in fs.list_tree(table_dir):
            name = path.rsplit("/", 1)[-1]
            parsed = filesets.parse_file_name(name)
            if parsed is None or parsed.table != table:
                continue
            partition = path[len(table_dir) + 1 : -len(name) - 1]
            by_partition.setdefault(partition, {}).setdefault(table, {}).setdefault(parsed.set_key, []).append(path)
    if not by_partition:
        return None
    newest = sorted(by_partition)[-(windows_back + 1) :]
    firsts = []
    for partition in newest:
        for sets in by_partition[partition].values():
            for intervals in filesets.live_coverage(sets).values():
                firsts.extend(a for a, _ in intervals)
    resume = min(firsts) if firsts else None
    if start is None or resume is None:
        return resume
    return min(resume, _first_gap(by_partition, tables, start))


def _first_gap(by_partition: dict, tables, start: int) -> int:
    """The first ledger from `start` on that no live set covers (of `ledgers`, else of any table)."""
    counted = ["ledgers"] if "ledgers" in tables else list(tables)
    covered: list[tuple[int, int]] = []
    for per_table in by_partition.values():
        for table in counted:
            for intervals in filesets.live_coverage(per_table.get(table, {})).values():
                covered.extend(intervals)
    gap = start
    for a, b in sorted(covered):
        if a > gap:
            break
        gap = max(gap, b + 1)
    return gap
