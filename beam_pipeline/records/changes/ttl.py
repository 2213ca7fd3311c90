"""``ttl``: time-to-live entry changes of Soroban entries (stellar-etl ``ttl``).

When one ledger extends a TTL several times the compacted row keeps the largest
``live_until_ledger_seq`` (CAP-63 semantics, as the Go compactor applies them).
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.changes._common import change_columns
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.xdr.ledger import LedgerView


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
