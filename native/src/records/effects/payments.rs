//! Effects of payments: payment, the two path payments and clawback
//! (reference: `beam_pipeline/records/effects/payments.py`).

use stellar_xdr::curr::{
    Asset, ClawbackOp, OperationResultTr, PathPaymentStrictReceiveOp, PathPaymentStrictReceiveResult,
    PathPaymentStrictSendOp, PathPaymentStrictSendResult, PaymentOp,
};

use super::common::{add_asset, amount, obj, read_claim, Fx, Res, E, PLAIN};
use super::trades::add_fills;
use crate::records::operations::payments::strict_receive_send_amount;
use crate::util::pyjson::Details;

fn amount_details(value: i128, asset: &Asset) -> Details {
    let mut details = obj([("amount", amount(value).into())]);
    add_asset(&mut details, asset, &PLAIN);
    details
}

pub fn payment(fx: &mut Fx<'_, '_>, op: &PaymentOp) -> Res<()> {
    let details = amount_details(op.amount as i128, &op.asset);
    fx.add_muxed(&op.destination, E::AccountCredited, details.clone());
    fx.add_source(E::AccountDebited, details);
    Ok(())
}

pub fn path_payment_strict_receive(fx: &mut Fx<'_, '_>, op: &PathPaymentStrictReceiveOp) -> Res<()> {
    let result = match fx.tr()? {
        OperationResultTr::PathPaymentStrictReceive(r @ PathPaymentStrictReceiveResult::Success(s)) => (r, s),
        _ => {
            return Err(fx
                .ctx
                .error("successful path_payment_strict_receive without a success result".to_string()))
        }
    };
    let (result, success) = result;
    fx.add_muxed(
        &op.destination,
        E::AccountCredited,
        amount_details(op.dest_amount as i128, &op.dest_asset),
    );
    fx.add_source(
        E::AccountDebited,
        amount_details(strict_receive_send_amount(result), &op.send_asset),
    );
    let claims: Vec<_> = success.offers.iter().map(read_claim).collect();
    let source = fx.source.clone();
    add_fills(fx, &source, &claims, false)
}

pub fn path_payment_strict_send(fx: &mut Fx<'_, '_>, op: &PathPaymentStrictSendOp) -> Res<()> {
    let success = match fx.tr()? {
        OperationResultTr::PathPaymentStrictSend(PathPaymentStrictSendResult::Success(s)) => s,
        _ => {
            return Err(fx
                .ctx
                .error("successful path_payment_strict_send without a success result".to_string()))
        }
    };
    fx.add_muxed(
        &op.destination,
        E::AccountCredited,
        amount_details(success.last.amount as i128, &op.dest_asset),
    );
    fx.add_source(
        E::AccountDebited,
        amount_details(op.send_amount as i128, &op.send_asset),
    );
    let claims: Vec<_> = success.offers.iter().map(read_claim).collect();
    let source = fx.source.clone();
    add_fills(fx, &source, &claims, true)
}

pub fn clawback(fx: &mut Fx<'_, '_>, op: &ClawbackOp) -> Res<()> {
    let details = amount_details(op.amount as i128, &op.asset);
    fx.add_source(E::AccountCredited, details.clone());
    fx.add_muxed(&op.from, E::AccountDebited, details);
    Ok(())
}
