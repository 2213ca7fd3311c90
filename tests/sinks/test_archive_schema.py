"""One schema per table across the archive: a run whose schema differs from another partition's is refused.

Data: the generated sample store (ledgers 2..65) with ``ledger_range`` partitions of 16 ledgers, so
the second run (32..65) writes only partitions the first (2..31) never touched: the commit's own
per-partition check cannot see the difference, the run-wide check must.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from beam_pipeline.records import get_table
from beam_pipeline.sample import write_sample_datastore
from beam_pipeline.sinks.archive_schema import SchemaMismatchError, check_archive_schema
from tests.harness import job_config, run_job

TABLES = ["ledgers", "transactions"]


def _tree(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("schema")
    write_sample_datastore(str(tmp / "store"))
    out = tmp / "archive"
    cfg = job_config(str(tmp / "store"), 2, 31, out, TABLES, partition_by="ledger_range", ledgers_per_file=16)
    assert run_job(cfg, tmp) == 0
    return tmp / "store", out


def _second(store: Path, out: Path, tmp: Path, **sink) -> int:
    cfg = job_config(str(store), 32, 65, out, TABLES, partition_by="ledger_range", ledgers_per_file=16, **sink)
    return run_job(cfg, tmp)


@pytest.mark.parametrize("evolve", [True, False])
def test_turning_include_metadata_on_is_refused_naming_table_columns_and_option(first_run, tmp_path, capsys, evolve):
    store, out = first_run
    before = _tree(out)
    assert _second(store, out, tmp_path, include_metadata=True, schema_evolution=evolve) == 2
    err = capsys.readouterr().err
    assert "table 'ledgers': this run's schema differs from" in err
    assert "added ['_ingested_at', '_pipeline_name', '_run_id', '_source']" in err
    assert "include_metadata is true in this run and false where the archive was written" in err
    assert _tree(out) == before  # refused before anything was written


def test_switching_xdr_encoding_is_refused(first_run, tmp_path, capsys):
    store, out = first_run
    before = _tree(out)
    assert _second(store, out, tmp_path, xdr_encoding="binary") == 2
    err = capsys.readouterr().err
    assert "table 'ledgers'" in err and "changed ['ledger_header: string -> binary'" in err
    assert "xdr_encoding is binary in this run and base64 in the archive" in err
    assert _tree(out) == before


def test_the_same_settings_extend_the_archive(first_run, tmp_path):
    store, out = first_run
    assert _second(store, out, tmp_path) == 0
    assert {p.parent.name for p in (out / "ledgers").rglob("*.parquet")} == {
        f"ledger_range={a}-{a + 15}" for a in (0, 16, 32, 48, 64)
    }


def test_added_nullable_columns_follow_schema_evolution(first_run, tmp_path):
    """An archive file lacking a nullable column: allowed with schema_evolution, refused without."""
    _, out = first_run
    root = tmp_path / "copy"
    src = next((out / "transactions").rglob("transactions_2-15_*.parquet"))
    nullable = next(f.name for f in get_table("transactions").schema if f.nullable)
    dst = root / "transactions" / src.parent.name / src.name
    dst.parent.mkdir(parents=True)
    table = pq.read_table(src, partitioning=None)
    pq.write_table(table.drop_columns([nullable]), dst)
    check_archive_schema(str(root), ["transactions"], "base64", False, schema_evolution=True)
    with pytest.raises(SchemaMismatchError, match=rf"table 'transactions'.*added \['{nullable}'\].*"
                                                  "schema_evolution is false"):
        check_archive_schema(str(root), ["transactions"], "base64", False, schema_evolution=False)
