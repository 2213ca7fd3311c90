"""The ``operations`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.operations`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("source_account", pa.string(), nullable=False),
        pa.field("source_account_muxed", pa.string()),
        pa.field("type", pa.int64(), nullable=False),
        pa.field("type_string", pa.string(), nullable=False),
        pa.field("details", pa.string(), nullable=False),
        pa.field("transaction_id", pa.int64(), nullable=False),
        pa.field("id", pa.int64(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("operation_result_code", pa.string(), nullable=False),
        pa.field("operation_trace_code", pa.string(), nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("details_json", pa.string(), nullable=False),
    ]
)

TABLE = Table(
    name="operations",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.operations"),
    description="One row per operation with its type-specific details (stellar-etl history_operations).",
)
