"""SaveToParquet end to end on the FnApiRunner: layouts, codecs, shards, sizes, reruns, dry runs.

Partition tests use the generated sample store (its 64 ledgers cross an hour and a day boundary);
size and rerun tests use the real testnet-p19-lpf64 store (320 ledgers, 1145 transactions); overlapping
and disjoint runs are in tests/test_faults.py.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from beam_pipeline.sample import write_sample_datastore
from beam_pipeline.sinks.filesets import parse_file_name
from beam_pipeline.sinks.partitioning import partition_path
from tests.harness import assert_exact, datastore, job_config, manifests, parquet_files, read_table, run_job

P19 = "testnet-p19-lpf64"
TABLES = ["ledgers", "transactions"]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("sample") / "store"
    write_sample_datastore(str(out))
    return str(out)


def _run(tmp_path, cfg, *extra) -> None:
    assert run_job(cfg, tmp_path, *extra) == 0


def _sorted_rows(table, key):
    return table.sort_by([(key, "ascending")]).to_pylist()


def _no_temp_left(root) -> None:
    assert not os.path.exists(os.path.join(root, "_temporary"))


@pytest.mark.parametrize("scheme", ["ledger_day", "hour", "ledger_range"])
def test_rows_land_in_the_partition_of_their_close_time(tmp_path, sample_store, scheme):
    out = tmp_path / "out"
    _run(tmp_path, job_config(sample_store, 2, 65, out, TABLES, partition_by=scheme, ledgers_per_file=16))
    partitions = set()
    for table, column in (("ledgers", "sequence"), ("transactions", "ledger_sequence")):
        for f in parquet_files(out, table):
            rel = Path(f).parent.relative_to(out / table).as_posix()
            partitions.add(rel)
            rows = pq.read_table(f, partitioning=None)
            pairs = zip(rows.column(column).to_pylist(), rows.column("closed_at").to_pylist(), strict=True)
            for ledger, closed in pairs:
                assert partition_path(scheme, int(closed.timestamp()), ledger, 16) == rel
    expected = {
        "ledger_day": {"year=2025/month=01/day=01", "year=2025/month=01/day=02"},
        "hour": {"year=2025/month=01/day=01/hour=23", "year=2025/month=01/day=02/hour=00"},
        "ledger_range": {f"ledger_range={a}-{a + 15}" for a in range(0, 80, 16)},
    }[scheme]
    assert partitions == expected
    ledgers = read_table(out, "ledgers")
    assert sorted(ledgers.column("sequence").to_pylist()) == list(range(2, 66))
    _no_temp_left(out)


@pytest.fixture(scope="module")
def p19_first_batch(tmp_path_factory) -> list[dict]:
    """Transactions of the first 64-ledger batch, written with the default codec."""
    tmp = tmp_path_factory.mktemp("baseline")
    _run(tmp, job_config(datastore(P19), 1410048, 1410111, tmp / "out", TABLES))
    return _sorted_rows(read_table(tmp / "out", "transactions"), "id")


@pytest.mark.parametrize("codec", ["snappy", "gzip", "zstd", "lz4", "brotli", "none"])
def test_every_codec_reads_back_identically(tmp_path, codec, p19_first_batch):
    out = tmp_path / "out"
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410111, out, TABLES, compression=codec))
    files = parquet_files(out)
    assert len(files) == 2
    # pyarrow names the LZ4_RAW codec it writes "LZ4" in metadata; DuckDB below proves it reads back.
    expected_codec = {"none": "UNCOMPRESSED"}.get(codec, codec.upper())
    for f in files:
        meta = pq.ParquetFile(f).metadata
        codecs = {meta.row_group(i).column(j).compression for i in range(meta.num_row_groups)
                  for j in range(meta.num_columns)}
        assert codecs == {expected_codec}, (f, codecs)
    assert _sorted_rows(read_table(out, "transactions"), "id") == p19_first_batch
    hashes = duckdb.sql(f"SELECT transaction_hash FROM read_parquet('{out}/transactions/**/*.parquet')").fetchall()
    assert sorted(h for (h,) in hashes) == sorted(r["transaction_hash"] for r in p19_first_batch)


def test_shards_split_a_chunk_into_num_shards_files(tmp_path):
    single, sharded = tmp_path / "single", tmp_path / "sharded"
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410367, single, TABLES))
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410367, sharded, TABLES, num_shards=3))
    for table in TABLES:
        names = [parse_file_name(os.path.basename(f)) for f in parquet_files(sharded, table)]
        assert sorted({n.shard for n in names}) == [0, 1, 2]
        key = "sequence" if table == "ledgers" else "id"
        assert _sorted_rows(read_table(sharded, table), key) == _sorted_rows(read_table(single, table), key)


def test_files_roll_at_the_size_target_and_row_groups_hold_buffer_size_rows(tmp_path):
    out = tmp_path / "out"
    target_mb = 0.05
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410367, out, ["transactions"],
                              max_file_size_mb=target_mb, buffer_size=40))
    target = target_mb * 1024 * 1024
    files = sorted(parquet_files(out, "transactions"), key=lambda f: parse_file_name(os.path.basename(f)).part)
    assert len(files) >= 4
    sizes = [os.path.getsize(f) for f in files]
    for size in sizes[:-1]:
        assert 0.9 * target <= size <= 1.1 * target, sizes
    assert sizes[-1] <= 1.1 * target
    for f in files:
        meta = pq.ParquetFile(f).metadata
        assert all(meta.row_group(i).num_rows <= 40 for i in range(meta.num_row_groups))
    txs = read_table(out, "transactions")
    assert txs.num_rows == 1145
    assert len(set(txs.column("id").to_pylist())) == 1145


def test_rerun_of_the_same_range_replaces_its_files(tmp_path):
    out = tmp_path / "out"
    cfg = job_config(datastore(P19), 1410048, 1410200, out, TABLES)
    _run(tmp_path, cfg)
    first_files = set(parquet_files(out))
    first_rows = _sorted_rows(assert_exact(out, 1410048, 1410200), "id")
    _run(tmp_path, cfg)
    second_files = set(parquet_files(out))
    assert not (first_files & second_files)  # every file was replaced by the rerun's own
    assert _sorted_rows(assert_exact(out, 1410048, 1410200), "id") == first_rows
    runs = manifests(out)
    assert len(runs) == 2
    newest = max(runs, key=lambda m: m["run_id"])
    assert set(newest["replaced"]) == first_files
    assert {f["path"] for f in newest["files"]} == second_files
    assert newest["layout"]["partition_by"] == "ledger_day" and newest["layout"]["ledgers_per_file"] == 10000
    _no_temp_left(out)


def test_dry_run_writes_nothing_and_reports_what_it_would_write(tmp_path, capsys):
    out = tmp_path / "out"
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410111, out, TABLES, dry_run=True))
    assert not out.exists()
    printed = capsys.readouterr().out
    assert "would write 2 files" in printed
    assert re.search(r"^  ledgers +64 rows$", printed, re.M), printed
    assert re.search(r"^  transactions +241 rows$", printed, re.M), printed


def test_metadata_columns_and_schema_version(tmp_path):
    out = tmp_path / "out"
    cfg = job_config(datastore(P19), 1410048, 1410060, out, TABLES, include_metadata=True)
    _run(tmp_path, cfg, "--run_id", "r20260101T000000000000Zabcd")
    for f in parquet_files(out):
        schema = pq.read_schema(f)
        assert schema.metadata[b"stellar.schema_version"] == b"2"
        assert schema.metadata[b"stellar.table"].decode() in TABLES
    txs = read_table(out, "transactions")
    assert set(txs.column("_run_id").to_pylist()) == {"r20260101T000000000000Zabcd"}
    assert set(txs.column("_pipeline_name").to_pylist()) == {"test"}
    assert set(txs.column("_source").to_pylist()) == {"FFEA7C7F--1409920-1410559/FFEA7BFF--1410048-1410111.xdr.zst"}
    assert pc.min(txs.column("_ingested_at")).as_py().year >= 2026


def test_binary_xdr_encoding_holds_the_raw_bytes(tmp_path):
    b64_out, bin_out = tmp_path / "b64", tmp_path / "bin"
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410060, b64_out, ["transactions"]))
    _run(tmp_path, job_config(datastore(P19), 1410048, 1410060, bin_out, ["transactions"], xdr_encoding="binary"))
    as_text = _sorted_rows(read_table(b64_out, "transactions"), "id")
    as_bytes = _sorted_rows(read_table(bin_out, "transactions"), "id")
    assert read_table(bin_out, "transactions").schema.field("tx_envelope").type == "binary"
    assert [base64.b64encode(r["tx_envelope"]).decode() for r in as_bytes] == [r["tx_envelope"] for r in as_text]
