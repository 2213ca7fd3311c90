//! The `contract_code` table: Soroban Wasm entry changes (reference:
//! `beam_pipeline/records/changes/contract_code.py`). The cost inputs are 0 for code uploaded before
//! protocol 21 (ContractCodeEntry ext v0).

use std::sync::Arc;

use arrow_array::builder::{Int32Builder, StringBuilder, UInt32Builder};
use arrow_array::ArrayRef;
use sha2::{Digest, Sha256};
use stellar_xdr::curr::{ContractCodeEntry, ContractCodeEntryExt};

use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType};

use super::standin::{change_cols, compacted_of_type, ChangeCols, ChangeColumns};
use crate::arrow_out::{hex, XdrColumn};
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    hash: [u8; 32],
    ext_v: i32,
    key_hash: [u8; 32],
    costs: [u32; 10],
    key_bytes: Vec<u8>,
    change: ChangeCols,
}

/// One row of a contract-code change; `key_bytes` is the XDR of the entry's LedgerKey.
pub fn change_row(code: &ContractCodeEntry, key_bytes: &[u8], change: ChangeCols) -> Row {
    let (ext_v, costs) = match &code.ext {
        ContractCodeEntryExt::V0 => (0, [0; 10]),
        ContractCodeEntryExt::V1(v1) => {
            let c = &v1.cost_inputs;
            (
                1,
                [
                    c.n_instructions,
                    c.n_functions,
                    c.n_globals,
                    c.n_table_entries,
                    c.n_types,
                    c.n_data_segments,
                    c.n_elem_segments,
                    c.n_imports,
                    c.n_exports,
                    c.n_data_segment_bytes,
                ],
            )
        }
    };
    Row {
        hash: code.hash.0,
        ext_v,
        key_hash: Sha256::digest(key_bytes).into(),
        costs,
        key_bytes: key_bytes.to_vec(),
        change,
    }
}

pub struct ContractCode {
    hash: StringBuilder,
    ext_v: Int32Builder,
    change: ChangeColumns,
    key_hash: StringBuilder,
    costs: [UInt32Builder; 10],
    key_bytes: XdrColumn,
}

impl ContractCode {
    pub fn new(binary_xdr: bool) -> Self {
        ContractCode {
            hash: StringBuilder::new(),
            ext_v: Int32Builder::new(),
            change: ChangeColumns::default(),
            key_hash: StringBuilder::new(),
            costs: Default::default(),
            key_bytes: XdrColumn::new(binary_xdr),
        }
    }

    pub fn append_row(&mut self, r: Row) {
        self.hash.append_value(hex(&r.hash));
        self.ext_v.append_value(r.ext_v);
        self.change.append(&r.change);
        self.key_hash.append_value(hex(&r.key_hash));
        for (b, v) in self.costs.iter_mut().zip(r.costs) {
            b.append_value(v);
        }
        self.key_bytes.append(Some(&r.key_bytes));
    }

    pub fn finish_columns(mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![Arc::new(self.hash.finish()), Arc::new(self.ext_v.finish())];
        out.extend(self.change.finish());
        out.push(Arc::new(self.key_hash.finish()));
        for b in self.costs.iter_mut() {
            out.push(Arc::new(b.finish()));
        }
        out.push(self.key_bytes.finish());
        out
    }
}

impl TableBuilder for ContractCode {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let changes = compacted_of_type(view, &opts.passphrase, LedgerEntryType::ContractCode)
            .map_err(|(c, m)| RowError::new(c, m))?;
        Ok(changes
            .iter()
            .filter_map(|c| match c.entry().map(|e| &e.data) {
                Some(LedgerEntryData::ContractCode(code)) => Some(change_row(code, &c.key_bytes, change_cols(c, view))),
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
