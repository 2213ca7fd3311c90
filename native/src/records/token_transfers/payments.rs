//! Movements of the payment family, derived from the operation and its result
//! (reference: `beam_pipeline/records/token_transfers/payments.py`).

use stellar_xdr::curr::{
    AccountMergeResult, Asset, ClaimAtom, InflationResult, ManageBuyOfferResult, ManageOfferSuccessResult,
    ManageSellOfferResult, MuxedAccount, Operation, OperationBody, OperationResult, OperationResultTr,
    PathPaymentStrictReceiveResult, PathPaymentStrictSendResult,
};

use super::event::{mint_burn_or_transfer, Addr, Kind, TokenEvent, TtError, TtResult, TxContext};

/// The error the reference meets where a result lacks the arm it reads (`None.<attribute>`).
pub fn missing(attribute: &str) -> TtError {
    TtError::Other(
        "AttributeError",
        format!("'NoneType' object has no attribute '{attribute}'"),
    )
}

/// The operation-specific result, or the reference's error when the operation did not run (no `tr`).
pub fn tr<'a>(result: &'a OperationResult, arm: &str) -> TtResult<&'a OperationResultTr> {
    match result {
        OperationResult::OpInner(tr) => Ok(tr),
        _ => Err(missing(arm)),
    }
}

/// One operation's movements from the operation and its result; None for operations of other kinds.
pub fn from_result(
    ctx: &TxContext<'_, '_>,
    n: u32,
    op: &Operation,
    result: &OperationResult,
) -> Option<TtResult<Vec<TokenEvent>>> {
    Some(match &op.body {
        OperationBody::CreateAccount(body) => {
            let dest = Addr::of_account_id(&body.destination);
            let source = ctx.op_source(op);
            Ok(vec![mint_burn_or_transfer(
                ctx,
                n,
                &Asset::Native,
                source,
                dest,
                body.starting_balance as i128,
                true,
            )])
        }
        OperationBody::AccountMerge(dest) => account_merge(ctx, n, op, dest, result),
        OperationBody::Payment(body) => Ok(vec![mint_burn_or_transfer(
            ctx,
            n,
            &body.asset,
            ctx.op_source(op),
            Addr::of_muxed(&body.destination),
            body.amount as i128,
            true,
        )]),
        OperationBody::Inflation => inflation(ctx, n, result),
        OperationBody::ManageBuyOffer(_)
        | OperationBody::ManageSellOffer(_)
        | OperationBody::CreatePassiveSellOffer(_) => manage_offer(ctx, n, op, result),
        OperationBody::PathPaymentStrictSend(body) => match tr(result, "path_payment_strict_send_result") {
            Ok(OperationResultTr::PathPaymentStrictSend(PathPaymentStrictSendResult::Success(s))) => {
                // Strict send: what arrived is the last hop's amount.
                Ok(path_payment(
                    ctx,
                    n,
                    op,
                    &s.offers,
                    &body.dest_asset,
                    &body.destination,
                    s.last.amount,
                ))
            }
            Ok(OperationResultTr::PathPaymentStrictSend(_)) => Err(missing("offers")),
            Ok(_) => Err(missing("success")),
            Err(e) => Err(e),
        },
        OperationBody::PathPaymentStrictReceive(body) => match tr(result, "path_payment_strict_receive_result") {
            Ok(OperationResultTr::PathPaymentStrictReceive(PathPaymentStrictReceiveResult::Success(s))) => {
                // Strict receive: what arrived is the amount the operation asked for.
                Ok(path_payment(
                    ctx,
                    n,
                    op,
                    &s.offers,
                    &body.dest_asset,
                    &body.destination,
                    body.dest_amount,
                ))
            }
            Ok(OperationResultTr::PathPaymentStrictReceive(_)) => Err(missing("offers")),
            Ok(_) => Err(missing("success")),
            Err(e) => Err(e),
        },
        _ => return None,
    })
}

/// The fills of a path payment, then the payment of `amount` of `dest_asset` to the destination.
fn path_payment(
    ctx: &TxContext<'_, '_>,
    n: u32,
    op: &Operation,
    offers: &[ClaimAtom],
    dest_asset: &Asset,
    destination: &MuxedAccount,
    amount: i64,
) -> Vec<TokenEvent> {
    let mut out = claim_events(ctx, n, op, offers);
    out.push(mint_burn_or_transfer(
        ctx,
        n,
        dest_asset,
        ctx.op_source(op),
        Addr::of_muxed(destination),
        amount as i128,
        true,
    ));
    out
}

fn account_merge(
    ctx: &TxContext<'_, '_>,
    n: u32,
    op: &Operation,
    dest: &MuxedAccount,
    result: &OperationResult,
) -> TtResult<Vec<TokenEvent>> {
    let balance = match tr(result, "account_merge_result")? {
        OperationResultTr::AccountMerge(AccountMergeResult::Success(b)) => *b,
        OperationResultTr::AccountMerge(_) => return Ok(Vec::new()),
        _ => return Err(missing("source_account_balance")),
    };
    Ok(vec![mint_burn_or_transfer(
        ctx,
        n,
        &Asset::Native,
        ctx.op_source(op),
        Addr::of_muxed(dest),
        balance as i128,
        true,
    )])
}

fn inflation(ctx: &TxContext<'_, '_>, n: u32, result: &OperationResult) -> TtResult<Vec<TokenEvent>> {
    let payouts = match tr(result, "inflation_result")? {
        OperationResultTr::Inflation(InflationResult::Success(p)) => p.as_slice(),
        OperationResultTr::Inflation(_) => &[],
        _ => return Err(missing("payouts")),
    };
    let contract = ctx.sac_id(&Asset::Native);
    Ok(payouts
        .iter()
        .map(|p| TokenEvent {
            kind: Kind::Mint,
            sender: None,
            receiver: Some(Addr::of_account_id(&p.destination)),
            amount: p.amount as i128,
            asset: Some(Asset::Native),
            contract_id: contract.clone(),
            op_index: Some(n),
            to_muxed: None,
        })
        .collect())
}

/// (seller, asset sold, amount sold, asset bought, amount bought) of one fill.
fn claim_parts(claim: &ClaimAtom) -> (Addr, &Asset, i64, &Asset, i64) {
    match claim {
        ClaimAtom::V0(c) => (
            Addr::Account(c.seller_ed25519.0),
            &c.asset_sold,
            c.amount_sold,
            &c.asset_bought,
            c.amount_bought,
        ),
        ClaimAtom::OrderBook(c) => (
            Addr::of_account_id(&c.seller_id),
            &c.asset_sold,
            c.amount_sold,
            &c.asset_bought,
            c.amount_bought,
        ),
        ClaimAtom::LiquidityPool(c) => (
            Addr::Pool(c.liquidity_pool_id.0 .0),
            &c.asset_sold,
            c.amount_sold,
            &c.asset_bought,
            c.amount_bought,
        ),
    }
}

/// Two movements per fill; the taker is the operation source as a plain `G...` (no muxed information).
fn claim_events(ctx: &TxContext<'_, '_>, n: u32, op: &Operation, claims: &[ClaimAtom]) -> Vec<TokenEvent> {
    let taker = ctx.op_source(op).base();
    let mut out = Vec::with_capacity(claims.len() * 2);
    for claim in claims {
        let (seller, sold, amount_sold, bought, amount_bought) = claim_parts(claim);
        out.push(mint_burn_or_transfer(
            ctx,
            n,
            sold,
            seller.clone(),
            taker.clone(),
            amount_sold as i128,
            false,
        ));
        out.push(mint_burn_or_transfer(
            ctx,
            n,
            bought,
            taker.clone(),
            seller,
            amount_bought as i128,
            false,
        ));
    }
    out
}

fn manage_offer(
    ctx: &TxContext<'_, '_>,
    n: u32,
    op: &Operation,
    result: &OperationResult,
) -> TtResult<Vec<TokenEvent>> {
    // The result's own type decides which arm is read, as in the reference.
    let success: &ManageOfferSuccessResult = match tr(result, "manage_sell_offer_result")? {
        OperationResultTr::ManageBuyOffer(ManageBuyOfferResult::Success(s)) => s,
        OperationResultTr::CreatePassiveSellOffer(ManageSellOfferResult::Success(s)) => s,
        OperationResultTr::ManageSellOffer(ManageSellOfferResult::Success(s)) => s,
        _ => return Err(missing("offers_claimed")),
    };
    Ok(claim_events(ctx, n, op, success.offers_claimed.as_slice()))
}
