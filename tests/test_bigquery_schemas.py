"""BigQuery schema files: valid for ``bq load``, Hubble's names and types where Hubble has the table.

The Hubble facts (tests/hubble_schemas.py) are (name, type) pairs read from
stellar/stellar-etl-airflow ``schemas/`` for the 19 tables we share; Hubble's modes are NULLABLE,
ours say REQUIRED where the column is never null. Known differences are pinned, so the test
fails when either side changes. JSON-typed columns are checked to hold valid JSON on real ledgers.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_pipeline.bigquery import JSON_COLUMNS, table_schema, write_schemas
from beam_pipeline.cli import main
from beam_pipeline.records import get_table, table_names
from beam_pipeline.records.base import output_schema
from tests.harness import datastore, job_config, parquet_files, run_job
from tests.hubble_schemas import HUBBLE

BQ_TYPES = {"STRING", "BYTES", "INTEGER", "FLOAT", "NUMERIC", "BIGNUMERIC", "BOOLEAN", "TIMESTAMP", "DATE",
            "TIME", "DATETIME", "GEOGRAPHY", "JSON", "RECORD"}
AIRFLOW_COLUMNS = {"batch_id", "batch_run_date", "batch_insert_ts"}  # added by Hubble's loader, not by stellar-etl

# (table, column): (ours, Hubble's) — what still differs, and why; "[]" marks REPEATED.
KNOWN_DIFFERENCES = {
    ("ledgers", "ledger_header"): ("STRING", "BYTES"),  # base64 text as stellar-etl's output has it (BYTES if binary)
    ("ledgers", "tx_set_operation_count"): ("STRING", "INTEGER"),  # stellar-etl's Go struct has a string
    ("operations", "details"): ("JSON", "RECORD"),  # one JSON document; Hubble unpacks it into a RECORD
    ("effects", "details"): ("JSON", "RECORD"),
    ("contract_events", "topics"): ("STRING[]", "JSON"),  # base64 XDR per topic, not a JSON document
    ("contract_events", "data"): ("STRING", "JSON"),  # one base64 XDR string, not valid JSON
    ("contract_data", "key"): ("STRING", "JSON"),  # base64 XDR (the decoded form is key_decoded, JSON)
    ("contract_data", "val"): ("STRING", "JSON"),  # base64 XDR (val_decoded is JSON)
    ("accounts", "sequence_time"): ("INTEGER", "TIMESTAMP"),  # seconds since the epoch, as stellar-etl writes it
    ("account_signers", "weight"): ("INTEGER", "FLOAT"),  # signer weights are integers 0-255
    ("claimable_balances", "claimants"): ("JSON", "RECORD[]"),  # a JSON array of claimants
    ("config_settings", "contract_cost_params_cpu_insns"): ("STRING", "RECORD[]"),  # JSON text, no rows to check
    ("config_settings", "contract_cost_params_mem_bytes"): ("STRING", "RECORD[]"),
}


def test_every_table_has_a_valid_bigquery_schema_file(tmp_path, capsys):
    assert main(["schemas", "--bigquery", str(tmp_path)]) == 0
    assert sorted(p.stem for p in tmp_path.glob("*.json")) == sorted(table_names())
    for name in table_names():
        fields = json.loads((tmp_path / f"{name}.json").read_text())
        assert fields and all(set(f) == {"name", "type", "mode"} for f in fields), name
        assert all(f["type"] in BQ_TYPES and f["mode"] in {"NULLABLE", "REQUIRED", "REPEATED"} for f in fields)
        assert len({f["name"] for f in fields}) == len(fields)
    binary = {f["name"]: f["type"] for f in table_schema("ledgers", "binary")}
    assert binary["ledger_header"] == "BYTES"
    meta = [f["name"] for f in table_schema("ledgers", include_metadata=True)]
    assert meta[-4:] == ["_ingested_at", "_pipeline_name", "_run_id", "_source"]
    assert len(write_schemas(str(tmp_path / "binary"), "binary")) == len(table_names())
    assert {f["name"]: f["type"] for f in json.loads((tmp_path / "binary" / "ledgers.json").read_text())}[
        "ledger_header"] == "BYTES"


@pytest.mark.parametrize("table", sorted(HUBBLE))
def test_names_and_types_equal_hubbles_but_for_the_pinned_differences(table):
    ours = {f["name"]: f["type"] + ("[]" if f["mode"] == "REPEATED" else "") for f in table_schema(table)}
    hubble = HUBBLE[table]
    assert set(hubble) - AIRFLOW_COLUMNS <= set(ours), set(hubble) - set(ours)
    differ = {(table, n): (ours[n], t) for n, t in hubble.items() if n in ours and ours[n] != t}
    assert differ == {k: v for k, v in KNOWN_DIFFERENCES.items() if k[0] == table}


def test_json_typed_columns_hold_valid_json(tmp_path):
    """Every JSON-typed column parses, on real ledgers that have rows for it."""
    out = tmp_path / "out"
    runs = [("testnet-p19-lpf64", 1410048, 1410367, ["operations", "claimable_balances", "effects"]),
            ("standalone-p23-loadtest", 84, 85, ["contract_events", "contract_data"])]
    for store, start, end, tables in runs:
        assert run_job(job_config(datastore(store), start, end, out, tables), tmp_path) == 0
    checked = {}
    for table, column in sorted(JSON_COLUMNS):
        values = [v for f in parquet_files(out, table) for v in pq.read_table(f, partitioning=None)
                  .column(column).to_pylist() if v is not None]
        for v in values:
            json.loads(v)  # raises on invalid JSON
        checked[(table, column)] = len(values)
    assert all(n > 0 for n in checked.values()), checked


def test_every_integer_column_is_int64_in_the_files_and_integer_where_hubble_has_integer():
    """``bq load`` converts no integer: each INTEGER column is stored int64 (never uint64, which BigQuery
    cannot hold). Hubble's INTEGER columns are INTEGER here, but for the one stellar-etl exports as text."""
    for name in table_names():
        stored = output_schema(get_table(name), "binary", True)
        for f in table_schema(name, "binary", include_metadata=True):
            t = stored.field(f["name"]).type
            scalar = t.value_type if pa.types.is_list(t) else t
            assert (f["type"] == "INTEGER") == pa.types.is_integer(scalar), (name, f)
            assert f["type"] != "INTEGER" or scalar == pa.int64(), (name, f["name"], t)
    ours = {(t, f["name"]): f["type"] + ("[]" if f["mode"] == "REPEATED" else "") for t in HUBBLE
            for f in table_schema(t)}
    not_integer = {(t, c) for t, columns in HUBBLE.items() for c, kind in columns.items()
                   if kind.startswith("INTEGER") and (t, c) in ours and ours[(t, c)] != kind}
    assert not_integer == {("ledgers", "tx_set_operation_count")}  # KNOWN_DIFFERENCES says why
