//! The `trustlines` table: trustline entry changes, one row per trustline per ledger
//! (reference: `beam_pipeline/records/changes/trustlines.py`).

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType, TrustLineAsset, TrustLineEntryExt};

use super::common::{
    go_asset_type_enum_name, pool_strkey, reported, sponsor, stroops_to_real, ChangeBuilders, ChangeColumns,
};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::{hex, XdrColumn};
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};
use crate::util::accounts::account_id_address;
use crate::util::assets::{asset_id, extract_asset, trust_line_asset_to_asset};

pub struct Row {
    ledger_key: Vec<u8>,
    account_id: String,
    asset_code: String,
    asset_issuer: String,
    asset_type: &'static str,
    asset_id: i64,
    balance: f64,
    trust_line_limit: i64,
    liquidity_pool_id: String,
    buying_liabilities: f64,
    selling_liabilities: f64,
    flags: u32,
    sponsor: Option<String>,
    liquidity_pool_id_strkey: String,
    change: ChangeColumns,
}

fn change_row(change: EntryChange<'_>, view: &View<'_>) -> Result<Row, RowError> {
    let entry = reported(&change)?;
    let LedgerEntryData::Trustline(tl) = &entry.data else {
        return Err(RowError::new(
            ERR,
            "a trustline change holds another entry type".to_string(),
        ));
    };
    let (mut code, mut issuer, mut pool_id, mut pool_key) =
        (String::new(), String::new(), String::new(), String::new());
    let asset_type = match (&tl.asset, trust_line_asset_to_asset(&tl.asset)) {
        (TrustLineAsset::PoolShare(id), _) => {
            pool_id = hex(&id.0 .0);
            pool_key = pool_strkey(&id.0 .0);
            "pool_share"
        }
        (_, Ok(asset)) => {
            let kind;
            (kind, code, issuer) = extract_asset(&asset);
            kind
        }
        (_, Err(e)) => return Err(RowError::new("ValueError", e)),
    };
    let (buying, selling) = match &tl.ext {
        TrustLineEntryExt::V0 => (0, 0),
        TrustLineEntryExt::V1(v1) => (v1.liabilities.buying, v1.liabilities.selling),
    };
    let columns = ChangeColumns::checked(&change, entry, view)?;
    Ok(Row {
        account_id: account_id_address(&tl.account_id),
        // stellar-etl hashes trustline assets with Go's enum name, not the short type name.
        asset_id: asset_id(&code, &issuer, go_asset_type_enum_name(tl.asset.discriminant())),
        asset_code: code,
        asset_issuer: issuer,
        asset_type,
        balance: stroops_to_real(tl.balance),
        trust_line_limit: tl.limit,
        liquidity_pool_id: pool_id,
        buying_liabilities: stroops_to_real(buying),
        selling_liabilities: stroops_to_real(selling),
        flags: tl.flags,
        sponsor: sponsor(entry),
        liquidity_pool_id_strkey: pool_key,
        change: columns,
        // The key of a trustline is exactly the LedgerKey the change already carries.
        ledger_key: change.key_bytes,
    })
}

pub struct Trustlines {
    ledger_key: XdrColumn,
    account_id: StringBuilder,
    asset_code: StringBuilder,
    asset_issuer: StringBuilder,
    asset_type: StringBuilder,
    asset_id: Int64Builder,
    balance: Float64Builder,
    trust_line_limit: Int64Builder,
    liquidity_pool_id: StringBuilder,
    buying_liabilities: Float64Builder,
    selling_liabilities: Float64Builder,
    flags: Int64Column,
    sponsor: StringBuilder,
    liquidity_pool_id_strkey: StringBuilder,
    change: ChangeBuilders,
}

impl Trustlines {
    pub fn new(opts: &Options) -> Self {
        Trustlines {
            ledger_key: XdrColumn::new(opts.binary_xdr),
            account_id: StringBuilder::new(),
            asset_code: StringBuilder::new(),
            asset_issuer: StringBuilder::new(),
            asset_type: StringBuilder::new(),
            asset_id: Int64Builder::new(),
            balance: Float64Builder::new(),
            trust_line_limit: Int64Builder::new(),
            liquidity_pool_id: StringBuilder::new(),
            buying_liabilities: Float64Builder::new(),
            selling_liabilities: Float64Builder::new(),
            flags: Int64Column::new(),
            sponsor: StringBuilder::new(),
            liquidity_pool_id_strkey: StringBuilder::new(),
            change: ChangeBuilders::new(),
        }
    }
}

impl TableBuilder for Trustlines {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        compacted_of_type(view, &opts.passphrase, LedgerEntryType::Trustline)?
            .into_iter()
            .map(|c| change_row(c, view))
            .collect()
    }

    fn append(&mut self, r: Row) {
        self.ledger_key.append(Some(&r.ledger_key));
        self.account_id.append_value(&r.account_id);
        self.asset_code.append_value(&r.asset_code);
        self.asset_issuer.append_value(&r.asset_issuer);
        self.asset_type.append_value(r.asset_type);
        self.asset_id.append_value(r.asset_id);
        self.balance.append_value(r.balance);
        self.trust_line_limit.append_value(r.trust_line_limit);
        self.liquidity_pool_id.append_value(&r.liquidity_pool_id);
        self.buying_liabilities.append_value(r.buying_liabilities);
        self.selling_liabilities.append_value(r.selling_liabilities);
        self.flags.append_value(r.flags);
        self.sponsor.append_option(r.sponsor.as_deref());
        self.liquidity_pool_id_strkey.append_value(&r.liquidity_pool_id_strkey);
        self.change.append(&r.change);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let c = &mut self.change;
        vec![
            self.ledger_key.finish(),
            Arc::new(self.account_id.finish()),
            Arc::new(self.asset_code.finish()),
            Arc::new(self.asset_issuer.finish()),
            Arc::new(self.asset_type.finish()),
            Arc::new(self.asset_id.finish()),
            Arc::new(self.balance.finish()),
            Arc::new(self.trust_line_limit.finish()),
            Arc::new(self.liquidity_pool_id.finish()),
            Arc::new(self.buying_liabilities.finish()),
            Arc::new(self.selling_liabilities.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(c.last_modified_ledger.finish()),
            Arc::new(c.ledger_entry_change.finish()),
            Arc::new(self.sponsor.finish()),
            Arc::new(c.deleted.finish()),
            Arc::new(c.closed_at.finish()),
            Arc::new(c.ledger_sequence.finish()),
            Arc::new(self.liquidity_pool_id_strkey.finish()),
        ]
    }
}
