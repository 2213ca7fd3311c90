"""The ``claimable_balances`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.claimable_balances`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("balance_id", pa.string(), nullable=False),
        pa.field("claimants", pa.string()),
        pa.field("asset_code", pa.string(), nullable=False),
        pa.field("asset_issuer", pa.string(), nullable=False),
        pa.field("asset_type", pa.string(), nullable=False),
        pa.field("asset_id", pa.int64(), nullable=False),
        pa.field("asset_amount", pa.float64(), nullable=False),
        pa.field("sponsor", pa.string()),
        pa.field("flags", pa.int64(), nullable=False),
        *CHANGE_FIELDS,
        pa.field("balance_id_strkey", pa.string(), nullable=False),
    ]
)

TABLE = Table(
    name="claimable_balances",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.claimable_balances"),
    description="Claimable balance entry changes per ledger (stellar-etl claimable_balances).",
)
