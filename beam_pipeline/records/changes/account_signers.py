"""``account_signers``: one row per signer of each account whose signers changed (stellar-etl ``signers``).

stellar-etl's ``TransformSigners``, for each (per-ledger compacted) account change that
``AccountSignersChanged`` selects (a created or removed account, or a change of the signer set, a
weight or a signer's sponsor):

- one row per signer of the reported entry (the post-state, or the pre-state of a removed
  account): the master key (the account id) when its weight is above zero, then every signer,
  with its weight and sponsor, the change type and ``deleted`` of the change;
- for an update, also one row per signer that the pre-state had and the post-state lacks:
  weight 0, its former sponsor, the pre-state's ``last_modified_ledger``, change type
  ``removed`` (2) and ``deleted`` true;
- rows sorted by weight, then signer strkey.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.records.changes._extract import REMOVED, UPDATED, EntryChange, compacted_of_type
from beam_pipeline.util.accounts import account_id_address, signer_key_address
from beam_pipeline.xdr.ledger import LedgerView


def signer_summary(account: xdr.AccountEntry) -> dict[str, int]:
    """go-stellar-sdk's ``SignerSummary``: signer strkey -> weight, master key first if it can sign."""
    out = {}
    master_weight = account.thresholds.thresholds[0]
    if master_weight > 0:
        out[account_id_address(account.account_id)] = master_weight
    for signer in account.signers:
        out[signer_key_address(signer.key)] = signer.weight.uint32
    return out


def signer_sponsoring_ids(account: xdr.AccountEntry) -> list[str | None]:
    """``SignerSponsoringIDs`` as addresses: one per signer, None where unsponsored (or no v2 extension)."""
    ext = account.ext
    if ext.v == 1 and ext.v1.ext.v == 2:
        return [
            None if d.sponsorship_descriptor is None else account_id_address(d.sponsorship_descriptor)
            for d in ext.v1.ext.v2.signer_sponsoring_i_ds
        ]
    return [None] * len(account.signers)


def sponsor_per_signer(account: xdr.AccountEntry) -> dict[str, str]:
    """``SponsorPerSigner``: signer strkey -> sponsor address, for sponsored signers only."""
    ids = signer_sponsoring_ids(account)
    if len(ids) != len(account.signers):
        raise ValueError(
            f"account {account_id_address(account.account_id)} has {len(account.signers)} signers "
            f"but {len(ids)} signer sponsoring ids"
        )
    pairs = zip(account.signers, ids, strict=True)
    return {signer_key_address(s.key): sponsor for s, sponsor in pairs if sponsor is not None}


def signers_changed(change: EntryChange) -> bool:
    """stellar-etl's ``AccountSignersChanged``."""
    if change.pre is None or change.post is None:
        return True
    pre, post = change.pre.data.account, change.post.data.account
    if signer_summary(pre) != signer_summary(post):
        return True
    return signer_sponsoring_ids(pre) != signer_sponsoring_ids(post)


def change_rows(change: EntryChange, ledger: LedgerView) -> list[Row]:
    entry = change.entry
    account = entry.data.account
    address = account_id_address(account.account_id)
    common = {"closed_at": ledger.closed_at, "ledger_sequence": ledger.sequence}
    sponsors = sponsor_per_signer(account)
    summary = signer_summary(account)
    rows = [
        {
            "account_id": address,
            "signer": signer,
            "weight": weight,
            "sponsor": sponsors.get(signer),
            "last_modified_ledger": entry.last_modified_ledger_seq.uint32,
            "ledger_entry_change": change.change_type.value,
            "deleted": change.deleted,
            **common,
        }
        for signer, weight in summary.items()
    ]
    if change.change_type == UPDATED and change.pre is not None:
        pre = change.pre.data.account
        pre_sponsors = sponsor_per_signer(pre)
        for signer in signer_summary(pre):
            if signer in summary:
                continue
            rows.append(
                {
                    "account_id": account_id_address(pre.account_id),
                    "signer": signer,
                    "weight": 0,
                    "sponsor": pre_sponsors.get(signer),
                    "last_modified_ledger": change.pre.last_modified_ledger_seq.uint32,
                    "ledger_entry_change": REMOVED.value,
                    "deleted": True,
                    **common,
                }
            )
    rows.sort(key=lambda r: (r["weight"], r["signer"]))
    return rows


def transform(ledger: LedgerView) -> list[Row]:
    """Signer rows of every account change of the ledger (compacted) that touched signers."""
    rows: list[Row] = []
    for change in compacted_of_type(ledger, xdr.LedgerEntryType.ACCOUNT):
        if signers_changed(change):
            rows += change_rows(change, ledger)
    return rows
