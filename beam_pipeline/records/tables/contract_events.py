"""The ``contract_events`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.contract_events`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import UTC_TS, LazyTransform, Table, xdr_field, xdr_list_field

SCHEMA = pa.schema(
    [
        pa.field("transaction_hash", pa.string(), nullable=False),
        pa.field("transaction_id", pa.int64(), nullable=False),
        pa.field("successful", pa.bool_(), nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("in_successful_contract_call", pa.bool_(), nullable=False),
        pa.field("contract_id", pa.string(), nullable=False),  # "" when the event has none, as in stellar-etl
        pa.field("type", pa.int64(), nullable=False),
        pa.field("type_string", pa.string(), nullable=False),
        xdr_list_field("topics"),
        pa.field("topics_decoded", pa.string(), nullable=False),
        xdr_field("data", nullable=False),
        pa.field("data_decoded", pa.string(), nullable=False),
        xdr_field("contract_event_xdr", nullable=False),
        pa.field("operation_id", pa.int64(), nullable=True),
    ]
)

TABLE = Table(
    name="contract_events",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.contract_events"),
    description="Contract, system and diagnostic events of every transaction, as stellar-etl exports them.",
)
