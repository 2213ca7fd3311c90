"""Effects of claimable balances: create, claim and clawback, plus the ``claimable_balance_created``
and ``claimable_balance_claimant_created`` effects that a trust-line revocation also produces.

Claimants come from the operation when it is a create_claimable_balance (core rewrites relative
predicates to absolute ones in the entry; the operation keeps what the user asked), else from the
entry. Predicates use the Go XDR library's JSON form.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.effects._common import Details, Effects, add_asset, amount
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.operations.claimable import balance_id_hex, predicate_json
from beam_pipeline.util.assets import canonical_asset

_OT = xdr.OperationType
_T = xdr.LedgerEntryType
_CLAWBACK_ENABLED = 1  # xdr.ClaimableBalanceFlags CLAIMABLE_BALANCE_CLAWBACK_ENABLED_FLAG


def _flags(entry: xdr.ClaimableBalanceEntry) -> int:
    ext = entry.ext
    return ext.v1.flags.uint32 if ext.v == 1 and ext.v1 is not None else 0


def _add_flag(details: Details, entry: xdr.ClaimableBalanceEntry) -> None:
    if _flags(entry) & _CLAWBACK_ENABLED:
        details["claimable_balance_clawback_enabled_flag"] = True


def add_balance_created(fx: Effects, entry: xdr.ClaimableBalanceEntry) -> None:
    """``claimable_balance_created`` on the source, then one ``claimant_created`` per claimant."""
    balance_id = balance_id_hex(entry.balance_id)
    value = amount(entry.amount)
    asset = canonical_asset(entry.asset)
    details: Details = {"balance_id": balance_id, "amount": value, "asset": asset}
    _add_flag(details, entry)
    fx.add_source(E.CLAIMABLE_BALANCE_CREATED, details)
    op = fx.ctx.op.body.create_claimable_balance_op
    claimants = op.claimants if op is not None else entry.claimants
    for claimant in claimants:
        if claimant.type != xdr.ClaimantType.CLAIMANT_TYPE_V0:
            raise fx.ctx.error(f"unknown claimant type {claimant.type}")
        v0 = claimant.v0
        fx.add_account_id(
            v0.destination,
            E.CLAIMABLE_BALANCE_CLAIMANT_CREATED,
            {
                "balance_id": balance_id,
                "amount": value,
                "predicate": predicate_json(v0.predicate),
                "asset": asset,
            },
        )


def _credit_details(entry: xdr.ClaimableBalanceEntry) -> Details:
    details: Details = {"amount": amount(entry.amount)}
    add_asset(details, entry.asset)
    return details


def create_claimable_balance(fx: Effects) -> None:
    entry = None
    for change in fx.changes:
        if change.type == _T.CLAIMABLE_BALANCE and change.post is not None:
            entry = change.post.data.claimable_balance
            add_balance_created(fx, entry)
            break
    if entry is None:
        raise fx.ctx.error("claimable balance entry not found")
    fx.add_source(E.ACCOUNT_DEBITED, _credit_details(entry))


def claim_claimable_balance(fx: Effects) -> None:
    balance_id = balance_id_hex(fx.ctx.op.body.claim_claimable_balance_op.balance_id)
    entry = None
    for change in fx.changes:
        if change.type == _T.CLAIMABLE_BALANCE and change.pre is not None and change.post is None:
            candidate = change.pre.data.claimable_balance
            if balance_id_hex(candidate.balance_id) == balance_id:
                entry = candidate
                break
    if entry is None:
        raise fx.ctx.error(f"change not found for balanceId : {balance_id}")
    details: Details = {"amount": amount(entry.amount), "balance_id": balance_id, "asset": canonical_asset(entry.asset)}
    _add_flag(details, entry)
    fx.add_source(E.CLAIMABLE_BALANCE_CLAIMED, details)
    fx.add_source(E.ACCOUNT_CREDITED, _credit_details(entry))


def clawback_claimable_balance(fx: Effects) -> None:
    balance_id = balance_id_hex(fx.ctx.op.body.clawback_claimable_balance_op.balance_id)
    fx.add_source(E.CLAIMABLE_BALANCE_CLAWED_BACK, {"balance_id": balance_id})
    for change in fx.changes:
        if change.type == _T.CLAIMABLE_BALANCE and change.post is None and change.pre is not None:
            fx.add_source(E.ACCOUNT_CREDITED, _credit_details(change.pre.data.claimable_balance))
            break


EFFECTS = {
    _OT.CREATE_CLAIMABLE_BALANCE: create_claimable_balance,
    _OT.CLAIM_CLAIMABLE_BALANCE: claim_claimable_balance,
    _OT.CLAWBACK_CLAIMABLE_BALANCE: clawback_claimable_balance,
}
