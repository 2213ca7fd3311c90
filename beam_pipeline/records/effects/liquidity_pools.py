"""Effects of liquidity pools: deposit and withdraw, and the ``liquidity_pool_created`` /
``liquidity_pool_removed`` effects any operation gets when its meta creates or removes a pool entry.

Amounts deposited or withdrawn are the pool entry's reserve and share deltas in the operation's
meta, not the operation's maxima/minima.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.effects._common import Effects, PoolChange, amount, pool_assets, pool_change, pool_details
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.operations.changes import Change
from beam_pipeline.util.assets import pool_id_hex

_OT = xdr.OperationType
_T = xdr.LedgerEntryType


def _pool(fx: Effects, pool_id: xdr.PoolID) -> PoolChange:
    pool = pool_change(fx.changes, pool_id.pool_id.hash)
    if pool is None:
        raise fx.ctx.error(f"liquidity pool {pool_id.pool_id.hash.hex()} has no change in the operation's meta")
    return pool


def _reserves(pool: PoolChange, sign: int) -> list[dict[str, str]]:
    asset_a, asset_b = pool_assets(pool.entry)
    return [
        {"asset": asset_a, "amount": amount(sign * pool.reserve_a)},
        {"asset": asset_b, "amount": amount(sign * pool.reserve_b)},
    ]


def liquidity_pool_deposit(fx: Effects) -> None:
    pool = _pool(fx, fx.ctx.op.body.liquidity_pool_deposit_op.liquidity_pool_id)
    fx.add_source(
        E.LIQUIDITY_POOL_DEPOSITED,
        {
            "liquidity_pool": pool_details(pool.entry),
            "reserves_deposited": _reserves(pool, 1),
            "shares_received": amount(pool.shares),
        },
    )


def liquidity_pool_withdraw(fx: Effects) -> None:
    pool = _pool(fx, fx.ctx.op.body.liquidity_pool_withdraw_op.liquidity_pool_id)
    fx.add_source(
        E.LIQUIDITY_POOL_WITHDREW,
        {
            "liquidity_pool": pool_details(pool.entry),
            "reserves_received": _reserves(pool, -1),
            "shares_redeemed": amount(-pool.shares),
        },
    )


def add_pool_entry_effects(fx: Effects, change: Change) -> None:
    """``liquidity_pool_created`` / ``_removed`` on the source when the change creates/removes a pool."""
    if change.type != _T.LIQUIDITY_POOL:
        return
    if change.pre is None and change.post is not None:
        fx.add_source(E.LIQUIDITY_POOL_CREATED, {"liquidity_pool": pool_details(change.post.data.liquidity_pool)})
    elif change.pre is not None and change.post is None:
        pool_id = change.pre.data.liquidity_pool.liquidity_pool_id.pool_id.hash
        fx.add_source(E.LIQUIDITY_POOL_REMOVED, {"liquidity_pool_id": pool_id_hex(pool_id)})


EFFECTS = {
    _OT.LIQUIDITY_POOL_DEPOSIT: liquidity_pool_deposit,
    _OT.LIQUIDITY_POOL_WITHDRAW: liquidity_pool_withdraw,
}
