"""Effects of payments: payment, the two path payments and clawback.

Credits come before debits. A path payment's amounts come from its result (what really moved),
followed by the effects of its fills (see `trades`). A clawback credits the issuer although the
funds are burned, as stellar-etl does.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.effects._common import Details, Effects, add_asset, amount, read_claim
from beam_pipeline.records.effects._common import EffectType as E
from beam_pipeline.records.effects.trades import add_fills
from beam_pipeline.records.operations.payments import strict_receive_send_amount

_OT = xdr.OperationType


def _amount_details(value: int, asset: xdr.Asset) -> Details:
    details: Details = {"amount": amount(value)}
    add_asset(details, asset)
    return details


def payment(fx: Effects) -> None:
    op = fx.ctx.op.body.payment_op
    details = _amount_details(op.amount.int64, op.asset)
    fx.add_muxed(op.destination, E.ACCOUNT_CREDITED, details)
    fx.add_source(E.ACCOUNT_DEBITED, details)


def path_payment_strict_receive(fx: Effects) -> None:
    op = fx.ctx.op.body.path_payment_strict_receive_op
    result = fx.tr().path_payment_strict_receive_result
    if result is None or result.success is None:
        raise fx.ctx.error("successful path_payment_strict_receive without a success result")
    fx.add_muxed(op.destination, E.ACCOUNT_CREDITED, _amount_details(op.dest_amount.int64, op.dest_asset))
    fx.add_source(E.ACCOUNT_DEBITED, _amount_details(strict_receive_send_amount(result), op.send_asset))
    add_fills(fx, fx.ctx.source, [read_claim(a) for a in result.success.offers], strict_send=False)


def path_payment_strict_send(fx: Effects) -> None:
    op = fx.ctx.op.body.path_payment_strict_send_op
    result = fx.tr().path_payment_strict_send_result
    if result is None or result.success is None:
        raise fx.ctx.error("successful path_payment_strict_send without a success result")
    fx.add_muxed(op.destination, E.ACCOUNT_CREDITED, _amount_details(result.success.last.amount.int64, op.dest_asset))
    fx.add_source(E.ACCOUNT_DEBITED, _amount_details(op.send_amount.int64, op.send_asset))
    add_fills(fx, fx.ctx.source, [read_claim(a) for a in result.success.offers], strict_send=True)


def clawback(fx: Effects) -> None:
    op = fx.ctx.op.body.clawback_op
    details = _amount_details(op.amount.int64, op.asset)
    fx.add_source(E.ACCOUNT_CREDITED, details)
    fx.add_muxed(op.from_, E.ACCOUNT_DEBITED, details)


EFFECTS = {
    _OT.PAYMENT: payment,
    _OT.PATH_PAYMENT_STRICT_RECEIVE: path_payment_strict_receive,
    _OT.PATH_PAYMENT_STRICT_SEND: path_payment_strict_send,
    _OT.CLAWBACK: clawback,
}
