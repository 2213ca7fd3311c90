//! The `transactions` table: one row per applied transaction (reference: `beam_pipeline/records/transactions.py`).

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    DecoratedSignature, FeeBumpTransactionInnerTx, Limits, Memo, MuxedAccount, Preconditions, PreconditionsV2,
    SorobanTransactionDataExt, SorobanTransactionMetaExt, TimeBounds, Transaction, TransactionEnvelope, TransactionExt,
    TransactionMeta, TransactionResultResult, WriteXdr,
};

use super::{toid, Options, RowError, TableBuilder};
use crate::arrow_out::{base64, go_string, hex, XdrColumn};
use crate::ints::{count, Int64Column, Uint64s, Widens};
use crate::ledger::{Tx, View};
use crate::strkey;
use crate::util::accounts::{balance_span, plain_key};

const ERR: &str = "TransactionTransformError";

/// The XDR uint64 columns (`Uint64s`), in schema order.
const UINT64_COLUMNS: &[&str] = &["min_account_sequence_age"];

/// The transaction that carries the operations (the inner one of a fee bump).
enum Inner<'a> {
    V0(&'a stellar_xdr::curr::TransactionV0),
    V1(&'a Transaction),
}

fn inner_of(env: &TransactionEnvelope) -> Inner<'_> {
    match env {
        TransactionEnvelope::TxV0(e) => Inner::V0(&e.tx),
        TransactionEnvelope::Tx(e) => Inner::V1(&e.tx),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => Inner::V1(&i.tx),
        },
    }
}

fn inner_signatures(env: &TransactionEnvelope) -> &[DecoratedSignature] {
    match env {
        TransactionEnvelope::TxV0(e) => e.signatures.as_slice(),
        TransactionEnvelope::Tx(e) => e.signatures.as_slice(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => i.signatures.as_slice(),
        },
    }
}

fn memo(m: &Memo) -> String {
    match m {
        Memo::None => String::new(),
        Memo::Text(t) => go_string(t.as_slice()),
        Memo::Id(id) => id.to_string(),
        Memo::Hash(h) | Memo::Return(h) => base64(&h.0),
    }
}

#[derive(Default)]
struct Soroban {
    resource_fee: i64,
    instructions: u32,
    read_bytes: u32,
    write_bytes: u32,
    archived: Option<Vec<u32>>,
    inclusion_fee_bid: i64,
    inclusion_fee_charged: i64,
    resource_fee_refund: i64,
    non_refundable: i64,
    refundable: i64,
    rent: i64,
    fee_charged: i64,
}

fn soroban(tx: &Tx<'_>, protocol: u32, fee_charged: i64) -> Soroban {
    let mut f = Soroban {
        fee_charged,
        ..Default::default()
    };
    let env = tx.envelope;
    let Inner::V1(inner) = inner_of(env) else { return f };
    let TransactionExt::V1(data) = &inner.ext else { return f };
    let (fee_source, bid): (&MuxedAccount, i64) = match env {
        TransactionEnvelope::TxFeeBump(e) => (&e.tx.fee_source, e.tx.fee),
        _ => (&inner.source_account, i64::from(inner.fee)),
    };
    let key = plain_key(fee_source);
    f.resource_fee = data.resource_fee;
    f.instructions = data.resources.instructions;
    f.read_bytes = data.resources.disk_read_bytes;
    f.write_bytes = data.resources.write_bytes;
    f.inclusion_fee_bid = bid - data.resource_fee;
    if let SorobanTransactionDataExt::V1(ext) = &data.ext {
        let archived: Vec<u32> = ext.archived_soroban_entries.iter().copied().collect();
        f.archived = if archived.is_empty() { None } else { Some(archived) };
    }
    let (start, end) = balance_span(tx.fee_changes.0.iter(), key);
    f.inclusion_fee_charged = (start - end) - data.resource_fee;
    let ext = match tx.meta {
        TransactionMeta::V3(m) => {
            let (start, end) = balance_span(m.tx_changes_after.0.iter(), key);
            f.resource_fee_refund = end - start;
            m.soroban_meta.as_ref().map(|s| &s.ext)
        }
        TransactionMeta::V4(m) => {
            // From protocol 23 the refund sits in the post-apply fee changes, not in txChangesAfter.
            let post = tx.post_apply_fee_changes.map(|c| c.0.as_slice()).unwrap_or(&[]);
            let (start, end) = balance_span(m.tx_changes_after.0.iter().chain(post.iter()), key);
            f.resource_fee_refund = end - start;
            m.soroban_meta.as_ref().map(|s| &s.ext)
        }
        _ => None,
    };
    if let Some(SorobanTransactionMetaExt::V1(v1)) = ext {
        f.non_refundable = v1.total_non_refundable_resource_fee_charged;
        f.refundable = v1.total_refundable_resource_fee_charged;
        f.rent = v1.rent_fee_charged;
    }
    // Protocol 20 charged Soroban fee bumps wrongly (stellar-core#4188); stellar-etl recomputes.
    if protocol < 21 && matches!(env, TransactionEnvelope::TxFeeBump(_)) {
        f.fee_charged = data.resource_fee - f.resource_fee_refund;
    }
    f
}

fn signers(signatures: &[DecoratedSignature]) -> Vec<String> {
    // stellar-etl strkey-encodes each raw signature with the account version byte.
    signatures
        .iter()
        .map(|s| strkey::encode(strkey::ACCOUNT_ID, s.signature.0.as_slice()))
        .collect()
}

fn xdr<T: WriteXdr>(value: &T) -> Vec<u8> {
    value.to_xdr(Limits::none()).expect("a decoded value re-encodes")
}

pub struct Row {
    hash: String,
    seq: u32,
    account: String,
    account_muxed: Option<String>,
    account_sequence: i64,
    max_fee: u32,
    operation_count: i64,
    tx_envelope: Vec<u8>,
    tx_result: Vec<u8>,
    tx_meta: Vec<u8>,
    tx_fee_meta: Vec<u8>,
    closed_at_us: i64,
    memo_type: String,
    memo: String,
    time_bounds: String,
    successful: bool,
    id: i64,
    fee_account: Option<String>,
    fee_account_muxed: Option<String>,
    inner_transaction_hash: Option<String>,
    new_max_fee: Option<i64>,
    ledger_bounds: String,
    min_seq: Option<i64>,
    min_seq_age: Option<i64>,
    min_seq_gap: Option<u32>,
    extra_signers: Option<Vec<String>>,
    result_code: String,
    tx_signers: Vec<String>,
    soroban: Soroban,
}

/// One transaction's row; its XDR uint64 values go through `ages` (checked once the ledger's rows are built).
fn row(view: &View<'_>, tx: &Tx<'_>, ages: &mut Uint64s) -> Result<Row, RowError> {
    let seq = view.sequence();
    let hash = hex(&tx.result_pair.transaction_hash.0);
    let where_ = format!("ledger {seq}, transaction {} ({hash})", tx.index);
    let fail = |m: String| RowError::new(ERR, format!("{where_}: {m}"));
    let id = toid(seq, tx.index, 0).map_err(|e| fail(format!("ValueError: {e}")))?;
    let env = tx.envelope;
    let inner = inner_of(env);
    let (source, account_sequence, fee, ops, memo_v, time_bounds, v2): (
        MuxedAccount,
        i64,
        u32,
        usize,
        &Memo,
        Option<&TimeBounds>,
        Option<&PreconditionsV2>,
    ) = match inner {
        Inner::V0(t) => (
            MuxedAccount::Ed25519(t.source_account_ed25519.clone()),
            t.seq_num.0,
            t.fee,
            t.operations.len(),
            &t.memo,
            t.time_bounds.as_ref(),
            None,
        ),
        Inner::V1(t) => {
            let (tb, v2) = match &t.cond {
                Preconditions::None => (None, None),
                Preconditions::Time(tb) => (Some(tb), None),
                Preconditions::V2(v2) => (v2.time_bounds.as_ref(), Some(v2)),
            };
            (
                t.source_account.clone(),
                t.seq_num.0,
                t.fee,
                t.operations.len(),
                &t.memo,
                tb,
                v2,
            )
        }
    };
    if account_sequence < 0 {
        return Err(fail(format!("negative account sequence {account_sequence}")));
    }
    let fee_charged = tx.result_pair.result.fee_charged;
    if fee_charged < 0 {
        return Err(fail(format!("negative fee charged {fee_charged}")));
    }
    let mut time_bounds_text = String::new();
    if let Some(tb) = time_bounds {
        let (lo, hi) = (tb.min_time.0, tb.max_time.0);
        if hi != 0 && hi < lo {
            return Err(fail(format!("max time {hi} is earlier than min time {lo}")));
        }
        time_bounds_text = if hi == 0 {
            format!("[{lo},)")
        } else {
            format!("[{lo},{hi})")
        };
    }
    let (mut ledger_bounds, mut min_seq, mut min_seq_age, mut min_seq_gap, mut extra_signers) =
        (String::new(), None, None, None, None);
    if let Some(v2) = v2 {
        if let Some(lb) = &v2.ledger_bounds {
            ledger_bounds = format!("[{},{})", lb.min_ledger, lb.max_ledger);
        }
        min_seq = v2.min_seq_num.as_ref().map(|s| s.0);
        min_seq_age = Some(ages.get(0, v2.min_seq_age.0));
        min_seq_gap = Some(v2.min_seq_ledger_gap);
        let signers: Vec<String> = v2.extra_signers.iter().map(strkey::signer).collect();
        extra_signers = if signers.is_empty() { None } else { Some(signers) };
    }
    let result = &tx.result_pair.result.result;
    let code = result.discriminant();
    let successful = matches!(
        result,
        TransactionResultResult::TxSuccess(_) | TransactionResultResult::TxFeeBumpInnerSuccess(_)
    );
    let soroban = soroban(tx, view.header().ledger_version, fee_charged);
    let (mut fee_account, mut fee_account_muxed, mut inner_hash, mut new_max_fee) = (None, None, None, None);
    let tx_signers = match env {
        TransactionEnvelope::TxFeeBump(fb) => {
            let pair = match result {
                TransactionResultResult::TxFeeBumpInnerSuccess(p)
                | TransactionResultResult::TxFeeBumpInnerFailed(p) => p,
                _ => {
                    // The reference names the code as stellar_sdk spells the member (txBAD_SEQ, ...).
                    return Err(fail(format!(
                        "fee bump transaction has result code {}",
                        sdk_code_name(code.name())
                    )));
                }
            };
            fee_account = Some(strkey::account(&fb.tx.fee_source));
            fee_account_muxed = strkey::muxed(&fb.tx.fee_source);
            inner_hash = Some(hex(&pair.transaction_hash.0));
            new_max_fee = Some(fb.tx.fee);
            signers(fb.signatures.as_slice())
        }
        _ => signers(inner_signatures(env)),
    };
    Ok(Row {
        hash,
        seq,
        account: strkey::account(&source),
        account_muxed: strkey::muxed(&source),
        account_sequence,
        max_fee: fee,
        operation_count: count(ops),
        // The blob's own bytes when the view has them (no re-encoding), else the decoded values re-encoded.
        tx_envelope: tx.raw.map_or_else(|| xdr(env), |r| r.envelope.to_vec()),
        tx_result: tx
            .raw
            .map_or_else(|| xdr(&tx.result_pair.result), |r| r.result.to_vec()),
        tx_meta: tx.raw.map_or_else(|| xdr(tx.meta), |r| r.meta.to_vec()),
        tx_fee_meta: tx.raw.map_or_else(|| xdr(tx.fee_changes), |r| r.fee_changes.to_vec()),
        closed_at_us: view.close_time() as i64 * 1_000_000,
        memo_type: format!("MemoTypeMemo{}", memo_v.discriminant().name()),
        memo: memo(memo_v),
        time_bounds: time_bounds_text,
        successful,
        id,
        fee_account,
        fee_account_muxed,
        inner_transaction_hash: inner_hash,
        new_max_fee,
        ledger_bounds,
        min_seq,
        min_seq_age,
        min_seq_gap,
        extra_signers,
        result_code: format!("TransactionResultCode{}", code.name()),
        tx_signers,
        soroban,
    })
}

/// stellar_sdk's member name of a result code (`TxBadSeq` -> `txBAD_SEQ`), for the one message that shows it.
fn sdk_code_name(go: &str) -> String {
    let rest = go.strip_prefix("Tx").unwrap_or(go);
    let mut out = String::from("tx");
    for (i, c) in rest.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

pub struct Transactions {
    hash: StringBuilder,
    seq: Int64Column,
    account: StringBuilder,
    account_muxed: StringBuilder,
    account_sequence: Int64Builder,
    max_fee: Int64Column,
    fee_charged: Int64Builder,
    operation_count: Int64Column,
    tx_envelope: XdrColumn,
    tx_result: XdrColumn,
    tx_meta: XdrColumn,
    tx_fee_meta: XdrColumn,
    created_at: TimestampMicrosecondBuilder,
    memo_type: StringBuilder,
    memo: StringBuilder,
    time_bounds: StringBuilder,
    successful: BooleanBuilder,
    id: Int64Builder,
    fee_account: StringBuilder,
    fee_account_muxed: StringBuilder,
    inner_transaction_hash: StringBuilder,
    new_max_fee: Int64Builder,
    ledger_bounds: StringBuilder,
    min_seq: Int64Builder,
    min_seq_age: Int64Builder,
    min_seq_gap: Int64Column,
    extra_signers: ListBuilder<StringBuilder>,
    closed_at: TimestampMicrosecondBuilder,
    resource_fee: Int64Builder,
    instructions: Int64Column,
    read_bytes: Int64Column,
    disk_read_bytes: Int64Column,
    write_bytes: Int64Column,
    archived: ListBuilder<Int64Builder>,
    result_code: StringBuilder,
    inclusion_fee_bid: Int64Builder,
    inclusion_fee_charged: Int64Builder,
    resource_fee_refund: Int64Builder,
    non_refundable: Int64Builder,
    refundable: Int64Builder,
    rent: Int64Builder,
    tx_signers: ListBuilder<StringBuilder>,
}

impl Transactions {
    pub fn new(opts: &Options) -> Self {
        Transactions {
            hash: StringBuilder::new(),
            seq: Int64Column::new(),
            account: StringBuilder::new(),
            account_muxed: StringBuilder::new(),
            account_sequence: Int64Builder::new(),
            max_fee: Int64Column::new(),
            fee_charged: Int64Builder::new(),
            operation_count: Int64Column::new(),
            tx_envelope: XdrColumn::new(opts.binary_xdr),
            tx_result: XdrColumn::new(opts.binary_xdr),
            tx_meta: XdrColumn::new(opts.binary_xdr),
            tx_fee_meta: XdrColumn::new(opts.binary_xdr),
            created_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            memo_type: StringBuilder::new(),
            memo: StringBuilder::new(),
            time_bounds: StringBuilder::new(),
            successful: BooleanBuilder::new(),
            id: Int64Builder::new(),
            fee_account: StringBuilder::new(),
            fee_account_muxed: StringBuilder::new(),
            inner_transaction_hash: StringBuilder::new(),
            new_max_fee: Int64Builder::new(),
            ledger_bounds: StringBuilder::new(),
            min_seq: Int64Builder::new(),
            min_seq_age: Int64Builder::new(),
            min_seq_gap: Int64Column::new(),
            extra_signers: ListBuilder::new(StringBuilder::new()),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            resource_fee: Int64Builder::new(),
            instructions: Int64Column::new(),
            read_bytes: Int64Column::new(),
            disk_read_bytes: Int64Column::new(),
            write_bytes: Int64Column::new(),
            archived: ListBuilder::new(Int64Builder::new()),
            result_code: StringBuilder::new(),
            inclusion_fee_bid: Int64Builder::new(),
            inclusion_fee_charged: Int64Builder::new(),
            resource_fee_refund: Int64Builder::new(),
            non_refundable: Int64Builder::new(),
            refundable: Int64Builder::new(),
            rent: Int64Builder::new(),
            tx_signers: ListBuilder::new(StringBuilder::new()),
        }
    }
}

impl TableBuilder for Transactions {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let close_time = view.close_time();
        if close_time >= 1 << 63 {
            let seq = view.sequence();
            return Err(RowError::new(
                ERR,
                format!("ledger {seq}: close time {close_time} is negative as int64"),
            ));
        }
        let txs = view
            .transactions(&opts.passphrase)
            .map_err(|e| RowError::new("LedgerDecodeError", e))?;
        let mut ages = Uint64s::new(UINT64_COLUMNS);
        let rows = txs
            .iter()
            .map(|tx| row(view, tx, &mut ages))
            .collect::<Result<Vec<_>, _>>()?;
        ages.finish()?;
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        self.hash.append_value(&r.hash);
        self.seq.append_value(r.seq);
        self.account.append_value(&r.account);
        self.account_muxed.append_option(r.account_muxed.as_deref());
        self.account_sequence.append_value(r.account_sequence);
        self.max_fee.append_value(r.max_fee);
        self.fee_charged.append_value(r.soroban.fee_charged);
        self.operation_count.append_value(r.operation_count);
        self.tx_envelope.append(Some(&r.tx_envelope));
        self.tx_result.append(Some(&r.tx_result));
        self.tx_meta.append(Some(&r.tx_meta));
        self.tx_fee_meta.append(Some(&r.tx_fee_meta));
        self.created_at.append_value(r.closed_at_us);
        self.memo_type.append_value(&r.memo_type);
        self.memo.append_value(&r.memo);
        self.time_bounds.append_value(&r.time_bounds);
        self.successful.append_value(r.successful);
        self.id.append_value(r.id);
        self.fee_account.append_option(r.fee_account.as_deref());
        self.fee_account_muxed.append_option(r.fee_account_muxed.as_deref());
        self.inner_transaction_hash
            .append_option(r.inner_transaction_hash.as_deref());
        self.new_max_fee.append_option(r.new_max_fee);
        self.ledger_bounds.append_value(&r.ledger_bounds);
        self.min_seq.append_option(r.min_seq);
        self.min_seq_age.append_option(r.min_seq_age);
        self.min_seq_gap.append_option(r.min_seq_gap);
        match &r.extra_signers {
            Some(v) => {
                for s in v {
                    self.extra_signers.values().append_value(s);
                }
                self.extra_signers.append(true);
            }
            None => self.extra_signers.append(false),
        }
        self.closed_at.append_value(r.closed_at_us);
        let s = &r.soroban;
        self.resource_fee.append_value(s.resource_fee);
        self.instructions.append_value(s.instructions);
        self.read_bytes.append_value(s.read_bytes);
        self.disk_read_bytes.append_value(s.read_bytes);
        self.write_bytes.append_value(s.write_bytes);
        match &s.archived {
            Some(v) => {
                for x in v {
                    self.archived.values().append_value(x.widen());
                }
                self.archived.append(true);
            }
            None => self.archived.append(false),
        }
        self.result_code.append_value(&r.result_code);
        self.inclusion_fee_bid.append_value(s.inclusion_fee_bid);
        self.inclusion_fee_charged.append_value(s.inclusion_fee_charged);
        self.resource_fee_refund.append_value(s.resource_fee_refund);
        self.non_refundable.append_value(s.non_refundable);
        self.refundable.append_value(s.refundable);
        self.rent.append_value(s.rent);
        for x in &r.tx_signers {
            self.tx_signers.values().append_value(x);
        }
        self.tx_signers.append(true);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.hash.finish()),
            Arc::new(self.seq.finish()),
            Arc::new(self.account.finish()),
            Arc::new(self.account_muxed.finish()),
            Arc::new(self.account_sequence.finish()),
            Arc::new(self.max_fee.finish()),
            Arc::new(self.fee_charged.finish()),
            Arc::new(self.operation_count.finish()),
            self.tx_envelope.finish(),
            self.tx_result.finish(),
            self.tx_meta.finish(),
            self.tx_fee_meta.finish(),
            Arc::new(self.created_at.finish()),
            Arc::new(self.memo_type.finish()),
            Arc::new(self.memo.finish()),
            Arc::new(self.time_bounds.finish()),
            Arc::new(self.successful.finish()),
            Arc::new(self.id.finish()),
            Arc::new(self.fee_account.finish()),
            Arc::new(self.fee_account_muxed.finish()),
            Arc::new(self.inner_transaction_hash.finish()),
            Arc::new(self.new_max_fee.finish()),
            Arc::new(self.ledger_bounds.finish()),
            Arc::new(self.min_seq.finish()),
            Arc::new(self.min_seq_age.finish()),
            Arc::new(self.min_seq_gap.finish()),
            Arc::new(self.extra_signers.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.resource_fee.finish()),
            Arc::new(self.instructions.finish()),
            Arc::new(self.read_bytes.finish()),
            Arc::new(self.disk_read_bytes.finish()),
            Arc::new(self.write_bytes.finish()),
            Arc::new(self.archived.finish()),
            Arc::new(self.result_code.finish()),
            Arc::new(self.inclusion_fee_bid.finish()),
            Arc::new(self.inclusion_fee_charged.finish()),
            Arc::new(self.resource_fee_refund.finish()),
            Arc::new(self.non_refundable.finish()),
            Arc::new(self.refundable.finish()),
            Arc::new(self.rent.finish()),
            Arc::new(self.tx_signers.finish()),
        ]
    }
}
