"""Delta Lake and Iceberg tables over the archive's Parquet files, committed with the run's commit.

``table_format: delta | iceberg`` keeps the archive exactly as it is (Hive directories, file
names, manifests, ``verify``) and adds a table format's transaction log over the same files, so
engines that read tables rather than directories (Spark, Trino, Snowflake, BigQuery's BigLake, ...)
get snapshots instead of listings. Both formats only reference files: nothing is copied.

Why inside the commit: a rerun replaces files (newest set wins, `filesets`). A log that lists the
old files would break the moment they are deleted, and one that lists the new files before they
are renamed into place would point at nothing. So `commit.roll_forward` calls `sync_journal`
between the journal's renames and its deletes: the new files are in place (invisible to table
readers), one table-format transaction per table swaps them in (Delta: the removes and adds of one
commit; Iceberg: one overwrite snapshot, or an append when nothing is replaced), and only then are
the replaced files deleted. The sync is written against the state it finds, not as a delta to
replay: the table must list exactly the table directory's files less the journal's deletes, so it
adds what it lacks and removes what it should not list. Rolling a crashed journal forward again
(`runs.repair`) therefore completes it exactly once, a table that does not exist yet is created
with every file of the directory (switching an existing archive to a table format registers its
history), and files a run without the table format wrote are registered by the next run with it.

Partitions: Delta gets the Hive directories' columns (``year``/``month``/``day``[/``hour``] as
integers, ``ledger_range`` as a string) as partition columns with the directory's values. Iceberg
partitions are hidden (derived from data columns, which are what its readers filter on):
``day(closed_at)``, ``hour(closed_at)`` or ``truncate(ledgers_per_file, ledger_sequence)``, with
each file's value taken from its directory.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import asdict, dataclass

from beam_pipeline.config import TABLE_FORMAT_PACKAGES
from beam_pipeline.sinks import filesets
from beam_pipeline.util import fs

BACKENDS = {"delta": "beam_pipeline.sinks.table_formats.delta", "iceberg": "beam_pipeline.sinks.table_formats.iceberg"}


class TableFormatError(RuntimeError):
    """A table format's log cannot be committed or read; the message names the table and archive."""


@dataclass(frozen=True)
class TableFormat:
    """The settings a table-format commit needs; plain values, so they travel in a run's journal."""

    name: str  # delta | iceberg
    partition_by: str
    ledgers_per_file: int
    iceberg_catalog: str = ""  # a catalog of pyiceberg's own configuration; "" = the archive's SQLite catalog
    iceberg_namespace: str = "stellar"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TableFormat:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def from_layout(layout: dict) -> TableFormat | None:
    """The table format a run's recorded layout (manifest ``layout``, `RunInfo.layout`) names, if any."""
    name = layout.get("table_format", "parquet")
    if name not in BACKENDS:
        return None
    return TableFormat(
        name=name,
        partition_by=str(layout.get("partition_by", "ledger_day")),
        ledgers_per_file=int(layout.get("ledgers_per_file", 10000)),
        iceberg_catalog=str(layout.get("iceberg_catalog", "")),
        iceberg_namespace=str(layout.get("iceberg_namespace", "stellar")),
    )


@dataclass(frozen=True)
class DataFile:
    """One Parquet file of the archive, as a table format references it."""

    path: str  # as the archive names it: local path, gs://..., s3://...
    table: str
    partition: str  # the directory below the table, e.g. "year=2025/month=01/day=01"
    name: str
    size: int = 0

    @property
    def in_table(self) -> str:
        """The path below the table directory (Delta's relative path; what `verify` compares)."""
        return f"{self.partition}/{self.name}" if self.partition else self.name

    @property
    def values(self) -> dict[str, str]:
        """The Hive directory's partition values, ``{"year": "2025", "month": "01", ...}``."""
        return dict(piece.split("=", 1) for piece in self.partition.split("/") if "=" in piece)


def data_file(root: str, path: str, size: int = 0) -> DataFile | None:
    """`path` as a data file of the archive below `root`; None for anything the job did not name."""
    rel = path[len(root.rstrip("/")):].replace(os.sep, "/").strip("/")
    parts = rel.split("/")
    if len(parts) < 2 or any(p.startswith("_") for p in parts[:-1]):
        return None  # _temporary/, _manifests/, _delta_log/ ...
    parsed = filesets.parse_file_name(parts[-1])
    if parsed is None or parsed.table != parts[0]:
        return None
    return DataFile(path, parts[0], "/".join(parts[1:-1]), parts[-1], size)


def archive_files(root: str, table: str) -> list[DataFile]:
    """Every data file of `table` in the archive now (what a newly created table format lists)."""
    listed = fs.list_tree_if_any(fs.join(root, table))
    return [f for path, size in listed if (f := data_file(root, path, size)) is not None]


def footer(path: str):
    """A file's Parquet footer (row count, statistics), read through FileSystems (any scheme)."""
    import pyarrow.parquet as pq
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as stream:
        return pq.read_metadata(stream)


def file_size(f: DataFile) -> int:
    """The size listed with the file, else the store's."""
    if f.size:
        return f.size
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.match([fs.glob_escape(f.path)])[0].metadata_list[0].size_in_bytes


def newest_schema(files: list[DataFile]):
    """The schema of the newest run's file, without metadata: schema_evolution only ever adds columns."""
    newest = max(files, key=lambda f: (filesets.parse_file_name(f.name).run_id, f.name))
    return footer(newest.path).schema.to_arrow_schema().remove_metadata()


def backend(name: str):
    """The module that commits and lists format `name` (`delta`, `iceberg`), imported on first use."""
    try:
        return importlib.import_module(BACKENDS[name])
    except ImportError as e:
        raise TableFormatError(
            f"table_format {name} needs the {TABLE_FORMAT_PACKAGES[name]} package ({e}); "
            "install stellar-beam-archive[tables]"
        ) from None


def sync_journal(root: str, journal: dict) -> None:
    """The table-format step of a journal: one transaction per table it touches, listing the live files.

    Called by `commit.roll_forward` after every rename and before any delete, for the tables whose
    files the journal changes and the run's other tables (``table_format.tables``); a no-op for journals
    without a ``table_format`` (plain Parquet archives, and journals of runs before this step). The
    live files are the table directory's now, less the journal's deletes: so the transaction also
    registers files that a run without the table format (or a crash before this step) left out.
    """
    settings = journal.get("table_format")
    if not settings:
        return
    fmt = TableFormat.from_dict(settings)
    touched = {f.table for path in [dst for _, dst in journal.get("renames", [])] + list(journal.get("deletes", []))
               if (f := data_file(root, path)) is not None}
    touched.update(settings.get("tables", ()))  # the run's tables it wrote nothing new to: created if absent
    deleted = set(journal.get("deletes", []))
    impl = backend(fmt.name)
    for table in sorted(touched):
        live = [f for f in archive_files(root, table) if f.path not in deleted]
        try:
            impl.sync(root, fmt, table, live, journal["run_id"])
        except TableFormatError:
            raise
        except Exception as e:  # noqa: BLE001 - the library's error, named with the table and run
            raise TableFormatError(
                f"run {journal['run_id']}: committing the {fmt.name} table {table} of {root} failed: "
                f"{type(e).__name__}: {one_line(e)} (the Parquet files are in place; the next run completes the commit)"
            ) from e


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def one_line(e: BaseException) -> str:
    """A library's error on one line: delta-rs nests its causes over several coloured lines (``↳ cause``),
    and the summary that reports a failed run keeps one line of a message, which would lose the cause."""
    lines = (line.strip().lstrip("↳").strip() for line in _ANSI.sub("", str(e)).splitlines())
    return " -> ".join(line for line in lines if line)


def listed_files(root: str, fmt: TableFormat, table: str) -> dict[str, dict[str, str]] | None:
    """The files the table format lists for `table` (path below the table -> partition values); None: no table."""
    return backend(fmt.name).listed_files(root, fmt, table)


def expected_values(fmt: TableFormat, f: DataFile) -> dict[str, str]:
    """The partition values a table format records for `f`, in the form `listed_files` returns them."""
    return backend(fmt.name).partition_values(fmt, f)
