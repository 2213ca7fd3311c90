"""Every table of a run gets its directory and schema, even when the run found no rows for it.

Readers (Spark, DuckDB, Polars, pandas, BigQuery, our `query` command) fail on a table that has no
directory, which is where `contract_code`, `config_settings` and friends sit on most ranges. So a
table that has no file anywhere in the archive after a run gets one **zero-row file set**: a Parquet
file with the table's exact output schema, named and placed like any other file set of the run
(inside a real partition directory, so Hive partition discovery sees the same directory shape as for
every other table). Its claim under the newest-set-wins rule of `filesets` is true — the table has
no rows for those ledgers — and a later run with rows supersedes it like any older set.

The partition is the one of the run's first ledger: computed for ``ledger_range``, otherwise taken
from the earliest file set the run wrote for another table (day and hour partitions need a close
time). A run that wrote no file at all into day or hour partitions has nowhere true to put one,
and writes none.
"""

from __future__ import annotations

import hashlib
import io
import os

import pyarrow.parquet as pq

from beam_pipeline.records import get_table
from beam_pipeline.records.base import output_schema
from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.commit import FileRecord, PartitionPlan, temp_root
from beam_pipeline.sinks.partitioning import chunk_bounds, partition_path
from beam_pipeline.util import fs


def _has_files(root: str, table: str) -> bool:
    table_dir = fs.join(root, table)
    if fs.is_local(table_dir):
        return any(n.endswith(".parquet") for _, _, names in os.walk(table_dir) for n in names)
    from apache_beam.io.filesystems import FileSystems

    try:
        return bool(FileSystems.match([table_dir.rstrip("/") + "/**"], limits=[1])[0].metadata_list)
    except Exception:  # noqa: BLE001 - object stores raise for an absent prefix
        return False


def anchor(
    scheme: str, ledgers_per_file: int, run_range: tuple[int, int | None], written: list[tuple[str, int, int]]
) -> tuple[str, int, int] | None:
    """(partition, first, last) for a zero-row set: the run's first ledger's partition and chunk."""
    start, end = run_range
    if scheme == "ledger_range":
        lo, hi = chunk_bounds(start, ledgers_per_file)
        return partition_path(scheme, 0, start, ledgers_per_file), start, min(hi, end if end is not None else hi)
    return min(written, key=lambda w: (w[1], w[0])) if written else None


def plan_schema_files(
    root: str,
    run_id: str,
    tables: list[str] | tuple[str, ...],
    layout: dict,
    run_range: tuple[int, int | None],
    written: dict[str, list[tuple[str, int, int]]],
) -> list[PartitionPlan]:
    """Stages a zero-row file set for each of `tables` that has no file in the archive.

    `written` maps a table to the (partition, first, last) of the file sets this run commits. The
    files are written under the run's ``_temporary/`` and returned as partition plans, so they
    become final with the rest of the run's commit (all or nothing, see `commit.apply_plans`).
    """
    others = sorted({w for sets in written.values() for w in sets})
    where = anchor(layout["partition_by"], layout["ledgers_per_file"], run_range, others)
    if where is None:
        return []
    partition, first, last = where
    plans = []
    for table in tables:
        if written.get(table) or _has_files(root, table):
            continue
        schema = output_schema(get_table(table), layout["xdr_encoding"], layout["include_metadata"])
        buf = io.BytesIO()
        pq.write_table(schema.empty_table(), buf, compression=layout.get("compression", "zstd"))
        data = buf.getvalue()
        name = filesets.file_name(table, (first, last), run_id, 0, 0)
        temp = fs.join(temp_root(root, run_id), table, partition, name)
        final = fs.join(root, table, partition, name)
        fs.write_bytes(temp, data)
        record = FileRecord("written", final, table, partition, first, last, 0, len(data),
                            hashlib.sha256(data).hexdigest(), get_table(table).version)
        plans.append(PartitionPlan(table, partition, run_id, (), ((first, last),), ((temp, final),), (), (record,)))
    return plans
