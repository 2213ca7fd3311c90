"""Run-wide deduplication of the tables that are one row per key, not one per ledger (``assets``).

stellar-etl's ``export_assets`` writes each ``asset_id`` once per run, the row of the first ledger
that mentions it, with a set in one process. Here the decode step gives each ledger's rows (once
per key within the ledger) and this composite keeps, per key, the row with the lowest
(ledger, position in that ledger's rows) with a Beam combine, so the answer does not depend on
the runner, the number of workers or the order bundles arrive in:

    chunks --Partition--> chunks of deduplicated tables --Reshuffle--> --KeyRows--> ((table, key), row)
           --CombinePerKey(first mention)--> --RowToChunk--> one-row TableChunks --Flatten with the rest

The Reshuffle is there because local runs spill chunk payloads to files that the decode bundle
closes only when it ends (`util/spill.py`): reading them must happen in a later stage.

Batch: one global combine over the whole run; each surviving row is re-timestamped at its chunk's
close time so the sink's windows and partitions see it where its ledger is.

Streaming (following the chain): a run never ends, so the combine is per event-time window, the
sink's partition windows (an hour or a day): each partition lists every key mentioned in it once,
at its first ledger in that window; a key of an earlier hour is listed again in each later hour
that mentions it. The combine fires when the watermark passes the end of the window (not every
rotation interval: these rows appear when their hour closes), accumulating, so a late ledger
refires the window with all its keys, which replace the earlier pane's rows of the same ledgers;
only a late ledger that moves a key's first mention earlier leaves the later row as well. The
rows keep the end-of-window timestamp and go back to the global window for the sink's windowing.
"""

from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger as triggers
from apache_beam.transforms.window import FixedWindows, GlobalWindows, TimestampCombiner, TimestampedValue
from apache_beam.utils.timestamp import Duration

from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.handoff import ChunkPacker, TableChunk, chunk_to_batch
from beam_pipeline.records import get_table
from beam_pipeline.records.base import ledger_column, output_schema
from beam_pipeline.sinks.partitioning import WINDOW_SECONDS


def deduplicated_tables(tables: Iterable[str]) -> tuple[str, ...]:
    """The tables among `tables` that are deduplicated over the run (have a ``dedupe_key``)."""
    return tuple(t for t in tables if get_table(t).dedupe_key)


class _DedupeFn(beam.DoFn):
    """Holds the deduplicated tables' stored schemas and their row counters."""

    def __init__(self, tables: tuple[str, ...], xdr_encoding: str, include_metadata: bool):
        self._tables = tables
        self._xdr_encoding = xdr_encoding
        self._include_metadata = include_metadata

    def setup(self):
        self._schemas = {
            t: output_schema(get_table(t), self._xdr_encoding, self._include_metadata) for t in self._tables
        }
        # The decode step counted every row; rows dropped here are taken back, survivors counted once.
        self._rows = {t: Metrics.counter(NAMESPACE, f"rows_{t}") for t in self._tables}


class _KeyRowsFn(_DedupeFn):
    """A chunk of a deduplicated table -> ((table, key), (ledger, position, close_time, row)) per row."""

    def process(self, chunk: TableChunk):
        table = get_table(chunk.table)
        rows = chunk_to_batch(chunk, self._schemas[chunk.table]).to_pylist()
        self._rows[chunk.table].dec(len(rows))
        ledger_col = ledger_column(table)
        for position, row in enumerate(rows):
            yield (chunk.table, row[table.dedupe_key]), (row[ledger_col], position, chunk.close_time, row)


def first_mention(values: Iterable[tuple]) -> tuple:
    """The value of the lowest (ledger, position): associative and commutative, so Beam may pre-combine."""
    return min(values, key=lambda v: (v[0], v[1]))


class _RowToChunkFn(_DedupeFn):
    """((table, key), surviving row) -> a one-row TableChunk at its ledger."""

    def __init__(self, tables: tuple[str, ...], xdr_encoding: str, include_metadata: bool, retimestamp: bool):
        super().__init__(tables, xdr_encoding, include_metadata)
        self._retimestamp = retimestamp

    def setup(self):
        super().setup()
        self._packer = ChunkPacker()  # in memory: this step's output is small and not spilled

    def process(self, element):
        (table, _), (ledger, _, close_time, row) = element
        batch = pa.RecordBatch.from_pylist([row], schema=self._schemas[table])
        chunk = TableChunk(table, ledger, close_time, 1, self._packer.pack(batch))
        self._rows[table].inc()
        yield TimestampedValue(chunk, close_time) if self._retimestamp else chunk


def _streaming_windows(sink: ParquetSinkConfig) -> beam.WindowInto:
    """The sink's partition windows, one accumulating pane at the watermark (and one per late element)."""
    return beam.WindowInto(
        FixedWindows(WINDOW_SECONDS[sink.partition_by]),
        trigger=triggers.AfterWatermark(late=triggers.AfterCount(1)),
        accumulation_mode=triggers.AccumulationMode.ACCUMULATING,
        allowed_lateness=Duration(seconds=int(sink.allowed_lateness_minutes * 60)),
    )


class DedupeRunWide(beam.PTransform):
    """TableChunks -> TableChunks where each deduplicated table has one row per key (see module doc)."""

    def __init__(self, tables: Iterable[str], sink: ParquetSinkConfig, streaming: bool = False):
        super().__init__()
        self._tables = deduplicated_tables(tables)
        if not self._tables:
            raise ValueError("DedupeRunWide needs at least one table with a dedupe_key")
        self._sink = sink
        self._streaming = streaming

    def expand(self, chunks):
        names = frozenset(self._tables)
        sink = self._sink
        settings = (self._tables, sink.xdr_encoding, sink.include_metadata)
        rest, dedupe = chunks | "SplitDeduplicated" >> beam.Partition(lambda c, _n: int(c.table in names), 2)
        keyed = dedupe | "AfterSpillClosed" >> beam.Reshuffle() | "KeyRows" >> beam.ParDo(_KeyRowsFn(*settings))
        if self._streaming:
            keyed = keyed | "WindowByPartition" >> _streaming_windows(sink)
        else:
            # The combine's output takes the earliest close time of its key (not the end of the global
            # window), so re-stamping the survivor at its close time never moves it behind the
            # watermark: runners that apply lateness in batch too (Prism) would drop it as late.
            keyed = keyed | "HoldAtFirstMention" >> beam.WindowInto(
                GlobalWindows(), timestamp_combiner=TimestampCombiner.OUTPUT_AT_EARLIEST)
        first = (
            keyed
            | "FirstMention" >> beam.CombinePerKey(first_mention)
            | "RowToChunk" >> beam.ParDo(_RowToChunkFn(*settings, retimestamp=not self._streaming))
        )
        # The other tables' chunks are in the global window with the default windowing: Flatten needs one.
        first = first | "BackToGlobalWindow" >> beam.WindowInto(GlobalWindows())
        return (rest, first) | "Merge" >> beam.Flatten()
