"""What every effect family needs: effect types, the per-operation accumulator and value forms.

stellar-etl (``internal/transform/effects.go``) appends effects to a list while it walks one
operation; an effect's ``index`` is its position in that list. So the order of ``add`` calls in
the family modules *is* the output: each module follows the Go code's call order exactly.

Values follow Go's JSON: amounts are 7-decimal strings (``amount.String``), assets are
``asset_type`` / ``asset_code`` / ``asset_issuer`` (no ``asset_id``, unlike operation details) or
the SEP-11 canonical string, accounts are ``G...`` strkeys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from stellar_sdk import xdr

from beam_pipeline.records.operations import OpContext, amount_string
from beam_pipeline.records.operations.changes import Change, sponsoring_id
from beam_pipeline.util.accounts import account_address, account_id_address, muxed_address
from beam_pipeline.util.assets import canonical_asset, extract_asset, pool_id_hex

Details = dict[str, Any]
_CA = xdr.ClaimAtomType
_T = xdr.LedgerEntryType


class EffectType(IntEnum):
    """stellar-etl's effect type numbers; ``type_string`` is the lower-case name."""

    ACCOUNT_CREATED = 0
    ACCOUNT_REMOVED = 1
    ACCOUNT_CREDITED = 2
    ACCOUNT_DEBITED = 3
    ACCOUNT_THRESHOLDS_UPDATED = 4
    ACCOUNT_HOME_DOMAIN_UPDATED = 5
    ACCOUNT_FLAGS_UPDATED = 6
    ACCOUNT_INFLATION_DESTINATION_UPDATED = 7
    SIGNER_CREATED = 10
    SIGNER_REMOVED = 11
    SIGNER_UPDATED = 12
    TRUSTLINE_CREATED = 20
    TRUSTLINE_REMOVED = 21
    TRUSTLINE_UPDATED = 22
    TRUSTLINE_FLAGS_UPDATED = 26
    OFFER_CREATED = 30
    OFFER_REMOVED = 31
    OFFER_UPDATED = 32
    TRADE = 33
    DATA_CREATED = 40
    DATA_REMOVED = 41
    DATA_UPDATED = 42
    SEQUENCE_BUMPED = 43
    CLAIMABLE_BALANCE_CREATED = 50
    CLAIMABLE_BALANCE_CLAIMANT_CREATED = 51
    CLAIMABLE_BALANCE_CLAIMED = 52
    ACCOUNT_SPONSORSHIP_CREATED = 60
    ACCOUNT_SPONSORSHIP_UPDATED = 61
    ACCOUNT_SPONSORSHIP_REMOVED = 62
    TRUSTLINE_SPONSORSHIP_CREATED = 63
    TRUSTLINE_SPONSORSHIP_UPDATED = 64
    TRUSTLINE_SPONSORSHIP_REMOVED = 65
    DATA_SPONSORSHIP_CREATED = 66
    DATA_SPONSORSHIP_UPDATED = 67
    DATA_SPONSORSHIP_REMOVED = 68
    CLAIMABLE_BALANCE_SPONSORSHIP_CREATED = 69
    CLAIMABLE_BALANCE_SPONSORSHIP_UPDATED = 70
    CLAIMABLE_BALANCE_SPONSORSHIP_REMOVED = 71
    SIGNER_SPONSORSHIP_CREATED = 72
    SIGNER_SPONSORSHIP_UPDATED = 73
    SIGNER_SPONSORSHIP_REMOVED = 74
    CLAIMABLE_BALANCE_CLAWED_BACK = 80
    LIQUIDITY_POOL_DEPOSITED = 90
    LIQUIDITY_POOL_WITHDREW = 91
    LIQUIDITY_POOL_TRADE = 92
    LIQUIDITY_POOL_CREATED = 93
    LIQUIDITY_POOL_REMOVED = 94
    LIQUIDITY_POOL_REVOKED = 95
    CONTRACT_CREDITED = 96
    CONTRACT_DEBITED = 97
    EXTEND_FOOTPRINT_TTL = 98
    RESTORE_FOOTPRINT = 99

    @property
    def type_string(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Effect:
    """One effect before the ledger fields are attached: who, what, and its details map."""

    address: str
    address_muxed: str | None
    type: EffectType
    details: Details


@dataclass
class Effects:
    """The effects of one operation, in the order stellar-etl appends them.

    Attributes:
        ctx: the operation (its source, result and ledger-entry changes).
        items: effects so far; an effect's index is its position here.
    """

    ctx: OpContext
    items: list[Effect] = field(default_factory=list)

    def add(self, address: str, effect: EffectType, details: Details, muxed: str | None = None) -> None:
        self.items.append(Effect(address, muxed, effect, details))

    def add_account_id(self, account: xdr.AccountID, effect: EffectType, details: Details) -> None:
        """An effect on a plain account (``address_muxed`` null)."""
        self.add(account_id_address(account), effect, details)

    def add_muxed(self, account: xdr.MuxedAccount, effect: EffectType, details: Details) -> None:
        """An effect on a possibly multiplexed account (``address_muxed`` set when it is one)."""
        self.add(account_address(account), effect, details, muxed_address(account))

    def add_source(self, effect: EffectType, details: Details) -> None:
        """An effect on the operation's source account."""
        self.add_muxed(self.ctx.source, effect, details)

    @property
    def changes(self) -> list[Change]:
        return self.ctx.changes

    def tr(self) -> xdr.OperationResultTr:
        """The operation's result body (present: only successful transactions get here)."""
        result = self.ctx.result
        if result is None or result.tr is None:
            raise self.ctx.error("successful transaction without an operation result body")
        return result.tr


# --- value forms ---------------------------------------------------------------------------------


def amount(value: xdr.Int64 | int) -> str:
    """Go's ``amount.String``: stroops as a 7-decimal string."""
    return amount_string(value if isinstance(value, int) else value.int64)


def add_asset(details: Details, asset: xdr.Asset, prefix: str = "") -> None:
    """stellar-etl's effects ``addAssetDetails``: type, and code/issuer unless native (prefix as given)."""
    kind, code, issuer = extract_asset(asset)
    details[f"{prefix}asset_type"] = kind
    if asset.type != xdr.AssetType.ASSET_TYPE_NATIVE:
        details[f"{prefix}asset_code"] = code
        details[f"{prefix}asset_issuer"] = issuer


def muxed_account_id(account: xdr.MuxedAccount) -> xdr.AccountID:
    """Go's ``MuxedAccount.ToAccountId``: the ed25519 account behind a (possibly muxed) account."""
    key = account.ed25519 if account.type == xdr.CryptoKeyType.KEY_TYPE_ED25519 else account.med25519.ed25519
    return xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=key))


def sponsor_of(entry: xdr.LedgerEntry | None) -> str | None:
    """The sponsoring account of an entry as a strkey, None when unsponsored or absent."""
    if entry is None:
        return None
    sponsor = sponsoring_id(entry)
    return None if sponsor is None else account_id_address(sponsor)


# --- claim atoms (the fills of offers and path payments) -----------------------------------------


@dataclass(frozen=True)
class Claim:
    """One ClaimAtom, as the Go accessors (``SellerId``, ``OfferId``, ``AssetSold`` ...) read it."""

    kind: xdr.ClaimAtomType
    seller: xdr.AccountID | None  # None for a liquidity-pool claim
    offer_id: int
    asset_sold: xdr.Asset
    amount_sold: int
    asset_bought: xdr.Asset
    amount_bought: int
    pool_id: bytes | None


def read_claim(atom: xdr.ClaimAtom) -> Claim:
    if atom.type == _CA.CLAIM_ATOM_TYPE_V0:
        inner = atom.v0
        seller = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=inner.seller_ed25519))
    elif atom.type == _CA.CLAIM_ATOM_TYPE_ORDER_BOOK:
        inner = atom.order_book
        seller = inner.seller_id
    elif atom.type == _CA.CLAIM_ATOM_TYPE_LIQUIDITY_POOL:
        inner, seller = atom.liquidity_pool, None
    else:
        raise ValueError(f"unknown claim atom type {atom.type}")
    pool = seller is None
    return Claim(
        kind=atom.type,
        seller=seller,
        offer_id=0 if pool else inner.offer_id.int64,
        asset_sold=inner.asset_sold,
        amount_sold=inner.amount_sold.int64,
        asset_bought=inner.asset_bought,
        amount_bought=inner.amount_bought.int64,
        pool_id=inner.liquidity_pool_id.pool_id.hash if pool else None,
    )


# --- liquidity pools -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolChange:
    """A pool entry (post state if any, else pre) and its reserve/share deltas within an operation."""

    entry: xdr.LiquidityPoolEntry
    reserve_a: int
    reserve_b: int
    shares: int


def _constant_product(entry: xdr.LedgerEntry) -> xdr.LiquidityPoolEntryConstantProduct:
    body = entry.data.liquidity_pool.body
    if body.type != xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT:
        raise ValueError(f"unexpected liquidity pool body type {body.type}")
    return body.constant_product


def pool_change(changes: list[Change], pool_id: bytes | None) -> PoolChange | None:
    """stellar-etl's ``getLiquidityPoolAndProductDelta``: the first pool change (of `pool_id` if given)."""
    for change in changes:
        if change.type != _T.LIQUIDITY_POOL:
            continue
        entry = None
        pre_a = pre_b = pre_s = post_a = post_b = post_s = 0
        if change.pre is not None:
            if pool_id is not None and change.pre.data.liquidity_pool.liquidity_pool_id.pool_id.hash != pool_id:
                continue
            entry = change.pre.data.liquidity_pool
            cp = _constant_product(change.pre)
            pre_a, pre_b, pre_s = cp.reserve_a.int64, cp.reserve_b.int64, cp.total_pool_shares.int64
        if change.post is not None:
            if pool_id is not None and change.post.data.liquidity_pool.liquidity_pool_id.pool_id.hash != pool_id:
                continue
            entry = change.post.data.liquidity_pool
            cp = _constant_product(change.post)
            post_a, post_b, post_s = cp.reserve_a.int64, cp.reserve_b.int64, cp.total_pool_shares.int64
        return PoolChange(entry, post_a - pre_a, post_b - pre_b, post_s - pre_s)
    return None


def pool_assets(entry: xdr.LiquidityPoolEntry) -> tuple[str, str]:
    params = entry.body.constant_product.params
    return canonical_asset(params.asset_a), canonical_asset(params.asset_b)


def pool_details(entry: xdr.LiquidityPoolEntry) -> Details:
    """stellar-etl's ``liquidityPoolDetails``: the pool's id, fee, shares and reserves."""
    cp = entry.body.constant_product
    asset_a, asset_b = pool_assets(entry)
    return {
        "id": pool_id_hex(entry.liquidity_pool_id.pool_id.hash),
        "fee_bp": cp.params.fee.int32,
        "type": "constant_product",
        "total_trustlines": str(cp.pool_shares_trust_line_count.int64),
        "total_shares": amount(cp.total_pool_shares),
        "reserves": [
            {"asset": asset_a, "amount": amount(cp.reserve_a)},
            {"asset": asset_b, "amount": amount(cp.reserve_b)},
        ],
    }
