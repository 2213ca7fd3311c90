"""Effects of filled offers: manage_sell_offer, manage_buy_offer, create_passive_sell_offer, and the
fills of path payments (called from `payments`).

For every order-book fill stellar-etl writes *four* effect pairs, each buyer then seller:
``trade``, ``offer_updated``, ``offer_removed`` and ``offer_created`` (the last one skipped for
path_payment_strict_send only) — regardless of whether the offer was really updated, removed or
created. A liquidity-pool fill gives one ``liquidity_pool_trade`` on the operation's source. Fills
that moved nothing (both amounts 0) give no effects.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.effects._common import (
    Claim,
    Details,
    Effects,
    add_asset,
    amount,
    pool_change,
    pool_details,
    read_claim,
)
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.util.accounts import account_address, account_id_address, muxed_address, muxed_id
from beam_pipeline.util.assets import canonical_asset

_OT = xdr.OperationType
_CA = xdr.ClaimAtomType
_FILL_EFFECTS = (E.TRADE, E.OFFER_UPDATED, E.OFFER_REMOVED, E.OFFER_CREATED)


def trade_details(buyer: xdr.MuxedAccount, claim: Claim) -> tuple[Details, Details]:
    """(buyer's details, seller's details) of one order-book fill, as stellar-etl's ``tradeDetails``."""
    bought: Details = {
        "offer_id": claim.offer_id,
        "seller": account_id_address(claim.seller),
        "bought_amount": amount(claim.amount_sold),
        "sold_amount": amount(claim.amount_bought),
    }
    add_asset(bought, claim.asset_sold, "bought_")
    add_asset(bought, claim.asset_bought, "sold_")
    sold: Details = {
        "offer_id": claim.offer_id,
        "bought_amount": amount(claim.amount_bought),
        "sold_amount": amount(claim.amount_sold),
        "seller": account_address(buyer),
    }
    if muxed_address(buyer) is not None:
        sold["seller_muxed"] = muxed_address(buyer)
        sold["seller_muxed_id"] = muxed_id(buyer)
    add_asset(sold, claim.asset_bought, "bought_")
    add_asset(sold, claim.asset_sold, "sold_")
    return bought, sold


def _pool_trade(fx: Effects, claim: Claim) -> None:
    pool = pool_change(fx.changes, claim.pool_id)
    if pool is None:
        raise fx.ctx.error(f"liquidity pool {claim.pool_id.hex()} of a fill has no change in the meta")
    fx.add_source(
        E.LIQUIDITY_POOL_TRADE,
        {
            "liquidity_pool": pool_details(pool.entry),
            "sold": {"asset": canonical_asset(claim.asset_sold), "amount": amount(claim.amount_sold)},
            "bought": {"asset": canonical_asset(claim.asset_bought), "amount": amount(claim.amount_bought)},
        },
    )


def add_fills(fx: Effects, buyer: xdr.MuxedAccount, claims: list[Claim], strict_send: bool) -> None:
    """The effects of an operation's fills (stellar-etl's ``addIngestTradeEffects``)."""
    for claim in claims:
        if claim.amount_sold == 0 and claim.amount_bought == 0:
            continue
        if claim.kind == _CA.CLAIM_ATOM_TYPE_LIQUIDITY_POOL:
            _pool_trade(fx, claim)
            continue
        bought, sold = trade_details(buyer, claim)
        for effect in _FILL_EFFECTS:
            if effect == E.OFFER_CREATED and strict_send:
                continue
            fx.add_muxed(buyer, effect, bought)
            fx.add_account_id(claim.seller, effect, sold)


def _offers_claimed(result: xdr.ManageSellOfferResult | xdr.ManageBuyOfferResult | None) -> list[xdr.ClaimAtom]:
    if result is None or result.success is None:
        raise ValueError("successful offer operation without a success result")
    return result.success.offers_claimed


def manage_sell_offer(fx: Effects) -> None:
    claims = [read_claim(a) for a in _offers_claimed(fx.tr().manage_sell_offer_result)]
    add_fills(fx, fx.ctx.source, claims, strict_send=False)


def manage_buy_offer(fx: Effects) -> None:
    claims = [read_claim(a) for a in _offers_claimed(fx.tr().manage_buy_offer_result)]
    add_fills(fx, fx.ctx.source, claims, strict_send=False)


def create_passive_sell_offer(fx: Effects) -> None:
    tr = fx.tr()
    # stellar-core sets the manage_sell_offer arm on some passive-offer results; both are accepted.
    if tr.type == _OT.MANAGE_SELL_OFFER:
        result = tr.manage_sell_offer_result
    else:
        result = tr.create_passive_sell_offer_result
    claims = [read_claim(a) for a in _offers_claimed(result)]
    add_fills(fx, fx.ctx.source, claims, strict_send=False)


EFFECTS = {
    _OT.MANAGE_SELL_OFFER: manage_sell_offer,
    _OT.MANAGE_BUY_OFFER: manage_buy_offer,
    _OT.CREATE_PASSIVE_SELL_OFFER: create_passive_sell_offer,
}
