"""Movements of the payment family, derived from the operation and its result (no events needed).

Create account, account merge, payment, the two path payments, the three offer operations
(every ``ClaimAtom`` is two movements: what the seller gave and what it got) and inflation
(one mint per payout). Each follows the reference processor's choice of parties and amounts.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.token_transfers.event import (
    MINT,
    NATIVE_ASSET,
    TokenEvent,
    TxContext,
    base_account,
    mint_burn_or_transfer,
    muxed_strkey,
)
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import pool_id_strkey

_OT = xdr.OperationType


def create_account(ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult) -> list[TokenEvent]:
    body = op.body.create_account_op
    dest = account_id_address(body.destination)
    return [mint_burn_or_transfer(ctx, n, NATIVE_ASSET, ctx.op_source(op), dest, body.starting_balance.int64, True)]


def account_merge(ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult) -> list[TokenEvent]:
    balance = result.tr.account_merge_result.source_account_balance
    if balance is None:
        return []
    dest = muxed_strkey(op.body.destination)
    return [mint_burn_or_transfer(ctx, n, NATIVE_ASSET, ctx.op_source(op), dest, balance.int64, True)]


def payment(ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult) -> list[TokenEvent]:
    body = op.body.payment_op
    dest = muxed_strkey(body.destination)
    return [mint_burn_or_transfer(ctx, n, body.asset, ctx.op_source(op), dest, body.amount.int64, True)]


def inflation(ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult) -> list[TokenEvent]:
    contract = ctx.sac_id(NATIVE_ASSET)
    payouts = result.tr.inflation_result.payouts or []
    return [
        TokenEvent(MINT, None, account_id_address(p.destination), p.amount.int64, NATIVE_ASSET, contract, n)
        for p in payouts
    ]


def _claim_parts(claim: xdr.ClaimAtom) -> tuple[str, xdr.Asset, int, xdr.Asset, int]:
    """(seller, asset sold, amount sold, asset bought, amount bought) of one fill."""
    t = claim.type
    if t == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_V0:
        c = claim.v0
        seller = account_id_address(
            xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, c.seller_ed25519))
        )
    elif t == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK:
        c = claim.order_book
        seller = account_id_address(c.seller_id)
    elif t == xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL:
        c = claim.liquidity_pool
        seller = pool_id_strkey(c.liquidity_pool_id.pool_id.hash)
    else:
        raise ValueError(f"unknown claim atom type {t}")
    return seller, c.asset_sold, c.amount_sold.int64, c.asset_bought, c.amount_bought.int64


def claim_events(ctx: TxContext, n: int, op: xdr.Operation, claims: list[xdr.ClaimAtom]) -> list[TokenEvent]:
    """Two movements per fill; the taker is the operation source as a plain ``G...`` (no muxed info)."""
    taker = base_account(ctx.op_source(op))
    out: list[TokenEvent] = []
    for claim in claims:
        seller, sold, amount_sold, bought, amount_bought = _claim_parts(claim)
        out.append(mint_burn_or_transfer(ctx, n, sold, seller, taker, amount_sold, False))
        out.append(mint_burn_or_transfer(ctx, n, bought, taker, seller, amount_bought, False))
    return out


def manage_offer(ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult) -> list[TokenEvent]:
    tr = result.tr
    if tr.type == _OT.MANAGE_BUY_OFFER:
        success = tr.manage_buy_offer_result.success
    elif tr.type == _OT.CREATE_PASSIVE_SELL_OFFER:  # same result type as manage sell offer
        success = tr.create_passive_sell_offer_result.success
    else:
        success = tr.manage_sell_offer_result.success
    return claim_events(ctx, n, op, success.offers_claimed or [])


def path_payment_strict_send(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult
) -> list[TokenEvent]:
    body = op.body.path_payment_strict_send_op
    success = result.tr.path_payment_strict_send_result.success
    out = claim_events(ctx, n, op, success.offers)
    dest = muxed_strkey(body.destination)
    out.append(mint_burn_or_transfer(ctx, n, body.dest_asset, ctx.op_source(op), dest, success.last.amount.int64, True))
    return out


def path_payment_strict_receive(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult
) -> list[TokenEvent]:
    body = op.body.path_payment_strict_receive_op
    success = result.tr.path_payment_strict_receive_result.success
    out = claim_events(ctx, n, op, success.offers)
    dest = muxed_strkey(body.destination)
    out.append(mint_burn_or_transfer(ctx, n, body.dest_asset, ctx.op_source(op), dest, body.dest_amount.int64, True))
    return out
