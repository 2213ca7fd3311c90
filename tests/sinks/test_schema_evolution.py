"""Archives that span schema versions: additive changes are allowed only with schema_evolution."""

from __future__ import annotations

import dataclasses

import duckdb
import pytest

import beam_pipeline.records.tables.ledgers as ledgers_module
from tests.harness import datastore, job_config, read_table, run_job

P19 = "testnet-p19-lpf64"


@pytest.fixture
def older_ledgers_table(monkeypatch):
    """Makes the ledgers table look like a version 0 that lacked the protocol_version column."""
    current = ledgers_module.TABLE
    dropped = "protocol_version"
    older_schema = current.schema.remove(current.schema.get_field_index(dropped))

    def transform(view):
        return [{k: v for k, v in row.items() if k != dropped} for row in current.transform(view)]

    monkeypatch.setenv("STELLAR_ARCHIVE_NATIVE", "0")  # the native core builds the current version only
    monkeypatch.setattr(ledgers_module, "TABLE", dataclasses.replace(current, schema=older_schema, version=0,
                                                                     transform=transform))
    return dropped, lambda: monkeypatch.setattr(ledgers_module, "TABLE", current)


@pytest.mark.parametrize("evolve", [True, False])
def test_newer_version_over_an_older_archive(tmp_path, older_ledgers_table, evolve, capsys):
    dropped, restore_current = older_ledgers_table
    out = tmp_path / "out"
    assert run_job(job_config(datastore(P19), 1410048, 1410200, out, ["ledgers"]), tmp_path) == 0
    restore_current()
    code = run_job(job_config(datastore(P19), 1410150, 1410250, out, ["ledgers"], schema_evolution=evolve), tmp_path)
    if not evolve:
        assert code == 2  # refused before the pipeline starts: nothing written
        err = capsys.readouterr().err
        assert "table 'ledgers': this run's schema differs from" in err
        now = ledgers_module.TABLE.version
        assert f"added ['{dropped}']" in err and f"schema version 0 in the archive, {now} in this run" in err
        assert "ledgers_1410048-1410200_" in err and "schema_evolution is false" in err  # names the file
        return
    assert code == 0
    # The older rows keep their older schema (the carried file), and read together with the new ones.
    rows = duckdb.sql(
        f"SELECT sequence, {dropped} FROM read_parquet('{out}/ledgers/**/*.parquet', union_by_name = true) "
        "ORDER BY sequence"
    ).fetchall()
    assert [r[0] for r in rows] == list(range(1410048, 1410251))
    assert all(r[1] is None for r in rows if r[0] < 1410150)
    assert all(r[1] == 19 for r in rows if r[0] >= 1410150)
    assert sorted(read_table(out, "ledgers").column("sequence").to_pylist()) == list(range(1410048, 1410251))


def test_same_version_other_settings_name_the_columns_and_a_rerun_never_drops_columns(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_job(job_config(datastore(P19), 1410048, 1410100, out, ["ledgers"], include_metadata=True), tmp_path) == 0
    # schema_evolution false: not "version 1 differs from version 1", but which columns and why; refused
    # before the pipeline starts (sinks/archive_schema.py), so nothing is written.
    code = run_job(job_config(datastore(P19), 1410048, 1410100, out, ["ledgers"], schema_evolution=False), tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert "table 'ledgers': this run's schema differs from" in err
    assert "dropped ['_ingested_at', '_pipeline_name', '_run_id', '_source']" in err
    assert "include_metadata is false in this run and true where the archive was written" in err
    # schema_evolution true: a rerun without the metadata columns would drop them from the archive: refused.
    code = run_job(job_config(datastore(P19), 1410048, 1410100, out, ["ledgers"], schema_evolution=True), tmp_path)
    err = capsys.readouterr().err
    assert code == 2 and "dropped ['_ingested_at'" in err and "schema_evolution allows only added columns" in err
    assert "_run_id" in read_table(out, "ledgers").column_names  # the archive is untouched
