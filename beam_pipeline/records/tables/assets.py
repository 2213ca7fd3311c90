"""The ``assets`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.assets`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table

DEDUPE_KEY = "asset_id"

SCHEMA = pa.schema(
    [
        pa.field("asset_code", pa.string(), nullable=False),
        pa.field("asset_issuer", pa.string(), nullable=False),
        pa.field("asset_type", pa.string(), nullable=False),
        pa.field("asset_id", pa.int64(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
    ]
)

TABLE = Table(
    name="assets",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.assets"),
    description="Assets of payments and sell offers, once per run at their first ledger (stellar-etl history_assets).",
    dedupe_key=DEDUPE_KEY,
)
