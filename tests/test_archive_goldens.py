"""The whole job against stellar-etl: archive ledger 30820015, read the Parquet back, compare
every field of every golden row (both TransactionMeta versions), and archive the issue's config.

The table tests compare transform output; these compare what lands on disk, so they also cover
storage: base64 XDR columns, timestamps, integer widths, JSON columns and nulls.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import yaml

from tests.harness import REPO, datastore, job_config, read_golden, read_table, run_job

LEDGER = 30820015
TABLES = ["ledgers", "transactions", "operations", "assets", "token_transfers", "effects"]
JSON_COLUMNS = {"details", "details_json"}


@pytest.fixture(scope="module", params=["metav4", "metav2"])
def archive(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(request.param)
    out = tmp / "out"
    cfg = job_config(datastore(f"mainnet-p13-30820015-{request.param}"), LEDGER, LEDGER, out, TABLES)
    assert run_job(cfg, tmp) == 0
    return request.param, out


def _stored(value):
    """A Parquet value in the form stellar-etl's JSON export uses."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def _compare(golden_rows: list[dict], stored_rows: list[dict], key: str) -> None:
    stored = {r[key]: r for r in stored_rows}
    assert sorted(stored) == sorted(g[key] for g in golden_rows)
    for golden in golden_rows:
        row = stored[golden[key]]
        for field, expected in golden.items():
            assert field in row, f"column {field} missing"
            actual = _stored(row[field])
            if field in JSON_COLUMNS:
                actual = json.loads(actual)
            assert actual == expected, f"{key}={golden[key]} {field}: {actual!r} != {expected!r}"


def test_transactions_match_the_golden_field_for_field(archive):
    version, out = archive
    golden = read_golden("transactions/one_ledger_txs.golden" if version == "metav4"
                         else "transactions/one_ledger_txs.metav2.golden")
    _compare(golden, read_table(out, "transactions").to_pylist(), "id")


def test_operations_match_the_golden_field_for_field(archive):
    _, out = archive
    _compare(read_golden("operations/one_ledger_ops.golden"), read_table(out, "operations").to_pylist(), "id")


def test_assets_match_the_golden_field_for_field(archive):
    """stellar-etl's export_assets: payment and sell-offer assets of every transaction, failed ones too."""
    _, out = archive
    golden = read_golden("assets/one_ledger_assets.golden")
    stored = read_table(out, "assets").to_pylist()
    assert len(stored) == len(golden) == 16
    _compare(golden, stored, "asset_id")


def test_token_transfers_match_the_golden_field_for_field(archive):
    """No column is unique here: rows are matched on (transaction, operation, topic, amount), unique in the golden."""
    _, out = archive

    def key(row: dict) -> tuple:
        return row["transaction_id"], row["operation_id"] or 0, row["event_topic"], row["amount_raw"]

    golden = read_golden("token_transfers/one_ledger_token_transfers.golden")
    stored = [{k: _stored(v) for k, v in r.items()} for r in read_table(out, "token_transfers").to_pylist()]
    assert len({key(g) for g in golden}) == len(golden) == len(stored) == 60
    assert sorted(stored, key=key) == sorted(golden, key=key)


def test_effects_match_the_golden_field_for_field(archive):
    _, out = archive
    _compare(read_golden("effects/one_ledger_effects.golden"), read_table(out, "effects").to_pylist(), "id")


def test_ledger_counts_match_a_recount_of_the_golden_transactions(archive):
    _, out = archive
    (ledger,) = read_table(out, "ledgers").to_pylist()
    txs = read_golden("transactions/one_ledger_txs.golden")
    ops = read_golden("operations/one_ledger_ops.golden")
    successful = [t for t in txs if t["successful"]]
    assert ledger["sequence"] == LEDGER
    assert ledger["successful_transaction_count"] == len(successful) == 44
    assert ledger["failed_transaction_count"] == len(txs) - len(successful) == 15
    assert ledger["transaction_count"] == 44  # stellar-etl counts successful transactions only
    assert ledger["operation_count"] == sum(t["operation_count"] for t in successful)
    assert ledger["tx_set_operation_count"] == str(len(ops))
    assert ledger["ledger_hash"] == "b72b71394327c4f57c794afb8071fd1279903d9e1b9d90177ff36d64f4a24ad7"
    assert _stored(ledger["closed_at"]) == "2020-07-27T21:12:51Z"


def test_the_issue_config_archives_testnet_p19(tmp_path):
    """The config of the issue, as written in config/examples, over the whole 320-ledger store."""
    cfg = yaml.safe_load((REPO / "config/examples/parquet-archival-local.yaml").read_text())
    cfg["pipeline"]["source"]["config"]["path"] = datastore("testnet-p19-lpf64")
    cfg["pipeline"]["consumers"][0]["config"]["local_path"] = str(tmp_path / "archive")
    assert run_job(cfg, tmp_path) == 0
    root = tmp_path / "archive" / cfg["pipeline"]["consumers"][0]["config"].get("path_prefix", "")
    ledgers = read_table(root, "ledgers")
    assert sorted(ledgers.column("sequence").to_pylist()) == list(range(1410048, 1410368))
    txs = read_table(root, "transactions")
    assert txs.num_rows == 1145
    total = sum(r["successful_transaction_count"] + r["failed_transaction_count"] for r in ledgers.to_pylist())
    assert total == txs.num_rows
    ops = read_table(root, "operations")
    assert ops.num_rows == sum(t["operation_count"] for t in txs.to_pylist())
