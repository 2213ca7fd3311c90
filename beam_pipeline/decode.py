"""Raw ledger XDR -> per-table Arrow chunks, in one step.

Decoding and transforming happen in the same DoFn so that stellar_sdk XDR objects never cross a
step boundary (they pickle ~10x larger and slower than bytes). What leaves this step is one
`TableChunk` per table and file group of a blob (its ledgers that go to the same partition, file
and shard, usually all of them): the rows as a compressed Arrow record batch, timestamped with
the close time of its first ledger so that windows and partitions follow event time.

This step knows nothing of sinks: its values are defined in `handoff.py`, and which ledgers share
a file group is the sink's function, passed in with the `DecodeSettings` by `pipeline.py`.

A job whose tables the native core builds never imports stellar_sdk (~0.4 s of CPU per process):
the Python path's decoder (`_ledgers_in`) and each table's row code are imported on first use.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import TimestampedValue

from beam_pipeline import DEAD_LETTER
from beam_pipeline import METRICS_NAMESPACE as NAMESPACE
from beam_pipeline.handoff import ChunkPacker, DeadLetter, TableChunk
from beam_pipeline.native import NativeBatch, NativeCore, table_error
from beam_pipeline.records import get_table
from beam_pipeline.records.base import (
    METADATA_FIELDS,
    columns_to_batch,
    encode_xdr_columns,
    output_schema,
    rows_to_columns,
)
from beam_pipeline.sources.base import BATCH, ERROR, LEDGER, LedgerBlob
from beam_pipeline.util.secrets import redact
from beam_pipeline.util.spill import SpillRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DecodeSettings:
    """Everything the decode step needs to know, as one plain, picklable value.

    The run's identity (for the metadata columns) and the sink's choices (encoding, metadata,
    where a ledger's rows go); `file_group` is the sink's function (sequence, close time) ->
    file group, passed in by `pipeline.py` so that this step knows nothing of sinks.
    """

    tables: tuple[str, ...]
    network_passphrase: str
    file_group: Callable[[int, int], tuple]
    xdr_encoding: str = "base64"
    include_metadata: bool = False
    pipeline_name: str = ""
    run_id: str = ""
    ingested_at_us: int = 0
    on_error: str = "fail"
    spill_dir: str | None = None
    # The processors' row filters (`beam_pipeline.filters.RowFilter`), one per table at most.
    filters: tuple = ()


class LedgerError(ValueError):
    """A ledger or object that cannot be archived; the message names it."""


class _DecodeToRowsFn(beam.DoFn):
    def __init__(self, settings: DecodeSettings):
        self._settings = settings
        self._filters = {f.table: f for f in settings.filters}
        self._ledgers = Metrics.counter(NAMESPACE, "ledgers")
        self._errors = Metrics.counter(NAMESPACE, "errors")
        self._dead_letters = Metrics.counter(NAMESPACE, "dead_letters")
        self._decode_ms = Metrics.distribution(NAMESPACE, "ledger_decode_ms")
        self._xdr_bytes = Metrics.counter(NAMESPACE, "xdr_bytes")

    def setup(self):
        s = self._settings
        self._tables = [get_table(n) for n in s.tables]
        self._schemas = {t.name: output_schema(t, s.xdr_encoding, s.include_metadata) for t in self._tables}
        self._row_counters = {t.name: Metrics.counter(NAMESPACE, f"rows_{t.name}") for t in self._tables}
        self._done = 0
        self._last_log = self._started = time.monotonic()
        self._packer: ChunkPacker | None = None
        # The tables the native core builds (None: all on the Python path; see beam_pipeline/native.py).
        self._native = NativeCore.for_tables(s.tables, s.network_passphrase, s.xdr_encoding)

    def finish_bundle(self):
        self._close_spill()

    def teardown(self):
        self._close_spill()

    def _close_spill(self) -> None:
        if getattr(self, "_packer", None) is not None:
            self._packer.close()
            self._packer = None

    def _payload(self, batch: pa.RecordBatch) -> bytes | SpillRef:
        """The compressed batch itself, or (local runs) where this bundle's spill file keeps it."""
        if self._packer is None:
            self._packer = ChunkPacker(self._settings.spill_dir)
        return self._packer.pack(batch)

    def process(self, blob: LedgerBlob):
        try:
            yield from self._process(blob)
        except Exception as e:  # noqa: BLE001 - every failure is either re-raised or dead-lettered
            self._errors.inc()
            if self._settings.on_error != DEAD_LETTER:
                raise
            ledger = getattr(e, "ledger", None)
            self._dead_letters.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTER, DeadLetter(redact(blob.origin), ledger, type(e).__name__, redact(str(e)))
            )

    def _process(self, blob: LedgerBlob):
        if blob.kind == ERROR:
            raise _named(blob.data.decode(), blob.first)
        started = time.perf_counter()
        self._xdr_bytes.inc(len(blob.data))
        # Decoding allocates hundreds of thousands of acyclic objects per ledger, which makes the
        # cyclic collector run over and over for nothing (~20 % of a run); reference counting frees
        # them anyway. Everything is computed with it paused, in a call whose decoded objects are
        # gone when it returns, so that the collector finds little to look at when it resumes.
        with gc_paused():
            chunks, converted, error, per_ledger_ms = self._rows_of(blob, started)
        # Rows are emitted only for the ledgers whose every table succeeded, so a failing ledger
        # leaves no rows while the ledgers before it in the blob keep theirs.
        for chunk in chunks:
            self._row_counters[chunk.table].inc(chunk.rows)
            yield TimestampedValue(chunk, chunk.close_time)
        for _ in range(converted):
            self._ledgers.inc()
            self._decode_ms.update(int(per_ledger_ms))
            self._progress()
        if error is not None:
            raise error

    def _rows_of(self, blob: LedgerBlob, started: float):
        """(chunks, ledgers converted, the first error, decode + convert ms per ledger) of one blob."""
        native = _NativeBlob(self._native, blob) if self._native is not None else None
        python_tables = [t for t in self._tables if native is None or t.name not in native.core.tables]
        if native is None or python_tables:
            ledgers = list(_ledgers_in(blob, self._settings.network_passphrase))
        else:
            ledgers = native.ledgers()
        gathered, error = self._gather(blob, ledgers, python_tables)
        del ledgers  # the XDR objects: rows and chunks hold none of them
        if native is not None:  # the native core's tables, for the same ledgers (or fewer, if one fails there)
            gathered, error = native.add_batches(gathered, error, self._tables, self._schemas, blob.origin)
        chunks, converted, convert_error = self._convert(gathered, blob.origin)
        per_ledger_ms = (time.perf_counter() - started) * 1000 / max(1, len(gathered))
        return chunks, converted, convert_error or error, per_ledger_ms

    def _gather(self, blob: LedgerBlob, ledgers: list, tables: list) -> tuple[list[_Gathered], LedgerError | None]:
        """Every table's rows for each ledger of the blob in range, up to the first that fails.

        `ledgers` are `LedgerView`s, or (when the native core builds every table) `_NativeLedger`s.
        """
        gathered = []
        for view in ledgers:
            seq = view.sequence
            if not blob.first <= seq <= blob.last:
                if blob.kind == LEDGER:
                    return gathered, _named(f"{blob.origin}: holds ledger {seq}, expected {blob.first}", blob.first)
                continue  # batch edges outside the requested range
            rows = {}
            for table in tables:
                try:
                    rows[table.name] = table.transform(view)
                except Exception as e:  # noqa: BLE001 - returned, named, and raised by the caller
                    return gathered, _table_error(seq, blob.origin, table.name, e)
            view.release()
            gathered.append(_Gathered(seq, view.close_time, rows))
        return gathered, None

    def _convert(
        self, gathered: list[_Gathered], origin: str
    ) -> tuple[list[TableChunk], int, LedgerError | None]:
        """(chunks, ledgers converted, error) for the longest prefix of ledgers that converts.

        Each table's rows of all the ledgers become one Arrow batch (building a batch has a fixed
        cost per column, ~10 us), cut into one TableChunk per file group. When a conversion fails,
        the ledger at fault is found by converting ledger by ledger, so the error names it and
        the ledgers before it are still converted.
        """
        chunks: list[TableChunk] = []
        groups: dict[tuple, list[int]] = {}
        for i, g in enumerate(gathered):
            groups.setdefault(self._settings.file_group(g.sequence, g.close_time), []).append(i)
        for table in self._tables:
            native = gathered[0].rows.get(table.name) if gathered else None
            if isinstance(native, _NativeRows):  # built by the native core for all these ledgers at once
                metadata = self._settings.include_metadata and self._metadata(origin)
                batch, offsets = native.batch_of(len(gathered), metadata)
                if batch.num_rows:
                    chunks.extend(self._chunks(table, batch, offsets, gathered, groups))
                continue
            rows = [r for g in gathered for r in g.rows[table.name]]
            if not rows:
                continue
            try:
                batch = self._to_batch(table, rows, origin)
            except Exception as whole:  # noqa: BLE001 - narrowed down to one ledger below
                for i, g in enumerate(gathered):
                    try:
                        self._to_batch(table, g.rows[table.name], origin)
                    except Exception as e:  # noqa: BLE001 - returned, named, and raised by the caller
                        done, converted, earlier = self._convert(gathered[:i], origin)
                        return done, converted, earlier or _table_error(g.sequence, origin, table.name, e)
                # The ledgers convert one by one but not together: the blob as a whole is at fault.
                message = f"{origin}: table {table.name}: rows of {len(gathered)} ledgers do not convert together"
                raise _named(message, None) from whole
            offsets = [0, *itertools.accumulate(len(g.rows[table.name]) for g in gathered)]
            chunks.extend(self._chunks(table, batch, offsets, gathered, groups))
        for g in gathered:
            g.rows.clear()
        return chunks, len(gathered), None

    def _chunks(self, table, batch: pa.RecordBatch, offsets: list[int], gathered: list[_Gathered], groups: dict):
        """One TableChunk per file group of the ledgers' rows in `batch` (ledger i's are offsets[i]:offsets[i+1])."""
        for members in groups.values():
            part = _rows_of_group(batch, members, offsets)
            if table.name in self._filters:  # the processor's row filter (beam_pipeline/filters.py)
                part = self._filters[table.name].apply(part)
            if part.num_rows == 0:
                continue
            data = self._payload(part)
            first = gathered[members[0]]
            yield TableChunk(table.name, first.sequence, first.close_time, part.num_rows, data)

    def _metadata(self, origin: str) -> dict:
        """The run metadata columns' values (include_metadata), the same for every row of a blob."""
        s = self._settings
        return {
            "_ingested_at": s.ingested_at_us,
            "_pipeline_name": s.pipeline_name,
            "_run_id": s.run_id,
            "_source": origin,
        }

    def _to_batch(self, table, rows: list, origin: str) -> pa.RecordBatch:
        columns = rows_to_columns(rows, table.schema)
        encode_xdr_columns(columns, table.schema, self._settings.xdr_encoding)
        if self._settings.include_metadata:
            self._add_metadata(columns, len(rows), origin)
        return columns_to_batch(columns, self._schemas[table.name])

    def _add_metadata(self, columns: dict, n: int, origin: str) -> None:
        s = self._settings
        columns["_ingested_at"] = [s.ingested_at_us] * n
        columns["_pipeline_name"] = [s.pipeline_name] * n
        columns["_run_id"] = [s.run_id] * n
        columns["_source"] = [origin] * n

    def _progress(self) -> None:
        self._done += 1
        now = time.monotonic()
        if now - self._last_log >= 10:
            rate = self._done / (now - self._started)
            log.info("progress: %d ledgers decoded by this worker (%.1f ledgers/s)", self._done, rate)
            self._last_log = now


def _rows_of_group(batch: pa.RecordBatch, members: list[int], offsets: list[int]) -> pa.RecordBatch:
    """The rows of the ledgers `members` (ascending indices): a slice when they lie together, else a copy.

    Ledger i's rows are ``offsets[i]:offsets[i + 1]`` of `batch`.
    """
    start, end = offsets[members[0]], offsets[members[-1] + 1]
    rows = sum(offsets[i + 1] - offsets[i] for i in members)
    if rows == end - start:  # no other group's rows in between (the usual case: one group per blob)
        return batch.slice(start, rows)
    return pa.concat_batches([batch.slice(offsets[i], offsets[i + 1] - offsets[i]) for i in members])


def _ledgers_in(blob: LedgerBlob, network_passphrase: str):
    """The Python path: decodes a blob into `LedgerView`s, checking it is what its origin promised.

    Sequences, order, no repeats. The decoder (stellar_sdk) is imported here, on first use, so that a
    job whose tables the native core builds never imports it.
    """
    from beam_pipeline.xdr.ledger import LedgerDecodeError, LedgerView, decode_batch, decode_ledger, lcm_sequence

    def sequence(lcm) -> int:
        try:
            return lcm_sequence(lcm)
        except LedgerDecodeError as e:
            raise LedgerError(str(e)) from None

    if blob.kind == LEDGER:
        try:
            lcm = decode_ledger(blob.data)
        except Exception as e:
            raise _named(f"{blob.origin}: ledger {blob.first}: undecodable LedgerCloseMeta XDR: {e}", blob.first) from e
        yield LedgerView(lcm, network_passphrase, blob.origin)
        return
    if blob.kind != BATCH:
        raise LedgerError(f"{blob.origin}: unknown blob kind {blob.kind!r}")
    try:
        batch = decode_batch(blob.data)
    except Exception as e:
        raise _named(f"{blob.origin}: undecodable LedgerCloseMetaBatch XDR: {type(e).__name__}: {e}", None) from e
    start, end = batch.start_sequence.uint32, batch.end_sequence.uint32
    _check_range(blob, start, end)
    for lcm in _checked(blob, start, end, batch.ledger_close_metas, sequence):
        yield LedgerView(lcm, network_passphrase, blob.origin)


def _check_range(blob: LedgerBlob, start: int, end: int) -> None:
    """A batch's own range must lie in its key's and cover the ledgers asked for."""
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


def _checked(blob: LedgerBlob, start: int, end: int, metas: list, sequence_of: Callable):
    """The ledgers of a batch in order, after checking it holds what its key promised, no more, no less."""
    if len(metas) != end - start + 1:
        expected = end - start + 1
        raise _named(f"{blob.origin}: batch {start}-{end} holds {len(metas)} ledgers, expected {expected}", start)
    for i, lcm in enumerate(metas):
        seq = sequence_of(lcm)
        if seq != start + i:
            raise _named(
                f"{blob.origin}: ledger at position {i} of batch {start}-{end} is {seq}, expected {start + i} "
                "(out of order or repeated)",
                start + i,
            )
        yield lcm


def _named(message: str, ledger: int | None) -> LedgerError:
    e = LedgerError(message)
    e.ledger = ledger
    return e


def _table_error(seq: int, origin: str, table: str, e: Exception) -> LedgerError:
    err = _named(f"ledger {seq} ({origin}): table {table}: {type(e).__name__}: {e}", seq)
    err.table = table
    err.__cause__ = e  # as `raise err from e` would, when the caller raises it
    err.__suppress_context__ = True
    log.debug("%s\n%s", err, "".join(traceback.format_exception(e)))
    return err


class _NativeLedger(NamedTuple):
    """A ledger the native core decoded: what `_gather` reads of a LedgerView when no table is on the Python path."""

    sequence: int
    close_time: int
    position: int  # in the blob

    def release(self) -> None:
        pass


class _NativeRows:
    """One table's rows of a blob's ledgers, built by the native core (a `_Gathered.rows` value)."""

    def __init__(self, native: NativeBatch, schema: pa.Schema):
        self._native = native
        self._schema = schema  # the table's output schema, with the run metadata columns if any

    def batch_of(self, ledgers: int, metadata: dict | bool) -> tuple[pa.RecordBatch, list[int]]:
        """(the rows of the first `ledgers` ledgers, each ledger's row offsets), with metadata columns if given."""
        batch = self._native.prefix(ledgers)
        if metadata:
            n = batch.num_rows
            extra = [pa.array([metadata[f.name]] * n, f.type) for f in METADATA_FIELDS]
            batch = pa.RecordBatch.from_arrays([*batch.columns, *extra], schema=self._schema)
        return batch, self._native.offsets[: ledgers + 1]


class _NativeBlob:
    """A blob decoded by the native core, checked as `_ledgers_in` checks the Python decoding of it."""

    def __init__(self, core: NativeCore, blob: LedgerBlob):
        self.core = core
        self._blob = blob
        if blob.kind not in (LEDGER, BATCH):
            raise LedgerError(f"{blob.origin}: unknown blob kind {blob.kind!r}")
        try:
            self._decoded = core.decode(blob.data, "ledger" if blob.kind == LEDGER else "batch")
        except ValueError as e:
            if blob.kind == LEDGER:
                message = f"{blob.origin}: ledger {blob.first}: undecodable LedgerCloseMeta XDR: {e}"
                raise _named(message, blob.first) from e
            raise _named(f"{blob.origin}: undecodable LedgerCloseMetaBatch XDR: {type(e).__name__}: {e}", None) from e
        sequences, times = self._decoded.sequences(), self._decoded.close_times()
        positions = range(len(sequences))
        if blob.kind == BATCH:
            start, end = self._decoded.start, self._decoded.end
            _check_range(blob, start, end)
            positions = list(_checked(blob, start, end, positions, sequences.__getitem__))
        self._ledgers = [_NativeLedger(sequences[p], times[p], p) for p in positions]

    def ledgers(self) -> list[_NativeLedger]:
        return self._ledgers

    def add_batches(
        self, gathered: list[_Gathered], error: LedgerError | None, tables: list, schemas: dict, origin: str
    ) -> tuple[list[_Gathered], LedgerError | None]:
        """Adds the core's tables to the rows `_gather` built, for the same ledgers, up to the first that fails.

        A ledger fails at its first table (in the job's order) that fails, whichever path builds it, as if
        every table were on the Python path.
        """
        first, last = self._blob.first, self._blob.last
        positions = [ledger.position for ledger in self._ledgers if first <= ledger.sequence <= last]
        order = [t.name for t in tables]
        python_failed = getattr(error, "table", None) if error is not None else None
        wanted = len(gathered) + (1 if python_failed is not None and len(gathered) < len(positions) else 0)
        built, failure = {}, None
        for name in self.core.tables:
            schema = stored = schemas[name]
            for f in METADATA_FIELDS:  # the core builds the table's own columns; run metadata is added here
                if f.name in stored.names:
                    stored = stored.remove(stored.get_field_index(f.name))
            native = self.core.batch(self._decoded, name, positions[:wanted], stored)
            built[name] = _NativeRows(native, schema)
            if native.error is not None:
                at, class_name, message = native.error
                key = (at, order.index(name))
                if failure is None or key < failure[0]:
                    failure = (key, name, class_name, message)
        if failure is not None:
            (at, index), name, class_name, message = failure
            if at < len(gathered) or (python_failed is not None and index < order.index(python_failed)):
                seq = self._ledgers_at(positions[at])
                error = _table_error(seq, origin, name, table_error(class_name, message))
                gathered = gathered[:at]
        for g in gathered:
            g.rows.update(built)
        return gathered, error

    def _ledgers_at(self, position: int) -> int:
        return next(ledger.sequence for ledger in self._ledgers if ledger.position == position)


class _Gathered(NamedTuple):
    """One ledger's rows of every table, before conversion to Arrow."""

    sequence: int
    close_time: int
    rows: dict[str, list]


_gc_lock = threading.Lock()
_gc_holders = 0
_gc_was_enabled = False


@contextlib.contextmanager
def gc_paused():
    """Pauses the cyclic garbage collector for the block; safe to nest and to use from threads."""
    global _gc_holders, _gc_was_enabled
    with _gc_lock:
        if _gc_holders == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_holders += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_holders -= 1
            if _gc_holders == 0 and _gc_was_enabled:
                gc.enable()


class LedgersToRows(beam.PTransform):
    """LedgerBlobs -> timestamped TableChunks (main output) and DeadLetters (tag ``dead_letter``)."""

    def __init__(self, settings: DecodeSettings):
        super().__init__()
        self._fn = _DecodeToRowsFn(settings)

    def expand(self, blobs):
        return blobs | "DecodeAndTransform" >> beam.ParDo(self._fn).with_outputs(DEAD_LETTER, main="rows")
