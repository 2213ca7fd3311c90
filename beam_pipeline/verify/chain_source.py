"""``verify --chain``'s input: the ``ledgers`` and ``transactions`` columns the proof needs, in ledger order.

Rows are read file by file through Beam's FileSystems (local, gs://, s3://), only the needed columns,
batch by batch, with XDR columns turned back into bytes whatever the archive's ``xdr_encoding``
(base64 strings or binary). They go into a disk-backed DuckDB database, which then returns them
ordered by ledger (and application order) in batches: sorting spills to disk past a memory limit,
so millions of ledgers are proven without holding them in memory, and rows of one ledger that
sit in different files, partitions or runs come out together.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from beam_pipeline.verify.model import ArchiveFile
from beam_pipeline.verify.scan import open_file

BATCH_ROWS = 8192
MEMORY_LIMIT = "256MB"

# Column -> Arrow type as held in DuckDB; XDR columns become binary whatever the encoding on disk.
LEDGER_COLUMNS = {
    "sequence": pa.int64(),
    "ledger_hash": pa.string(),
    "previous_ledger_hash": pa.string(),
    "ledger_header": pa.binary(),
    "closed_at": pa.int64(),  # microseconds since the epoch, UTC
    "total_coins": pa.int64(),
    "fee_pool": pa.int64(),
    "base_fee": pa.int64(),
    "base_reserve": pa.int64(),
    "max_tx_set_size": pa.int64(),
    "protocol_version": pa.int64(),
    "id": pa.int64(),
    "node_id": pa.string(),
    "signature": pa.string(),
    "transaction_count": pa.int64(),
    "operation_count": pa.int64(),
    "successful_transaction_count": pa.int64(),
    "failed_transaction_count": pa.int64(),
}
TX_COLUMNS = {
    "ledger_sequence": pa.int64(),
    "id": pa.int64(),
    "transaction_hash": pa.string(),
    "tx_result": pa.binary(),
    "tx_envelope": pa.binary(),
    "fee_charged": pa.int64(),
    "successful": pa.bool_(),
}
_XDR = {"ledger_header", "tx_result", "tx_envelope"}
_TIMESTAMPS = {"closed_at"}


class ChainReadError(ValueError):
    """A file the proof needs cannot be read; the message names it."""


@dataclass
class ReadStats:
    files: int = 0
    rows: int = 0


def _to_binary(column: pa.ChunkedArray | pa.Array, path: str, name: str) -> pa.Array:
    """An XDR column as bytes: binary columns as they are, base64 strings decoded."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return column.cast(pa.binary())
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise ChainReadError(f"{path}: column {name} is {column.type}, not XDR (string or binary)")
    out = []
    for i, value in enumerate(column.to_pylist()):
        try:
            out.append(None if value is None else base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise ChainReadError(f"{path}: row {i}: column {name} is not base64 XDR") from None
    return pa.array(out, pa.binary())


def _project(batch: pa.RecordBatch, columns: dict[str, pa.DataType], path: str, file_no: int) -> pa.RecordBatch:
    arrays, fields = [], []
    for name, typ in columns.items():
        col = batch.column(name)
        if name in _XDR:
            col = _to_binary(col, path, name)
        elif name in _TIMESTAMPS:
            col = col.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        else:
            col = col.cast(typ)
        arrays.append(col)
        fields.append(pa.field(name, typ))
    arrays.append(pa.array([file_no] * batch.num_rows, pa.int32()))
    fields.append(pa.field("file_no", pa.int32()))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _file_batches(
    files: list[ArchiveFile], columns: dict[str, pa.DataType], ledger_col: str, start: int, end: int, stats: ReadStats
) -> Iterator[pa.RecordBatch]:
    for file_no, f in enumerate(files):
        try:
            with open_file(f.path) as handle:
                pf = pq.ParquetFile(handle)
                missing = [c for c in columns if c not in pf.schema_arrow.names]
                if missing:
                    raise ChainReadError(f"{f.path}: columns {', '.join(missing)} missing")
                stats.files += 1
                for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=list(columns)):
                    ledger = pc.cast(batch.column(ledger_col), pa.int64())
                    batch = batch.filter(pc.and_(pc.greater_equal(ledger, start), pc.less_equal(ledger, end)))
                    if batch.num_rows:
                        stats.rows += batch.num_rows
                        yield _project(batch, columns, f.path, file_no)
        except ChainReadError:
            raise
        except Exception as e:  # noqa: BLE001 - any reader error becomes one naming the file
            raise ChainReadError(f"{f.path}: cannot read: {type(e).__name__}: {e}") from None


class ChainRows:
    """The two tables' needed columns in a disk-backed DuckDB database, streamed back in ledger order."""

    def __init__(self, workdir: str):
        import duckdb

        self.con = duckdb.connect(os.path.join(workdir, "chain.duckdb"))
        self.con.execute(f"SET temp_directory = '{os.path.join(workdir, 'spill')}'")
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")  # sorts spill to temp_directory beyond this
        self.con.execute("SET threads = 2")
        self.files: dict[str, list[ArchiveFile]] = {}

    def close(self) -> None:
        self.con.close()

    def load(self, table: str, files: list[ArchiveFile], start: int, end: int) -> ReadStats:
        """Reads `table`'s files (``ledgers`` or ``transactions``) for ledgers start..end."""
        columns, ledger_col = (LEDGER_COLUMNS, "sequence") if table == "ledgers" else (TX_COLUMNS, "ledger_sequence")
        schema = pa.schema([pa.field(n, t) for n, t in columns.items()] + [pa.field("file_no", pa.int32())])
        stats = ReadStats()
        stream = pa.RecordBatchReader.from_batches(schema, _file_batches(files, columns, ledger_col, start, end, stats))
        self.con.register("incoming", stream)
        try:
            self.con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming")
        finally:
            self.con.unregister("incoming")
        self.files[table] = files
        return stats

    def file_of(self, table: str, file_no: int) -> str:
        return self.files[table][file_no].path

    def ledgers(self) -> Iterator[dict]:
        """``ledgers`` rows in sequence order (duplicates of a sequence next to each other)."""
        yield from self._rows("SELECT * FROM ledgers ORDER BY sequence, ledger_hash")

    def transactions(self) -> Iterator[tuple[int, list[dict]]]:
        """(ledger, its transactions rows in application order), ledger by ledger, ascending."""
        current, group = None, []
        for row in self._rows("SELECT * FROM transactions ORDER BY ledger_sequence, id, transaction_hash"):
            if row["ledger_sequence"] != current:
                if current is not None:
                    yield current, group
                current, group = row["ledger_sequence"], []
            group.append(row)
        if current is not None:
            yield current, group

    def _rows(self, sql: str) -> Iterator[dict]:
        # A cursor of its own: the ledger and transaction streams are read side by side.
        cursor = self.con.cursor()
        try:
            for batch in cursor.sql(sql).to_arrow_reader(BATCH_ROWS):
                yield from batch.to_pylist()
        finally:
            cursor.close()
