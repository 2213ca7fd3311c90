"""``claimable_balances``: claimable balance entry changes (stellar-etl ``claimable_balances``).

``claimants`` is a JSON string column holding what stellar-etl emits: a list of
``{"destination", "predicate"}`` where the predicate uses the Go SDK's JSON form
(``unconditional``/``and``/``or``/``not``/``abs_before`` + ``abs_before_epoch``/``rel_before``).
"""

from __future__ import annotations

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.changes._common import asset_columns, change_columns, sponsor
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.goformat import go_rfc3339
from beam_pipeline.util.scval import json_text
from beam_pipeline.xdr.ledger import LedgerView

_PT = xdr.ClaimPredicateType


def predicate_json(p: xdr.ClaimPredicate) -> dict:
    """A claim predicate as the Go SDK marshals it (its keys in the Go struct's order)."""
    t = p.type
    if t == _PT.CLAIM_PREDICATE_AND:
        return {"and": [predicate_json(x) for x in p.and_predicates]}
    if t == _PT.CLAIM_PREDICATE_OR:
        return {"or": [predicate_json(x) for x in p.or_predicates]}
    if t == _PT.CLAIM_PREDICATE_NOT:
        if p.not_predicate is None:
            raise ValueError("NOT claim predicate without an inner predicate")
        return {"not": predicate_json(p.not_predicate)}
    if t == _PT.CLAIM_PREDICATE_UNCONDITIONAL:
        return {"unconditional": True}
    if t == _PT.CLAIM_PREDICATE_BEFORE_ABSOLUTE_TIME:
        epoch = p.abs_before.int64
        return {"abs_before": go_rfc3339(epoch), "abs_before_epoch": str(epoch)}
    if t == _PT.CLAIM_PREDICATE_BEFORE_RELATIVE_TIME:
        return {"rel_before": str(p.rel_before.int64)}
    raise ValueError(f"unknown claim predicate type {t}")


def claimants_json(claimants: list[xdr.Claimant]) -> str | None:
    """stellar-etl's claimants list as its JSON text (null when there are none, as Go's nil slice)."""
    if not claimants:
        return None
    out = [
        {"destination": account_id_address(c.v0.destination), "predicate": predicate_json(c.v0.predicate)}
        for c in claimants
    ]
    return json_text(out)


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    entry = change.entry
    cb = entry.data.claimable_balance
    asset_type, code, issuer, asset_id = asset_columns(cb.asset)
    flags = cb.ext.v1.flags.uint32 if cb.ext.v == 1 else 0
    raw_id = cb.balance_id.v0.hash
    try:
        claimants = claimants_json(cb.claimants)
    except ValueError as err:
        raise ValueError(f"ledger {ledger.sequence}: claimable balance {raw_id.hex()}: {err}") from None
    return {
        # Go's MarshalHex of the ClaimableBalanceID union: type discriminant then hash.
        "balance_id": cb.balance_id.to_xdr_bytes().hex(),
        "claimants": claimants,
        "asset_code": code,
        "asset_issuer": issuer,
        "asset_type": asset_type,
        "asset_id": asset_id,
        "asset_amount": float(cb.amount.int64) / 1.0e7,
        "sponsor": sponsor(entry),
        "flags": flags,
        "balance_id_strkey": StrKey.encode_claimable_balance(cb.balance_id.to_xdr_bytes()[3:]),
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per claimable balance changed in the ledger (compacted)."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.CLAIMABLE_BALANCE)]
