"""token_transfers through the whole job: every partition scheme, both XDR encodings, metadata columns.

The table has no XDR columns and no unique id, so what can go wrong on the way to disk is the
partition a row lands in (by its ``closed_at`` or ``ledger_sequence``), nullable strings, the
float ``amount`` and the sink's extra columns. Each run must hold exactly the transform's rows.
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from beam_pipeline.records import get_table
from tests.harness import datastore, job_config, parquet_files, read_table, run_job
from tests.records._load import load_ledgers

STORE, FIRST, LAST = "testnet-p19-lpf64", 1410048, 1410111  # protocol 19: offers, path payments, pools
METADATA = ["_ingested_at", "_pipeline_name", "_run_id", "_source"]


def _expected() -> list[dict]:
    table = get_table("token_transfers")
    return [r for v in load_ledgers(STORE, LAST - FIRST + 1) for r in table.transform(v)]


def _sorted(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))


@pytest.mark.parametrize(
    "scheme, sink",
    [
        ("ledger_day", {}),
        ("hour", {"xdr_encoding": "binary"}),
        ("ledger_range", {"include_metadata": True, "ledgers_per_file": 16}),
    ],
)
def test_every_scheme_holds_exactly_the_transformed_rows(tmp_path, scheme, sink):
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), FIRST, LAST, out, ["token_transfers"], partition_by=scheme, **sink)
    assert run_job(cfg, tmp_path) == 0
    stored = read_table(out, "token_transfers").to_pylist()
    if sink.get("include_metadata"):
        for r in stored:
            added = {name: r.pop(name) for name in METADATA}
            assert added["_pipeline_name"] == "test" and all(v is not None for v in added.values())
    expected = _expected()
    assert {r["event_topic"] for r in expected} >= {"fee", "transfer"}
    assert _sorted(stored) == _sorted(expected)
    files = parquet_files(out, "token_transfers")
    marker = {"ledger_day": "year=", "hour": "hour=", "ledger_range": "/token_transfers/ledger_range="}[scheme]
    assert files and all(marker in f for f in files)
    assert pq.read_schema(files[0]).metadata[b"stellar.table"] == b"token_transfers"
