"""The per-table checks: each a DuckDB query over the aggregate `scan` loaded, so Python only sees problems.

- **missing**: ``ledgers`` must hold one row for every ledger of the range; ``transactions`` and
  ``operations`` rows for every ledger whose ``ledgers`` row says it has some. Other tables have no
  count to compare with, so a ledger no file set covers is only a warning there.
- **duplicated**: a ledger whose rows come from more than one file set, or an id present twice.
- **misplaced**: a row whose ledger/close time belongs in another partition directory than its own.
- **count mismatch**: rows per ledger against the ``ledgers`` table (see `scan.COUNT_COLUMNS`).
"""

from __future__ import annotations

import pyarrow as pa

from beam_pipeline.verify.model import EXAMPLES, ArchiveFile, TableReport, examples
from beam_pipeline.verify.scan import COUNT_COLUMNS, ArchiveDb, TableReader


def _ledgers_word(n: int) -> str:
    return "ledger" if n == 1 else "ledgers"


def check_table(
    db: ArchiveDb, table: str, files: list[ArchiveFile], start: int, end: int, has_ledgers: bool
) -> TableReport:
    """Loads one table's files in the range and runs the checks that apply to it.

    ``ledgers`` must be checked first: it leaves the ``expect`` table (close time and expected counts
    per ledger) that the other tables are checked against.
    """
    report = TableReport(table)
    # A file set is identified by its directory and name coverage; foreign files are each their own.
    set_ids: dict[tuple, int] = {}
    set_info: list[ArchiveFile] = []
    selected: list[tuple[int, ArchiveFile]] = []
    for f in files:
        if f.name is None:
            report.add("foreign", f"{f.path}: not a file name the sink writes (readers would still read it)")
            key = ("foreign", f.path)
        else:
            if f.name.last < start or f.name.first > end:
                continue
            key = (f.partition, *f.name.set_key)
        if key not in set_ids:
            set_ids[key] = len(set_info)
            set_info.append(f)
        selected.append((set_ids[key], f))
    report.files = len(selected)
    g = db.load(table, TableReader(table, selected, start, end, report))
    if table == "ledgers":
        db.con.execute(
            f"CREATE TABLE expect AS SELECT ledger, min(close_ts) AS close_ts, max(etx) AS etx, max(eops) AS eops "
            f"FROM {g} GROUP BY ledger"
        )
    report.rows = int(db.one(f"SELECT coalesce(sum(n), 0) FROM {g}")[0])
    _check_misplaced(db, g, set_info, report)
    _check_duplicates(db, g, table, set_info, report)
    if table == "ledgers":
        n, spans = db.spans_in_range(
            "SELECT range AS ledger FROM range(?, ?) ANTI JOIN g_ledgers ON range = ledger", start, end,
            db.one("SELECT min(ledger), max(ledger) FROM g_ledgers"),
        )
        if n:
            report.add("missing", f"{n} ledgers have no row: {spans}")
    elif table in COUNT_COLUMNS and has_ledgers:
        _check_counts(db, g, table, report)
    else:
        _check_coverage(db, g, set_info, start, end, has_ledgers, report)
    return report


def _check_misplaced(db: ArchiveDb, g: str, set_info: list[ArchiveFile], report: TableReport) -> None:
    """Rows whose ledger / close time give another directory than the one their file is in."""
    found: dict[tuple[str, str], list[int]] = {}
    rows = db.all(
        f"SELECT file_set, {db.bucket('ledger', 'close_ts')} AS bucket, count(DISTINCT ledger), sum(n), "
        f"min(ledger), max(ledger) FROM {g} GROUP BY file_set, bucket"
    )
    for file_set, bucket, ledgers, n, lo, hi in rows:
        want, have = db.partition_of(bucket), set_info[file_set].partition
        if want != have:
            acc = found.setdefault((have, want), [0, 0, lo, hi])
            acc[0] += ledgers
            acc[1] += n
            acc[2], acc[3] = min(acc[2], lo), max(acc[3], hi)
    for (have, want), (ledgers, n, lo, hi) in sorted(found.items(), key=lambda kv: kv[1][2]):
        report.add(
            "misplaced",
            f"{ledgers} {_ledgers_word(ledgers)} in {lo}-{hi}: {n} rows in {have or '<table root>'}, belong in {want}",
        )


def _check_duplicates(db: ArchiveDb, g: str, table: str, set_info: list[ArchiveFile], report: TableReport) -> None:
    """A ledger's rows from two file sets, an id twice within a set, or two ledgers rows of one ledger."""
    extra = "OR sum(n) > 1" if table == "ledgers" else ""
    rows = db.all(
        "WITH per AS (SELECT ledger, list(DISTINCT file_set ORDER BY file_set) AS sets, "
        f"sum(CASE WHEN has_key THEN n - nk ELSE 0 END) AS repeats FROM {g} GROUP BY ledger "
        f"HAVING count(DISTINCT file_set) > 1 OR sum(CASE WHEN has_key THEN n - nk ELSE 0 END) > 0 {extra}) "
        "SELECT sets, repeats > 0, count(*), min(ledger), max(ledger) FROM per GROUP BY sets, repeats > 0 "
        "ORDER BY min(ledger)"
    )
    messages = []
    for sets, repeats, n, lo, hi in rows:
        names = ", ".join(set_info[s].path.rsplit("/", 1)[-1] for s in sets)
        if len(sets) > 1:
            why = f"rows in {len(sets)} file sets ({names})"
        elif repeats:
            why = f"rows repeat an id of the same file set ({set_info[sets[0]].path})"
        else:
            why = f"more than one row ({names})"
        where = f"{lo}-{hi}" if lo != hi else str(lo)
        messages.append(f"{n} {_ledgers_word(n)} in {where}: {why}")
    for m in examples(messages):
        report.add("duplicated", m)


def _check_counts(db: ArchiveDb, g: str, table: str, report: TableReport) -> None:
    """Rows per ledger against what the ledgers table says (see COUNT_COLUMNS)."""
    col = "etx" if table == "transactions" else "eops"
    per = f"(SELECT ledger, sum(n) AS rows FROM {g} GROUP BY ledger)"
    n, spans = db.spans(f"SELECT e.ledger FROM expect e ANTI JOIN {per} t ON t.ledger = e.ledger WHERE e.{col} > 0")
    if n:
        report.add("missing", f"{n} ledgers have no rows: {spans}")
    (total,) = db.one(f"SELECT count(*) FROM expect e JOIN {per} t USING (ledger) WHERE t.rows != e.{col}")
    if total:
        shown = db.all(
            f"SELECT ledger, t.rows, e.{col} FROM expect e JOIN {per} t USING (ledger) "
            f"WHERE t.rows != e.{col} ORDER BY ledger LIMIT {EXAMPLES}"
        )
        for ledger, rows, want in shown:
            report.add("count mismatch", f"ledger {ledger}: {rows} rows, the ledgers table says {want}")
        if total > EXAMPLES:
            report.add("count mismatch", f"... and {total - EXAMPLES} more ledgers")
    n, spans = db.spans(f"SELECT t.ledger FROM {per} t ANTI JOIN expect e ON e.ledger = t.ledger")
    if n:
        report.add("count mismatch", f"rows for {n} ledgers the ledgers table lacks: {spans}")


def _check_coverage(
    db: ArchiveDb, g: str, set_info: list[ArchiveFile], start: int, end: int, has_ledgers: bool, report: TableReport
) -> None:
    """Tables without a count: a ledger with no rows must at least be covered by a file set of the
    directory its close time gives. Only a warning: empty ledgers of a sparse table leave no file."""
    cov = pa.table(
        {
            "part": [f.partition for f in set_info if f.name is not None],
            "first": [f.name.first for f in set_info if f.name is not None],
            "last": [f.name.last for f in set_info if f.name is not None],
        },
        schema=pa.schema([("part", pa.string()), ("first", pa.int64()), ("last", pa.int64())]),
    )
    db.con.register("cov", cov)
    if has_ledgers:
        buckets = [b for (b,) in db.all(f"SELECT DISTINCT {db.bucket('ledger', 'close_ts')} FROM expect")]
        want_sql = (
            f"SELECT r.range AS ledger, b.part FROM range(?, ?) r "
            f"LEFT JOIN expect e ON e.ledger = r.range LEFT JOIN bucket_part b ON b.bucket = "
            f"{db.bucket('r.range', 'e.close_ts')}"
        )
    else:
        buckets = []
        want_sql = "SELECT range AS ledger, NULL::VARCHAR AS part FROM range(?, ?)"
    db.con.register(
        "bucket_part",
        pa.table({"bucket": pa.array(buckets, pa.int64()), "part": [db.partition_of(b) for b in buckets]}),
    )
    n, spans = db.spans_in_range(
        f"WITH want AS ({want_sql}), covered AS (SELECT DISTINCT w.ledger FROM want w JOIN cov c "
        "ON w.ledger BETWEEN c.first AND c.last AND (w.part IS NULL OR c.part = w.part)) "
        f"SELECT ledger FROM want ANTI JOIN covered USING (ledger) ANTI JOIN {g} USING (ledger)",
        start, end,
        db.one(f"SELECT min(a), max(b) FROM (SELECT first AS a, last AS b FROM cov "
               f"UNION ALL SELECT min(ledger), max(ledger) FROM {g})"),
    )
    db.con.unregister("cov")
    db.con.unregister("bucket_part")
    if n:
        report.warnings.append(
            f"{n} ledgers have no rows and no file set covers them (empty, or a file was lost; "
            f"--manifests tells which): {spans}"
        )

