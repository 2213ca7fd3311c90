//! The `restored_keys` table: ledger keys whose compacted change in the ledger is a restoration from the
//! archive (reference: `beam_pipeline/records/changes/restored_keys.py`). `ledger_key_hash` holds, despite its
//! name, the key's XDR, as stellar-etl fills it.

use std::fmt::Write;
use std::sync::Arc;

use arrow_array::builder::{StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{LedgerEntryChangeType, LedgerEntryType};

use super::common::closed_at_us;
use super::extract::compacted_changes;
use crate::arrow_out::XdrColumn;
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    key_bytes: Vec<u8>,
    entry_type: LedgerEntryType,
    last_modified_ledger: u32,
    closed_at_us: i64,
    ledger_sequence: u32,
}

pub struct RestoredKeys {
    key_bytes: XdrColumn,
    entry_type: StringBuilder,
    last_modified_ledger: Int64Column,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: Int64Column,
}

impl RestoredKeys {
    pub fn new(opts: &Options) -> Self {
        RestoredKeys {
            key_bytes: XdrColumn::new(opts.binary_xdr),
            entry_type: StringBuilder::new(),
            last_modified_ledger: Int64Column::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: Int64Column::new(),
        }
    }
}

impl TableBuilder for RestoredKeys {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let compacted = compacted_changes(view, &opts.passphrase)?;
        let restored = compacted
            .iter()
            .any(|c| c.change_type == LedgerEntryChangeType::Restored);
        // The reference's closed_at fails each row it builds for a close time Python cannot hold.
        let closed_at_us = if restored { closed_at_us(view)? } else { 0 };
        Ok(compacted
            .into_iter()
            .filter(|c| c.change_type == LedgerEntryChangeType::Restored)
            .map(|c| Row {
                last_modified_ledger: c.post.as_deref().map_or(0, |e| e.last_modified_ledger_seq),
                entry_type: c.entry_type,
                key_bytes: c.key_bytes,
                closed_at_us,
                ledger_sequence: view.sequence(),
            })
            .collect())
    }

    fn append(&mut self, r: Row) {
        self.key_bytes.append(Some(&r.key_bytes));
        // Go's String() of xdr.LedgerEntryType, e.g. LedgerEntryTypeContractData
        let _ = write!(self.entry_type, "LedgerEntryType{}", r.entry_type.name());
        self.entry_type.append_value("");
        self.last_modified_ledger.append_value(r.last_modified_ledger);
        self.closed_at.append_value(r.closed_at_us);
        self.ledger_sequence.append_value(r.ledger_sequence);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            self.key_bytes.finish(),
            Arc::new(self.entry_type.finish()),
            Arc::new(self.last_modified_ledger.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]
    }
}
