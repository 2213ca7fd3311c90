"""``liquidity_pools``: liquidity pool entry changes, one row per pool per ledger (stellar-etl ``liquidity_pools``)."""

from __future__ import annotations

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.changes._common import asset_columns, change_columns, stroops_to_real
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.xdr.ledger import LedgerView

_POOL_TYPES = {xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT: "constant_product"}


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    lp = change.entry.data.liquidity_pool
    raw_id = lp.liquidity_pool_id.pool_id.hash
    if lp.body.type not in _POOL_TYPES:
        raise ValueError(f"ledger {ledger.sequence}: liquidity pool {raw_id.hex()} has unknown type {lp.body.type}")
    cp = lp.body.constant_product
    a_type, a_code, a_issuer, a_id = asset_columns(cp.params.asset_a)
    b_type, b_code, b_issuer, b_id = asset_columns(cp.params.asset_b)
    return {
        "liquidity_pool_id": raw_id.hex(),
        "type": _POOL_TYPES[lp.body.type],
        "fee": cp.params.fee.int32,
        "trustline_count": cp.pool_shares_trust_line_count.int64,
        "pool_share_count": stroops_to_real(cp.total_pool_shares.int64),
        "asset_a_type": a_type,
        "asset_a_code": a_code,
        "asset_a_issuer": a_issuer,
        "asset_a_amount": stroops_to_real(cp.reserve_a.int64),
        "asset_a_id": a_id,
        "asset_b_type": b_type,
        "asset_b_code": b_code,
        "asset_b_issuer": b_issuer,
        "asset_b_amount": stroops_to_real(cp.reserve_b.int64),
        "asset_b_id": b_id,
        "liquidity_pool_id_strkey": StrKey.encode_liquidity_pool(raw_id),
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per liquidity pool changed in the ledger (compacted)."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.LIQUIDITY_POOL)]
