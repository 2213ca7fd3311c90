"""The ``liquidity_pools`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.liquidity_pools`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("liquidity_pool_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("fee", pa.int64(), nullable=False),
        pa.field("trustline_count", pa.int64(), nullable=False),
        pa.field("pool_share_count", pa.float64(), nullable=False),
        pa.field("asset_a_type", pa.string(), nullable=False),
        pa.field("asset_a_code", pa.string(), nullable=False),
        pa.field("asset_a_issuer", pa.string(), nullable=False),
        pa.field("asset_a_amount", pa.float64(), nullable=False),
        pa.field("asset_a_id", pa.int64(), nullable=False),
        pa.field("asset_b_type", pa.string(), nullable=False),
        pa.field("asset_b_code", pa.string(), nullable=False),
        pa.field("asset_b_issuer", pa.string(), nullable=False),
        pa.field("asset_b_amount", pa.float64(), nullable=False),
        pa.field("asset_b_id", pa.int64(), nullable=False),
        *CHANGE_FIELDS,
        pa.field("liquidity_pool_id_strkey", pa.string(), nullable=False),
    ]
)

TABLE = Table(
    name="liquidity_pools",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.liquidity_pools"),
    description="Liquidity pool entry changes per ledger (stellar-etl liquidity_pools).",
)
