"""The ``accounts`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.accounts`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("balance", pa.float64(), nullable=False),
        pa.field("buying_liabilities", pa.float64(), nullable=False),
        pa.field("selling_liabilities", pa.float64(), nullable=False),
        pa.field("sequence_number", pa.int64(), nullable=False),
        pa.field("sequence_ledger", pa.int64(), nullable=False),
        pa.field("sequence_time", pa.int64(), nullable=False),
        pa.field("num_subentries", pa.int64(), nullable=False),
        pa.field("inflation_destination", pa.string(), nullable=False),
        pa.field("flags", pa.int64(), nullable=False),
        pa.field("home_domain", pa.string(), nullable=False),
        pa.field("master_weight", pa.int64(), nullable=False),
        pa.field("threshold_low", pa.int64(), nullable=False),
        pa.field("threshold_medium", pa.int64(), nullable=False),
        pa.field("threshold_high", pa.int64(), nullable=False),
        pa.field("sponsor", pa.string()),
        pa.field("num_sponsored", pa.int64(), nullable=False),
        pa.field("num_sponsoring", pa.int64(), nullable=False),
        *CHANGE_FIELDS,
    ]
)

TABLE = Table(
    name="accounts",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.accounts"),
    description="Account entry changes per ledger (stellar-etl accounts).",
)
