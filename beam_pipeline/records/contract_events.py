"""The ``contract_events`` table: every contract, system and diagnostic event, as stellar-etl exports it.

stellar-etl (``internal/transform/contract_events.go``) calls all of these "contract events". Which
events a transaction yields, and in which order, follows the Go SDK's ``GetTransactionEvents``:

* TransactionMeta V0, V1, V2 (before Soroban): none.
* V3 (protocols 20-22): only for Soroban transactions (those whose envelope carries
  ``SorobanTransactionData``), from ``sorobanMeta``: first its ``events``, attributed to operation 1,
  then its ``diagnosticEvents``. Nodes that record diagnostics also repeat the contract events among
  the diagnostic ones; stellar-etl emits both copies and so do we.
* V4 (protocol 23+, CAP-67 unified events): first the transaction-level ``events`` (fee events; their
  stage is dropped), then each operation's ``events`` in operation order, then ``diagnosticEvents``.

Every event is written as a ``DiagnosticEvent``: diagnostic events as they are, contract and
transaction events wrapped with ``inSuccessfulContractCall = true`` (stellar-etl's choice), so
``contract_event_xdr`` is always a base64 DiagnosticEvent. ``operation_id`` is the TOID of the
operation for operation events and null for transaction-level and diagnostic events.

All per-event columns come from `event_fields`, which takes one DiagnosticEvent; that is what lets the
tests check them against stellar-etl's golden rows, for which no ledgers exist here.

Representation (the values are stellar-etl's; only the storage types are ours):

* ``topics`` / ``data`` are raw ScVal XDR (binary columns the sink base64-encodes, giving
  stellar-etl's strings); ``contract_event_xdr`` likewise.
* ``topics_decoded`` / ``data_decoded`` are JSON text in the exact rendering of `beam_pipeline.util.scval`
  (stellar-etl's xdr2json form), written as Go writes it: compact, keys sorted, HTML-escaped. In
  stellar-etl's JSON output these are nested JSON values, not strings; parse the column to compare.
  ``data_decoded`` of a void value is therefore the text ``"void"`` (with the quotes).
* stellar-etl writes ``"n/a"`` for a ScVal whose arm its Go XDR package does not know; such a value
  cannot be decoded from XDR here in the first place, so that case raises instead.
* A transaction with TransactionMeta V0 (very old ledgers) makes stellar-etl log a transform error and
  emit nothing for it; we emit nothing as well, without an error, since such a transaction has no
  events by construction.
"""

from __future__ import annotations

from datetime import datetime

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.util.scval import json_text, scval_to_json
from beam_pipeline.util.strkey import contract_strkey
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView, TxView

# The Go XDR package's names for ContractEventType, which stellar-etl writes to type_string.
_TYPE_STRINGS = {
    xdr.ContractEventType.SYSTEM: "ContractEventTypeSystem",
    xdr.ContractEventType.CONTRACT: "ContractEventTypeContract",
    xdr.ContractEventType.DIAGNOSTIC: "ContractEventTypeDiagnostic",
}


class ContractEventError(ValueError):
    """An event (or the meta holding it) that cannot be turned into a row."""


def event_fields(diagnostic_event: xdr.DiagnosticEvent) -> Row:
    """The columns that depend only on the event itself, from stellar-etl's DiagnosticEvent form.

    Raises:
        ContractEventError: for an event body version other than 0.
        beam_pipeline.util.scval.ScValError: for a value stellar-etl cannot render.
    """
    event = diagnostic_event.event
    if event.body.v != 0:
        raise ContractEventError(f"unsupported contract event body version {event.body.v}")
    body = event.body.v0
    type_string = _TYPE_STRINGS.get(event.type)
    if type_string is None:
        raise ContractEventError(f"unknown contract event type {event.type.name}")
    contract_id = "" if event.contract_id is None else contract_strkey(event.contract_id.contract_id.hash)
    return {
        "in_successful_contract_call": diagnostic_event.in_successful_contract_call,
        "contract_id": contract_id,
        "type": event.type.value,
        "type_string": type_string,
        "topics": [xdr_bytes(t) for t in body.topics],
        "topics_decoded": json_text([scval_to_json(t) for t in body.topics]),
        "data": xdr_bytes(body.data),
        "data_decoded": json_text(scval_to_json(body.data)),
        "contract_event_xdr": xdr_bytes(diagnostic_event),
    }


def _is_soroban(tx: TxView) -> bool:
    """Whether the envelope (the inner one of a fee bump) carries Soroban transaction data."""
    env = tx.envelope
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        return env.v1.tx.ext.v == 1
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        return env.fee_bump.tx.inner_tx.v1.tx.ext.v == 1
    return False


def _wrap(event: xdr.ContractEvent) -> xdr.DiagnosticEvent:
    return xdr.DiagnosticEvent(in_successful_contract_call=True, event=event)


def transaction_events(tx: TxView) -> list[tuple[xdr.DiagnosticEvent, int | None]]:
    """The events stellar-etl exports for one transaction, in its order, with their 1-based operation index.

    The index is None for transaction-level and diagnostic events (they get no operation_id).
    """
    meta = tx.meta
    out: list[tuple[xdr.DiagnosticEvent, int | None]] = []
    if meta.v in (0, 1, 2):
        return out
    if meta.v == 3:
        soroban_meta = meta.v3.soroban_meta
        if not _is_soroban(tx) or soroban_meta is None:
            return out
        out.extend((_wrap(e), 1) for e in soroban_meta.events)
        out.extend((d, None) for d in soroban_meta.diagnostic_events)
        return out
    if meta.v == 4:
        v4 = meta.v4
        out.extend((_wrap(te.event), None) for te in v4.events)
        for i, op_meta in enumerate(v4.operations, start=1):
            out.extend((_wrap(e), i) for e in op_meta.events)
        out.extend((d, None) for d in v4.diagnostic_events)
        return out
    raise ContractEventError(f"unsupported TransactionMeta version {meta.v}")


def _transaction_rows(tx: TxView, sequence: int, closed_at: datetime) -> list[Row]:
    base = {
        "transaction_hash": tx.hash_hex,
        "transaction_id": toid(sequence, tx.index),
        "successful": tx.successful,
        "ledger_sequence": sequence,
        "closed_at": closed_at,
    }
    rows = []
    for diagnostic_event, op_index in transaction_events(tx):
        row = dict(base)
        row.update(event_fields(diagnostic_event))
        row["operation_id"] = None if op_index is None else toid(sequence, tx.index, op_index)
        rows.append(row)
    return rows


def transform(ledger: LedgerView) -> list[Row]:
    """All event rows of one ledger, transactions in application order.

    Raises:
        ContractEventError: naming the ledger and transaction of an event that cannot be exported.
    """
    sequence = ledger.sequence
    closed_at = ledger.closed_at
    rows: list[Row] = []
    for tx in ledger.transactions:
        try:
            rows.extend(_transaction_rows(tx, sequence, closed_at))
        except ValueError as err:
            raise ContractEventError(
                f"ledger {sequence}: transaction {tx.hash_hex} (order {tx.index}): contract events: {err}"
            ) from err
    return rows
