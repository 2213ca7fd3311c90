"""``verify`` of a Delta or Iceberg table: its file list against the archive's files.

A table format lists the files its readers read. After a rerun replaced files, a log that still
lists a deleted file breaks its readers, and one that lacks a file of the archive silently drops
its rows, while the directories themselves are exact; so each table's listed files (and their
partition values) must be exactly the archive's data files of that table.
"""

from __future__ import annotations

from beam_pipeline.sinks import table_formats
from beam_pipeline.sinks.table_formats import DataFile, TableFormat
from beam_pipeline.verify.model import ArchiveFile, TableReport, Target, examples

KIND = "table format"


def table_format_of(target: Target, layout: dict) -> TableFormat | None:
    """The target's table format (the config's), else the one the newest manifest recorded; None for Parquet."""
    if target.table_format is not None:
        layout = {**layout, "table_format": target.table_format, "iceberg_catalog": target.iceberg_catalog,
                  "iceberg_namespace": target.iceberg_namespace}
    return table_formats.from_layout(layout)


def check_table_format(root: str, fmt: TableFormat, report: TableReport, files: list[ArchiveFile]) -> None:
    """Adds a ``table format`` problem for every file listed on one side only, or listed with wrong partition values."""
    where = f"the {fmt.name} table of {report.table}"
    try:
        listed = table_formats.listed_files(root, fmt, report.table)
    except Exception as e:  # noqa: BLE001 - a log or catalog that cannot be read is a finding, named
        report.add(KIND, f"{where} cannot be read: {type(e).__name__}: {e}")
        return
    ours = {}
    for f in files:
        if f.name is not None:
            base = f.path.replace("\\", "/").rsplit("/", 1)[-1]
            ours[f"{f.partition}/{base}" if f.partition else base] = f
    if listed is None:  # absent, not broken: its readers find no table (e.g. no run with the format wrote it yet)
        if ours:
            report.warnings.append(f"{where} does not exist, though the archive holds {len(ours)} files of it "
                                   "(the next run with table_format that writes the table creates it)")
        return
    problems = [f"{rel}: listed by {where} but not in the archive ({fmt.name} readers fail on it)"
                for rel in sorted(set(listed) - set(ours))]
    problems += [f"{rel}: in the archive but not listed by {where} ({fmt.name} readers miss its rows)"
                 for rel in sorted(set(ours) - set(listed))]
    for rel in sorted(set(ours) & set(listed)):
        f = ours[rel]
        want = table_formats.expected_values(fmt, DataFile(f.path, f.table, f.partition, rel.rsplit("/", 1)[-1]))
        if listed[rel] != want:
            problems.append(f"{rel}: {where} records partition values {listed[rel]}, its directory says {want}")
    for message in examples(problems):
        report.add(KIND, message)
