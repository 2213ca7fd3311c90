"""SaveToDuckDB: a DuckDB database file with one view (or table) per archived table, refreshed at run end.

`views` (the default) point at the Parquet archive (``read_parquet`` over the table's Hive
partitions), so the database is small and always shows every run's committed files; `tables`
copy the archive into the database file. Both are rebuilt from the archive once the run's
manifest is written, so the database says exactly what the archive holds, reruns included.
"""

from __future__ import annotations

import logging
import os

import apache_beam as beam

from beam_pipeline.consumers import DuckDBSinkConfig
from beam_pipeline.util import fs

log = logging.getLogger(__name__)


def refresh(cfg: DuckDBSinkConfig, root: str, tables: tuple[str, ...]) -> list[str]:
    """(Re)creates the views or tables of `tables` over the archive at `root`; returns their names."""
    import duckdb

    path = os.path.expanduser(cfg.database_path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    made = []
    con = duckdb.connect(path)
    try:
        for table in tables:
            if not any(p.endswith(".parquet") for p, _ in fs.list_tree(fs.join(root, table))):
                continue  # nothing archived for this table (yet)
            name = f"{cfg.table_name}_{table}" if cfg.table_name else table
            glob = fs.join(root, table, "**", "*.parquet").replace("'", "''")
            select = f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
            kind = "VIEW" if cfg.mode == "views" else "TABLE"
            found = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                                [name]).fetchone()
            if found and (found[0] == "VIEW") != (kind == "VIEW"):  # the mode changed since the last run
                con.execute(f'DROP {"VIEW" if found[0] == "VIEW" else "TABLE"} "{name}"')
            con.execute(f'CREATE OR REPLACE {kind} "{name}" AS {select}')
            made.append(name)
    finally:
        con.close()
    log.info("SaveToDuckDB: %s %s in %s", cfg.mode, ", ".join(made) or "(none)", path)
    return made


class RefreshDuckDB(beam.PTransform):
    """The run's manifest -> the DuckDB views/tables rebuilt over the archive (after every commit)."""

    def __init__(self, cfg: DuckDBSinkConfig, root: str, tables: tuple[str, ...], dry_run: bool):
        super().__init__()
        self._args = (cfg, root, tuple(tables))
        self._dry_run = dry_run

    def expand(self, manifest):
        cfg, root, tables = self._args
        dry_run = self._dry_run
        return manifest | "RefreshViews" >> beam.Map(lambda _m: [] if dry_run else refresh(cfg, root, tables))
