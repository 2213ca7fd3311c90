"""The ``token_transfers`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.token_transfers`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("transaction_hash", pa.string(), nullable=False),
        pa.field("transaction_id", pa.int64(), nullable=False),
        pa.field("operation_id", pa.int64(), nullable=True),  # null for fee events
        pa.field("event_topic", pa.string(), nullable=False),  # fee, transfer, mint, burn or clawback
        pa.field("from", pa.string(), nullable=True),
        pa.field("to", pa.string(), nullable=True),
        pa.field("asset", pa.string(), nullable=False),
        pa.field("asset_type", pa.string(), nullable=False),
        pa.field("asset_code", pa.string(), nullable=True),
        pa.field("asset_issuer", pa.string(), nullable=True),
        pa.field("amount", pa.float64(), nullable=False),
        pa.field("amount_raw", pa.string(), nullable=False),  # exact, up to i128 for contract tokens
        pa.field("contract_id", pa.string(), nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("to_muxed", pa.string(), nullable=True),
        pa.field("to_muxed_id", pa.string(), nullable=True),  # a uint64 as decimal text, as stellar-etl
    ]
)

TABLE = Table(
    name="token_transfers",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.token_transfers"),
    description="Every movement of value (fees, transfers, mints, burns, clawbacks), as stellar-etl's CAP-67 export.",
)
