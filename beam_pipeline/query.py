"""``python -m beam_pipeline query``: SQL over a local archive with DuckDB.

Each table directory becomes a view of the same name, read with ``union_by_name`` so files of
different schema versions (``schema_evolution: true`` adds columns) read together. The Hive
partition columns are added as Spark, Polars and pandas add them (``year``/``month``/``day``
[/``hour``] as integers, ``ledger_range`` as a ``START-END`` string), so a query written for one
reader runs in the others.
"""

from __future__ import annotations

import argparse
import os
import sys

import duckdb


def connect(root: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per table found under `root`."""
    con = duckdb.connect()
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name.startswith("_") or not os.path.isdir(path):
            continue
        glob = os.path.join(path, "**", "*.parquet").replace("'", "''")
        types = ", ".join(f"'{k}': '{t}'" for k, t in hive_types(path).items())
        con.execute(
            f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{glob}', union_by_name = true, "
            f"hive_partitioning = true, hive_types = {{{types}}})"
        )
    return con


# What Spark, pyarrow and Polars infer for our partition keys. DuckDB alone keeps "01" as text
# (its autocast refuses leading zeros), so the types are given instead of guessed.
PARTITION_TYPES = {
    "year": "INTEGER", "month": "INTEGER", "day": "INTEGER", "hour": "INTEGER", "ledger_range": "VARCHAR",
}


def hive_types(table_dir: str) -> dict[str, str]:
    """The partition keys of a table directory (from its first ``key=value`` path), with their types."""
    keys, d = {}, table_dir
    while True:
        subdirs = sorted(n for n in os.listdir(d) if "=" in n and os.path.isdir(os.path.join(d, n)))
        if not subdirs:
            return keys
        key = subdirs[0].split("=", 1)[0]
        if key in PARTITION_TYPES:
            keys[key] = PARTITION_TYPES[key]
        d = os.path.join(d, subdirs[0])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", required=True, help="archive root (local_path/path_prefix)")
    parser.add_argument("--sql", required=True, help="a query over the table views, e.g. SELECT count(*) FROM ledgers")


def run(args: argparse.Namespace) -> int:
    if not os.path.isdir(args.root):
        print(f"error: {args.root}: no such archive directory", file=sys.stderr)
        return 2
    try:
        connect(args.root).sql(args.sql).show(max_width=160)
    except duckdb.Error as e:
        print(f"error: query failed: {e}", file=sys.stderr)
        return 1
    return 0
