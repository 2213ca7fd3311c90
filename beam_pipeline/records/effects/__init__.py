"""The ``effects`` table: what each operation did to each account, as stellar-etl's TransformEffect.

Field names and values follow stellar-etl's ``EffectOutput`` (Hubble's ``history_effects``).
``details`` is the per-type map, stored as JSON text (compact, keys sorted, as Go writes a map);
in stellar-etl's JSON export it is a nested object, so parse the column to compare.

Per operation, effects are built in stellar-etl's order: first the operation type's own effects
(one module per operation family), then, over the operation's ledger-entry changes, the
sponsorship effects of each change, then the liquidity-pool created/removed effects. ``index`` is
the position in that list and ``id`` is ``"<operation_id>-<index>"``. Failed transactions have no
effects; begin/end_sponsoring_future_reserves and revoke_sponsorship have only the change-driven
ones.
"""

from __future__ import annotations

from collections.abc import Callable

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.records.effects import accounts, claimable, liquidity_pools, payments, soroban, trades, trust
from beam_pipeline.records.effects._common import Effect, Effects, EffectType
from beam_pipeline.records.effects.sponsorship import add_entry_sponsorship, add_signer_sponsorship
from beam_pipeline.records.operations import OpContext, OperationError, details_text
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.ledger import LedgerView, TxView

__all__ = ["EffectType", "operation_effects", "transaction_rows", "transform"]

_OT = xdr.OperationType


def _none(fx: Effects) -> None:
    """Operations whose effects all come from their ledger-entry changes."""


EFFECTS: dict[xdr.OperationType, Callable[[Effects], None]] = {
    **accounts.EFFECTS,
    **payments.EFFECTS,
    **trades.EFFECTS,
    **trust.EFFECTS,
    **claimable.EFFECTS,
    **liquidity_pools.EFFECTS,
    **soroban.EFFECTS,
    _OT.BEGIN_SPONSORING_FUTURE_RESERVES: _none,
    _OT.END_SPONSORING_FUTURE_RESERVES: _none,
    _OT.REVOKE_SPONSORSHIP: _none,
}


def operation_effects(ctx: OpContext) -> list[Effect]:
    """The effects of one operation of a successful transaction, in stellar-etl's order."""
    op_type = ctx.op.body.type
    builder = EFFECTS.get(op_type)
    if builder is None:
        raise ctx.error(f"unknown operation type {op_type}")
    fx = Effects(ctx)
    try:
        builder(fx)
        for change in fx.changes:
            add_entry_sponsorship(fx, change)
            add_signer_sponsorship(fx, change)
        for change in fx.changes:
            liquidity_pools.add_pool_entry_effects(fx, change)
    except OperationError:
        raise
    except Exception as exc:  # any decoding surprise gets the ledger/tx/op it happened in
        raise ctx.error(f"{op_type.name.lower()} effects: {type(exc).__name__}: {exc}") from exc
    return fx.items


def transaction_rows(ledger: LedgerView, tx: TxView) -> list[Row]:
    """The effect rows of one transaction (none when it failed)."""
    if not tx.successful:
        return []
    rows = []
    for index, op in enumerate(tx.operations):
        operation_id = toid(ledger.sequence, tx.index, index + 1)
        for n, effect in enumerate(operation_effects(OpContext(ledger, tx, op, index))):
            rows.append(
                {
                    "address": effect.address,
                    "address_muxed": effect.address_muxed,
                    "operation_id": operation_id,
                    "type": effect.type.value,
                    "type_string": effect.type.type_string,
                    "details": details_text(effect.details),
                    "closed_at": ledger.closed_at,
                    "ledger_sequence": ledger.sequence,
                    "index": n,
                    "id": f"{operation_id}-{n}",
                }
            )
    return rows


def transform(ledger: LedgerView) -> list[Row]:
    """Every effect of every successful transaction of a ledger, in application order."""
    return [row for tx in ledger.transactions for row in transaction_rows(ledger, tx)]
