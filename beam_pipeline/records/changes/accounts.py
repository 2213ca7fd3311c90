"""``accounts``: account entry changes, one row per account per ledger (stellar-etl ``accounts``).

Like stellar-etl, a change that only touches signers (and nothing else but liabilities
normalisation) is not an account row: those changes belong to ``account_signers``.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.changes._common import change_columns, sponsor, stroops_to_real
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import go_string
from beam_pipeline.xdr.ledger import LedgerView


def _without_signers(entry: xdr.LedgerEntry) -> bytes:
    """The account's XDR with signers dropped and a missing liabilities extension made explicit."""
    account = xdr.AccountEntry.from_xdr_bytes(entry.data.account.to_xdr_bytes())
    account.signers = []
    if account.ext.v == 0:
        account.ext = xdr.AccountEntryExt(
            1,
            xdr.AccountEntryExtensionV1(xdr.Liabilities(xdr.Int64(0), xdr.Int64(0)), xdr.AccountEntryExtensionV1Ext(0)),
        )
    return account.to_xdr_bytes()


def changed_except_signers(change: EntryChange) -> bool:
    """Go's ``Change.AccountChangedExceptSigners``: true unless only signers changed."""
    if change.pre is None or change.post is None:
        return True
    if change.pre.last_modified_ledger_seq.uint32 != change.post.last_modified_ledger_seq.uint32:
        return True
    return _without_signers(change.pre) != _without_signers(change.post)


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    entry = change.entry
    a = entry.data.account
    address = account_id_address(a.account_id)
    buying = selling = 0
    seq_ledger = seq_time = 0
    num_sponsored = num_sponsoring = 0
    if a.ext.v == 1:
        v1 = a.ext.v1
        buying, selling = v1.liabilities.buying.int64, v1.liabilities.selling.int64
        if v1.ext.v == 2:
            v2 = v1.ext.v2
            num_sponsored, num_sponsoring = v2.num_sponsored.uint32, v2.num_sponsoring.uint32
            if v2.ext.v == 3:
                seq_ledger = v2.ext.v3.seq_ledger.uint32
                seq_time = v2.ext.v3.seq_time.time_point.uint64
    balance = a.balance.int64
    seq = a.seq_num.sequence_number.int64
    if balance < 0 or buying < 0 or selling < 0 or seq < 0:
        raise ValueError(
            f"ledger {ledger.sequence}: account {address} has a negative balance, liability or sequence number"
        )
    thresholds = a.thresholds.thresholds
    return {
        "account_id": address,
        "balance": stroops_to_real(balance),
        "buying_liabilities": stroops_to_real(buying),
        "selling_liabilities": stroops_to_real(selling),
        "sequence_number": seq,
        "sequence_ledger": seq_ledger,
        "sequence_time": seq_time,
        "num_subentries": a.num_sub_entries.uint32,
        "inflation_destination": account_id_address(a.inflation_dest) if a.inflation_dest else "",
        "flags": a.flags.uint32,
        "home_domain": go_string(a.home_domain.string32),
        "master_weight": thresholds[0],
        "threshold_low": thresholds[1],
        "threshold_medium": thresholds[2],
        "threshold_high": thresholds[3],
        "sponsor": sponsor(entry),
        "num_sponsored": num_sponsored,
        "num_sponsoring": num_sponsoring,
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per account whose non-signer fields changed in the ledger (compacted)."""
    return [
        change_row(c, ledger)
        for c in compacted_of_type(ledger, xdr.LedgerEntryType.ACCOUNT)
        if changed_except_signers(c)
    ]
