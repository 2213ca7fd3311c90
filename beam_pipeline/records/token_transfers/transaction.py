"""All token events of one transaction: its fee events, then its operations' movements.

Two sources, chosen per transaction:

* **CAP-67 unified events** (TransactionMeta v4 whose transaction-level events are present, i.e.
  stellar-core ran with classic events on, as pubnet does from protocol 23): fees from the
  transaction-level events, every movement from each operation's events. This is stellar-etl's
  mode (``NewEventsProcessorForUnifiedEvents``).
* **Derived** (everything older, and v4 meta written without classic events, such as the
  standalone load-test ledgers): fees from the result and fee changes, classic movements from each
  operation, its result and its ledger-entry changes, and contract token events for
  ``invoke_host_function``. This is the reference processor's default mode; stellar-etl itself
  refuses such ledgers, so here the reference processor is the oracle.

A failed transaction moves nothing but its fee.
"""

from __future__ import annotations

from collections.abc import Callable

from stellar_sdk import xdr

from beam_pipeline.records.operations.changes import Change, operation_changes
from beam_pipeline.records.token_transfers import balances, payments
from beam_pipeline.records.token_transfers.contract import token_event
from beam_pipeline.records.token_transfers.event import TokenEvent, TokenTransferError, TxContext
from beam_pipeline.records.token_transfers.fees import derived_fee_events, has_unified_fee_events, unified_fee_events
from beam_pipeline.records.token_transfers.reconcile import reconcile_xlm

_OT = xdr.OperationType

# Protocol 8 fixed the bugs that minted and burned lumens outside any operation's intent.
_RECONCILE_BEFORE_PROTOCOL = 8

_FROM_RESULT: dict[xdr.OperationType, Callable[..., list[TokenEvent]]] = {
    _OT.CREATE_ACCOUNT: payments.create_account,
    _OT.ACCOUNT_MERGE: payments.account_merge,
    _OT.PAYMENT: payments.payment,
    _OT.INFLATION: payments.inflation,
    _OT.MANAGE_BUY_OFFER: payments.manage_offer,
    _OT.MANAGE_SELL_OFFER: payments.manage_offer,
    _OT.CREATE_PASSIVE_SELL_OFFER: payments.manage_offer,
    _OT.PATH_PAYMENT_STRICT_SEND: payments.path_payment_strict_send,
    _OT.PATH_PAYMENT_STRICT_RECEIVE: payments.path_payment_strict_receive,
}

_FROM_CHANGES: dict[xdr.OperationType, Callable[..., list[TokenEvent]]] = {
    _OT.CREATE_CLAIMABLE_BALANCE: balances.create_claimable_balance,
    _OT.CLAIM_CLAIMABLE_BALANCE: balances.claim_claimable_balance,
    _OT.CLAWBACK: balances.clawback,
    _OT.CLAWBACK_CLAIMABLE_BALANCE: balances.clawback_claimable_balance,
    _OT.ALLOW_TRUST: balances.revoked_trust_line,
    _OT.SET_TRUST_LINE_FLAGS: balances.revoked_trust_line,
    _OT.LIQUIDITY_POOL_DEPOSIT: balances.liquidity_pool_deposit,
    _OT.LIQUIDITY_POOL_WITHDRAW: balances.liquidity_pool_withdraw,
}


def _contract_events_of(ctx: TxContext, index: int) -> list[xdr.ContractEvent]:
    """The contract events the reference attributes to operation `index` (0-based)."""
    meta = ctx.tx.meta
    if meta.v == 3:
        soroban = meta.v3.soroban_meta
        return [] if soroban is None else list(soroban.events)
    if meta.v == 4:
        ops = meta.v4.operations or []
        return list(ops[index].events) if index < len(ops) else []
    return []


def _contract_token_events(ctx: TxContext, index: int) -> list[TokenEvent]:
    meta_version = ctx.tx.meta.v
    out = []
    for event in _contract_events_of(ctx, index):
        parsed = token_event(ctx, index + 1, event, meta_version)
        if parsed is not None:
            out.append(parsed)
    return out


def derived_operation_events(
    ctx: TxContext, index: int, op: xdr.Operation, result: xdr.OperationResult
) -> list[TokenEvent]:
    """One operation's movements as the reference derives them (without unified events)."""
    n = index + 1
    t = op.body.type
    if t == _OT.INVOKE_HOST_FUNCTION:
        return _contract_token_events(ctx, index)
    changes: list[Change] | None = None
    if t in _FROM_RESULT:
        events = _FROM_RESULT[t](ctx, n, op, result)
    elif t in _FROM_CHANGES:
        changes = operation_changes(ctx.tx, index, ctx.ledger.protocol_version)
        events = _FROM_CHANGES[t](ctx, n, op, result, changes)
    else:
        return []
    if ctx.ledger.protocol_version >= _RECONCILE_BEFORE_PROTOCOL:
        return events
    if changes is None:
        changes = operation_changes(ctx.tx, index, ctx.ledger.protocol_version)
    return reconcile_xlm(ctx, n, op, changes, events)


def transaction_events(ctx: TxContext) -> tuple[list[TokenEvent], list[TokenEvent]]:
    """(fee events, operation events) of one transaction.

    Raises:
        TokenTransferError: naming the ledger, transaction and operation of meta the reference rejects.
    """
    tx = ctx.tx
    unified = has_unified_fee_events(tx.meta)
    fees = unified_fee_events(ctx) if unified else derived_fee_events(ctx)
    if not tx.successful:
        return fees, []
    ops: list[TokenEvent] = []
    if unified:
        for index in range(len(tx.meta.v4.operations or [])):
            ops.extend(_contract_token_events(ctx, index))
        return fees, ops
    results = tx.operation_results or []
    operations = tx.operations
    if len(results) != len(operations):
        raise TokenTransferError(f"{ctx.where()}: {len(operations)} operations but {len(results)} results")
    for index, (op, result) in enumerate(zip(operations, results, strict=True)):
        ops.extend(derived_operation_events(ctx, index, op, result))
    return fees, ops
