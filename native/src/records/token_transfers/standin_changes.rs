//! MERGE: replace with crate::records::operations::changes (n-ops' port of records/operations/changes.py).
//! A minimal stand-in until that merge: the pairing of an operation's changes, without the reference's sort
//! by ledger key (which only orders the events of an operation that revokes shares of several pools).

use stellar_xdr::curr::{LedgerEntry, LedgerEntryChange, TransactionMeta, TransactionResultResult};

use crate::ledger::Tx;

pub struct Change<'a> {
    pub pre: Option<&'a LedgerEntry>,
    pub post: Option<&'a LedgerEntry>,
}

pub fn operation_changes<'a>(tx: &Tx<'a>, index: usize, protocol: u32) -> Result<Vec<Change<'a>>, String> {
    if protocol <= 12 && matches!(tx.result_pair.result.result, TransactionResultResult::TxInternalError) {
        return Ok(Vec::new());
    }
    let changes: &[LedgerEntryChange] = match tx.meta {
        TransactionMeta::V0(ops) => ops.get(index).map_or(&[], |o| o.changes.0.as_slice()),
        TransactionMeta::V1(m) => m.operations.get(index).map_or(&[], |o| o.changes.0.as_slice()),
        TransactionMeta::V2(m) => m.operations.get(index).map_or(&[], |o| o.changes.0.as_slice()),
        TransactionMeta::V3(m) => m.operations.get(index).map_or(&[], |o| o.changes.0.as_slice()),
        TransactionMeta::V4(m) => m.operations.get(index).map_or(&[], |o| o.changes.0.as_slice()),
    };
    let mut out = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        let (pre, post) = match change {
            LedgerEntryChange::State(_) => continue,
            LedgerEntryChange::Created(e) | LedgerEntryChange::Restored(e) => (None, Some(e)),
            LedgerEntryChange::Updated(_) | LedgerEntryChange::Removed(_) => {
                let pre = match i.checked_sub(1).and_then(|p| changes.get(p)) {
                    Some(LedgerEntryChange::State(e)) | Some(LedgerEntryChange::Restored(e)) => e,
                    _ => return Err(format!("ledger entry change {i} has no preceding state")),
                };
                let post = match change {
                    LedgerEntryChange::Updated(e) => Some(e),
                    _ => None,
                };
                (Some(pre), post)
            }
        };
        out.push(Change { pre, post });
    }
    Ok(out)
}
