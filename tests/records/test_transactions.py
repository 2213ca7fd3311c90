"""The transactions table against stellar-etl goldens and across every real datastore."""

from __future__ import annotations

import base64
from datetime import datetime

import pyarrow as pa
import pytest
from stellar_sdk import MuxedAccount, xdr

from beam_pipeline.records import transactions
from beam_pipeline.records.base import rows_to_columns
from beam_pipeline.records.tables.transactions import SCHEMA
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.ledger import LedgerView, network_id, transaction_hash
from tests.records._load import datastore_names, load_golden, load_ledgers

# The p25 load test has 30 ledgers of 258 transactions; two are plenty and keep the run light.
LIMITS = {"standalone-p25-loadtest": 2}

SOROBAN_FEE_COLUMNS = (
    "resource_fee",
    "inclusion_fee_bid",
    "inclusion_fee_charged",
    "resource_fee_refund",
    "non_refundable_resource_fee_charged",
    "refundable_resource_fee_charged",
    "rent_fee_charged",
)


def _as_golden(value: object) -> object:
    """A row value as stellar-etl's JSON shows it (XDR base64, RFC 3339 seconds)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _rows(name: str) -> list[tuple[LedgerView, list[dict]]]:
    return [(lv, transactions.transform(lv)) for lv in load_ledgers(name, LIMITS.get(name))]


@pytest.mark.parametrize(
    ("datastore", "golden"),
    [
        ("mainnet-p13-30820015-metav4", "one_ledger_txs.golden"),
        ("mainnet-p13-30820015-metav2", "one_ledger_txs.metav2.golden"),
    ],
)
def test_every_field_matches_stellar_etl_golden(datastore: str, golden: str) -> None:
    expected = {g["transaction_hash"]: g for g in load_golden("transactions", golden)}
    [(_, rows)] = _rows(datastore)
    assert len(expected) == 59
    assert sorted(r["transaction_hash"] for r in rows) == sorted(expected)
    names = set(SCHEMA.names)
    for row in rows:
        want = expected[row["transaction_hash"]]
        assert set(want) <= names, f"golden has columns we lack: {set(want) - names}"
        for column in SCHEMA.names:
            # stellar-etl omits empty `omitempty` fields; those columns are null here.
            assert _as_golden(row[column]) == want.get(column), (row["id"], column)


def test_golden_ids_are_application_order_toids() -> None:
    golden = load_golden("transactions", "one_ledger_txs.golden")
    [(ledger, rows)] = _rows("mainnet-p13-30820015-metav4")
    by_id = {g["id"]: g["transaction_hash"] for g in golden}
    assert by_id == {toid(ledger.sequence, i, 0): tx.hash_hex for i, tx in enumerate(ledger.transactions, start=1)}
    assert [r["id"] for r in rows] == sorted(by_id)


@pytest.mark.parametrize("datastore", datastore_names())
def test_consistency_over_every_datastore(datastore: str) -> None:
    """Invariants that must hold for any real ledger, whatever its LCM and meta version."""
    net_id = None
    for ledger, rows in _rows(datastore):
        net_id = net_id or network_id(ledger.network_passphrase)
        processing = ledger.body.tx_processing
        assert len(rows) == len(processing)
        assert [r["id"] for r in rows] == [toid(ledger.sequence, i, 0) for i in range(1, len(rows) + 1)]
        for row, trm in zip(rows, processing, strict=True):
            where = (datastore, row["transaction_hash"])
            envelope = xdr.TransactionEnvelope.from_xdr_bytes(row["tx_envelope"])
            # The envelope in the row is the one that hashes to the result it sits next to.
            assert transaction_hash(envelope, net_id) == trm.result.transaction_hash.hash, where
            assert row["tx_result"] == trm.result.result.to_xdr_bytes(), where
            assert row["ledger_sequence"] == ledger.sequence
            assert row["closed_at"] == row["created_at"] == ledger.closed_at
            assert row["successful"] == row["transaction_result_code"].endswith(("TxSuccess", "TxFeeBumpInnerSuccess"))
            assert len(row["tx_signers"]) >= 1, where
            for column in SOROBAN_FEE_COLUMNS:
                assert row[column] >= 0, (where, column)
            if row["account_muxed"] is not None:
                # Decoded by stellar_sdk, independently of our encoder.
                assert MuxedAccount.from_account(row["account_muxed"]).account_id == row["account"], where
            is_fee_bump = envelope.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP
            assert (row["fee_account"] is not None) == is_fee_bump, where
            assert (row["inner_transaction_hash"] is not None) == is_fee_bump, where
            if is_fee_bump:
                inner = envelope.fee_bump.tx.inner_tx
                inner_hash = transaction_hash(
                    xdr.TransactionEnvelope(xdr.EnvelopeType.ENVELOPE_TYPE_TX, v1=inner.v1), net_id
                )
                assert row["inner_transaction_hash"] == inner_hash.hex(), where
            fee_source_muxed = row["fee_account_muxed"] if is_fee_bump else row["account_muxed"]
            if row["resource_fee"] and fee_source_muxed is None:
                # What the fee account lost up front, minus the refund, is what the result says it paid.
                paid = row["inclusion_fee_charged"] + row["resource_fee"] - row["resource_fee_refund"]
                assert paid == row["fee_charged"], where
        # Every row fits the declared schema.
        pa.Table.from_pydict(rows_to_columns(rows, SCHEMA), schema=SCHEMA)


def test_soroban_and_fee_bump_rows_are_covered() -> None:
    """Guards the consistency test: the datastores do contain Soroban and fee-bump transactions."""
    rows = [r for name in datastore_names() for _, rs in _rows(name) for r in rs]
    assert sum(r["resource_fee"] > 0 for r in rows) > 100
    assert sum(r["fee_account"] is not None for r in rows) >= 8
    assert sum(r["account_muxed"] is not None for r in rows) >= 1
    assert sum(r["min_account_sequence_age"] is not None for r in rows) >= 1
    assert sum(r["soroban_resources_archived_entries"] is not None for r in rows) >= 1


@pytest.mark.parametrize(
    ("value", "type_name", "go"),
    [
        (xdr.TransactionResultCode.txSUCCESS, "TransactionResultCode", "TransactionResultCodeTxSuccess"),
        (
            xdr.TransactionResultCode.txFEE_BUMP_INNER_FAILED,
            "TransactionResultCode",
            "TransactionResultCodeTxFeeBumpInnerFailed",
        ),
        (
            xdr.TransactionResultCode.txBAD_MIN_SEQ_AGE_OR_GAP,
            "TransactionResultCode",
            "TransactionResultCodeTxBadMinSeqAgeOrGap",
        ),
        (xdr.MemoType.MEMO_RETURN, "MemoType", "MemoTypeMemoReturn"),
        (xdr.LedgerEntryType.CONTRACT_DATA, "LedgerEntryType", "LedgerEntryTypeContractData"),
    ],
)
def test_go_enum_names(value: object, type_name: str, go: str) -> None:
    assert transactions.go_enum_name(value, type_name) == go


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"P2P:TREEP", "P2P:TREEP"),
        ("caf\u00e9".encode(), "caf\u00e9"),
        (b"a\xe2\x82b", "a\ufffd\ufffdb"),  # truncated sequence: one U+FFFD per byte, as Go
        (b"\xff", "\ufffd"),
    ],
)
def test_memo_text_is_coerced_like_go_json(raw: bytes, text: str) -> None:
    assert transactions.go_string(raw) == text


def _fresh_copy(name: str) -> LedgerView:
    """A private, mutable decode of a datastore's first ledger (the cached views stay untouched)."""
    ledger = load_ledgers(name, 1)[0]
    return LedgerView(xdr.LedgerCloseMeta.from_xdr_bytes(ledger.lcm.to_xdr_bytes()), ledger.network_passphrase)


def test_inverted_time_bounds_raise_naming_the_ledger() -> None:
    ledger = _fresh_copy("mainnet-p13-30820015-metav4")
    tx = ledger.transactions[0]
    bounds = tx.envelope.v1.tx.cond.time_bounds
    bounds.min_time = xdr.TimePoint(xdr.Uint64(bounds.max_time.time_point.uint64 + 1))
    with pytest.raises(
        transactions.TransactionTransformError, match=rf"ledger 30820015, transaction 1 \({tx.hash_hex}\)"
    ):
        transactions.transaction_row(tx)


def test_unbounded_max_time_prints_open_interval() -> None:
    ledger = _fresh_copy("mainnet-p13-30820015-metav4")
    tx = ledger.transactions[0]
    tx.envelope.v1.tx.cond.time_bounds.max_time = xdr.TimePoint(xdr.Uint64(0))
    assert transactions.transaction_row(tx)["time_bounds"] == "[0,)"


def test_malformed_xdr_is_reported_with_ledger_and_transaction() -> None:
    ledger = _fresh_copy("mainnet-p13-30820015-metav4")
    tx = ledger.transactions[2]
    tx.envelope.v1.tx.memo = xdr.Memo(xdr.MemoType.MEMO_TEXT)  # a text memo without text
    with pytest.raises(
        transactions.TransactionTransformError, match=rf"ledger 30820015, transaction 3 \({tx.hash_hex}\)"
    ):
        transactions.transform(ledger)
