"""``assets`` is one row per asset over a whole run: the first ledger that mentions it wins.

The composite alone (TestPipeline on the FnApiRunner, chunks given out of order, batch and
per-window streaming), then whole runs of testnet-p19-lpf64, where PURPLE appears in 223 of the
320 ledgers: one process and two worker processes, every partition scheme, binary XDR and metadata
columns, each compared with the first-mention rows computed here from the table transform.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from beam_pipeline.cli import main
from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.dedupe import DedupeRunWide, deduplicated_tables, first_mention
from beam_pipeline.handoff import TableChunk, chunk_to_batch
from beam_pipeline.records import get_table, table_names
from beam_pipeline.records.base import output_schema
from tests.harness import datastore, job_config, read_table, run_job
from tests.records._load import load_ledgers

pytestmark = pytest.mark.timeout(300)

STORE, FIRST, LAST = "testnet-p19-lpf64", 1410048, 1410367


def test_only_assets_is_deduplicated_and_ties_break_on_position():
    assert deduplicated_tables(table_names()) == ("assets",)
    assert first_mention([(5, 0, "b"), (3, 7, "x"), (3, 2, "a"), (4, 0, "c")]) == (3, 2, "a")


def _asset_row(asset_id: int, ledger: int, hour: int = 4) -> dict:
    return {"asset_code": f"C{asset_id}", "asset_issuer": "G", "asset_type": "credit_alphanum4", "asset_id": asset_id,
            "closed_at": datetime(2022, 6, 10, hour, ledger % 60, tzinfo=timezone.utc), "ledger_sequence": ledger}


def _chunk(table: str, rows: list[dict], schema: pa.Schema) -> TableChunk:
    batch = pa.RecordBatch.from_pylist(rows, schema=schema)
    first = rows[0]
    close = int(first["closed_at"].timestamp()) if "closed_at" in first else 0
    return TableChunk(table, first["ledger_sequence"], close, len(rows),
                      zstandard.ZstdCompressor().compress(batch.serialize()))


def _run_composite(chunks: list[TableChunk], streaming: bool, expected: list[tuple]) -> None:
    schema = output_schema(get_table("assets"), "base64", False)
    sink = ParquetSinkConfig(storage_type="FS", local_path="/unused", partition_by="hour")

    def rows(chunk):
        if chunk.table != "assets":
            return [("other", chunk.ledger)]
        return [(r["asset_id"], r["ledger_sequence"]) for r in chunk_to_batch(chunk, schema).to_pylist()]

    with BeamTestPipeline(runner=FnApiRunner()) as p:
        got = (
            p
            | beam.Create(chunks)
            | beam.Map(lambda c: TimestampedValue(c, c.close_time))
            | DedupeRunWide(["ledgers", "assets"], sink, streaming=streaming)
            | beam.FlatMap(rows)
        )
        assert_that(got, equal_to(expected))


def _chunks() -> list[TableChunk]:
    schema = output_schema(get_table("assets"), "base64", False)
    other = TableChunk("ledgers", 7, 0, 1, b"opaque")  # passes through untouched
    return [
        _chunk("assets", [_asset_row(1, 20), _asset_row(2, 21)], schema),  # later ledgers first
        _chunk("assets", [_asset_row(2, 11), _asset_row(3, 12)], schema),
        _chunk("assets", [_asset_row(1, 10)], schema),
        _chunk("assets", [_asset_row(1, 30, hour=5), _asset_row(3, 31, hour=5)], schema),  # the next hour
        other,
    ]


def test_batch_keeps_the_lowest_ledger_of_each_asset_over_the_run():
    _run_composite(_chunks(), False, [("other", 7), (1, 10), (2, 11), (3, 12)])


def test_streaming_keeps_the_lowest_ledger_of_each_asset_per_window():
    _run_composite(_chunks(), True, [("other", 7), (1, 10), (2, 11), (3, 12), (1, 30), (3, 31)])


# --- whole runs --------------------------------------------------------------------------------


def _first_mentions(first: int, last: int) -> dict[int, dict]:
    table = get_table("assets")
    out: dict[int, dict] = {}
    for view in load_ledgers(STORE):
        if first <= view.sequence <= last:
            for row in table.transform(view):
                out.setdefault(row["asset_id"], row)  # ledgers come in order
    return out


def _stored(root) -> dict[int, dict]:
    rows = read_table(root, "assets").to_pylist()
    by_id = {r["asset_id"]: r for r in rows}
    assert len(by_id) == len(rows), "an asset_id written twice"
    return by_id


@pytest.fixture(scope="module")
def expected(shared_ledgers) -> dict[int, dict]:
    rows = _first_mentions(FIRST, LAST)
    table = get_table("assets")
    mentions = sum(1 for v in load_ledgers(STORE) for r in table.transform(v) if r["asset_code"] == "PURPLE")
    assert mentions == 223 and len(rows) == 70  # the same asset in many ledgers, many batch objects
    return rows


@pytest.mark.parametrize("scheme", ["ledger_day", "hour", "ledger_range"])
def test_a_run_keeps_each_asset_at_its_first_ledger(tmp_path, capsys, expected, scheme):
    out = tmp_path / "out"
    tables = ["ledgers", "assets", "trades", "account_signers"]
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables, partition_by=scheme, ledgers_per_file=16)
    assert run_job(cfg, tmp_path) == 0
    stored = _stored(out)
    assert stored == expected
    views = load_ledgers(STORE)
    trades = read_table(out, "trades").to_pylist()
    assert sorted((r["history_operation_id"], r["order"]) for r in trades) == sorted(
        (r["history_operation_id"], r["order"]) for v in views for r in get_table("trades").transform(v))
    signers = read_table(out, "account_signers").to_pylist()
    assert sorted((r["ledger_sequence"], r["account_id"], r["signer"]) for r in signers) == sorted(
        (r["ledger_sequence"], r["account_id"], r["signer"]) for v in views
        for r in get_table("account_signers").transform(v))
    assert trades and signers
    summary = capsys.readouterr().out
    assert re.search(r"assets +70 rows", summary), summary  # rows written, not rows before the combine
    assert main(["verify", "--path", str(out), "--manifests"]) == 0  # trades' close time is ledger_closed_at
    if scheme == "ledger_range":  # each row sits in the partition of its own ledger
        paths = list((out / "assets").glob("ledger_range=*/*.parquet"))
        assert paths
        for path in paths:
            start, end = map(int, path.parent.name.removeprefix("ledger_range=").split("-"))
            for ledger in pq.read_table(path, partitioning=None).column("ledger_sequence").to_pylist():
                assert start <= ledger <= end


def test_two_worker_processes_and_metadata_columns_give_the_same_rows(tmp_path, expected):
    """Every new table with two SDK worker processes: the rows the transforms give, assets once each."""
    out = tmp_path / "out"
    tables = ["assets", "trades", "account_signers"]
    cfg = job_config(datastore(STORE), FIRST, LAST, out, tables, include_metadata=True, xdr_encoding="binary",
                     ledgers_per_file=64, num_shards=2)
    code = run_job(cfg, tmp_path, "--direct_num_workers=2", "--direct_running_mode=multi_processing")
    assert code == 0
    stored = _stored(out)
    assert {k: {c: v[c] for c in expected[k]} for k, v in stored.items()} == expected
    for row in stored.values():  # the source object of the winning ledger
        first_of_object = FIRST + (row["ledger_sequence"] - FIRST) // 64 * 64
        assert row["_source"].endswith(f"--{first_of_object}-{first_of_object + 63}.xdr.zst")
        assert row["_pipeline_name"] == "test"
    views = load_ledgers(STORE)
    keys = {"trades": ("history_operation_id", "order"), "account_signers": ("ledger_sequence", "account_id", "signer")}
    for name, key in keys.items():
        table = get_table(name)
        want = sorted((r for v in views for r in table.transform(v)), key=lambda r: tuple(r[k] for k in key))
        got = sorted(read_table(out, name).to_pylist(), key=lambda r: tuple(r[k] for k in key))
        assert [{c: r[c] for c in table.schema.names} for r in got] == want, name
        assert all(r["_run_id"] and r["_source"] for r in got)


def test_a_later_range_lists_assets_again_at_their_first_ledger_in_it(tmp_path, shared_ledgers):
    out = tmp_path / "out"
    first = 1410200
    assert run_job(job_config(datastore(STORE), first, LAST, out, ["assets"]), tmp_path) == 0
    assert _stored(out) == _first_mentions(first, LAST)
