"""``assets``: the assets that payments and sell offers mention (stellar-etl ``history_assets``).

stellar-etl's ``export_assets`` looks at every ``payment`` (its asset) and ``manage_sell_offer``
(its selling asset) of every transaction in the ledger's transaction set, failed ones included,
in transaction-set order, and writes each ``asset_id`` once per run: the row of the first ledger
that mentions it (``closed_at`` and ``ledger_sequence`` are that ledger's).

The transform gives each ledger's assets once, in first-mention order. The run-wide part is not a
per-worker set here but a Beam combine (`beam_pipeline.dedupe`), keyed by the table's ``dedupe_key``
(``asset_id``) and keeping the lowest ``ledger_sequence``: the same result on every runner and
worker count.

"Once" is per run, as in stellar-etl (each export run dedupes alone): a later run over a range
that starts after an asset's first mention lists it again at its first ledger in that range, and
the archive keeps both rows, since a rerun replaces rows ledger by ledger, not asset by asset.
"""

from __future__ import annotations

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.util.assets import asset_id, extract_asset
from beam_pipeline.xdr.ledger import LedgerView

_OT = xdr.OperationType


def envelope_operations(envelope: xdr.TransactionEnvelope) -> list[xdr.Operation]:
    """The operations of an envelope (the inner transaction's for a fee bump)."""
    t = envelope.type
    if t == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
        return envelope.v0.tx.operations
    if t == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        return envelope.v1.tx.operations
    return envelope.fee_bump.tx.inner_tx.v1.tx.operations


def mentioned_asset(op: xdr.Operation) -> xdr.Asset | None:
    """The asset stellar-etl takes from an operation: a payment's, a sell offer's selling asset."""
    body = op.body
    if body.type == _OT.PAYMENT:
        return body.payment_op.asset
    if body.type == _OT.MANAGE_SELL_OFFER:
        return body.manage_sell_offer_op.selling
    return None


def transform(ledger: LedgerView) -> list[Row]:
    """Each asset the ledger's payments and sell offers mention, once, in first-mention order."""
    rows: dict[int, Row] = {}
    for envelope in ledger.envelopes:
        for op in envelope_operations(envelope):
            asset = mentioned_asset(op)
            if asset is None:
                continue
            kind, code, issuer = extract_asset(asset)
            aid = asset_id(code, issuer, kind)
            if aid not in rows:
                rows[aid] = {
                    "asset_code": code,
                    "asset_issuer": issuer,
                    "asset_type": kind,
                    "asset_id": aid,
                    "closed_at": ledger.closed_at,
                    "ledger_sequence": ledger.sequence,
                }
    return list(rows.values())
