"""``migrate-layout``'s second step: files of the old integer types rewritten with int64 columns.

Schema version 1 stored the XDR's own integer types (uint32, uint64, int32). Spark reads uint64 as
decimal(20,0), Delta Lake and Iceberg have no unsigned types, and BigQuery (Hubble) types every
integer INTEGER, so version 2 stores every integer column as int64 (docs/tables.md, Integer types).
A run refuses to add version-2 files beside version-1 ones of the same table (one schema per table
across the archive), naming ``migrate-layout``, which calls `migrate` here.

Every table file whose integer columns differ from today's types is rewritten, row group by row
group, with the same columns, compression and row groups, and today's schema metadata (schema
version, pandas' dtype note). A value that does not fit int64 (an XDR uint64 of 2^63 or more)
stops the migration naming the file and the column; nothing is wrapped. The steps, each safe to
repeat after an interruption:

1. each file is written beside itself as a hidden ``.{name}.int64`` (readers skip dot files), and
   its size and sha256 are noted;
2. every manifest entry of those files gets the new size, sha256 and schema version;
3. each hidden file replaces its original.

Interrupted before 3, the originals still have the old types, so a second run redoes it all (and
the manifests take the new sizes again); interrupted during 3, the replaced files are done and the
rest are redone. A completed archive reports nothing to rewrite.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from beam_pipeline.records import get_table, table_names
from beam_pipeline.records.base import METADATA_FIELDS, first_out_of_range, ledger_column, output_schema
from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.parquet_files import RollingParquetWriter
from beam_pipeline.util import fs

MANIFEST_DIR = "_manifests"  # sinks.manifest imports Beam; the name is all this needs
_CODECS = {"uncompressed": "none", "lz4_raw": "lz4"}  # Parquet's codec names that differ from the sink's


class IntegerMigrationError(ValueError):
    """A file that cannot be rewritten with today's integer types (a value out of range, other columns)."""


@dataclass(frozen=True)
class Rewrite:
    path: str
    table: str
    partition: str  # relative to the table directory, as manifests record it
    changed: tuple[str, ...]  # "column: old -> new"


def _open(path: str):
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path)


def _read_schema(path: str) -> pa.Schema:
    with _open(path) as f:
        return pq.ParquetFile(f).schema_arrow


def target_schema(table: str, old: pa.Schema) -> pa.Schema:
    """Today's stored schema for a file of `table` written with `old`'s settings (XDR encoding, run metadata)."""
    encoding = (old.metadata or {}).get(b"stellar.xdr_encoding", b"base64").decode()
    include_metadata = METADATA_FIELDS[0].name in old.names
    return output_schema(get_table(table), encoding, include_metadata)


def integer_changes(old: pa.Schema, new: pa.Schema) -> list[str]:
    """The integer columns whose type differs between the two schemas, as "column: old -> new"."""

    def scalar(t: pa.DataType) -> pa.DataType:
        return t.value_type if pa.types.is_list(t) else t

    out = []
    for f in old:
        i = new.get_field_index(f.name)
        if i < 0:
            continue
        t = new.field(i).type
        if pa.types.is_integer(scalar(f.type)) and pa.types.is_integer(scalar(t)) and not f.type.equals(t):
            out.append(f"{f.name}: {f.type} -> {t}")
    return out


def _table_files(root: str, table: str) -> list[tuple[str, str]]:
    """(path, partition) of `table`'s archive files."""
    table_dir = fs.join(root, table)
    if fs.is_local(table_dir) and not os.path.isdir(table_dir):
        return []
    try:
        listed = fs.list_tree(table_dir)
    except Exception:  # noqa: BLE001 - object stores raise for an absent prefix
        return []
    out = []
    for path, _ in listed:
        rel = path[len(table_dir.rstrip("/")) :].lstrip("/").replace(os.sep, "/")
        partition, _, base = rel.rpartition("/")
        parsed = filesets.parse_file_name(base)
        if parsed is not None and parsed.table == table and not partition.startswith("_"):
            out.append((path, partition))
    return out


def plan(root: str) -> list[Rewrite]:
    """Every table file whose integer columns are not of today's types."""
    out = []
    for table in table_names():
        for path, partition in _table_files(root, table):
            old = _read_schema(path)
            changed = integer_changes(old, target_schema(table, old))
            if changed:
                out.append(Rewrite(path, table, partition, tuple(changed)))
    return out


def table_format_logs(root: str, tables: set[str]) -> list[str]:
    """The Delta logs (``{table}/_delta_log``) and Iceberg metadata (``_iceberg``) over these tables' files.

    Their entries record each file's size, statistics and types: rewriting the files under them would
    leave them describing files that are no longer there as they were.
    """
    candidates = [fs.join(root, t, "_delta_log") for t in sorted(tables)] + [fs.join(root, "_iceberg")]
    found = []
    for path in candidates:
        try:
            present = os.path.isdir(path) if fs.is_local(path) else bool(fs.list_tree(path))
        except Exception:  # noqa: BLE001 - object stores raise for an absent prefix
            present = False
        if present:
            found.append(path)
    return found


def _hidden(path: str) -> str:
    head, _, base = path.replace(os.sep, "/").rpartition("/")
    return f"{head}/.{base}.int64" if head else f".{base}.int64"


def _compression(meta: pq.FileMetaData) -> str:
    if meta.num_row_groups == 0 or meta.num_columns == 0:
        return "zstd"
    codec = meta.row_group(0).column(0).compression.lower()
    return _CODECS.get(codec, codec)


def _converted(batch: pa.RecordBatch, schema: pa.Schema, path: str) -> pa.RecordBatch:
    """`batch` in `schema` (same columns); a value out of its new type's range names the file and column."""
    if batch.schema.names != schema.names:
        raise IntegerMigrationError(
            f"{path}: columns {batch.schema.names} are not those of today's schema {schema.names}; only integer "
            "types are migrated (a file of another schema version or settings: rerun its range into a fresh root)"
        )
    arrays = []
    for array, f in zip(batch.columns, schema, strict=True):
        if not array.type.equals(f.type):
            try:
                array = array.cast(f.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                target = f.type.value_type if pa.types.is_list(f.type) else f.type
                values = array.flatten() if pa.types.is_list(array.type) else array
                bad = first_out_of_range(values.to_pylist(), target) if pa.types.is_integer(target) else None
                what = f"value {bad} does not fit {target}" if bad is not None else str(e)
                raise IntegerMigrationError(f"{path}: column {f.name}: {what}; the file is left as it was") from e
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def rewrite_hidden(r: Rewrite) -> tuple[int, str]:
    """Writes the file's rows with today's types to its hidden name; (bytes, sha256) of what was written.

    One row group in memory at a time; the rewritten file has the original's row groups and compression.
    """
    hidden = _hidden(r.path)
    with _open(r.path) as f:
        pf = pq.ParquetFile(f)
        schema = target_schema(r.table, pf.schema_arrow)
        meta = pf.metadata
        if meta.num_rows == 0:  # a zero-row file (a table with no rows yet): its schema only
            data = _empty_file(schema, _compression(meta))
            fs.write_bytes(hidden, data)
            return len(data), hashlib.sha256(data).hexdigest()
        rows = max(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
        writer = RollingParquetWriter(schema, lambda _part: hidden, ledger_column(get_table(r.table)),
                                      _compression(meta), buffer_size=rows, max_file_bytes=1 << 62)
        for i in range(meta.num_row_groups):
            for batch in pf.read_row_group(i).to_batches(max_chunksize=None):
                writer.write(_converted(batch, schema, r.path))
    written = writer.close()
    if len(written) != 1:
        raise IntegerMigrationError(f"{r.path}: rewriting made {len(written)} files, expected one")
    return written[0].bytes, written[0].sha256


def _empty_file(schema: pa.Schema, compression: str) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(schema.empty_table(), sink, compression=compression)
    return sink.getvalue().to_pybytes()


def _manifests(root: str) -> list[str]:
    try:
        return [p for p, _ in fs.list_files(fs.join(root, MANIFEST_DIR), "*.json")]
    except Exception:  # noqa: BLE001 - an archive without manifests
        return []


def update_manifest(manifest: dict, written: dict[tuple[str, str, str], tuple[int, str, int]]) -> bool:
    """Gives the entries of rewritten files their new size, sha256 and schema version; whether any changed.

    `written` maps (table, partition, file name) to (bytes, sha256, schema version).
    """
    changed = False
    for entry in manifest.get("files", []):
        key = (entry.get("table"), entry.get("partition"), str(entry.get("path", "")).rsplit("/", 1)[-1])
        if key in written:
            size, sha, version = written[key]
            new = {"bytes": size, "sha256": sha, "schema_version": version}
            if any(entry.get(k) != v for k, v in new.items()):
                entry.update(new)
                changed = True
    return changed


def migrate(root: str, dry_run: bool = False, out=None) -> tuple[int, int]:
    """Rewrites every file of the old integer types (see the module docstring); (files, manifests) rewritten."""
    out = out or sys.stdout
    rewrites = plan(root)
    for r in rewrites:
        print(f"{'would rewrite' if dry_run else 'rewrite'} {r.path} ({', '.join(r.changed)})", file=out)
    if dry_run or not rewrites:
        if not rewrites:
            print(f"{root}: nothing to rewrite (every integer column already has today's type)", file=out)
        return len(rewrites), 0
    logs = table_format_logs(root, {r.table for r in rewrites})
    if logs:
        raise IntegerMigrationError(
            f"{', '.join(logs)}: a table format's log lists these files with their old sizes and types; remove "
            "it, migrate, and let the next run with table_format create the tables again from the files "
            "(docs/table_formats.md: switching an existing archive); nothing was rewritten"
        )
    written = {}
    try:
        for r in rewrites:
            size, sha = rewrite_hidden(r)
            name = r.path.replace(os.sep, "/").rsplit("/", 1)[-1]
            written[(r.table, r.partition, name)] = (size, sha, get_table(r.table).version)
    except Exception:
        fs.delete([_hidden(r.path) for r in rewrites if fs.exists(_hidden(r.path))])
        raise
    updated = 0
    for path in _manifests(root):
        try:
            manifest = json.loads(fs.read_bytes(path, max_bytes=256 << 20))
        except ValueError as e:
            raise ValueError(f"{path}: unreadable manifest: {e}") from e
        if isinstance(manifest, dict) and update_manifest(manifest, written):
            fs.write_bytes(path, json.dumps(manifest, indent=1).encode())
            print(f"rewrite {path}", file=out)
            updated += 1
    for r in rewrites:
        fs.rename(_hidden(r.path), r.path)
    return len(rewrites), updated
