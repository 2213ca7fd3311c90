"""The ledgers table against stellar-etl goldens and across every real datastore."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import pyarrow as pa
import pytest
from stellar_sdk import xdr

from beam_pipeline.records import ledgers, transactions
from beam_pipeline.records.base import rows_to_columns
from beam_pipeline.records.tables.ledgers import SCHEMA
from beam_pipeline.xdr.ledger import LedgerView
from tests.records._load import datastore_names, load_golden, load_ledgers

LIMITS = {"standalone-p25-loadtest": 2}
GOLDEN_2024 = load_golden("ledgers", "2024_ledgers.golden")


def _as_golden(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def test_2024_golden_has_every_schema_column() -> None:
    assert len(GOLDEN_2024) == 406
    for golden in GOLDEN_2024:
        assert set(golden) == set(SCHEMA.names)


@pytest.mark.parametrize("golden", GOLDEN_2024, ids=lambda g: str(g["sequence"]))
def test_header_fields_match_2024_golden(golden: dict) -> None:
    """Every header-derived column, rebuilt from the golden's own ``ledger_header`` XDR."""
    header = xdr.LedgerHeader.from_xdr(golden["ledger_header"])
    ledger_hash = bytes.fromhex(golden["ledger_hash"])
    # The golden hash really is the hash of that header, so it is a fair input.
    assert hashlib.sha256(header.to_xdr_bytes()).digest() == ledger_hash
    row = ledgers.header_fields(header, ledger_hash)
    assert set(row) == set(ledgers.HEADER_FIELDS)
    for column in ledgers.HEADER_FIELDS:
        assert _as_golden(row[column]) == golden[column], column


def test_2024_golden_hash_chain() -> None:
    by_seq = {g["sequence"]: g for g in GOLDEN_2024}
    for seq, golden in by_seq.items():
        if seq - 1 in by_seq:
            row = ledgers.header_fields(xdr.LedgerHeader.from_xdr(golden["ledger_header"]), b"\0" * 32)
            assert row["previous_ledger_hash"] == by_seq[seq - 1]["ledger_hash"]


@pytest.mark.parametrize(
    ("datastore", "golden"),
    [
        ("mainnet-p13-30820015-metav4", "one_ledger_txs.golden"),
        ("mainnet-p13-30820015-metav2", "one_ledger_txs.metav2.golden"),
    ],
)
def test_counts_match_a_recount_of_the_transactions_golden(datastore: str, golden: str) -> None:
    txs = load_golden("transactions", golden)
    [row] = ledgers.transform(load_ledgers(datastore)[0])
    successful = [t for t in txs if t["successful"]]
    assert row["sequence"] == 30820015
    assert row["transaction_count"] == len(successful) == 44
    assert row["successful_transaction_count"] == len(successful)
    assert row["failed_transaction_count"] == len(txs) - len(successful) == 15
    assert row["operation_count"] == sum(t["operation_count"] for t in successful)
    assert row["tx_set_operation_count"] == str(sum(t["operation_count"] for t in txs)) == "143"
    assert row["ledger_hash"] == "b72b71394327c4f57c794afb8071fd1279903d9e1b9d90177ff36d64f4a24ad7"
    assert {_as_golden(row["closed_at"])} == {t["closed_at"] for t in txs}
    assert row["id"] == min(t["id"] for t in txs) - (1 << 12)
    # LedgerCloseMeta v0 has no Soroban extras: stellar-etl emits zeros and nulls.
    assert row["soroban_fee_write_1kb"] == row["total_byte_size_of_live_soroban_state"] == 0
    assert row["evicted_ledger_keys_type"] is None and row["evicted_ledger_keys_hash"] is None


def test_header_matches_ledger_transactions_golden() -> None:
    """The header the datastore carries is the one stellar-etl saw for these transactions."""
    [history] = {g["tx_ledger_history"] for g in load_golden("ledger_transactions", "ledger_transactions.golden")}
    entry = xdr.LedgerHeaderHistoryEntry.from_xdr(history)
    [row] = ledgers.transform(load_ledgers("mainnet-p13-30820015-metav4")[0])
    assert row["ledger_header"] == entry.header.to_xdr_bytes()
    assert row["ledger_hash"] == entry.hash.hash.hex()


@pytest.mark.parametrize("datastore", datastore_names())
def test_consistency_over_every_datastore(datastore: str) -> None:
    views = load_ledgers(datastore, LIMITS.get(datastore))
    rows = [r for lv in views for r in ledgers.transform(lv)]
    assert [r["sequence"] for r in rows] == [lv.sequence for lv in views]
    by_seq = {r["sequence"]: r for r in rows}
    for ledger, row in zip(views, rows, strict=True):
        where = (datastore, ledger.sequence)
        assert hashlib.sha256(row["ledger_header"]).hexdigest() == row["ledger_hash"], where
        if ledger.sequence - 1 in by_seq:
            assert row["previous_ledger_hash"] == by_seq[ledger.sequence - 1]["ledger_hash"], where
        txs = transactions.transform(ledger)
        ok = [t for t in txs if t["successful"]]
        assert row["transaction_count"] == row["successful_transaction_count"] == len(ok), where
        assert row["failed_transaction_count"] == len(txs) - len(ok), where
        assert row["operation_count"] == sum(t["operation_count"] for t in ok), where
        assert row["tx_set_operation_count"] == str(sum(t["operation_count"] for t in txs)), where
        if ledger.version == 0:
            assert row["evicted_ledger_keys_type"] is None, where
        else:
            assert len(row["evicted_ledger_keys_type"]) == len(row["evicted_ledger_keys_hash"]), where
            assert row["total_byte_size_of_live_soroban_state"] > 0, where
        if ledger.protocol_version >= 20:
            assert row["node_id"].startswith("G") and len(base64.b64decode(row["signature"])) == 64, where
        assert row["soroban_fee_write_1kb"] >= 0, where
    pa.Table.from_pydict(rows_to_columns(rows, SCHEMA), schema=SCHEMA)


def _fresh_header() -> xdr.LedgerHeader:
    return xdr.LedgerHeader.from_xdr(GOLDEN_2024[0]["ledger_header"])


@pytest.mark.parametrize("field", ["total_coins", "fee_pool"])
def test_negative_amounts_raise_naming_the_ledger(field: str) -> None:
    header = _fresh_header()
    setattr(header, field, xdr.Int64(-1))
    with pytest.raises(ledgers.LedgerTransformError, match="ledger 52929555"):
        ledgers.header_fields(header, b"\0" * 32)


def test_unsigned_close_value_gives_empty_node_and_signature() -> None:
    header = _fresh_header()
    header.scp_value.ext = xdr.StellarValueExt(xdr.StellarValueType.STELLAR_VALUE_BASIC)
    row = ledgers.header_fields(header, b"\0" * 32)
    assert (row["node_id"], row["signature"]) == ("", "")


def test_set_and_results_of_different_length_raise_naming_the_ledger() -> None:
    ledger = load_ledgers("testnet-p20-galexie", 1)[0]
    results = [trm.result.result for trm in ledger.body.tx_processing]
    with pytest.raises(ledgers.LedgerTransformError, match="ledger 997: 7 transactions in the set but 6 results"):
        ledgers.count_fields(ledger.sequence, ledger.envelopes, results[:-1])


def test_evicted_keys_are_typed_and_encoded() -> None:
    """No ledger in the datastores evicts anything, so a synthetic TTL key is planted in a real v2 LCM."""
    ledger = load_ledgers("standalone-p23-loadtest", 1)[0]
    copy = LedgerView(xdr.LedgerCloseMeta.from_xdr_bytes(ledger.lcm.to_xdr_bytes()), ledger.network_passphrase)
    key = xdr.LedgerKey(xdr.LedgerEntryType.TTL, ttl=xdr.LedgerKeyTtl(xdr.Hash(hashlib.sha256(b"k").digest())))
    copy.body.evicted_keys = [key]
    row = ledgers.ledger_row(copy)
    assert row["evicted_ledger_keys_type"] == ["LedgerEntryTypeTtl"]
    assert row["evicted_ledger_keys_hash"] == [key.to_xdr_bytes()]


def test_malformed_xdr_is_reported_with_the_ledger() -> None:
    ledger = load_ledgers("testnet-p20-galexie", 1)[0]
    copy = LedgerView(xdr.LedgerCloseMeta.from_xdr_bytes(ledger.lcm.to_xdr_bytes()), ledger.network_passphrase)
    copy.body.tx_processing[0].result.result.result.results = None  # a success without operation results
    with pytest.raises(ledgers.LedgerTransformError, match="ledger 997"):
        ledgers.transform(copy)
