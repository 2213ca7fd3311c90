"""Details of payments: payment, path_payment_strict_receive and path_payment_strict_send.

Path payments report what actually moved only for successful transactions (read from the
operation result); for failed ones stellar-etl leaves the ``"0.0000000"`` string placeholder,
so the same key holds a string or a number depending on success. That quirk is kept.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.operations._common import (
    Details,
    OpContext,
    add_account,
    add_asset,
    amount_string,
    path_assets,
    stroops_to_real,
)
from beam_pipeline.util.assets import extract_asset

_OT = xdr.OperationType
_CA = xdr.ClaimAtomType


def payment(ctx: OpContext) -> Details:
    op = ctx.op.body.payment_op
    details: Details = {}
    add_account(details, ctx.source, "from")
    add_account(details, op.destination, "to")
    details["amount"] = stroops_to_real(op.amount.int64)
    add_asset(details, op.asset)
    return details


def _claim_atom_bought(atom: xdr.ClaimAtom) -> tuple[xdr.Asset, int]:
    if atom.type == _CA.CLAIM_ATOM_TYPE_V0:
        inner = atom.v0
    elif atom.type == _CA.CLAIM_ATOM_TYPE_ORDER_BOOK:
        inner = atom.order_book
    elif atom.type == _CA.CLAIM_ATOM_TYPE_LIQUIDITY_POOL:
        inner = atom.liquidity_pool
    else:
        raise ValueError(f"unknown claim atom type {atom.type}")
    return inner.asset_bought, inner.amount_bought.int64


def _successful_tr(ctx: OpContext) -> xdr.OperationResultTr:
    result = ctx.result
    if result is None or result.tr is None:
        raise ctx.error("successful transaction without an operation result body")
    return result.tr


def strict_receive_send_amount(result: xdr.PathPaymentStrictReceiveResult) -> int:
    """What the sender spent: the leading run of offers buying the same asset, else the last hop."""
    success = result.success
    if success is None:
        return 0
    if not success.offers:
        return success.last.amount.int64
    first_asset = extract_asset(_claim_atom_bought(success.offers[0])[0])
    total = 0
    for atom in success.offers:
        asset, amount = _claim_atom_bought(atom)
        if extract_asset(asset) != first_asset:
            break
        total += amount
    return total


def path_payment_strict_receive(ctx: OpContext) -> Details:
    op = ctx.op.body.path_payment_strict_receive_op
    details: Details = {}
    add_account(details, ctx.source, "from")
    add_account(details, op.destination, "to")
    details["amount"] = stroops_to_real(op.dest_amount.int64)
    details["source_amount"] = amount_string(0)
    details["source_max"] = stroops_to_real(op.send_max.int64)
    add_asset(details, op.dest_asset)
    add_asset(details, op.send_asset, "source")
    if ctx.tx.successful:
        result = _successful_tr(ctx).path_payment_strict_receive_result
        if result is None:
            raise ctx.error("result is not a path_payment_strict_receive result")
        details["source_amount"] = stroops_to_real(strict_receive_send_amount(result))
    details["path"] = path_assets(op.path)
    return details


def path_payment_strict_send(ctx: OpContext) -> Details:
    op = ctx.op.body.path_payment_strict_send_op
    details: Details = {}
    add_account(details, ctx.source, "from")
    add_account(details, op.destination, "to")
    details["amount"] = amount_string(0)
    details["source_amount"] = stroops_to_real(op.send_amount.int64)
    details["destination_min"] = amount_string(op.dest_min.int64)
    add_asset(details, op.dest_asset)
    add_asset(details, op.send_asset, "source")
    if ctx.tx.successful:
        result = _successful_tr(ctx).path_payment_strict_send_result
        if result is None:
            raise ctx.error("result is not a path_payment_strict_send result")
        dest_amount = result.success.last.amount.int64 if result.success is not None else 0
        details["amount"] = stroops_to_real(dest_amount)
    details["path"] = path_assets(op.path)
    return details


DETAILS = {
    _OT.PAYMENT: payment,
    _OT.PATH_PAYMENT_STRICT_RECEIVE: path_payment_strict_receive,
    _OT.PATH_PAYMENT_STRICT_SEND: path_payment_strict_send,
}
