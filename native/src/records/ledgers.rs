//! The `ledgers` table: one row per ledger (reference: `beam_pipeline/records/ledgers.py`).

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    InnerTransactionResultResult, LedgerCloseMeta, LedgerCloseMetaExt, Limits, NodeId, PublicKey, StellarValueExt,
    TransactionEnvelope, TransactionResultResult, WriteXdr,
};

use super::{toid, Options, RowError, TableBuilder};
use crate::arrow_out::{base64, hex, XdrColumn, XdrListColumn};
use crate::ints::{count, Int64Column, Uint64s};
use crate::ledger::View;
use crate::strkey;

const ERR: &str = "LedgerTransformError";

/// The XDR uint64 columns (`Uint64s`), in schema order; both hold the live Soroban state size, so the first names
/// a size past int64.
const UINT64_COLUMNS: &[&str] = &[
    "total_byte_size_of_bucket_list",
    "total_byte_size_of_live_soroban_state",
];

pub struct Row {
    sequence: u32,
    ledger_hash: String,
    previous_ledger_hash: String,
    ledger_header: Vec<u8>,
    transaction_count: i64,
    operation_count: i64,
    successful_transaction_count: i64,
    failed_transaction_count: i64,
    tx_set_operation_count: String,
    closed_at_us: i64,
    total_coins: i64,
    fee_pool: i64,
    base_fee: u32,
    base_reserve: u32,
    max_tx_set_size: u32,
    protocol_version: u32,
    id: i64,
    soroban_fee_write_1kb: i64,
    node_id: String,
    signature: String,
    live_state_size: i64,
    evicted: Option<Vec<(&'static str, Vec<u8>)>>,
}

pub struct Ledgers {
    sequence: Int64Column,
    ledger_hash: StringBuilder,
    previous_ledger_hash: StringBuilder,
    ledger_header: XdrColumn,
    transaction_count: Int64Column,
    operation_count: Int64Column,
    successful_transaction_count: Int64Column,
    failed_transaction_count: Int64Column,
    tx_set_operation_count: StringBuilder,
    closed_at: TimestampMicrosecondBuilder,
    total_coins: Int64Builder,
    fee_pool: Int64Builder,
    base_fee: Int64Column,
    base_reserve: Int64Column,
    max_tx_set_size: Int64Column,
    protocol_version: Int64Column,
    id: Int64Builder,
    soroban_fee_write_1kb: Int64Builder,
    node_id: StringBuilder,
    signature: StringBuilder,
    total_byte_size_of_bucket_list: Int64Builder,
    total_byte_size_of_live_soroban_state: Int64Builder,
    evicted_ledger_keys_type: ListBuilder<StringBuilder>,
    evicted_ledger_keys_hash: XdrListColumn,
}

impl Ledgers {
    pub fn new(opts: &Options) -> Self {
        Ledgers {
            sequence: Int64Column::new(),
            ledger_hash: StringBuilder::new(),
            previous_ledger_hash: StringBuilder::new(),
            ledger_header: XdrColumn::new(opts.binary_xdr),
            transaction_count: Int64Column::new(),
            operation_count: Int64Column::new(),
            successful_transaction_count: Int64Column::new(),
            failed_transaction_count: Int64Column::new(),
            tx_set_operation_count: StringBuilder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            total_coins: Int64Builder::new(),
            fee_pool: Int64Builder::new(),
            base_fee: Int64Column::new(),
            base_reserve: Int64Column::new(),
            max_tx_set_size: Int64Column::new(),
            protocol_version: Int64Column::new(),
            id: Int64Builder::new(),
            soroban_fee_write_1kb: Int64Builder::new(),
            node_id: StringBuilder::new(),
            signature: StringBuilder::new(),
            total_byte_size_of_bucket_list: Int64Builder::new(),
            total_byte_size_of_live_soroban_state: Int64Builder::new(),
            evicted_ledger_keys_type: ListBuilder::new(StringBuilder::new()),
            evicted_ledger_keys_hash: XdrListColumn::new(opts.binary_xdr),
        }
    }
}

fn operation_count(envelope: &TransactionEnvelope) -> usize {
    match envelope {
        TransactionEnvelope::TxV0(e) => e.tx.operations.len(),
        TransactionEnvelope::Tx(e) => e.tx.operations.len(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            stellar_xdr::curr::FeeBumpTransactionInnerTx::Tx(inner) => inner.tx.operations.len(),
        },
    }
}

fn xdr<T: WriteXdr>(value: &T) -> Result<Vec<u8>, RowError> {
    value
        .to_xdr(Limits::none())
        .map_err(|e| RowError::new(ERR, format!("cannot re-encode XDR: {e}")))
}

fn row(view: &View<'_>) -> Result<Row, RowError> {
    let entry = view.header_entry();
    let header = &entry.header;
    let seq = header.ledger_seq;
    let fail = |message: String| RowError::new(ERR, format!("ledger {seq}: {message}"));

    // header_fields
    let close_time = header.scp_value.close_time.0;
    if close_time >= 1 << 63 {
        return Err(fail(format!("close time {close_time} is negative as int64")));
    }
    if header.total_coins < 0 {
        return Err(fail(format!("total coins {} is negative", header.total_coins)));
    }
    if header.fee_pool < 0 {
        return Err(fail(format!("fee pool {} is negative", header.fee_pool)));
    }
    let (node_id, signature) = match &header.scp_value.ext {
        StellarValueExt::Basic => (String::new(), String::new()),
        StellarValueExt::Signed(sig) => {
            let NodeId(PublicKey::PublicKeyTypeEd25519(key)) = &sig.node_id;
            (
                strkey::encode(strkey::ACCOUNT_ID, &key.0),
                base64(sig.signature.0.as_slice()),
            )
        }
    };
    // The reference's toid raises ValueError, which its transform re-raises as this.
    let id = toid(seq, 0, 0).map_err(|e| fail(format!("ValueError: {e}")))?;

    // count_fields
    let envelopes = view.envelopes().map_err(|e| RowError::new("LedgerDecodeError", e))?;
    let results = view.results();
    if envelopes.len() != results.len() {
        return Err(fail(format!(
            "{} transactions in the set but {} results",
            envelopes.len(),
            results.len()
        )));
    }
    let (mut successful, mut failed, mut operations) = (0i64, 0i64, 0i64);
    for (i, result) in results.iter().enumerate() {
        let ops = match &result.result {
            TransactionResultResult::TxSuccess(ops) => ops.len(),
            TransactionResultResult::TxFeeBumpInnerSuccess(pair) => match &pair.result.result {
                InnerTransactionResultResult::TxSuccess(ops) => ops.len(),
                // The reference reads `results` of the inner result whatever its code; only a success has any.
                InnerTransactionResultResult::TxFailed(ops) => ops.len(),
                _ => return Err(fail(format!("successful result {i} has no operation results"))),
            },
            _ => {
                failed += 1;
                continue;
            }
        };
        successful += 1;
        operations += count(ops);
    }
    let tx_set_ops: usize = envelopes.iter().map(|e| operation_count(e)).sum();

    // close_meta_fields
    let (fee_1kb, size, evicted) = match view.lcm {
        LedgerCloseMeta::V0(_) => (0, 0, None),
        LedgerCloseMeta::V1(b) => (ext_fee(&b.ext), b.total_byte_size_of_live_soroban_state, Some(())),
        LedgerCloseMeta::V2(b) => (ext_fee(&b.ext), b.total_byte_size_of_live_soroban_state, Some(())),
    };
    let evicted = match evicted {
        None => None,
        Some(()) => {
            let mut keys = Vec::new();
            for k in view.evicted_keys() {
                keys.push((k.discriminant().name(), xdr(k)?));
            }
            Some(keys)
        }
    };
    let ledger_header = xdr(header)?;
    // After every other check: the Python path converts the row (and refuses a size past int64) once it is built.
    let mut sizes = Uint64s::new(UINT64_COLUMNS);
    let live_state_size = sizes.get(0, size);
    sizes.finish()?;

    Ok(Row {
        sequence: seq,
        ledger_hash: hex(&entry.hash.0),
        previous_ledger_hash: hex(&header.previous_ledger_hash.0),
        ledger_header,
        transaction_count: count(results.len()) - failed,
        operation_count: operations,
        successful_transaction_count: successful,
        failed_transaction_count: failed,
        tx_set_operation_count: tx_set_ops.to_string(),
        closed_at_us: close_time as i64 * 1_000_000,
        total_coins: header.total_coins,
        fee_pool: header.fee_pool,
        base_fee: header.base_fee,
        base_reserve: header.base_reserve,
        max_tx_set_size: header.max_tx_set_size,
        protocol_version: header.ledger_version,
        id,
        soroban_fee_write_1kb: fee_1kb,
        node_id,
        signature,
        live_state_size,
        evicted,
    })
}

fn ext_fee(ext: &LedgerCloseMetaExt) -> i64 {
    match ext {
        LedgerCloseMetaExt::V0 => 0,
        LedgerCloseMetaExt::V1(v1) => v1.soroban_fee_write1_kb,
    }
}

impl TableBuilder for Ledgers {
    type Row = Row;

    fn rows(&self, view: &View<'_>, _opts: &Options) -> Result<Vec<Row>, RowError> {
        Ok(vec![row(view)?])
    }

    fn append(&mut self, r: Row) {
        self.sequence.append_value(r.sequence);
        self.ledger_hash.append_value(r.ledger_hash);
        self.previous_ledger_hash.append_value(r.previous_ledger_hash);
        self.ledger_header.append(Some(&r.ledger_header));
        self.transaction_count.append_value(r.transaction_count);
        self.operation_count.append_value(r.operation_count);
        self.successful_transaction_count
            .append_value(r.successful_transaction_count);
        self.failed_transaction_count.append_value(r.failed_transaction_count);
        self.tx_set_operation_count.append_value(r.tx_set_operation_count);
        self.closed_at.append_value(r.closed_at_us);
        self.total_coins.append_value(r.total_coins);
        self.fee_pool.append_value(r.fee_pool);
        self.base_fee.append_value(r.base_fee);
        self.base_reserve.append_value(r.base_reserve);
        self.max_tx_set_size.append_value(r.max_tx_set_size);
        self.protocol_version.append_value(r.protocol_version);
        self.id.append_value(r.id);
        self.soroban_fee_write_1kb.append_value(r.soroban_fee_write_1kb);
        self.node_id.append_value(r.node_id);
        self.signature.append_value(r.signature);
        self.total_byte_size_of_bucket_list.append_value(r.live_state_size);
        self.total_byte_size_of_live_soroban_state
            .append_value(r.live_state_size);
        match &r.evicted {
            None => {
                self.evicted_ledger_keys_type.append(false);
                self.evicted_ledger_keys_hash.append(None::<Vec<&[u8]>>);
            }
            Some(keys) => {
                for (name, _) in keys {
                    self.evicted_ledger_keys_type
                        .values()
                        .append_value(format!("LedgerEntryType{name}"));
                }
                self.evicted_ledger_keys_type.append(true);
                self.evicted_ledger_keys_hash
                    .append(Some(keys.iter().map(|(_, k)| k.as_slice())));
            }
        }
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.sequence.finish()),
            Arc::new(self.ledger_hash.finish()),
            Arc::new(self.previous_ledger_hash.finish()),
            self.ledger_header.finish(),
            Arc::new(self.transaction_count.finish()),
            Arc::new(self.operation_count.finish()),
            Arc::new(self.successful_transaction_count.finish()),
            Arc::new(self.failed_transaction_count.finish()),
            Arc::new(self.tx_set_operation_count.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.total_coins.finish()),
            Arc::new(self.fee_pool.finish()),
            Arc::new(self.base_fee.finish()),
            Arc::new(self.base_reserve.finish()),
            Arc::new(self.max_tx_set_size.finish()),
            Arc::new(self.protocol_version.finish()),
            Arc::new(self.id.finish()),
            Arc::new(self.soroban_fee_write_1kb.finish()),
            Arc::new(self.node_id.finish()),
            Arc::new(self.signature.finish()),
            Arc::new(self.total_byte_size_of_bucket_list.finish()),
            Arc::new(self.total_byte_size_of_live_soroban_state.finish()),
            Arc::new(self.evicted_ledger_keys_type.finish()),
            self.evicted_ledger_keys_hash.finish(),
        ]
    }
}
