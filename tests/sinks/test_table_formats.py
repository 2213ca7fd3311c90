"""``table_format: delta | iceberg``: the tables read back exact after a run, a rerun and a crash.

The sample store (64 ledgers across an hour and a day boundary) is archived over ledgers 2-40 and
then 20-65 (a rerun of an overlapping range, which replaces files in every partition it touches)
with each table format and partition scheme. After each run the Delta table (read by delta-rs) and
the Iceberg table (read by pyiceberg through the archive's SQLite catalog) must hold exactly the
rows of the Parquet archive, partition columns included for Delta, with no row twice; the rerun
must be one Delta commit holding both the removes and the adds, and one Iceberg overwrite
snapshot. A crash between the Parquet commit and the table-format commit leaves a journal that
`verify` reports and the next run's repair completes; a tampered file list is a `verify` failure
naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from beam_pipeline import query
from beam_pipeline.config import ConfigError, parse_config
from beam_pipeline.sample import write_sample_datastore
from beam_pipeline.sinks import runs, table_formats
from tests.harness import job_config, run_captured, run_job, verify_archive

pytest.importorskip("deltalake")
pytest.importorskip("pyiceberg")

TABLES = ["ledgers", "transactions", "operations", "contract_code"]
KEYS = {"ledgers": "sequence", "transactions": "id", "operations": "id", "contract_code": "ledger_key_hash"}
PARTITION_COLUMNS = {"ledger_day": ["year", "month", "day"], "hour": ["year", "month", "day", "hour"],
                     "ledger_range": ["ledger_range"]}
LPF = 16


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tformat") / "store"
    write_sample_datastore(str(path))
    return str(path)


def _config(store: str, root: Path, start: int, end: int, fmt: str, scheme: str) -> dict:
    return job_config(store, start, end, root, TABLES, partition_by=scheme, ledgers_per_file=LPF, table_format=fmt)


def read_format(root: Path, fmt: str, table: str) -> pa.Table:
    """The table as the format's own reader returns it."""
    if fmt == "delta":
        from deltalake import DeltaTable

        return DeltaTable(str(root / table)).to_pyarrow_table()
    from pyiceberg.catalog.sql import SqlCatalog

    catalog = SqlCatalog("archive", uri=f"sqlite:///{root / '_iceberg' / 'catalog.db'}")
    return catalog.load_table(("stellar", table)).scan().to_arrow()


def _sorted_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return sorted(con.sql(sql).fetchall(), key=repr)


def assert_reads_as_archive(root: Path, fmt: str, scheme: str, ledgers: int) -> None:
    """Every table of the format holds exactly the archive's rows (Delta: with the same partition columns)."""
    archive = query.connect(str(root))
    for table in TABLES:
        got = read_format(root, fmt, table)
        data = [n for n in got.column_names if n not in PARTITION_COLUMNS[scheme]]
        columns = data + (PARTITION_COLUMNS[scheme] if fmt == "delta" else [])
        if fmt == "iceberg":
            assert not set(got.column_names) & set(PARTITION_COLUMNS[scheme]), got.column_names  # hidden partitions
        select = ", ".join(f'"{c}"' for c in columns)
        want = _sorted_rows(archive, f'SELECT {select} FROM "{table}"')
        con = duckdb.connect()
        con.register("got", got)
        assert _sorted_rows(con, f"SELECT {select} FROM got") == want, (fmt, scheme, table)
        key = KEYS[table]
        n, distinct = con.sql(f'SELECT count(*), count(DISTINCT "{key}") FROM got').fetchall()[0]
        assert n == distinct, (table, n, distinct)  # no row twice
        if table == "ledgers":
            assert n == ledgers
        if table == "contract_code":
            assert n == 0 and "ledger_key_hash" in got.column_names  # an empty table with its schema


def assert_polars_reads_as_archive(root: Path, fmt: str) -> None:
    """Polars' own Delta and Iceberg readers (pl.scan_delta, pl.scan_iceberg) read the same files as the archive.

    Only the id column: Polars refuses to read a uint64 column into Delta's signed `long` (the
    portable integer types of issue #18 make every integer column signed).
    """
    import polars as pl

    archive = query.connect(str(root))
    for table in ("transactions", "operations"):
        frame = pl.scan_delta(str(root / table)) if fmt == "delta" else pl.scan_iceberg(_iceberg_table(root, table))
        ids = sorted(frame.select("id").collect().get_column("id").to_list())
        assert ids == [r[0] for r in archive.sql(f'SELECT id FROM "{table}" ORDER BY id').fetchall()], (fmt, table)


def delta_commits(root: Path, table: str) -> list[list[dict]]:
    log = sorted((root / table / "_delta_log").glob("*.json"))
    return [[json.loads(line) for line in p.read_text().splitlines() if line.strip()] for p in log]


@pytest.mark.parametrize("scheme", list(PARTITION_COLUMNS))
@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_a_rerun_over_an_overlapping_range_is_one_transaction_and_reads_exact(fmt, scheme, store, tmp_path, capsys,
                                                                             monkeypatch):
    monkeypatch.setenv("POLARS_ICEBERG_PLANNER", "pyiceberg")  # Polars' own planner is another package
    root = tmp_path / "archive"
    assert run_job(_config(store, root, 2, 40, fmt, scheme), tmp_path) == 0
    assert_reads_as_archive(root, fmt, scheme, ledgers=39)
    assert run_job(_config(store, root, 20, 65, fmt, scheme), tmp_path) == 0
    assert_reads_as_archive(root, fmt, scheme, ledgers=64)
    assert_polars_reads_as_archive(root, fmt)
    rerun = sorted(m.name for m in (root / "_manifests").iterdir())[-1].removesuffix(".json")
    if fmt == "delta":
        commits = delta_commits(root, "transactions")
        assert len(commits) == 2  # created by the first run, one commit by the rerun
        actions = [next(iter(a)) for a in commits[1]]
        assert "remove" in actions and "add" in actions  # the replaced files leave in the commit that adds theirs
        info = next(a["commitInfo"] for a in commits[1] if "commitInfo" in a)
        assert info.get("stellar.run_id") == rerun
        assert not list((root / "transactions" / "_delta_log").glob("*.parquet"))  # no checkpoint for globs to read
    else:
        snapshot = _iceberg_table(root, "transactions").current_snapshot()
        assert snapshot.summary.operation.value == "overwrite"
        assert snapshot.summary["stellar.run_id"] == rerun
        assert len(_iceberg_table(root, "transactions").snapshots()) == 2
    code, out = verify_archive(capsys, "--path", str(root), "--manifests")
    assert code == 0, out


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_readers_see_the_old_or_the_new_table_while_a_rerun_commits(fmt, store, tmp_path, monkeypatch):
    """Read at the two moments of the commit that matter: after the renames (before the table-format
    transaction) the table is the first run's, its files all there; after the transaction (before the
    deletes) it is the rerun's. Neither read fails or doubles a row."""
    root = tmp_path / "archive"
    assert run_job(_config(store, root, 2, 40, fmt, "ledger_day"), tmp_path) == 0
    real = table_formats.sync_journal
    seen = []

    def reading_around(root_, journal):
        seen.append(read_format(root, fmt, "ledgers").column("sequence").to_pylist())
        real(root_, journal)
        assert all(Path(p).exists() for p in journal["deletes"])  # the replaced files are not deleted yet
        seen.append(read_format(root, fmt, "ledgers").column("sequence").to_pylist())

    monkeypatch.setattr(table_formats, "sync_journal", reading_around)
    assert run_job(_config(store, root, 20, 65, fmt, "ledger_day"), tmp_path) == 0
    before, after = seen
    assert sorted(before) == list(range(2, 41)) and sorted(after) == list(range(2, 66))


def _iceberg_table(root: Path, table: str):
    from pyiceberg.catalog.sql import SqlCatalog

    return SqlCatalog("archive", uri=f"sqlite:///{root / '_iceberg' / 'catalog.db'}").load_table(("stellar", table))


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_a_crash_between_the_parquet_and_the_table_format_commit_is_completed_by_the_next_run(
        fmt, store, tmp_path, capsys, monkeypatch):
    root = tmp_path / "archive"
    assert run_job(_config(store, root, 2, 40, fmt, "ledger_day"), tmp_path) == 0

    def crash(root, journal):
        raise OSError("killed between the renames and the table-format commit")

    monkeypatch.setattr(table_formats, "sync_journal", crash)
    code, _, err = run_captured(capsys, _config(store, root, 20, 65, fmt, "ledger_day"), tmp_path)
    assert code == 1 and "killed between" in err
    monkeypatch.undo()
    journals = list((root / "_commits").glob("*.json"))
    assert len(journals) == 1 and json.loads(journals[0].read_text())["table_format"]["name"] == fmt
    code, out = verify_archive(capsys, "--path", str(root))
    assert code == 1
    assert "commit journal of a run that crashed" in out
    assert f"in the archive but not listed by the {fmt} table of transactions" in out, out

    done = runs.repair(str(root))  # what the next run does first
    assert any("completed the commit" in d for d in done), done
    assert not list((root / "_commits").glob("*.json"))
    assert_reads_as_archive(root, fmt, "ledger_day", ledgers=64)
    if fmt == "delta":
        assert len(delta_commits(root, "transactions")) == 2  # the roll-forward committed once
    code, out = verify_archive(capsys, "--path", str(root), "--manifests")
    assert code == 0, out


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_verify_names_a_file_the_table_format_lists_wrongly(fmt, store, tmp_path, capsys):
    root = tmp_path / "archive"
    assert run_job(_config(store, root, 2, 65, fmt, "ledger_day"), tmp_path) == 0
    code, out = verify_archive(capsys, "--path", str(root))
    assert code == 0, out
    files = sorted((root / "operations").rglob("operations_*.parquet"))
    dropped = files[0].relative_to(root / "operations").as_posix()
    ghost = dropped.replace("operations_", "operations_9", 1)  # a path the archive does not hold
    if fmt == "delta":
        from deltalake import DeltaTable
        from deltalake.transaction import AddAction, RemoveAction

        dt = DeltaTable(str(root / "operations"))
        values = {"year": "2025", "month": "1", "day": "1"}
        dt.create_write_transaction(
            [RemoveAction(dropped, True, 0, files[0].stat().st_size, values),
             AddAction(ghost, 10, values, 0, True, json.dumps({"numRecords": 1}))],
            mode="append", schema=dt.schema(), partition_by=["year", "month", "day"])
        moved = files[1].relative_to(root / "operations").as_posix()  # listed again under another day
        dt = DeltaTable(str(root / "operations"))
        dt.create_write_transaction([RemoveAction(moved, True, 0, files[1].stat().st_size, values)], mode="append",
                                    schema=dt.schema(), partition_by=["year", "month", "day"])
        DeltaTable(str(root / "operations")).create_write_transaction(
            [AddAction(moved, files[1].stat().st_size, {**values, "day": "9"}, 0, True, "{}")], mode="append",
            schema=dt.schema(), partition_by=["year", "month", "day"])
    else:
        table = _iceberg_table(root, "operations")
        current = {e.data_file.file_path: e.data_file for m in table.current_snapshot().manifests(table.io)
                   for e in m.fetch_manifest_entry(table.io)}
        with table.transaction() as tx, tx.update_snapshot().overwrite() as snapshot:
            snapshot.delete_data_file(current[str(files[0])])
    code, out = verify_archive(capsys, "--path", str(root))
    assert code == 1
    assert f"{dropped}: in the archive but not listed by the {fmt} table of operations" in out, out
    if fmt == "delta":
        assert f"{ghost}: listed by the delta table of operations but not in the archive" in out, out
        assert f"{moved}: the delta table of operations records partition values" in out and "'day': '9'" in out
    assert "transactions" in out and "ledgers" in out  # the other tables are reported ok


def test_an_archive_switched_to_delta_registers_the_files_it_already_holds(store, tmp_path, capsys):
    root = tmp_path / "archive"
    assert run_job(_config(store, root, 2, 40, "parquet", "hour"), tmp_path) == 0
    assert not (root / "transactions" / "_delta_log").exists()
    assert run_job(_config(store, root, 30, 65, "delta", "hour"), tmp_path) == 0
    assert_reads_as_archive(root, "delta", "hour", ledgers=64)
    code, out = verify_archive(capsys, "--path", str(root), "--manifests")
    assert code == 0, out


@pytest.mark.parametrize("change, message", [
    ({"table_format": "hudi"}, "table_format: 'hudi' is not one of parquet, delta, iceberg"),
    ({"table_format": "delta", "partition_by": "tests.partition_funcs:by_hundred"},
     "a partition function's directories have none"),
    ({"table_format": "iceberg", "storage_type": "GCS", "bucket_name": "b", "local_path": None},
     "iceberg_catalog: required with table_format iceberg on GCS"),
    ({"iceberg_namespace": "a.b"}, "iceberg_namespace: 'a.b' is not a plain name"),
])
def test_table_format_config_errors_name_the_key(change, message, tmp_path):
    cfg = job_config("/store", 2, 65, tmp_path, TABLES)
    sink = cfg["pipeline"]["consumers"][0]["config"]
    sink.update(change)
    for k in [k for k, v in sink.items() if v is None]:
        del sink[k]
    with pytest.raises(ConfigError) as e:
        parse_config(cfg)
    assert message in str(e.value)


def test_a_streaming_tail_with_a_table_format_is_refused():
    cfg = {"pipeline": {
        "source": {"type": "rpc", "config": {"rpc_url": "http://127.0.0.1:1", "start_ledger": 2}},
        "processors": [{"type": "ledgers"}],
        "consumers": [{"type": "SaveToParquet", "config": {"local_path": "/tmp/x", "table_format": "delta"}}],
    }}
    with pytest.raises(ConfigError) as e:
        parse_config(cfg)
    assert "pipeline.consumers[0].config.table_format: delta is for batch jobs" in str(e.value)


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_columns_a_newer_schema_version_adds_reach_the_table(fmt, tmp_path):
    """schema_evolution lets a later run add columns: the table gains them, older files read them as null."""
    import datetime as dt

    import pyarrow.parquet as pq

    from beam_pipeline.sinks.filesets import file_name

    root = tmp_path / "archive"
    part = root / "ledgers" / "year=2025" / "month=01" / "day=01"
    part.mkdir(parents=True)
    closed = pa.array([dt.datetime(2025, 1, 1, 3, tzinfo=dt.timezone.utc)] * 2, pa.timestamp("us", tz="UTC"))
    old = pa.table({"sequence": pa.array([2, 3], pa.int64()), "closed_at": closed})
    new = old.append_column("extra", pa.array(["a", "b"]))
    fmt_ = table_formats.TableFormat(fmt, "ledger_day", 16)
    impl = table_formats.backend(fmt)
    runs_ = ["r20260101T000000000000Zaaaa", "r20260102T000000000000Zbbbb"]
    pq.write_table(old, part / file_name("ledgers", (2, 15), runs_[0], 0, 0))
    impl.sync(str(root), fmt_, "ledgers", table_formats.archive_files(str(root), "ledgers"), runs_[0])
    pq.write_table(new.slice(0, 1).set_column(0, "sequence", pa.array([16], pa.int64())),
                   part / file_name("ledgers", (16, 31), runs_[1], 0, 0))
    impl.sync(str(root), fmt_, "ledgers", table_formats.archive_files(str(root), "ledgers"), runs_[1])
    got = read_format(root, fmt, "ledgers").sort_by("sequence")
    assert got.column("sequence").to_pylist() == [2, 3, 16]
    assert got.column("extra").to_pylist() == [None, None, "a"]
    assert set(table_formats.listed_files(str(root), fmt_, "ledgers")) == {
        f"year=2025/month=01/day=01/{file_name('ledgers', r, run, 0, 0)}" for r, run in (((2, 15), runs_[0]),
                                                                                       ((16, 31), runs_[1]))}

