//! The `account_signers` table: one row per signer of each account whose signers changed
//! (reference: `beam_pipeline/records/changes/account_signers.py`, which documents stellar-etl's rules).

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1Ext, LedgerEntryChangeType, LedgerEntryType,
};

use super::accounts::account_of;
use super::common::{closed_at_us, reported};
use super::extract::{compacted_of_type, EntryChange};
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};
use crate::util::accounts::{account_id_address, signer_key_address};

pub struct Row {
    account_id: String,
    signer: String,
    weight: u32,
    sponsor: Option<String>,
    last_modified_ledger: u32,
    ledger_entry_change: u32,
    deleted: bool,
}

/// go-stellar-sdk's `SignerSummary` (`signer_summary`): signer strkey -> weight, in the reference's dict order
/// (the master key first when it can sign; a repeated signer keeps its first place and takes the last weight).
pub(crate) fn signer_summary(account: &AccountEntry) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::with_capacity(account.signers.len() + 1);
    let master = account.thresholds.0[0];
    if master > 0 {
        out.push((account_id_address(&account.account_id), master as u32));
    }
    for signer in account.signers.iter() {
        let key = signer_key_address(&signer.key);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = signer.weight,
            None => out.push((key, signer.weight)),
        }
    }
    out
}

/// Dict equality of two summaries: the same signers with the same weights, in any order.
fn same_summary(a: &[(String, u32)], b: &[(String, u32)]) -> bool {
    a.len() == b.len() && a.iter().all(|(k, w)| b.iter().any(|(k2, w2)| k == k2 && w == w2))
}

/// `SignerSponsoringIDs` as addresses (`signer_sponsoring_ids`): one per signer, None where unsponsored.
fn signer_sponsoring_ids(account: &AccountEntry) -> Vec<Option<String>> {
    if let AccountEntryExt::V1(v1) = &account.ext {
        if let AccountEntryExtensionV1Ext::V2(v2) = &v1.ext {
            return v2
                .signer_sponsoring_i_ds
                .iter()
                .map(|d| d.0.as_ref().map(account_id_address))
                .collect();
        }
    }
    vec![None; account.signers.len()]
}

/// `SponsorPerSigner` (`sponsor_per_signer`): signer strkey -> sponsor address, for sponsored signers only.
fn sponsor_per_signer(account: &AccountEntry) -> Result<Vec<(String, String)>, RowError> {
    let ids = signer_sponsoring_ids(account);
    if ids.len() != account.signers.len() {
        return Err(RowError::new(
            "ValueError",
            format!(
                "account {} has {} signers but {} signer sponsoring ids",
                account_id_address(&account.account_id),
                account.signers.len(),
                ids.len()
            ),
        ));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (signer, sponsor) in account.signers.iter().zip(ids) {
        let Some(sponsor) = sponsor else { continue };
        let key = signer_key_address(&signer.key);
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = sponsor,
            None => out.push((key, sponsor)),
        }
    }
    Ok(out)
}

fn lookup(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// stellar-etl's `AccountSignersChanged` (`signers_changed`).
fn signers_changed(change: &EntryChange<'_>) -> Result<bool, RowError> {
    let (Some(pre), Some(post)) = (change.pre.as_deref(), change.post.as_deref()) else {
        return Ok(true);
    };
    let (pre, post) = (account_of(&pre.data)?, account_of(&post.data)?);
    if !same_summary(&signer_summary(pre), &signer_summary(post)) {
        return Ok(true);
    }
    Ok(signer_sponsoring_ids(pre) != signer_sponsoring_ids(post))
}

fn change_rows(change: &EntryChange<'_>, view: &View<'_>, out: &mut Vec<Row>) -> Result<(), RowError> {
    let entry = reported(change)?;
    let account = account_of(&entry.data)?;
    let address = account_id_address(&account.account_id);
    closed_at_us(view)?; // where the reference reads `ledger.closed_at`
    let sponsors = sponsor_per_signer(account)?;
    let summary = signer_summary(account);
    let start = out.len();
    for (signer, weight) in &summary {
        out.push(Row {
            account_id: address.clone(),
            sponsor: lookup(&sponsors, signer),
            signer: signer.clone(),
            weight: *weight,
            last_modified_ledger: entry.last_modified_ledger_seq,
            ledger_entry_change: change.change_type as u32,
            deleted: change.deleted(),
        });
    }
    if let (LedgerEntryChangeType::Updated, Some(pre_entry)) = (change.change_type, change.pre.as_deref()) {
        let pre = account_of(&pre_entry.data)?;
        let pre_sponsors = sponsor_per_signer(pre)?;
        let pre_address = account_id_address(&pre.account_id);
        for (signer, _) in signer_summary(pre) {
            if summary.iter().any(|(k, _)| *k == signer) {
                continue;
            }
            out.push(Row {
                account_id: pre_address.clone(),
                sponsor: lookup(&pre_sponsors, &signer),
                signer,
                weight: 0,
                last_modified_ledger: pre_entry.last_modified_ledger_seq,
                ledger_entry_change: LedgerEntryChangeType::Removed as u32,
                deleted: true,
            });
        }
    }
    out[start..].sort_by(|a, b| (a.weight, &a.signer).cmp(&(b.weight, &b.signer)));
    Ok(())
}

pub struct AccountSigners {
    account_id: StringBuilder,
    signer: StringBuilder,
    weight: Int64Builder,
    sponsor: StringBuilder,
    last_modified_ledger: Int64Column,
    ledger_entry_change: Int64Column,
    deleted: BooleanBuilder,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: Int64Column,
}

impl AccountSigners {
    pub fn new(_opts: &Options) -> Self {
        AccountSigners {
            account_id: StringBuilder::new(),
            signer: StringBuilder::new(),
            weight: Int64Builder::new(),
            sponsor: StringBuilder::new(),
            last_modified_ledger: Int64Column::new(),
            ledger_entry_change: Int64Column::new(),
            deleted: BooleanBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: Int64Column::new(),
        }
    }
}

impl TableBuilder for AccountSigners {
    type Row = (Row, i64, u32);

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Self::Row>, RowError> {
        let mut rows = Vec::new();
        for change in compacted_of_type(view, &opts.passphrase, LedgerEntryType::Account)? {
            if signers_changed(&change)? {
                change_rows(&change, view, &mut rows)?;
            }
        }
        let closed_at_us = (view.close_time() as i64).wrapping_mul(1_000_000);
        Ok(rows.into_iter().map(|r| (r, closed_at_us, view.sequence())).collect())
    }

    fn append(&mut self, (r, closed_at_us, sequence): Self::Row) {
        self.account_id.append_value(&r.account_id);
        self.signer.append_value(&r.signer);
        self.weight.append_value(r.weight.into());
        self.sponsor.append_option(r.sponsor.as_deref());
        self.last_modified_ledger.append_value(r.last_modified_ledger);
        self.ledger_entry_change.append_value(r.ledger_entry_change);
        self.deleted.append_value(r.deleted);
        self.closed_at.append_value(closed_at_us);
        self.ledger_sequence.append_value(sequence);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.account_id.finish()),
            Arc::new(self.signer.finish()),
            Arc::new(self.weight.finish()),
            Arc::new(self.sponsor.finish()),
            Arc::new(self.last_modified_ledger.finish()),
            Arc::new(self.ledger_entry_change.finish()),
            Arc::new(self.deleted.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]
    }
}
