"""The ``transactions`` table: one row per applied transaction, as stellar-etl's TransformTransaction.

Field names, order and values follow stellar-etl's ``TransactionOutput`` (the Hubble
``history_transactions`` table). Where stellar-etl omits a field from its JSON (``omitempty``:
``account_muxed``, ``fee_account``, ``fee_account_muxed``, ``inner_transaction_hash``,
``new_max_fee``) the column is null. Soroban fee columns are 0 for classic transactions, as there.
"""

from __future__ import annotations

import base64

from stellar_sdk import StrKey, xdr

from beam_pipeline.records.base import Row
from beam_pipeline.util.accounts import (
    account_address,
    balance_span,
    muxed_address,
    signer_key_address,
)
from beam_pipeline.util.goformat import go_enum_name, go_string
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.fast import xdr_bytes
from beam_pipeline.xdr.ledger import LedgerView, TxView


class TransactionTransformError(ValueError):
    """A transaction cannot be turned into a row; the message names ledger, order and hash."""


def _inner_tx(envelope: xdr.TransactionEnvelope) -> xdr.Transaction | xdr.TransactionV0:
    t = envelope.type
    if t == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
        return envelope.v0.tx
    if t == xdr.EnvelopeType.ENVELOPE_TYPE_TX:
        return envelope.v1.tx
    return envelope.fee_bump.tx.inner_tx.v1.tx


def _memo(memo: xdr.Memo) -> str:
    t = memo.type
    if t == xdr.MemoType.MEMO_TEXT:
        return go_string(memo.text)
    if t == xdr.MemoType.MEMO_ID:
        return str(memo.id.uint64)
    if t == xdr.MemoType.MEMO_HASH:
        return _b64(memo.hash.hash)
    if t == xdr.MemoType.MEMO_RETURN:
        return _b64(memo.ret_hash.hash)
    return ""


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _preconditions(tx: xdr.Transaction | xdr.TransactionV0) -> tuple[xdr.TimeBounds | None, xdr.PreconditionsV2 | None]:
    """(time bounds, v2 preconditions) of a transaction; a v0 transaction only has time bounds."""
    if isinstance(tx, xdr.TransactionV0):
        return tx.time_bounds, None
    cond = tx.cond
    if cond.type == xdr.PreconditionType.PRECOND_NONE:
        return None, None
    if cond.type == xdr.PreconditionType.PRECOND_TIME:
        return cond.time_bounds, None
    return cond.v2.time_bounds, cond.v2


def _full_address(muxed: xdr.MuxedAccount) -> str:
    """Go's ``MuxedAccount.Address()``: the M-address when muxed, else the G-address."""
    return muxed_address(muxed) or account_address(muxed)


def _soroban_fields(tx: TxView, fee_charged: int) -> dict:
    """stellar-etl's Soroban fee and resource columns (all zero / null without Soroban data)."""
    env = tx.envelope
    fields = {
        "resource_fee": 0,
        "soroban_resources_instructions": 0,
        "soroban_resources_read_bytes": 0,
        "soroban_resources_disk_read_bytes": 0,
        "soroban_resources_write_bytes": 0,
        "soroban_resources_archived_entries": None,
        "inclusion_fee_bid": 0,
        "inclusion_fee_charged": 0,
        "resource_fee_refund": 0,
        "non_refundable_resource_fee_charged": 0,
        "refundable_resource_fee_charged": 0,
        "rent_fee_charged": 0,
        "fee_charged": fee_charged,
    }
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
        return fields
    inner = _inner_tx(env)
    if inner.ext.v != 1:
        return fields
    data = inner.ext.soroban_data
    if tx.is_fee_bump:
        fee_address = _full_address(env.fee_bump.tx.fee_source)
        bid = env.fee_bump.tx.fee.int64
    else:
        fee_address = _full_address(inner.source_account)
        bid = inner.fee.uint32
    resource_fee = data.resource_fee.int64
    res = data.resources
    fields.update(
        resource_fee=resource_fee,
        soroban_resources_instructions=res.instructions.uint32,
        soroban_resources_read_bytes=res.disk_read_bytes.uint32,
        soroban_resources_disk_read_bytes=res.disk_read_bytes.uint32,
        soroban_resources_write_bytes=res.write_bytes.uint32,
        inclusion_fee_bid=bid - resource_fee,
    )
    if data.ext.v == 1 and data.ext.resource_ext is not None:
        archived = [e.uint32 for e in data.ext.resource_ext.archived_soroban_entries]
        fields["soroban_resources_archived_entries"] = archived or None

    start, end = balance_span(tx.fee_changes.ledger_entry_changes, fee_address)
    fields["inclusion_fee_charged"] = (start - end) - resource_fee

    meta = tx.meta
    soroban_meta = None
    if meta.v == 3:
        start, end = balance_span(meta.v3.tx_changes_after.ledger_entry_changes, fee_address)
        fields["resource_fee_refund"] = end - start
        soroban_meta = meta.v3.soroban_meta
    elif meta.v == 4:
        # From protocol 23 the refund sits in the post-apply fee changes, not in txChangesAfter.
        changes = list(meta.v4.tx_changes_after.ledger_entry_changes)
        if tx.post_apply_fee_changes is not None:
            changes += tx.post_apply_fee_changes.ledger_entry_changes
        start, end = balance_span(changes, fee_address)
        fields["resource_fee_refund"] = end - start
        soroban_meta = meta.v4.soroban_meta
    if soroban_meta is not None and soroban_meta.ext.v == 1:
        ext = soroban_meta.ext.v1
        fields["non_refundable_resource_fee_charged"] = ext.total_non_refundable_resource_fee_charged.int64
        fields["refundable_resource_fee_charged"] = ext.total_refundable_resource_fee_charged.int64
        fields["rent_fee_charged"] = ext.rent_fee_charged.int64

    # Protocol 20 charged Soroban fee bumps wrongly (stellar-core#4188); stellar-etl recomputes.
    if tx.ledger.protocol_version < 21 and tx.is_fee_bump:
        fields["fee_charged"] = resource_fee - fields["resource_fee_refund"]
    return fields


def _signers(signatures: list[xdr.DecoratedSignature]) -> list[str]:
    # stellar-etl strkey-encodes each raw signature with the account version byte (a G... string
    # of 108 characters for a 64-byte signature); kept for fidelity, meaningless as an address.
    return [StrKey.encode_ed25519_public_key(s.signature.signature) for s in signatures]


def transaction_row(tx: TxView) -> Row:
    """One transactions row for an applied transaction."""
    ledger = tx.ledger
    seq = ledger.sequence
    tx_id = toid(seq, tx.index, 0)
    where = f"ledger {seq}, transaction {tx.index} ({tx.hash_hex})"
    env = tx.envelope
    inner = _inner_tx(env)
    if isinstance(inner, xdr.TransactionV0):
        source = xdr.MuxedAccount(type=xdr.CryptoKeyType.KEY_TYPE_ED25519, ed25519=inner.source_account_ed25519)
    else:
        source = inner.source_account

    account_sequence = inner.seq_num.sequence_number.int64
    if account_sequence < 0:
        raise TransactionTransformError(f"{where}: negative account sequence {account_sequence}")
    fee_charged = tx.result.fee_charged.int64
    if fee_charged < 0:
        raise TransactionTransformError(f"{where}: negative fee charged {fee_charged}")

    time_bounds, v2 = _preconditions(inner)
    time_bounds_text = ""
    if time_bounds is not None:
        lo, hi = time_bounds.min_time.time_point.uint64, time_bounds.max_time.time_point.uint64
        if hi != 0 and hi < lo:
            raise TransactionTransformError(f"{where}: max time {hi} is earlier than min time {lo}")
        time_bounds_text = f"[{lo},)" if hi == 0 else f"[{lo},{hi})"
    ledger_bounds_text = ""
    min_seq = min_seq_age = min_seq_gap = extra_signers = None
    if v2 is not None:
        if v2.ledger_bounds is not None:
            ledger_bounds_text = f"[{v2.ledger_bounds.min_ledger.uint32},{v2.ledger_bounds.max_ledger.uint32})"
        if v2.min_seq_num is not None:
            min_seq = v2.min_seq_num.sequence_number.int64
        min_seq_age = v2.min_seq_age.duration.uint64
        min_seq_gap = v2.min_seq_ledger_gap.uint32
        # Go decodes an empty XDR array to nil, which stellar-etl emits as null.
        extra_signers = [signer_key_address(k) for k in v2.extra_signers] or None

    code = tx.result.result.code
    row: Row = {
        "transaction_hash": tx.hash_hex,
        "ledger_sequence": seq,
        "account": account_address(source),
        "account_muxed": muxed_address(source),
        "account_sequence": account_sequence,
        "max_fee": inner.fee.uint32,
        "fee_charged": fee_charged,
        "operation_count": len(inner.operations),
        "tx_envelope": xdr_bytes(env),
        "tx_result": xdr_bytes(tx.result),
        "tx_meta": xdr_bytes(tx.meta),
        "tx_fee_meta": xdr_bytes(tx.fee_changes),
        "created_at": ledger.closed_at,
        "memo_type": go_enum_name(inner.memo.type, "MemoType"),
        "memo": _memo(inner.memo),
        "time_bounds": time_bounds_text,
        "successful": tx.successful,
        "id": tx_id,
        "fee_account": None,
        "fee_account_muxed": None,
        "inner_transaction_hash": None,
        "new_max_fee": None,
        "ledger_bounds": ledger_bounds_text,
        "min_account_sequence": min_seq,
        "min_account_sequence_age": min_seq_age,
        "min_account_sequence_ledger_gap": min_seq_gap,
        "extra_signers": extra_signers,
        "closed_at": ledger.closed_at,
        "transaction_result_code": go_enum_name(code, "TransactionResultCode"),
        "tx_signers": None,
    }
    row.update(_soroban_fields(tx, fee_charged))

    if tx.is_fee_bump:
        fee_bump = env.fee_bump
        inner_pair = tx.result.result.inner_result_pair
        if inner_pair is None:
            raise TransactionTransformError(f"{where}: fee bump transaction has result code {code.name}")
        row["fee_account"] = account_address(fee_bump.tx.fee_source)
        row["fee_account_muxed"] = muxed_address(fee_bump.tx.fee_source)
        row["inner_transaction_hash"] = inner_pair.transaction_hash.hash.hex()
        row["new_max_fee"] = fee_bump.tx.fee.int64
        row["tx_signers"] = _signers(fee_bump.signatures)
    else:
        row["tx_signers"] = _signers(tx.inner_envelope.signatures)
    return row


def transform(ledger: LedgerView) -> list[Row]:
    """All transactions of a ledger in application order."""
    if ledger.close_time >= 1 << 63:
        raise TransactionTransformError(
            f"ledger {ledger.sequence}: close time {ledger.close_time} is negative as int64"
        )
    rows = []
    for tx in ledger.transactions:
        try:
            rows.append(transaction_row(tx))
        except TransactionTransformError:
            raise
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            # Malformed XDR surfaces as a bare attribute/type error deep inside; say where it was.
            raise TransactionTransformError(
                f"ledger {ledger.sequence}, transaction {tx.index} ({tx.hash_hex}): {type(exc).__name__}: {exc}"
            ) from exc
    return rows
