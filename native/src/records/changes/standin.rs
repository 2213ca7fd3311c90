//! STAND-IN until n-changes' `changes/common.rs` lands: the trailing change columns of `_common.py`.
//! MERGE: replace with changes::common.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, TimestampMicrosecondBuilder, UInt32Builder};
use arrow_array::ArrayRef;

/// The values of `change_columns` for one row.
#[derive(Clone, Copy)]
pub struct ChangeCols {
    pub last_modified_ledger: u32,
    pub ledger_entry_change: u32,
    pub deleted: bool,
    pub closed_at_us: i64,
    pub ledger_sequence: u32,
}

pub struct ChangeColumns {
    last_modified_ledger: UInt32Builder,
    ledger_entry_change: UInt32Builder,
    deleted: BooleanBuilder,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: UInt32Builder,
}

impl Default for ChangeColumns {
    fn default() -> Self {
        ChangeColumns {
            last_modified_ledger: UInt32Builder::new(),
            ledger_entry_change: UInt32Builder::new(),
            deleted: BooleanBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: UInt32Builder::new(),
        }
    }
}

impl ChangeColumns {
    pub fn append(&mut self, c: &ChangeCols) {
        self.last_modified_ledger.append_value(c.last_modified_ledger);
        self.ledger_entry_change.append_value(c.ledger_entry_change);
        self.deleted.append_value(c.deleted);
        self.closed_at.append_value(c.closed_at_us);
        self.ledger_sequence.append_value(c.ledger_sequence);
    }

    pub fn finish(mut self) -> [ArrayRef; 5] {
        [
            Arc::new(self.last_modified_ledger.finish()),
            Arc::new(self.ledger_entry_change.finish()),
            Arc::new(self.deleted.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]
    }
}

// ------------------------------------------------------------------------------------------------------------
// STAND-IN until n-changes' `changes/extract.rs` lands (port of `_extract.py`); deleted at the merge.
// MERGE: replace with changes::extract.

use std::borrow::Cow;
use std::collections::HashMap;

use stellar_xdr::curr::{
    LedgerCloseMeta, LedgerEntry, LedgerEntryChange, LedgerEntryChangeType, LedgerEntryChanges, LedgerEntryData,
    LedgerEntryType, Limits, TransactionMeta, TransactionResultResult, WriteXdr,
};

use crate::ledger::View;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Fee,
    TxBefore,
    Operation,
    TxAfter,
    PostApplyFee,
    Upgrade,
    Eviction,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Fee => "fee",
            Phase::TxBefore => "tx_before",
            Phase::Operation => "operation",
            Phase::TxAfter => "tx_after",
            Phase::PostApplyFee => "post_apply_fee",
            Phase::Upgrade => "upgrade",
            Phase::Eviction => "eviction",
        }
    }
}

#[derive(Clone)]
pub struct EntryChange<'a> {
    pub entry_type: LedgerEntryType,
    pub change_type: LedgerEntryChangeType,
    pub pre: Option<&'a LedgerEntry>,
    pub post: Option<Cow<'a, LedgerEntry>>,
    pub key_bytes: Vec<u8>,
    pub phase: Phase,
    /// (1-based application order, hash) of the transaction.
    pub tx: Option<(u32, &'a [u8; 32])>,
    pub op_index: Option<u32>,
    pub upgrade_index: Option<u32>,
}

impl<'a> EntryChange<'a> {
    pub fn entry(&self) -> Option<&LedgerEntry> {
        if self.change_type == LedgerEntryChangeType::Removed {
            self.pre
        } else {
            self.post.as_deref()
        }
    }

    pub fn deleted(&self) -> bool {
        self.change_type == LedgerEntryChangeType::Removed
    }
}

pub struct ChangeError(pub String);

fn xdr<T: WriteXdr>(value: &T) -> Vec<u8> {
    value.to_xdr(Limits::none()).expect("a decoded value re-encodes")
}

struct Ctx<'a> {
    phase: Phase,
    tx: Option<(u32, &'a [u8; 32])>,
    op_index: Option<u32>,
    upgrade_index: Option<u32>,
}

fn py_name(t: LedgerEntryChangeType) -> &'static str {
    match t {
        LedgerEntryChangeType::Created => "LEDGER_ENTRY_CREATED",
        LedgerEntryChangeType::Updated => "LEDGER_ENTRY_UPDATED",
        LedgerEntryChangeType::Removed => "LEDGER_ENTRY_REMOVED",
        LedgerEntryChangeType::State => "LEDGER_ENTRY_STATE",
        LedgerEntryChangeType::Restored => "LEDGER_ENTRY_RESTORED",
    }
}

fn pair<'a>(
    changes: &'a LedgerEntryChanges,
    ctx: Ctx<'a>,
    where_: &str,
    out: &mut Vec<EntryChange<'a>>,
) -> Result<(), ChangeError> {
    let items = changes.0.as_slice();
    let mut mine = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let (t, pre, post): (_, Option<&LedgerEntry>, Option<&LedgerEntry>) = match item {
            LedgerEntryChange::State(_) => continue,
            LedgerEntryChange::Created(e) => (LedgerEntryChangeType::Created, None, Some(e)),
            LedgerEntryChange::Restored(e) => (LedgerEntryChangeType::Restored, None, Some(e)),
            LedgerEntryChange::Updated(_) | LedgerEntryChange::Removed(_) => {
                let t = item.discriminant();
                let pre = match i.checked_sub(1).and_then(|j| items.get(j)) {
                    Some(LedgerEntryChange::State(s)) | Some(LedgerEntryChange::Restored(s)) => s,
                    _ => {
                        return Err(ChangeError(format!(
                            "{where_}: {} change #{i} in {} is not preceded by its state",
                            py_name(t),
                            ctx.phase.name()
                        )))
                    }
                };
                let post = match item {
                    LedgerEntryChange::Updated(e) => Some(e),
                    _ => None,
                };
                (t, Some(pre), post)
            }
        };
        let Some(entry) = post.or(pre) else { continue };
        mine.push(EntryChange {
            entry_type: entry.data.discriminant(),
            change_type: t,
            pre,
            post: post.map(Cow::Borrowed),
            key_bytes: xdr(&entry.to_key()),
            phase: ctx.phase,
            tx: ctx.tx,
            op_index: ctx.op_index,
            upgrade_index: ctx.upgrade_index,
        });
    }
    mine.sort_by(|a, b| a.key_bytes.cmp(&b.key_bytes));
    out.extend(mine);
    Ok(())
}

/// Every change of the ledger in reader order, evictions included.
pub fn ledger_changes<'a>(view: &View<'a>, passphrase: &str) -> Result<Vec<EntryChange<'a>>, (&'static str, String)> {
    let seq = view.sequence();
    let txs = view.transactions(passphrase).map_err(|e| ("LedgerDecodeError", e))?;
    let err = |e: ChangeError| ("LedgerChangeError", e.0);
    let mut out = Vec::new();
    let ctx = |phase, tx: &crate::ledger::Tx<'a>, op_index| Ctx {
        phase,
        tx: Some((tx.index, &tx.result_pair.transaction_hash.0)),
        op_index,
        upgrade_index: None,
    };
    for tx in &txs {
        let where_ = format!(
            "ledger {seq} transaction {}",
            crate::arrow_out::hex(&tx.result_pair.transaction_hash.0)
        );
        pair(tx.fee_changes, ctx(Phase::Fee, tx, None), &where_, &mut out).map_err(err)?;
    }
    for tx in &txs {
        let where_ = format!(
            "ledger {seq} transaction {}",
            crate::arrow_out::hex(&tx.result_pair.transaction_hash.0)
        );
        let (before, ops, after): (
            Option<&LedgerEntryChanges>,
            Vec<&'a LedgerEntryChanges>,
            Option<&LedgerEntryChanges>,
        ) = match tx.meta {
            TransactionMeta::V0(ops) => (None, ops.iter().map(|o| &o.changes).collect(), None),
            TransactionMeta::V1(m) => (
                Some(&m.tx_changes),
                m.operations.iter().map(|o| &o.changes).collect(),
                None,
            ),
            TransactionMeta::V2(m) => (
                Some(&m.tx_changes_before),
                m.operations.iter().map(|o| &o.changes).collect(),
                Some(&m.tx_changes_after),
            ),
            TransactionMeta::V3(m) => (
                Some(&m.tx_changes_before),
                m.operations.iter().map(|o| &o.changes).collect(),
                Some(&m.tx_changes_after),
            ),
            TransactionMeta::V4(m) => (
                Some(&m.tx_changes_before),
                m.operations.iter().map(|o| &o.changes).collect(),
                Some(&m.tx_changes_after),
            ),
        };
        if let Some(b) = before {
            pair(b, ctx(Phase::TxBefore, tx, None), &where_, &mut out).map_err(err)?;
            let internal = matches!(tx.result_pair.result.result, TransactionResultResult::TxInternalError);
            if internal && view.header().ledger_version <= 12 {
                continue;
            }
        }
        for (i, o) in ops.into_iter().enumerate() {
            pair(o, ctx(Phase::Operation, tx, Some(i as u32)), &where_, &mut out).map_err(err)?;
        }
        if let Some(a) = after {
            pair(a, ctx(Phase::TxAfter, tx, None), &where_, &mut out).map_err(err)?;
        }
    }
    for tx in &txs {
        if let Some(p) = tx.post_apply_fee_changes {
            let where_ = format!(
                "ledger {seq} transaction {}",
                crate::arrow_out::hex(&tx.result_pair.transaction_hash.0)
            );
            pair(p, ctx(Phase::PostApplyFee, tx, None), &where_, &mut out).map_err(err)?;
        }
    }
    let upgrades = match view.lcm {
        LedgerCloseMeta::V0(b) => b.upgrades_processing.as_slice(),
        LedgerCloseMeta::V1(b) => b.upgrades_processing.as_slice(),
        LedgerCloseMeta::V2(b) => b.upgrades_processing.as_slice(),
    };
    let where_ = format!("ledger {seq}");
    for (i, u) in upgrades.iter().enumerate() {
        let c = Ctx {
            phase: Phase::Upgrade,
            tx: None,
            op_index: None,
            upgrade_index: Some(i as u32),
        };
        pair(&u.changes, c, &where_, &mut out).map_err(err)?;
    }
    for key in view.evicted_keys() {
        out.push(EntryChange {
            entry_type: key.discriminant(),
            change_type: LedgerEntryChangeType::Removed,
            pre: None,
            post: None,
            key_bytes: xdr(key),
            phase: Phase::Eviction,
            tx: None,
            op_index: None,
            upgrade_index: None,
        });
    }
    Ok(out)
}

fn max_ttl<'a>(old: Option<&LedgerEntry>, new: Cow<'a, LedgerEntry>) -> Cow<'a, LedgerEntry> {
    let live = |e: &LedgerEntry| match &e.data {
        LedgerEntryData::Ttl(t) => Some(t.live_until_ledger_seq),
        _ => None,
    };
    match (old.and_then(live), live(&new)) {
        (Some(a), Some(b)) if a > b => {
            let mut merged = new.into_owned();
            if let LedgerEntryData::Ttl(t) = &mut merged.data {
                t.live_until_ledger_seq = a;
            }
            Cow::Owned(merged)
        }
        _ => new,
    }
}

/// The changes squashed to one per ledger key, as the Go ChangeCompactor does (evictions excluded).
pub fn compact<'a>(changes: Vec<EntryChange<'a>>, seq: u32) -> Result<Vec<EntryChange<'a>>, (&'static str, String)> {
    use LedgerEntryChangeType as T;
    let mut slots: Vec<Option<EntryChange<'a>>> = Vec::new();
    let mut at: HashMap<Vec<u8>, usize> = HashMap::new();
    for c in changes {
        if c.phase == Phase::Eviction {
            continue;
        }
        let Some(&i) = at.get(&c.key_bytes) else {
            at.insert(c.key_bytes.clone(), slots.len());
            slots.push(Some(c));
            continue;
        };
        let Some(old) = slots.get_mut(i).and_then(|s| s.take()) else {
            continue;
        };
        let mut bad = None;
        let mut keep = Some(old.clone());
        match c.change_type {
            T::Created => {
                if old.change_type == T::Removed {
                    keep = Some(EntryChange {
                        change_type: T::Updated,
                        post: c.post,
                        ..old
                    });
                } else {
                    bad = Some("create an entry that already exists");
                }
            }
            T::Updated => {
                if old.change_type == T::Removed {
                    bad = Some("update an entry that was removed");
                } else {
                    let mut post = c.post;
                    if c.entry_type == LedgerEntryType::Ttl {
                        post = post.map(|p| max_ttl(old.post.as_deref(), p));
                    }
                    keep = Some(EntryChange { post, ..old });
                }
            }
            T::Removed => match old.change_type {
                T::Created => {
                    keep = None;
                    at.remove(&c.key_bytes);
                }
                T::Updated => {
                    keep = Some(EntryChange {
                        change_type: T::Removed,
                        post: None,
                        ..old
                    })
                }
                T::Restored => {
                    keep = Some(EntryChange {
                        change_type: T::Removed,
                        pre: c.pre,
                        post: None,
                        ..old
                    })
                }
                _ => bad = Some("remove an entry that was already removed"),
            },
            _ => bad = Some("restore an entry that is already active"),
        }
        if let Some(bad) = bad {
            return Err((
                "LedgerChangeError",
                format!(
                    "ledger {seq}: cannot {bad} (ledger key {}, {} change)",
                    crate::arrow_out::hex(&c.key_bytes),
                    c.phase.name()
                ),
            ));
        }
        if let Some(s) = slots.get_mut(i) {
            *s = keep;
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// `compacted_of_type` of `_extract.py`.
pub fn compacted_of_type<'a>(
    view: &View<'a>,
    passphrase: &str,
    entry_type: LedgerEntryType,
) -> Result<Vec<EntryChange<'a>>, (&'static str, String)> {
    let all = ledger_changes(view, passphrase)?;
    compact(
        all.into_iter().filter(|c| c.entry_type == entry_type).collect(),
        view.sequence(),
    )
}

/// The trailing change columns of a compacted change (its entry is there: it is not an eviction).
pub fn change_cols(c: &EntryChange<'_>, view: &View<'_>) -> ChangeCols {
    ChangeCols {
        last_modified_ledger: c.entry().map_or(0, |e| e.last_modified_ledger_seq),
        ledger_entry_change: c.change_type as u32,
        deleted: c.deleted(),
        closed_at_us: view.close_time() as i64 * 1_000_000,
        ledger_sequence: view.sequence(),
    }
}
