//! The `offers` table: DEX offer entry changes, one row per offer per ledger
//! (reference: `beam_pipeline/records/changes/offers.py`).

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType};

use super::common::{
    asset_columns, reported, sponsor, stroops_to_real, AssetBuilders, AssetColumns, ChangeBuilders, ChangeColumns,
};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};
use crate::util::accounts::account_id_address;

pub struct Row {
    seller_id: String,
    offer_id: i64,
    selling: AssetColumns,
    buying: AssetColumns,
    amount: f64,
    pricen: i32,
    priced: i32,
    price: f64,
    flags: u32,
    sponsor: Option<String>,
    change: ChangeColumns,
}

fn change_row(change: &EntryChange<'_>, view: &View<'_>) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::Offer(o) = &entry.data else {
        return Err(RowError::new(
            ERR,
            "an offer change holds another entry type".to_string(),
        ));
    };
    let (n, d) = (o.price.n, o.price.d);
    if o.offer_id < 0 || o.amount < 0 || n < 0 || d <= 0 {
        return Err(RowError::new(
            "ValueError",
            format!(
                "ledger {}: offer {} has a negative id/amount or a bad price {n}/{d}",
                view.sequence(),
                o.offer_id
            ),
        ));
    }
    Ok(Row {
        seller_id: account_id_address(&o.seller_id),
        offer_id: o.offer_id,
        selling: asset_columns(&o.selling),
        buying: asset_columns(&o.buying),
        amount: stroops_to_real(o.amount),
        pricen: n,
        priced: d,
        price: if n > 0 { n as f64 / d as f64 } else { 0.0 },
        flags: o.flags,
        sponsor: sponsor(entry),
        change: ChangeColumns::checked(change, entry, view)?,
    })
}

pub struct Offers {
    seller_id: StringBuilder,
    offer_id: Int64Builder,
    selling: AssetBuilders,
    buying: AssetBuilders,
    amount: Float64Builder,
    pricen: Int64Column,
    priced: Int64Column,
    price: Float64Builder,
    flags: Int64Column,
    sponsor: StringBuilder,
    change: ChangeBuilders,
}

impl Offers {
    pub fn new(_opts: &Options) -> Self {
        Offers {
            seller_id: StringBuilder::new(),
            offer_id: Int64Builder::new(),
            selling: AssetBuilders::new(false),
            buying: AssetBuilders::new(false),
            amount: Float64Builder::new(),
            pricen: Int64Column::new(),
            priced: Int64Column::new(),
            price: Float64Builder::new(),
            flags: Int64Column::new(),
            sponsor: StringBuilder::new(),
            change: ChangeBuilders::new(),
        }
    }
}

impl TableBuilder for Offers {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        compacted_of_type(view, &opts.passphrase, LedgerEntryType::Offer)?
            .iter()
            .map(|c| change_row(c, view))
            .collect()
    }

    fn append(&mut self, r: Row) {
        self.seller_id.append_value(&r.seller_id);
        self.offer_id.append_value(r.offer_id);
        self.selling.append(&r.selling, 0.0);
        self.buying.append(&r.buying, 0.0);
        self.amount.append_value(r.amount);
        self.pricen.append_value(r.pricen);
        self.priced.append_value(r.priced);
        self.price.append_value(r.price);
        self.flags.append_value(r.flags);
        self.sponsor.append_option(r.sponsor.as_deref());
        self.change.append(&r.change);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let c = &mut self.change;
        let mut out: Vec<ArrayRef> = vec![Arc::new(self.seller_id.finish()), Arc::new(self.offer_id.finish())];
        out.extend(self.selling.finish());
        out.extend(self.buying.finish());
        out.extend([
            Arc::new(self.amount.finish()) as ArrayRef,
            Arc::new(self.pricen.finish()),
            Arc::new(self.priced.finish()),
            Arc::new(self.price.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(c.last_modified_ledger.finish()),
            Arc::new(c.ledger_entry_change.finish()),
            Arc::new(c.deleted.finish()),
            Arc::new(self.sponsor.finish()),
            Arc::new(c.closed_at.finish()),
            Arc::new(c.ledger_sequence.finish()),
        ]);
        out
    }
}
