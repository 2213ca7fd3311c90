//! The `accounts` table: account entry changes, one row per account per ledger
//! (reference: `beam_pipeline/records/changes/accounts.py`). A change that only touches signers is not a row.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1, AccountEntryExtensionV1Ext, AccountEntryExtensionV2Ext,
    LedgerEntryData, LedgerEntryType, Liabilities,
};

use super::common::{reported, sponsor, stroops_to_real, ChangeColumns};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::go_string;
use crate::ints::{Int64Column, Uint64s};
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};
use crate::util::accounts::account_id_address;

/// The XDR uint64 columns (`Uint64s`), in schema order.
const UINT64_COLUMNS: &[&str] = &["sequence_time"];

pub struct Row {
    account_id: String,
    balance: f64,
    buying_liabilities: f64,
    selling_liabilities: f64,
    sequence_number: i64,
    sequence_ledger: i64,
    sequence_time: i64,
    num_subentries: u32,
    inflation_destination: String,
    flags: u32,
    home_domain: String,
    thresholds: [u8; 4],
    sponsor: Option<String>,
    num_sponsored: u32,
    num_sponsoring: u32,
    change: ChangeColumns,
}

/// The account entry of a change's entry (a change of type ACCOUNT always has one).
pub fn account_of(data: &LedgerEntryData) -> Result<&AccountEntry, RowError> {
    match data {
        LedgerEntryData::Account(a) => Ok(a),
        other => Err(RowError::new(
            ERR,
            format!("an account change holds a {} entry", other.discriminant().name()),
        )),
    }
}

/// The extension with a missing liabilities extension made explicit, as the reference's `_without_signers`.
fn normalized_ext(a: &AccountEntry) -> Cow<'_, AccountEntryExt> {
    match &a.ext {
        AccountEntryExt::V0 => Cow::Owned(AccountEntryExt::V1(AccountEntryExtensionV1 {
            liabilities: Liabilities { buying: 0, selling: 0 },
            ext: AccountEntryExtensionV1Ext::V0,
        })),
        ext => Cow::Borrowed(ext),
    }
}

/// Go's `Change.AccountChangedExceptSigners`: true unless only signers changed. The reference compares the XDR
/// of both accounts with signers dropped and liabilities made explicit; comparing the same fields is the same.
pub fn changed_except_signers(change: &EntryChange<'_>) -> Result<bool, RowError> {
    let (Some(pre), Some(post)) = (change.pre.as_deref(), change.post.as_deref()) else {
        return Ok(true);
    };
    if pre.last_modified_ledger_seq != post.last_modified_ledger_seq {
        return Ok(true);
    }
    let (a, b) = (account_of(&pre.data)?, account_of(&post.data)?);
    let same = a.account_id == b.account_id
        && a.balance == b.balance
        && a.seq_num == b.seq_num
        && a.num_sub_entries == b.num_sub_entries
        && a.inflation_dest == b.inflation_dest
        && a.flags == b.flags
        && a.home_domain == b.home_domain
        && a.thresholds == b.thresholds
        && normalized_ext(a) == normalized_ext(b);
    Ok(!same)
}

/// One change's row; its XDR uint64 values go through `times` (checked once the ledger's rows are built).
fn change_row(change: &EntryChange<'_>, view: &View<'_>, times: &mut Uint64s) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let a = account_of(&entry.data)?;
    let address = account_id_address(&a.account_id);
    let (mut buying, mut selling, mut seq_ledger, mut seq_time, mut sponsored, mut sponsoring) = (0, 0, 0, 0, 0, 0);
    if let AccountEntryExt::V1(v1) = &a.ext {
        (buying, selling) = (v1.liabilities.buying, v1.liabilities.selling);
        if let AccountEntryExtensionV1Ext::V2(v2) = &v1.ext {
            (sponsored, sponsoring) = (v2.num_sponsored, v2.num_sponsoring);
            if let AccountEntryExtensionV2Ext::V3(v3) = &v2.ext {
                (seq_ledger, seq_time) = (i64::from(v3.seq_ledger), times.get(0, v3.seq_time.0));
            }
        }
    }
    let seq = a.seq_num.0;
    if a.balance < 0 || buying < 0 || selling < 0 || seq < 0 {
        return Err(RowError::new(
            "ValueError",
            format!(
                "ledger {}: account {address} has a negative balance, liability or sequence number",
                view.sequence()
            ),
        ));
    }
    Ok(Row {
        balance: stroops_to_real(a.balance),
        buying_liabilities: stroops_to_real(buying),
        selling_liabilities: stroops_to_real(selling),
        sequence_number: seq,
        sequence_ledger: seq_ledger,
        sequence_time: seq_time,
        num_subentries: a.num_sub_entries,
        inflation_destination: a.inflation_dest.as_ref().map(account_id_address).unwrap_or_default(),
        flags: a.flags,
        home_domain: go_string(a.home_domain.0.as_slice()),
        thresholds: a.thresholds.0,
        sponsor: sponsor(entry),
        num_sponsored: sponsored,
        num_sponsoring: sponsoring,
        change: ChangeColumns::checked(change, entry, view)?,
        account_id: address,
    })
}

pub struct Accounts {
    account_id: StringBuilder,
    balance: Float64Builder,
    buying_liabilities: Float64Builder,
    selling_liabilities: Float64Builder,
    sequence_number: Int64Builder,
    sequence_ledger: Int64Builder,
    sequence_time: Int64Builder,
    num_subentries: Int64Column,
    inflation_destination: StringBuilder,
    flags: Int64Column,
    home_domain: StringBuilder,
    thresholds: [Int64Column; 4],
    sponsor: StringBuilder,
    num_sponsored: Int64Column,
    num_sponsoring: Int64Column,
    last_modified_ledger: Int64Column,
    ledger_entry_change: Int64Column,
    deleted: BooleanBuilder,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: Int64Column,
}

impl Accounts {
    pub fn new(_opts: &Options) -> Self {
        Accounts {
            account_id: StringBuilder::new(),
            balance: Float64Builder::new(),
            buying_liabilities: Float64Builder::new(),
            selling_liabilities: Float64Builder::new(),
            sequence_number: Int64Builder::new(),
            sequence_ledger: Int64Builder::new(),
            sequence_time: Int64Builder::new(),
            num_subentries: Int64Column::new(),
            inflation_destination: StringBuilder::new(),
            flags: Int64Column::new(),
            home_domain: StringBuilder::new(),
            thresholds: std::array::from_fn(|_| Int64Column::new()),
            sponsor: StringBuilder::new(),
            num_sponsored: Int64Column::new(),
            num_sponsoring: Int64Column::new(),
            last_modified_ledger: Int64Column::new(),
            ledger_entry_change: Int64Column::new(),
            deleted: BooleanBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: Int64Column::new(),
        }
    }
}

impl TableBuilder for Accounts {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let (mut rows, mut times) = (Vec::new(), Uint64s::new(UINT64_COLUMNS));
        for change in compacted_of_type(view, &opts.passphrase, LedgerEntryType::Account)? {
            if changed_except_signers(&change)? {
                rows.push(change_row(&change, view, &mut times)?);
            }
        }
        times.finish()?;
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        self.account_id.append_value(&r.account_id);
        self.balance.append_value(r.balance);
        self.buying_liabilities.append_value(r.buying_liabilities);
        self.selling_liabilities.append_value(r.selling_liabilities);
        self.sequence_number.append_value(r.sequence_number);
        self.sequence_ledger.append_value(r.sequence_ledger);
        self.sequence_time.append_value(r.sequence_time);
        self.num_subentries.append_value(r.num_subentries);
        self.inflation_destination.append_value(&r.inflation_destination);
        self.flags.append_value(r.flags);
        self.home_domain.append_value(&r.home_domain);
        for (b, t) in self.thresholds.iter_mut().zip(r.thresholds) {
            b.append_value(t);
        }
        self.sponsor.append_option(r.sponsor.as_deref());
        self.num_sponsored.append_value(r.num_sponsored);
        self.num_sponsoring.append_value(r.num_sponsoring);
        self.last_modified_ledger.append_value(r.change.last_modified_ledger);
        self.ledger_entry_change.append_value(r.change.ledger_entry_change);
        self.deleted.append_value(r.change.deleted);
        self.closed_at.append_value(r.change.closed_at_us);
        self.ledger_sequence.append_value(r.change.ledger_sequence);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let [mut t0, mut t1, mut t2, mut t3] = self.thresholds;
        vec![
            Arc::new(self.account_id.finish()),
            Arc::new(self.balance.finish()),
            Arc::new(self.buying_liabilities.finish()),
            Arc::new(self.selling_liabilities.finish()),
            Arc::new(self.sequence_number.finish()),
            Arc::new(self.sequence_ledger.finish()),
            Arc::new(self.sequence_time.finish()),
            Arc::new(self.num_subentries.finish()),
            Arc::new(self.inflation_destination.finish()),
            Arc::new(self.flags.finish()),
            Arc::new(self.home_domain.finish()),
            Arc::new(t0.finish()),
            Arc::new(t1.finish()),
            Arc::new(t2.finish()),
            Arc::new(t3.finish()),
            Arc::new(self.sponsor.finish()),
            Arc::new(self.num_sponsored.finish()),
            Arc::new(self.num_sponsoring.finish()),
            Arc::new(self.last_modified_ledger.finish()),
            Arc::new(self.ledger_entry_change.finish()),
            Arc::new(self.deleted.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]
    }
}
