//! The `effects` table: what each operation of a successful transaction did to each account, as stellar-etl's
//! TransformEffect (reference: `beam_pipeline/records/effects/`, one module per family as here; its
//! `__init__.py` documents the order of an operation's effects).
//!
//! `details` is written as the reference's `details_text` writes it (`details.rs`), straight into the column.

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder, UInt32Builder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    FeeBumpTransactionInnerTx, InnerTransactionResultResult, MuxedAccount, Operation, OperationBody, OperationResult,
    TransactionEnvelope, TransactionResultResult,
};

use super::{toid, Options, RowError, TableBuilder};
use crate::arrow_out::hex;
use crate::ledger::{network_id, Tx, View};
use crate::records::operations::changes::operation_changes;

mod accounts;
mod claimable;
mod common;
mod liquidity_pools;
mod payments;
mod soroban;
mod sponsorship;
mod standin;
mod trades;
mod trust;

use common::{Effect, Fail, Fx, OpCtx, Res};

pub struct Row {
    effect: Effect,
    operation_id: i64,
    closed_at_us: i64,
    seq: u32,
    index: u32,
}

/// The operations and source of a transaction's inner envelope.
fn inner(env: &TransactionEnvelope) -> (&[Operation], MuxedAccount) {
    match env {
        TransactionEnvelope::TxV0(e) => (
            e.tx.operations.as_slice(),
            MuxedAccount::Ed25519(e.tx.source_account_ed25519.clone()),
        ),
        TransactionEnvelope::Tx(e) => (e.tx.operations.as_slice(), e.tx.source_account.clone()),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => (i.tx.operations.as_slice(), i.tx.source_account.clone()),
        },
    }
}

/// Per-operation results, or None when the transaction carries none.
fn operation_results<'a>(tx: &Tx<'a>) -> Option<&'a [OperationResult]> {
    match &tx.result_pair.result.result {
        TransactionResultResult::TxSuccess(r) | TransactionResultResult::TxFailed(r) => Some(r.as_slice()),
        TransactionResultResult::TxFeeBumpInnerSuccess(p) | TransactionResultResult::TxFeeBumpInnerFailed(p) => {
            match &p.result.result {
                InnerTransactionResultResult::TxSuccess(r) | InnerTransactionResultResult::TxFailed(r) => {
                    Some(r.as_slice())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The operation type's name as the reference prints it in messages (`extend_footprint_ttl`).
fn op_type_name(body: &OperationBody) -> String {
    let mut out = String::new();
    for (i, c) in body.name().chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The operation type's own effects.
fn own_effects(fx: &mut Fx<'_, '_>) -> Res<()> {
    match &fx.ctx.op.body {
        OperationBody::CreateAccount(op) => accounts::create_account(fx, op),
        OperationBody::Payment(op) => payments::payment(fx, op),
        OperationBody::PathPaymentStrictReceive(op) => payments::path_payment_strict_receive(fx, op),
        OperationBody::ManageSellOffer(_) => trades::manage_sell_offer(fx),
        OperationBody::CreatePassiveSellOffer(_) => trades::create_passive_sell_offer(fx),
        OperationBody::SetOptions(op) => accounts::set_options(fx, op),
        OperationBody::ChangeTrust(op) => trust::change_trust(fx, op),
        OperationBody::AllowTrust(op) => trust::allow_trust(fx, op),
        OperationBody::AccountMerge(destination) => accounts::account_merge(fx, destination),
        OperationBody::Inflation => accounts::inflation(fx),
        OperationBody::ManageData(op) => accounts::manage_data(fx, op),
        OperationBody::BumpSequence(_) => accounts::bump_sequence(fx),
        OperationBody::ManageBuyOffer(_) => trades::manage_buy_offer(fx),
        OperationBody::PathPaymentStrictSend(op) => payments::path_payment_strict_send(fx, op),
        OperationBody::CreateClaimableBalance(_) => claimable::create_claimable_balance(fx),
        OperationBody::ClaimClaimableBalance(op) => claimable::claim_claimable_balance(fx, &op.balance_id),
        OperationBody::ClawbackClaimableBalance(op) => claimable::clawback_claimable_balance(fx, &op.balance_id),
        OperationBody::Clawback(op) => payments::clawback(fx, op),
        OperationBody::SetTrustLineFlags(op) => trust::set_trust_line_flags(fx, op),
        OperationBody::LiquidityPoolDeposit(op) => liquidity_pools::liquidity_pool_deposit(fx, &op.liquidity_pool_id),
        OperationBody::LiquidityPoolWithdraw(op) => liquidity_pools::liquidity_pool_withdraw(fx, &op.liquidity_pool_id),
        OperationBody::InvokeHostFunction(_) => soroban::invoke_host_function(fx),
        OperationBody::ExtendFootprintTtl(op) => soroban::extend_footprint_ttl(fx, op.extend_to),
        OperationBody::RestoreFootprint(_) => soroban::restore_footprint(fx),
        // Their effects all come from their ledger-entry changes.
        OperationBody::BeginSponsoringFutureReserves(_)
        | OperationBody::EndSponsoringFutureReserves
        | OperationBody::RevokeSponsorship(_) => Ok(()),
    }
}

/// The effects of one operation of a successful transaction, in stellar-etl's order.
fn operation_effects(ctx: &OpCtx<'_, '_>) -> Result<Vec<Effect>, String> {
    let mut fx = Fx { ctx, items: Vec::new() };
    let run = |fx: &mut Fx<'_, '_>| -> Res<()> {
        own_effects(fx)?;
        let changes = fx.changes()?;
        for change in changes {
            sponsorship::add_entry_sponsorship(fx, change)?;
            sponsorship::add_signer_sponsorship(fx, change)?;
        }
        for change in changes {
            liquidity_pools::add_pool_entry_effects(fx, change)?;
        }
        Ok(())
    };
    match run(&mut fx) {
        Ok(()) => Ok(fx.items),
        Err(Fail::Op(message)) => Err(message),
        Err(Fail::Raised(class, message)) => {
            match ctx.error(format!("{} effects: {class}: {message}", op_type_name(&ctx.op.body))) {
                Fail::Op(m) | Fail::Raised(_, m) => Err(m),
            }
        }
    }
}

const OPERATION_ERROR: &str = "OperationError";

fn transaction_rows(view: &View<'_>, tx: &Tx<'_>, network_id: &[u8; 32], rows: &mut Vec<Row>) -> Result<(), RowError> {
    let successful = matches!(
        tx.result_pair.result.result,
        TransactionResultResult::TxSuccess(_) | TransactionResultResult::TxFeeBumpInnerSuccess(_)
    );
    if !successful {
        return Ok(());
    }
    let seq = view.sequence();
    let protocol = view.header().ledger_version;
    let closed_at_us = (view.close_time() as i64).wrapping_mul(1_000_000);
    let hash_hex = hex(&tx.result_pair.transaction_hash.0);
    let (operations, tx_source) = inner(tx.envelope);
    let results = operation_results(tx);
    for (index, op) in operations.iter().enumerate() {
        let operation_id = toid(seq, tx.index, index as u32 + 1).map_err(|e| RowError::new("ValueError", e))?;
        let ctx = OpCtx {
            seq,
            network_id,
            tx,
            hash_hex: &hash_hex,
            op,
            index,
            source: op.source_account.clone().unwrap_or_else(|| tx_source.clone()),
            results,
            changes: operation_changes(tx, index, protocol),
        };
        let effects = operation_effects(&ctx).map_err(|m| RowError::new(OPERATION_ERROR, m))?;
        for (n, effect) in effects.into_iter().enumerate() {
            rows.push(Row {
                effect,
                operation_id,
                closed_at_us,
                seq,
                index: n as u32,
            });
        }
    }
    Ok(())
}

pub struct Effects {
    address: StringBuilder,
    address_muxed: StringBuilder,
    operation_id: Int64Builder,
    type_: Int32Builder,
    type_string: StringBuilder,
    details: StringBuilder,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: UInt32Builder,
    index: UInt32Builder,
    id: StringBuilder,
    /// The details text of the row being appended (one buffer, reused).
    text: String,
}

impl Effects {
    pub fn new(_opts: &Options) -> Self {
        Effects {
            address: StringBuilder::new(),
            address_muxed: StringBuilder::new(),
            operation_id: Int64Builder::new(),
            type_: Int32Builder::new(),
            type_string: StringBuilder::new(),
            details: StringBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: UInt32Builder::new(),
            index: UInt32Builder::new(),
            id: StringBuilder::new(),
            text: String::new(),
        }
    }
}

impl TableBuilder for Effects {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let txs = view
            .transactions(&opts.passphrase)
            .map_err(|e| RowError::new("LedgerDecodeError", e))?;
        let network = network_id(&opts.passphrase);
        let mut rows = Vec::new();
        for tx in &txs {
            transaction_rows(view, tx, &network, &mut rows)?;
        }
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        let e = r.effect;
        self.address.append_value(&e.address);
        self.address_muxed.append_option(e.address_muxed.as_deref());
        self.operation_id.append_value(r.operation_id);
        self.type_.append_value(e.kind as i32);
        self.type_string.append_value(e.kind.type_string());
        self.text.clear();
        e.details.write(&mut self.text);
        self.details.append_value(&self.text);
        self.closed_at.append_value(r.closed_at_us);
        self.ledger_sequence.append_value(r.seq);
        self.index.append_value(r.index);
        let _ = write!(self.id, "{}-{}", r.operation_id, r.index);
        self.id.append_value("");
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.address.finish()),
            Arc::new(self.address_muxed.finish()),
            Arc::new(self.operation_id.finish()),
            Arc::new(self.type_.finish()),
            Arc::new(self.type_string.finish()),
            Arc::new(self.details.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
            Arc::new(self.index.finish()),
            Arc::new(self.id.finish()),
        ]
    }
}
