"""The ``contract_data`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.contract_data`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table, xdr_field

SCHEMA = pa.schema(
    [
        pa.field("contract_id", pa.string(), nullable=False),
        pa.field("contract_key_type", pa.string(), nullable=False),
        pa.field("contract_durability", pa.string(), nullable=False),
        pa.field("asset_code", pa.string(), nullable=False),
        pa.field("asset_issuer", pa.string(), nullable=False),
        pa.field("asset_type", pa.string(), nullable=False),
        pa.field("balance_holder", pa.string(), nullable=False),
        pa.field("balance", pa.string(), nullable=False),
        *CHANGE_FIELDS,
        pa.field("ledger_key_hash", pa.string(), nullable=False),
        xdr_field("key", nullable=False),
        pa.field("key_decoded", pa.string(), nullable=False),
        xdr_field("val", nullable=False),
        pa.field("val_decoded", pa.string(), nullable=False),
        xdr_field("contract_data_xdr", nullable=False),
        xdr_field("ledger_key_hash_base_64", nullable=False),
    ]
)

TABLE = Table(
    name="contract_data",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.contract_data"),
    description="Contract data entry changes per ledger, with SAC assets and balances (stellar-etl contract_data).",
)
