//! The `trades` table: one row per fill of an offer or a liquidity pool (reference: `beam_pipeline/records/trades.py`,
//! which documents stellar-etl's semantics: claim atoms, prices from the offer's pre-state, pool slippage).

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use ethnum::I256;
use stellar_xdr::curr::{
    AccountId, Asset, ClaimAtom, LedgerEntryData, LiquidityPoolEntry, LiquidityPoolEntryBody, ManageBuyOfferResult,
    ManageOfferSuccessResultOffer, ManageSellOfferResult, MuxedAccount, Operation, OperationBody, OperationResult,
    OperationResultTr, OperationType, PathPaymentStrictReceiveResult, PathPaymentStrictSendResult, PublicKey, Uint256,
};

use super::{toid, Options, RowError, TableBuilder};
use crate::arrow_out::hex;
use crate::ints::{count, Int64Column};
use crate::ledger::{Tx, View};
use crate::records::assets::operations_of;
use crate::records::operations::changes::{operation_changes, Change};
use crate::strkey;
use crate::util::amounts::stroops_to_real;
use crate::util::assets::{asset_columns, pool_id_hex, pool_id_strkey, AssetColumns};

const ERR: &str = "TradeError";
const TRADE_TYPE_ORDER_BOOK: i32 = 1;
const TRADE_TYPE_LIQUIDITY_POOL: i32 = 2;
const MAX_BIPS: i64 = 10_000;
const OFFER_ID_TOID_TYPE: i64 = 1 << 62; // Horizon's EncodeOfferId(id, TOIDType)
const OFFER_ID_MASK: u64 = 0xC000_0000_0000_0000;

/// Why one operation's trades failed: the reference's exception class and message (before its location prefix).
struct Fail {
    class: &'static str,
    message: String,
}

fn trade_error(message: impl Into<String>) -> Fail {
    Fail {
        class: ERR,
        message: message.into(),
    }
}

/// stellar_sdk's `OperationType` member name of a trading operation (the reference's messages show it).
fn op_name(t: OperationType) -> &'static str {
    match t {
        OperationType::ManageBuyOffer => "MANAGE_BUY_OFFER",
        OperationType::ManageSellOffer => "MANAGE_SELL_OFFER",
        OperationType::CreatePassiveSellOffer => "CREATE_PASSIVE_SELL_OFFER",
        OperationType::PathPaymentStrictReceive => "PATH_PAYMENT_STRICT_RECEIVE",
        OperationType::PathPaymentStrictSend => "PATH_PAYMENT_STRICT_SEND",
        _ => "OTHER",
    }
}

/// stellar_sdk's `OperationResultCode` member name.
fn result_code_name(r: &OperationResult) -> &'static str {
    match r {
        OperationResult::OpInner(_) => "opINNER",
        OperationResult::OpBadAuth => "opBAD_AUTH",
        OperationResult::OpNoAccount => "opNO_ACCOUNT",
        OperationResult::OpNotSupported => "opNOT_SUPPORTED",
        OperationResult::OpTooManySubentries => "opTOO_MANY_SUBENTRIES",
        OperationResult::OpExceededWorkLimit => "opEXCEEDED_WORK_LIMIT",
        OperationResult::OpTooManySponsoring => "opTOO_MANY_SPONSORING",
    }
}

fn trade_type(body: &OperationBody) -> Option<OperationType> {
    match body {
        OperationBody::ManageBuyOffer(_) => Some(OperationType::ManageBuyOffer),
        OperationBody::ManageSellOffer(_) => Some(OperationType::ManageSellOffer),
        OperationBody::CreatePassiveSellOffer(_) => Some(OperationType::CreatePassiveSellOffer),
        OperationBody::PathPaymentStrictReceive(_) => Some(OperationType::PathPaymentStrictReceive),
        OperationBody::PathPaymentStrictSend(_) => Some(OperationType::PathPaymentStrictSend),
        _ => None,
    }
}

/// What a mismatched result arm gives in the reference (`None.success`).
fn none_success() -> Fail {
    Fail {
        class: "AttributeError",
        message: "'NoneType' object has no attribute 'success'".to_string(),
    }
}

type Claims<'a> = (&'a [ClaimAtom], Option<i64>, Option<bool>);

/// (claim atoms, id of the offer left on the book, seller_is_exact) of a successful operation (`claims`).
fn claims(op_type: OperationType, result: &OperationResult) -> Result<Claims<'_>, Fail> {
    let OperationResult::OpInner(tr) = result else {
        return Err(trade_error(format!(
            "{} has no inner result (code {})",
            op_name(op_type),
            result_code_name(result)
        )));
    };
    let success = match op_type {
        OperationType::PathPaymentStrictSend => {
            let OperationResultTr::PathPaymentStrictSend(r) = tr else {
                return Err(none_success());
            };
            let PathPaymentStrictSendResult::Success(s) = r else {
                return Err(trade_error("path_payment_strict_send did not succeed"));
            };
            return Ok((s.offers.as_slice(), None, Some(false)));
        }
        OperationType::PathPaymentStrictReceive => {
            let OperationResultTr::PathPaymentStrictReceive(r) = tr else {
                return Err(none_success());
            };
            let PathPaymentStrictReceiveResult::Success(s) = r else {
                return Err(trade_error("path_payment_strict_receive did not succeed"));
            };
            return Ok((s.offers.as_slice(), None, Some(true)));
        }
        OperationType::ManageBuyOffer => match tr {
            OperationResultTr::ManageBuyOffer(ManageBuyOfferResult::Success(s)) => Some(s),
            _ => None,
        },
        OperationType::ManageSellOffer => match tr {
            OperationResultTr::ManageSellOffer(ManageSellOfferResult::Success(s)) => Some(s),
            _ => None,
        },
        // stellar-core has written passive offers' results under the manage_sell_offer arm.
        OperationType::CreatePassiveSellOffer => match tr {
            OperationResultTr::ManageSellOffer(ManageSellOfferResult::Success(s))
            | OperationResultTr::CreatePassiveSellOffer(ManageSellOfferResult::Success(s)) => Some(s),
            _ => None,
        },
        other => return Err(trade_error(format!("operation type {} does not trade", op_name(other)))),
    };
    let Some(success) = success else {
        return Err(trade_error(format!("{} did not succeed", op_name(op_type))));
    };
    let left = match &success.offer {
        ManageOfferSuccessResultOffer::Created(o) | ManageOfferSuccessResultOffer::Updated(o) => Some(o.offer_id),
        ManageOfferSuccessResultOffer::Deleted => None,
    };
    Ok((success.offers_claimed.as_slice(), left, None))
}

/// One claim atom, whatever its arm.
struct Fill<'a> {
    /// The offer's seller and id; None for a pool fill.
    seller: Option<(AccountId, i64)>,
    pool_id: Option<&'a [u8; 32]>,
    asset_sold: &'a Asset,
    asset_bought: &'a Asset,
    amount_sold: i64,
    amount_bought: i64,
}

fn fill(atom: &ClaimAtom) -> Fill<'_> {
    match atom {
        ClaimAtom::V0(a) => Fill {
            seller: Some((
                AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(a.seller_ed25519.0))),
                a.offer_id,
            )),
            pool_id: None,
            asset_sold: &a.asset_sold,
            asset_bought: &a.asset_bought,
            amount_sold: a.amount_sold,
            amount_bought: a.amount_bought,
        },
        ClaimAtom::OrderBook(a) => Fill {
            seller: Some((a.seller_id.clone(), a.offer_id)),
            pool_id: None,
            asset_sold: &a.asset_sold,
            asset_bought: &a.asset_bought,
            amount_sold: a.amount_sold,
            amount_bought: a.amount_bought,
        },
        ClaimAtom::LiquidityPool(a) => Fill {
            seller: None,
            pool_id: Some(&(a.liquidity_pool_id.0).0),
            asset_sold: &a.asset_sold,
            asset_bought: &a.asset_bought,
            amount_sold: a.amount_sold,
            amount_bought: a.amount_bought,
        },
    }
}

/// go-stellar-sdk `CalculatePoolPayout`'s rounding slippage and whether the payout is valid: (slippage, ok).
///
/// The reference computes in exact integers (Go in 256-bit ones): the products here reach ~2^154, so 256 bits.
fn pool_payout(reserve_a: i64, reserve_b: i64, received: i64, fee_bips: i32) -> (i64, bool) {
    let fee = fee_bips as i64;
    if !(0..MAX_BIPS).contains(&fee) || (received as i128) > i64::MAX as i128 - reserve_a as i128 {
        return (0, false);
    }
    let bips = I256::from(MAX_BIPS);
    let f = I256::from(MAX_BIPS - fee);
    let denom = I256::from(reserve_a) * bips + I256::from(received) * f;
    if denom == I256::ZERO {
        return (0, false);
    }
    let numer = I256::from(reserve_b) * I256::from(received) * f;
    let (result, rem) = floor_div(numer, denom);
    let (mut slippage, mut ok) = (0i64, true);
    if rem != I256::ZERO {
        let (unrounded, _) = floor_div(numer * bips, denom);
        let s = (unrounded - result * bips).abs() * bips;
        let s = if unrounded != I256::ZERO {
            floor_div(s, unrounded).0
        } else {
            I256::ZERO
        };
        let s = floor_div(s, I256::from(100)).0;
        ok = s < (I256::ONE << 63);
        slippage = s.as_i64();
    }
    ok = ok && result < (I256::ONE << 64) && result.as_i64() > 0;
    (slippage, ok)
}

/// Python's floor division and whether the remainder is non-zero.
fn floor_div(a: I256, b: I256) -> (I256, I256) {
    let (q, r) = (a / b, a % b);
    if r != I256::ZERO && (r < I256::ZERO) != (b < I256::ZERO) {
        (q - I256::ONE, r)
    } else {
        (q, r)
    }
}

/// stellar-etl's `rounding_slippage` of a pool fill, from the pool's state before the operation.
fn rounding_slippage(op_type: OperationType, f: &Fill<'_>, pool: &LiquidityPoolEntry) -> Result<i64, Fail> {
    let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &pool.body;
    let (mut disbursed, mut deposited) = (cp.reserve_a, cp.reserve_b);
    if *f.asset_sold != cp.params.asset_a {
        std::mem::swap(&mut disbursed, &mut deposited);
    }
    let fee = cp.params.fee;
    match op_type {
        OperationType::PathPaymentStrictReceive => {
            let (s, ok) = pool_payout(deposited, disbursed, f.amount_sold, fee);
            Ok(if ok { s } else { i64::MAX })
        }
        OperationType::PathPaymentStrictSend => {
            let (s, ok) = pool_payout(deposited, disbursed, f.amount_bought, fee);
            Ok(if ok { s } else { i64::MIN })
        }
        other => Err(trade_error(format!(
            "a liquidity pool fill in a {} operation",
            op_name(other)
        ))),
    }
}

/// Horizon's id for an offer that never rested on the book: the TOID (+1) marked as such.
fn synthetic_offer_id(operation_id: i64) -> Result<i64, Fail> {
    let value = operation_id + 1;
    if (value as u64) & OFFER_ID_MASK != 0 {
        return Err(trade_error(format!(
            "operation id {operation_id} too large for a synthetic offer id"
        )));
    }
    Ok(value | OFFER_ID_TOID_TYPE)
}

pub struct Row {
    order: i64,
    seller: String,
    selling: AssetColumns,
    selling_amount: f64,
    buyer: Arc<str>,
    buying: AssetColumns,
    buying_amount: f64,
    price_n: i64,
    price_d: i64,
    selling_offer_id: Option<i64>,
    buying_offer_id: i64,
    pool_hex: Option<String>,
    pool_fee: Option<i64>,
    history_operation_id: i64,
    trade_type: i32,
    slippage: Option<i64>,
    seller_is_exact: Option<bool>,
    pool_strkey: Option<String>,
}

/// The trades of operation `index` (0-based) of a successful transaction (`operation_trades`).
fn operation_trades(
    (seq, protocol): (u32, u32),
    tx: &Tx<'_>,
    op: &Operation,
    op_type: OperationType,
    index: usize,
    out: &mut Vec<Row>,
) -> Result<(), Fail> {
    let results = operation_results(tx);
    let Some(result) = results.and_then(|r| r.get(index)) else {
        return Err(trade_error("no operation result"));
    };
    let (atoms, left_offer, seller_is_exact) = claims(op_type, result)?;
    let operation_id = toid(seq, tx.index, index as u32).map_err(|message| Fail {
        class: "ValueError",
        message,
    })?;
    let buyer: Arc<str> = match &op.source_account {
        Some(m) => strkey::account(m),
        None => strkey::account(&tx_source(tx)),
    }
    .into();
    let buying_offer_id = match left_offer {
        Some(id) => id,
        None => synthetic_offer_id(operation_id)?,
    };
    let mut changes: Option<Vec<Change<'_>>> = None;
    for (order, atom) in atoms.iter().enumerate() {
        let f = fill(atom);
        let seller = f.seller.as_ref().map(|(id, _)| strkey::account_id(id));
        if f.amount_sold < 0 || f.amount_bought < 0 {
            return Err(trade_error(format!("claim atom {order} has a negative amount")));
        }
        if f.amount_sold == 0 && f.amount_bought == 0 {
            continue;
        }
        if changes.is_none() {
            let paired = operation_changes(tx, index, protocol).map_err(|message| Fail {
                class: "ValueError",
                message,
            })?;
            changes = Some(paired);
        }
        // The pre-state of the last change of the fill's entry (`_latest_pre`).
        let mut pres = changes.iter().flatten().rev().filter_map(|c| c.pre);
        let row = match (&f.seller, f.pool_id) {
            (None, Some(pool_id)) => {
                let pool = pres.find_map(|e| match &e.data {
                    LedgerEntryData::LiquidityPool(p) if (p.liquidity_pool_id.0).0 == *pool_id => Some(p),
                    _ => None,
                });
                let Some(pool) = pool else {
                    return Err(trade_error(format!(
                        "no change of liquidity pool {} among the operation's changes",
                        pool_id_hex(pool_id)
                    )));
                };
                let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &pool.body;
                let slippage = rounding_slippage(op_type, &f, pool)?;
                Row {
                    order: count(order),
                    seller: String::new(),
                    selling: asset_columns(f.asset_sold),
                    selling_amount: stroops_to_real(f.amount_sold),
                    buyer: buyer.clone(),
                    buying: asset_columns(f.asset_bought),
                    buying_amount: stroops_to_real(f.amount_bought),
                    price_n: f.amount_bought,
                    price_d: f.amount_sold,
                    selling_offer_id: None,
                    buying_offer_id,
                    pool_hex: Some(pool_id_hex(pool_id)),
                    pool_fee: Some(cp.params.fee as i64),
                    history_operation_id: operation_id + 1,
                    trade_type: TRADE_TYPE_LIQUIDITY_POOL,
                    slippage: Some(slippage),
                    seller_is_exact,
                    pool_strkey: Some(pool_id_strkey(pool_id)),
                }
            }
            (Some((seller_id, offer_id)), _) => {
                let offer = pres.find_map(|e| match &e.data {
                    LedgerEntryData::Offer(o) if o.offer_id == *offer_id && o.seller_id == *seller_id => Some(o),
                    _ => None,
                });
                let Some(offer) = offer else {
                    return Err(trade_error(format!(
                        "no change of offer {offer_id} among the operation's changes"
                    )));
                };
                Row {
                    order: count(order),
                    seller: seller.unwrap_or_default(),
                    selling: asset_columns(f.asset_sold),
                    selling_amount: stroops_to_real(f.amount_sold),
                    buyer: buyer.clone(),
                    buying: asset_columns(f.asset_bought),
                    buying_amount: stroops_to_real(f.amount_bought),
                    price_n: offer.price.n as i64,
                    price_d: offer.price.d as i64,
                    selling_offer_id: Some(*offer_id),
                    buying_offer_id,
                    pool_hex: None,
                    pool_fee: None,
                    history_operation_id: operation_id + 1,
                    trade_type: TRADE_TYPE_ORDER_BOOK,
                    slippage: None,
                    seller_is_exact,
                    pool_strkey: None,
                }
            }
            (None, None) => continue, // not built by `fill`
        };
        out.push(row);
    }
    Ok(())
}

/// The source account of a transaction's inner envelope (`tx_source_account`).
fn tx_source(tx: &Tx<'_>) -> MuxedAccount {
    use stellar_xdr::curr::{FeeBumpTransactionInnerTx, TransactionEnvelope};
    match tx.envelope {
        TransactionEnvelope::TxV0(e) => MuxedAccount::Ed25519(e.tx.source_account_ed25519.clone()),
        TransactionEnvelope::Tx(e) => e.tx.source_account.clone(),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => i.tx.source_account.clone(),
        },
    }
}

/// Per-operation results, or None when the transaction failed before applying them (`TxView.operation_results`).
fn operation_results<'a>(tx: &Tx<'a>) -> Option<&'a [OperationResult]> {
    use stellar_xdr::curr::{InnerTransactionResultResult as Inner, TransactionResultResult as Outer};
    match &tx.result_pair.result.result {
        Outer::TxSuccess(r) | Outer::TxFailed(r) => Some(r.as_slice()),
        Outer::TxFeeBumpInnerSuccess(p) | Outer::TxFeeBumpInnerFailed(p) => match &p.result.result {
            Inner::TxSuccess(r) | Inner::TxFailed(r) => Some(r.as_slice()),
            _ => None,
        },
        _ => None,
    }
}

/// Every fill of every trading operation of the ledger's successful transactions, in order (`transform`).
fn ledger_trades(view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
    use stellar_xdr::curr::TransactionResultResult as Outer;
    let (seq, protocol) = (view.sequence(), view.header().ledger_version);
    let txs = view
        .transactions(&opts.passphrase)
        .map_err(|e| RowError::new("LedgerDecodeError", e))?;
    let mut rows = Vec::new();
    for tx in &txs {
        if !matches!(
            tx.result_pair.result.result,
            Outer::TxSuccess(_) | Outer::TxFeeBumpInnerSuccess(_)
        ) {
            continue;
        }
        for (index, op) in operations_of(tx.envelope).iter().enumerate() {
            let Some(op_type) = trade_type(&op.body) else {
                continue;
            };
            operation_trades((seq, protocol), tx, op, op_type, index, &mut rows).map_err(|f| {
                if f.class == ERR {
                    let hash = hex(&tx.result_pair.transaction_hash.0);
                    let message = format!("ledger {seq} tx {hash} operation {}: {}", index + 1, f.message);
                    RowError::new(ERR, message)
                } else {
                    RowError::new(f.class, f.message)
                }
            })?;
        }
    }
    Ok(rows)
}

/// The four columns of one side's asset.
struct AssetBuilders {
    code: StringBuilder,
    issuer: StringBuilder,
    kind: StringBuilder,
    id: Int64Builder,
}

impl AssetBuilders {
    fn new() -> Self {
        AssetBuilders {
            code: StringBuilder::new(),
            issuer: StringBuilder::new(),
            kind: StringBuilder::new(),
            id: Int64Builder::new(),
        }
    }

    fn append(&mut self, a: &AssetColumns) {
        self.code.append_value(&a.code);
        self.issuer.append_value(&a.issuer);
        self.kind.append_value(a.kind);
        self.id.append_value(a.id);
    }

    fn finish(mut self, out: &mut Vec<ArrayRef>) {
        out.push(Arc::new(self.code.finish()));
        out.push(Arc::new(self.issuer.finish()));
        out.push(Arc::new(self.kind.finish()));
        out.push(Arc::new(self.id.finish()));
    }
}

pub struct Trades {
    order: Int64Column,
    closed_at: TimestampMicrosecondBuilder,
    seller: StringBuilder,
    selling: AssetBuilders,
    selling_amount: Float64Builder,
    buyer: StringBuilder,
    buying: AssetBuilders,
    buying_amount: Float64Builder,
    price_n: Int64Builder,
    price_d: Int64Builder,
    selling_offer_id: Int64Builder,
    buying_offer_id: Int64Builder,
    pool_hex: StringBuilder,
    pool_fee: Int64Builder,
    history_operation_id: Int64Builder,
    trade_type: Int64Column,
    slippage: Int64Builder,
    seller_is_exact: BooleanBuilder,
    pool_strkey: StringBuilder,
    ledger_sequence: Int64Column,
}

impl Trades {
    pub fn new(_opts: &Options) -> Self {
        Trades {
            order: Int64Column::new(),
            closed_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            seller: StringBuilder::new(),
            selling: AssetBuilders::new(),
            selling_amount: Float64Builder::new(),
            buyer: StringBuilder::new(),
            buying: AssetBuilders::new(),
            buying_amount: Float64Builder::new(),
            price_n: Int64Builder::new(),
            price_d: Int64Builder::new(),
            selling_offer_id: Int64Builder::new(),
            buying_offer_id: Int64Builder::new(),
            pool_hex: StringBuilder::new(),
            pool_fee: Int64Builder::new(),
            history_operation_id: Int64Builder::new(),
            trade_type: Int64Column::new(),
            slippage: Int64Builder::new(),
            seller_is_exact: BooleanBuilder::new(),
            pool_strkey: StringBuilder::new(),
            ledger_sequence: Int64Column::new(),
        }
    }
}

impl TableBuilder for Trades {
    type Row = (u32, i64, Row);

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Self::Row>, RowError> {
        let (seq, closed_at_us) = (view.sequence(), (view.close_time() as i64).wrapping_mul(1_000_000));
        Ok(ledger_trades(view, opts)?
            .into_iter()
            .map(|r| (seq, closed_at_us, r))
            .collect())
    }

    fn append(&mut self, (seq, closed_at_us, r): Self::Row) {
        self.order.append_value(r.order);
        self.closed_at.append_value(closed_at_us);
        self.seller.append_value(&r.seller);
        self.selling.append(&r.selling);
        self.selling_amount.append_value(r.selling_amount);
        self.buyer.append_value(&*r.buyer);
        self.buying.append(&r.buying);
        self.buying_amount.append_value(r.buying_amount);
        self.price_n.append_value(r.price_n);
        self.price_d.append_value(r.price_d);
        self.selling_offer_id.append_option(r.selling_offer_id);
        self.buying_offer_id.append_value(r.buying_offer_id);
        self.pool_hex.append_option(r.pool_hex.as_deref());
        self.pool_fee.append_option(r.pool_fee);
        self.history_operation_id.append_value(r.history_operation_id);
        self.trade_type.append_value(r.trade_type);
        self.slippage.append_option(r.slippage);
        self.seller_is_exact.append_option(r.seller_is_exact);
        self.pool_strkey.append_option(r.pool_strkey.as_deref());
        self.ledger_sequence.append_value(seq);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![
            Arc::new(self.order.finish()),
            Arc::new(self.closed_at.finish()),
            Arc::new(self.seller.finish()),
        ];
        self.selling.finish(&mut out);
        out.push(Arc::new(self.selling_amount.finish()));
        out.push(Arc::new(self.buyer.finish()));
        self.buying.finish(&mut out);
        out.extend([
            Arc::new(self.buying_amount.finish()) as ArrayRef,
            Arc::new(self.price_n.finish()),
            Arc::new(self.price_d.finish()),
            Arc::new(self.selling_offer_id.finish()),
            Arc::new(self.buying_offer_id.finish()),
            Arc::new(self.pool_hex.finish()),
            Arc::new(self.pool_fee.finish()),
            Arc::new(self.history_operation_id.finish()),
            Arc::new(self.trade_type.finish()),
            Arc::new(self.slippage.finish()),
            Arc::new(self.seller_is_exact.finish()),
            Arc::new(self.pool_strkey.finish()),
            Arc::new(self.ledger_sequence.finish()),
        ]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_payout_matches_the_reference() {
        // Values from beam_pipeline.records.trades.pool_payout.
        assert_eq!(pool_payout(1_000_000, 2_000_000, 1000, 30), (0, true));
        assert_eq!(pool_payout(1000, 3000, 7, 30), (3, true));
        assert_eq!(pool_payout(10, 10, 3, 30), (13, true));
        assert_eq!(pool_payout(5, -7, 3, 30), (-15, false));
        assert_eq!(
            pool_payout(
                -1_000_000_000_000_000_000,
                1_000_000_000_000_000_000,
                1_000_000_000_000_000_000,
                30
            ),
            (-1, false)
        );
        assert_eq!(pool_payout(0, 0, 0, 30), (0, false));
        assert_eq!(pool_payout(i64::MAX, 5, 1, 30), (0, false));
    }
}
