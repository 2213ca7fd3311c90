//! Row pieces every change table shares, with stellar-etl's conventions (the twin of
//! `beam_pipeline/records/changes/_common.py`): amounts as float64 the way Go's `big.Rat.Float64` rounds them,
//! sponsors, the trailing change columns.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{AssetType, LedgerEntry, LedgerEntryExt};

use super::extract::{EntryChange, ERR};
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::records::RowError;
use crate::strkey;
use crate::util::accounts::account_id_address;

use crate::util::assets::{pool_id_strkey, CLAIMABLE_BALANCE_VERSION};
use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};

/// Go's String() of xdr.AssetType: stellar-etl hashes trustline assets with these names.
pub fn go_asset_type_enum_name(t: AssetType) -> &'static str {
    match t {
        AssetType::Native => "AssetTypeAssetTypeNative",
        AssetType::CreditAlphanum4 => "AssetTypeAssetTypeCreditAlphanum4",
        AssetType::CreditAlphanum12 => "AssetTypeAssetTypeCreditAlphanum12",
        AssetType::PoolShare => "AssetTypeAssetTypePoolShare",
    }
}

pub use crate::util::assets::{asset_columns, AssetColumns};

pub use crate::util::amounts::stroops_to_real;

/// The entry's sponsoring account (LedgerEntry ext v1), or None.
pub fn sponsor(entry: &LedgerEntry) -> Option<String> {
    match &entry.ext {
        LedgerEntryExt::V0 => None,
        LedgerEntryExt::V1(v1) => v1.sponsoring_id.0.as_ref().map(account_id_address),
    }
}

/// The entry a typed table reports for a change (post-state, or pre-state of a removal). Evictions, which have
/// none, never reach the typed tables; one that did would be this error rather than a guess.
pub fn reported<'c>(change: &'c EntryChange<'_>) -> Result<&'c LedgerEntry, RowError> {
    change.entry().ok_or_else(|| {
        RowError::new(
            ERR,
            format!(
                "a {} change without an entry reached a typed change table",
                change.phase.name()
            ),
        )
    })
}

/// The columns every stellar-etl change table ends with (`change_columns`); each table places them in its order.
pub struct ChangeColumns {
    pub last_modified_ledger: u32,
    pub ledger_entry_change: u32,
    pub deleted: bool,
    pub closed_at_us: i64,
    pub ledger_sequence: u32,
}

/// The ledger's close time in microseconds, or the error of the reference's `ledger.closed_at` (Python's
/// datetime) for a close time past the year 9999, which the reference raises for each row it builds.
pub fn closed_at_us(view: &View<'_>) -> Result<i64, RowError> {
    match crate::records::operations::closed_at_error(view.close_time()) {
        Some(e) => Err(e),
        None => Ok(view.close_time() as i64 * 1_000_000),
    }
}

impl ChangeColumns {
    /// The columns, failing as the reference's `change_columns` does for a close time Python cannot hold.
    pub fn checked(change: &EntryChange<'_>, entry: &LedgerEntry, view: &View<'_>) -> Result<Self, RowError> {
        closed_at_us(view)?;
        Ok(Self::new(change, entry, view))
    }

    /// The columns, with a close time past Python's datetime range wrapped rather than refused (see `checked`).
    pub fn new(change: &EntryChange<'_>, entry: &LedgerEntry, view: &View<'_>) -> Self {
        ChangeColumns {
            last_modified_ledger: entry.last_modified_ledger_seq,
            ledger_entry_change: change.change_type as u32,
            deleted: change.deleted(),
            closed_at_us: (view.close_time() as i64).wrapping_mul(1_000_000),
            ledger_sequence: view.sequence(),
        }
    }
}

/// The columns of one asset in the order offers and liquidity pools have them: type, code, issuer, then (pools
/// only) the amount, then the id.
pub struct AssetBuilders {
    kind: StringBuilder,
    code: StringBuilder,
    issuer: StringBuilder,
    amount: Option<Float64Builder>,
    id: Int64Builder,
}

impl AssetBuilders {
    /// With an amount column (`with_amount`) or without.
    pub fn new(with_amount: bool) -> Self {
        AssetBuilders {
            kind: StringBuilder::new(),
            code: StringBuilder::new(),
            issuer: StringBuilder::new(),
            amount: with_amount.then(Float64Builder::new),
            id: Int64Builder::new(),
        }
    }

    /// `amount` is ignored without an amount column.
    pub fn append(&mut self, asset: &AssetColumns, amount: f64) {
        self.kind.append_value(asset.kind);
        self.code.append_value(&asset.code);
        self.issuer.append_value(&asset.issuer);
        if let Some(a) = &mut self.amount {
            a.append_value(amount);
        }
        self.id.append_value(asset.id);
    }

    pub fn finish(&mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![
            Arc::new(self.kind.finish()),
            Arc::new(self.code.finish()),
            Arc::new(self.issuer.finish()),
        ];
        if let Some(a) = &mut self.amount {
            out.push(Arc::new(a.finish()));
        }
        out.push(Arc::new(self.id.finish()));
        out
    }
}

/// The builders of the trailing change columns; each table finishes them in its own column order.
pub struct ChangeBuilders {
    pub last_modified_ledger: Int64Column,
    pub ledger_entry_change: Int64Column,
    pub deleted: BooleanBuilder,
    pub closed_at: TimestampMicrosecondBuilder,
    pub ledger_sequence: Int64Column,
}

impl ChangeBuilders {
    pub fn new() -> Self {
        ChangeBuilders {
            last_modified_ledger: Int64Column::new(),
            ledger_entry_change: Int64Column::new(),
            deleted: BooleanBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: Int64Column::new(),
        }
    }

    pub fn append(&mut self, c: &ChangeColumns) {
        self.last_modified_ledger.append_value(c.last_modified_ledger);
        self.ledger_entry_change.append_value(c.ledger_entry_change);
        self.deleted.append_value(c.deleted);
        self.closed_at.append_value(c.closed_at_us);
        self.ledger_sequence.append_value(c.ledger_sequence);
    }

    /// The five columns in the reference's order, for tables that keep them together.
    pub fn finish(&mut self) -> [ArrayRef; 5] {
        [
            Arc::new(self.last_modified_ledger.finish()),
            Arc::new(self.ledger_entry_change.finish()),
            Arc::new(self.deleted.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]
    }
}

impl Default for ChangeBuilders {
    fn default() -> Self {
        Self::new()
    }
}

/// The `L...` strkey of a liquidity pool id.
pub fn pool_strkey(id: &[u8; 32]) -> String {
    pool_id_strkey(id)
}

/// The `B...` strkey of a claimable balance id (its v0 type byte, then the hash).
pub fn claimable_balance_strkey(hash: &[u8; 32]) -> String {
    let mut raw = [0u8; 33];
    raw[1..].copy_from_slice(hash);
    strkey::encode(CLAIMABLE_BALANCE_VERSION, &raw)
}
