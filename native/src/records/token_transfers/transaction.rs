//! All token events of one transaction: its fee events, then its operations' movements
//! (reference: `beam_pipeline/records/token_transfers/transaction.py`, which explains the two sources).

use stellar_xdr::curr::{
    ContractEvent, InnerTransactionResultResult, OperationBody, OperationResult, TransactionMeta,
    TransactionResultResult,
};

use super::contract::token_event;
use super::event::{TokenEvent, TtError, TtResult, TxContext};
use super::fees::{derived_fee_events, has_unified_fee_events, unified_fee_events};
use super::reconcile::reconcile_xlm;
use super::{balances, payments};
use crate::records::operations::changes::{operation_changes, Change};

/// Protocol 8 fixed the bugs that minted and burned lumens outside any operation's intent.
const RECONCILE_BEFORE_PROTOCOL: u32 = 8;

fn meta_version(meta: &TransactionMeta) -> u32 {
    match meta {
        TransactionMeta::V0(_) => 0,
        TransactionMeta::V1(_) => 1,
        TransactionMeta::V2(_) => 2,
        TransactionMeta::V3(_) => 3,
        TransactionMeta::V4(_) => 4,
    }
}

/// The contract events the reference attributes to operation `index` (0-based).
fn contract_events_of<'a>(ctx: &TxContext<'a, '_>, index: usize) -> &'a [ContractEvent] {
    match ctx.tx.meta {
        TransactionMeta::V3(m) => m.soroban_meta.as_ref().map_or(&[], |s| s.events.as_slice()),
        TransactionMeta::V4(m) => m.operations.get(index).map_or(&[], |o| o.events.as_slice()),
        _ => &[],
    }
}

fn contract_token_events(ctx: &TxContext<'_, '_>, index: usize, out: &mut Vec<TokenEvent>) -> TtResult<()> {
    let version = meta_version(ctx.tx.meta);
    for event in contract_events_of(ctx, index) {
        if let Some(parsed) = token_event(ctx, index as u32 + 1, event, version)? {
            out.push(parsed);
        }
    }
    Ok(())
}

/// One operation's movements as the reference derives them (without unified events).
fn derived_operation_events(
    ctx: &TxContext<'_, '_>,
    index: usize,
    op: &stellar_xdr::curr::Operation,
    result: &OperationResult,
    out: &mut Vec<TokenEvent>,
) -> TtResult<()> {
    let n = index as u32 + 1;
    if let OperationBody::InvokeHostFunction(_) = op.body {
        return contract_token_events(ctx, index, out);
    }
    let mut changes: Option<Vec<Change<'_>>> = None;
    let events = if let Some(events) = payments::from_result(ctx, n, op, result) {
        events?
    } else if balances::reads_changes(op) {
        let c = operation_changes(ctx.tx, index, ctx.protocol).map_err(TtError::Value)?;
        let events = balances::from_changes(ctx, n, op, result, &c)?;
        changes = Some(c);
        events
    } else {
        return Ok(());
    };
    if ctx.protocol >= RECONCILE_BEFORE_PROTOCOL {
        out.extend(events);
        return Ok(());
    }
    let changes = match changes {
        Some(c) => c,
        None => operation_changes(ctx.tx, index, ctx.protocol).map_err(TtError::Value)?,
    };
    out.extend(reconcile_xlm(ctx, n, op, &changes, events));
    Ok(())
}

/// Whether the transaction succeeded, and its operation results (None when it failed before applying them).
fn outcome<'a>(ctx: &TxContext<'a, '_>) -> (bool, Option<&'a [OperationResult]>) {
    match &ctx.tx.result_pair.result.result {
        TransactionResultResult::TxSuccess(r) => (true, Some(r.as_slice())),
        TransactionResultResult::TxFailed(r) => (false, Some(r.as_slice())),
        TransactionResultResult::TxFeeBumpInnerSuccess(p) | TransactionResultResult::TxFeeBumpInnerFailed(p) => {
            let success = matches!(
                ctx.tx.result_pair.result.result,
                TransactionResultResult::TxFeeBumpInnerSuccess(_)
            );
            match &p.result.result {
                InnerTransactionResultResult::TxSuccess(r) | InnerTransactionResultResult::TxFailed(r) => {
                    (success, Some(r.as_slice()))
                }
                _ => (success, None),
            }
        }
        _ => (false, None),
    }
}

/// (fee events, operation events) of one transaction.
pub fn transaction_events(ctx: &TxContext<'_, '_>) -> TtResult<(Vec<TokenEvent>, Vec<TokenEvent>)> {
    let unified = has_unified_fee_events(ctx.tx.meta);
    let fees = if unified {
        unified_fee_events(ctx)?
    } else {
        derived_fee_events(ctx)?
    };
    let (successful, results) = outcome(ctx);
    if !successful {
        return Ok((fees, Vec::new()));
    }
    let mut ops = Vec::new();
    if unified {
        if let TransactionMeta::V4(m) = ctx.tx.meta {
            for index in 0..m.operations.len() {
                contract_token_events(ctx, index, &mut ops)?;
            }
        }
        return Ok((fees, ops));
    }
    let results = results.unwrap_or(&[]);
    let operations = ctx.inner.operations();
    if results.len() != operations.len() {
        return Err(TtError::Token(format!(
            "{}: {} operations but {} results",
            ctx.place(),
            operations.len(),
            results.len()
        )));
    }
    for (index, (op, result)) in operations.iter().zip(results).enumerate() {
        derived_operation_events(ctx, index, op, result, &mut ops)?;
    }
    Ok((fees, ops))
}
