"""Balance deltas of ledger-entry changes and of events, and the pre-protocol-8 XLM reconciliation.

Before protocol 8, stellar-core had bugs that created and destroyed lumens (CAP-67, "retroactively
emitting events"). For those ledgers the reference processor compares, per operation, the
operation source's XLM balance change with what its events explain and emits a ``mint`` (put
before the operation's events) or a ``burn`` (put after them) for the difference.

The same two delta maps are what the reference's ``VerifyEvents`` compares per transaction; the
tests use them to check that the events explain every balance change.
"""

from __future__ import annotations

from collections import defaultdict

from stellar_sdk import xdr

from beam_pipeline.records.operations.changes import Change
from beam_pipeline.records.operations.claimable import balance_id_strkey
from beam_pipeline.records.token_transfers.event import (
    BURN,
    CLAWBACK,
    FEE,
    MINT,
    NATIVE_ASSET,
    TRANSFER,
    TokenEvent,
    TxContext,
    base_account,
)
from beam_pipeline.util.accounts import account_id_address
from beam_pipeline.util.assets import canonical_asset, change_trust_asset_to_asset, pool_id_strkey

BalanceKey = tuple[str, str]  # (holder strkey, canonical asset)
_T = xdr.LedgerEntryType


def _add(deltas: dict[BalanceKey, int], holder: str, asset: str, delta: int) -> None:
    if holder.startswith("C"):
        return  # contract balances live in contract data, which no change here describes
    deltas[(holder, asset)] += delta
    if deltas[(holder, asset)] == 0:
        del deltas[(holder, asset)]


def change_deltas(changes: list[Change]) -> dict[BalanceKey, int]:
    """Balance change per (holder, asset) over accounts, trust lines, claimable balances and pools."""
    deltas: dict[BalanceKey, int] = defaultdict(int)
    for c in changes:
        pre, post = c.pre, c.post
        if c.type == _T.ACCOUNT:
            entry = (post or pre).data.account
            before = pre.data.account.balance.int64 if pre is not None else 0
            after = post.data.account.balance.int64 if post is not None else 0
            _add(deltas, account_id_address(entry.account_id), "native", after - before)
        elif c.type == _T.TRUSTLINE:
            entry = (post or pre).data.trust_line
            if entry.asset.type == xdr.AssetType.ASSET_TYPE_POOL_SHARE:
                continue
            before = pre.data.trust_line.balance.int64 if pre is not None else 0
            after = post.data.trust_line.balance.int64 if post is not None else 0
            asset = canonical_asset(change_trust_asset_to_asset(entry.asset))
            _add(deltas, account_id_address(entry.account_id), asset, after - before)
        elif c.type == _T.CLAIMABLE_BALANCE:
            entry = (post or pre).data.claimable_balance
            before = pre.data.claimable_balance.amount.int64 if pre is not None else 0
            after = post.data.claimable_balance.amount.int64 if post is not None else 0
            _add(deltas, balance_id_strkey(entry.balance_id), canonical_asset(entry.asset), after - before)
        elif c.type == _T.LIQUIDITY_POOL:
            entry = (post or pre).data.liquidity_pool
            cp = entry.body.constant_product
            pre_cp = pre.data.liquidity_pool.body.constant_product if pre is not None else None
            post_cp = post.data.liquidity_pool.body.constant_product if post is not None else None
            holder = pool_id_strkey(entry.liquidity_pool_id.pool_id.hash)
            for side in ("a", "b"):
                before = getattr(pre_cp, f"reserve_{side}").int64 if pre_cp is not None else 0
                after = getattr(post_cp, f"reserve_{side}").int64 if post_cp is not None else 0
                _add(deltas, holder, canonical_asset(getattr(cp.params, f"asset_{side}")), after - before)
    return deltas


def event_deltas(events: list[TokenEvent]) -> dict[BalanceKey, int]:
    """Balance change per (holder, asset) that events claim; events of unknown tokens are skipped."""
    deltas: dict[BalanceKey, int] = defaultdict(int)
    for e in events:
        if e.asset is None:
            continue
        asset = canonical_asset(e.asset)
        if e.kind in (FEE, BURN, CLAWBACK):
            _add(deltas, e.sender, asset, -e.amount)
        elif e.kind == TRANSFER:
            _add(deltas, e.sender, asset, -e.amount)
            _add(deltas, e.receiver, asset, e.amount)
        elif e.kind == MINT:
            _add(deltas, e.receiver, asset, e.amount)
    return deltas


def reconcile_xlm(
    ctx: TxContext, n: int, op: xdr.Operation, changes: list[Change], events: list[TokenEvent]
) -> list[TokenEvent]:
    """`events` with a mint first or a burn last for XLM the operation source gained or lost unexplained."""
    holder = base_account(ctx.op_source(op))
    key = (holder, "native")
    diff = change_deltas(changes).get(key, 0) - event_deltas(events).get(key, 0)
    if diff == 0:
        return events
    contract = ctx.sac_id(NATIVE_ASSET)
    if diff > 0:
        return [TokenEvent(MINT, None, holder, diff, NATIVE_ASSET, contract, n), *events]
    return [*events, TokenEvent(BURN, holder, None, -diff, NATIVE_ASSET, contract, n)]
