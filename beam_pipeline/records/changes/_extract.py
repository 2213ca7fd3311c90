"""Every ledger-entry change of one ledger, in the order and shape stellar-etl sees them.

stellar-etl reads changes with the Go ingest ``LedgerChangeReader`` and squashes them per ledger
with a ``ChangeCompactor``. This module reproduces both so that each change table matches it:

Reading (`ledger_changes`), in this order:

1. fee changes of every transaction (application order);
2. transaction meta of every transaction: changes before the operations (``txChanges`` of
   TransactionMeta V1, ``txChangesBefore`` of V2..V4), each operation's changes, then
   ``txChangesAfter``. A transaction that failed with ``txINTERNAL_ERROR`` on protocol <= 12
   contributes only its before-changes (its operation metas are not trustworthy);
3. post-apply fee changes (fee refunds of LedgerCloseMeta v2);
4. changes of each ledger upgrade;
5. evicted keys (LedgerCloseMeta v1/v2). The Go reader does not read these; they are kept
   here for the generic ``ledger_entry_changes`` table only and never reach the typed tables.

Inside one ``LedgerEntryChanges`` list the Go reader pairs each ``updated``/``removed`` entry with
the ``state`` (or, since CAP-62, ``restored``) entry before it, drops the ``state`` entries, and
sorts the resulting changes by the XDR of their ledger key (stably). So a ``restored`` entry
followed by ``updated`` yields two changes: the restoration and the update.

Compaction (`compact`) keeps one change per ledger key and ledger: created+updated stays
created, updated+updated stays updated (first pre-state, last post-state), created+removed
disappears, updated+removed becomes removed with the first pre-state, removed+created becomes
updated, restored+updated stays restored, restored+removed becomes removed, and a TTL update
keeps the larger ``liveUntilLedgerSeq`` (CAP-63). Go returns compacted changes in map order,
i.e. randomly; here they come in the order each key first appeared, which is deterministic.

TransactionMeta V0 (operations only, pre-protocol-10 history) is an error in the Go reader; it
is read here as its operation changes so that old ledgers still export.
"""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass

from stellar_sdk import xdr

from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView, TxView, ledger_key

CREATED = xdr.LedgerEntryChangeType.LEDGER_ENTRY_CREATED
UPDATED = xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED
REMOVED = xdr.LedgerEntryChangeType.LEDGER_ENTRY_REMOVED
STATE = xdr.LedgerEntryChangeType.LEDGER_ENTRY_STATE
RESTORED = xdr.LedgerEntryChangeType.LEDGER_ENTRY_RESTORED

PHASE_FEE = "fee"
PHASE_TX_BEFORE = "tx_before"
PHASE_OPERATION = "operation"
PHASE_TX_AFTER = "tx_after"
PHASE_POST_APPLY_FEE = "post_apply_fee"
PHASE_UPGRADE = "upgrade"
PHASE_EVICTION = "eviction"

_ET = xdr.LedgerEntryType


class LedgerChangeError(ValueError):
    """The ledger's entry changes break the rules the ingest reader relies on."""


@dataclass(frozen=True)
class EntryChange:
    """One change of one ledger entry, with where in the ledger it happened.

    Attributes:
        entry_type: the entry's LedgerEntryType.
        change_type: CREATED, UPDATED, REMOVED or RESTORED (never STATE). Evictions are REMOVED.
        pre: the entry before the change (None for created/restored and evictions).
        post: the entry after the change (None for removed and evictions).
        key: the entry's LedgerKey.
        key_bytes: XDR of `key` (the sort and compaction key).
        phase: one of the PHASE_* names.
        tx: the transaction that caused it (fee, tx and operation phases), else None.
        op_index: 0-based operation index within `tx` for the operation phase, else None.
        upgrade_index: 0-based index into the ledger's upgrades for the upgrade phase, else None.
    """

    entry_type: xdr.LedgerEntryType
    change_type: xdr.LedgerEntryChangeType
    pre: xdr.LedgerEntry | None
    post: xdr.LedgerEntry | None
    key: xdr.LedgerKey
    key_bytes: bytes
    phase: str
    tx: TxView | None = None
    op_index: int | None = None
    upgrade_index: int | None = None

    @property
    def entry(self) -> xdr.LedgerEntry | None:
        """The entry stellar-etl reports: the post-state, or the pre-state of a removal."""
        return self.pre if self.change_type == REMOVED else self.post

    @property
    def deleted(self) -> bool:
        return self.change_type == REMOVED

    @property
    def key_hash_hex(self) -> str:
        return hashlib.sha256(self.key_bytes).hexdigest()

    @property
    def transaction_id(self) -> int | None:
        return None if self.tx is None else toid(self.tx.ledger.sequence, self.tx.index)

    @property
    def operation_id(self) -> int | None:
        if self.tx is None or self.op_index is None:
            return None
        return toid(self.tx.ledger.sequence, self.tx.index, self.op_index + 1)


def _change(
    change_type: xdr.LedgerEntryChangeType,
    pre: xdr.LedgerEntry | None,
    post: xdr.LedgerEntry | None,
    phase: str,
    tx: TxView | None,
    op_index: int | None,
    upgrade_index: int | None,
) -> EntryChange:
    entry = post if post is not None else pre
    key = ledger_key(entry)
    return EntryChange(
        entry.data.type, change_type, pre, post, key, key.to_xdr_bytes(), phase, tx, op_index, upgrade_index
    )


def pair_changes(
    changes: xdr.LedgerEntryChanges | None,
    phase: str,
    where: str,
    tx: TxView | None = None,
    op_index: int | None = None,
    upgrade_index: int | None = None,
    entry_type: xdr.LedgerEntryType | None = None,
) -> list[EntryChange]:
    """One LedgerEntryChanges list as pre/post changes, sorted by key like the Go reader.

    Args:
        changes: the raw list (state entries are folded into the change after them).
        phase, tx, op_index, upgrade_index: context copied onto every change.
        where: names the ledger (and transaction) in errors.
        entry_type: only changes of this entry type are returned (the whole list is still
            checked); filtering before the sort gives the same order as sorting, then filtering.
    """
    if changes is None:
        return []
    items = changes.ledger_entry_changes
    out: list[EntryChange] = []
    for i, item in enumerate(items):
        t = item.type
        if t == STATE:
            continue  # folded into the UPDATED/REMOVED change after it
        if t == CREATED:
            pre, post = None, item.created
        elif t == RESTORED:
            pre, post = None, item.restored
        elif t in (UPDATED, REMOVED):
            prev = items[i - 1] if i > 0 else None
            if prev is not None and prev.type == STATE:
                pre = prev.state
            elif prev is not None and prev.type == RESTORED:
                pre = prev.restored
            else:
                raise LedgerChangeError(f"{where}: {t.name} change #{i} in {phase} is not preceded by its state")
            post = item.updated if t == UPDATED else None
        else:
            raise LedgerChangeError(f"{where}: unknown ledger entry change type {t} in {phase}")
        if entry_type is not None and (post if post is not None else pre).data.type != entry_type:
            continue
        out.append(_change(t, pre, post, phase, tx, op_index, upgrade_index))
    out.sort(key=lambda c: c.key_bytes)  # list.sort is stable, like Go's sort.Stable
    return out


def _internal_error(tx: TxView) -> bool:
    return tx.result.result.code == xdr.TransactionResultCode.txINTERNAL_ERROR


def _meta_changes(tx: TxView, entry_type: xdr.LedgerEntryType | None = None) -> list[EntryChange]:
    """The transaction-meta changes of one transaction: before, operations, after."""
    where = f"ledger {tx.ledger.sequence} transaction {tx.hash_hex}"
    meta = tx.meta
    if meta.v == 0:
        out: list[EntryChange] = []
        for op_index, op_meta in enumerate(meta.operations):
            out += pair_changes(op_meta.changes, PHASE_OPERATION, where, tx, op_index, entry_type=entry_type)
        return out
    if meta.v == 1:
        before, after = meta.v1.tx_changes, None
        op_metas = meta.v1.operations
    elif meta.v in (2, 3, 4):
        inner = {2: meta.v2, 3: meta.v3, 4: meta.v4}[meta.v]
        before, after = inner.tx_changes_before, inner.tx_changes_after
        op_metas = inner.operations
    else:
        raise LedgerChangeError(f"{where}: unsupported TransactionMeta version {meta.v}")
    out = pair_changes(before, PHASE_TX_BEFORE, where, tx, entry_type=entry_type)
    if _internal_error(tx) and tx.ledger.protocol_version <= 12:
        return out
    for op_index, op_meta in enumerate(op_metas):
        out += pair_changes(op_meta.changes, PHASE_OPERATION, where, tx, op_index, entry_type=entry_type)
    out += pair_changes(after, PHASE_TX_AFTER, where, tx, entry_type=entry_type)
    return out


def _evictions(ledger: LedgerView) -> list[EntryChange]:
    out = []
    for key in ledger.evicted_keys:
        out.append(EntryChange(key.type, REMOVED, None, None, key, xdr_bytes(key), PHASE_EVICTION))
    return out


def _read(ledger: LedgerView, entry_type: xdr.LedgerEntryType | None = None) -> list[EntryChange]:
    """Every change of the ledger in reader order (only those of `entry_type` when given)."""
    where = f"ledger {ledger.sequence}"
    txs = ledger.transactions
    out: list[EntryChange] = []
    for tx in txs:
        out += pair_changes(tx.fee_changes, PHASE_FEE, f"{where} transaction {tx.hash_hex}", tx, entry_type=entry_type)
    for tx in txs:
        out += _meta_changes(tx, entry_type)
    for tx in txs:
        where_tx = f"{where} transaction {tx.hash_hex}"
        out += pair_changes(tx.post_apply_fee_changes, PHASE_POST_APPLY_FEE, where_tx, tx, entry_type=entry_type)
    for i, upgrade in enumerate(ledger.upgrades):
        out += pair_changes(upgrade.changes, PHASE_UPGRADE, where, upgrade_index=i, entry_type=entry_type)
    evicted = _evictions(ledger)
    out += evicted if entry_type is None else [c for c in evicted if c.entry_type == entry_type]
    return out


def _with(change: EntryChange, change_type, pre, post) -> EntryChange:
    """A compacted change: context of the change that started it, new type and states."""
    return EntryChange(
        change.entry_type,
        change_type,
        pre,
        post,
        change.key,
        change.key_bytes,
        change.phase,
        change.tx,
        change.op_index,
        change.upgrade_index,
    )


def _max_ttl(a: xdr.LedgerEntry, b: xdr.LedgerEntry) -> xdr.LedgerEntry:
    """The TTL entry `b` with the larger liveUntilLedgerSeq of the two (CAP-63), `b` unmodified."""
    if a.data.ttl.live_until_ledger_seq.uint32 > b.data.ttl.live_until_ledger_seq.uint32:
        merged = xdr.LedgerEntry.from_xdr_bytes(b.to_xdr_bytes())
        merged.data.ttl.live_until_ledger_seq = a.data.ttl.live_until_ledger_seq
        return merged
    return b


def compact(changes: list[EntryChange], sequence: int) -> list[EntryChange]:
    """Squashes changes to one per ledger key, exactly as the Go ChangeCompactor does.

    Evictions are not changes the Go reader produces and must not be passed in.

    Raises:
        LedgerChangeError: a sequence the compactor rejects (e.g. creating an existing entry).
    """
    cache: dict[bytes, EntryChange] = {}
    for c in changes:
        k = c.key_bytes
        old = cache.get(k)
        bad = None
        if c.phase == PHASE_EVICTION:
            raise LedgerChangeError(f"ledger {sequence}: evictions cannot be compacted")
        if old is None:
            cache[k] = c
        elif c.change_type == CREATED:
            if old.change_type == REMOVED:
                cache[k] = _with(old, UPDATED, old.pre, c.post)
            else:
                bad = "create an entry that already exists"
        elif c.change_type == UPDATED:
            if old.change_type == REMOVED:
                bad = "update an entry that was removed"
            else:
                post = c.post
                if c.entry_type == _ET.TTL:
                    post = _max_ttl(old.post, post)
                cache[k] = _with(old, old.change_type, old.pre, post)
        elif c.change_type == REMOVED:
            if old.change_type == CREATED:
                del cache[k]
            elif old.change_type == UPDATED:
                cache[k] = _with(old, REMOVED, old.pre, None)
            elif old.change_type == RESTORED:
                cache[k] = _with(old, REMOVED, c.pre, None)
            else:
                bad = "remove an entry that was already removed"
        elif c.change_type == RESTORED:
            bad = "restore an entry that is already active"
        if bad:
            raise LedgerChangeError(
                f"ledger {sequence}: cannot {bad} (ledger key {c.key_bytes.hex()}, {c.phase} change)"
            )
    return list(cache.values())


class _LastLedgerCache:
    """The changes of the most recently read ledger, shared by the eleven change tables.

    Only one ledger is kept: the changes reference their TxViews and so the LedgerView, and a
    worker moves from ledger to ledger, so a larger (or weak-keyed) cache would only pin memory.
    """

    def __init__(self) -> None:
        self._ledger: weakref.ref | None = None
        self.read: list[EntryChange] | None = None
        self.compacted: list[EntryChange] | None = None
        self.compacted_by_type: dict[xdr.LedgerEntryType, list[EntryChange]] = {}

    def of(self, ledger: LedgerView) -> _LastLedgerCache:
        if self._ledger is None or self._ledger() is not ledger:
            self._ledger, self.read, self.compacted = weakref.ref(ledger), None, None
            self.compacted_by_type = {}
        return self


_CACHE = _LastLedgerCache()


def ledger_changes(ledger: LedgerView) -> list[EntryChange]:
    """Every change of the ledger in reader order."""
    cache = _CACHE.of(ledger)
    if cache.read is None:
        cache.read = _read(ledger)
    return cache.read


def compacted_changes(ledger: LedgerView) -> list[EntryChange]:
    """The ledger's changes after per-ledger compaction, evictions excluded (what stellar-etl exports)."""
    cache = _CACHE.of(ledger)
    if cache.compacted is None:
        read = ledger_changes(ledger)
        cache.compacted = compact([c for c in read if c.phase != PHASE_EVICTION], ledger.sequence)
    return cache.compacted


def compacted_of_type(ledger: LedgerView, entry_type: xdr.LedgerEntryType) -> list[EntryChange]:
    """`compacted_changes` of one entry type.

    Compaction merges changes per ledger key, and keys of different types never meet, so one
    type can be compacted alone: a table of one type (contract_data, accounts, ...) then builds
    keys and pairs only its own changes instead of every change of the ledger.
    """
    cache = _CACHE.of(ledger)
    if cache.compacted is not None:
        return [c for c in cache.compacted if c.entry_type == entry_type]
    got = cache.compacted_by_type.get(entry_type)
    if got is None:
        read = cache.read if cache.read is not None else _read(ledger, entry_type)
        mine = [c for c in read if c.entry_type == entry_type and c.phase != PHASE_EVICTION]
        got = cache.compacted_by_type[entry_type] = compact(mine, ledger.sequence)
    return got
