"""Movements into and out of claimable balances and liquidity pools, and clawbacks.

These operations say only part of what moved; the rest comes from the operation's ledger-entry
changes, as in the reference processor: the claimed (removed) claimable balance gives the asset
and amount of a claim, a pool's reserve deltas give a deposit or withdrawal, and the claimable
balances created when a trust line is revoked (CAP-38) are matched to their pool by recomputing
the ids the protocol gives them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from stellar_sdk import xdr

from beam_pipeline.records.operations.changes import Change
from beam_pipeline.records.operations.claimable import balance_id_strkey
from beam_pipeline.records.token_transfers.event import (
    BURN,
    CLAWBACK,
    TokenEvent,
    TokenTransferError,
    TxContext,
    base_account,
    mint_burn_or_transfer,
    muxed_strkey,
)
from beam_pipeline.util.assets import pool_id_strkey

_CB = xdr.LedgerEntryType.CLAIMABLE_BALANCE
_LP = xdr.LedgerEntryType.LIQUIDITY_POOL


def claimable_entries(changes: list[Change], created: bool) -> list[xdr.ClaimableBalanceEntry]:
    """Claimable balances the operation created (`created`) or removed."""
    out = []
    for c in changes:
        if c.type != _CB:
            continue
        if created and c.pre is None and c.post is not None:
            out.append(c.post.data.claimable_balance)
        elif not created and c.pre is not None and c.post is None:
            out.append(c.pre.data.claimable_balance)
    return out


@dataclass(frozen=True)
class PoolDelta:
    """How much of each reserve of one pool an operation moved (absolute values)."""

    pool_id: bytes
    asset_a: xdr.Asset
    asset_b: xdr.Asset
    amount_a: int
    amount_b: int

    @property
    def strkey(self) -> str:
        return pool_id_strkey(self.pool_id)


def pool_deltas(changes: list[Change]) -> list[PoolDelta]:
    out = []
    for c in changes:
        if c.type != _LP:
            continue
        pre_a = pre_b = post_a = post_b = 0
        entry = None
        if c.pre is not None:
            entry = c.pre.data.liquidity_pool
            cp = entry.body.constant_product
            pre_a, pre_b = cp.reserve_a.int64, cp.reserve_b.int64
        if c.post is not None:
            entry = c.post.data.liquidity_pool
            cp = entry.body.constant_product
            post_a, post_b = cp.reserve_a.int64, cp.reserve_b.int64
        params = entry.body.constant_product.params
        out.append(
            PoolDelta(
                entry.liquidity_pool_id.pool_id.hash,
                params.asset_a,
                params.asset_b,
                abs(post_a - pre_a),
                abs(post_b - pre_b),
            )
        )
    return out


def create_claimable_balance(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    body = op.body.create_claimable_balance_op
    balance = balance_id_strkey(result.tr.create_claimable_balance_result.balance_id)
    return [mint_burn_or_transfer(ctx, n, body.asset, ctx.op_source(op), balance, body.amount.int64, False)]


def _the_removed_balance(ctx: TxContext, n: int, changes: list[Change]) -> xdr.ClaimableBalanceEntry:
    removed = claimable_entries(changes, created=False)
    if len(removed) != 1:
        raise TokenTransferError(f"{ctx.where(n)}: {len(removed)} claimable balances removed (expected 1)")
    return removed[0]


def claim_claimable_balance(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    cb = _the_removed_balance(ctx, n, changes)
    balance = balance_id_strkey(op.body.claim_claimable_balance_op.balance_id)
    return [mint_burn_or_transfer(ctx, n, cb.asset, balance, ctx.op_source(op), cb.amount.int64, True)]


def clawback(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    body = op.body.clawback_op
    sender = base_account(muxed_strkey(body.from_))
    return [TokenEvent(CLAWBACK, sender, None, body.amount.int64, body.asset, ctx.sac_id(body.asset), n)]


def clawback_claimable_balance(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    cb = _the_removed_balance(ctx, n, changes)
    balance = balance_id_strkey(op.body.clawback_claimable_balance_op.balance_id)
    return [TokenEvent(CLAWBACK, balance, None, cb.amount.int64, cb.asset, ctx.sac_id(cb.asset), n)]


def _the_pool(ctx: TxContext, n: int, changes: list[Change]) -> PoolDelta:
    deltas = pool_deltas(changes)
    if len(deltas) != 1:
        raise TokenTransferError(f"{ctx.where(n)}: {len(deltas)} liquidity pools changed (expected 1)")
    return deltas[0]


def liquidity_pool_deposit(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    d = _the_pool(ctx, n, changes)
    if d.amount_a <= 0 or d.amount_b <= 0:
        raise TokenTransferError(f"{ctx.where(n)}: deposit of nothing into pool {d.strkey}")
    src = ctx.op_source(op)
    return [
        mint_burn_or_transfer(ctx, n, d.asset_a, src, d.strkey, d.amount_a, False),
        mint_burn_or_transfer(ctx, n, d.asset_b, src, d.strkey, d.amount_b, False),
    ]


def liquidity_pool_withdraw(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    d = _the_pool(ctx, n, changes)  # a withdrawal may round to nothing: amounts of 0 are fine
    src = ctx.op_source(op)
    return [
        mint_burn_or_transfer(ctx, n, d.asset_a, d.strkey, src, d.amount_a, True),
        mint_burn_or_transfer(ctx, n, d.asset_b, d.strkey, src, d.amount_b, True),
    ]


def revocation_balance_id(ctx: TxContext, pool_id: bytes, asset: xdr.Asset, op_number: int) -> bytes:
    """The id CAP-38 gives the claimable balance created for `asset` when a pool share is revoked.

    It hashes the *transaction* source (not the operation's), its sequence number and the 0-based
    operation index.
    """
    inner = ctx.inner_tx
    if isinstance(inner, xdr.TransactionV0):
        key = inner.source_account_ed25519
    else:
        key = _ed25519(inner.source_account)
    source = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, key))
    preimage = xdr.HashIDPreimage(
        type=xdr.EnvelopeType.ENVELOPE_TYPE_POOL_REVOKE_OP_ID,
        revoke_id=xdr.HashIDPreimageRevokeID(
            source_account=source,
            seq_num=inner.seq_num,
            op_num=xdr.Uint32(op_number),
            liquidity_pool_id=xdr.PoolID(xdr.Hash(pool_id)),
            asset=asset,
        ),
    )
    return hashlib.sha256(preimage.to_xdr_bytes()).digest()


def _ed25519(account: xdr.MuxedAccount) -> xdr.Uint256:
    if account.type == xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        return account.med25519.ed25519
    return account.ed25519


def revoked_trust_line(
    ctx: TxContext, n: int, op: xdr.Operation, result: xdr.OperationResult, changes: list[Change]
) -> list[TokenEvent]:
    """allow_trust / set_trust_line_flags: pool shares withdrawn into claimable balances (CAP-38).

    Per affected pool: two balances created means two transfers; one means the other asset went
    back to its issuer (the trustor issues it), so a transfer and a burn of that asset.
    """
    pools = pool_deltas(changes)
    if not pools:
        return []
    created = {cb.balance_id.v0.hash: cb for cb in claimable_entries(changes, created=True)}
    if not created:
        return []
    out: list[TokenEvent] = []
    for pool in pools:
        mine = []
        for asset in (pool.asset_a, pool.asset_b):
            cb = created.get(revocation_balance_id(ctx, pool.pool_id, asset, n - 1))
            if cb is not None:
                mine.append(cb)
        if len(mine) == 1:
            cb = mine[0]
            if cb.asset == pool.asset_a:
                burned, burned_amount = pool.asset_b, pool.amount_b
            else:
                burned, burned_amount = pool.asset_a, pool.amount_a
            out.append(
                mint_burn_or_transfer(
                    ctx, n, cb.asset, pool.strkey, balance_id_strkey(cb.balance_id), cb.amount.int64, False
                )
            )
            out.append(TokenEvent(BURN, pool.strkey, None, burned_amount, burned, ctx.sac_id(burned), n))
        elif len(mine) == 2:
            for cb in mine:
                out.append(
                    mint_burn_or_transfer(
                        ctx, n, cb.asset, pool.strkey, balance_id_strkey(cb.balance_id), cb.amount.int64, False
                    )
                )
    return out
