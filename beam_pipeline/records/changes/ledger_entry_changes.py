"""``ledger_entry_changes``: every ledger-entry change of every ledger, uncompacted, in one table.

One row per change as the Go ingest reader yields them (see `_extract`): a ``state`` entry is
folded into the ``updated``/``removed`` change after it, so a row carries the entry stellar-etl
would report (``val_xdr``: the new state, or the last state of a removed entry). Unlike the
typed tables, rows keep their context: the phase of the ledger that produced them, the
transaction (hash and TOID) and the operation (1-based index and TOID), or the upgrade.
Evicted keys (LedgerCloseMeta v1/v2) are rows of phase ``eviction`` with ``change_type``
``evicted``, ``deleted`` true and no entry (``val_xdr``/``last_modified_ledger`` null); the typed
tables leave them out, as stellar-etl does. Compacting these rows per ledger and entry type
gives exactly the typed tables' changes.
"""

from __future__ import annotations

from beam_pipeline.records.changes._extract import (
    CREATED,
    PHASE_EVICTION,
    REMOVED,
    RESTORED,
    UPDATED,
    EntryChange,
    ledger_changes,
)
from beam_pipeline.records.changes.restored_keys import go_entry_type_name
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView

_CHANGE_TYPE_NAMES = {CREATED: "created", UPDATED: "updated", REMOVED: "removed", RESTORED: "restored"}


def _row(i: int, change: EntryChange, ledger: LedgerView) -> dict:
    entry = change.entry
    tx = change.tx
    evicted = change.phase == PHASE_EVICTION
    return {
        "ledger_sequence": ledger.sequence,
        "closed_at": ledger.closed_at,
        "change_index": i,
        "phase": change.phase,
        "transaction_hash": None if tx is None else tx.hash_hex,
        "transaction_id": change.transaction_id,
        "operation_index": None if change.op_index is None else change.op_index + 1,
        "operation_id": change.operation_id,
        "upgrade_index": change.upgrade_index,
        "ledger_entry_type": go_entry_type_name(change.entry_type),
        "change_type": "evicted" if evicted else _CHANGE_TYPE_NAMES[change.change_type],
        "ledger_entry_change": change.change_type.value,
        "deleted": change.deleted,
        "last_modified_ledger": None if entry is None else entry.last_modified_ledger_seq.uint32,
        "ledger_key_hash": change.key_hash_hex,
        "key_xdr": change.key_bytes,
        "val_xdr": None if entry is None else xdr_bytes(entry),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per change of the ledger, in reader order (``change_index`` 0, 1, ...)."""
    return [_row(i, c, ledger) for i, c in enumerate(ledger_changes(ledger))]
