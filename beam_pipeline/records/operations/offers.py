"""Details of order-book offers: manage_buy_offer, manage_sell_offer and create_passive_sell_offer."""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import Details, OpContext, add_asset, add_price, stroops_to_real

_OT = xdr.OperationType


def _offer(details: Details, amount: int, price: xdr.Price, buying: xdr.Asset, selling: xdr.Asset) -> Details:
    details["amount"] = stroops_to_real(amount)
    add_price(details, price)
    add_asset(details, buying, "buying")
    add_asset(details, selling, "selling")
    return details


def manage_buy_offer(ctx: OpContext) -> Details:
    # `amount` is the amount to buy here, the amount to sell for the sell-side operations.
    op = ctx.op.body.manage_buy_offer_op
    return _offer({"offer_id": op.offer_id.int64}, op.buy_amount.int64, op.price, op.buying, op.selling)


def manage_sell_offer(ctx: OpContext) -> Details:
    op = ctx.op.body.manage_sell_offer_op
    return _offer({"offer_id": op.offer_id.int64}, op.amount.int64, op.price, op.buying, op.selling)


def create_passive_sell_offer(ctx: OpContext) -> Details:
    op = ctx.op.body.create_passive_sell_offer_op
    return _offer({}, op.amount.int64, op.price, op.buying, op.selling)


DETAILS = {
    _OT.MANAGE_BUY_OFFER: manage_buy_offer,
    _OT.MANAGE_SELL_OFFER: manage_sell_offer,
    _OT.CREATE_PASSIVE_SELL_OFFER: create_passive_sell_offer,
}
