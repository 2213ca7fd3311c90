"""The ``ledger_entry_changes`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.ledger_entry_changes`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table, xdr_field

SCHEMA = pa.schema(
    [
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("change_index", pa.int64(), nullable=False),
        pa.field("phase", pa.string(), nullable=False),
        pa.field("transaction_hash", pa.string()),
        pa.field("transaction_id", pa.int64()),
        pa.field("operation_index", pa.int64()),
        pa.field("operation_id", pa.int64()),
        pa.field("upgrade_index", pa.int64()),
        pa.field("ledger_entry_type", pa.string(), nullable=False),
        pa.field("change_type", pa.string(), nullable=False),
        pa.field("ledger_entry_change", pa.int64(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("last_modified_ledger", pa.int64()),
        pa.field("ledger_key_hash", pa.string(), nullable=False),
        xdr_field("key_xdr", nullable=False),
        xdr_field("val_xdr"),
    ]
)

TABLE = Table(
    name="ledger_entry_changes",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.ledger_entry_changes"),
    description="Every ledger entry change, uncompacted, with its transaction/operation context.",
)
