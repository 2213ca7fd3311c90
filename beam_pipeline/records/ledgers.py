"""The ``ledgers`` table: one row per ledger, as stellar-etl's TransformLedger.

Field names, order and values follow stellar-etl's ``LedgerOutput`` (the Hubble ``history_ledgers``
table). The row is assembled from three independent parts so each can be checked on its own:
the header (all that history archives keep, see `header_fields`), the transaction counts
(`count_fields`) and the LedgerCloseMeta extras of protocol 20+ (`close_meta_fields`).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from stellar_sdk import xdr

from beam_pipeline.records.base import Row
from beam_pipeline.records.transactions import go_enum_name
from beam_pipeline.util.strkey import account_strkey
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView

# The columns `header_fields` produces (what can be checked without a LedgerCloseMeta).
HEADER_FIELDS = (
    "sequence",
    "ledger_hash",
    "previous_ledger_hash",
    "ledger_header",
    "closed_at",
    "total_coins",
    "fee_pool",
    "base_fee",
    "base_reserve",
    "max_tx_set_size",
    "protocol_version",
    "id",
    "node_id",
    "signature",
)


class LedgerTransformError(ValueError):
    """A ledger cannot be turned into a row; the message names the ledger."""


def header_fields(header: xdr.LedgerHeader, ledger_hash: bytes) -> Row:
    """The columns that depend only on the ledger header and its hash.

    Kept separate because history archives (and the ``2024_ledgers`` golden) carry headers
    without LedgerCloseMeta; these columns can be rebuilt and checked from a header alone.
    """
    seq = header.ledger_seq.uint32
    close_time = header.scp_value.close_time.time_point.uint64
    if close_time >= 1 << 63:
        raise LedgerTransformError(f"ledger {seq}: close time {close_time} is negative as int64")
    total_coins = header.total_coins.int64
    if total_coins < 0:
        raise LedgerTransformError(f"ledger {seq}: total coins {total_coins} is negative")
    fee_pool = header.fee_pool.int64
    if fee_pool < 0:
        raise LedgerTransformError(f"ledger {seq}: fee pool {fee_pool} is negative")

    # Unsigned (pre-protocol-10 style) close values have no signer: stellar-etl emits "".
    node_id = signature = ""
    ext = header.scp_value.ext
    if ext.v == xdr.StellarValueType.STELLAR_VALUE_SIGNED:
        key = ext.lc_value_signature.node_id.node_id
        if key.type != xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519:
            raise LedgerTransformError(f"ledger {seq}: unknown node id type {key.type}")
        node_id = account_strkey(key.ed25519.uint256)
        signature = base64.b64encode(ext.lc_value_signature.signature.signature).decode("ascii")

    return {
        "sequence": seq,
        "ledger_hash": ledger_hash.hex(),
        "previous_ledger_hash": header.previous_ledger_hash.hash.hex(),
        "ledger_header": xdr_bytes(header),
        "closed_at": datetime.fromtimestamp(close_time, tz=UTC),
        "total_coins": total_coins,
        "fee_pool": fee_pool,
        "base_fee": header.base_fee.uint32,
        "base_reserve": header.base_reserve.uint32,
        "max_tx_set_size": header.max_tx_set_size.uint32,
        "protocol_version": header.ledger_version.uint32,
        "id": toid(seq, 0, 0),
        "node_id": node_id,
        "signature": signature,
    }


def _envelope_operation_count(envelope: xdr.TransactionEnvelope) -> int:
    t = envelope.type
    if t == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
        return len(envelope.v0.tx.operations)
    if t == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        return len(envelope.v1.tx.operations)
    return len(envelope.fee_bump.tx.inner_tx.v1.tx.operations)


def count_fields(seq: int, envelopes: list[xdr.TransactionEnvelope], results: list[xdr.TransactionResult]) -> Row:
    """Transaction and operation counts, as stellar-etl counts them.

    ``transaction_count`` counts successful transactions only; ``operation_count`` counts the
    operation results of successful transactions; ``tx_set_operation_count`` counts every
    operation in the transaction set, failed or not. None of these depends on how envelopes
    pair with results, so the tx-set order of `envelopes` does not matter.
    """
    if len(envelopes) != len(results):
        raise LedgerTransformError(f"ledger {seq}: {len(envelopes)} transactions in the set but {len(results)} results")
    successful = failed = operations = 0
    for i, result in enumerate(results):
        inner = result.result
        if inner.code == xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS:
            inner = inner.inner_result_pair.result.result
        elif inner.code != xdr.TransactionResultCode.txSUCCESS:
            failed += 1
            continue
        if inner.results is None:
            raise LedgerTransformError(f"ledger {seq}: successful result {i} has no operation results")
        successful += 1
        operations += len(inner.results)
    return {
        "transaction_count": len(results) - failed,
        "operation_count": operations,
        "successful_transaction_count": successful,
        "failed_transaction_count": failed,
        "tx_set_operation_count": str(sum(_envelope_operation_count(e) for e in envelopes)),
    }


def close_meta_fields(ledger: LedgerView) -> Row:
    """Columns that only LedgerCloseMeta v1/v2 carries (zero / null for v0, as stellar-etl)."""
    fields: Row = {
        "soroban_fee_write_1kb": 0,
        "total_byte_size_of_bucket_list": 0,
        "total_byte_size_of_live_soroban_state": 0,
        "evicted_ledger_keys_type": None,
        "evicted_ledger_keys_hash": None,
    }
    if ledger.version == 0:
        return fields
    body = ledger.body
    if body.ext.v == 1:
        fields["soroban_fee_write_1kb"] = body.ext.v1.soroban_fee_write1_kb.int64
    size = body.total_byte_size_of_live_soroban_state.uint64
    fields["total_byte_size_of_bucket_list"] = size
    fields["total_byte_size_of_live_soroban_state"] = size
    keys = body.evicted_keys or []
    fields["evicted_ledger_keys_type"] = [go_enum_name(k.type, "LedgerEntryType") for k in keys]
    fields["evicted_ledger_keys_hash"] = [xdr_bytes(k) for k in keys]
    return fields


def ledger_row(ledger: LedgerView) -> Row:
    """The single ledgers row of a ledger."""
    seq = ledger.sequence
    row = header_fields(ledger.header, ledger.header_entry.hash.hash)
    results = [trm.result.result for trm in ledger.body.tx_processing]
    row.update(count_fields(seq, ledger.envelopes, results))
    row.update(close_meta_fields(ledger))
    return row


def transform(ledger: LedgerView) -> list[Row]:
    """The one-row list for a ledger; unexpected XDR shapes are re-raised naming the ledger."""
    try:
        return [ledger_row(ledger)]
    except LedgerTransformError:
        raise
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise LedgerTransformError(f"ledger {ledger.sequence}: {type(exc).__name__}: {exc}") from exc
