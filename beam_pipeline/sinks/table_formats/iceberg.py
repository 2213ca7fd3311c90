"""Iceberg tables over the archive's tables, through ``pyiceberg`` and a catalog.

Catalog: by default the archive's own SQL catalog, a SQLite file at ``{root}/_iceberg/catalog.db``
(local archives only: SQLite needs a file system with locks). ``iceberg_catalog: NAME`` uses a
catalog of pyiceberg's own configuration instead (``.pyiceberg.yaml`` or ``PYICEBERG_CATALOG__NAME__*``
environment variables, where credentials belong): AWS Glue, a REST catalog (Polaris, Nessie, Unity,
BigLake's Iceberg REST endpoint), SQL on PostgreSQL. docs/table_formats.md has examples. The FileIO
that reads and writes the archive's bucket gets the job's storage settings (`stores.iceberg_properties`)
for every key the catalog's configuration leaves unset.

Each table is ``{iceberg_namespace}.{table}``, located at ``{root}/{table}`` with its metadata under
``{root}/_iceberg/{table}/`` (``write.metadata.path``), so table directories keep only the Hive
partitions that directory readers expect. Files are referenced in place through the table's name
mapping (our files carry no Iceberg field ids). Partitions are hidden: ``day(closed_at)``,
``hour(closed_at)`` (``ledger_closed_at`` in trades) or ``truncate(W, ledger_sequence)`` with the
value of the file's directory, so readers prune on the columns they filter anyway.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from datetime import date, datetime, timezone

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io.pyarrow import (
    compute_statistics_plan,
    data_file_statistics_from_parquet_metadata,
    parquet_path_to_id_mapping,
)
from pyiceberg.manifest import DataFile as IcebergDataFile
from pyiceberg.manifest import DataFileContent, FileFormat
from pyiceberg.table import Table, TableProperties
from pyiceberg.transforms import DayTransform, HourTransform, TruncateTransform
from pyiceberg.typedef import Record

from beam_pipeline.sinks.table_formats import DataFile, TableFormat, TableFormatError, file_size, footer, newest_schema
from beam_pipeline.sinks.table_formats.stores import iceberg_properties
from beam_pipeline.util import fs

META_DIR = "_iceberg"
RUN_PROPERTY = "stellar.run_id"
PARTITION_FIELD = "partition"
_EPOCH = date(1970, 1, 1)

# pyiceberg warns once per binary column of every file it registers (no min/max for them): noise here.
logging.getLogger("pyiceberg.io.pyarrow").setLevel(logging.ERROR)


def absolute(root: str) -> str:
    """Iceberg references files by absolute location: a relative local root (``local_path: out``) is made absolute."""
    return os.path.abspath(root) if fs.is_local(root) else root


def catalog(root: str, fmt: TableFormat) -> Catalog:
    """The configured catalog, or the archive's own SQLite catalog (local archives)."""
    root = absolute(root)
    if fmt.iceberg_catalog:
        cat = load_catalog(fmt.iceberg_catalog)
        # FileIO settings for the archive's bucket, from the job's (stores.py); the catalog's own win.
        for key, value in iceberg_properties(root).items():
            cat.properties.setdefault(key, value)
        return cat
    if not fs.is_local(root):
        raise TableFormatError(f"{root}: the archive's own Iceberg catalog is a SQLite file and needs a local "
                               "archive; set iceberg_catalog to a catalog of pyiceberg's configuration")
    meta = os.path.join(root, META_DIR)
    os.makedirs(meta, exist_ok=True)
    return SqlCatalog("archive", uri=f"sqlite:///{os.path.join(meta, 'catalog.db')}", warehouse=f"file://{meta}")


def _source_column(fmt: TableFormat, table: Table) -> str:
    names = [f.name for f in table.schema().fields]
    if fmt.partition_by == "ledger_range":
        return "ledger_sequence" if "ledger_sequence" in names else "sequence"
    for name in ("closed_at", "ledger_closed_at"):
        if name in names:
            return name
    raise TableFormatError(f"Iceberg table {table.name()}: no close-time column (closed_at) to partition by")


def _transform(fmt: TableFormat):
    if fmt.partition_by == "ledger_day":
        return DayTransform()
    if fmt.partition_by == "hour":
        return HourTransform()
    return TruncateTransform(fmt.ledgers_per_file)


def partition_values(fmt: TableFormat, f: DataFile) -> dict[str, str]:
    """The partition value Iceberg records for a file, from its directory (days / hours since 1970, chunk start)."""
    v = f.values
    if fmt.partition_by == "ledger_range":
        return {PARTITION_FIELD: v["ledger_range"].split("-", 1)[0]}
    day = date(int(v["year"]), int(v["month"]), int(v["day"]))
    if fmt.partition_by == "ledger_day":
        return {PARTITION_FIELD: str((day - _EPOCH).days)}
    hours = datetime(day.year, day.month, day.day, int(v["hour"]), tzinfo=timezone.utc).timestamp() // 3600
    return {PARTITION_FIELD: str(int(hours))}


def _ensure_layout(fmt: TableFormat, table: Table) -> Table:
    """Name mapping and partition spec: set once, right after the table is created (repeated if a crash cut in)."""
    with table.transaction() as tx:
        if tx.table_metadata.name_mapping() is None:
            tx.set_properties(**{TableProperties.DEFAULT_NAME_MAPPING:
                                 tx.table_metadata.schema().name_mapping.model_dump_json()})
        if tx.table_metadata.spec().is_unpartitioned():
            tx.update_spec().add_field(_source_column(fmt, table), _transform(fmt), PARTITION_FIELD).commit()
    return table


def _data_file(fmt: TableFormat, md, f: DataFile) -> IcebergDataFile:
    """An Iceberg data file entry for one of our files: footer statistics, the directory's partition value."""
    meta = footer(f.path)
    stats = data_file_statistics_from_parquet_metadata(
        parquet_metadata=meta,
        stats_columns=compute_statistics_plan(md.schema(), md.properties),
        parquet_column_mapping=parquet_path_to_id_mapping(md.schema()),
    )
    return IcebergDataFile.from_args(
        content=DataFileContent.DATA,
        file_path=f.path,
        file_format=FileFormat.PARQUET,
        partition=Record(int(partition_values(fmt, f)[PARTITION_FIELD])),
        file_size_in_bytes=file_size(f),
        sort_order_id=None,
        spec_id=md.default_spec_id,
        equality_ids=None,
        key_metadata=None,
        **stats.to_serialized_dict(),
    )


def open_table(root: str, fmt: TableFormat, table: str) -> Table | None:
    try:
        return catalog(root, fmt).load_table((fmt.iceberg_namespace, table))
    except NoSuchTableError:
        return None


def _current(table: Table) -> dict[str, IcebergDataFile]:
    """The data files of the current snapshot, read from its manifests (a scan would skip zero-row files)."""
    snapshot = table.current_snapshot()
    if snapshot is None:
        return {}
    out = {}
    for manifest in snapshot.manifests(table.io):
        for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
            out[entry.data_file.file_path] = entry.data_file
    return out


def sync(root: str, fmt: TableFormat, table: str, live: list[DataFile], run_id: str) -> None:
    """One snapshot after which the table lists exactly `live`: an overwrite when it drops files, else an append."""
    root = absolute(root)
    live = [dataclasses.replace(f, path=absolute(f.path)) for f in live]
    cat = catalog(root, fmt)
    ident = (fmt.iceberg_namespace, table)
    cat.create_namespace_if_not_exists(fmt.iceberg_namespace)
    try:
        tbl = cat.load_table(ident)
    except NoSuchTableError:
        if not live:
            return
        tbl = cat.create_table(ident, schema=newest_schema(live), location=fs.join(root, table),
                               properties={TableProperties.WRITE_METADATA_PATH: fs.join(root, META_DIR, table)})
    tbl = _ensure_layout(fmt, tbl)
    current = _current(tbl)
    wanted = {f.path for f in live}
    new = [f for f in live if f.path not in current]
    old = [df for path, df in sorted(current.items()) if path not in wanted]
    if not new and not old:
        return  # committed already (a journal rolled forward twice)
    with tbl.transaction() as tx:
        if new:
            schema = newest_schema(new)
            if set(schema.names) - {f.name for f in tx.table_metadata.schema().fields}:
                with tx.update_schema() as update:  # schema_evolution added columns
                    update.union_by_name(schema)
        producer = tx.update_snapshot(snapshot_properties={RUN_PROPERTY: run_id})
        with (producer.overwrite() if old else producer.fast_append()) as snapshot:
            for df in old:
                snapshot.delete_data_file(df)
            for f in new:
                snapshot.append_data_file(_data_file(fmt, tx.table_metadata, f))


def listed_files(root: str, fmt: TableFormat, table: str) -> dict[str, dict[str, str]] | None:
    """path below the table -> partition value, of the Iceberg table's current snapshot; None when there is no table."""
    root = absolute(root)
    tbl = open_table(root, fmt, table)
    if tbl is None:
        return None
    out = {}
    for path, df in _current(tbl).items():
        f = _relative(root, table, path)
        out[f] = {PARTITION_FIELD: str(df.partition[0])}
    return out


def _relative(root: str, table: str, path: str) -> str:
    """A data file's path below its table directory (paths outside it are kept whole, so they never match)."""
    prefix = fs.join(root, table).rstrip("/") + "/"
    bare = path.removeprefix("file://") if fs.is_local(root) else path
    return bare[len(prefix):].replace(os.sep, "/") if bare.startswith(prefix) else path
