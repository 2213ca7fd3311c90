"""Raw ledger XDR -> per-table Arrow chunks, in one step.

Decoding and transforming happen in the same DoFn so that stellar_sdk XDR objects never cross a
step boundary (they pickle ~10x larger and slower than bytes). What leaves this step is one
`TableChunk` per (ledger, table): the rows as a serialized Arrow record batch, timestamped with
the ledger's close time so that windows and partitions follow event time.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import NamedTuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue

from beam_pipeline.records import get_table
from beam_pipeline.records.base import encode_xdr_columns, output_schema, rows_to_columns
from beam_pipeline.sources.base import BATCH, ERROR, LEDGER, LedgerBlob
from beam_pipeline.xdr.ledger import LedgerView, decode_batch, decode_ledger

log = logging.getLogger(__name__)

DEAD_LETTER = "dead_letter"
NAMESPACE = "stellar_archive"


class TableChunk(NamedTuple):
    """One ledger's rows of one table, as a serialized Arrow record batch (schema known by name)."""

    table: str
    ledger: int
    close_time: int
    rows: int
    batch: bytes


class DeadLetter(NamedTuple):
    """A unit that failed (object key or ledger) and why; written to the `_dead_letter` table."""

    unit: str
    ledger: int | None
    error_class: str
    message: str


class LedgerError(ValueError):
    """A ledger or object that cannot be archived; the message names it."""


def chunk_to_batch(chunk: TableChunk, schema: pa.Schema) -> pa.RecordBatch:
    return pa.ipc.read_record_batch(pa.py_buffer(chunk.batch), schema)


class _DecodeToRowsFn(beam.DoFn):
    def __init__(
        self,
        tables: tuple[str, ...],
        network_passphrase: str,
        xdr_encoding: str,
        include_metadata: bool,
        pipeline_name: str,
        run_id: str,
        ingested_at_us: int,
        on_error: str,
    ):
        self._table_names = tables
        self._passphrase = network_passphrase
        self._xdr_encoding = xdr_encoding
        self._include_metadata = include_metadata
        self._pipeline_name = pipeline_name
        self._run_id = run_id
        self._ingested_at_us = ingested_at_us
        self._on_error = on_error
        self._ledgers = Metrics.counter(NAMESPACE, "ledgers")
        self._errors = Metrics.counter(NAMESPACE, "errors")
        self._dead_letters = Metrics.counter(NAMESPACE, "dead_letters")
        self._decode_ms = Metrics.distribution(NAMESPACE, "ledger_decode_ms")
        self._xdr_bytes = Metrics.counter(NAMESPACE, "xdr_bytes")

    def setup(self):
        self._tables = [get_table(n) for n in self._table_names]
        self._schemas = {
            t.name: output_schema(t, self._xdr_encoding, self._include_metadata) for t in self._tables
        }
        self._row_counters = {t.name: Metrics.counter(NAMESPACE, f"rows_{t.name}") for t in self._tables}
        self._done = 0
        self._last_log = self._started = time.monotonic()

    def process(self, blob: LedgerBlob):
        try:
            yield from self._process(blob)
        except Exception as e:  # noqa: BLE001 - every failure is either re-raised or dead-lettered
            self._errors.inc()
            if self._on_error != DEAD_LETTER:
                raise
            ledger = getattr(e, "ledger", None)
            self._dead_letters.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER, DeadLetter(blob.origin, ledger, type(e).__name__, str(e))
            )

    def _process(self, blob: LedgerBlob):
        if blob.kind == ERROR:
            raise _named(blob.data.decode(), blob.first)
        started = time.perf_counter()
        self._xdr_bytes.inc(len(blob.data))
        metas = list(_ledgers_in(blob))
        per_ledger_ms = (time.perf_counter() - started) * 1000 / max(1, len(metas))
        for lcm in metas:
            t0 = time.perf_counter()
            view = LedgerView(lcm, self._passphrase, blob.origin)
            seq = view.sequence
            if not blob.first <= seq <= blob.last:
                if blob.kind == LEDGER:
                    raise _named(f"{blob.origin}: holds ledger {seq}, expected {blob.first}", blob.first)
                continue  # batch edges outside the requested range
            chunks = []
            for table in self._tables:
                try:
                    rows = table.transform(view)
                    columns = rows_to_columns(rows, table.schema)
                    encode_xdr_columns(columns, table.schema, self._xdr_encoding)
                    if self._include_metadata:
                        self._add_metadata(columns, len(rows), blob.origin)
                    batch = pa.RecordBatch.from_pydict(columns, schema=self._schemas[table.name])
                except Exception as e:
                    err = LedgerError(f"ledger {seq} ({blob.origin}): table {table.name}: {type(e).__name__}: {e}")
                    err.ledger = seq
                    log.debug("%s\n%s", err, traceback.format_exc())
                    raise err from e
                if batch.num_rows:
                    chunks.append(
                        TableChunk(table.name, seq, view.close_time, batch.num_rows, batch.serialize().to_pybytes())
                    )
            # Emit only once every table of the ledger succeeded: a dead-lettered ledger leaves no rows.
            for chunk in chunks:
                self._row_counters[chunk.table].inc(chunk.rows)
                yield TimestampedValue(chunk, view.close_time)
            self._ledgers.inc()
            self._decode_ms.update(int(per_ledger_ms + (time.perf_counter() - t0) * 1000))
            self._progress()

    def _add_metadata(self, columns: dict, n: int, origin: str) -> None:
        columns["_ingested_at"] = [self._ingested_at_us] * n
        columns["_pipeline_name"] = [self._pipeline_name] * n
        columns["_run_id"] = [self._run_id] * n
        columns["_source"] = [origin] * n

    def _progress(self) -> None:
        self._done += 1
        now = time.monotonic()
        if now - self._last_log >= 10:
            rate = self._done / (now - self._started)
            log.info("progress: %d ledgers decoded by this worker (%.1f ledgers/s)", self._done, rate)
            self._last_log = now


def _ledgers_in(blob: LedgerBlob):
    """Decodes a blob and checks it is what its origin promised: sequences, order, no repeats."""
    if blob.kind == LEDGER:
        try:
            yield decode_ledger(blob.data)
        except Exception as e:
            raise _named(f"{blob.origin}: ledger {blob.first}: undecodable LedgerCloseMeta XDR: {e}", blob.first) from e
        return
    if blob.kind != BATCH:
        raise LedgerError(f"{blob.origin}: unknown blob kind {blob.kind!r}")
    try:
        batch = decode_batch(blob.data)
    except Exception as e:
        raise _named(f"{blob.origin}: undecodable LedgerCloseMetaBatch XDR: {type(e).__name__}: {e}", None) from e
    start, end = batch.start_sequence.uint32, batch.end_sequence.uint32
    # A batch may hold part of its key's range (galexie starts at ledger 2, not 0), but never
    # ledgers outside it, and it must hold every ledger this blob was asked for.
    if blob.expected_start >= 0 and not (blob.expected_start <= start <= end <= blob.expected_end):
        raise _named(
            f"{blob.origin}: batch holds ledgers {start}-{end} but its key promises "
            f"{blob.expected_start}-{blob.expected_end}",
            blob.expected_start,
        )
    if not (start <= blob.first and blob.last <= end):
        raise _named(
            f"{blob.origin}: batch holds ledgers {start}-{end}, so ledgers of {blob.first}-{blob.last} are missing",
            blob.first if blob.first < start else blob.last,
        )
    metas = batch.ledger_close_metas
    if len(metas) != end - start + 1:
        expected = end - start + 1
        raise _named(f"{blob.origin}: batch {start}-{end} holds {len(metas)} ledgers, expected {expected}", start)
    for i, lcm in enumerate(metas):
        seq = _sequence(lcm)
        if seq != start + i:
            raise _named(
                f"{blob.origin}: ledger at position {i} of batch {start}-{end} is {seq}, expected {start + i} "
                "(out of order or repeated)",
                start + i,
            )
        yield lcm


def _sequence(lcm) -> int:
    body = {0: lcm.v0, 1: lcm.v1, 2: lcm.v2}.get(lcm.v)
    if body is None:
        raise LedgerError(f"unsupported LedgerCloseMeta version {lcm.v}")
    return body.ledger_header.header.ledger_seq.uint32


def _named(message: str, ledger: int | None) -> LedgerError:
    e = LedgerError(message)
    e.ledger = ledger
    return e


class LedgersToRows(beam.PTransform):
    """LedgerBlobs -> timestamped TableChunks (main output) and DeadLetters (tag ``dead_letter``)."""

    def __init__(self, tables, network_passphrase, sink_cfg, pipeline_name, run_id, ingested_at_us, on_error):
        super().__init__()
        self._fn = _DecodeToRowsFn(
            tuple(tables),
            network_passphrase,
            sink_cfg.xdr_encoding,
            sink_cfg.include_metadata,
            pipeline_name,
            run_id,
            ingested_at_us,
            on_error,
        )

    def expand(self, blobs):
        return blobs | "DecodeAndTransform" >> beam.ParDo(self._fn).with_outputs(DEAD_LETTER, main="rows")
