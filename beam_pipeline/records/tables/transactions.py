"""The ``transactions`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.transactions`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table, uint64_field, xdr_field

SCHEMA = pa.schema(
    [
        pa.field("transaction_hash", pa.string(), nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("account", pa.string(), nullable=False),
        pa.field("account_muxed", pa.string()),
        pa.field("account_sequence", pa.int64(), nullable=False),
        pa.field("max_fee", pa.int64(), nullable=False),
        pa.field("fee_charged", pa.int64(), nullable=False),
        pa.field("operation_count", pa.int64(), nullable=False),
        xdr_field("tx_envelope", nullable=False),
        xdr_field("tx_result", nullable=False),
        xdr_field("tx_meta", nullable=False),
        xdr_field("tx_fee_meta", nullable=False),
        pa.field("created_at", UTC_TS, nullable=False),
        pa.field("memo_type", pa.string(), nullable=False),
        pa.field("memo", pa.string(), nullable=False),
        pa.field("time_bounds", pa.string(), nullable=False),
        pa.field("successful", pa.bool_(), nullable=False),
        pa.field("id", pa.int64(), nullable=False),
        pa.field("fee_account", pa.string()),
        pa.field("fee_account_muxed", pa.string()),
        pa.field("inner_transaction_hash", pa.string()),
        pa.field("new_max_fee", pa.int64()),
        pa.field("ledger_bounds", pa.string(), nullable=False),
        pa.field("min_account_sequence", pa.int64()),
        uint64_field(
            "min_account_sequence_age",
            "seconds; stellar-core includes a transaction only once its source account's sequence is that old, "
            "so the age is at most the close time (seconds since 1970), far below 2^63",
        ),
        pa.field("min_account_sequence_ledger_gap", pa.int64()),
        pa.field("extra_signers", pa.list_(pa.string())),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("resource_fee", pa.int64(), nullable=False),
        pa.field("soroban_resources_instructions", pa.int64(), nullable=False),
        pa.field("soroban_resources_read_bytes", pa.int64(), nullable=False),
        pa.field("soroban_resources_disk_read_bytes", pa.int64(), nullable=False),
        pa.field("soroban_resources_write_bytes", pa.int64(), nullable=False),
        pa.field("soroban_resources_archived_entries", pa.list_(pa.int64())),
        pa.field("transaction_result_code", pa.string(), nullable=False),
        pa.field("inclusion_fee_bid", pa.int64(), nullable=False),
        pa.field("inclusion_fee_charged", pa.int64(), nullable=False),
        pa.field("resource_fee_refund", pa.int64(), nullable=False),
        pa.field("non_refundable_resource_fee_charged", pa.int64(), nullable=False),
        pa.field("refundable_resource_fee_charged", pa.int64(), nullable=False),
        pa.field("rent_fee_charged", pa.int64(), nullable=False),
        pa.field("tx_signers", pa.list_(pa.string()), nullable=False),
    ]
)

TABLE = Table(
    name="transactions",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.transactions"),
    description="One row per applied transaction (stellar-etl history_transactions).",
)
