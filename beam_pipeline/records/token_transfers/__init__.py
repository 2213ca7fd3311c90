"""The ``token_transfers`` table: every movement of value, classic and Soroban, fees included (CAP-67).

stellar-etl's ``export_token_transfers`` (``internal/transform/token_transfer.go``) runs the Go SDK's
token transfer processor and writes one row per event. Where the events come from, per
transaction, is explained in `transaction`; the modules beside it hold the fee events (`fees`),
the payment family (`payments`), claimable balances, pools and clawbacks (`balances`), contract
token events (`contract`) and the pre-protocol-8 XLM reconciliation (`reconcile`).

Order within a ledger is the reference's: every transaction's fee charge first (application
order), then each transaction's operation events; a Soroban refund follows its transaction's
operation events before protocol 23 and comes after all operation events of the ledger from
protocol 23 on.

Column values are stellar-etl's, quirks included:

* ``amount`` is the float64 ``amount_raw * 0.0000001`` (so 100 stroops is 9.999999999999999e-06).
* ``asset`` is ``native`` or ``<asset_type>:<code>:<issuer>``, and ``asset_type`` is
  ``credit_alphanum12`` only for codes longer than 4 characters; a token that is not a Stellar
  Asset Contract has ``asset`` and ``asset_type`` "" and no code or issuer.
* ``to_muxed`` / ``to_muxed_id`` are set whenever the event carries destination information. Only
  its id arm is read, so a text or hash memo gives id 0; ``to_muxed`` is the ``M...`` of ``to`` and
  that id, or "" when ``to`` is not an account (stellar-etl ignores the encoding error).
"""

from __future__ import annotations

from datetime import datetime

from stellar_sdk import StrKey

from beam_pipeline.records.base import Row
from beam_pipeline.records.token_transfers.event import TokenEvent, TokenTransferError, TxContext
from beam_pipeline.records.token_transfers.transaction import transaction_events
from beam_pipeline.util.assets import extract_asset
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.ledger import LedgerView

# Protocol 23 moved Soroban fee refunds after every operation of the ledger (CAP-67).
_REFUNDS_LAST_FROM_PROTOCOL = 23


def ledger_events(ledger: LedgerView) -> list[tuple[int, str, TokenEvent]]:
    """(transaction order, hash, event) of every event of a ledger, in the reference's order.

    Raises:
        TokenTransferError: naming the ledger and transaction of meta the reference rejects.
    """
    refunds_last = ledger.protocol_version >= _REFUNDS_LAST_FROM_PROTOCOL
    charges, middle, refunds = [], [], []
    for tx in ledger.transactions:
        ctx = TxContext(ledger, tx)
        try:
            fees, ops = transaction_events(ctx)
        except TokenTransferError:
            raise
        except ValueError as err:  # from the XDR helpers, which do not know where they are
            raise TokenTransferError(f"{ctx.where()}: token transfers: {err}") from err
        key = (tx.index, tx.hash_hex)
        charges.append((*key, fees[0]))
        middle.extend((*key, e) for e in ops)
        (refunds if refunds_last else middle).extend((*key, e) for e in fees[1:])
    return charges + middle + refunds


def _asset_columns(event: TokenEvent) -> tuple[str, str, str | None, str | None]:
    """(asset, asset_type, asset_code, asset_issuer) the way stellar-etl names them."""
    if event.asset is None:
        return "", "", None, None
    kind, code, issuer = extract_asset(event.asset)
    if kind == "native":
        return "native", "native", None, None
    kind = "credit_alphanum12" if len(code.encode()) > 4 else "credit_alphanum4"
    return f"{kind}:{code}:{issuer}", kind, code, issuer


def _to_muxed(event: TokenEvent) -> tuple[str | None, str | None]:
    info = event.to_muxed
    if info is None:
        return None, None
    to = event.receiver or ""
    address = ""
    if StrKey.is_valid_ed25519_public_key(to):
        raw = StrKey.decode_ed25519_public_key(to)
        address = StrKey.encode_med25519_public_key(raw + info.id.to_bytes(8, "big"))
    return address, str(info.id)


def event_row(event: TokenEvent, sequence: int, tx_order: int, tx_hash: str, closed_at: datetime) -> Row:
    asset, asset_type, code, issuer = _asset_columns(event)
    to_muxed, to_muxed_id = _to_muxed(event)
    return {
        "transaction_hash": tx_hash,
        "transaction_id": toid(sequence, tx_order),
        "operation_id": None if event.op_index is None else toid(sequence, tx_order, event.op_index),
        "event_topic": event.kind,
        "from": event.sender,
        "to": event.receiver,
        "asset": asset,
        "asset_type": asset_type,
        "asset_code": code,
        "asset_issuer": issuer,
        "amount": float(event.amount) * 0.0000001,
        "amount_raw": str(event.amount),
        "contract_id": event.contract_id,
        "ledger_sequence": sequence,
        "closed_at": closed_at,
        "to_muxed": to_muxed,
        "to_muxed_id": to_muxed_id,
    }


def transform(ledger: LedgerView) -> list[Row]:
    """Every token transfer row of one ledger, in the reference processor's order."""
    sequence = ledger.sequence
    closed_at = ledger.closed_at
    events = ledger_events(ledger)
    return [event_row(e, sequence, order, tx_hash, closed_at) for order, tx_hash, e in events]
