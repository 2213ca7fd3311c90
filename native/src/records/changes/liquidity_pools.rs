//! The `liquidity_pools` table: liquidity pool entry changes, one row per pool per ledger
//! (reference: `beam_pipeline/records/changes/liquidity_pools.py`).

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType, LiquidityPoolEntryBody};

use super::common::{
    asset_columns, pool_strkey, reported, stroops_to_real, AssetBuilders, AssetColumns, ChangeBuilders, ChangeColumns,
};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::hex;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};

pub struct Row {
    liquidity_pool_id: String,
    fee: i32,
    trustline_count: i64,
    pool_share_count: f64,
    asset_a: AssetColumns,
    asset_a_amount: f64,
    asset_b: AssetColumns,
    asset_b_amount: f64,
    liquidity_pool_id_strkey: String,
    change: ChangeColumns,
}

fn change_row(change: &EntryChange<'_>, view: &View<'_>) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::LiquidityPool(lp) = &entry.data else {
        return Err(RowError::new(
            ERR,
            "a liquidity pool change holds another entry type".to_string(),
        ));
    };
    let raw_id = &lp.liquidity_pool_id.0 .0;
    let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &lp.body;
    Ok(Row {
        liquidity_pool_id: hex(raw_id),
        fee: cp.params.fee,
        trustline_count: cp.pool_shares_trust_line_count,
        pool_share_count: stroops_to_real(cp.total_pool_shares),
        asset_a: asset_columns(&cp.params.asset_a),
        asset_a_amount: stroops_to_real(cp.reserve_a),
        asset_b: asset_columns(&cp.params.asset_b),
        asset_b_amount: stroops_to_real(cp.reserve_b),
        liquidity_pool_id_strkey: pool_strkey(raw_id),
        change: ChangeColumns::checked(change, entry, view)?,
    })
}

pub struct LiquidityPools {
    liquidity_pool_id: StringBuilder,
    type_: StringBuilder,
    fee: Int64Builder,
    trustline_count: Int64Builder,
    pool_share_count: Float64Builder,
    a: AssetBuilders,
    b: AssetBuilders,
    liquidity_pool_id_strkey: StringBuilder,
    change: ChangeBuilders,
}

impl LiquidityPools {
    pub fn new(_opts: &Options) -> Self {
        LiquidityPools {
            liquidity_pool_id: StringBuilder::new(),
            type_: StringBuilder::new(),
            fee: Int64Builder::new(),
            trustline_count: Int64Builder::new(),
            pool_share_count: Float64Builder::new(),
            a: AssetBuilders::new(true),
            b: AssetBuilders::new(true),
            liquidity_pool_id_strkey: StringBuilder::new(),
            change: ChangeBuilders::new(),
        }
    }
}

impl TableBuilder for LiquidityPools {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        compacted_of_type(view, &opts.passphrase, LedgerEntryType::LiquidityPool)?
            .iter()
            .map(|c| change_row(c, view))
            .collect()
    }

    fn append(&mut self, r: Row) {
        self.liquidity_pool_id.append_value(&r.liquidity_pool_id);
        self.type_.append_value("constant_product");
        self.fee.append_value(r.fee.into());
        self.trustline_count.append_value(r.trustline_count);
        self.pool_share_count.append_value(r.pool_share_count);
        self.a.append(&r.asset_a, r.asset_a_amount);
        self.b.append(&r.asset_b, r.asset_b_amount);
        self.liquidity_pool_id_strkey.append_value(&r.liquidity_pool_id_strkey);
        self.change.append(&r.change);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let c = &mut self.change;
        let mut out: Vec<ArrayRef> = vec![
            Arc::new(self.liquidity_pool_id.finish()),
            Arc::new(self.type_.finish()),
            Arc::new(self.fee.finish()),
            Arc::new(self.trustline_count.finish()),
            Arc::new(self.pool_share_count.finish()),
        ];
        out.extend(self.a.finish());
        out.extend(self.b.finish());
        out.extend([
            Arc::new(c.last_modified_ledger.finish()) as ArrayRef,
            Arc::new(c.ledger_entry_change.finish()),
            Arc::new(c.deleted.finish()),
            Arc::new(c.closed_at.finish()),
            Arc::new(c.ledger_sequence.finish()),
            Arc::new(self.liquidity_pool_id_strkey.finish()),
        ]);
        out
    }
}
