//! The `operations` table: one row per operation, as stellar-etl's TransformOperation (reference:
//! `beam_pipeline/records/operations/__init__.py`; one module per operation family, as there).
//!
//! `details` is the per-type map stellar-etl builds, written as the reference's `json.dumps` writes it
//! (`util::pyjson`); `details_json` holds the same text.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{OperationBody, OperationResult, OperationResultTr};

use super::{toid, Options, RowError, TableBuilder};
use crate::ints::Int64Column;
use crate::ledger::{network_id, Tx, View};
use crate::strkey;
use crate::util::goformat::go_enum_name;
use crate::util::pyjson::Details;

pub mod accounts;
pub mod changes;
pub mod claimable;
pub mod common;
pub mod liquidity_pools;
pub mod offers;
pub mod payments;
pub mod scval_text;
pub mod soroban;
pub mod sponsorship;
pub mod trust;

use common::{Fail, OpContext, Res};

const ERR: &str = "OperationError";

/// stellar-etl's `type_string`: the XDR name in lower case (`manage_buy_offer`).
pub fn type_string(body: &OperationBody) -> &'static str {
    match body {
        OperationBody::CreateAccount(_) => "create_account",
        OperationBody::Payment(_) => "payment",
        OperationBody::PathPaymentStrictReceive(_) => "path_payment_strict_receive",
        OperationBody::ManageSellOffer(_) => "manage_sell_offer",
        OperationBody::CreatePassiveSellOffer(_) => "create_passive_sell_offer",
        OperationBody::SetOptions(_) => "set_options",
        OperationBody::ChangeTrust(_) => "change_trust",
        OperationBody::AllowTrust(_) => "allow_trust",
        OperationBody::AccountMerge(_) => "account_merge",
        OperationBody::Inflation => "inflation",
        OperationBody::ManageData(_) => "manage_data",
        OperationBody::BumpSequence(_) => "bump_sequence",
        OperationBody::ManageBuyOffer(_) => "manage_buy_offer",
        OperationBody::PathPaymentStrictSend(_) => "path_payment_strict_send",
        OperationBody::CreateClaimableBalance(_) => "create_claimable_balance",
        OperationBody::ClaimClaimableBalance(_) => "claim_claimable_balance",
        OperationBody::BeginSponsoringFutureReserves(_) => "begin_sponsoring_future_reserves",
        OperationBody::EndSponsoringFutureReserves => "end_sponsoring_future_reserves",
        OperationBody::RevokeSponsorship(_) => "revoke_sponsorship",
        OperationBody::Clawback(_) => "clawback",
        OperationBody::ClawbackClaimableBalance(_) => "clawback_claimable_balance",
        OperationBody::SetTrustLineFlags(_) => "set_trust_line_flags",
        OperationBody::LiquidityPoolDeposit(_) => "liquidity_pool_deposit",
        OperationBody::LiquidityPoolWithdraw(_) => "liquidity_pool_withdraw",
        OperationBody::InvokeHostFunction(_) => "invoke_host_function",
        OperationBody::ExtendFootprintTtl(_) => "extend_footprint_ttl",
        OperationBody::RestoreFootprint(_) => "restore_footprint",
    }
}

/// The Go enum name of an inner result's code: `<Op>ResultCode<Op><Member>`.
fn trace_code(tr: &OperationResultTr) -> String {
    let (type_name, prefix, member) = match tr {
        OperationResultTr::CreateAccount(r) => ("CreateAccountResultCode", "CreateAccount", r.discriminant().name()),
        OperationResultTr::Payment(r) => ("PaymentResultCode", "Payment", r.discriminant().name()),
        OperationResultTr::PathPaymentStrictReceive(r) => (
            "PathPaymentStrictReceiveResultCode",
            "PathPaymentStrictReceive",
            r.discriminant().name(),
        ),
        OperationResultTr::ManageSellOffer(r) | OperationResultTr::CreatePassiveSellOffer(r) => {
            ("ManageSellOfferResultCode", "ManageSellOffer", r.discriminant().name())
        }
        OperationResultTr::SetOptions(r) => ("SetOptionsResultCode", "SetOptions", r.discriminant().name()),
        OperationResultTr::ChangeTrust(r) => ("ChangeTrustResultCode", "ChangeTrust", r.discriminant().name()),
        OperationResultTr::AllowTrust(r) => ("AllowTrustResultCode", "AllowTrust", r.discriminant().name()),
        OperationResultTr::AccountMerge(r) => ("AccountMergeResultCode", "AccountMerge", r.discriminant().name()),
        OperationResultTr::Inflation(r) => ("InflationResultCode", "Inflation", r.discriminant().name()),
        OperationResultTr::ManageData(r) => ("ManageDataResultCode", "ManageData", r.discriminant().name()),
        OperationResultTr::BumpSequence(r) => ("BumpSequenceResultCode", "BumpSequence", r.discriminant().name()),
        OperationResultTr::ManageBuyOffer(r) => ("ManageBuyOfferResultCode", "ManageBuyOffer", r.discriminant().name()),
        OperationResultTr::PathPaymentStrictSend(r) => (
            "PathPaymentStrictSendResultCode",
            "PathPaymentStrictSend",
            r.discriminant().name(),
        ),
        OperationResultTr::CreateClaimableBalance(r) => (
            "CreateClaimableBalanceResultCode",
            "CreateClaimableBalance",
            r.discriminant().name(),
        ),
        OperationResultTr::ClaimClaimableBalance(r) => (
            "ClaimClaimableBalanceResultCode",
            "ClaimClaimableBalance",
            r.discriminant().name(),
        ),
        OperationResultTr::BeginSponsoringFutureReserves(r) => (
            "BeginSponsoringFutureReservesResultCode",
            "BeginSponsoringFutureReserves",
            r.discriminant().name(),
        ),
        OperationResultTr::EndSponsoringFutureReserves(r) => (
            "EndSponsoringFutureReservesResultCode",
            "EndSponsoringFutureReserves",
            r.discriminant().name(),
        ),
        OperationResultTr::RevokeSponsorship(r) => (
            "RevokeSponsorshipResultCode",
            "RevokeSponsorship",
            r.discriminant().name(),
        ),
        OperationResultTr::Clawback(r) => ("ClawbackResultCode", "Clawback", r.discriminant().name()),
        OperationResultTr::ClawbackClaimableBalance(r) => (
            "ClawbackClaimableBalanceResultCode",
            "ClawbackClaimableBalance",
            r.discriminant().name(),
        ),
        OperationResultTr::SetTrustLineFlags(r) => (
            "SetTrustLineFlagsResultCode",
            "SetTrustLineFlags",
            r.discriminant().name(),
        ),
        OperationResultTr::LiquidityPoolDeposit(r) => (
            "LiquidityPoolDepositResultCode",
            "LiquidityPoolDeposit",
            r.discriminant().name(),
        ),
        OperationResultTr::LiquidityPoolWithdraw(r) => (
            "LiquidityPoolWithdrawResultCode",
            "LiquidityPoolWithdraw",
            r.discriminant().name(),
        ),
        OperationResultTr::InvokeHostFunction(r) => (
            "InvokeHostFunctionResultCode",
            "InvokeHostFunction",
            r.discriminant().name(),
        ),
        OperationResultTr::ExtendFootprintTtl(r) => (
            "ExtendFootprintTtlResultCode",
            "ExtendFootprintTtl",
            r.discriminant().name(),
        ),
        OperationResultTr::RestoreFootprint(r) => (
            "RestoreFootprintResultCode",
            "RestoreFootprint",
            r.discriminant().name(),
        ),
    };
    go_enum_name(type_name, prefix, member)
}

/// (operation_result_code, operation_trace_code) as Go enum names; "" where there is no result.
pub fn result_codes(ctx: &OpContext<'_, '_>) -> Res<(String, String)> {
    let Some(result) = ctx.result()? else {
        return Ok((String::new(), String::new()));
    };
    let code = go_enum_name("OperationResultCode", "", result.discriminant().name());
    match result {
        OperationResult::OpInner(tr) => Ok((code, trace_code(tr))),
        _ => Ok((code, String::new())),
    }
}

fn builder_details(ctx: &OpContext<'_, '_>) -> Res<Details> {
    Ok(match &ctx.op.body {
        OperationBody::CreateAccount(op) => accounts::create_account(ctx, op),
        OperationBody::Payment(op) => payments::payment(ctx, op),
        OperationBody::PathPaymentStrictReceive(op) => payments::path_payment_strict_receive(ctx, op)?,
        OperationBody::ManageSellOffer(op) => offers::manage_sell_offer(op)?,
        OperationBody::CreatePassiveSellOffer(op) => offers::create_passive_sell_offer(op)?,
        OperationBody::SetOptions(op) => accounts::set_options(op),
        OperationBody::ChangeTrust(op) => trust::change_trust(ctx, op)?,
        OperationBody::AllowTrust(op) => trust::allow_trust(ctx, op),
        OperationBody::AccountMerge(dest) => accounts::account_merge(ctx, dest),
        OperationBody::Inflation => accounts::inflation(),
        OperationBody::ManageData(op) => accounts::manage_data(op),
        OperationBody::BumpSequence(op) => accounts::bump_sequence(op.bump_to.0),
        OperationBody::ManageBuyOffer(op) => offers::manage_buy_offer(op)?,
        OperationBody::PathPaymentStrictSend(op) => payments::path_payment_strict_send(ctx, op)?,
        OperationBody::CreateClaimableBalance(op) => claimable::create_claimable_balance(op)?,
        OperationBody::ClaimClaimableBalance(op) => claimable::claim_claimable_balance(ctx, &op.balance_id),
        OperationBody::BeginSponsoringFutureReserves(op) => {
            sponsorship::begin_sponsoring_future_reserves(&op.sponsored_id)
        }
        OperationBody::EndSponsoringFutureReserves => sponsorship::end_sponsoring_future_reserves(ctx),
        OperationBody::RevokeSponsorship(op) => sponsorship::revoke_sponsorship(op)?,
        OperationBody::Clawback(op) => trust::clawback(op),
        OperationBody::ClawbackClaimableBalance(op) => claimable::clawback_claimable_balance(&op.balance_id),
        OperationBody::SetTrustLineFlags(op) => trust::set_trust_line_flags(op),
        OperationBody::LiquidityPoolDeposit(op) => liquidity_pools::liquidity_pool_deposit(ctx, op)?,
        OperationBody::LiquidityPoolWithdraw(op) => liquidity_pools::liquidity_pool_withdraw(ctx, op)?,
        OperationBody::InvokeHostFunction(op) => soroban::invoke_host_function(ctx, &op.host_function)?,
        OperationBody::ExtendFootprintTtl(op) => soroban::extend_footprint_ttl(ctx, op.extend_to)?,
        OperationBody::RestoreFootprint(_) => soroban::restore_footprint(ctx)?,
    })
}

/// The `details` map of one operation, including the `sponsor` of what it created.
pub fn operation_details(ctx: &OpContext<'_, '_>) -> Res<Details> {
    let mut details = builder_details(ctx)?;
    let signer = match &ctx.op.body {
        OperationBody::SetOptions(op) => op.signer.as_ref().map(|s| strkey::signer(&s.key)),
        _ => None,
    };
    // Most operations create nothing sponsored: then the answer is None in any order, and the sort is skipped.
    let sponsor = if changes::may_have_sponsor(ctx.unsorted_changes()?, signer.as_deref()) {
        changes::find_sponsor(ctx.changes()?, signer.as_deref()).map_err(common::value_error)?
    } else {
        None
    };
    if let Some(sponsor) = sponsor {
        details.set("sponsor", sponsor);
    }
    Ok(details)
}

/// The reference's OperationError of a failed details builder or result code.
fn row_error(ctx: &OpContext<'_, '_>, fail: Fail) -> RowError {
    let message = match fail {
        Fail::Op(m) => m,
        Fail::Py(class, m) => format!("{} details: {class}: {m}", type_string(&ctx.op.body)),
    };
    RowError::new(ERR, format!("{}: {message}", ctx.where_()))
}

pub struct Row {
    seq: u32,
    closed_at_us: i64,
    source_account: String,
    source_account_muxed: Option<String>,
    type_: i32,
    type_string: &'static str,
    details: String,
    transaction_id: i64,
    id: i64,
    result_code: String,
    trace_code: String,
}

/// The error of the reference's `datetime.fromtimestamp(close_time, tz=utc)` (`LedgerView.closed_at`) for a
/// close time Python's datetime cannot hold, as CPython on glibc reports it.
pub(crate) fn closed_at_error(close_time: u64) -> Option<RowError> {
    const MAX_DATETIME: u64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    if close_time <= MAX_DATETIME {
        return None;
    }
    if close_time > i64::MAX as u64 {
        return Some(RowError::new(
            "OverflowError",
            "timestamp out of range for platform time_t".to_string(),
        ));
    }
    let (year, ..) = crate::util::goformat::go_utc_parts(close_time as i64);
    if year - 1900 > i32::MAX as i128 {
        // gmtime's tm_year overflows: the C library refuses.
        return Some(RowError::new(
            "OSError",
            "[Errno 75] Value too large for defined data type".to_string(),
        ));
    }
    // CPython adds 1900 to tm_year in a C int, which wraps.
    let reported = (year as i64 as i32) as i64;
    Some(RowError::new("ValueError", format!("year {reported} is out of range")))
}

fn operation_row(ctx: &OpContext<'_, '_>, seq: u32, closed_at_us: i64, tx: &Tx<'_>) -> Result<Row, RowError> {
    let details = operation_details(ctx).map_err(|f| row_error(ctx, f))?.to_json();
    let (result_code, trace_code) = result_codes(ctx).map_err(|f| row_error(ctx, f))?;
    let source = ctx.source();
    let value_error = |e: String| RowError::new("ValueError", e);
    let transaction_id = toid(seq, tx.index, 0).map_err(value_error)?;
    let id = toid(seq, tx.index, ctx.index as u32 + 1).map_err(value_error)?;
    if let Some(e) = closed_at_error(ctx.view.close_time()) {
        return Err(e);
    }
    Ok(Row {
        seq,
        closed_at_us,
        source_account: strkey::account(&source),
        source_account_muxed: strkey::muxed(&source),
        type_: ctx.op.body.discriminant() as i32,
        type_string: type_string(&ctx.op.body),
        details,
        transaction_id,
        id,
        result_code,
        trace_code,
    })
}

pub struct Operations {
    closed_at_us: Vec<i64>,
    ledger_sequence: Int64Column,
    source_account: StringBuilder,
    source_account_muxed: StringBuilder,
    type_: Int64Column,
    type_string: StringBuilder,
    details: StringBuilder,
    transaction_id: Int64Builder,
    id: Int64Builder,
    result_code: StringBuilder,
    trace_code: StringBuilder,
}

impl Operations {
    pub fn new(_opts: &Options) -> Self {
        Operations {
            closed_at_us: Vec::new(),
            ledger_sequence: Int64Column::new(),
            source_account: StringBuilder::new(),
            source_account_muxed: StringBuilder::new(),
            type_: Int64Column::new(),
            type_string: StringBuilder::new(),
            details: StringBuilder::new(),
            transaction_id: Int64Builder::new(),
            id: Int64Builder::new(),
            result_code: StringBuilder::new(),
            trace_code: StringBuilder::new(),
        }
    }
}

impl TableBuilder for Operations {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let seq = view.sequence();
        let closed_at_us = (view.close_time() as i64).wrapping_mul(1_000_000);
        let txs = view
            .transactions(&opts.passphrase)
            .map_err(|e| RowError::new("LedgerDecodeError", e))?;
        let net = network_id(&opts.passphrase);
        let mut rows = Vec::new();
        for tx in &txs {
            let n = common::tx_operations(tx.envelope).len();
            for index in 0..n {
                let Some(ctx) = OpContext::new(view, tx, index, &opts.passphrase, &net) else {
                    continue;
                };
                rows.push(operation_row(&ctx, seq, closed_at_us, tx)?);
            }
        }
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        {
            self.closed_at_us.push(r.closed_at_us);
            self.ledger_sequence.append_value(r.seq);
            self.source_account.append_value(&r.source_account);
            self.source_account_muxed
                .append_option(r.source_account_muxed.as_deref());
            self.type_.append_value(r.type_);
            self.type_string.append_value(r.type_string);
            self.details.append_value(&r.details);
            self.transaction_id.append_value(r.transaction_id);
            self.id.append_value(r.id);
            self.result_code.append_value(&r.result_code);
            self.trace_code.append_value(&r.trace_code);
        }
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let details: ArrayRef = Arc::new(self.details.finish());
        let closed_at = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        let mut closed_at = closed_at;
        closed_at.append_slice(&self.closed_at_us);
        vec![
            Arc::new(self.source_account.finish()),
            Arc::new(self.source_account_muxed.finish()),
            Arc::new(self.type_.finish()),
            Arc::new(self.type_string.finish()),
            details.clone(),
            Arc::new(self.transaction_id.finish()),
            Arc::new(self.id.finish()),
            Arc::new(closed_at.finish()),
            Arc::new(self.result_code.finish()),
            Arc::new(self.trace_code.finish()),
            Arc::new(self.ledger_sequence.finish()),
            details,
        ]
    }
}
