//! The `contract_events` table: contract, system and diagnostic events of every transaction
//! (reference: `beam_pipeline/records/contract_events.py`, which documents which events and in which order).

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    ContractEvent, ContractEventBody, FeeBumpTransactionInnerTx, Limits, TransactionEnvelope, TransactionExt,
    TransactionMeta, TransactionResultResult, WriteXdr,
};

use super::{toid, Options, RowError, TableBuilder};
use crate::arrow_out::{hex, XdrColumn, XdrListColumn};
use crate::ints::Int64Column;
use crate::ledger::{Tx, View};
use crate::scval::write_json;
use crate::strkey;

const ERR: &str = "ContractEventError";

pub struct Row {
    tx_hash: String,
    tx_id: i64,
    successful: bool,
    seq: u32,
    closed_at_us: i64,
    in_successful_contract_call: bool,
    contract_id: String,
    type_: i32,
    type_string: String,
    topics: Vec<Vec<u8>>,
    topics_decoded: String,
    data: Vec<u8>,
    data_decoded: String,
    event_xdr: Vec<u8>,
    operation_id: Option<i64>,
}

/// Whether the envelope (the inner one of a fee bump) carries Soroban transaction data.
pub(crate) fn is_soroban(env: &TransactionEnvelope) -> bool {
    match env {
        TransactionEnvelope::TxV0(_) => false,
        TransactionEnvelope::Tx(e) => matches!(e.tx.ext, TransactionExt::V1(_)),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => matches!(i.tx.ext, TransactionExt::V1(_)),
        },
    }
}

/// The events stellar-etl exports for one transaction, in its order: (in_successful_contract_call, event,
/// 1-based operation index or None).
fn transaction_events<'a>(tx: &Tx<'a>) -> Vec<(bool, &'a ContractEvent, Option<u32>)> {
    let mut out = Vec::new();
    match tx.meta {
        TransactionMeta::V0(_) | TransactionMeta::V1(_) | TransactionMeta::V2(_) => {}
        TransactionMeta::V3(m) => {
            if let (true, Some(s)) = (is_soroban(tx.envelope), m.soroban_meta.as_ref()) {
                out.extend(s.events.iter().map(|e| (true, e, Some(1))));
                out.extend(
                    s.diagnostic_events
                        .iter()
                        .map(|d| (d.in_successful_contract_call, &d.event, None)),
                );
            }
        }
        TransactionMeta::V4(m) => {
            out.extend(m.events.iter().map(|te| (true, &te.event, None)));
            for (i, op) in m.operations.iter().enumerate() {
                out.extend(op.events.iter().map(|e| (true, e, Some(i as u32 + 1))));
            }
            out.extend(
                m.diagnostic_events
                    .iter()
                    .map(|d| (d.in_successful_contract_call, &d.event, None)),
            );
        }
    }
    out
}

fn xdr<T: WriteXdr>(value: &T) -> Vec<u8> {
    value.to_xdr(Limits::none()).expect("a decoded value re-encodes")
}

fn event_row(
    base: (&str, i64, bool, u32, i64),
    tx_index: u32,
    in_success: bool,
    event: &ContractEvent,
    op: Option<u32>,
) -> Result<Row, String> {
    let (tx_hash, tx_id, successful, seq, closed_at_us) = base;
    let ContractEventBody::V0(body) = &event.body;
    let mut topics_decoded = String::from("[");
    for (i, t) in body.topics.iter().enumerate() {
        if i > 0 {
            topics_decoded.push(',');
        }
        write_json(t, &mut topics_decoded);
    }
    topics_decoded.push(']');
    let mut data_decoded = String::new();
    write_json(&body.data, &mut data_decoded);
    // A DiagnosticEvent's XDR: the bool, then the event.
    let mut event_xdr = vec![0, 0, 0, in_success as u8];
    event_xdr.extend(xdr(event));
    let operation_id = match op {
        None => None,
        Some(i) => Some(toid(seq, tx_index, i).map_err(|e| e.to_string())?),
    };
    Ok(Row {
        tx_hash: tx_hash.to_string(),
        tx_id,
        successful,
        seq,
        closed_at_us,
        in_successful_contract_call: in_success,
        contract_id: event
            .contract_id
            .as_ref()
            .map(|c| strkey::encode(strkey::CONTRACT, &c.0 .0))
            .unwrap_or_default(),
        type_: event.type_ as i32,
        type_string: format!("ContractEventType{}", event.type_.name()),
        topics: body.topics.iter().map(xdr).collect(),
        topics_decoded,
        data: xdr(&body.data),
        data_decoded,
        event_xdr,
        operation_id,
    })
}

fn transaction_rows(view: &View<'_>, tx: &Tx<'_>) -> Result<Vec<Row>, String> {
    let seq = view.sequence();
    let tx_id = toid(seq, tx.index, 0)?;
    let successful = matches!(
        tx.result_pair.result.result,
        TransactionResultResult::TxSuccess(_) | TransactionResultResult::TxFeeBumpInnerSuccess(_)
    );
    let hash = hex(&tx.result_pair.transaction_hash.0);
    let closed_at_us = view.close_time() as i64 * 1_000_000;
    transaction_events(tx)
        .into_iter()
        .map(|(in_success, event, op)| {
            event_row(
                (&hash, tx_id, successful, seq, closed_at_us),
                tx.index,
                in_success,
                event,
                op,
            )
        })
        .collect()
}

pub struct ContractEvents {
    tx_hash: StringBuilder,
    tx_id: Int64Builder,
    successful: BooleanBuilder,
    seq: Int64Column,
    closed_at: TimestampMicrosecondBuilder,
    in_successful_contract_call: BooleanBuilder,
    contract_id: StringBuilder,
    type_: Int64Column,
    type_string: StringBuilder,
    topics: XdrListColumn,
    topics_decoded: StringBuilder,
    data: XdrColumn,
    data_decoded: StringBuilder,
    event_xdr: XdrColumn,
    operation_id: Int64Builder,
}

impl ContractEvents {
    pub fn new(opts: &Options) -> Self {
        ContractEvents {
            tx_hash: StringBuilder::new(),
            tx_id: Int64Builder::new(),
            successful: BooleanBuilder::new(),
            seq: Int64Column::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            in_successful_contract_call: BooleanBuilder::new(),
            contract_id: StringBuilder::new(),
            type_: Int64Column::new(),
            type_string: StringBuilder::new(),
            topics: XdrListColumn::new(opts.binary_xdr),
            topics_decoded: StringBuilder::new(),
            data: XdrColumn::new(opts.binary_xdr),
            data_decoded: StringBuilder::new(),
            event_xdr: XdrColumn::new(opts.binary_xdr),
            operation_id: Int64Builder::new(),
        }
    }
}

impl TableBuilder for ContractEvents {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let seq = view.sequence();
        let txs = view
            .transactions(&opts.passphrase)
            .map_err(|e| RowError::new("LedgerDecodeError", e))?;
        let mut rows = Vec::new();
        for tx in &txs {
            let more = transaction_rows(view, tx).map_err(|e| {
                let hash = hex(&tx.result_pair.transaction_hash.0);
                RowError::new(
                    ERR,
                    format!(
                        "ledger {seq}: transaction {hash} (order {}): contract events: {e}",
                        tx.index
                    ),
                )
            })?;
            rows.extend(more);
        }
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        self.tx_hash.append_value(&r.tx_hash);
        self.tx_id.append_value(r.tx_id);
        self.successful.append_value(r.successful);
        self.seq.append_value(r.seq);
        self.closed_at.append_value(r.closed_at_us);
        self.in_successful_contract_call
            .append_value(r.in_successful_contract_call);
        self.contract_id.append_value(&r.contract_id);
        self.type_.append_value(r.type_);
        self.type_string.append_value(&r.type_string);
        self.topics.append(Some(r.topics.iter().map(|t| t.as_slice())));
        self.topics_decoded.append_value(&r.topics_decoded);
        self.data.append(Some(&r.data));
        self.data_decoded.append_value(&r.data_decoded);
        self.event_xdr.append(Some(&r.event_xdr));
        self.operation_id.append_option(r.operation_id);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.tx_hash.finish()),
            Arc::new(self.tx_id.finish()),
            Arc::new(self.successful.finish()),
            Arc::new(self.seq.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.in_successful_contract_call.finish()),
            Arc::new(self.contract_id.finish()),
            Arc::new(self.type_.finish()),
            Arc::new(self.type_string.finish()),
            self.topics.finish(),
            Arc::new(self.topics_decoded.finish()),
            self.data.finish(),
            Arc::new(self.data_decoded.finish()),
            self.event_xdr.finish(),
            Arc::new(self.operation_id.finish()),
        ]
    }
}
