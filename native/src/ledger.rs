//! One decoded ledger and the per-ledger facts the tables share (the twin of `beam_pipeline/xdr/ledger.py`).
//!
//! `View` hides the differences between LedgerCloseMeta v0, v1 and v2 the way `LedgerView` does.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::spans::{self, Spans};
use stellar_xdr::curr::{
    GeneralizedTransactionSet, LedgerCloseMeta, LedgerEntryChanges, LedgerHeader, LedgerHeaderHistoryEntry, LedgerKey,
    Limits, TransactionEnvelope, TransactionMeta, TransactionPhase, TransactionResult, TransactionResultPair,
    TxSetComponent,
};

/// Depth limit of every decode: deeper than any real ledger nests (SCVals are the deepest, and the
/// network caps them far below this), shallow enough that a hostile blob cannot exhaust the stack.
pub const MAX_DEPTH: u32 = 500;

pub enum Kind {
    Batch,
    Ledger,
}

/// The ledgers of one blob, with the batch's own range and where each ledger's transactions lie in the blob's
/// bytes (`spans.rs`: raw XDR columns and envelope hashes need no re-encoding).
///
/// The bytes themselves are not kept here (a copy would double a blob's memory while its rows are built): the
/// caller keeps the blob it decoded (the Python module, the `bytes` object) and passes it to `records::build`.
pub struct Decoded {
    pub start: u32,
    pub end: u32,
    pub metas: Vec<LedgerCloseMeta>,
    pub spans: Vec<Spans>,
}

/// The decoder's complaint in words that say which limit, and how it relates to the input.
fn describe(e: stellar_xdr::curr::Error) -> String {
    match e {
        stellar_xdr::curr::Error::LengthLimitExceeded => {
            "a length exceeds remaining input length (the decode's length limit is the blob's size)".to_string()
        }
        stellar_xdr::curr::Error::DepthLimitExceeded => {
            format!("XDR nested deeper than {MAX_DEPTH} levels (the decode's depth limit)")
        }
        other => other.to_string(),
    }
}

/// Decodes a blob under depth and length limits (the length limit is the blob's own size: no vector the
/// input claims can make the decoder reserve more than the input holds).
pub fn decode(data: &[u8], kind: Kind) -> Result<Decoded, String> {
    let limits = Limits {
        depth: MAX_DEPTH,
        len: data.len(),
    };
    let (start, end, ledgers) = match kind {
        Kind::Batch => spans::batch(data, limits).map_err(describe)?,
        Kind::Ledger => {
            let ledger = spans::ledger(data, limits).map_err(describe)?;
            let seq = View::new(&ledger.0).sequence();
            (seq, seq, vec![ledger])
        }
    };
    let (metas, spans) = ledgers.into_iter().unzip();
    Ok(Decoded {
        start,
        end,
        metas,
        spans,
    })
}

/// A borrowed view of one LedgerCloseMeta (and, when decoded by `decode`, of its bytes).
pub struct View<'a> {
    pub lcm: &'a LedgerCloseMeta,
    /// The blob and where this ledger's values lie in it.
    raw: Option<(&'a [u8], &'a Spans)>,
}

impl<'a> View<'a> {
    pub fn new(lcm: &'a LedgerCloseMeta) -> Self {
        View { lcm, raw: None }
    }

    /// A view that can hand out the raw XDR of the ledger's transactions (`Tx::raw`).
    pub fn with_raw(lcm: &'a LedgerCloseMeta, data: &'a [u8], spans: &'a Spans) -> Self {
        View {
            lcm,
            raw: Some((data, spans)),
        }
    }

    pub fn version(&self) -> u32 {
        match self.lcm {
            LedgerCloseMeta::V0(_) => 0,
            LedgerCloseMeta::V1(_) => 1,
            LedgerCloseMeta::V2(_) => 2,
        }
    }

    pub fn header_entry(&self) -> &'a LedgerHeaderHistoryEntry {
        match self.lcm {
            LedgerCloseMeta::V0(b) => &b.ledger_header,
            LedgerCloseMeta::V1(b) => &b.ledger_header,
            LedgerCloseMeta::V2(b) => &b.ledger_header,
        }
    }

    pub fn header(&self) -> &'a LedgerHeader {
        &self.header_entry().header
    }

    pub fn sequence(&self) -> u32 {
        self.header().ledger_seq
    }

    pub fn close_time(&self) -> u64 {
        self.header().scp_value.close_time.0
    }

    /// Envelopes in transaction-set order (not application order).
    pub fn envelopes(&self) -> Result<Vec<&'a TransactionEnvelope>, String> {
        let tx_set = match self.lcm {
            LedgerCloseMeta::V0(b) => return Ok(b.tx_set.txs.iter().collect()),
            LedgerCloseMeta::V1(b) => &b.tx_set,
            LedgerCloseMeta::V2(b) => &b.tx_set,
        };
        let GeneralizedTransactionSet::V1(set) = tx_set;
        let mut out = Vec::new();
        for phase in set.phases.iter() {
            match phase {
                TransactionPhase::V0(components) => {
                    for TxSetComponent::TxsetCompTxsMaybeDiscountedFee(c) in components.iter() {
                        out.extend(c.txs.iter());
                    }
                }
                TransactionPhase::V1(parallel) => {
                    for stage in parallel.execution_stages.iter() {
                        for cluster in stage.0.iter() {
                            out.extend(cluster.0.iter());
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The TransactionResult of each applied transaction, in application order.
    pub fn results(&self) -> Vec<&'a TransactionResult> {
        match self.lcm {
            LedgerCloseMeta::V0(b) => b.tx_processing.iter().map(|t| &t.result.result).collect(),
            LedgerCloseMeta::V1(b) => b.tx_processing.iter().map(|t| &t.result.result).collect(),
            LedgerCloseMeta::V2(b) => b.tx_processing.iter().map(|t| &t.result.result).collect(),
        }
    }

    pub fn evicted_keys(&self) -> &'a [LedgerKey] {
        match self.lcm {
            LedgerCloseMeta::V0(_) => &[],
            LedgerCloseMeta::V1(b) => b.evicted_keys.as_slice(),
            LedgerCloseMeta::V2(b) => b.evicted_keys.as_slice(),
        }
    }
}

/// One applied transaction (the twin of `TxView`).
pub struct Tx<'a> {
    /// 1-based application order, as in TOIDs.
    pub index: u32,
    pub envelope: &'a TransactionEnvelope,
    pub result_pair: &'a TransactionResultPair,
    pub fee_changes: &'a LedgerEntryChanges,
    pub meta: &'a TransactionMeta,
    pub post_apply_fee_changes: Option<&'a LedgerEntryChanges>,
    /// The raw XDR of the envelope, result and metas, as they were in the blob (None: re-encode them).
    pub raw: Option<TxRaw<'a>>,
}

/// One applied transaction's values as bytes of the blob.
#[derive(Clone, Copy)]
pub struct TxRaw<'a> {
    pub envelope: &'a [u8],
    /// The `TransactionResult` (the result pair without its 32-byte hash).
    pub result: &'a [u8],
    pub fee_changes: &'a [u8],
    pub meta: &'a [u8],
}

/// The network id of a passphrase.
pub fn network_id(passphrase: &str) -> [u8; 32] {
    Sha256::digest(passphrase.as_bytes()).into()
}

impl<'a> View<'a> {
    /// Applied transactions in application order, each paired with its envelope by network hash.
    ///
    /// Errors are the reference's `LedgerDecodeError` messages.
    pub fn transactions(&self, passphrase: &str) -> Result<Vec<Tx<'a>>, String> {
        let net = network_id(passphrase);
        let envelopes = self.envelopes()?;
        let hashes = self.envelope_hashes(&net, &envelopes)?;
        let mut by_hash: HashMap<[u8; 32], (usize, &'a TransactionEnvelope)> = HashMap::with_capacity(envelopes.len());
        for (i, (env, hash)) in envelopes.iter().zip(hashes.iter()).enumerate() {
            by_hash.insert(*hash, (i, *env));
        }
        type Parts<'b> = (
            &'b TransactionResultPair,
            &'b LedgerEntryChanges,
            &'b TransactionMeta,
            Option<&'b LedgerEntryChanges>,
        );
        let processing: Vec<Parts<'a>> = match self.lcm {
            LedgerCloseMeta::V0(b) => b
                .tx_processing
                .iter()
                .map(|t| (&t.result, &t.fee_processing, &t.tx_apply_processing, None))
                .collect(),
            LedgerCloseMeta::V1(b) => b
                .tx_processing
                .iter()
                .map(|t| (&t.result, &t.fee_processing, &t.tx_apply_processing, None))
                .collect(),
            LedgerCloseMeta::V2(b) => b
                .tx_processing
                .iter()
                .map(|t| {
                    (
                        &t.result,
                        &t.fee_processing,
                        &t.tx_apply_processing,
                        Some(&t.post_tx_apply_fee_processing),
                    )
                })
                .collect(),
        };
        if by_hash.len() != processing.len() {
            return Err(format!(
                "ledger {}: {} results but {} distinct envelopes",
                self.sequence(),
                processing.len(),
                by_hash.len()
            ));
        }
        let mut out = Vec::with_capacity(processing.len());
        for (i, (result_pair, fee_changes, meta, post)) in processing.into_iter().enumerate() {
            let hash = &result_pair.transaction_hash.0;
            let Some(&(at, envelope)) = by_hash.get(hash) else {
                return Err(format!(
                    "ledger {}: no envelope hashes to result {} under network passphrase '{}'",
                    self.sequence(),
                    crate::arrow_out::hex(hash),
                    passphrase
                ));
            };
            out.push(Tx {
                index: i as u32 + 1,
                envelope,
                result_pair,
                fee_changes,
                meta,
                post_apply_fee_changes: post,
                raw: self.tx_raw(at, i),
            });
        }
        Ok(out)
    }
}

impl<'a> View<'a> {
    /// The network hash of each envelope (in `envelopes` order): from the blob's bytes when the view has them,
    /// once per ledger and network for all the tables, else by re-encoding each envelope.
    fn envelope_hashes(&self, net: &[u8; 32], envelopes: &[&'a TransactionEnvelope]) -> Result<Vec<[u8; 32]>, String> {
        let from_bytes = |data: &[u8], spans: &Spans| -> Option<Vec<[u8; 32]>> {
            if spans.envelopes.len() != envelopes.len() {
                return None;
            }
            envelopes
                .iter()
                .zip(&spans.envelopes)
                .map(|(env, range)| spans::envelope_hash(net, env, data.get(range.clone())?))
                .collect()
        };
        if let Some((data, spans)) = self.raw {
            if let Some((cached_net, hashes)) = spans.hashes.get() {
                if cached_net == net {
                    return Ok(hashes.clone());
                }
            }
            if let Some(hashes) = from_bytes(data, spans) {
                let _ = spans.hashes.set((*net, hashes.clone()));
                return Ok(hashes);
            }
        }
        envelopes
            .iter()
            .map(|env| {
                env.hash(*net)
                    .map_err(|e| format!("ledger {}: cannot hash an envelope: {e}", self.sequence()))
            })
            .collect()
    }

    /// The raw XDR of envelope `envelope` and applied transaction `applied` (0-based), when the view has it.
    fn tx_raw(&self, envelope: usize, applied: usize) -> Option<TxRaw<'a>> {
        let (data, spans) = self.raw?;
        let tx = spans.txs.get(applied)?;
        let pair = data.get(tx.result_pair.clone())?;
        Some(TxRaw {
            envelope: data.get(spans.envelopes.get(envelope)?.clone())?,
            result: pair.get(32..)?,
            fee_changes: data.get(tx.fee_changes.clone())?,
            meta: data.get(tx.meta.clone())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{ReadXdr, ScVal, WriteXdr};

    /// SCV_VEC (16), present, one element, ... `levels` deep, ending in SCV_VOID (1).
    fn nested_vec(levels: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for _ in 0..levels {
            out.extend_from_slice(&16u32.to_be_bytes());
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&1u32.to_be_bytes());
        }
        out.extend_from_slice(&1u32.to_be_bytes());
        out
    }

    #[test]
    fn the_depth_limit_refuses_deep_nesting_and_allows_real_depths() {
        let limits = |data: &[u8]| Limits {
            depth: MAX_DEPTH,
            len: data.len(),
        };
        let deep = nested_vec(MAX_DEPTH as usize * 4);
        assert!(ScVal::from_xdr(&deep, limits(&deep)).is_err());
        let shallow = nested_vec(50);
        let value = ScVal::from_xdr(&shallow, limits(&shallow)).expect("50 levels decode");
        assert_eq!(value.to_xdr(Limits::none()).unwrap(), shallow);
    }

    #[test]
    fn an_empty_batch_decodes_and_garbage_does_not() {
        let mut empty = Vec::new();
        empty.extend_from_slice(&5u32.to_be_bytes());
        empty.extend_from_slice(&4u32.to_be_bytes());
        empty.extend_from_slice(&0u32.to_be_bytes());
        let d = decode(&empty, Kind::Batch).expect("an empty batch");
        assert_eq!((d.start, d.end, d.metas.len()), (5, 4, 0));
        // A vector claiming 2^32-1 elements in 12 bytes: refused by the length limit, not allocated.
        let mut huge = empty.clone();
        huge[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode(&huge, Kind::Batch).is_err());
        assert!(decode(&empty[..10], Kind::Batch).is_err());
        assert!(decode(&[0, 0, 0, 9], Kind::Ledger).is_err());
        // Trailing bytes are an error too.
        let mut trailing = empty.clone();
        trailing.push(0);
        assert!(decode(&trailing, Kind::Batch).is_err());
    }
}
