"""The ``operations`` table: one row per operation, as stellar-etl's TransformOperation.

Field names, order and values follow stellar-etl's ``OperationOutput`` (Hubble's
``history_operations``). ``details`` is the per-type map stellar-etl builds, stored as JSON text
(Go's ``encoding/json`` form: compact, keys sorted). stellar-etl's JSON export writes that same map
twice, as ``details`` and ``details_json`` (Hubble loads the first as a RECORD and the second as a
JSON column); both are kept so a row carries every field of the export, each holding the same text.

The per-type details live in one module per operation family; this module only assembles rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.records.operations import (
    accounts,
    claimable,
    liquidity_pools,
    offers,
    payments,
    soroban,
    sponsorship,
    trust,
)
from beam_pipeline.records.operations._common import (
    Details,
    OpContext,
    OperationError,
    amount_string,
    go_enum_name,
)
from beam_pipeline.records.operations.changes import find_sponsor
from beam_pipeline.util.accounts import account_address, muxed_address, signer_key_address
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.ledger import LedgerView, TxView

__all__ = [
    "OpContext",
    "OperationError",
    "amount_string",
    "details_text",
    "operation_details",
    "transform",
]

DetailsBuilder = Callable[[OpContext], Details]

DETAILS: dict[xdr.OperationType, DetailsBuilder] = {
    **accounts.DETAILS,
    **payments.DETAILS,
    **offers.DETAILS,
    **trust.DETAILS,
    **claimable.DETAILS,
    **sponsorship.DETAILS,
    **liquidity_pools.DETAILS,
    **soroban.DETAILS,
}

# The result-union arm of each operation type is named after it, except bump_sequence's.
_RESULT_ARMS = {xdr.OperationType.BUMP_SEQUENCE: "bump_seq_result"}


def type_string(op_type: xdr.OperationType) -> str:
    """stellar-etl's ``type_string``: the XDR name in lower case (``manage_buy_offer``)."""
    return op_type.name.lower()


def result_codes(ctx: OpContext) -> tuple[str, str]:
    """(operation_result_code, operation_trace_code) as Go enum names; "" where there is no result.

    A transaction that failed before applying operations has no per-operation results; one
    whose operation failed at the operation level (``opBAD_AUTH`` ...) has no trace code.
    """
    result = ctx.result
    if result is None:
        return "", ""
    code = go_enum_name(result.code)
    tr = result.tr
    if tr is None:
        return code, ""
    arm = _RESULT_ARMS.get(tr.type, f"{tr.type.name.lower()}_result")
    inner = getattr(tr, arm, None)
    if inner is None:
        raise ctx.error(f"operation result of type {tr.type.name} has no {arm}")
    return code, go_enum_name(inner.code)


def operation_details(ctx: OpContext) -> Details:
    """The ``details`` map of one operation, including the ``sponsor`` of what it created."""
    op_type = ctx.op.body.type
    builder = DETAILS.get(op_type)
    if builder is None:
        raise ctx.error(f"unknown operation type {op_type}")
    try:
        details = builder(ctx)
        set_options = ctx.op.body.set_options_op
        signer = signer_key_address(set_options.signer.key) if set_options and set_options.signer else None
        sponsor = find_sponsor(ctx.changes, signer)
    except OperationError:
        raise
    except Exception as exc:  # any decoding surprise gets the ledger/tx/op it happened in
        raise ctx.error(f"{type_string(op_type)} details: {type(exc).__name__}: {exc}") from exc
    if sponsor is not None:
        details["sponsor"] = sponsor
    return details


def details_text(details: Details) -> str:
    """JSON text of a details map: compact, keys sorted, like Go's ``encoding/json`` of a map."""
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def operation_row(ledger: LedgerView, tx: TxView, index: int) -> Row:
    """The row of operation `index` (0-based) of applied transaction `tx`."""
    op = tx.operations[index]
    ctx = OpContext(ledger, tx, op, index)
    text = details_text(operation_details(ctx))
    result_code, trace_code = result_codes(ctx)
    return {
        "source_account": account_address(ctx.source),
        "source_account_muxed": muxed_address(ctx.source),
        "type": op.body.type.value,
        "type_string": type_string(op.body.type),
        "details": text,
        "transaction_id": toid(ledger.sequence, tx.index, 0),
        "id": toid(ledger.sequence, tx.index, index + 1),
        "closed_at": ledger.closed_at,
        "operation_result_code": result_code,
        "operation_trace_code": trace_code,
        "ledger_sequence": ledger.sequence,
        "details_json": text,
    }


def transform(ledger: LedgerView) -> list[Row]:
    """Every operation of every applied transaction (failed ones included), in application order."""
    return [operation_row(ledger, tx, index) for tx in ledger.transactions for index in range(len(tx.operations))]
