"""Fee events: what each transaction paid, and the Soroban refund, as CAP-67 reports them.

Every transaction, failed or not, yields one ``fee`` event (the charge) and a Soroban transaction
a second one (the refund, a negative amount) when part of its resource fee came back. Where the
meta carries CAP-67's transaction-level events they are read from there; otherwise the reference
derives them:

* classic transactions: the charge is the result's ``feeCharged`` (no refund exists);
* Soroban transactions: the charge is the fee account's balance drop over the fee-processing
  changes, the refund its balance rise over ``txChangesAfter`` (protocols 20-22) plus the
  post-apply fee changes (protocol 23+; only one of them ever moves the balance).
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.token_transfers.contract import address_strkey, i128_value
from beam_pipeline.records.token_transfers.event import (
    FEE,
    NATIVE_ASSET,
    TokenEvent,
    TokenTransferError,
    TxContext,
    base_account,
    muxed_strkey,
)
from beam_pipeline.util.accounts import balance_span
from beam_pipeline.util.strkey import contract_strkey

_C = xdr.LedgerEntryChangeType


def fee_account(ctx: TxContext) -> str:
    """``G...`` of the account that paid the fee (the fee-bump's fee source, else the tx source)."""
    env = ctx.tx.envelope
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        return base_account(muxed_strkey(env.fee_bump.tx.fee_source))
    return base_account(ctx.source)


def derived_fee_events(ctx: TxContext) -> list[TokenEvent]:
    """The charge (and any refund) derived from the result and the fee-account balance changes."""
    payer = fee_account(ctx)
    contract = ctx.sac_id(NATIVE_ASSET)
    tx = ctx.tx
    if not ctx.is_soroban:
        charged = tx.result.fee_charged.int64
        return [TokenEvent(FEE, payer, None, charged, NATIVE_ASSET, contract, None)]
    start, end = balance_span(tx.fee_changes.ledger_entry_changes, payer)
    if end > start:
        raise TokenTransferError(f"{ctx.where()}: fee account balance rose during fee processing")
    events = [TokenEvent(FEE, payer, None, start - end, NATIVE_ASSET, contract, None)]
    meta = tx.meta
    if meta.v == 3:
        after = list(meta.v3.tx_changes_after.ledger_entry_changes)
    elif meta.v == 4:
        after = list(meta.v4.tx_changes_after.ledger_entry_changes)
    else:
        raise TokenTransferError(f"{ctx.where()}: Soroban transaction with TransactionMeta v{meta.v}")
    if tx.post_apply_fee_changes is not None:
        after += tx.post_apply_fee_changes.ledger_entry_changes
    start, end = balance_span(after, payer)
    if start > end:
        raise TokenTransferError(f"{ctx.where()}: fee account balance fell in the refund")
    if end - start > 0:
        events.append(TokenEvent(FEE, payer, None, start - end, NATIVE_ASSET, contract, None))
    return events


def has_unified_fee_events(tx_meta: xdr.TransactionMeta) -> bool:
    """Whether the meta carries CAP-67 transaction-level events (then every event is read from it)."""
    return tx_meta.v == 4 and bool(tx_meta.v4.events)


def unified_fee_events(ctx: TxContext) -> list[TokenEvent]:
    """The ``fee`` events of the transaction-level events (one charge, at most one refund).

    Raises:
        TokenTransferError: for a malformed fee event, or none or more than two of them.
    """
    contract = ctx.sac_id(NATIVE_ASSET)
    events: list[TokenEvent] = []
    for tx_event in ctx.tx.meta.v4.events:
        event = tx_event.event
        if event.type != xdr.ContractEventType.CONTRACT or event.contract_id is None or event.body.v != 0:
            raise TokenTransferError(f"{ctx.where()}: invalid fee event")
        topics = event.body.v0.topics
        if not topics or topics[0].type != xdr.SCValType.SCV_SYMBOL or topics[0].sym.sc_symbol != b"fee":
            continue  # other transaction-level events may come one day
        if len(topics) != 2:
            raise TokenTransferError(f"{ctx.where()}: fee event with {len(topics)} topics")
        value = i128_value(event.body.v0.data)
        if value is None:
            raise TokenTransferError(f"{ctx.where()}: fee event amount is not an i128")
        payer = address_strkey(topics[1])
        if payer is None:
            raise TokenTransferError(f"{ctx.where()}: fee event payer is not an address")
        if contract_strkey(event.contract_id.contract_id.hash) != contract:
            raise TokenTransferError(f"{ctx.where()}: fee event not from the native asset's contract")
        events.append(TokenEvent(FEE, payer, None, value, NATIVE_ASSET, contract, None))
    if not events or len(events) > 2:
        raise TokenTransferError(f"{ctx.where()}: {len(events)} fee events (expected 1 or 2)")
    return events
