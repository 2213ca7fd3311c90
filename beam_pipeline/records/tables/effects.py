"""The ``effects`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.effects`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("address", pa.string(), nullable=False),
        pa.field("address_muxed", pa.string()),
        pa.field("operation_id", pa.int64(), nullable=False),
        pa.field("type", pa.int64(), nullable=False),
        pa.field("type_string", pa.string(), nullable=False),
        pa.field("details", pa.string(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("index", pa.int64(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
    ]
)

TABLE = Table(
    name="effects",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.effects"),
    description="One row per effect of an operation on an account (stellar-etl history_effects).",
)
