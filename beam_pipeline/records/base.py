"""What every table module provides, and the helpers they share.

A table is a pure function from one decoded ledger to rows (plain dicts) plus an explicit
pyarrow schema. Raw XDR columns are declared with `xdr_field`: transforms put raw bytes in them
and the sink encodes them as base64 strings (stellar-etl compatible, the default) or keeps them
binary (`xdr_encoding: binary`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyarrow as pa

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


UTC_TS = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class Table:
    """One output table.

    Attributes:
        name: table (and directory) name, e.g. ``transactions``.
        schema: explicit schema; XDR columns are binary with `XDR_METADATA`.
        version: bumped on every schema change; written into each file's metadata.
        transform: ``LedgerView -> list[Row]``; must not keep references to XDR objects.
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
    return schema.with_metadata(meta)
