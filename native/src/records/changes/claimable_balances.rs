//! The `claimable_balances` table: claimable balance entry changes
//! (reference: `beam_pipeline/records/changes/claimable_balances.py`, which documents the `claimants` JSON).

use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    ClaimPredicate, ClaimableBalanceEntryExt, ClaimableBalanceId, Claimant, LedgerEntryData, LedgerEntryType,
};

use super::common::{
    asset_columns, claimable_balance_strkey, reported, sponsor, AssetColumns, ChangeBuilders, ChangeColumns,
};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::hex;
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};
use crate::scval::json_string;
use crate::util::accounts::account_id_address;
use crate::util::goformat::go_rfc3339;

pub struct Row {
    balance_id: String,
    claimants: Option<String>,
    asset: AssetColumns,
    asset_amount: f64,
    sponsor: Option<String>,
    flags: u32,
    balance_id_strkey: String,
    change: ChangeColumns,
}

/// A claim predicate as the Go SDK marshals it (`predicate_json`), keys sorted as stellar-etl's output has them.
fn predicate_json(p: &ClaimPredicate, out: &mut String) -> Result<(), String> {
    match p {
        ClaimPredicate::And(ps) | ClaimPredicate::Or(ps) => {
            out.push_str(if matches!(p, ClaimPredicate::And(_)) {
                "{\"and\":["
            } else {
                "{\"or\":["
            });
            for (i, inner) in ps.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                predicate_json(inner, out)?;
            }
            out.push_str("]}");
        }
        ClaimPredicate::Not(inner) => {
            let Some(inner) = inner else {
                return Err("NOT claim predicate without an inner predicate".to_string());
            };
            out.push_str("{\"not\":");
            predicate_json(inner, out)?;
            out.push('}');
        }
        ClaimPredicate::Unconditional => out.push_str("{\"unconditional\":true}"),
        ClaimPredicate::BeforeAbsoluteTime(epoch) => {
            out.push_str("{\"abs_before\":");
            json_string(&go_rfc3339(*epoch), out);
            out.push_str(",\"abs_before_epoch\":\"");
            out.push_str(&epoch.to_string());
            out.push_str("\"}");
        }
        ClaimPredicate::BeforeRelativeTime(secs) => {
            out.push_str("{\"rel_before\":\"");
            out.push_str(&secs.to_string());
            out.push_str("\"}");
        }
    }
    Ok(())
}

/// stellar-etl's claimants list as its JSON text, None when there are none (`claimants_json`).
fn claimants_json(claimants: &[Claimant]) -> Result<Option<String>, String> {
    if claimants.is_empty() {
        return Ok(None);
    }
    let mut out = String::from("[");
    for (i, Claimant::ClaimantTypeV0(c)) in claimants.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"destination\":");
        json_string(&account_id_address(&c.destination), &mut out);
        out.push_str(",\"predicate\":");
        predicate_json(&c.predicate, &mut out)?;
        out.push('}');
    }
    out.push(']');
    Ok(Some(out))
}

fn change_row(change: &EntryChange<'_>, view: &View<'_>) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::ClaimableBalance(cb) = &entry.data else {
        return Err(RowError::new(
            ERR,
            "a claimable balance change holds another entry type".to_string(),
        ));
    };
    let ClaimableBalanceId::ClaimableBalanceIdTypeV0(hash) = &cb.balance_id;
    let claimants = claimants_json(&cb.claimants).map_err(|e| {
        RowError::new(
            "ValueError",
            format!("ledger {}: claimable balance {}: {e}", view.sequence(), hex(&hash.0)),
        )
    })?;
    // Go's MarshalHex of the ClaimableBalanceID union: type discriminant (0) then hash.
    let mut balance_id = String::with_capacity(72);
    balance_id.push_str("00000000");
    balance_id.push_str(&hex(&hash.0));
    Ok(Row {
        balance_id,
        claimants,
        asset: asset_columns(&cb.asset),
        asset_amount: cb.amount as f64 / 1.0e7,
        sponsor: sponsor(entry),
        flags: match &cb.ext {
            ClaimableBalanceEntryExt::V0 => 0,
            ClaimableBalanceEntryExt::V1(v1) => v1.flags,
        },
        balance_id_strkey: claimable_balance_strkey(&hash.0),
        change: ChangeColumns::checked(change, entry, view)?,
    })
}

pub struct ClaimableBalances {
    balance_id: StringBuilder,
    claimants: StringBuilder,
    asset_code: StringBuilder,
    asset_issuer: StringBuilder,
    asset_type: StringBuilder,
    asset_id: Int64Builder,
    asset_amount: Float64Builder,
    sponsor: StringBuilder,
    flags: Int64Column,
    balance_id_strkey: StringBuilder,
    change: ChangeBuilders,
}

impl ClaimableBalances {
    pub fn new(_opts: &Options) -> Self {
        ClaimableBalances {
            balance_id: StringBuilder::new(),
            claimants: StringBuilder::new(),
            asset_code: StringBuilder::new(),
            asset_issuer: StringBuilder::new(),
            asset_type: StringBuilder::new(),
            asset_id: Int64Builder::new(),
            asset_amount: Float64Builder::new(),
            sponsor: StringBuilder::new(),
            flags: Int64Column::new(),
            balance_id_strkey: StringBuilder::new(),
            change: ChangeBuilders::new(),
        }
    }
}

impl TableBuilder for ClaimableBalances {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        compacted_of_type(view, &opts.passphrase, LedgerEntryType::ClaimableBalance)?
            .iter()
            .map(|c| change_row(c, view))
            .collect()
    }

    fn append(&mut self, r: Row) {
        let a = &r.asset;
        self.balance_id.append_value(&r.balance_id);
        self.claimants.append_option(r.claimants.as_deref());
        self.asset_code.append_value(&a.code);
        self.asset_issuer.append_value(&a.issuer);
        self.asset_type.append_value(a.kind);
        self.asset_id.append_value(a.id);
        self.asset_amount.append_value(r.asset_amount);
        self.sponsor.append_option(r.sponsor.as_deref());
        self.flags.append_value(r.flags);
        self.balance_id_strkey.append_value(&r.balance_id_strkey);
        self.change.append(&r.change);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let c = &mut self.change;
        vec![
            Arc::new(self.balance_id.finish()),
            Arc::new(self.claimants.finish()),
            Arc::new(self.asset_code.finish()),
            Arc::new(self.asset_issuer.finish()),
            Arc::new(self.asset_type.finish()),
            Arc::new(self.asset_id.finish()),
            Arc::new(self.asset_amount.finish()),
            Arc::new(self.sponsor.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(c.last_modified_ledger.finish()),
            Arc::new(c.ledger_entry_change.finish()),
            Arc::new(c.deleted.finish()),
            Arc::new(c.closed_at.finish()),
            Arc::new(c.ledger_sequence.finish()),
            Arc::new(self.balance_id_strkey.finish()),
        ]
    }
}
