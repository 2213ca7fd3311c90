"""Row pieces every change table shares, with stellar-etl's conventions.

Kept private to the change tables: amounts as float64 the way Go's ``big.Rat.Float64`` rounds
them, asset columns (via `beam_pipeline.util.assets`), sponsors, the trailing change columns.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.changes._extract import EntryChange
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import asset_id, extract_asset
from beam_pipeline.xdr.ledger import LedgerView

# Go's String() of xdr.AssetType: stellar-etl hashes trustline assets with these names.
GO_ASSET_TYPE_ENUM_NAMES = {
    xdr.AssetType.ASSET_TYPE_NATIVE: "AssetTypeAssetTypeNative",
    xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4: "AssetTypeAssetTypeCreditAlphanum4",
    xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12: "AssetTypeAssetTypeCreditAlphanum12",
    xdr.AssetType.ASSET_TYPE_POOL_SHARE: "AssetTypeAssetTypePoolShare",
}


def stroops_to_real(amount: int) -> float:
    """Stroops as a float64: int/int true division rounds exactly once, like big.Rat.Float64."""
    return amount / 10_000_000


def asset_columns(asset: xdr.Asset) -> tuple[str, str, str, int]:
    """(type, code, issuer, farm-hash id) like stellar-etl's transformSingleAsset."""
    asset_type, code, issuer = extract_asset(asset)
    return asset_type, code, issuer, asset_id(code, issuer, asset_type)


def sponsor(entry: xdr.LedgerEntry) -> str | None:
    """The entry's sponsoring account (LedgerEntry ext v1), or None."""
    if entry.ext.v != 1:
        return None
    sid = entry.ext.v1.sponsoring_id
    if sid is None or sid.sponsorship_descriptor is None:
        return None
    return account_id_address(sid.sponsorship_descriptor)


def change_columns(change: EntryChange, ledger: LedgerView) -> dict:
    """The columns every stellar-etl change table ends with."""
    entry = change.entry
    return {
        "last_modified_ledger": entry.last_modified_ledger_seq.uint32,
        "ledger_entry_change": change.change_type.value,
        "deleted": change.deleted,
        "closed_at": ledger.closed_at,
        "ledger_sequence": ledger.sequence,
    }
