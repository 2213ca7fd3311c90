"""Builders for effects tests: a ledger at a chosen sequence and transactions from XDR pieces."""

from __future__ import annotations

import base64
import json

from stellar_sdk import StrKey, xdr

from beam_pipeline.records import effects
from beam_pipeline.xdr.ledger import LedgerView, TxView
from tests.records._load import load_ledgers


def ledger_at(sequence: int) -> LedgerView:
    """A real ledger (close time, passphrase) renumbered to `sequence`, so operation ids match Go tests."""
    host = load_ledgers("testnet-p20-galexie", 1)[0]
    lcm = xdr.LedgerCloseMeta.from_xdr_bytes(host.lcm.to_xdr_bytes())
    body = {0: lcm.v0, 1: lcm.v1, 2: lcm.v2}[lcm.v]
    body.ledger_header.header.ledger_seq = xdr.Uint32(sequence)
    return LedgerView(lcm, host.network_passphrase)


def tx_view(
    ledger: LedgerView,
    envelope: xdr.TransactionEnvelope,
    result: xdr.TransactionResult,
    meta: xdr.TransactionMeta,
    index: int = 1,
) -> TxView:
    """A TxView of already-built XDR, round-tripped so a malformed fixture fails here."""
    envelope = xdr.TransactionEnvelope.from_xdr_bytes(envelope.to_xdr_bytes())
    pair = xdr.TransactionResultPair.from_xdr_bytes(
        xdr.TransactionResultPair(xdr.Hash(bytes(32)), result).to_xdr_bytes()
    )
    meta = xdr.TransactionMeta.from_xdr_bytes(meta.to_xdr_bytes())
    return TxView(ledger, index, envelope, pair, xdr.LedgerEntryChanges([]), meta)


def tx_from_base64(ledger: LedgerView, envelope: str, result: str, meta: str) -> TxView:
    return tx_view(
        ledger,
        xdr.TransactionEnvelope.from_xdr(envelope),
        xdr.TransactionResult.from_xdr(result),
        xdr.TransactionMeta.from_xdr(meta),
    )


def effect_rows(ledger: LedgerView, tx: TxView) -> list[dict]:
    """The effect rows of one transaction with ``details`` parsed back from JSON."""
    rows = effects.transaction_rows(ledger, tx)
    for row in rows:
        row["details"] = json.loads(row["details"])
    return rows


def summary(rows: list[dict]) -> list[tuple]:
    """(address, address_muxed, type_string, details) of each row: what Go tests assert."""
    return [(r["address"], r["address_muxed"], r["type_string"], r["details"]) for r in rows]


def account_id(address: str) -> xdr.AccountID:
    key = xdr.Uint256(StrKey.decode_ed25519_public_key(address))
    return xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, key))


def muxed(address: str, mux_id: int | None = None) -> xdr.MuxedAccount:
    key = xdr.Uint256(StrKey.decode_ed25519_public_key(address))
    if mux_id is None:
        return xdr.MuxedAccount(xdr.CryptoKeyType.KEY_TYPE_ED25519, ed25519=key)
    med = xdr.MuxedAccountMed25519(xdr.Uint64(mux_id), key)
    return xdr.MuxedAccount(xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519, med25519=med)


def b64(value) -> str:
    return base64.b64encode(value.to_xdr_bytes()).decode()
