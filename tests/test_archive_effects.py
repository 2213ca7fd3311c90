"""The effects table through the whole job: every partition scheme, metadata columns, binary XDR
encoding (effects have no XDR column, so the rows must not change), and `verify` over it.

Effects ids are strings (``"<operation_id>-<index>"``, as stellar-etl); `verify` keys them exactly.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from beam_pipeline.cli import main
from beam_pipeline.sample import write_sample_datastore
from beam_pipeline.sinks.partitioning import partition_path
from beam_pipeline.verify.scan import row_keys
from tests.harness import job_config, parquet_files, read_table, run_job

METADATA = {"_ingested_at", "_pipeline_name", "_run_id", "_source"}


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("sample") / "store"
    write_sample_datastore(str(out))
    return str(out)


@pytest.fixture(scope="module")
def baseline(sample_store, tmp_path_factory) -> list[dict]:
    tmp = tmp_path_factory.mktemp("baseline")
    assert run_job(job_config(sample_store, 2, 65, tmp / "out", ["effects"]), tmp) == 0
    rows = read_table(tmp / "out", "effects").sort_by("id").to_pylist()
    assert {r["type_string"] for r in rows} >= {"account_created", "account_credited", "trade", "trustline_created"}
    return rows


@pytest.mark.parametrize(
    "scheme, sink",
    [("ledger_day", {}), ("hour", {"include_metadata": True}), ("ledger_range", {"xdr_encoding": "binary"})],
)
def test_effects_in_every_partition_scheme(tmp_path, sample_store, baseline, scheme, sink):
    out = tmp_path / "out"
    cfg = job_config(sample_store, 2, 65, out, ["ledgers", "effects"], partition_by=scheme, ledgers_per_file=16, **sink)
    assert run_job(cfg, tmp_path) == 0
    for f in parquet_files(out, "effects"):
        rel = Path(f).parent.relative_to(out / "effects").as_posix()
        rows = pq.read_table(f, partitioning=None)
        pairs = zip(rows.column("ledger_sequence").to_pylist(), rows.column("closed_at").to_pylist(), strict=True)
        for ledger, closed in pairs:
            assert partition_path(scheme, int(closed.timestamp()), ledger, 16) == rel
    table = read_table(out, "effects")
    assert (METADATA <= set(table.column_names)) == bool(sink.get("include_metadata"))
    rows = [{k: v for k, v in r.items() if k not in METADATA} for r in table.sort_by("id").to_pylist()]
    assert rows == baseline
    assert main(["verify", "--path", str(out)]) == 0


def test_verify_keys_effect_ids_exactly_within_a_ledger():
    ids = pa.array(["132370956487413761-0", "132370956487413761-1", "132370956487426049-0", "132370956487413761-0"])
    keys = row_keys(ids).to_pylist()
    assert keys[0] == keys[3] and len(set(keys[:3])) == 3
    assert row_keys(pa.array([7, 8], pa.int64())).to_pylist() == [7, 8]
