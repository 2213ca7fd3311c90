//! The `ttl` table: time-to-live entry changes of Soroban entries (reference:
//! `beam_pipeline/records/changes/ttl.py`; the compactor keeps the largest `live_until_ledger_seq`).

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::ArrayRef;
use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType};

use super::common::{reported, ChangeBuilders, ChangeColumns};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::hex;
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    /// sha256 of the contract data / code LedgerKey the TTL belongs to
    key_hash: [u8; 32],
    live_until_ledger_seq: u32,
    change: ChangeColumns,
}

fn change_row(change: &EntryChange<'_>, view: &View<'_>) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::Ttl(ttl) = &entry.data else {
        return Err(RowError::new(ERR, "a ttl change holds another entry type".to_string()));
    };
    Ok(Row {
        key_hash: ttl.key_hash.0,
        live_until_ledger_seq: ttl.live_until_ledger_seq,
        change: ChangeColumns::checked(change, entry, view)?,
    })
}

pub struct Ttl {
    key_hash: StringBuilder,
    live_until_ledger_seq: Int64Column,
    change: ChangeBuilders,
}

impl Ttl {
    pub fn new(_opts: &Options) -> Self {
        Ttl {
            key_hash: StringBuilder::new(),
            live_until_ledger_seq: Int64Column::new(),
            change: ChangeBuilders::new(),
        }
    }
}

impl TableBuilder for Ttl {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        compacted_of_type(view, &opts.passphrase, LedgerEntryType::Ttl)?
            .iter()
            .map(|c| change_row(c, view))
            .collect()
    }

    fn append(&mut self, r: Row) {
        self.key_hash.append_value(hex(&r.key_hash));
        self.live_until_ledger_seq.append_value(r.live_until_ledger_seq);
        self.change.append(&r.change);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![
            Arc::new(self.key_hash.finish()),
            Arc::new(self.live_until_ledger_seq.finish()),
        ];
        out.extend(self.change.finish());
        out
    }
}
