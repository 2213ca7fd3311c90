//! Every ledger-entry change of one ledger, in the order and shape stellar-etl sees them (the twin of
//! `beam_pipeline/records/changes/_extract.py`, which documents the rules; the order and semantics are the same).
//!
//! Reading (`ledger_changes`, `read`): fee changes of every transaction (application order); each transaction's
//! meta (changes before the operations, each operation's, then after; a `txINTERNAL_ERROR` on protocol <= 12
//! contributes only its before-changes); post-apply fee changes (LedgerCloseMeta v2); each upgrade's changes;
//! evicted keys (only for the generic `ledger_entry_changes`). Inside one `LedgerEntryChanges` list, each
//! updated/removed entry is paired with the state (or restored) entry before it, state entries are dropped, and
//! the list is sorted stably by the XDR of the ledger keys.
//!
//! Compaction (`compact`) keeps one change per ledger key, in the order each key first appeared.
//!
//! Caching: the reference keeps the last ledger's read and compacted changes so that several tables of one
//! ledger share them. Its results never depend on the cache (a table of one type reads and compacts only its
//! type, which gives the same changes, in the same order, and the same errors, as filtering the whole ledger's),
//! so here each table reads its own: reading is a walk over already decoded metas plus the keys of the changes
//! of that type, which costs little next to decoding.

use std::borrow::Cow;
use std::collections::HashMap;

use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    LedgerCloseMeta, LedgerEntry, LedgerEntryChange, LedgerEntryChangeType, LedgerEntryData, LedgerEntryType, Limited,
    Limits, TransactionMeta, TransactionResultResult, UpgradeEntryMeta, WriteXdr,
};

use crate::arrow_out::hex;
use crate::ledger::{Tx, View};
use crate::records::{toid, RowError};

/// The reference's exception class for changes that break the reader's or the compactor's rules.
pub const ERR: &str = "LedgerChangeError";

/// Where in the ledger a change happened (the reference's `PHASE_*` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// The transaction behind a change: its 1-based application order and its hash.
#[derive(Clone, Copy, Debug)]
pub struct TxRef<'a> {
    pub index: u32,
    pub hash: &'a [u8; 32],
}

/// One change of one ledger entry, with where in the ledger it happened (the reference's `EntryChange`).
///
/// `change_type` is created, updated, removed or restored (never state; evictions are removed). `pre` is the
/// entry before the change (None for created/restored and evictions), `post` the entry after it (None for removed
/// and evictions); both borrow the decoded ledger, except a TTL entry that compaction had to rewrite.
#[derive(Clone, Debug)]
pub struct EntryChange<'a> {
    pub entry_type: LedgerEntryType,
    pub change_type: LedgerEntryChangeType,
    pub pre: Option<Cow<'a, LedgerEntry>>,
    pub post: Option<Cow<'a, LedgerEntry>>,
    /// XDR of the entry's LedgerKey (the sort and compaction key).
    pub key_bytes: Vec<u8>,
    pub phase: Phase,
    pub tx: Option<TxRef<'a>>,
    /// 0-based operation index within `tx` for the operation phase.
    pub op_index: Option<u32>,
    /// 0-based index into the ledger's upgrades for the upgrade phase.
    pub upgrade_index: Option<u32>,
}

impl<'a> EntryChange<'a> {
    /// The entry stellar-etl reports: the post-state, or the pre-state of a removal (None for an eviction).
    pub fn entry(&self) -> Option<&LedgerEntry> {
        if self.change_type == LedgerEntryChangeType::Removed {
            self.pre.as_deref()
        } else {
            self.post.as_deref()
        }
    }

    pub fn deleted(&self) -> bool {
        self.change_type == LedgerEntryChangeType::Removed
    }

    pub fn key_hash_hex(&self) -> String {
        hex(&Sha256::digest(&self.key_bytes))
    }

    /// The transaction's TOID, None outside the transaction phases (the reference's toid error as `Err`).
    pub fn transaction_id(&self, ledger: u32) -> Result<Option<i64>, String> {
        self.tx.map(|tx| toid(ledger, tx.index, 0)).transpose()
    }

    /// The operation's TOID (1-based operation index), None outside the operation phase.
    pub fn operation_id(&self, ledger: u32) -> Result<Option<i64>, String> {
        match (self.tx, self.op_index) {
            (Some(tx), Some(op)) => toid(ledger, tx.index, op + 1).map(Some),
            _ => Ok(None),
        }
    }
}

/// The XDR of the LedgerKey that identifies an entry (the reference's `ledger_key(entry).to_xdr_bytes()`),
/// written straight from the entry's fields.
pub fn key_xdr(data: &LedgerEntryData) -> Result<Vec<u8>, stellar_xdr::curr::Error> {
    let mut w = Limited::new(Vec::with_capacity(48), Limits::none());
    data.discriminant().write_xdr(&mut w)?;
    match data {
        LedgerEntryData::Account(a) => a.account_id.write_xdr(&mut w)?,
        LedgerEntryData::Trustline(t) => {
            t.account_id.write_xdr(&mut w)?;
            t.asset.write_xdr(&mut w)?;
        }
        LedgerEntryData::Offer(o) => {
            o.seller_id.write_xdr(&mut w)?;
            o.offer_id.write_xdr(&mut w)?;
        }
        LedgerEntryData::Data(d) => {
            d.account_id.write_xdr(&mut w)?;
            d.data_name.write_xdr(&mut w)?;
        }
        LedgerEntryData::ClaimableBalance(c) => c.balance_id.write_xdr(&mut w)?,
        LedgerEntryData::LiquidityPool(l) => l.liquidity_pool_id.write_xdr(&mut w)?,
        LedgerEntryData::ContractData(c) => {
            c.contract.write_xdr(&mut w)?;
            c.key.write_xdr(&mut w)?;
            c.durability.write_xdr(&mut w)?;
        }
        LedgerEntryData::ContractCode(c) => c.hash.write_xdr(&mut w)?,
        LedgerEntryData::ConfigSetting(c) => c.discriminant().write_xdr(&mut w)?,
        LedgerEntryData::Ttl(t) => t.key_hash.write_xdr(&mut w)?,
    }
    Ok(w.inner)
}

fn key_error(e: stellar_xdr::curr::Error) -> RowError {
    RowError::new("LedgerDecodeError", format!("cannot encode a ledger key: {e}"))
}

/// The context a list's changes get.
#[derive(Clone, Copy)]
struct Context<'a> {
    phase: Phase,
    tx: Option<TxRef<'a>>,
    op_index: Option<u32>,
    upgrade_index: Option<u32>,
}

/// The reference's Python name of a change type (error messages).
fn change_type_name(t: LedgerEntryChangeType) -> &'static str {
    match t {
        LedgerEntryChangeType::Created => "LEDGER_ENTRY_CREATED",
        LedgerEntryChangeType::Updated => "LEDGER_ENTRY_UPDATED",
        LedgerEntryChangeType::Removed => "LEDGER_ENTRY_REMOVED",
        LedgerEntryChangeType::State => "LEDGER_ENTRY_STATE",
        LedgerEntryChangeType::Restored => "LEDGER_ENTRY_RESTORED",
    }
}

/// One LedgerEntryChanges list as pre/post changes, sorted by key like the Go reader, appended to `out`
/// (the reference's `pair_changes`). With `entry_type`, only changes of that type are kept; the whole list is
/// still checked, and filtering before the (stable) sort gives the order of sorting, then filtering.
/// `place` names the ledger (and transaction) in errors; it is only called for one.
fn pair_changes<'a>(
    items: &'a [LedgerEntryChange],
    ctx: Context<'a>,
    place: &dyn Fn() -> String,
    entry_type: Option<LedgerEntryType>,
    out: &mut Vec<EntryChange<'a>>,
) -> Result<(), RowError> {
    let start = out.len();
    for (i, item) in items.iter().enumerate() {
        let (t, pre, post): (LedgerEntryChangeType, Option<&'a LedgerEntry>, Option<&'a LedgerEntry>) = match item {
            LedgerEntryChange::State(_) => continue, // folded into the updated/removed change after it
            LedgerEntryChange::Created(e) => (LedgerEntryChangeType::Created, None, Some(e)),
            LedgerEntryChange::Restored(e) => (LedgerEntryChangeType::Restored, None, Some(e)),
            LedgerEntryChange::Updated(_) | LedgerEntryChange::Removed(_) => {
                let t = item.discriminant();
                let pre = match i.checked_sub(1).and_then(|p| items.get(p)) {
                    Some(LedgerEntryChange::State(e)) | Some(LedgerEntryChange::Restored(e)) => e,
                    _ => {
                        return Err(RowError::new(
                            ERR,
                            format!(
                                "{}: {} change #{i} in {} is not preceded by its state",
                                place(),
                                change_type_name(t),
                                ctx.phase.name()
                            ),
                        ))
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
        let et = entry.data.discriminant();
        if entry_type.is_some_and(|want| want != et) {
            continue;
        }
        out.push(EntryChange {
            entry_type: et,
            change_type: t,
            pre: pre.map(Cow::Borrowed),
            post: post.map(Cow::Borrowed),
            key_bytes: key_xdr(&entry.data).map_err(key_error)?,
            phase: ctx.phase,
            tx: ctx.tx,
            op_index: ctx.op_index,
            upgrade_index: ctx.upgrade_index,
        });
    }
    out[start..].sort_by(|a, b| a.key_bytes.cmp(&b.key_bytes)); // stable, like Go's sort.Stable
    Ok(())
}

fn tx_context<'a>(tx: &Tx<'a>, phase: Phase, op_index: Option<u32>) -> Context<'a> {
    Context {
        phase,
        tx: Some(TxRef {
            index: tx.index,
            hash: &tx.result_pair.transaction_hash.0,
        }),
        op_index,
        upgrade_index: None,
    }
}

/// The transaction-meta changes of one transaction: before, operations, after (`_meta_changes`).
fn meta_changes<'a>(
    view: &View<'a>,
    tx: &Tx<'a>,
    entry_type: Option<LedgerEntryType>,
    out: &mut Vec<EntryChange<'a>>,
) -> Result<(), RowError> {
    let seq = view.sequence();
    let place = || format!("ledger {seq} transaction {}", hex(&tx.result_pair.transaction_hash.0));
    let ops = |lists: &mut dyn Iterator<Item = &'a [LedgerEntryChange]>, out: &mut Vec<EntryChange<'a>>| {
        for (i, changes) in lists.enumerate() {
            pair_changes(
                changes,
                tx_context(tx, Phase::Operation, Some(i as u32)),
                &place,
                entry_type,
                out,
            )?;
        }
        Ok::<(), RowError>(())
    };
    let (before, after): (&'a [LedgerEntryChange], Option<&'a [LedgerEntryChange]>) = match tx.meta {
        TransactionMeta::V0(op_metas) => return ops(&mut op_metas.iter().map(|m| m.changes.0.as_slice()), out),
        TransactionMeta::V1(m) => (&m.tx_changes.0, None),
        TransactionMeta::V2(m) => (&m.tx_changes_before.0, Some(&m.tx_changes_after.0)),
        TransactionMeta::V3(m) => (&m.tx_changes_before.0, Some(&m.tx_changes_after.0)),
        TransactionMeta::V4(m) => (&m.tx_changes_before.0, Some(&m.tx_changes_after.0)),
    };
    pair_changes(before, tx_context(tx, Phase::TxBefore, None), &place, entry_type, out)?;
    let internal_error = matches!(tx.result_pair.result.result, TransactionResultResult::TxInternalError);
    if internal_error && view.header().ledger_version <= 12 {
        return Ok(());
    }
    match tx.meta {
        TransactionMeta::V0(_) => {}
        TransactionMeta::V1(m) => ops(&mut m.operations.iter().map(|o| o.changes.0.as_slice()), out)?,
        TransactionMeta::V2(m) => ops(&mut m.operations.iter().map(|o| o.changes.0.as_slice()), out)?,
        TransactionMeta::V3(m) => ops(&mut m.operations.iter().map(|o| o.changes.0.as_slice()), out)?,
        TransactionMeta::V4(m) => ops(&mut m.operations.iter().map(|o| o.changes.0.as_slice()), out)?,
    }
    if let Some(after) = after {
        pair_changes(after, tx_context(tx, Phase::TxAfter, None), &place, entry_type, out)?;
    }
    Ok(())
}

fn upgrades<'a>(view: &View<'a>) -> &'a [UpgradeEntryMeta] {
    match view.lcm {
        LedgerCloseMeta::V0(b) => &b.upgrades_processing,
        LedgerCloseMeta::V1(b) => &b.upgrades_processing,
        LedgerCloseMeta::V2(b) => &b.upgrades_processing,
    }
}

/// Every change of the ledger in reader order, only those of `entry_type` when given (`_read`).
///
/// Errors: the transactions' pairing (`LedgerDecodeError`, as `View::transactions` words it) and changes that are
/// not preceded by their state (`LedgerChangeError`).
pub fn read<'a>(
    view: &View<'a>,
    passphrase: &str,
    entry_type: Option<LedgerEntryType>,
) -> Result<Vec<EntryChange<'a>>, RowError> {
    let seq = view.sequence();
    let txs = view
        .transactions(passphrase)
        .map_err(|e| RowError::new("LedgerDecodeError", e))?;
    let mut out = Vec::new();
    let tx_place = |tx: &Tx<'a>| format!("ledger {seq} transaction {}", hex(&tx.result_pair.transaction_hash.0));
    for tx in &txs {
        let ctx = tx_context(tx, Phase::Fee, None);
        pair_changes(&tx.fee_changes.0, ctx, &|| tx_place(tx), entry_type, &mut out)?;
    }
    for tx in &txs {
        meta_changes(view, tx, entry_type, &mut out)?;
    }
    for tx in &txs {
        if let Some(post) = tx.post_apply_fee_changes {
            let ctx = tx_context(tx, Phase::PostApplyFee, None);
            pair_changes(&post.0, ctx, &|| tx_place(tx), entry_type, &mut out)?;
        }
    }
    for (i, upgrade) in upgrades(view).iter().enumerate() {
        let ctx = Context {
            phase: Phase::Upgrade,
            tx: None,
            op_index: None,
            upgrade_index: Some(i as u32),
        };
        pair_changes(
            &upgrade.changes.0,
            ctx,
            &|| format!("ledger {seq}"),
            entry_type,
            &mut out,
        )?;
    }
    for key in view.evicted_keys() {
        let et = key.discriminant();
        if entry_type.is_some_and(|want| want != et) {
            continue;
        }
        out.push(EntryChange {
            entry_type: et,
            change_type: LedgerEntryChangeType::Removed,
            pre: None,
            post: None,
            key_bytes: key.to_xdr(Limits::none()).map_err(key_error)?,
            phase: Phase::Eviction,
            tx: None,
            op_index: None,
            upgrade_index: None,
        });
    }
    Ok(out)
}

/// The TTL entry `b` with the larger liveUntilLedgerSeq of the two (CAP-63); `b` itself when it has it.
fn max_ttl<'a>(a: Option<&LedgerEntry>, b: Option<Cow<'a, LedgerEntry>>) -> Option<Cow<'a, LedgerEntry>> {
    let live = |e: &LedgerEntry| match &e.data {
        LedgerEntryData::Ttl(t) => Some(t.live_until_ledger_seq),
        _ => None,
    };
    let (Some(a_live), Some(b_entry)) = (a.and_then(live), b.as_deref()) else {
        return b;
    };
    match live(b_entry) {
        Some(b_live) if a_live > b_live => {
            let mut merged = b_entry.clone();
            if let LedgerEntryData::Ttl(t) = &mut merged.data {
                t.live_until_ledger_seq = a_live;
            }
            Some(Cow::Owned(merged))
        }
        _ => b,
    }
}

/// Squashes changes to one per ledger key, exactly as the Go ChangeCompactor does (`compact`), in the order each
/// key first appeared. Evictions must not be passed in.
pub fn compact<'a>(changes: Vec<EntryChange<'a>>, sequence: u32) -> Result<Vec<EntryChange<'a>>, RowError> {
    use LedgerEntryChangeType::{Created, Removed, Restored, State, Updated};
    let mut slots: Vec<Option<EntryChange<'a>>> = Vec::with_capacity(changes.len());
    let mut index: HashMap<Vec<u8>, usize> = HashMap::with_capacity(changes.len());
    for c in changes {
        if c.phase == Phase::Eviction {
            return Err(RowError::new(
                ERR,
                format!("ledger {sequence}: evictions cannot be compacted"),
            ));
        }
        let Some(&i) = index.get(&c.key_bytes) else {
            index.insert(c.key_bytes.clone(), slots.len());
            slots.push(Some(c));
            continue;
        };
        let Some(old) = slots.get_mut(i).and_then(|s| s.as_mut()) else {
            return Err(RowError::new(
                ERR,
                format!("ledger {sequence}: compaction lost a change"),
            ));
        };
        let bad = match (c.change_type, old.change_type) {
            (Created, Removed) => {
                old.change_type = Updated;
                old.post = c.post;
                None
            }
            (Created, _) => Some("create an entry that already exists"),
            (Updated, Removed) => Some("update an entry that was removed"),
            (Updated, _) => {
                old.post = if c.entry_type == LedgerEntryType::Ttl {
                    max_ttl(old.post.as_deref(), c.post)
                } else {
                    c.post
                };
                None
            }
            (Removed, Created) => {
                slots[i] = None;
                index.remove(&c.key_bytes);
                None
            }
            (Removed, Updated) => {
                old.change_type = Removed;
                old.post = None;
                None
            }
            (Removed, Restored) => {
                old.change_type = Removed;
                old.pre = c.pre;
                old.post = None;
                None
            }
            (Removed, _) => Some("remove an entry that was already removed"),
            (Restored, _) => Some("restore an entry that is already active"),
            (State, _) => Some("apply a state entry"),
        };
        if let Some(bad) = bad {
            return Err(RowError::new(
                ERR,
                format!(
                    "ledger {sequence}: cannot {bad} (ledger key {}, {} change)",
                    hex(&c.key_bytes),
                    c.phase.name()
                ),
            ));
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// Every change of the ledger in reader order, evictions included (`ledger_changes`).
pub fn ledger_changes<'a>(view: &View<'a>, passphrase: &str) -> Result<Vec<EntryChange<'a>>, RowError> {
    read(view, passphrase, None)
}

/// The ledger's changes after per-ledger compaction, evictions excluded: what stellar-etl exports
/// (`compacted_changes`).
pub fn compacted_changes<'a>(view: &View<'a>, passphrase: &str) -> Result<Vec<EntryChange<'a>>, RowError> {
    let mut read = read(view, passphrase, None)?;
    read.retain(|c| c.phase != Phase::Eviction);
    compact(read, view.sequence())
}

/// `compacted_changes` of one entry type (`compacted_of_type`): keys of different types never meet in
/// compaction, so one type is read and compacted alone.
pub fn compacted_of_type<'a>(
    view: &View<'a>,
    passphrase: &str,
    entry_type: LedgerEntryType,
) -> Result<Vec<EntryChange<'a>>, RowError> {
    let mut read = read(view, passphrase, Some(entry_type))?;
    read.retain(|c| c.phase != Phase::Eviction);
    compact(read, view.sequence())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{
        AccountId, Hash, LedgerEntryExt, LedgerKey, LedgerKeyAccount, PublicKey, TtlEntry, Uint256,
    };

    fn account(key: u8, balance: i64) -> LedgerEntry {
        crate::util::accounts::test_account(key, balance)
    }

    fn ttl(live_until: u32) -> LedgerEntry {
        LedgerEntry {
            last_modified_ledger_seq: 7,
            data: LedgerEntryData::Ttl(TtlEntry {
                key_hash: Hash([9; 32]),
                live_until_ledger_seq: live_until,
            }),
            ext: LedgerEntryExt::V0,
        }
    }

    fn change(t: LedgerEntryChangeType, pre: Option<&LedgerEntry>, post: Option<&LedgerEntry>) -> EntryChange<'static> {
        let entry = post.or(pre).expect("a test change has an entry");
        EntryChange {
            entry_type: entry.data.discriminant(),
            change_type: t,
            pre: pre.map(|e| Cow::Owned(e.clone())),
            post: post.map(|e| Cow::Owned(e.clone())),
            key_bytes: key_xdr(&entry.data).expect("encodes"),
            phase: Phase::Operation,
            tx: None,
            op_index: Some(0),
            upgrade_index: None,
        }
    }

    fn balance(e: Option<&Cow<'_, LedgerEntry>>) -> Option<i64> {
        match e.map(|e| &e.data) {
            Some(LedgerEntryData::Account(a)) => Some(a.balance),
            _ => None,
        }
    }

    use LedgerEntryChangeType::{Created, Removed, Restored, Updated};

    #[test]
    fn the_key_is_the_ledger_keys_xdr() {
        let e = account(3, 1);
        let key = LedgerKey::Account(LedgerKeyAccount {
            account_id: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256([3; 32]))),
        });
        assert_eq!(
            key_xdr(&e.data).expect("encodes"),
            key.to_xdr(Limits::none()).expect("encodes")
        );
    }

    #[test]
    fn compaction_follows_the_go_compactor() {
        let (a1, a2, a3) = (account(1, 10), account(1, 20), account(1, 30));
        // created + updated stays created, with the last post-state.
        let out = compact(
            vec![change(Created, None, Some(&a1)), change(Updated, Some(&a1), Some(&a2))],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            (out.len(), out[0].change_type, balance(out[0].post.as_ref())),
            (1, Created, Some(20))
        );
        // updated + updated: first pre-state, last post-state.
        let out = compact(
            vec![
                change(Updated, Some(&a1), Some(&a2)),
                change(Updated, Some(&a2), Some(&a3)),
            ],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            (balance(out[0].pre.as_ref()), balance(out[0].post.as_ref())),
            (Some(10), Some(30))
        );
        // created + removed disappears; updated + removed is removed with the first pre-state.
        assert!(compact(
            vec![change(Created, None, Some(&a1)), change(Removed, Some(&a1), None)],
            5
        )
        .map_err(|e| e.message)
        .unwrap()
        .is_empty());
        let out = compact(
            vec![change(Updated, Some(&a1), Some(&a2)), change(Removed, Some(&a2), None)],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            (out[0].change_type, balance(out[0].pre.as_ref()), out[0].post.is_none()),
            (Removed, Some(10), true)
        );
        assert!(out[0].deleted() && balance(out[0].entry().map(Cow::Borrowed).as_ref()) == Some(10));
        // removed + created becomes updated.
        let out = compact(
            vec![change(Removed, Some(&a1), None), change(Created, None, Some(&a2))],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            (
                out[0].change_type,
                balance(out[0].pre.as_ref()),
                balance(out[0].post.as_ref())
            ),
            (Updated, Some(10), Some(20))
        );
        // restored + updated stays restored; restored + removed becomes removed with the removal's pre-state.
        let out = compact(
            vec![change(Restored, None, Some(&a1)), change(Updated, Some(&a1), Some(&a2))],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!(
            (out[0].change_type, balance(out[0].post.as_ref())),
            (Restored, Some(20))
        );
        let out = compact(
            vec![change(Restored, None, Some(&a1)), change(Removed, Some(&a2), None)],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert_eq!((out[0].change_type, balance(out[0].pre.as_ref())), (Removed, Some(20)));
    }

    #[test]
    fn compaction_keeps_first_appearance_order_and_reinserts_at_the_end() {
        let (a, b) = (account(1, 10), account(2, 10));
        let out = compact(
            vec![
                change(Created, None, Some(&a)),
                change(Created, None, Some(&b)),
                change(Removed, Some(&a), None),
                change(Created, None, Some(&a)),
            ],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        let keys: Vec<u8> = out.iter().map(|c| c.key_bytes[8]).collect();
        assert_eq!(keys, vec![2, 1]);
    }

    #[test]
    fn a_ttl_update_keeps_the_larger_live_until() {
        let (t1, t2, t3) = (ttl(100), ttl(50), ttl(80));
        let out = compact(
            vec![
                change(Updated, Some(&t3), Some(&t1)),
                change(Updated, Some(&t1), Some(&t2)),
            ],
            5,
        )
        .map_err(|e| e.message)
        .unwrap();
        let Some(LedgerEntryData::Ttl(t)) = out[0].post.as_deref().map(|e| &e.data) else {
            panic!("a ttl")
        };
        assert_eq!(t.live_until_ledger_seq, 100);
    }

    #[test]
    fn compaction_refuses_what_go_refuses() {
        let a = account(1, 10);
        let cases = [
            (
                vec![change(Created, None, Some(&a)), change(Created, None, Some(&a))],
                "create an entry that already exists",
            ),
            (
                vec![change(Removed, Some(&a), None), change(Updated, Some(&a), Some(&a))],
                "update an entry that was removed",
            ),
            (
                vec![change(Removed, Some(&a), None), change(Removed, Some(&a), None)],
                "remove an entry that was already removed",
            ),
            (
                vec![change(Updated, Some(&a), Some(&a)), change(Restored, None, Some(&a))],
                "restore an entry that is already active",
            ),
        ];
        for (changes, words) in cases {
            let err = compact(changes, 5).expect_err("refused");
            assert_eq!(err.class, ERR);
            assert!(
                err.message.starts_with("ledger 5: cannot ") && err.message.contains(words),
                "{}",
                err.message
            );
            assert!(err.message.ends_with(", operation change)"), "{}", err.message);
        }
    }

    #[test]
    fn pairing_folds_states_sorts_by_key_and_refuses_an_unpaired_update() {
        let (a, b) = (account(2, 10), account(1, 20));
        let items = vec![
            LedgerEntryChange::State(a.clone()),
            LedgerEntryChange::Updated(a.clone()),
            LedgerEntryChange::Restored(b.clone()),
            LedgerEntryChange::Updated(b.clone()),
        ];
        let ctx = Context {
            phase: Phase::Fee,
            tx: None,
            op_index: None,
            upgrade_index: None,
        };
        let mut out = Vec::new();
        pair_changes(&items, ctx, &|| "here".to_string(), None, &mut out)
            .map_err(|e| e.message)
            .unwrap();
        // b's restoration and update (key 1...) sort before a's update (key 2...), stably.
        let seen: Vec<(LedgerEntryChangeType, u8)> = out.iter().map(|c| (c.change_type, c.key_bytes[8])).collect();
        assert_eq!(seen, vec![(Restored, 1), (Updated, 1), (Updated, 2)]);
        let mut none = Vec::new();
        pair_changes(
            &items,
            ctx,
            &|| "here".to_string(),
            Some(LedgerEntryType::Ttl),
            &mut none,
        )
        .map_err(|e| e.message)
        .unwrap();
        assert!(none.is_empty());
        let err = pair_changes(&items[1..2], ctx, &|| "here".to_string(), None, &mut Vec::new()).expect_err("refused");
        assert_eq!(
            err.message,
            "here: LEDGER_ENTRY_UPDATED change #0 in fee is not preceded by its state"
        );
    }
}
