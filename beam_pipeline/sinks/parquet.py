"""SaveToParquet: Hive-partitioned Parquet tables, exact under reruns and overlapping runs.

    chunks --KeyByFile--> ((table, partition, chunk, shard), chunk)
           --GroupByFile--> --WriteTempFiles--> ((table, partition), TempFile)   files under _temporary/
           --GroupByPartition--> --CommitPartition--> FileRecord                  renamed into place

Writers only ever write below ``{root}/_temporary/{run_id}/``; the commit step moves finished
files into ``{root}/{table}/{partition}/`` (a rename: readers never see a half-written file) and
applies the newest-set-wins rule of `filesets` to what was there before. `fileio.WriteToFiles`
and `WriteToParquet` are not used: the first leaves temp files behind when destinations have
sub-directories on local disk, the second has no dynamic destinations.
"""

from __future__ import annotations

import logging
import time
from typing import NamedTuple

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.metrics import Metrics

from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.decode import TableChunk, chunk_to_batch
from beam_pipeline.records import get_table
from beam_pipeline.records.base import ledger_column, output_schema
from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.parquet_files import RollingParquetWriter, read_batches, read_schema
from beam_pipeline.sinks.partitioning import chunk_bounds, file_group
from beam_pipeline.util import fs

log = logging.getLogger(__name__)

TEMP_DIR = "_temporary"


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


class _Layout:
    """Picklable settings shared by the sink's DoFns."""

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


class _WriteTempFilesFn(beam.DoFn):
    # A failed write (a dropped connection to the object store, a full local disk that frees up)
    # is retried by rewriting the whole file set: temp names are deterministic, so a retry
    # overwrites any partial file, and nothing outside _temporary/ is touched before the commit.
    WRITE_ATTEMPTS = 3
    RETRY_WAIT = 0.5

    def __init__(self, layout: _Layout):
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


class _CommitPartitionFn(beam.DoFn):
    """Moves a partition's new files into place and retires what they supersede."""

    def __init__(self, layout: _Layout):
        self._layout = layout
        self._files = Metrics.counter(NAMESPACE, "files_written")
        self._bytes = Metrics.counter(NAMESPACE, "bytes_written")
        self._replaced = Metrics.counter(NAMESPACE, "files_replaced")

    def process(self, element):
        (table, partition), temps = element
        layout = self._layout
        version = get_table(table).version
        final_dir = fs.join(layout.root, table, partition)
        temps = sorted(temps, key=lambda t: t.name)
        for t in temps:
            self._files.inc()
            self._bytes.inc(t.bytes)
        if layout.dry_run:
            for t in temps:
                path = fs.join(final_dir, t.name)
                yield FileRecord("would_write", path, table, partition, t.first, t.last, t.rows, t.bytes, "", version)
            return

        existing: dict[tuple, list[str]] = {}
        for path, _ in fs.list_files(final_dir, f"{table}_*.parquet"):
            parsed = filesets.parse_file_name(path.rsplit("/", 1)[-1])
            if parsed is not None and parsed.table == table and parsed.run_id != layout.run_id:
                existing.setdefault(parsed.set_key, []).append(path)
        if existing:
            self._check_schema(table, next(iter(existing.values()))[0])

        for t in temps:
            final = fs.join(final_dir, t.name)
            fs.rename(t.temp_path, final)
            yield FileRecord("written", final, table, partition, t.first, t.last, t.rows, t.bytes, t.sha256, version)

        sets = dict(existing)
        for t in temps:
            sets.setdefault((layout.run_id, t.first, t.last), []).append(t.name)
        live = filesets.live_coverage(sets)
        for key, paths in sorted(existing.items()):
            run, first, last = key
            if live[key] == [(first, last)]:
                continue  # untouched by this run
            for interval in live[key]:
                yield from self._carry(table, partition, final_dir, paths, interval, version)
            filesets_paths = sorted(paths)
            fs.delete(filesets_paths)
            self._replaced.inc(len(filesets_paths))
            for p in filesets_paths:
                yield FileRecord("deleted", p, table, partition, first, last, 0, 0, "", version, layout.run_id)

    def _carry(self, table, partition, final_dir, paths, interval, version):
        """Rewrites the rows of `paths` whose ledger lies in `interval` as a set of this run."""
        layout = self._layout
        column = ledger_column(get_table(table))
        schema = read_schema(paths[0])
        temp_dir = fs.join(temp_root(layout.root, layout.run_id), table, partition)
        names = {}

        def path_for(part: int) -> str:
            names[part] = filesets.file_name(table, interval, layout.run_id, 0, part)
            return fs.join(temp_dir, names[part])

        writer = layout.writer(table, schema, path_for)
        for path in sorted(paths):
            for batch in read_batches(path):
                ledgers = batch.column(column)
                keep = pc.and_(pc.greater_equal(ledgers, interval[0]), pc.less_equal(ledgers, interval[1]))
                writer.write(batch.filter(keep))
        for f in writer.close():
            final = fs.join(final_dir, f.path.rsplit("/", 1)[-1])
            fs.rename(f.path, final)
            self._files.inc()
            self._bytes.inc(f.bytes)
            yield FileRecord("carried", final, table, partition, *interval, f.rows, f.bytes, f.sha256, version)

    def _check_schema(self, table: str, existing_path: str) -> None:
        """An existing file's schema must match, or (schema_evolution) be a prefix-compatible subset."""
        current = self._layout.schema(table)
        old = read_schema(existing_path)
        old_version = (old.metadata or {}).get(b"stellar.schema_version", b"?").decode()
        if old.remove_metadata().equals(current.remove_metadata()):
            return
        if not self._layout.schema_evolution:
            raise ValueError(
                f"{existing_path}: schema version {old_version} differs from the current version "
                f"{get_table(table).version} of table {table!r} and schema_evolution is false"
            )
        current_fields = {f.name: f.type for f in current}
        for f in old:
            if f.name in current_fields and current_fields[f.name] != f.type:
                raise ValueError(
                    f"{existing_path}: column {f.name!r} changed type from {f.type} to {current_fields[f.name]}; "
                    "schema_evolution allows only added columns"
                )


class WriteHivePartitionedParquet(beam.PTransform):
    """Timestamped TableChunks -> committed Parquet files; returns the FileRecords of the run."""

    def __init__(self, cfg: ParquetSinkConfig, run_id: str, run_range: tuple[int, int]):
        super().__init__()
        self._layout = _Layout(cfg, run_id, run_range)

    def expand(self, chunks):
        layout = self._layout
        return (
            chunks
            | "KeyByFile" >> beam.Map(_file_key, layout.scheme, layout.ledgers_per_file, layout.num_shards)
            | "GroupByFile" >> beam.GroupByKey()
            | "WriteTempFiles" >> beam.ParDo(_WriteTempFilesFn(layout))
            | "GroupByPartition" >> beam.GroupByKey()
            | "CommitPartition" >> beam.ParDo(_CommitPartitionFn(layout))
        )


def _file_key(chunk: TableChunk, scheme: str, ledgers_per_file: int, num_shards: int):
    return (chunk.table, *file_group(scheme, ledgers_per_file, num_shards, chunk.ledger, chunk.close_time)), chunk
