"""``ttl``: time-to-live entry changes of Soroban entries (stellar-etl ``ttl``).

When one ledger extends a TTL several times the compacted row keeps the largest
``live_until_ledger_seq`` (CAP-63 semantics, as the Go compactor applies them).
"""

from __future__ import annotations

import pyarrow as pa
from stellar_sdk import xdr

from beam_pipeline.records.base import UTC_TS, Table
from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.xdr.ledger import LedgerView

SCHEMA = pa.schema(
    [
        pa.field("key_hash", pa.string(), nullable=False),
        pa.field("live_until_ledger_seq", pa.int64(), nullable=False),
        pa.field("last_modified_ledger", pa.int64(), nullable=False),
        pa.field("ledger_entry_change", pa.int64(), nullable=False),
        pa.field("deleted", pa.bool_(), nullable=False),
        pa.field("closed_at", UTC_TS, nullable=False),
        pa.field("ledger_sequence", pa.int64(), nullable=False),
    ]
)


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    ttl = change.entry.data.ttl
    return {
        # sha256 of the contract data / code LedgerKey the TTL belongs to
        "key_hash": ttl.key_hash.hash.hex(),
        "live_until_ledger_seq": ttl.live_until_ledger_seq.uint32,
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per TTL entry changed in the ledger (compacted)."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.TTL)]


TABLE = Table(
    name="ttl",
    schema=SCHEMA,
    version=2,
    transform=transform,
    description="TTL entry changes per ledger (stellar-etl ttl).",
)
