//! What every operation family needs: the operation's context and stellar-etl's value formats
//! (the twin of `beam_pipeline/records/operations/_common.py`).

use std::cell::OnceCell;

use stellar_xdr::curr::{
    Asset, InnerTransactionResultResult, MuxedAccount, Operation, OperationResult, Price, TransactionEnvelope,
    TransactionResultResult,
};

use super::changes::{operation_changes_unsorted, sort_changes, Change};
use crate::ledger::{Tx, View};
use crate::strkey;
use crate::util::assets::{asset_id, extract_asset};
use crate::util::pyjson::{Details, Val};

use crate::util::amounts::STROOPS_PER_UNIT;

/// Why a details builder failed: an `OperationError` message of its own (`ctx.error(...)`), or another
/// exception (class name, message) that the row wraps as the reference does (`<type> details: <class>: <msg>`).
#[derive(Debug)]
pub enum Fail {
    Op(String),
    Py(&'static str, String),
}

pub type Res<T> = Result<T, Fail>;

/// A `ValueError` of a helper, as a Fail.
pub fn value_error(message: String) -> Fail {
    Fail::Py("ValueError", message)
}

/// One operation in its transaction and ledger: everything a details builder may read.
pub struct OpContext<'a, 'c> {
    pub view: &'c View<'a>,
    pub tx: &'c Tx<'a>,
    pub op: &'a Operation,
    /// The transaction's operations (the inner transaction's, for a fee bump).
    pub ops: &'a [Operation],
    /// 0-based position in the transaction.
    pub index: usize,
    pub passphrase: &'c str,
    pub network_id: &'c [u8; 32],
    pub protocol: u32,
    unsorted: OnceCell<Result<Vec<Change<'a>>, String>>,
    changes: OnceCell<Vec<Change<'a>>>,
}

/// The source account of a transaction's inner envelope (a v0 envelope only has an ed25519 key).
pub fn tx_source_account(env: &TransactionEnvelope) -> MuxedAccount {
    match env {
        TransactionEnvelope::TxV0(e) => MuxedAccount::Ed25519(e.tx.source_account_ed25519.clone()),
        TransactionEnvelope::Tx(e) => e.tx.source_account.clone(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            stellar_xdr::curr::FeeBumpTransactionInnerTx::Tx(i) => i.tx.source_account.clone(),
        },
    }
}

/// The operations of the envelope that carries them (the inner one of a fee bump).
pub fn tx_operations(env: &TransactionEnvelope) -> &[Operation] {
    match env {
        TransactionEnvelope::TxV0(e) => e.tx.operations.as_slice(),
        TransactionEnvelope::Tx(e) => e.tx.operations.as_slice(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            stellar_xdr::curr::FeeBumpTransactionInnerTx::Tx(i) => i.tx.operations.as_slice(),
        },
    }
}

/// Whether the transaction succeeded (`TxView.successful`).
pub fn tx_successful(tx: &Tx<'_>) -> bool {
    matches!(
        tx.result_pair.result.result,
        TransactionResultResult::TxSuccess(_) | TransactionResultResult::TxFeeBumpInnerSuccess(_)
    )
}

/// Per-operation results, or None when the transaction failed before applying them (`operation_results`).
pub fn operation_results<'a>(tx: &Tx<'a>) -> Option<&'a [OperationResult]> {
    match &tx.result_pair.result.result {
        TransactionResultResult::TxSuccess(r) | TransactionResultResult::TxFailed(r) => Some(r.as_slice()),
        TransactionResultResult::TxFeeBumpInnerSuccess(p) | TransactionResultResult::TxFeeBumpInnerFailed(p) => {
            match &p.result.result {
                InnerTransactionResultResult::TxSuccess(r) | InnerTransactionResultResult::TxFailed(r) => {
                    Some(r.as_slice())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

impl<'a, 'c> OpContext<'a, 'c> {
    pub fn new(
        view: &'c View<'a>,
        tx: &'c Tx<'a>,
        index: usize,
        passphrase: &'c str,
        network_id: &'c [u8; 32],
    ) -> Option<Self> {
        let ops = tx_operations(tx.envelope);
        Some(OpContext {
            view,
            tx,
            op: ops.get(index)?,
            ops,
            index,
            passphrase,
            network_id,
            protocol: view.header().ledger_version,
            unsorted: OnceCell::new(),
            changes: OnceCell::new(),
        })
    }

    /// The operation's source: its own, else the (inner) transaction's.
    pub fn source(&self) -> MuxedAccount {
        self.source_of(self.op)
    }

    pub fn source_of(&self, op: &Operation) -> MuxedAccount {
        match &op.source_account {
            Some(s) => s.clone(),
            None => tx_source_account(self.tx.envelope),
        }
    }

    pub fn successful(&self) -> bool {
        tx_successful(self.tx)
    }

    /// This operation's result, or None when the transaction carries no per-operation results.
    pub fn result(&self) -> Res<Option<&'a OperationResult>> {
        let Some(results) = operation_results(self.tx) else {
            return Ok(None);
        };
        match results.get(self.index) {
            Some(r) => Ok(Some(r)),
            None => Err(self.error(format!("only {} operation results", results.len()))),
        }
    }

    /// Ledger-entry changes this operation made, as stellar-etl's ingest sees them (computed once).
    pub fn changes(&self) -> Res<&[Change<'a>]> {
        let unsorted = self.unsorted_changes()?;
        Ok(self.changes.get_or_init(|| {
            let mut sorted = unsorted.to_vec();
            sort_changes(&mut sorted);
            sorted
        }))
    }

    /// The same changes in the meta's order (and the same errors): for questions the order does not change.
    pub fn unsorted_changes(&self) -> Res<&[Change<'a>]> {
        let computed = self
            .unsorted
            .get_or_init(|| operation_changes_unsorted(self.tx, self.index, self.protocol));
        match computed {
            Ok(c) => Ok(c.as_slice()),
            Err(e) => Err(value_error(e.clone())),
        }
    }

    /// An `OperationError` of this operation; the row prefixes where it happened.
    pub fn error(&self, message: String) -> Fail {
        Fail::Op(message)
    }

    /// The prefix of every `OperationError` message: ledger, transaction hash and 1-based operation number.
    pub fn where_(&self) -> String {
        format!(
            "ledger {} tx {} operation {}",
            self.view.sequence(),
            crate::arrow_out::hex(&self.tx.result_pair.transaction_hash.0),
            self.index + 1
        )
    }
}

// --- Go value formats ----------------------------------------------------------------------------

pub use crate::util::amounts::{div_to_f64, stroops_to_real};

/// Go's `big.Rat.FloatString`: `prec` decimals, halves rounded away from zero, sign kept on a rounded zero.
pub fn rat_float_string(num: i128, den: i128, prec: u32) -> Result<String, Fail> {
    if den == 0 {
        return Err(Fail::Py(
            "ZeroDivisionError",
            "rational with zero denominator".to_string(),
        ));
    }
    let negative = (num < 0) != (den < 0) && num != 0;
    let (n, d) = (num.unsigned_abs(), den.unsigned_abs());
    let scale = 10u128.pow(prec);
    let q = if d == scale {
        n // n * scale / d exactly, without the product (i128 amounts would overflow it)
    } else {
        let (q, r) = ((n * scale) / d, (n * scale) % d);
        if 2 * r >= d {
            q + 1
        } else {
            q
        }
    };
    let (whole, frac) = (q / scale, q % scale);
    let text = if prec == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0width$}", width = prec as usize)
    };
    Ok(if negative { format!("-{text}") } else { text })
}

/// Go's `amount.String`: stroops as a 7-decimal string (`"0.0000000"`).
pub fn amount_string(value: i128) -> String {
    rat_float_string(value, STROOPS_PER_UNIT as i128, 7).unwrap_or_default()
}

// --- shared detail builders ----------------------------------------------------------------------

fn key(prefix: &str, name: &'static str) -> std::borrow::Cow<'static, str> {
    if prefix.is_empty() {
        name.into()
    } else {
        format!("{prefix}_{name}").into()
    }
}

/// `key` = G address, plus `key_muxed` / `key_muxed_id` when the account is multiplexed.
pub fn add_account(details: &mut Details, account: &MuxedAccount, name: &'static str) {
    details.set(name, strkey::account(account));
    if let MuxedAccount::MuxedEd25519(m) = account {
        details.set(format!("{name}_muxed"), strkey::muxed(account));
        details.set(format!("{name}_muxed_id"), Val::UInt(m.id));
    }
}

/// `asset_type`, `asset_code`, `asset_issuer` and `asset_id` under `prefix`.
pub fn add_asset(details: &mut Details, asset: &Asset, prefix: &str) {
    let (kind, code, issuer) = extract_asset(asset);
    details.set(key(prefix, "asset_type"), kind);
    details.set(key(prefix, "asset_id"), asset_id(&code, &issuer, kind));
    if !matches!(asset, Asset::Native) {
        details.set(key(prefix, "asset_code"), code);
        details.set(key(prefix, "asset_issuer"), issuer);
    }
}

/// `price` (7-decimal rounding of n/d parsed back to float) and `price_r` {n, d}.
pub fn add_price(details: &mut Details, price: &Price, prefix: &str) -> Res<()> {
    let (n, d) = (price.n, price.d);
    let text = rat_float_string(n as i128, d as i128, 7)?;
    let value: f64 = text.parse().map_err(|e| value_error(format!("{e}")))?;
    details.set(key(prefix, "price"), value);
    let mut r = Details::new();
    r.set("n", n);
    r.set("d", d);
    details.set(key(prefix, "price_r"), Val::Obj(r));
    Ok(())
}

/// A path payment's intermediate assets; null for an empty path, as stellar-etl.
pub fn path_assets(path: &[Asset]) -> Val {
    if path.is_empty() {
        return Val::Null;
    }
    Val::List(
        path.iter()
            .map(|asset| {
                let (kind, code, issuer) = extract_asset(asset);
                let mut d = Details::new();
                d.set("asset_code", code);
                d.set("asset_issuer", issuer);
                d.set("asset_type", kind);
                Val::Obj(d)
            })
            .collect(),
    )
}

/// The set bits of `flags` that have names, as (numbers, names) in the given order.
pub fn flag_lists(flags: u32, names: &[(u32, &'static str)]) -> (Vec<Val>, Vec<Val>) {
    let (mut numbers, mut texts) = (Vec::new(), Vec::new());
    for &(bit, name) in names {
        if flags & bit != 0 {
            numbers.push(Val::Int(bit as i64));
            texts.push(Val::Static(name));
        }
    }
    (numbers, texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_round_like_python_and_go() {
        assert_eq!(stroops_to_real(1), 1e-7);
        assert_eq!(stroops_to_real(-15), -1.5e-6);
        // Past 2^53 a plain `as f64` would round twice; Python prints 922337203685.4775 for int64 max.
        assert_eq!(stroops_to_real(i64::MAX as i128), 922_337_203_685.477_5);
        // Values where `v as f64 / 1e7` is one ulp off (Python: v / 10**7 vs float(v) / 1e7).
        assert_eq!(stroops_to_real(5258986265376043509i64), 525_898_626_537.604_4);
        assert_eq!(stroops_to_real(-7408596316092197599i64), -740_859_631_609.219_7);
        assert_eq!(stroops_to_real(591064915700530116i64), 59_106_491_570.053_01);
        assert_eq!(amount_string(0), "0.0000000");
        assert_eq!(amount_string(-5), "-0.0000005");
        assert_eq!(rat_float_string(1, 3, 7).unwrap(), "0.3333333");
        assert_eq!(rat_float_string(2, 3, 7).unwrap(), "0.6666667");
        assert_eq!(rat_float_string(-1, 300_000_000, 7).unwrap(), "-0.0000000");
        assert_eq!(rat_float_string(i128::MIN, 10_000_000, 7).unwrap().len(), 41);
    }
}
