"""Builders for effects tests: a ledger at a chosen sequence and transactions from XDR pieces."""

from __future__ import annotations

import base64
import json

from stellar_sdk import StrKey, xdr

from beam_pipeline.records import effects
from beam_pipeline.xdr.ledger import LedgerView, TxView
from tests.records._load import load_ledgers
from tests.records.effects_native import check_native


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
    """The effect rows of one transaction with ``details`` parsed back from JSON.

    The native core must build the same rows for the transaction (see `effects_native`).
    """
    check_native(ledger, tx)
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


# --- one-operation transactions built from XDR (mirroring stellar-etl's effects_test.go inputs) ----------

OT = xdr.OperationType
C = xdr.LedgerEntryChangeType
T = xdr.LedgerEntryType
SRC = "GAUJETIZVEP2NRYLUESJ3LS66NVCEGMON4UDCBCSBEVPIID773P2W6AY"
ISSUER = "GDRW375MAYR46ODGF2WGANQC2RRZL7O246DYHHCGWTV2RE7IHE2QUQLD"
SPONSOR1 = "GDMQUXK7ZUCWM5472ZU3YLDP4BMJLQQ76DEMNYDEY2ODEEGGRKLEWGW2"
SPONSOR2 = ISSUER
CREATOR = "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H"
CREATED = "GCQZP3IU7XU6EJ63JZXKCQOYT2RNXN3HB5CNHENNUEUHSMA4VUJJJSEN"
SPONSOR = "GAHK7EEG2WWHVKDNT4CEQFZGKF2LGDSW2IVM4S5DP42RBW3K6BTODB4A"
SPONSOR_B = "GACMZD5VJXTRLKVET72CETCYKELPNCOTTBDC6DHFEUPLG5DHEK534JQX"
OP_ID = 4294967297  # toid(1, 0, 1): ledger 1, transaction index 0, as in stellar-etl's tests
NATIVE = xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE)


def a4(code: bytes, issuer: str) -> xdr.Asset:
    return xdr.Asset(
        xdr.AssetType.ASSET_TYPE_CREDIT_ALPHANUM4,
        alpha_num4=xdr.AlphaNum4(xdr.AssetCode4(code.ljust(4, b"\0")), account_id(issuer)),
    )


USD = a4(b"USD", SRC)
USD_TEXT = f"USD:{SRC}"


def entry(data: xdr.LedgerEntryData, sponsor: str | None = None) -> xdr.LedgerEntry:
    ext = xdr.LedgerEntryExt(0)
    if sponsor is not None:
        ext = xdr.LedgerEntryExt(
            1,
            v1=xdr.LedgerEntryExtensionV1(
                xdr.SponsorshipDescriptor(account_id(sponsor)), xdr.LedgerEntryExtensionV1Ext(0)
            ),
        )
    return xdr.LedgerEntry(xdr.Uint32(20), data, ext)


def state(e: xdr.LedgerEntry) -> xdr.LedgerEntryChange:
    return xdr.LedgerEntryChange(C.LEDGER_ENTRY_STATE, state=e)


def updated(e: xdr.LedgerEntry) -> xdr.LedgerEntryChange:
    return xdr.LedgerEntryChange(C.LEDGER_ENTRY_UPDATED, updated=e)


def created(e: xdr.LedgerEntry) -> xdr.LedgerEntryChange:
    return xdr.LedgerEntryChange(C.LEDGER_ENTRY_CREATED, created=e)


def removed(key: xdr.LedgerKey) -> xdr.LedgerEntryChange:
    return xdr.LedgerEntryChange(C.LEDGER_ENTRY_REMOVED, removed=key)


def run(
    body: xdr.OperationBody,
    changes: list[xdr.LedgerEntryChange] | None = None,
    result: xdr.OperationResultTr | None = None,
    source: str = SRC,
    meta: xdr.TransactionMeta | None = None,
    ext: xdr.TransactionExt | None = None,
    op_source: xdr.MuxedAccount | None = None,
) -> list[tuple]:
    """The effects of a one-operation successful transaction (ledger 1, transaction index 0);
    `op_source` sets the operation's own (possibly muxed) source account."""
    tx = xdr.Transaction(
        muxed(source),
        xdr.Uint32(100),
        xdr.SequenceNumber(xdr.Int64(1)),
        xdr.Preconditions(xdr.PreconditionType.PRECOND_NONE),
        xdr.Memo(xdr.MemoType.MEMO_NONE),
        [xdr.Operation(op_source, body)],
        ext or xdr.TransactionExt(0),
    )
    envelope = xdr.TransactionEnvelope(xdr.EnvelopeType.ENVELOPE_TYPE_TX, v1=xdr.TransactionV1Envelope(tx, []))
    op_result = (
        xdr.OperationResult(xdr.OperationResultCode.opINNER, tr=result)
        if result is not None
        else xdr.OperationResult(xdr.OperationResultCode.opNOT_SUPPORTED)
    )
    tx_result = xdr.TransactionResult(
        xdr.Int64(100),
        xdr.TransactionResultResult(xdr.TransactionResultCode.txSUCCESS, results=[op_result]),
        xdr.TransactionResultExt(0),
    )
    if meta is None:
        op_meta = xdr.OperationMeta(xdr.LedgerEntryChanges(changes or []))
        meta = xdr.TransactionMeta(
            2, v2=xdr.TransactionMetaV2(xdr.LedgerEntryChanges([]), [op_meta], xdr.LedgerEntryChanges([]))
        )
    ledger = ledger_at(1)
    rows = effect_rows(ledger, tx_view(ledger, envelope, tx_result, meta, index=0))
    assert all(r["operation_id"] == OP_ID for r in rows)
    assert [r["id"] for r in rows] == [f"{OP_ID}-{i}" for i in range(len(rows))]
    return summary(rows)


def trust_line(
    asset: xdr.TrustLineAsset, balance: int = 100, limit: int = 1000, flags: int = 0, sponsor: str | None = None
) -> xdr.LedgerEntry:
    line = xdr.TrustLineEntry(
        account_id(SRC), asset, xdr.Int64(balance), xdr.Int64(limit), xdr.Uint32(flags), xdr.TrustLineEntryExt(0)
    )
    return entry(xdr.LedgerEntryData(T.TRUSTLINE, trust_line=line), sponsor)


def usd_line() -> xdr.TrustLineAsset:
    return xdr.TrustLineAsset(USD.type, alpha_num4=USD.alpha_num4)
