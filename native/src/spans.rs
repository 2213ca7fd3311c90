//! Decoding a blob while noting where each transaction's XDR lies in it.
//!
//! The tables store raw XDR (envelopes, results, metas) and hash envelopes to pair them with their results.
//! Re-encoding what was just decoded costs more than decoding it (the metas are most of a ledger), so the
//! outer layers of a `LedgerCloseMeta` (down to the envelopes and the per-transaction result metas) are read
//! here field by field with the crate's own readers, under the same `Limited` reader and limits as a whole
//! decode, and the byte ranges of those values are kept beside the decoded ledger. The decoded values are the
//! ones `LedgerCloseMetaBatch::from_xdr` would build (the equality tests compare every raw column with the
//! Python path's bytes).

use std::io::{Cursor, Read};
use std::ops::Range;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    DependentTxCluster, Error, GeneralizedTransactionSet, LedgerCloseMeta, LedgerCloseMetaV0, LedgerCloseMetaV1,
    LedgerCloseMetaV2, Limited, Limits, ParallelTxExecutionStage, ParallelTxsComponent, ReadXdr, TransactionEnvelope,
    TransactionPhase, TransactionResultMeta, TransactionResultMetaV1, TransactionSet, TransactionSetV1, TxSetComponent,
    TxSetComponentTxsMaybeDiscountedFee, TxSetComponentType, VecM,
};

/// Where one applied transaction's values lie in the blob (`tx_processing` order).
#[derive(Clone)]
pub struct TxSpans {
    pub result_pair: Range<usize>,
    pub fee_changes: Range<usize>,
    pub meta: Range<usize>,
}

/// Where one ledger's envelopes (in `View::envelopes` order) and applied transactions lie in the blob.
#[derive(Default)]
pub struct Spans {
    pub envelopes: Vec<Range<usize>>,
    pub txs: Vec<TxSpans>,
    /// The envelopes' hashes under one network id, computed by the first table that pairs them.
    pub(crate) hashes: OnceLock<([u8; 32], Vec<[u8; 32]>)>,
}

struct Reader<'a> {
    r: Limited<Cursor<&'a [u8]>>,
}

impl<'a> Reader<'a> {
    fn pos(&self) -> usize {
        self.r.inner.position() as usize
    }

    fn read<T: ReadXdr>(&mut self) -> Result<T, Error> {
        T::read_xdr(&mut self.r)
    }

    fn spanned<T: ReadXdr>(&mut self) -> Result<(T, Range<usize>), Error> {
        let start = self.pos();
        let value = self.read()?;
        Ok((value, start..self.pos()))
    }

    /// A variable-length array read element by element (as `VecM::read_xdr` does: no allocation from the count).
    fn vec<T>(&mut self, mut element: impl FnMut(&mut Self) -> Result<T, Error>) -> Result<VecM<T>, Error> {
        let len = u32::read_xdr(&mut self.r)?;
        let mut out = Vec::new();
        for _ in 0..len {
            out.push(element(self)?);
        }
        out.try_into().map_err(|_| Error::LengthExceedsMax)
    }

    fn envelopes(&mut self, spans: &mut Spans) -> Result<VecM<TransactionEnvelope>, Error> {
        self.vec(|r| {
            let (env, range) = r.spanned::<TransactionEnvelope>()?;
            spans.envelopes.push(range);
            Ok(env)
        })
    }

    fn result_meta(&mut self, spans: &mut Spans) -> Result<TransactionResultMeta, Error> {
        let (result, result_pair) = self.spanned()?;
        let (fee_processing, fee_changes) = self.spanned()?;
        let (tx_apply_processing, meta) = self.spanned()?;
        spans.txs.push(TxSpans {
            result_pair,
            fee_changes,
            meta,
        });
        Ok(TransactionResultMeta {
            result,
            fee_processing,
            tx_apply_processing,
        })
    }

    fn result_meta_v1(&mut self, spans: &mut Spans) -> Result<TransactionResultMetaV1, Error> {
        let ext = self.read()?;
        let TransactionResultMeta {
            result,
            fee_processing,
            tx_apply_processing,
        } = self.result_meta(spans)?;
        Ok(TransactionResultMetaV1 {
            ext,
            result,
            fee_processing,
            tx_apply_processing,
            post_tx_apply_fee_processing: self.read()?,
        })
    }

    fn generalized_set(&mut self, spans: &mut Spans) -> Result<GeneralizedTransactionSet, Error> {
        if i32::read_xdr(&mut self.r)? != 1 {
            return Err(Error::Invalid);
        }
        let previous_ledger_hash = self.read()?;
        let phases = self.vec(|r| match i32::read_xdr(&mut r.r)? {
            0 => Ok(TransactionPhase::V0(r.vec(|r| {
                let TxSetComponentType::TxsetCompTxsMaybeDiscountedFee = r.read()?;
                Ok(TxSetComponent::TxsetCompTxsMaybeDiscountedFee(
                    TxSetComponentTxsMaybeDiscountedFee {
                        base_fee: r.read()?,
                        txs: r.envelopes(spans)?,
                    },
                ))
            })?)),
            1 => Ok(TransactionPhase::V1(ParallelTxsComponent {
                base_fee: r.read()?,
                execution_stages: r.vec(|r| {
                    Ok(ParallelTxExecutionStage(
                        r.vec(|r| Ok(DependentTxCluster(r.envelopes(spans)?)))?,
                    ))
                })?,
            })),
            _ => Err(Error::Invalid),
        })?;
        Ok(GeneralizedTransactionSet::V1(TransactionSetV1 {
            previous_ledger_hash,
            phases,
        }))
    }

    fn ledger(&mut self) -> Result<(LedgerCloseMeta, Spans), Error> {
        let mut spans = Spans::default();
        let lcm = match i32::read_xdr(&mut self.r)? {
            0 => LedgerCloseMeta::V0(LedgerCloseMetaV0 {
                ledger_header: self.read()?,
                tx_set: TransactionSet {
                    previous_ledger_hash: self.read()?,
                    txs: self.envelopes(&mut spans)?,
                },
                tx_processing: self.vec(|r| r.result_meta(&mut spans))?,
                upgrades_processing: self.read()?,
                scp_info: self.read()?,
            }),
            1 => LedgerCloseMeta::V1(LedgerCloseMetaV1 {
                ext: self.read()?,
                ledger_header: self.read()?,
                tx_set: self.generalized_set(&mut spans)?,
                tx_processing: self.vec(|r| r.result_meta(&mut spans))?,
                upgrades_processing: self.read()?,
                scp_info: self.read()?,
                total_byte_size_of_live_soroban_state: self.read()?,
                evicted_keys: self.read()?,
                unused: self.read()?,
            }),
            2 => LedgerCloseMeta::V2(LedgerCloseMetaV2 {
                ext: self.read()?,
                ledger_header: self.read()?,
                tx_set: self.generalized_set(&mut spans)?,
                tx_processing: self.vec(|r| r.result_meta_v1(&mut spans))?,
                upgrades_processing: self.read()?,
                scp_info: self.read()?,
                total_byte_size_of_live_soroban_state: self.read()?,
                evicted_keys: self.read()?,
            }),
            _ => return Err(Error::Invalid),
        };
        Ok((lcm, spans))
    }

    /// Nothing may follow the value (as `from_xdr` requires).
    fn end(&mut self) -> Result<(), Error> {
        if self.r.read(&mut [0u8; 1])? == 0 {
            Ok(())
        } else {
            Err(Error::Invalid)
        }
    }
}

/// (start, end, ledgers with their spans) of a `LedgerCloseMetaBatch`.
pub type Batch = (u32, u32, Vec<(LedgerCloseMeta, Spans)>);

pub fn batch(data: &[u8], limits: Limits) -> Result<Batch, Error> {
    let mut r = Reader {
        r: Limited::new(Cursor::new(data), limits),
    };
    let start = r.read()?;
    let end = r.read()?;
    let len = u32::read_xdr(&mut r.r)?;
    let mut ledgers = Vec::new();
    for _ in 0..len {
        ledgers.push(r.ledger()?);
    }
    r.end()?;
    Ok((start, end, ledgers))
}

pub fn ledger(data: &[u8], limits: Limits) -> Result<(LedgerCloseMeta, Spans), Error> {
    let mut r = Reader {
        r: Limited::new(Cursor::new(data), limits),
    };
    let out = r.ledger()?;
    r.end()?;
    Ok(out)
}

/// An envelope's network hash from its own bytes: SHA-256 of the network id, the envelope type tag and the
/// transaction as signed (the envelope without its signatures; a v0 transaction as the v1 one it stands for).
///
/// None when the bytes cannot be that envelope's (then the caller hashes the decoded value).
pub fn envelope_hash(network_id: &[u8; 32], env: &TransactionEnvelope, bytes: &[u8]) -> Option<[u8; 32]> {
    let signatures = match env {
        TransactionEnvelope::TxV0(e) => &e.signatures,
        TransactionEnvelope::Tx(e) => &e.signatures,
        TransactionEnvelope::TxFeeBump(e) => &e.signatures,
    };
    let signed = 4 + signatures
        .iter()
        .map(|s| 8 + s.signature.0.len().div_ceil(4) * 4)
        .sum::<usize>();
    let body = bytes.get(4..bytes.len().checked_sub(signed)?)?;
    let mut h = Sha256::new();
    h.update(network_id);
    match env {
        // ENVELOPE_TYPE_TX, and the v0 source key as the KEY_TYPE_ED25519 MuxedAccount of a v1 transaction
        // (the rest of a v0 transaction encodes as the v1 one: optional time bounds = PRECOND_NONE/TIME).
        TransactionEnvelope::TxV0(_) => {
            h.update(2u32.to_be_bytes());
            h.update(0u32.to_be_bytes());
        }
        TransactionEnvelope::Tx(_) => h.update(2u32.to_be_bytes()),
        TransactionEnvelope::TxFeeBump(_) => h.update(5u32.to_be_bytes()),
    }
    h.update(body);
    Some(h.finalize().into())
}

#[cfg(test)]
#[allow(clippy::field_reassign_with_default)] // XDR values built from defaults, one field set at a time
mod tests {
    use super::*;
    use stellar_xdr::curr::{
        DecoratedSignature, FeeBumpTransactionEnvelope, LedgerCloseMetaBatch, Signature, TransactionV0Envelope,
        TransactionV1Envelope, WriteXdr,
    };

    fn signed(n: usize, len: usize) -> VecM<DecoratedSignature, 20> {
        let sig = DecoratedSignature {
            signature: Signature(vec![7u8; len].try_into().unwrap()),
            ..Default::default()
        };
        vec![sig; n].try_into().unwrap()
    }

    /// One envelope of each kind, with signatures of lengths that need padding and that do not.
    fn envelopes() -> Vec<TransactionEnvelope> {
        let mut v0 = TransactionV0Envelope::default();
        v0.signatures = signed(2, 64);
        v0.tx.fee = 100;
        let mut v1 = TransactionV1Envelope::default();
        v1.signatures = signed(1, 3);
        v1.tx.seq_num = stellar_xdr::curr::SequenceNumber(9);
        let mut bump = FeeBumpTransactionEnvelope::default();
        bump.signatures = signed(1, 64);
        bump.tx.fee = 500;
        vec![
            TransactionEnvelope::TxV0(v0),
            TransactionEnvelope::Tx(v1),
            TransactionEnvelope::TxFeeBump(bump),
        ]
    }

    fn ledgers() -> Vec<LedgerCloseMeta> {
        let envs: VecM<TransactionEnvelope> = envelopes().try_into().unwrap();
        let mut v0 = LedgerCloseMetaV0::default();
        v0.tx_set.txs = envs.clone();
        v0.tx_processing = vec![TransactionResultMeta::default(); 3].try_into().unwrap();
        let component = TxSetComponent::TxsetCompTxsMaybeDiscountedFee(TxSetComponentTxsMaybeDiscountedFee {
            base_fee: Some(100),
            txs: envs.clone(),
        });
        let parallel = ParallelTxsComponent {
            base_fee: None,
            execution_stages: vec![ParallelTxExecutionStage(
                vec![DependentTxCluster(envs)].try_into().unwrap(),
            )]
            .try_into()
            .unwrap(),
        };
        let set = GeneralizedTransactionSet::V1(TransactionSetV1 {
            previous_ledger_hash: Default::default(),
            phases: vec![
                TransactionPhase::V0(vec![component].try_into().unwrap()),
                TransactionPhase::V1(parallel),
            ]
            .try_into()
            .unwrap(),
        });
        let mut v1 = LedgerCloseMetaV1::default();
        v1.tx_set = set.clone();
        v1.tx_processing = vec![TransactionResultMeta::default(); 6].try_into().unwrap();
        let mut v2 = LedgerCloseMetaV2::default();
        v2.tx_set = set;
        v2.tx_processing = vec![TransactionResultMetaV1::default(); 6].try_into().unwrap();
        vec![
            LedgerCloseMeta::V0(v0),
            LedgerCloseMeta::V1(v1),
            LedgerCloseMeta::V2(v2),
        ]
    }

    #[test]
    fn the_spans_decode_builds_what_the_crate_builds_and_points_at_the_values() {
        let whole = LedgerCloseMetaBatch {
            start_sequence: 5,
            end_sequence: 7,
            ledger_close_metas: ledgers().try_into().unwrap(),
        };
        let data = whole.to_xdr(Limits::none()).unwrap();
        let (start, end, decoded) = batch(&data, Limits::none()).expect("decodes");
        assert_eq!((start, end), (5, 7));
        let metas: Vec<LedgerCloseMeta> = decoded.iter().map(|(m, _)| m.clone()).collect();
        assert_eq!(metas, whole.ledger_close_metas.to_vec());
        let net = crate::ledger::network_id("Test SDF Network ; September 2015");
        for (lcm, spans) in &decoded {
            let envs = crate::ledger::View::new(lcm).envelopes().unwrap();
            assert_eq!(envs.len(), spans.envelopes.len());
            for (env, range) in envs.iter().zip(&spans.envelopes) {
                assert_eq!(&data[range.clone()], env.to_xdr(Limits::none()).unwrap().as_slice());
                assert_eq!(
                    envelope_hash(&net, env, &data[range.clone()]),
                    Some(env.hash(net).unwrap())
                );
            }
            assert!(!spans.txs.is_empty());
            for tx in &spans.txs {
                let pair: stellar_xdr::curr::TransactionResultPair =
                    ReadXdr::from_xdr(&data[tx.result_pair.clone()], Limits::none()).unwrap();
                assert_eq!(pair, Default::default());
                let meta: stellar_xdr::curr::TransactionMeta =
                    ReadXdr::from_xdr(&data[tx.meta.clone()], Limits::none()).unwrap();
                assert_eq!(meta, Default::default());
            }
        }
        // What a whole decode refuses, this one refuses too.
        assert!(batch(&data[..data.len() - 1], Limits::none()).is_err());
        let mut longer = data.clone();
        longer.push(0);
        assert!(batch(&longer, Limits::none()).is_err());
        let mut bad_version = data.clone();
        bad_version[12..16].copy_from_slice(&9u32.to_be_bytes());
        assert!(batch(&bad_version, Limits::none()).is_err());
    }
}
