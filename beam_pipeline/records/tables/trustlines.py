"""The ``trustlines`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.trustlines`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table, xdr_field

SCHEMA = pa.schema(
    [
        xdr_field("ledger_key", nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("asset_code", pa.string(), nullable=False),
        pa.field("asset_issuer", pa.string(), nullable=False),
        pa.field("asset_type", pa.string(), nullable=False),
        pa.field("asset_id", pa.int64(), nullable=False),
        pa.field("balance", pa.float64(), nullable=False),
        pa.field("trust_line_limit", pa.int64(), nullable=False),
        pa.field("liquidity_pool_id", pa.string(), nullable=False),
        pa.field("buying_liabilities", pa.float64(), nullable=False),
        pa.field("selling_liabilities", pa.float64(), nullable=False),
        pa.field("flags", pa.int64(), nullable=False),
        pa.field("last_modified_ledger", pa.int64(), nullable=False),
        pa.field("ledger_entry_change", pa.int64(), nullable=False),
        pa.field("sponsor", pa.string()),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("liquidity_pool_id_strkey", pa.string(), nullable=False),
    ]
)

TABLE = Table(
    name="trustlines",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.trustlines"),
    description="Trustline entry changes per ledger (stellar-etl trust_lines).",
)
