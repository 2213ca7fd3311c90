"""Assets as stellar-etl names them: type strings, codes, issuers, canonical form and ``asset_id``.

stellar-etl keys assets in Hubble by ``asset_id``, the signed 64-bit FarmHash Fingerprint64 of
``code + issuer + type`` (the native asset hashes ``"native"``). Every table that reports an asset
must compute it identically, so the rule lives here once.
"""

from __future__ import annotations

import hashlib

import farmhash
from stellar_sdk import StrKey, xdr

from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.goformat import go_string

NATIVE = "native"
_TYPE_NAMES = {
    xdr.AssetType.ASSET_TYPE_NATIVE: NATIVE,
    xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4: "credit_alphanum4",
    xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12: "credit_alphanum12",
}
LIQUIDITY_POOL_SHARES = "liquidity_pool_shares"


def _code_text(code: bytes) -> str:
    """An asset code with its zero padding removed (trailing NULs only, as stellar-etl does)."""
    return go_string(code.rstrip(b"\x00"))


def asset_type_name(asset: xdr.Asset) -> str:
    """``native``, ``credit_alphanum4`` or ``credit_alphanum12``."""
    try:
        return _TYPE_NAMES[asset.type]
    except KeyError:
        raise ValueError(f"unsupported asset type {asset.type}") from None


def extract_asset(asset: xdr.Asset) -> tuple[str, str, str]:
    """(type, code, issuer) of an asset; code and issuer are empty strings for the native asset."""
    kind = asset_type_name(asset)
    if asset.type == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4:
        an = asset.alpha_num4
        return kind, _code_text(an.asset_code.asset_code4), account_id_address(an.issuer)
    if asset.type == xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM12:
        an = asset.alpha_num12
        return kind, _code_text(an.asset_code.asset_code12), account_id_address(an.issuer)
    return kind, "", ""


def canonical_asset(asset: xdr.Asset) -> str:
    """``native`` or ``CODE:ISSUER`` (SEP-11 canonical form)."""
    kind, code, issuer = extract_asset(asset)
    return kind if asset.type == xdr.AssetType.ASSET_TYPE_NATIVE else f"{code}:{issuer}"


def asset_id(code: str, issuer: str, kind: str) -> int:
    """stellar-etl's ``asset_id``: FarmHash Fingerprint64 of code+issuer+type, as a signed int64."""
    value = farmhash.fingerprint64(f"{code}{issuer}{kind}")
    return value - (1 << 64) if value >= 1 << 63 else value


def asset_id_of(asset: xdr.Asset) -> int:
    """``asset_id`` of an XDR asset (the native one hashes as code "" issuer "" type "native")."""
    return asset_id(*_code_issuer_type(asset))


def _code_issuer_type(asset: xdr.Asset) -> tuple[str, str, str]:
    kind, code, issuer = extract_asset(asset)
    return code, issuer, kind


def change_trust_asset_to_asset(line: xdr.ChangeTrustAsset | xdr.TrustLineAsset) -> xdr.Asset:
    """The plain Asset behind a non-pool ChangeTrustAsset or TrustLineAsset."""
    if line.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
        raise ValueError("a pool-share trust line has no plain asset")
    return xdr.Asset(type=line.type, alpha_num4=line.alpha_num4, alpha_num12=line.alpha_num12)


def pool_id_from_params(params: xdr.LiquidityPoolParameters) -> bytes:
    """A liquidity pool's id: sha256 of its parameters' XDR (assets already in protocol order)."""
    return hashlib.sha256(params.to_xdr_bytes()).digest()


def pool_id_hex(pool_id: bytes) -> str:
    return pool_id.hex()


def pool_id_strkey(pool_id: bytes) -> str:
    """The ``L...`` strkey of a liquidity pool id."""
    return StrKey.encode_liquidity_pool(pool_id)


def asset_contract_id(asset: xdr.Asset, network_passphrase: str) -> bytes:
    """The Stellar Asset Contract id of `asset` on a network (sha256 of its contract-id preimage)."""
    preimage = xdr.HashIDPreimage(
        type=xdr.EnvelopeType.ENVELOPE_TYPE_CONTRACT_ID,
        contract_id=xdr.HashIDPreimageContractID(
            network_id=xdr.Hash(hashlib.sha256(network_passphrase.encode()).digest()),
            contract_id_preimage=xdr.ContractIDPreimage(
                type=xdr.ContractIDPreimageType.CONTRACT_ID_PREIMAGE_FROM_ASSET, from_asset=asset
            ),
        ),
    )
    return hashlib.sha256(preimage.to_xdr_bytes()).digest()
