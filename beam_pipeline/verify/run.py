"""One verification, start to end: resolve tables, layout and range, check every table, then the manifests.

It reads the archive, never the source, so it can check an archive years after the data store is
gone. What it cannot be told it takes from the archive itself: the layout from the newest manifest
(else the directory names), the range from the manifests (else the file names' coverage).
"""

from __future__ import annotations

import tempfile

from beam_pipeline.sinks.runs import find_leftovers
from beam_pipeline.util import fs
from beam_pipeline.verify.checks import check_table
from beam_pipeline.verify.manifests import check_manifests, filtered_tables, load_manifests, newest_layout
from beam_pipeline.verify.model import ArchiveFile, Report, Target, VerifyError
from beam_pipeline.verify.scan import ArchiveDb, find_tables, infer_layout, list_table, refuse_legacy_ranges
from beam_pipeline.verify.table_format import check_table_format, table_format_of

CORE_TABLES = ("ledgers", "transactions", "operations")  # their rows follow from the ledgers table's counts


def verify(target: Target) -> Report:
    """Verifies an archive; raises VerifyError when it cannot be verified at all."""
    root = target.root.rstrip("/") or "/"
    manifests, manifest_problems = load_manifests(root)
    custom = {p for m in manifests if ":" in (p := str((m.get("layout") or {}).get("partition_by", "")))}
    if custom:
        raise VerifyError(f"{root}: written with partition function {', '.join(sorted(custom))}; verify checks the "
                          "ledger_day, hour and ledger_range layouts only (query the tables, or rewrite them)")
    if target.tables:
        tables = list(target.tables)
    else:
        # Tables with files, and tables a run archived: a table whose every file is lost still counts.
        from beam_pipeline.records import table_names

        claimed = {t for m in manifests for t in m.get("tables", ())}
        found = set(find_tables(root))
        if found and not manifests:
            # Nothing records which tables were archived, so a lost table directory would go unseen:
            # expect the tables every ledger has rows or counts in (--tables checks fewer).
            claimed = set(CORE_TABLES)
        tables = [t for t in table_names() if t in claimed or t in found]
    if not tables:
        raise VerifyError(f"{root}: no table directories with Parquet files")
    if "ledgers" in tables:
        tables.remove("ledgers")
        tables.insert(0, "ledgers")  # first: it gives the others their expected counts and close times
    archive: dict[str, list[ArchiveFile]] = {}
    stray: list[str] = []
    for t in tables:
        archive[t], other = list_table(root, t)
        stray.extend(other)
    all_files = [f for files in archive.values() for f in files]
    scheme, lpf = _layout(root, target, manifests, all_files)
    start, end = ledger_range(target.start, target.end, manifests, all_files)

    report = Report(target, scheme, lpf, start, end, [])
    report.leftovers = find_leftovers(root).describe()
    if not manifests and not target.tables:
        report.warnings.append(f"no manifests: expecting at least the tables {', '.join(CORE_TABLES)} "
                               "(pass --tables for an archive of other tables)")
    if stray:
        report.warnings.append(f"{len(stray)} non-Parquet files under table directories, e.g. {stray[0]}")
    with tempfile.TemporaryDirectory(prefix="verify-") as workdir:
        db = ArchiveDb(workdir, scheme, lpf)
        try:
            for t in tables:
                report.tables.append(check_table(db, t, archive[t], start, end, has_ledgers="ledgers" in tables))
                for message in filtered_tables(manifests).get(t, ()):
                    report.tables[-1].add("filtered", message)
        finally:
            db.close()
    fmt = table_format_of(target, _newest_manifest_layout(manifests))
    if fmt is not None:
        for t in report.tables:
            check_table_format(root, fmt, t, archive[t.table])
    if target.check_manifests:
        report.manifest_problems = list(manifest_problems)
        if not manifests:
            report.manifest_problems.append(f"{fs.join(root, '_manifests')}: no manifests to check against")
        else:
            problems, summary = check_manifests(root, manifests, archive, scheme, start, end)
            report.manifest_problems.extend(problems)
            report.manifest_summary = summary
    return report


def _newest_manifest_layout(manifests: list[dict]) -> dict:
    for m in reversed(manifests):  # sorted by run id, oldest first
        if isinstance(m.get("layout"), dict):
            return m["layout"]
    return {}


def _layout(
    root: str, target: Target, manifests: list[dict], files: list[ArchiveFile]
) -> tuple[str, int | None]:
    """The flags' partition scheme and ledgers per file, else the newest manifest's, else the directories'.

    The manifest is preferred to the directory names because it is what the writer was configured
    with: directories can be ambiguous (a stray copy in another scheme's layout) where it is not.
    Directory names are read only when neither says enough, e.g. archives written before manifests
    recorded their layout.
    """
    scheme, lpf = target.partition_by, target.ledgers_per_file
    recorded, recorded_lpf = newest_layout(manifests)
    scheme = scheme or recorded
    if not lpf and scheme is not None and scheme == recorded:
        lpf = recorded_lpf  # a ledgers_per_file only means something with the scheme it was written with
    if scheme is None or (scheme == "ledger_range" and not lpf):
        inferred, inferred_lpf = infer_layout(files)
        scheme = scheme or inferred
        lpf = lpf or inferred_lpf
    if scheme is None:
        raise VerifyError(f"{root}: cannot tell the partition scheme from the directories; give --partition-by")
    if scheme == "ledger_range" and not lpf:
        raise VerifyError("--ledgers-per-file is required with --partition-by ledger_range")
    if scheme == "ledger_range":
        refuse_legacy_ranges(files)
    return scheme, lpf


def ledger_range(
    start: int | None, end: int | None, manifests: list[dict], files: list[ArchiveFile]
) -> tuple[int, int]:
    """The flags' range, else the union of the manifests' ranges, else the file names' coverage."""
    spans = [(m["ledger_range"]["start"], m["ledger_range"]["end"]) for m in manifests if m.get("ledger_range")]
    spans = [(a, b) for a, b in spans if a is not None and b is not None]
    if not spans:
        spans = [f.name.coverage for f in files if f.name is not None]
    if start is None:
        if not spans:
            raise VerifyError("no manifests or file names to take the ledger range from; give --start-ledger")
        start = min(a for a, _ in spans)
    if end is None:
        if not spans:
            raise VerifyError("no manifests or file names to take the ledger range from; give --end-ledger")
        end = max(b for _, b in spans)
    if start > end:
        raise VerifyError(f"start ledger {start} is after end ledger {end}")
    return start, end

