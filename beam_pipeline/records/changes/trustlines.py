"""``trustlines``: trustline entry changes, one row per trustline per ledger (stellar-etl ``trust_lines``)."""

from __future__ import annotations

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.changes._common import GO_ASSET_TYPE_ENUM_NAMES, change_columns, sponsor, stroops_to_real
from beam_pipeline.records.changes._extract import EntryChange, compacted_of_type
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import asset_id, change_trust_asset_to_asset, extract_asset
from beam_pipeline.xdr.ledger import LedgerView


def change_row(change: EntryChange, ledger: LedgerView) -> dict:
    entry = change.entry
    tl = entry.data.trust_line
    asset = tl.asset
    code = issuer = pool_id = pool_strkey = ""
    if asset.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
        raw = asset.liquidity_pool_id.pool_id.hash
        pool_id, pool_strkey, asset_type = raw.hex(), StrKey.encode_liquidity_pool(raw), "pool_share"
    else:
        asset_type, code, issuer = extract_asset(change_trust_asset_to_asset(asset))
    buying = selling = 0
    if tl.ext.v == 1:
        buying, selling = tl.ext.v1.liabilities.buying.int64, tl.ext.v1.liabilities.selling.int64
    return {
        # The key of a trustline is exactly the LedgerKey the change already carries.
        "ledger_key": change.key_bytes,
        "account_id": account_id_address(tl.account_id),
        "asset_code": code,
        "asset_issuer": issuer,
        "asset_type": asset_type,
        # stellar-etl hashes trustline assets with Go's enum name, not the short type name.
        "asset_id": asset_id(code, issuer, GO_ASSET_TYPE_ENUM_NAMES[asset.type]),
        "balance": stroops_to_real(tl.balance.int64),
        "trust_line_limit": tl.limit.int64,
        "liquidity_pool_id": pool_id,
        "buying_liabilities": stroops_to_real(buying),
        "selling_liabilities": stroops_to_real(selling),
        "flags": tl.flags.uint32,
        "sponsor": sponsor(entry),
        "liquidity_pool_id_strkey": pool_strkey,
        **change_columns(change, ledger),
    }


def transform(ledger: LedgerView) -> list[dict]:
    """One row per trustline changed in the ledger (compacted)."""
    return [change_row(c, ledger) for c in compacted_of_type(ledger, xdr.LedgerEntryType.TRUSTLINE)]
