"""The ``restored_keys`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.restored_keys`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table, xdr_field

SCHEMA = pa.schema(
    [
        xdr_field("ledger_key_hash", nullable=False),
        pa.field("ledger_entry_type", pa.string(), nullable=False),
        pa.field("last_modified_ledger", pa.int64(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
    ]
)

TABLE = Table(
    name="restored_keys",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.restored_keys"),
    description="Ledger keys restored from the archive per ledger (stellar-etl restored_key).",
)
