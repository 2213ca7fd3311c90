"""Details of claimable balances: create, claim and clawback; plus the claim-predicate JSON form.

Predicates are printed the way the Go XDR library marshals ``xdr.ClaimPredicate`` to JSON:
``{"unconditional": true}``, ``{"and": [...]}``, ``{"or": [...]}``, ``{"not": {...}}``,
``{"abs_before": "<RFC 3339>", "abs_before_epoch": "<seconds>"}`` and
``{"rel_before": "<seconds>"}`` (the numbers are strings).
"""

from __future__ import annotations

from typing import Any

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.operations._common import Details, OpContext, add_account, stroops_to_real
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import canonical_asset
from beam_pipeline.util.goformat import go_rfc3339

_OT = xdr.OperationType
_P = xdr.ClaimPredicateType


def balance_id_hex(balance_id: xdr.ClaimableBalanceID) -> str:
    """Hex of the id's full XDR (4-byte type then hash), as stellar-etl's ``balance_id``."""
    return balance_id.to_xdr_bytes().hex()


def balance_id_strkey(balance_id: xdr.ClaimableBalanceID) -> str:
    """The ``B...`` strkey: one type byte then the hash (SEP-23)."""
    if balance_id.type != xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0:
        raise ValueError(f"unknown claimable balance id type {balance_id.type}")
    return StrKey.encode_claimable_balance(bytes([balance_id.type.value]) + balance_id.v0.hash)


def predicate_json(predicate: xdr.ClaimPredicate) -> dict[str, Any]:
    """A claim predicate in the Go XDR library's JSON form."""
    t = predicate.type
    if t == _P.CLAIM_PREDICATE_UNCONDITIONAL:
        return {"unconditional": True}
    if t == _P.CLAIM_PREDICATE_AND:
        return {"and": [predicate_json(p) for p in predicate.and_predicates]}
    if t == _P.CLAIM_PREDICATE_OR:
        return {"or": [predicate_json(p) for p in predicate.or_predicates]}
    if t == _P.CLAIM_PREDICATE_NOT:
        if predicate.not_predicate is None:
            raise ValueError("NOT claim predicate without an inner predicate")
        return {"not": predicate_json(predicate.not_predicate)}
    if t == _P.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME:
        epoch = predicate.abs_before.int64
        return {"abs_before": go_rfc3339(epoch), "abs_before_epoch": str(epoch)}
    if t == _P.CLAIM_PREDICATE_BEFORE_RELATIVE_TIME:
        return {"rel_before": str(predicate.rel_before.int64)}
    raise ValueError(f"invalid predicate type {t}")


def claimants_json(claimants: list[xdr.Claimant]) -> list[dict[str, Any]] | None:
    if not claimants:
        return None
    out = []
    for claimant in claimants:
        if claimant.type != xdr.ClaimantType.CLAIMANT_TYPE_V0:
            raise ValueError(f"unknown claimant type {claimant.type}")
        v0 = claimant.v0
        out.append({"destination": account_id_address(v0.destination), "predicate": predicate_json(v0.predicate)})
    return out


def create_claimable_balance(ctx: OpContext) -> Details:
    op = ctx.op.body.create_claimable_balance_op
    return {
        "asset": canonical_asset(op.asset),
        "amount": stroops_to_real(op.amount.int64),
        "claimants": claimants_json(op.claimants),
    }


def claim_claimable_balance(ctx: OpContext) -> Details:
    balance_id = ctx.op.body.claim_claimable_balance_op.balance_id
    details: Details = {"balance_id": balance_id_hex(balance_id), "balance_id_strkey": balance_id_strkey(balance_id)}
    add_account(details, ctx.source, "claimant")
    return details


def clawback_claimable_balance(ctx: OpContext) -> Details:
    balance_id = ctx.op.body.clawback_claimable_balance_op.balance_id
    return {"balance_id": balance_id_hex(balance_id), "balance_id_strkey": balance_id_strkey(balance_id)}


DETAILS = {
    _OT.CREATE_CLAIMABLE_BALANCE: create_claimable_balance,
    _OT.CLAIM_CLAIMABLE_BALANCE: claim_claimable_balance,
    _OT.CLAWBACK_CLAIMABLE_BALANCE: clawback_claimable_balance,
}
