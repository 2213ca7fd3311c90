//! The `assets` table: the assets that payments and sell offers mention, once per ledger in first-mention order
//! (reference: `beam_pipeline/records/assets.py`; the run-wide dedupe stays in `beam_pipeline/dedupe.py`).

use std::collections::HashSet;
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{Asset, FeeBumpTransactionInnerTx, Operation, OperationBody, TransactionEnvelope};

use super::{Options, RowError, TableBuilder};
use crate::ints::Int64Column;
use crate::ledger::View;
use crate::util::assets::{asset_columns, AssetColumns};

/// The operations of an envelope (the inner transaction's for a fee bump; `envelope_operations`).
pub fn operations_of(envelope: &TransactionEnvelope) -> &[Operation] {
    match envelope {
        TransactionEnvelope::TxV0(e) => e.tx.operations.as_slice(),
        TransactionEnvelope::Tx(e) => e.tx.operations.as_slice(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => i.tx.operations.as_slice(),
        },
    }
}

/// The asset stellar-etl takes from an operation: a payment's, a sell offer's selling asset (`mentioned_asset`).
fn mentioned_asset(op: &Operation) -> Option<&Asset> {
    match &op.body {
        OperationBody::Payment(p) => Some(&p.asset),
        OperationBody::ManageSellOffer(o) => Some(&o.selling),
        _ => None,
    }
}

pub struct Assets {
    code: StringBuilder,
    issuer: StringBuilder,
    kind: StringBuilder,
    id: Int64Builder,
    closed_at: TimestampMicrosecondBuilder,
    ledger_sequence: Int64Column,
}

impl Assets {
    pub fn new(_opts: &Options) -> Self {
        Assets {
            code: StringBuilder::new(),
            issuer: StringBuilder::new(),
            kind: StringBuilder::new(),
            id: Int64Builder::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            ledger_sequence: Int64Column::new(),
        }
    }
}

impl TableBuilder for Assets {
    type Row = (u32, i64, AssetColumns);

    fn rows(&self, view: &View<'_>, _opts: &Options) -> Result<Vec<Self::Row>, RowError> {
        let (seq, closed_at_us) = (view.sequence(), (view.close_time() as i64).wrapping_mul(1_000_000));
        let envelopes = view.envelopes().map_err(|e| RowError::new("LedgerDecodeError", e))?;
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        for envelope in envelopes {
            for asset in operations_of(envelope).iter().filter_map(mentioned_asset) {
                let columns = asset_columns(asset);
                if seen.insert(columns.id) {
                    rows.push((seq, closed_at_us, columns));
                }
            }
        }
        Ok(rows)
    }

    fn append(&mut self, (seq, closed_at_us, a): Self::Row) {
        self.code.append_value(&a.code);
        self.issuer.append_value(&a.issuer);
        self.kind.append_value(a.kind);
        self.id.append_value(a.id);
        self.closed_at.append_value(closed_at_us);
        self.ledger_sequence.append_value(seq);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        vec![
            Arc::new(self.code.finish()),
            Arc::new(self.issuer.finish()),
            Arc::new(self.kind.finish()),
            Arc::new(self.id.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]
    }
}
