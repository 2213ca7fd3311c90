"""Delta Lake logs over the archive's tables, through delta-rs (the ``deltalake`` package).

Each table directory ``{root}/{table}/`` is a Delta table: its ``_delta_log/`` sits beside the
Hive partition directories (readers of plain Parquet skip ``_`` directories) and references the
archive's files by their path below the table. Partition columns are the Hive directories' keys
(``year``, ``month``, ``day``, ``hour`` as integers; ``ledger_range`` as a string), so Delta readers
get the same columns as Spark or DuckDB reading the directories. On S3 and GCS, delta-rs reaches the
bucket with the job's storage settings (`stores.delta_storage_options`).

Commits never create checkpoints: a checkpoint is a ``.parquet`` file in ``_delta_log/``, which
``**/*.parquet`` globs over a table directory (DuckDB, Polars) would read as data. One commit per
run keeps the log short; a reader that wants checkpoints can write them with
``DeltaTable.create_checkpoint()`` and read only through Delta.
"""

from __future__ import annotations

import json
import time

import pyarrow as pa
from deltalake import DeltaTable, Field, Schema
from deltalake.exceptions import TableNotFoundError
from deltalake.transaction import (
    AddAction,
    CommitProperties,
    PostCommitHookProperties,
    RemoveAction,
    create_table_with_add_actions,
)

from beam_pipeline.sinks.table_formats import DataFile, TableFormat, file_size, footer, newest_schema
from beam_pipeline.sinks.table_formats.stores import delta_storage_options
from beam_pipeline.util import fs

PARTITION_COLUMNS = {
    "ledger_day": (("year", pa.int32()), ("month", pa.int32()), ("day", pa.int32())),
    "hour": (("year", pa.int32()), ("month", pa.int32()), ("day", pa.int32()), ("hour", pa.int32())),
    "ledger_range": (("ledger_range", pa.string()),),
}
NO_CHECKPOINTS = PostCommitHookProperties(create_checkpoint=False, cleanup_expired_logs=False)


def table_uri(root: str, table: str) -> str:
    return fs.join(root, table)


def partition_values(fmt: TableFormat, f: DataFile) -> dict[str, str]:
    """Delta's partition values of a file: the directory's, integers without Hive's zero padding."""
    values = f.values
    return {name: str(int(values[name])) if typ == pa.int32() else values[name]
            for name, typ in PARTITION_COLUMNS[fmt.partition_by]}


def _add(fmt: TableFormat, f: DataFile, now_ms: int) -> AddAction:
    stats = json.dumps({"numRecords": footer(f.path).num_rows})
    return AddAction(f.in_table, file_size(f), partition_values(fmt, f), now_ms, True, stats)


# Delta has no unsigned integers, and delta-rs maps uint32 to a 32-bit `integer` that readers cannot
# cast the files' values into (Polars refuses). Each unsigned column is declared as the signed type
# that holds every value (uint64 as `long`: values past 2^63 do not fit any Delta integer).
_SIGNED = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64(), pa.uint64(): pa.int64()}


def _schema(fmt: TableFormat, files: list[DataFile]) -> pa.Schema:
    """The table's schema: the newest file's (unsigned integers widened, see `_SIGNED`) and the partition columns."""
    schema = newest_schema(files)
    schema = pa.schema([f.with_type(_SIGNED.get(f.type, f.type)) for f in schema])
    for name, typ in PARTITION_COLUMNS[fmt.partition_by]:
        schema = schema.append(pa.field(name, typ))
    return schema


def _commit_properties(run_id: str) -> CommitProperties:
    return CommitProperties(custom_metadata={"stellar.run_id": run_id})


def open_table(root: str, table: str) -> DeltaTable | None:
    try:
        return DeltaTable(table_uri(root, table), storage_options=delta_storage_options(root))
    except TableNotFoundError:
        return None


def sync(root: str, fmt: TableFormat, table: str, live: list[DataFile], run_id: str) -> None:
    """One Delta commit after which the table lists exactly `live` (none when it already does)."""
    now_ms = int(time.time() * 1000)
    columns = [name for name, _ in PARTITION_COLUMNS[fmt.partition_by]]
    dt = open_table(root, table)
    if dt is None:
        if live:
            create_table_with_add_actions(
                table_uri(root, table), Schema.from_arrow(_schema(fmt, live)), [_add(fmt, f, now_ms) for f in live],
                mode="error", partition_by=columns, name=table, storage_options=delta_storage_options(root),
                commit_properties=_commit_properties(run_id), post_commithook_properties=NO_CHECKPOINTS,
            )
        return
    current = _current(dt)
    wanted = {f.in_table for f in live}
    new = [f for f in live if f.in_table not in current]
    old = [a for path, a in sorted(current.items()) if path not in wanted]
    if not new and not old:
        return  # committed already (a journal rolled forward twice)
    actions: list = [_add(fmt, f, now_ms) for f in new]
    actions += [RemoveAction(a["path"], True, now_ms, a["size"], a["values"]) for a in old]
    schema = pa.schema(dt.schema().to_arrow())
    if new:
        added = [f for f in _schema(fmt, new) if f.name not in schema.names]
        if added:  # schema_evolution added columns: a metadata commit of its own (a file commit keeps the old schema)
            dt.alter.add_columns([Field.from_arrow(f) for f in added], commit_properties=_commit_properties(run_id),
                                 post_commithook_properties=NO_CHECKPOINTS)
            schema = pa.schema(dt.schema().to_arrow())
    dt.create_write_transaction(actions, mode="append", schema=Schema.from_arrow(schema), partition_by=columns,
                                commit_properties=_commit_properties(run_id),
                                post_commithook_properties=NO_CHECKPOINTS)


def _current(dt: DeltaTable) -> dict[str, dict]:
    """path -> {path, size, values} of the table's live files."""
    actions = pa.table(dt.get_add_actions(flatten=True))
    names = [n for n in actions.column_names if n.startswith("partition.")]
    out = {}
    for row in actions.select(["path", "size_bytes", *names]).to_pylist():
        values = {n[len("partition."):]: (None if row[n] is None else str(row[n])) for n in names}
        out[row["path"]] = {"path": row["path"], "size": row["size_bytes"], "values": values}
    return out


def listed_files(root: str, fmt: TableFormat, table: str) -> dict[str, dict[str, str]] | None:
    """path below the table -> partition values, of the Delta table's live files; None when there is no table."""
    dt = open_table(root, table)
    if dt is None:
        return None
    return {path: a["values"] for path, a in _current(dt).items()}
