"""The ``ledgers`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.ledgers`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table, uint64_field, xdr_field, xdr_list_field

# Why these XDR uint64 values fit the stored int64 (docs/tables.md, Integer types).
_SIZE_BOUND = "a size in bytes of the ledger state: 2^63 bytes is 8 EiB"

SCHEMA = pa.schema(
    [
        pa.field("sequence", pa.int64(), nullable=False),
        pa.field("ledger_hash", pa.string(), nullable=False),
        pa.field("previous_ledger_hash", pa.string(), nullable=False),
        xdr_field("ledger_header", nullable=False),
        pa.field("transaction_count", pa.int64(), nullable=False),
        pa.field("operation_count", pa.int64(), nullable=False),
        pa.field("successful_transaction_count", pa.int64(), nullable=False),
        pa.field("failed_transaction_count", pa.int64(), nullable=False),
        # A decimal string, because stellar-etl emits it as one.
        pa.field("tx_set_operation_count", pa.string(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("total_coins", pa.int64(), nullable=False),
        pa.field("fee_pool", pa.int64(), nullable=False),
        pa.field("base_fee", pa.int64(), nullable=False),
        pa.field("base_reserve", pa.int64(), nullable=False),
        pa.field("max_tx_set_size", pa.int64(), nullable=False),
        pa.field("protocol_version", pa.int64(), nullable=False),
        pa.field("id", pa.int64(), nullable=False),
        pa.field("soroban_fee_write_1kb", pa.int64(), nullable=False),
        pa.field("node_id", pa.string(), nullable=False),
        pa.field("signature", pa.string(), nullable=False),
        uint64_field("total_byte_size_of_bucket_list", _SIZE_BOUND, nullable=False),
        uint64_field("total_byte_size_of_live_soroban_state", _SIZE_BOUND, nullable=False),
        pa.field("evicted_ledger_keys_type", pa.list_(pa.string())),
        # stellar-etl calls these "hash" but they are the base64 XDR of each evicted LedgerKey.
        xdr_list_field("evicted_ledger_keys_hash"),
    ]
)

TABLE = Table(
    name="ledgers",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.ledgers"),
    description="One row per ledger (stellar-etl history_ledgers).",
)
