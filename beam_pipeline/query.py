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
        con.execute(
            f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{glob}', union_by_name = true, "
            "hive_partitioning = true)"
        )
    return con


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
