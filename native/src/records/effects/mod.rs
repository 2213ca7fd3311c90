//! The `effects` table: what each operation of a successful transaction did to each account, as stellar-etl's
//! TransformEffect (reference: `beam_pipeline/records/effects/`, one module per family as here; its
//! `__init__.py` documents the order of an operation's effects).
//!
//! `details` is written as the reference's `details_text` writes it (`details.rs`), straight into the column.

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::OperationBody;

use super::operations::common::{tx_operations, tx_successful};
use super::operations::{closed_at_error, type_string};
use super::{toid, Options, RowError, TableBuilder};
use crate::ints::{count, Int64Column};
use crate::ledger::{network_id, Tx, View};

mod accounts;
mod claimable;
mod common;
mod liquidity_pools;
mod payments;
mod soroban;
mod sponsorship;
mod trades;
mod trust;

use common::{Effect, Fail, Fx, OpContext, Res};

const OPERATION_ERROR: &str = "OperationError";

pub struct Row {
    effect: Effect,
    operation_id: i64,
    closed_at_us: i64,
    seq: u32,
    index: i64,
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

/// The effects of one operation of a successful transaction, in stellar-etl's order; an error is the message
/// of the reference's `OperationError`.
fn operation_effects(ctx: &OpContext<'_, '_>) -> Result<Vec<Effect>, String> {
    let mut fx = Fx {
        ctx,
        source: ctx.source(),
        items: Vec::new(),
    };
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
        Err(Fail::Op(message)) => Err(format!("{}: {message}", ctx.where_())),
        Err(Fail::Py(class, message)) => Err(format!(
            "{}: {} effects: {class}: {message}",
            ctx.where_(),
            type_string(&ctx.op.body)
        )),
    }
}

/// The effect rows of one transaction (none when it failed).
fn transaction_rows(
    view: &View<'_>,
    tx: &Tx<'_>,
    passphrase: &str,
    network_id: &[u8; 32],
    rows: &mut Vec<Row>,
) -> Result<(), RowError> {
    if !tx_successful(tx) {
        return Ok(());
    }
    let seq = view.sequence();
    let closed_at_us = (view.close_time() as i64).wrapping_mul(1_000_000);
    for index in 0..tx_operations(tx.envelope).len() {
        let operation_id = toid(seq, tx.index, index as u32 + 1).map_err(|e| RowError::new("ValueError", e))?;
        let Some(ctx) = OpContext::new(view, tx, index, passphrase, network_id) else {
            continue;
        };
        let effects = operation_effects(&ctx).map_err(|m| RowError::new(OPERATION_ERROR, m))?;
        // The reference reads the ledger's `closed_at` (a datetime) for its first row.
        if !effects.is_empty() {
            if let Some(e) = closed_at_error(view.close_time()) {
                return Err(e);
            }
        }
        for (n, effect) in effects.into_iter().enumerate() {
            rows.push(Row {
                effect,
                operation_id,
                closed_at_us,
                seq,
                index: count(n),
            });
        }
    }
    Ok(())
}

pub struct Effects {
    address: StringBuilder,
    address_muxed: StringBuilder,
    operation_id: Int64Builder,
    type_: Int64Column,
    type_string: StringBuilder,
    details: StringBuilder,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: Int64Column,
    index: Int64Column,
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
            type_: Int64Column::new(),
            type_string: StringBuilder::new(),
            details: StringBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: Int64Column::new(),
            index: Int64Column::new(),
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
            transaction_rows(view, tx, &opts.passphrase, &network, &mut rows)?;
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
