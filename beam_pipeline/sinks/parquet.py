"""WriteHivePartitionedParquet (the ``SaveToParquet`` consumer): Hive-partitioned Parquet tables, exact
under reruns and overlapping runs.

    chunks --KeyByFile--> ((table, partition, chunk, shard), chunk)
           --GroupByFile--> --WriteTempFiles--> ((table, partition), TempFile)   files under _temporary/
           --GroupByPartition--> --PlanPartition--> PartitionPlan                carried rows staged too
    (manifest.FinalizeRun applies every plan at once: renamed into place, superseded files deleted)

Writers only ever write below ``{root}/_temporary/{run_id}/``; planning (`commit.plan_partition`)
stages every file the commit makes final there too, and only once every partition of every table
is planned does the run apply its plans (`commit.apply_plans`): all or nothing, after a check that
no other run committed overlapping files meanwhile. Files move into ``{root}/{table}/{partition}/``
by rename (readers never see a half-written file) under the newest-set-wins rule of `filesets`.
`fileio.WriteToFiles`
and `WriteToParquet` are not used: the first leaves temp files behind when destinations have
sub-directories on local disk, the second has no dynamic destinations.
"""

from __future__ import annotations

import logging
import re
import time

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindows

from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.handoff import TableChunk, chunk_to_batch
from beam_pipeline.sinks import commit, filesets
from beam_pipeline.sinks.commit import Layout, TempFile, temp_root
from beam_pipeline.sinks.partitioning import file_group
from beam_pipeline.util import fs

log = logging.getLogger(__name__)


class _WriteTempFilesFn(beam.DoFn):
    # A failed write (a dropped connection to the object store, a full local disk that frees up)
    # is retried by rewriting the whole file set: temp names are deterministic, so a retry
    # overwrites any partial file, and nothing outside _temporary/ is touched before the commit.
    WRITE_ATTEMPTS = 3
    RETRY_WAIT = 0.5

    def __init__(self, layout: Layout):
        self._layout = layout
        self._retries = Metrics.counter(NAMESPACE, "write_retries")

    def process(self, element):
        (table, partition, chunk_start, shard), chunks = element
        layout = self._layout
        coverage = layout.coverage(chunk_start)
        for attempt in range(1, self.WRITE_ATTEMPTS + 1):
            try:
                written = self._write(table, partition, coverage, shard, chunks)
                break
            except Exception as e:  # noqa: BLE001 - bounded; the last failure is raised
                if attempt == self.WRITE_ATTEMPTS:
                    raise
                self._retries.inc()
                log.warning("writing %s %s %s-%s failed (%s); retry %d/%d", table, partition, *coverage, e,
                            attempt, self.WRITE_ATTEMPTS - 1)
                time.sleep(self.RETRY_WAIT * attempt)
        for f in written:
            yield (table, partition), TempFile(
                f.path, f.path.rsplit("/", 1)[-1], table, partition, *coverage,
                f.rows, f.bytes, f.sha256, f.ledger_min, f.ledger_max,
            )

    def _write(self, table, partition, coverage, shard, chunks):
        """Writes one file set to temp files; GroupByKey values are re-iterable, so a retry can reread."""
        layout = self._layout
        schema = layout.schema(table)
        temp_dir = fs.join(temp_root(layout.root, layout.run_id), table, partition)

        def path_for(part: int) -> str:
            return fs.join(temp_dir, filesets.file_name(table, coverage, layout.run_id, shard, part))

        writer = layout.writer(table, schema, path_for)
        for chunk in chunks:
            writer.write(chunk_to_batch(chunk, schema))
        return writer.close()


class _PlanPartitionFn(beam.DoFn):
    """Stages a partition's commit (`commit.plan_partition`); nothing is final until the run applies."""

    def __init__(self, layout: Layout):
        self._layout = layout
        self._files = Metrics.counter(NAMESPACE, "files_written")
        self._bytes = Metrics.counter(NAMESPACE, "bytes_written")
        self._replaced = Metrics.counter(NAMESPACE, "files_replaced")

    def process(self, element, dead_letters=()):
        (table, partition), temps = element
        dead = dead_intervals(dead_letters, self._layout.run_range)
        plan = commit.plan_partition(self._layout, table, partition, list(temps), dead)
        for r in plan.records:
            if r.action == "deleted":
                self._replaced.inc()
            else:
                self._files.inc()
                self._bytes.inc(r.bytes)
        yield plan


_OBJECT_RANGE = re.compile(r"--(\d+)(?:-(\d+))?\.xdr\b")
_RPC_LEDGER = re.compile(r" ledger (\d+)$")


def dead_intervals(dead_letters, run_range: tuple[int, int]) -> list[tuple[int, int]]:
    """The ledgers a run's dead letters leave unarchived: the failed object's range, or the ledger.

    A dead letter naming neither (nothing to bound it by) withholds the whole run range: the run
    then retires no older rows at all, rather than guessing which ones it really replaced.
    """
    out = []
    for d in dead_letters:
        m = _OBJECT_RANGE.search(d.unit.rsplit("/", 1)[-1])
        r = _RPC_LEDGER.search(d.unit)
        if m:
            first = int(m[1])
            interval = (first, int(m[2]) if m[2] else first)
        elif r:
            interval = (int(r[1]), int(r[1]))
        elif d.ledger is not None:
            interval = (d.ledger, d.ledger)
        else:
            interval = run_range
        out.append((max(interval[0], run_range[0]), min(interval[1], run_range[1])))
    return sorted({i for i in out if i[0] <= i[1]})


class WriteHivePartitionedParquet(beam.PTransform):
    """Timestamped TableChunks -> staged Parquet files; returns the run's `commit.PartitionPlan`s."""

    def __init__(self, cfg: ParquetSinkConfig, run_id: str, run_range: tuple[int, int]):
        super().__init__()
        self._layout = Layout(cfg, run_id, run_range)

    def expand(self, pcolls):
        """`pcolls`: the chunks, or (chunks, dead letters) so that dead-lettered ledgers stay uncovered."""
        chunks, dead = pcolls if isinstance(pcolls, tuple) else (pcolls, None)
        layout = self._layout
        side = {}
        if dead is not None:
            dead = dead | "DeadLettersGlobally" >> beam.WindowInto(GlobalWindows())
            side["dead_letters"] = beam.pvalue.AsList(dead)
        return (
            chunks
            | "KeyByFile" >> beam.Map(_file_key, layout.scheme, layout.ledgers_per_file, layout.num_shards)
            | "GroupByFile" >> beam.GroupByKey()
            | "WriteTempFiles" >> beam.ParDo(_WriteTempFilesFn(layout))
            | "GroupByPartition" >> beam.GroupByKey()
            | "PlanPartition" >> beam.ParDo(_PlanPartitionFn(layout), **side)
        )


def _file_key(chunk: TableChunk, scheme: str, ledgers_per_file: int, num_shards: int):
    return (chunk.table, *file_group(scheme, ledgers_per_file, num_shards, chunk.ledger, chunk.close_time)), chunk
