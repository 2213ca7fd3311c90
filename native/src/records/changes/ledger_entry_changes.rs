//! The `ledger_entry_changes` table: every ledger-entry change of every ledger, uncompacted, in reader
//! order, with its transaction/operation/upgrade context; evicted keys are rows of phase `eviction`
//! (reference: `beam_pipeline/records/changes/ledger_entry_changes.py`).

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use sha2::{Digest, Sha256};
use stellar_xdr::curr::{LedgerEntryChangeType, LedgerEntryType, Limits, WriteXdr};

use super::common::closed_at_us;
use super::extract::{ledger_changes, Phase};
use crate::arrow_out::{hex, XdrColumn};
use crate::ints::{count, Int64Column};
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    ledger_sequence: u32,
    closed_at_us: i64,
    change_index: i64,
    phase: Phase,
    tx: Option<([u8; 32], i64)>,
    operation: Option<(u32, i64)>,
    upgrade_index: Option<u32>,
    entry_type: LedgerEntryType,
    change_type: LedgerEntryChangeType,
    last_modified_ledger: Option<u32>,
    key_bytes: Vec<u8>,
    val_xdr: Option<Vec<u8>>,
}

pub struct Entries {
    ledger_sequence: Int64Column,
    closed_at: TimestampMicrosecondBuilder,
    change_index: Int64Column,
    phase: StringBuilder,
    transaction_hash: StringBuilder,
    transaction_id: Int64Builder,
    operation_index: Int64Column,
    operation_id: Int64Builder,
    upgrade_index: Int64Column,
    ledger_entry_type: StringBuilder,
    change_type: StringBuilder,
    ledger_entry_change: Int64Column,
    deleted: BooleanBuilder,
    last_modified_ledger: Int64Column,
    ledger_key_hash: StringBuilder,
    key_xdr: XdrColumn,
    val_xdr: XdrColumn,
}

impl Entries {
    pub fn new(opts: &Options) -> Self {
        Entries {
            ledger_sequence: Int64Column::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            change_index: Int64Column::new(),
            phase: StringBuilder::new(),
            transaction_hash: StringBuilder::new(),
            transaction_id: Int64Builder::new(),
            operation_index: Int64Column::new(),
            operation_id: Int64Builder::new(),
            upgrade_index: Int64Column::new(),
            ledger_entry_type: StringBuilder::new(),
            change_type: StringBuilder::new(),
            ledger_entry_change: Int64Column::new(),
            deleted: BooleanBuilder::new(),
            last_modified_ledger: Int64Column::new(),
            ledger_key_hash: StringBuilder::new(),
            key_xdr: XdrColumn::new(opts.binary_xdr),
            val_xdr: XdrColumn::new(opts.binary_xdr),
        }
    }
}

fn change_type_name(phase: Phase, t: LedgerEntryChangeType) -> &'static str {
    match (phase, t) {
        (Phase::Eviction, _) => "evicted",
        (_, LedgerEntryChangeType::Created) => "created",
        (_, LedgerEntryChangeType::Updated) => "updated",
        (_, LedgerEntryChangeType::Removed) => "removed",
        (_, LedgerEntryChangeType::Restored) => "restored",
        (_, LedgerEntryChangeType::State) => "state", // never: state entries are folded into their change
    }
}

impl TableBuilder for Entries {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let seq = view.sequence();
        let changes = ledger_changes(view, &opts.passphrase)?;
        // The reference's closed_at fails each row it builds for a close time Python cannot hold (before the
        // row's TOIDs).
        let closed_at_us = if changes.is_empty() { 0 } else { closed_at_us(view)? };
        let mut rows = Vec::with_capacity(changes.len());
        for (i, c) in changes.into_iter().enumerate() {
            let toid_error = |e: String| RowError::new("ValueError", e);
            let tx = match (c.tx, c.transaction_id(seq).map_err(toid_error)?) {
                (Some(tx), Some(id)) => Some((*tx.hash, id)),
                _ => None,
            };
            let operation = match (c.op_index, c.operation_id(seq).map_err(toid_error)?) {
                (Some(op), Some(id)) => Some((op + 1, id)),
                _ => None,
            };
            let entry = c.entry();
            rows.push(Row {
                ledger_sequence: seq,
                closed_at_us,
                change_index: count(i),
                phase: c.phase,
                tx,
                operation,
                upgrade_index: c.upgrade_index,
                entry_type: c.entry_type,
                change_type: c.change_type,
                last_modified_ledger: entry.map(|e| e.last_modified_ledger_seq),
                val_xdr: entry.map(|e| e.to_xdr(Limits::none()).expect("a decoded entry re-encodes")),
                key_bytes: c.key_bytes,
            });
        }
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        self.ledger_sequence.append_value(r.ledger_sequence);
        self.closed_at.append_value(r.closed_at_us);
        self.change_index.append_value(r.change_index);
        self.phase.append_value(r.phase.name());
        match r.tx {
            Some((hash, id)) => {
                self.transaction_hash.append_value(hex(&hash));
                self.transaction_id.append_value(id);
            }
            None => {
                self.transaction_hash.append_null();
                self.transaction_id.append_null();
            }
        }
        match r.operation {
            Some((index, id)) => {
                self.operation_index.append_value(index);
                self.operation_id.append_value(id);
            }
            None => {
                self.operation_index.append_null();
                self.operation_id.append_null();
            }
        }
        self.upgrade_index.append_option(r.upgrade_index);
        // Go's String() of xdr.LedgerEntryType, e.g. LedgerEntryTypeContractData
        let _ = write!(self.ledger_entry_type, "LedgerEntryType{}", r.entry_type.name());
        self.ledger_entry_type.append_value("");
        self.change_type.append_value(change_type_name(r.phase, r.change_type));
        self.ledger_entry_change.append_value(r.change_type as u32);
        self.deleted
            .append_value(r.change_type == LedgerEntryChangeType::Removed);
        self.last_modified_ledger.append_option(r.last_modified_ledger);
        self.ledger_key_hash.append_value(hex(&Sha256::digest(&r.key_bytes)));
        self.key_xdr.append(Some(&r.key_bytes));
        self.val_xdr.append(r.val_xdr.as_deref());
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.ledger_sequence.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.change_index.finish()),
            Arc::new(self.phase.finish()),
            Arc::new(self.transaction_hash.finish()),
            Arc::new(self.transaction_id.finish()),
            Arc::new(self.operation_index.finish()),
            Arc::new(self.operation_id.finish()),
            Arc::new(self.upgrade_index.finish()),
            Arc::new(self.ledger_entry_type.finish()),
            Arc::new(self.change_type.finish()),
            Arc::new(self.ledger_entry_change.finish()),
            Arc::new(self.deleted.finish()),
            Arc::new(self.last_modified_ledger.finish()),
            Arc::new(self.ledger_key_hash.finish()),
            self.key_xdr.finish(),
            self.val_xdr.finish(),
        ]
    }
}
