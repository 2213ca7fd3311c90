"""The ``ttl`` table: its schema and metadata, importable without stellar_sdk.

Its rows are built by the native core, or on the Python path by `beam_pipeline.records.changes.ttl`.
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.records.base import CHANGE_FIELDS, LazyTransform, Table

SCHEMA = pa.schema(
    [
        pa.field("key_hash", pa.string(), nullable=False),
        pa.field("live_until_ledger_seq", pa.int64(), nullable=False),
        *CHANGE_FIELDS,
    ]
)

TABLE = Table(
    name="ttl",
    schema=SCHEMA,
    version=2,
    transform=LazyTransform("beam_pipeline.records.changes.ttl"),
    description="TTL entry changes per ledger (stellar-etl ttl).",
)
