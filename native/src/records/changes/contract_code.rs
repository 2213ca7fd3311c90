//! The `contract_code` table: Soroban Wasm entry changes (reference:
//! `beam_pipeline/records/changes/contract_code.py`). The Wasm itself is not exported; its cost inputs are, and
//! are 0 for code uploaded before protocol 21 (ContractCodeEntry ext v0).

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::ArrayRef;
use sha2::{Digest, Sha256};
use stellar_xdr::curr::{ContractCodeEntryExt, LedgerEntryData, LedgerEntryType};

use super::common::{reported, ChangeBuilders, ChangeColumns};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::{hex, XdrColumn};
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    hash: [u8; 32],
    ext_v: i32,
    change: ChangeColumns,
    key_hash: [u8; 32],
    /// n_instructions .. n_data_segment_bytes, in the schema's order
    costs: [u32; 10],
    key_bytes: Vec<u8>,
}

fn change_row(change: &EntryChange<'_>, view: &View<'_>) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::ContractCode(code) = &entry.data else {
        return Err(RowError::new(
            ERR,
            "a contract code change holds another entry type".to_string(),
        ));
    };
    let (ext_v, costs) = match &code.ext {
        ContractCodeEntryExt::V0 => (0, [0; 10]),
        ContractCodeEntryExt::V1(v1) => {
            let c = &v1.cost_inputs;
            let costs = [
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
            ];
            (1, costs)
        }
    };
    Ok(Row {
        hash: code.hash.0,
        ext_v,
        change: ChangeColumns::checked(change, entry, view)?,
        key_hash: Sha256::digest(&change.key_bytes).into(),
        costs,
        key_bytes: change.key_bytes.clone(),
    })
}

pub struct ContractCode {
    hash: StringBuilder,
    ext_v: Int64Column,
    change: ChangeBuilders,
    key_hash: StringBuilder,
    costs: [Int64Column; 10],
    key_bytes: XdrColumn,
}

impl ContractCode {
    pub fn new(opts: &Options) -> Self {
        ContractCode {
            hash: StringBuilder::new(),
            ext_v: Int64Column::new(),
            change: ChangeBuilders::new(),
            key_hash: StringBuilder::new(),
            costs: Default::default(),
            key_bytes: XdrColumn::new(opts.binary_xdr),
        }
    }
}

impl TableBuilder for ContractCode {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        compacted_of_type(view, &opts.passphrase, LedgerEntryType::ContractCode)?
            .iter()
            .map(|c| change_row(c, view))
            .collect()
    }

    fn append(&mut self, r: Row) {
        self.hash.append_value(hex(&r.hash));
        self.ext_v.append_value(r.ext_v);
        self.change.append(&r.change);
        self.key_hash.append_value(hex(&r.key_hash));
        for (b, v) in self.costs.iter_mut().zip(r.costs) {
            b.append_value(v);
        }
        self.key_bytes.append(Some(&r.key_bytes));
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![Arc::new(self.hash.finish()), Arc::new(self.ext_v.finish())];
        out.extend(self.change.finish());
        out.push(Arc::new(self.key_hash.finish()));
        out.extend(self.costs.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
        out.push(self.key_bytes.finish());
        out
    }
}
