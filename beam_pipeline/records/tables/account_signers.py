"""The ``account_signers`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.account_signers`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("signer", pa.string(), nullable=False),
        pa.field("weight", pa.int64(), nullable=False),
        pa.field("sponsor", pa.string()),
        *CHANGE_FIELDS,
    ]
)

TABLE = Table(
    name="account_signers",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.account_signers"),
    description="Signers of accounts whose signers changed, one row per signer (stellar-etl signers).",
)
