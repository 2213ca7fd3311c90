"""The ``offers`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.offers`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("seller_id", pa.string(), nullable=False),
        pa.field("offer_id", pa.int64(), nullable=False),
        pa.field("selling_asset_type", pa.string(), nullable=False),
        pa.field("selling_asset_code", pa.string(), nullable=False),
        pa.field("selling_asset_issuer", pa.string(), nullable=False),
        pa.field("selling_asset_id", pa.int64(), nullable=False),
        pa.field("buying_asset_type", pa.string(), nullable=False),
        pa.field("buying_asset_code", pa.string(), nullable=False),
        pa.field("buying_asset_issuer", pa.string(), nullable=False),
        pa.field("buying_asset_id", pa.int64(), nullable=False),
        pa.field("amount", pa.float64(), nullable=False),
        pa.field("pricen", pa.int64(), nullable=False),
        pa.field("priced", pa.int64(), nullable=False),
        pa.field("price", pa.float64(), nullable=False),
        pa.field("flags", pa.int64(), nullable=False),
        pa.field("last_modified_ledger", pa.int64(), nullable=False),
        pa.field("ledger_entry_change", pa.int64(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("sponsor", pa.string()),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
    ]
)

TABLE = Table(
    name="offers",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.offers"),
    description="Offer entry changes per ledger (stellar-etl offers).",
)
