"""``offers``: DEX offer entry changes, one row per offer per ledger (stellar-etl ``offers``)."""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.changes._common import asset_columns, change_columns, sponsor, stroops_to_real
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.xdr.ledger import LedgerView


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    entry = change.entry
    o = entry.data.offer
    offer_id, amount = o.offer_id.int64, o.amount.int64
    n, d = o.price.n.int32, o.price.d.int32
    if offer_id < 0 or amount < 0 or n < 0 or d <= 0:
        raise ValueError(f"ledger {ledger.sequence}: offer {offer_id} has a negative id/amount or a bad price {n}/{d}")
    s_type, s_code, s_issuer, s_id = asset_columns(o.selling)
    b_type, b_code, b_issuer, b_id = asset_columns(o.buying)
    return {
        "seller_id": account_id_address(o.seller_id),
        "offer_id": offer_id,
        "selling_asset_type": s_type,
        "selling_asset_code": s_code,
        "selling_asset_issuer": s_issuer,
        "selling_asset_id": s_id,
        "buying_asset_type": b_type,
        "buying_asset_code": b_code,
        "buying_asset_issuer": b_issuer,
        "buying_asset_id": b_id,
        "amount": stroops_to_real(amount),
        "pricen": n,
        "priced": d,
        "price": n / d if n > 0 else 0.0,
        "flags": o.flags.uint32,
        "sponsor": sponsor(entry),
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per offer changed in the ledger (compacted)."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.OFFER)]
