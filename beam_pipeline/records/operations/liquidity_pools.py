"""Details of liquidity-pool operations: deposit and withdraw.

What was actually deposited or withdrawn is not in the operation or its result: stellar-etl reads
it from the pool entry's reserve change in the operation's meta. For failed transactions it
keeps Go's zero values, i.e. the *native* asset and 0 amounts; that is reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import (
    Details,
    OpContext,
    add_asset,
    add_price,
    stroops_to_real,
)
from beam_pipeline.util.assets import pool_id_strkey

_OT = xdr.OperationType
_NATIVE = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)


@dataclass(frozen=True)
class PoolDelta:
    """A pool's assets and how its reserves and shares changed within one operation."""

    asset_a: xdr.Asset
    asset_b: xdr.Asset
    reserve_a: int
    reserve_b: int
    shares: int


_NO_DELTA = PoolDelta(_NATIVE, _NATIVE, 0, 0, 0)


def _constant_product(ctx: OpContext, entry: xdr.LedgerEntry) -> xdr.LiquidityPoolEntryConstantProduct:
    body = entry.data.liquidity_pool.body
    if body.type != xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT:
        raise ctx.error(f"unexpected liquidity pool body type {body.type}")
    return body.constant_product


def pool_delta(ctx: OpContext, pool_id: bytes) -> PoolDelta:
    """The first change to pool `pool_id` among the operation's (sorted) changes."""
    for change in ctx.changes:
        if change.type != xdr.LedgerEntryType.LIQUIDITY_POOL:
            continue
        pre = post = None
        if change.pre is not None:
            if change.pre.data.liquidity_pool.liquidity_pool_id.pool_id.hash != pool_id:
                continue
            pre = _constant_product(ctx, change.pre)
        if change.post is not None:
            if change.post.data.liquidity_pool.liquidity_pool_id.pool_id.hash != pool_id:
                continue
            post = _constant_product(ctx, change.post)
        latest = post if post is not None else pre

        def amounts(cp: xdr.LiquidityPoolEntryConstantProduct | None) -> tuple[int, int, int]:
            if cp is None:
                return 0, 0, 0
            return cp.reserve_a.int64, cp.reserve_b.int64, cp.total_pool_shares.int64

        (pa, pb, ps), (qa, qb, qs) = amounts(pre), amounts(post)
        return PoolDelta(latest.params.asset_a, latest.params.asset_b, qa - pa, qb - pb, qs - ps)
    raise ctx.error(f"liquidity pool change not found for pool {pool_id.hex()}")


def _pool_id_details(details: Details, pool_id: bytes) -> None:
    details["liquidity_pool_id"] = pool_id.hex()
    details["liquidity_pool_id_strkey"] = pool_id_strkey(pool_id)


def liquidity_pool_deposit(ctx: OpContext) -> Details:
    op = ctx.op.body.liquidity_pool_deposit_op
    pool_id = op.liquidity_pool_id.pool_id.hash
    details: Details = {}
    _pool_id_details(details, pool_id)
    delta = pool_delta(ctx, pool_id) if ctx.tx.successful else _NO_DELTA
    add_asset(details, delta.asset_a, "reserve_a")
    details["reserve_a_max_amount"] = stroops_to_real(op.max_amount_a.int64)
    details["reserve_a_deposit_amount"] = stroops_to_real(delta.reserve_a)
    add_asset(details, delta.asset_b, "reserve_b")
    details["reserve_b_max_amount"] = stroops_to_real(op.max_amount_b.int64)
    details["reserve_b_deposit_amount"] = stroops_to_real(delta.reserve_b)
    add_price(details, op.min_price, "min")
    add_price(details, op.max_price, "max")
    details["shares_received"] = stroops_to_real(delta.shares)
    return details


def liquidity_pool_withdraw(ctx: OpContext) -> Details:
    op = ctx.op.body.liquidity_pool_withdraw_op
    pool_id = op.liquidity_pool_id.pool_id.hash
    details: Details = {}
    _pool_id_details(details, pool_id)
    delta = pool_delta(ctx, pool_id) if ctx.tx.successful else _NO_DELTA
    add_asset(details, delta.asset_a, "reserve_a")
    details["reserve_a_min_amount"] = stroops_to_real(op.min_amount_a.int64)
    details["reserve_a_withdraw_amount"] = stroops_to_real(-delta.reserve_a)
    add_asset(details, delta.asset_b, "reserve_b")
    details["reserve_b_min_amount"] = stroops_to_real(op.min_amount_b.int64)
    details["reserve_b_withdraw_amount"] = stroops_to_real(-delta.reserve_b)
    details["shares"] = stroops_to_real(op.amount.int64)
    return details


DETAILS = {
    _OT.LIQUIDITY_POOL_DEPOSIT: liquidity_pool_deposit,
    _OT.LIQUIDITY_POOL_WITHDRAW: liquidity_pool_withdraw,
}
