"""Every reader gets the same tables: DuckDB, pyarrow, pandas, Polars and Spark on all three layouts.

One sample store (64 ledgers crossing an hour and a day boundary) is archived with
``partition_by`` ledger_day, hour and ledger_range. Each reader reads every table of each archive
the way an analyst would (a table directory with Hive partition discovery; pandas with its default
dtypes), and must find the same columns (the partition columns included), the same row counts,
and the same answers to the README's analyst queries as the `query` command. Tables with no rows
(the Soroban tables, pools and claimable balances on this store) must still read, with their full schema.

Spark runs in local mode in this process's JVM (one session for the module: starting it is most
of the module's time).
"""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import math
import re
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from beam_pipeline import query
from beam_pipeline.records import get_table, table_names
from beam_pipeline.sample import write_sample_datastore
from tests.harness import REPO, job_config, run_job

TABLES = list(table_names())  # every table, the ones without rows in the sample included
EMPTY = {"contract_events", "liquidity_pools", "claimable_balances", "contract_data", "contract_code", "ttl",
         "config_settings", "restored_keys"}
LAYOUTS = {"ledger_day": ["year", "month", "day"], "hour": ["year", "month", "day", "hour"],
           "ledger_range": ["ledger_range"]}
LPF = 16
README_SQL = re.findall(r"```sql\n(.*?)```", (REPO / "README.md").read_text(), re.S)
JSON_FIELD = re.compile(r"(\w+) ->> '(\w+)'")  # DuckDB's JSON field operator, as the README uses it
ANALYST_SQL = [s for s in README_SQL if "read_parquet" not in s]  # the ones over table names


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("readers")
    write_sample_datastore(str(tmp / "store"))
    out = {}
    for scheme in LAYOUTS:
        root = tmp / scheme
        cfg = job_config(str(tmp / "store"), 2, 65, root, TABLES, partition_by=scheme, ledgers_per_file=LPF)
        assert run_job(cfg, tmp) == 0
        out[scheme] = root
    return out


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("beam_pipeline-readers")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.ansi.doubleQuotedIdentifiers", "true")  # "index" is a column, as in standard SQL
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    logging.getLogger("py4j").setLevel(logging.WARNING)  # its connection finalizers log after capture ends


def _norm(v):
    """One comparable form per value: readers differ in Python types, not in answers."""
    if isinstance(v, dt.datetime):
        return (v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc).isoformat()
    if isinstance(v, pd.Timestamp):
        return _norm(v.to_pydatetime())
    if isinstance(v, decimal.Decimal | float):
        return None if math.isnan(float(v)) else round(float(v), 6)
    if hasattr(v, "item"):  # numpy scalars
        return _norm(v.item())
    return v


def _rows(rows) -> list[tuple]:
    return [tuple(_norm(v) for v in r) for r in rows]


class Readers:
    """Each reader's tables of one archive, and SQL over them (the reader's own SQL where it has one)."""

    def __init__(self, root: Path, spark):
        self.root, self.spark = root, spark

    def tables(self, reader: str) -> dict[str, object]:
        out = {}
        for t in TABLES:
            d = self.root / t
            if reader == "pyarrow":
                out[t] = ds.dataset(d, format="parquet", partitioning="hive").to_table()
            elif reader == "pandas":
                out[t] = pd.read_parquet(d)  # default dtypes, as an analyst gets them
            elif reader == "polars":
                out[t] = pl.read_parquet(f"{d}/**/*.parquet", hive_partitioning=True)
            elif reader == "spark":
                out[t] = self.spark.read.option("mergeSchema", "true").parquet(str(d))
        return out

    def sql(self, reader: str, sql: str, tables: dict) -> list[tuple]:
        if reader == "duckdb":
            return _rows(query.connect(str(self.root)).sql(sql).fetchall())
        if reader == "polars":
            # Polars SQL has no JSON operator: the fields become columns, extracted by Polars itself.
            for column, key in JSON_FIELD.findall(sql):
                tables = {n: f.with_columns(pl.col(column).str.json_path_match(f"$.{key}").alias(f"{column}__{key}"))
                          if column in f.columns else f for n, f in tables.items()}
            sql = JSON_FIELD.sub(lambda m: f"{m[1]}__{m[2]}", sql)
            return _rows(pl.SQLContext(frames=tables).execute(sql).collect().rows())
        if reader == "spark":
            for name, df in tables.items():
                df.createOrReplaceTempView(name)
            sql = JSON_FIELD.sub(lambda m: f"get_json_object({m[1]}, '$.{m[2]}')", sql)  # Spark's spelling
            return _rows(self.spark.sql(sql).collect())
        con = duckdb.connect()  # pandas / pyarrow: what the reader loaded, queried as loaded
        for name, frame in tables.items():
            con.register(name, frame)
        return _rows(con.sql(sql).fetchall())

    @staticmethod
    def shape(reader: str, frame) -> tuple[set[str], int]:
        if reader == "spark":
            return set(frame.columns), frame.count()
        if reader == "pyarrow":
            return set(frame.column_names), frame.num_rows
        return set(frame.columns), len(frame)


READERS = ["pyarrow", "pandas", "polars", "spark"]


@pytest.mark.parametrize("scheme", list(LAYOUTS))
def test_every_reader_reads_every_table_with_its_partition_columns(scheme, archives, spark):
    root = archives[scheme]
    readers = Readers(root, spark)
    con = query.connect(str(root))
    for reader in READERS:
        tables = readers.tables(reader)
        for t in TABLES:
            want_cols = {f.name for f in get_table(t).schema} | set(LAYOUTS[scheme])
            want_rows = con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]
            assert (t in EMPTY) == (want_rows == 0), (t, want_rows)
            assert readers.shape(reader, tables[t]) == (want_cols, want_rows), (scheme, reader, t)
            assert {c[0] for c in con.sql(f'DESCRIBE "{t}"').fetchall()} == want_cols


@pytest.mark.parametrize("scheme", list(LAYOUTS))
def test_readme_queries_give_identical_answers_in_every_reader(scheme, archives, spark):
    root = archives[scheme]
    readers = Readers(root, spark)
    assert len(ANALYST_SQL) >= 4
    sqls = ANALYST_SQL + [
        "SELECT count(*) AS n, count(DISTINCT sequence) AS ledgers FROM contract_code "
        "RIGHT JOIN ledgers ON contract_code.ledger_sequence = ledgers.sequence",
        # ids are 64-bit TOIDs: a reader that turned them into floats would match other rows
        "SELECT count(*) AS n, sum(o.id % 1000003) AS h FROM operations o JOIN transactions t "
        "ON o.transaction_id = t.id AND o.ledger_sequence = t.ledger_sequence",
        f"SELECT {', '.join(LAYOUTS[scheme])}, count(*) AS n FROM transactions "
        f"GROUP BY {', '.join(LAYOUTS[scheme])} ORDER BY min(ledger_sequence)",
    ]
    for sql in sqls:
        expected = readers.sql("duckdb", sql, {})
        assert expected, sql
        for reader in READERS:
            got = readers.sql(reader, sql, readers.tables(reader))
            # partition values: integers for year/month/day/hour, "START-END" strings for ledger_range
            got = [tuple(str(v) if isinstance(v, str) else v for v in r) for r in got]
            assert got == expected, (scheme, reader, sql)


@pytest.mark.parametrize("scheme", list(LAYOUTS))
def test_an_empty_table_is_one_zero_row_file_set_with_its_schema(scheme, archives, capsys):
    """The run found no contract_code / config_settings rows: one zero-row file with the exact output
    schema, in the partition of the run's first ledger, listed in the manifest (verify is exact)."""
    import pyarrow.parquet as pq

    from beam_pipeline.cli import main
    from beam_pipeline.records.base import output_schema
    from beam_pipeline.sinks.filesets import parse_file_name

    root = archives[scheme]
    first_ledgers_dir = next((root / "ledgers").rglob("ledgers_2-*.parquet")).parent.relative_to(root / "ledgers")
    for t in EMPTY:
        files = list((root / t).rglob("*.parquet"))
        assert len(files) == 1, files
        f = files[0]
        assert f.parent.relative_to(root / t) == first_ledgers_dir
        name = parse_file_name(f.name)
        assert name.table == t and name.first == 2
        pf = pq.ParquetFile(f)
        assert pf.metadata.num_rows == 0
        expected = output_schema(get_table(t), "base64", False)
        assert pf.schema_arrow.equals(expected) and pf.schema_arrow.metadata == expected.metadata
    assert main(["verify", "--path", str(root), "--manifests"]) == 0, capsys.readouterr().out


# The partition columns' types as each reader infers them from the directory names (README, Querying):
# integers for year/month/day/hour, a string for ledger_range, in widths the reader chooses.
PARTITION_TYPES = {
    "pyarrow": ("int32", "string"),
    "pandas": ("category[int32]", "category[str]"),  # pandas makes partition keys categorical
    "polars": ("Int64", "String"),
    "spark": ("int", "string"),
    "duckdb": ("INTEGER", "VARCHAR"),  # the query command's views
}


def _column_types(reader: str, frame) -> dict[str, str]:
    if reader == "pyarrow":
        return {f.name: str(f.type) for f in frame.schema}
    if reader == "pandas":
        return {c: f"category[{'str' if t.categories.dtype.kind in 'OT' else t.categories.dtype}]"
                if isinstance(t, pd.CategoricalDtype) else str(t) for c, t in frame.dtypes.items()}
    if reader == "polars":
        return {c: str(t) for c, t in frame.schema.items()}
    return {f.name: f.dataType.simpleString() for f in frame.schema.fields}


@pytest.mark.parametrize("scheme", list(LAYOUTS))
def test_integer_and_partition_columns_have_one_type_per_reader(scheme, archives, spark):
    """Every integer column is a signed 64-bit integer in every reader (Spark: bigint, not the decimal(20,0)
    of an unsigned column); nullable ones are pandas' Int64, not float64. Partition columns are integers
    (strings for ledger_range) everywhere, typed as documented."""
    root = archives[scheme]
    readers = Readers(root, spark)
    con = query.connect(str(root))
    integer = {"pyarrow": {"int64"}, "pandas": {"int64", "Int64"}, "polars": {"Int64"}, "spark": {"bigint"}}
    for reader in READERS:
        for t, frame in readers.tables(reader).items():
            types = _column_types(reader, frame)
            for f in get_table(t).schema:
                if pa.types.is_integer(f.type):
                    assert types[f.name] in integer[reader], (reader, t, f.name, types[f.name])
                    if reader == "pandas" and f.nullable:
                        assert types[f.name] == "Int64", (t, f.name)
            want = PARTITION_TYPES[reader][1 if scheme == "ledger_range" else 0]
            assert {types[c] for c in LAYOUTS[scheme]} == {want}, (reader, t, types)
    kind = 1 if scheme == "ledger_range" else 0
    for t in TABLES:
        described = {row[0]: row[1] for row in con.sql(f'DESCRIBE "{t}"').fetchall()}
        assert {described[f.name] for f in get_table(t).schema if pa.types.is_integer(f.type)} <= {"BIGINT"}, t
        assert {described[c] for c in LAYOUTS[scheme]} == {PARTITION_TYPES["duckdb"][kind]}, t


@pytest.fixture(scope="module")
def mainnet_ids(tmp_path_factory) -> Path:
    """operations and ledger_entry_changes of pubnet ledger 56065483: TOIDs near 2^57, far above 2^53."""
    from tests.harness import datastore

    tmp = tmp_path_factory.mktemp("ids")
    root = tmp / "archive"
    cfg = job_config(datastore("mainnet-p22-56065483"), 56065483, 56065483, root,
                     ["operations", "ledger_entry_changes"])
    assert run_job(cfg, tmp) == 0
    return root


def test_pandas_default_dtypes_join_operation_ids_as_duckdb_does(mainnet_ids, spark):
    """The issue's join: ledger_entry_changes.operation_id (nullable) to operations.id.

    As float64 (pandas' default for an integer column with nulls, without the files' dtype note) the ids
    of this ledger round to multiples of 32 and the join matches 8,838 rows instead of 838.
    """
    root = mainnet_ids
    sql = "SELECT count(*) FROM ledger_entry_changes c JOIN operations o ON c.operation_id = o.id"
    expected = query.connect(str(root)).sql(sql).fetchall()[0][0]
    assert expected == 838
    ops, changes = pd.read_parquet(root / "operations"), pd.read_parquet(root / "ledger_entry_changes")
    assert str(changes["operation_id"].dtype) == "Int64" and changes["operation_id"].isna().any()
    assert len(changes.merge(ops, left_on="operation_id", right_on="id")) == expected
    as_float = changes.assign(operation_id=changes["operation_id"].astype("float64"))
    assert len(as_float.merge(ops, left_on="operation_id", right_on="id")) == 8838  # the failure the note prevents
    polars = pl.read_parquet(f"{root}/ledger_entry_changes/**/*.parquet").join(
        pl.read_parquet(f"{root}/operations/**/*.parquet"), left_on="operation_id", right_on="id")
    assert len(polars) == expected
    for name in ("operations", "ledger_entry_changes"):
        spark.read.parquet(str(root / name)).createOrReplaceTempView(name)
    assert spark.sql(sql).collect()[0][0] == expected
