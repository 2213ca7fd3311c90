"""An operation's ledger-entry changes as pre/post pairs, ordered as stellar-etl's ingest orders them.

Two details read these changes: the ``sponsor`` of any operation (the first created entry that
carries a sponsoring id, or a newly sponsored signer) and a liquidity pool's reserve deltas.
Both take the *first* match, so the order matters: the Go ingest library pairs each
``state`` with the following ``updated``/``removed``, then stable-sorts the pairs by the XDR of
their ledger key. That is reproduced here.
"""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import xdr

from beam_pipeline.util.accounts import account_id_address, signer_key_address
from beam_pipeline.xdr.ledger import TxView, ledger_key

_T = xdr.LedgerEntryType
_C = xdr.LedgerEntryChangeType


@dataclass(frozen=True)
class Change:
    """One entry's state before (None if created/restored) and after (None if removed) an operation."""

    type: xdr.LedgerEntryType
    pre: xdr.LedgerEntry | None
    post: xdr.LedgerEntry | None

    def key_bytes(self) -> bytes:
        entry = self.pre if self.pre is not None else self.post
        return ledger_key(entry).to_xdr_bytes()


def pair_changes(changes: list[xdr.LedgerEntryChange]) -> list[Change]:
    """Pairs raw changes into pre/post Changes, sorted (stably) by ledger key XDR."""
    out: list[Change] = []
    for i, change in enumerate(changes):
        ct = change.type
        if ct == _C.LEDGER_ENTRY_STATE:
            continue
        if ct in (_C.LEDGER_ENTRY_CREATED, _C.LEDGER_ENTRY_RESTORED):
            post = change.created if ct == _C.LEDGER_ENTRY_CREATED else change.restored
            out.append(Change(post.data.type, None, post))
            continue
        if ct not in (_C.LEDGER_ENTRY_UPDATED, _C.LEDGER_ENTRY_REMOVED):
            raise ValueError(f"unknown ledger entry change type {ct}")
        # An update/removal follows the entry's prior state (or its restoration, CAP-62).
        prior = changes[i - 1] if i > 0 else None
        if prior is None or prior.type not in (_C.LEDGER_ENTRY_STATE, _C.LEDGER_ENTRY_RESTORED):
            raise ValueError(f"ledger entry change {i} ({ct.name}) has no preceding state")
        pre = prior.state if prior.type == _C.LEDGER_ENTRY_STATE else prior.restored
        post = change.updated if ct == _C.LEDGER_ENTRY_UPDATED else None
        out.append(Change(pre.data.type, pre, post))
    if len(out) > 1:
        keys = [c.key_bytes() for c in out]
        order = sorted(range(len(out)), key=keys.__getitem__)
        out = [out[i] for i in order]
    return out


def operation_changes(tx: TxView, index: int, protocol_version: int) -> list[Change]:
    """The changes of operation `index` (0-based) of a transaction.

    A failed transaction has no operation metas, hence no changes. Before protocol 13 a
    ``txINTERNAL_ERROR`` transaction's operation metas are meaningless and ignored, as in
    stellar-etl. stellar-etl refuses TransactionMeta v0 outright; here its operation metas,
    which have the same shape, are used instead.
    """
    if protocol_version <= 12 and tx.result.result.code == xdr.TransactionResultCode.txINTERNAL_ERROR:
        return []
    metas = tx.operation_metas
    if index >= len(metas):
        return []
    return pair_changes(metas[index].changes.ledger_entry_changes)


def sponsoring_id(entry: xdr.LedgerEntry) -> xdr.AccountID | None:
    """The account sponsoring an entry's reserve, if any."""
    ext = entry.ext
    if ext.v == 1 and ext.v1 is not None:
        return ext.v1.sponsoring_id.sponsorship_descriptor
    return None


def signer_sponsors(account: xdr.AccountEntry) -> dict[str, str]:
    """Signer strkey -> sponsor address, for the signers that have a sponsor."""
    ext = account.ext
    if ext.v != 1 or ext.v1.ext.v != 2:
        return {}
    ids = ext.v1.ext.v2.signer_sponsoring_i_ds
    out = {}
    for signer, sponsor in zip(account.signers, ids, strict=True):
        if sponsor.sponsorship_descriptor is not None:
            out[signer_key_address(signer.key)] = account_id_address(sponsor.sponsorship_descriptor)
    return out


def find_sponsor(changes: list[Change], signer_key: str | None) -> str | None:
    """stellar-etl's ``sponsor`` detail: who sponsors what this operation created.

    Walks the changes in order; for a set_options that adds a signer, an account change that
    gives that signer a new sponsor wins; otherwise the first newly created entry that has a
    sponsoring id.
    """
    for change in changes:
        if signer_key and change.type == _T.ACCOUNT and change.post is not None:
            post = signer_sponsors(change.post.data.account).get(signer_key)
            if post is not None:
                pre = signer_sponsors(change.pre.data.account).get(signer_key) if change.pre is not None else None
                if pre != post:
                    return post
        if change.pre is not None or change.post is None:
            continue
        sponsor = sponsoring_id(change.post)
        if sponsor is not None:
            return account_id_address(sponsor)
    return None
