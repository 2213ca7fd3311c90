//! Details of payments: payment, path_payment_strict_receive and path_payment_strict_send (reference:
//! `payments.py`, which explains the string-or-number quirk of failed path payments).

use stellar_xdr::curr::{
    Asset, ClaimAtom, OperationResult, OperationResultTr, PathPaymentStrictReceiveOp, PathPaymentStrictReceiveResult,
    PathPaymentStrictSendOp, PathPaymentStrictSendResult, PaymentOp,
};

use super::common::{add_account, add_asset, amount_string, path_assets, stroops_to_real, OpContext, Res};
use crate::util::assets::extract_asset;
use crate::util::pyjson::Details;

pub fn payment(ctx: &OpContext<'_, '_>, op: &PaymentOp) -> Details {
    let mut d = Details::new();
    add_account(&mut d, &ctx.source(), "from");
    add_account(&mut d, &op.destination, "to");
    d.set("amount", stroops_to_real(op.amount as i128));
    add_asset(&mut d, &op.asset, "");
    d
}

fn claim_atom_bought(atom: &ClaimAtom) -> (&Asset, i64) {
    match atom {
        ClaimAtom::V0(a) => (&a.asset_bought, a.amount_bought),
        ClaimAtom::OrderBook(a) => (&a.asset_bought, a.amount_bought),
        ClaimAtom::LiquidityPool(a) => (&a.asset_bought, a.amount_bought),
    }
}

fn successful_tr<'a>(ctx: &OpContext<'a, '_>) -> Res<&'a OperationResultTr> {
    match ctx.result()? {
        Some(OperationResult::OpInner(tr)) => Ok(tr),
        _ => Err(ctx.error("successful transaction without an operation result body".to_string())),
    }
}

/// What the sender spent: the leading run of offers buying the same asset, else the last hop.
pub fn strict_receive_send_amount(result: &PathPaymentStrictReceiveResult) -> i128 {
    let PathPaymentStrictReceiveResult::Success(success) = result else {
        return 0;
    };
    let Some(first) = success.offers.first() else {
        return success.last.amount as i128;
    };
    let first_asset = extract_asset(claim_atom_bought(first).0);
    let mut total: i128 = 0;
    for atom in success.offers.iter() {
        let (asset, amount) = claim_atom_bought(atom);
        if extract_asset(asset) != first_asset {
            break;
        }
        total += amount as i128;
    }
    total
}

pub fn path_payment_strict_receive(ctx: &OpContext<'_, '_>, op: &PathPaymentStrictReceiveOp) -> Res<Details> {
    let mut d = Details::new();
    add_account(&mut d, &ctx.source(), "from");
    add_account(&mut d, &op.destination, "to");
    d.set("amount", stroops_to_real(op.dest_amount as i128));
    d.set("source_amount", amount_string(0));
    d.set("source_max", stroops_to_real(op.send_max as i128));
    add_asset(&mut d, &op.dest_asset, "");
    add_asset(&mut d, &op.send_asset, "source");
    if ctx.successful() {
        let OperationResultTr::PathPaymentStrictReceive(result) = successful_tr(ctx)? else {
            return Err(ctx.error("result is not a path_payment_strict_receive result".to_string()));
        };
        d.set("source_amount", stroops_to_real(strict_receive_send_amount(result)));
    }
    d.set("path", path_assets(op.path.as_slice()));
    Ok(d)
}

pub fn path_payment_strict_send(ctx: &OpContext<'_, '_>, op: &PathPaymentStrictSendOp) -> Res<Details> {
    let mut d = Details::new();
    add_account(&mut d, &ctx.source(), "from");
    add_account(&mut d, &op.destination, "to");
    d.set("amount", amount_string(0));
    d.set("source_amount", stroops_to_real(op.send_amount as i128));
    d.set("destination_min", amount_string(op.dest_min as i128));
    add_asset(&mut d, &op.dest_asset, "");
    add_asset(&mut d, &op.send_asset, "source");
    if ctx.successful() {
        let OperationResultTr::PathPaymentStrictSend(result) = successful_tr(ctx)? else {
            return Err(ctx.error("result is not a path_payment_strict_send result".to_string()));
        };
        let dest_amount = match result {
            PathPaymentStrictSendResult::Success(s) => s.last.amount,
            _ => 0,
        };
        d.set("amount", stroops_to_real(dest_amount as i128));
    }
    d.set("path", path_assets(op.path.as_slice()));
    Ok(d)
}
