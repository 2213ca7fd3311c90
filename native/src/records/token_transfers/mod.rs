//! The `token_transfers` table: every movement of value, classic and Soroban, fees included (CAP-67)
//! (reference: `beam_pipeline/records/token_transfers/`, whose `__init__.py` documents the order of the
//! events and stellar-etl's quirks in the columns, reproduced here).
//!
//! The modules mirror the reference's: `event` (the event and the rules every producer shares), `fees`,
//! `payments`, `balances`, `contract`, `reconcile` and `transaction` (which of them a transaction uses).

use std::fmt::Write;
use std::rc::Rc;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::Asset;

use super::operations::closed_at_error;
use super::{toid, Options, RowError, TableBuilder};
use crate::arrow_out::hex;
use crate::ints::Int64Column;
use crate::ledger::{network_id, View};
use crate::util::assets::{extract_asset, CREDIT_ALPHANUM12, CREDIT_ALPHANUM4, NATIVE};

mod balances;
mod contract;
mod event;
mod fees;
mod payments;
mod reconcile;
mod transaction;

use event::{Addr, SacCache, TokenEvent, TtError, TxContext};

const ERR: &str = "TokenTransferError";

/// Protocol 23 moved Soroban fee refunds after every operation of the ledger (CAP-67).
const REFUNDS_LAST_FROM_PROTOCOL: u32 = 23;

/// (transaction order, hash, event) of every event of a ledger, in the reference's order: every charge,
/// then every transaction's operation events (each followed by its refund before protocol 23), then (from
/// protocol 23) every refund.
fn ledger_events(
    view: &View<'_>,
    opts: &Options,
    sacs: &SacCache,
) -> Result<Vec<(u32, Rc<str>, TokenEvent)>, RowError> {
    let sequence = view.sequence();
    let protocol = view.header().ledger_version;
    let txs = view
        .transactions(&opts.passphrase)
        .map_err(|e| RowError::new("LedgerDecodeError", e))?;
    let refunds_last = protocol >= REFUNDS_LAST_FROM_PROTOCOL;
    let (mut charges, mut middle, mut refunds) = (Vec::new(), Vec::new(), Vec::new());
    for tx in &txs {
        let hash: Rc<str> = hex(&tx.result_pair.transaction_hash.0).into();
        let ctx = TxContext::new(sequence, protocol, tx, &hash, sacs);
        let (fees, ops) = transaction::transaction_events(&ctx).map_err(|e| match e {
            TtError::Token(m) => RowError::new(ERR, m),
            TtError::Value(m) => RowError::new(ERR, format!("{}: token transfers: {m}", ctx.place())),
            TtError::Other(class, m) => RowError::new(class, m),
        })?;
        let mut fees = fees.into_iter();
        if let Some(charge) = fees.next() {
            charges.push((tx.index, hash.clone(), charge));
        }
        middle.extend(ops.into_iter().map(|e| (tx.index, hash.clone(), e)));
        let rest = fees.map(|e| (tx.index, hash.clone(), e));
        if refunds_last {
            refunds.extend(rest);
        } else {
            middle.extend(rest);
        }
    }
    charges.append(&mut middle);
    charges.append(&mut refunds);
    Ok(charges)
}

pub struct Row {
    tx_hash: Rc<str>,
    tx_id: i64,
    op_id: Option<i64>,
    seq: u32,
    closed_at_us: i64,
    event: TokenEvent,
}

pub struct TokenTransfers {
    transaction_hash: StringBuilder,
    transaction_id: Int64Builder,
    operation_id: Int64Builder,
    event_topic: StringBuilder,
    from: StringBuilder,
    to: StringBuilder,
    asset: StringBuilder,
    asset_type: StringBuilder,
    asset_code: StringBuilder,
    asset_issuer: StringBuilder,
    amount: Float64Builder,
    amount_raw: StringBuilder,
    contract_id: StringBuilder,
    ledger_sequence: Int64Column,
    closed_at: TimestampMicrosecondBuilder,
    to_muxed: StringBuilder,
    to_muxed_id: StringBuilder,
    /// Scratch text for the composed `asset` and `amount_raw` columns.
    scratch: String,
    /// The contract strkeys named so far (every event names one), kept for the whole build.
    sacs: SacCache,
}

impl TokenTransfers {
    pub fn new(opts: &Options) -> Self {
        TokenTransfers {
            transaction_hash: StringBuilder::new(),
            transaction_id: Int64Builder::new(),
            operation_id: Int64Builder::new(),
            event_topic: StringBuilder::new(),
            from: StringBuilder::new(),
            to: StringBuilder::new(),
            asset: StringBuilder::new(),
            asset_type: StringBuilder::new(),
            asset_code: StringBuilder::new(),
            asset_issuer: StringBuilder::new(),
            amount: Float64Builder::new(),
            amount_raw: StringBuilder::new(),
            contract_id: StringBuilder::new(),
            ledger_sequence: Int64Column::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            to_muxed: StringBuilder::new(),
            to_muxed_id: StringBuilder::new(),
            scratch: String::new(),
            sacs: SacCache::new(network_id(&opts.passphrase)),
        }
    }

    /// asset, asset_type, asset_code, asset_issuer as stellar-etl names them.
    fn append_asset(&mut self, asset: Option<&Asset>) {
        let Some(asset) = asset else {
            // A contract token that is not a Stellar Asset Contract.
            self.asset.append_value("");
            self.asset_type.append_value("");
            self.asset_code.append_null();
            self.asset_issuer.append_null();
            return;
        };
        if let Asset::Native = asset {
            self.asset.append_value(NATIVE);
            self.asset_type.append_value(NATIVE);
            self.asset_code.append_null();
            self.asset_issuer.append_null();
            return;
        }
        let (_, code, issuer) = extract_asset(asset);
        // stellar-etl's type follows the code's length, not the XDR arm.
        let kind = if code.len() > 4 {
            CREDIT_ALPHANUM12
        } else {
            CREDIT_ALPHANUM4
        };
        self.scratch.clear();
        self.scratch.push_str(kind);
        self.scratch.push(':');
        self.scratch.push_str(&code);
        self.scratch.push(':');
        self.scratch.push_str(&issuer);
        self.asset.append_value(&self.scratch);
        self.asset_type.append_value(kind);
        self.asset_code.append_value(&code);
        self.asset_issuer.append_value(&issuer);
    }
}

fn append_addr(column: &mut StringBuilder, addr: Option<&Addr>) {
    match addr {
        Some(a) => column.append_value(a.strkey()),
        None => column.append_null(),
    }
}

impl TableBuilder for TokenTransfers {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let seq = view.sequence();
        // The reference reads `ledger.closed_at` (a Python datetime) first, for every ledger.
        if let Some(e) = closed_at_error(view.close_time()) {
            return Err(e);
        }
        let closed_at_us = view.close_time() as i64 * 1_000_000;
        let events = ledger_events(view, opts, &self.sacs)?;
        let value_error = |m: String| RowError::new("ValueError", m);
        let mut rows = Vec::with_capacity(events.len());
        for (order, tx_hash, event) in events {
            let tx_id = toid(seq, order, 0).map_err(value_error)?;
            let op_id = match event.op_index {
                None => None,
                Some(i) => Some(toid(seq, order, i).map_err(value_error)?),
            };
            rows.push(Row {
                tx_hash,
                tx_id,
                op_id,
                seq,
                closed_at_us,
                event,
            });
        }
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        let e = &r.event;
        self.transaction_hash.append_value(&*r.tx_hash);
        self.transaction_id.append_value(r.tx_id);
        self.operation_id.append_option(r.op_id);
        self.event_topic.append_value(e.kind.name());
        append_addr(&mut self.from, e.sender.as_ref());
        append_addr(&mut self.to, e.receiver.as_ref());
        self.append_asset(e.asset.as_ref());
        self.amount.append_value(e.amount as f64 * 0.0000001);
        self.scratch.clear();
        let _ = write!(self.scratch, "{}", e.amount); // writing to a String cannot fail
        self.amount_raw.append_value(&self.scratch);
        self.contract_id.append_value(&*e.contract_id);
        self.ledger_sequence.append_value(r.seq);
        self.closed_at.append_value(r.closed_at_us);
        match e.to_muxed {
            None => {
                self.to_muxed.append_null();
                self.to_muxed_id.append_null();
            }
            Some(id) => {
                // The M... of `to` and the id, or "" when `to` is not an account (stellar-etl ignores the error).
                match &e.receiver {
                    Some(Addr::Account(k)) => self.to_muxed.append_value(Addr::Muxed(*k, id).strkey()),
                    _ => self.to_muxed.append_value(""),
                }
                self.to_muxed_id.append_value(id.to_string());
            }
        }
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.transaction_hash.finish()),
            Arc::new(self.transaction_id.finish()),
            Arc::new(self.operation_id.finish()),
            Arc::new(self.event_topic.finish()),
            Arc::new(self.from.finish()),
            Arc::new(self.to.finish()),
            Arc::new(self.asset.finish()),
            Arc::new(self.asset_type.finish()),
            Arc::new(self.asset_code.finish()),
            Arc::new(self.asset_issuer.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.amount_raw.finish()),
            Arc::new(self.contract_id.finish()),
            Arc::new(self.ledger_sequence.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.to_muxed.finish()),
            Arc::new(self.to_muxed_id.finish()),
        ]
    }
}
