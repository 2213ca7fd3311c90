"""``restored_keys``: ledger keys restored from the archive (stellar-etl ``restored_key``).

A key is listed when its compacted change in the ledger is a restoration (CAP-62/66: restored
then updated in one ledger still counts; restored then removed does not). ``ledger_key_hash``
is, despite its name, the key's XDR (base64 on disk), exactly as stellar-etl fills it.
"""

from __future__ import annotations

from beam_pipeline.records.changes._extract import RESTORED, EntryChange, compacted_changes
from beam_pipeline.xdr.ledger import LedgerView


def go_entry_type_name(entry_type) -> str:
    """Go's String() of xdr.LedgerEntryType, e.g. ``LedgerEntryTypeContractData``."""
    return "LedgerEntryType" + "".join(part.capitalize() for part in entry_type.name.split("_"))


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    return {
        "ledger_key_hash": change.key_bytes,
        "ledger_entry_type": go_entry_type_name(change.entry_type),
        "last_modified_ledger": change.post.last_modified_ledger_seq.uint32,
        "closed_at": ledger.closed_at,
        "ledger_sequence": ledger.sequence,
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per entry whose compacted change in the ledger is a restoration."""
    return [change_row(c, ledger) for c in compacted_changes(ledger) if c.change_type == RESTORED]
