//! An operation's ledger-entry changes as pre/post pairs, ordered as stellar-etl's ingest orders them
//! (the twin of `beam_pipeline/records/operations/changes.py`, which explains why the order matters).
//!
//! Used by `operations` (the `sponsor` detail, liquidity pool deltas), `effects` and `token_transfers`.
//! Errors are the reference's `ValueError` messages; the caller wraps them as its table does.

use stellar_xdr::curr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1Ext, AccountId, LedgerEntry, LedgerEntryChange,
    LedgerEntryExt, LedgerEntryType, Limits, OperationMeta, OperationMetaV2, TransactionMeta, TransactionResultResult,
    WriteXdr,
};

use crate::ledger::Tx;
use crate::strkey;

/// One entry's state before (None if created/restored) and after (None if removed) an operation.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub entry_type: LedgerEntryType,
    pub pre: Option<&'a LedgerEntry>,
    pub post: Option<&'a LedgerEntry>,
}

impl<'a> Change<'a> {
    /// The XDR of the changed entry's LedgerKey (what the pairs are sorted by).
    pub fn key_bytes(&self) -> Vec<u8> {
        match self.pre.or(self.post) {
            Some(entry) => entry.to_key().to_xdr(Limits::none()).unwrap_or_default(),
            None => Vec::new(),
        }
    }
}

/// The XDR member name of a change type, as the reference's messages spell it.
pub fn change_type_name(change: &LedgerEntryChange) -> &'static str {
    match change {
        LedgerEntryChange::Created(_) => "LEDGER_ENTRY_CREATED",
        LedgerEntryChange::Updated(_) => "LEDGER_ENTRY_UPDATED",
        LedgerEntryChange::Removed(_) => "LEDGER_ENTRY_REMOVED",
        LedgerEntryChange::State(_) => "LEDGER_ENTRY_STATE",
        LedgerEntryChange::Restored(_) => "LEDGER_ENTRY_RESTORED",
    }
}

/// Pairs raw changes into pre/post Changes, sorted (stably) by ledger key XDR (`pair_changes`).
pub fn pair_changes(changes: &[LedgerEntryChange]) -> Result<Vec<Change<'_>>, String> {
    let mut out = pair_unsorted(changes)?;
    sort_changes(&mut out);
    Ok(out)
}

/// Sorts paired changes (stably) by the XDR of their ledger keys, as the Go ingest library does.
pub fn sort_changes(changes: &mut Vec<Change<'_>>) {
    if changes.len() > 1 {
        let mut keyed: Vec<(Vec<u8>, Change<'_>)> = changes.drain(..).map(|c| (c.key_bytes(), c)).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        changes.extend(keyed.into_iter().map(|(_, c)| c));
    }
}

/// The pairing of `pair_changes` (with its errors) in the changes' own order: enough where the order does not
/// matter, and it saves encoding every entry's key.
pub fn pair_unsorted(changes: &[LedgerEntryChange]) -> Result<Vec<Change<'_>>, String> {
    let mut out: Vec<Change<'_>> = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        let post = match change {
            LedgerEntryChange::State(_) => continue,
            LedgerEntryChange::Created(e) | LedgerEntryChange::Restored(e) => {
                out.push(Change {
                    entry_type: e.data.discriminant(),
                    pre: None,
                    post: Some(e),
                });
                continue;
            }
            LedgerEntryChange::Updated(e) => Some(e),
            LedgerEntryChange::Removed(_) => None,
        };
        // An update/removal follows the entry's prior state (or its restoration, CAP-62).
        let pre = match i.checked_sub(1).and_then(|j| changes.get(j)) {
            Some(LedgerEntryChange::State(e)) | Some(LedgerEntryChange::Restored(e)) => e,
            _ => {
                return Err(format!(
                    "ledger entry change {i} ({}) has no preceding state",
                    change_type_name(change)
                ))
            }
        };
        out.push(Change {
            entry_type: pre.data.discriminant(),
            pre: Some(pre),
            post,
        });
    }
    Ok(out)
}

/// The raw changes of each operation of a transaction meta (`TxView.operation_metas`).
pub fn operation_meta_changes(meta: &TransactionMeta) -> Vec<&[LedgerEntryChange]> {
    fn v1(ops: &[OperationMeta]) -> Vec<&[LedgerEntryChange]> {
        ops.iter().map(|o| o.changes.0.as_slice()).collect()
    }
    fn v2(ops: &[OperationMetaV2]) -> Vec<&[LedgerEntryChange]> {
        ops.iter().map(|o| o.changes.0.as_slice()).collect()
    }
    match meta {
        TransactionMeta::V0(ops) => v1(ops),
        TransactionMeta::V1(m) => v1(&m.operations),
        TransactionMeta::V2(m) => v1(&m.operations),
        TransactionMeta::V3(m) => v1(&m.operations),
        TransactionMeta::V4(m) => v2(&m.operations),
    }
}

/// The raw changes of operation `index` (0-based), or None when the meta has no operation meta there.
pub fn operation_meta_changes_at(meta: &TransactionMeta, index: usize) -> Option<&[LedgerEntryChange]> {
    match meta {
        TransactionMeta::V0(ops) => ops.get(index).map(|o| o.changes.0.as_slice()),
        TransactionMeta::V1(m) => m.operations.get(index).map(|o| o.changes.0.as_slice()),
        TransactionMeta::V2(m) => m.operations.get(index).map(|o| o.changes.0.as_slice()),
        TransactionMeta::V3(m) => m.operations.get(index).map(|o| o.changes.0.as_slice()),
        TransactionMeta::V4(m) => m.operations.get(index).map(|o| o.changes.0.as_slice()),
    }
}

/// The changes of operation `index` (0-based) of a transaction (`operation_changes`).
///
/// Before protocol 13 a `txINTERNAL_ERROR` transaction's operation metas are ignored, as in stellar-etl.
pub fn operation_changes<'a>(tx: &Tx<'a>, index: usize, protocol_version: u32) -> Result<Vec<Change<'a>>, String> {
    let mut out = operation_changes_unsorted(tx, index, protocol_version)?;
    sort_changes(&mut out);
    Ok(out)
}

/// `operation_changes` before the sort (same pairs, same errors).
pub fn operation_changes_unsorted<'a>(
    tx: &Tx<'a>,
    index: usize,
    protocol_version: u32,
) -> Result<Vec<Change<'a>>, String> {
    if protocol_version <= 12 && matches!(tx.result_pair.result.result, TransactionResultResult::TxInternalError) {
        return Ok(Vec::new());
    }
    match operation_meta_changes_at(tx.meta, index) {
        Some(changes) => pair_unsorted(changes),
        None => Ok(Vec::new()),
    }
}

/// The account sponsoring an entry's reserve, if any.
pub fn sponsoring_id(entry: &LedgerEntry) -> Option<&AccountId> {
    match &entry.ext {
        LedgerEntryExt::V1(v1) => v1.sponsoring_id.0.as_ref(),
        LedgerEntryExt::V0 => None,
    }
}

/// (signer strkey, sponsor address) of the signers that have a sponsor (`signer_sponsors`).
///
/// Err (the message of Python's `zip(strict=True)`) when the sponsor list and the signers differ in length.
pub fn signer_sponsors(account: &AccountEntry) -> Result<Vec<(String, String)>, String> {
    let AccountEntryExt::V1(v1) = &account.ext else {
        return Ok(Vec::new());
    };
    let AccountEntryExtensionV1Ext::V2(v2) = &v1.ext else {
        return Ok(Vec::new());
    };
    let (signers, ids) = (account.signers.as_slice(), v2.signer_sponsoring_i_ds.as_slice());
    if signers.len() != ids.len() {
        let relation = if ids.len() < signers.len() { "shorter" } else { "longer" };
        return Err(format!("zip() argument 2 is {relation} than argument 1"));
    }
    Ok(signers
        .iter()
        .zip(ids)
        .filter_map(|(s, id)| id.0.as_ref().map(|a| (strkey::signer(&s.key), strkey::account_id(a))))
        .collect())
}

fn signer_sponsor(account: &AccountEntry, signer: &str) -> Result<Option<String>, String> {
    Ok(signer_sponsors(account)?
        .into_iter()
        .find(|(s, _)| s == signer)
        .map(|(_, sponsor)| sponsor))
}

/// Whether `find_sponsor` can find anything in these changes (in any order): a created entry with a sponsor,
/// or, for a new signer, a changed account. When not, the changes need no sorting to know there is no sponsor.
pub fn may_have_sponsor(changes: &[Change<'_>], signer_key: Option<&str>) -> bool {
    changes.iter().any(|c| {
        (signer_key.is_some() && c.entry_type == LedgerEntryType::Account && c.post.is_some())
            || (c.pre.is_none() && c.post.is_some_and(|p| sponsoring_id(p).is_some()))
    })
}

/// stellar-etl's `sponsor` detail: who sponsors what this operation created (`find_sponsor`).
pub fn find_sponsor(changes: &[Change<'_>], signer_key: Option<&str>) -> Result<Option<String>, String> {
    for change in changes {
        if let (Some(signer), LedgerEntryType::Account, Some(post)) = (signer_key, change.entry_type, change.post) {
            if let stellar_xdr::curr::LedgerEntryData::Account(post_account) = &post.data {
                if let Some(sponsor) = signer_sponsor(post_account, signer)? {
                    let pre = match change.pre.map(|p| &p.data) {
                        Some(stellar_xdr::curr::LedgerEntryData::Account(a)) => signer_sponsor(a, signer)?,
                        _ => None,
                    };
                    if pre.as_deref() != Some(sponsor.as_str()) {
                        return Ok(Some(sponsor));
                    }
                }
            }
        }
        if change.pre.is_some() {
            continue;
        }
        let Some(post) = change.post else { continue };
        if let Some(sponsor) = sponsoring_id(post) {
            return Ok(Some(strkey::account_id(sponsor)));
        }
    }
    Ok(None)
}
