"""What every table module provides, and the helpers they share.

A table is a pure function from one decoded ledger to rows (plain dicts) plus an explicit
pyarrow schema. Raw XDR columns are declared with `xdr_field`: transforms put raw bytes in them
and the sink encodes them as base64 strings (stellar-etl compatible, the default) or keeps them
binary (`xdr_encoding: binary`).

Nothing here imports stellar_sdk: a table's schema and metadata (`beam_pipeline/records/tables/`)
are read by every run, its Python row code only by the Python path (`LazyTransform`).
"""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    from beam_pipeline.xdr.ledger import LedgerView

XDR_METADATA = {b"stellar.xdr": b"1"}

Row = dict


def xdr_field(name: str, nullable: bool = True) -> pa.Field:
    """A column that holds one raw XDR value (bytes in rows, base64 or binary on disk)."""
    return pa.field(name, pa.binary(), nullable=nullable, metadata=XDR_METADATA)


def xdr_list_field(name: str) -> pa.Field:
    """A column that holds a list of raw XDR values."""
    return pa.field(name, pa.list_(pa.binary()), metadata=XDR_METADATA)


def is_xdr(f: pa.Field) -> bool:
    return bool(f.metadata) and f.metadata.get(b"stellar.xdr") == b"1"


# Integer columns are int64, whatever their XDR type (docs/tables.md, "Integer types"): the one integer
# type that Hubble's BigQuery tables (INTEGER), Spark (bigint), Delta Lake and Iceberg (long), pandas
# and Polars all hold without a conversion. XDR uint32/int32/int64 values always fit; an XDR uint64
# column is declared with `uint64_field`, which says why its values stay below 2^63.
UINT64_BOUND = b"stellar.uint64_bound"


def uint64_field(name: str, bound: str, nullable: bool = True, repeated: bool = False) -> pa.Field:
    """An int64 column (or list of them) holding XDR uint64 values.

    `bound` says why the values stay below 2^63 (docs/tables.md lists it); a value that does not
    fails its ledger with `IntegerRangeError` naming the table, the column and the ledger, on both
    the Python path and the native one, instead of wrapping to a negative number.
    """
    t = pa.list_(pa.int64()) if repeated else pa.int64()
    return pa.field(name, t, nullable=nullable, metadata={UINT64_BOUND: bound.encode()})


def uint64_bound(f: pa.Field) -> str | None:
    """Why an XDR uint64 column's values fit int64, or None for other columns."""
    return f.metadata.get(UINT64_BOUND).decode() if f.metadata and UINT64_BOUND in f.metadata else None


class IntegerRangeError(ValueError):
    """An integer value outside its stored column's int64 range (only an XDR uint64 of 2^63 or more can be)."""


def integer_range_error(column: str, value: int, stored: pa.DataType) -> IntegerRangeError:
    """The error of an out-of-range value, worded alike on the Python and the native path."""
    return IntegerRangeError(
        f"column {column}: value {value} does not fit the stored type {stored} (integer columns are int64; "
        "see docs/tables.md, Integer types)"
    )


def first_out_of_range(values: Iterable, t: pa.DataType) -> int | None:
    """The first integer of `values` (or of their lists) outside `t`'s range, or None."""
    bits = t.bit_width
    lo, hi = (0, 2**bits - 1) if pa.types.is_unsigned_integer(t) else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    for v in values:
        for x in v if isinstance(v, list | tuple) else (v,):
            if x is not None and not lo <= x <= hi:
                return x
    return None


UTC_TS = pa.timestamp("us", tz="UTC")

# The columns most change tables end with (`records.changes._common.change_columns` fills them).
CHANGE_FIELDS = (
    pa.field("last_modified_ledger", pa.int64(), nullable=False),
    pa.field("ledger_entry_change", pa.int64(), nullable=False),
    pa.field("deleted", pa.bool_(), nullable=False),
    pa.field("closed_at", UTC_TS, nullable=False),
    pa.field("ledger_sequence", pa.int64(), nullable=False),
)


@dataclass(frozen=True)
class LazyTransform:
    """A table's Python row function, named by module and imported on its first call.

    Row code reads stellar_sdk XDR objects, so importing it imports stellar_sdk (~0.4 s of CPU per
    process). A job whose tables the native core builds (`beam_pipeline.native`) never calls it, and
    so never pays for it; the Python path imports it on its first ledger. A plain value: it pickles
    as its two names.
    """

    module: str
    function: str = "transform"

    def __call__(self, ledger: LedgerView) -> list[Row]:
        return getattr(importlib.import_module(self.module), self.function)(ledger)


@dataclass(frozen=True)
class Table:
    """One output table.

    Attributes:
        name: table (and directory) name, e.g. ``transactions``.
        schema: explicit schema; XDR columns are binary with `XDR_METADATA`.
        version: bumped on every schema change; written into each file's metadata.
        transform: ``LedgerView -> list[Row]``; must not keep references to XDR objects. Table modules
            name their row code with a `LazyTransform`, so that reading a schema imports no XDR library.
        description: one line for the README and ``--help``.
        dedupe_key: for a table whose rows are one per value of this column over a whole run (not per
            ledger), the column; the graph keeps the row of the lowest ledger (`beam_pipeline.dedupe`).
    """

    name: str
    schema: pa.Schema
    version: int
    transform: Callable[[LedgerView], list[Row]]
    description: str = ""
    dedupe_key: str | None = None

    def storage_schema(self, xdr_encoding: str) -> pa.Schema:
        """The schema as written: XDR columns become strings under base64 encoding."""
        if xdr_encoding == "binary":
            return self.schema
        fields = []
        for f in self.schema:
            if is_xdr(f):
                t = pa.list_(pa.string()) if pa.types.is_list(f.type) else pa.string()
                f = f.with_type(t)
            fields.append(f)
        return pa.schema(fields, metadata=self.schema.metadata)


def b64(value: bytes | None) -> str | None:
    return None if value is None else base64.b64encode(value).decode("ascii")


def encode_xdr_columns(columns: dict[str, list], schema: pa.Schema, xdr_encoding: str) -> None:
    """Encodes XDR columns in place for storage (no-op for binary encoding)."""
    if xdr_encoding == "binary":
        return
    for f in schema:
        if not is_xdr(f):
            continue
        values = columns[f.name]
        if pa.types.is_list(f.type):
            columns[f.name] = [None if v is None else [b64(x) for x in v] for v in values]
        else:
            columns[f.name] = [b64(v) for v in values]


def columns_to_batch(columns: dict[str, list], schema: pa.Schema) -> pa.RecordBatch:
    """Column lists to a batch of `schema`; an integer out of its column's range is an IntegerRangeError."""
    try:
        return pa.RecordBatch.from_pydict(columns, schema=schema)
    except (OverflowError, pa.ArrowInvalid) as e:
        for f in schema:
            t = f.type.value_type if pa.types.is_list(f.type) else f.type
            if pa.types.is_integer(t) and (bad := first_out_of_range(columns[f.name], t)) is not None:
                raise integer_range_error(f.name, bad, t) from e
        raise


def rows_to_columns(rows: Iterable[Row], schema: pa.Schema) -> dict[str, list]:
    """Row dicts to column lists in schema order; a missing key is an error, not a null."""
    names = schema.names
    columns: dict[str, list] = {n: [] for n in names}
    for row in rows:
        if len(row) != len(names):
            extra = set(row) - set(names)
            missing = set(names) - set(row)
            raise KeyError(f"row does not match schema: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for n in names:
            columns[n].append(row[n])
    return columns


# Columns added to every table when the sink's include_metadata is true.
METADATA_FIELDS = (
    pa.field("_ingested_at", UTC_TS, nullable=False),  # when the run started
    pa.field("_pipeline_name", pa.string(), nullable=False),  # pipeline.name from the config
    pa.field("_run_id", pa.string(), nullable=False),  # the run that wrote the row (also in file names)
    pa.field("_source", pa.string(), nullable=False),  # data store object key or RPC endpoint
)


def ledger_column(table: Table) -> str:
    """The column holding each row's ledger sequence (``sequence`` in ledgers, else ledger_sequence)."""
    return "ledger_sequence" if "ledger_sequence" in table.schema.names else "sequence"


def pandas_metadata(schema: pa.Schema) -> bytes | None:
    """pandas' own schema note, naming the nullable integer columns' dtype: ``Int64``.

    pandas reads an integer column with nulls as float64 by default, which rounds 64-bit ids such as
    TOIDs above 2^53 (a join of ledger_entry_changes.operation_id to operations.id then matches
    other operations' rows). pyarrow's ``to_pandas`` (and so ``pd.read_parquet``) applies the
    dtypes this note names, the way it restores a DataFrame pandas wrote itself, so those columns
    read as nullable ``Int64`` with the default options. Other readers ignore the ``pandas`` key.
    """
    columns = [f.name for f in schema if f.nullable and pa.types.is_integer(f.type)]
    if not columns:
        return None
    note = {
        "index_columns": [],
        "column_indexes": [],
        "columns": [
            {"name": n, "field_name": n, "pandas_type": "int64", "numpy_type": "Int64", "metadata": None}
            for n in columns
        ],
        "creator": {"library": "beam_pipeline", "version": "1"},
        "pandas_version": "2.0.0",
    }
    return json.dumps(note, separators=(",", ":")).encode()


def output_schema(table: Table, xdr_encoding: str, include_metadata: bool) -> pa.Schema:
    """The schema as stored, with the table name and schema version in its key-value metadata."""
    schema = table.storage_schema(xdr_encoding)
    if include_metadata:
        for f in METADATA_FIELDS:
            schema = schema.append(f)
    meta = dict(schema.metadata or {})
    meta.update(
        {
            b"stellar.table": table.name.encode(),
            b"stellar.schema_version": str(table.version).encode(),
            b"stellar.xdr_encoding": xdr_encoding.encode(),
        }
    )
    if (note := pandas_metadata(schema)) is not None:
        meta[b"pandas"] = note
    return schema.with_metadata(meta)
