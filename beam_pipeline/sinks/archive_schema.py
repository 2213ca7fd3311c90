"""One schema per table across the whole archive, checked before a run writes anything.

The commit checks the schema of the partitions it writes into; a run that writes other partitions
(a later range) would otherwise add files of another schema beside the table's older ones, and
readers then drop columns, mix base64 text and raw bytes in one column, or fail, depending on the
client. So before the pipeline starts, every table of the run is compared with one file of each
run that wrote the table before (runs write one schema per table, so one file speaks for its run's
set). Allowed differences, with ``schema_evolution: true`` only: columns the run *adds* that are
nullable, or that a newer schema version of the table added (older files read them as NULL in
every reader). Anything else — a dropped column, a changed type, non-null columns added without a
version change (turning ``include_metadata`` on) — is refused with the table, the columns and the
option that explains them (``include_metadata``, ``xdr_encoding``, or the schema version).
"""

from __future__ import annotations

import os

import pyarrow as pa

from beam_pipeline.records import get_table
from beam_pipeline.records.base import METADATA_FIELDS, is_xdr, output_schema
from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.parquet_files import read_schema
from beam_pipeline.util import fs

_METADATA = {f.name for f in METADATA_FIELDS}


class SchemaMismatchError(ValueError):
    """A run's table schema differs from what the archive holds for that table."""


def _files_by_run(root: str, table: str) -> dict[str, str]:
    """One file of each run that wrote `table` (any partition)."""
    table_dir = fs.join(root, table)
    if fs.is_local(table_dir) and not os.path.isdir(table_dir):
        return {}
    try:
        listed = fs.list_tree(table_dir)
    except Exception:  # noqa: BLE001 - object stores raise for an absent prefix
        return {}
    out: dict[str, str] = {}
    for path, _ in listed:
        parsed = filesets.parse_file_name(path.replace(os.sep, "/").rsplit("/", 1)[-1])
        if parsed is not None and parsed.table == table:
            out.setdefault(parsed.run_id, path)
    return out


def _version(schema: pa.Schema) -> int:
    raw = (schema.metadata or {}).get(b"stellar.schema_version", b"")
    return int(raw) if raw.isdigit() else -1


def differences(old: pa.Schema, new: pa.Schema) -> tuple[list[str], list[str], list[str]]:
    """(columns added by `new`, columns it drops, "name: old type -> new type" for changed ones)."""
    old_types = {f.name: f for f in old}
    new_types = {f.name: f for f in new}
    added = [n for n in new_types if n not in old_types]
    dropped = [n for n in old_types if n not in new_types]
    changed = [
        f"{n}: {old_types[n].type} -> {new_types[n].type}"
        for n in new_types
        if n in old_types and not old_types[n].type.equals(new_types[n].type)
    ]
    return added, dropped, changed


def _integer_columns_changed(old: pa.Schema, new: pa.Schema, changed: list[str]) -> list[str]:
    """The changed columns that are integers on both sides (an archive of the old unsigned/int32 types)."""

    def integer(t: pa.DataType) -> bool:
        return pa.types.is_integer(t.value_type if pa.types.is_list(t) else t)

    names = [c.split(":", 1)[0] for c in changed]
    return [n for n in names if integer(old.field(n).type) and integer(new.field(n).type)]


def _explain(root: str, table: str, old: pa.Schema, new: pa.Schema, added: list[str], dropped: list[str],
             changed: list[str], cfg_xdr: str, include_metadata: bool) -> str:
    """Which option explains the difference, in the user's words."""
    hints = []
    if _integer_columns_changed(old, new, changed):
        hints.append("the archive holds the integer types of schema version 1 (uint32, uint64, int32; every integer "
                     "column is int64 since version 2, docs/tables.md): rewrite its files with "
                     f"`python -m beam_pipeline migrate-layout --root {root}`")
    if set(added) & _METADATA or set(dropped) & _METADATA:
        hints.append(f"include_metadata is {str(include_metadata).lower()} in this run and "
                     f"{str(not include_metadata).lower()} where the archive was written")
    xdr_changed = [c.split(":", 1)[0] for c in changed if is_xdr(new.field(c.split(":", 1)[0]))]
    if xdr_changed:
        was = (old.metadata or {}).get(b"stellar.xdr_encoding", b"the other encoding").decode()
        hints.append(f"xdr_encoding is {cfg_xdr} in this run and {was} in the archive (columns {xdr_changed})")
    old_version = (old.metadata or {}).get(b"stellar.schema_version", b"?").decode()
    if old_version != str(get_table(table).version):
        hints.append(f"schema version {old_version} in the archive, {get_table(table).version} in this run")
    return "; ".join(hints) or "the column lists differ"


def check_archive_schema(root: str, tables, xdr_encoding: str, include_metadata: bool,
                         schema_evolution: bool) -> None:
    """Raises SchemaMismatchError when a table's files elsewhere in the archive have another schema."""
    for table in tables:
        new = output_schema(get_table(table), xdr_encoding, include_metadata)
        for run_id, path in sorted(_files_by_run(root, table).items()):
            old = read_schema(path)
            added, dropped, changed = differences(old, new)
            if not (added or dropped or changed):
                continue
            upgrade = _version(old) < get_table(table).version  # a newer version's columns are expected
            non_null_added = [] if upgrade else [n for n in added if not new.field(n).nullable]
            if schema_evolution and not dropped and not changed and not non_null_added:
                continue  # only nullable columns added: older files read them as NULL
            parts = []
            if added:
                parts.append(f"added {added}" + (f" (not nullable: {non_null_added})" if non_null_added else ""))
            if dropped:
                parts.append(f"dropped {dropped}")
            if changed:
                parts.append(f"changed {changed}")
            rule = ("schema_evolution allows only added columns: nullable ones, or a newer schema version's"
                    if schema_evolution
                    else "schema_evolution is false")
            raise SchemaMismatchError(
                f"table {table!r}: this run's schema differs from {path} (run {run_id}): {', '.join(parts)}; "
                f"{_explain(root, table, old, new, added, dropped, changed, xdr_encoding, include_metadata)}. "
                f"One schema per table across the archive ({rule}): write to another root or path_prefix, "
                "or rerun the whole table with the new settings into a fresh one"
            )
