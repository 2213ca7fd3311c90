//! The `ttl` table: time-to-live entry changes of Soroban entries (reference:
//! `beam_pipeline/records/changes/ttl.py`; the compactor keeps the largest `live_until_ledger_seq`).

use std::sync::Arc;

use arrow_array::builder::{StringBuilder, UInt32Builder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::TtlEntry;

use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType};

use super::standin::{change_cols, compacted_of_type, ChangeCols, ChangeColumns};
use crate::arrow_out::hex;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    key_hash: [u8; 32],
    live_until_ledger_seq: u32,
    change: ChangeCols,
}

pub fn change_row(ttl: &TtlEntry, change: ChangeCols) -> Row {
    Row {
        key_hash: ttl.key_hash.0,
        live_until_ledger_seq: ttl.live_until_ledger_seq,
        change,
    }
}

#[derive(Default)]
pub struct Ttl {
    key_hash: StringBuilder,
    live_until_ledger_seq: UInt32Builder,
    change: ChangeColumns,
}

impl Ttl {
    pub fn append_row(&mut self, r: Row) {
        // sha256 of the contract data / code LedgerKey the TTL belongs to
        self.key_hash.append_value(hex(&r.key_hash));
        self.live_until_ledger_seq.append_value(r.live_until_ledger_seq);
        self.change.append(&r.change);
    }

    pub fn finish_columns(mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![
            Arc::new(self.key_hash.finish()),
            Arc::new(self.live_until_ledger_seq.finish()),
        ];
        out.extend(self.change.finish());
        out
    }
}

impl TableBuilder for Ttl {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let changes =
            compacted_of_type(view, &opts.passphrase, LedgerEntryType::Ttl).map_err(|(c, m)| RowError::new(c, m))?;
        Ok(changes
            .iter()
            .filter_map(|c| match c.entry().map(|e| &e.data) {
                Some(LedgerEntryData::Ttl(ttl)) => Some(change_row(ttl, change_cols(c, view))),
                _ => None,
            })
            .collect())
    }

    fn append(&mut self, row: Row) {
        self.append_row(row)
    }

    fn finish(self) -> Vec<ArrayRef> {
        self.finish_columns()
    }
}
