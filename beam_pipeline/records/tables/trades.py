"""The ``trades`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.trades`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("order", pa.int64(), nullable=False),
        pa.field("ledger_closed_at", UTC_TS, nullable=False),
        pa.field("selling_account_address", pa.string(), nullable=False),
        pa.field("selling_asset_code", pa.string(), nullable=False),
        pa.field("selling_asset_issuer", pa.string(), nullable=False),
        pa.field("selling_asset_type", pa.string(), nullable=False),
        pa.field("selling_asset_id", pa.int64(), nullable=False),
        pa.field("selling_amount", pa.float64(), nullable=False),
        pa.field("buying_account_address", pa.string(), nullable=False),
        pa.field("buying_asset_code", pa.string(), nullable=False),
        pa.field("buying_asset_issuer", pa.string(), nullable=False),
        pa.field("buying_asset_type", pa.string(), nullable=False),
        pa.field("buying_asset_id", pa.int64(), nullable=False),
        pa.field("buying_amount", pa.float64(), nullable=False),
        pa.field("price_n", pa.int64(), nullable=False),
        pa.field("price_d", pa.int64(), nullable=False),
        pa.field("selling_offer_id", pa.int64()),
        pa.field("buying_offer_id", pa.int64()),
        pa.field("selling_liquidity_pool_id", pa.string()),
        pa.field("liquidity_pool_fee", pa.int64()),
        pa.field("history_operation_id", pa.int64(), nullable=False),
        pa.field("trade_type", pa.int64(), nullable=False),
        pa.field("rounding_slippage", pa.int64()),
        pa.field("seller_is_exact", pa.bool_()),
        pa.field("selling_liquidity_pool_id_strkey", pa.string()),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
    ]
)

TABLE = Table(
    name="trades",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.trades"),
    description="One row per offer or liquidity-pool fill of a successful trade (stellar-etl history_trades).",
)
