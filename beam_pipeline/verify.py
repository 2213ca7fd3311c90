"""``python -m beam_pipeline verify``: is the archive exact? Nothing lost, nothing duplicated, nothing misplaced.

    python -m beam_pipeline verify --config FILE [--start-ledger N] [--end-ledger M] [--manifests]
    python -m beam_pipeline verify --path ROOT [--partition-by S] [--ledgers-per-file N]
                                   [--start-ledger N] [--end-ledger M] [--tables a,b] [--manifests]

It reads the archive, never the source, so it can check an archive years after the data store is
gone. Per table it reports:

- **missing**: ``ledgers`` must hold one row for every ledger of the range. ``transactions`` and
  ``operations`` must hold rows for every ledger whose ``ledgers`` row says it has some. Other tables
  have no count to compare with; a ledger that no file set covers (see `sinks.filesets`) is only a
  warning there, because a table may legitimately have no rows for a ledger and an empty set leaves
  no file. ``--manifests`` closes that gap: every file a manifest lists must still be there.
- **duplicated**: a ledger whose rows come from more than one file set, or an id present twice.
- **misplaced**: a row whose ledger/close time belongs in another partition directory than the one
  it sits in (recomputed with `partition_path`), or that lies outside its file name's coverage.
- **count mismatch**: transactions rows per ledger must equal ``successful_transaction_count +
  failed_transaction_count``; operations rows must equal ``tx_set_operation_count``. Like
  stellar-etl, the operations table holds the operations of failed transactions too, while the
  ledgers table's ``operation_count`` counts only those of successful ones (checked on testnet
  ledgers 1410048-1410100: rows equal tx_set_operation_count for all 53 ledgers, operation_count
  for 5).

Files are read through Beam's FileSystems (local, gs://, s3://), only the columns needed (ledger,
id, close time; the count columns of ``ledgers``), batch by batch; DuckDB reduces the rows to one
line per (ledger, file set) with a disk-backed database, so memory stays bounded on 100k+ ledgers.

Exit codes: 0 the archive is exact, 1 problems were found, 2 bad arguments or config.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.partitioning import partition_path
from beam_pipeline.util import fs

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

# Tables whose rows per ledger the ledgers table predicts: table -> the ledgers columns summed.
_COUNT_COLUMNS = {
    "transactions": ("successful_transaction_count", "failed_transaction_count"),
    "operations": ("tx_set_operation_count",),
}
_KEY_COLUMN = "id"
_EXAMPLES = 8  # ledgers / files named per problem before "... and N more"
_SKIP_DIRS = ("_manifests", "_dead_letter", "_temporary")


class VerifyError(ValueError):
    """The archive cannot be verified at all (bad arguments, nothing there, mixed layouts)."""


@dataclass(frozen=True)
class Target:
    """What to verify: where, which layout, which ledgers and tables."""

    root: str
    partition_by: str | None  # None: inferred from the directories
    ledgers_per_file: int | None
    start: int | None
    end: int | None
    tables: tuple[str, ...] | None  # None: every table directory found
    check_manifests: bool = False


@dataclass
class ArchiveFile:
    path: str
    size: int
    table: str
    partition: str
    name: filesets.FileName | None  # None: a file the sink did not write (foreign)


@dataclass
class TableReport:
    table: str
    files: int = 0
    rows: int = 0
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, message: str) -> None:
        self.problems[kind].append(message)


@dataclass
class Report:
    target: Target
    partition_by: str
    ledgers_per_file: int | None
    start: int
    end: int
    tables: list[TableReport]
    manifest_problems: list[str] = field(default_factory=list)
    manifest_summary: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and not self.manifest_problems


# --- listing -----------------------------------------------------------------------------------


def _relative(root: str, path: str) -> str:
    rel = path[len(root.rstrip("/")) :].lstrip("/")
    return rel.replace(os.sep, "/") if fs.is_local(root) else rel


def list_table(root: str, table: str) -> tuple[list[ArchiveFile], list[str]]:
    """The Parquet files of one table, with their partition directory and parsed name; other files."""
    table_dir = fs.join(root, table)
    try:
        listed = fs.list_tree(table_dir)
    except Exception as e:  # noqa: BLE001 - object stores raise for an absent prefix
        if fs.is_local(table_dir) or "No files found" not in str(e):
            raise
        listed = []
    files, other = [], []
    for path, size in listed:
        rel = _relative(table_dir, path)
        partition, _, base = rel.rpartition("/")
        if not base.endswith(".parquet"):
            other.append(path)
            continue
        parsed = filesets.parse_file_name(base)
        if parsed is not None and parsed.table != table:
            parsed = None
        files.append(ArchiveFile(path, size, table, partition, parsed))
    return files, other


def find_tables(root: str) -> list[str]:
    """Known table names that have at least one file under `root`."""
    from beam_pipeline.records import table_names

    return [name for name in table_names() if list_table(root, name)[0]]


def infer_layout(files: list[ArchiveFile]) -> tuple[str | None, int | None]:
    """The partition scheme (and, for ledger_range, ledgers_per_file) the directory names show."""
    schemes: dict[str, set] = defaultdict(set)
    for f in files:
        parts = f.partition.split("/") if f.partition else []
        if len(parts) == 2 and parts[0] == "ledgers" and "-" in parts[1]:
            a, _, b = parts[1].partition("-")
            if a.isdigit() and b.isdigit():
                schemes["ledger_range"].add(int(b) - int(a) + 1)
                continue
        keys = [p.split("=", 1)[0] for p in parts]
        if keys == ["year", "month", "day"]:
            schemes["ledger_day"].add(None)
        elif keys == ["year", "month", "day", "hour"]:
            schemes["hour"].add(None)
        else:
            schemes["unknown"].add(f.partition)
    named = sorted(s for s in schemes if s != "unknown")
    if len(named) > 1:
        raise VerifyError(f"directories of more than one partition scheme: {', '.join(named)}; give --partition-by")
    if not named:
        return None, None
    scheme = named[0]
    if scheme == "ledger_range":
        sizes = schemes[scheme]
        if len(sizes) > 1:
            raise VerifyError(f"ledger_range directories of different sizes {sorted(sizes)}; give --ledgers-per-file")
        return scheme, next(iter(sizes))
    return scheme, None


# --- reading -------------------------------------------------------------------------------------


def _open(path: str):
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


_ROW_SCHEMA = pa.schema(
    [
        ("ledger", pa.int64()),
        ("file_set", pa.int32()),
        ("close_ts", pa.int64()),
        ("key", pa.int64()),
        ("expected_tx", pa.int64()),
        ("expected_ops", pa.int64()),
    ]
)


class _TableReader:
    """Streams the needed columns of a table's files as one Arrow stream, noting per-file anomalies."""

    def __init__(self, table: str, files: list[tuple[int, ArchiveFile]], start: int, end: int, report: TableReport):
        self.table = table
        self.files = files
        self.start, self.end = start, end
        self.report = report
        self.ledger_col = "sequence" if table == "ledgers" else "ledger_sequence"

    def batches(self) -> Iterator[pa.RecordBatch]:
        for set_id, f in self.files:
            try:
                yield from self._file_batches(set_id, f)
            except Exception as e:  # noqa: BLE001 - reported with the file, the rest still checked
                self.report.add("unreadable", f"{f.path}: {type(e).__name__}: {e}")

    def _file_batches(self, set_id: int, f: ArchiveFile) -> Iterator[pa.RecordBatch]:
        with _open(f.path) as handle:
            pf = pq.ParquetFile(handle)
            names = set(pf.schema_arrow.names)
            needed = [self.ledger_col, "closed_at"]
            missing = [c for c in needed if c not in names]
            if missing:
                raise ValueError(f"columns {missing} missing")
            columns = needed + ([_KEY_COLUMN] if _KEY_COLUMN in names else [])
            if self.table == "ledgers":
                columns += [c for cols in _COUNT_COLUMNS.values() for c in cols if c in names]
            outside = 0
            for batch in pf.iter_batches(batch_size=65536, columns=columns):
                ledger = pc.cast(batch.column(self.ledger_col), pa.int64())
                if f.name is not None:
                    off = pc.or_(pc.less(ledger, f.name.first), pc.greater(ledger, f.name.last))
                    outside += pc.sum(pc.cast(off, pa.int64())).as_py() or 0
                keep = pc.and_(pc.greater_equal(ledger, self.start), pc.less_equal(ledger, self.end))
                batch = batch.filter(keep)
                if not batch.num_rows:
                    continue
                yield self._project(batch, set_id)
            if outside:
                self.report.add(
                    "misplaced",
                    f"{f.path}: {outside} rows outside the ledgers {f.name.first}-{f.name.last} its name covers",
                )

    def _project(self, batch: pa.RecordBatch, set_id: int) -> pa.RecordBatch:
        n = batch.num_rows
        names = batch.schema.names
        ledger = pc.cast(batch.column(self.ledger_col), pa.int64())
        closed = batch.column("closed_at").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        close_ts = pc.divide(closed, 1_000_000)
        key = pc.cast(batch.column(_KEY_COLUMN), pa.int64()) if _KEY_COLUMN in names else pa.nulls(n, pa.int64())
        exp = {}
        for table, cols in _COUNT_COLUMNS.items():
            if self.table == "ledgers" and all(c in names for c in cols):
                parts = [pc.cast(batch.column(c), pa.int64()) for c in cols]
                total = parts[0]
                for p in parts[1:]:
                    total = pc.add(total, p)
                exp[table] = total
            else:
                exp[table] = pa.nulls(n, pa.int64())
        return pa.RecordBatch.from_arrays(
            [ledger, pa.array([set_id] * n, pa.int32()), close_ts, key, exp["transactions"], exp["operations"]],
            schema=_ROW_SCHEMA,
        )


class _Db:
    """A disk-backed DuckDB database holding one aggregate per table: a line per (ledger, file set,
    close time), so that every check is a query and Python only ever sees the problems."""

    def __init__(self, workdir: str, scheme: str, lpf: int | None):
        import duckdb

        self.con = duckdb.connect(os.path.join(workdir, "verify.duckdb"))
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(f"SET temp_directory = '{os.path.join(workdir, 'spill')}'")
        self.con.execute("SET memory_limit = '256MB'")  # spills to temp_directory beyond this
        self.con.execute("SET threads = 2")
        self.scheme, self.lpf = scheme, lpf or 1

    def close(self) -> None:
        self.con.close()

    def bucket(self, ledger: str, close_ts: str) -> str:
        """SQL for the partition "bucket" of a row: the one number `partition_path` depends on."""
        if self.scheme == "ledger_range":
            return f"({ledger} // {self.lpf})"
        return f"({close_ts} // {_BUCKET_SECONDS[self.scheme]})"

    def partition_of(self, bucket: int) -> str:
        """The directory of a bucket, computed by the writer's own `partition_path`."""
        if self.scheme == "ledger_range":
            return partition_path(self.scheme, 0, bucket * self.lpf, self.lpf)
        return partition_path(self.scheme, bucket * _BUCKET_SECONDS[self.scheme], 0, self.lpf)

    def load(self, table: str, reader: _TableReader) -> str:
        name = f"g_{table}"
        stream = pa.RecordBatchReader.from_batches(_ROW_SCHEMA, reader.batches())
        self.con.register("table_rows", stream)
        self.con.execute(
            f"CREATE TABLE {name} AS SELECT ledger, file_set, close_ts, count(*) AS n, "
            "count(DISTINCT key) AS nk, count(key) > 0 AS has_key, max(expected_tx) AS etx, "
            "max(expected_ops) AS eops FROM table_rows GROUP BY ledger, file_set, close_ts"
        )
        self.con.unregister("table_rows")
        return name

    def one(self, sql: str, params=()) -> tuple:
        return self.con.execute(sql, params).fetchone()

    def all(self, sql: str, params=()) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def spans(self, ledgers_sql: str, params=()) -> tuple[int, str]:
        """(how many, "a-b, c, ...") for the distinct ledgers a query returns, as runs of consecutive ones."""
        islands = (
            f"WITH d AS (SELECT DISTINCT ledger FROM ({ledgers_sql})), "
            "g AS (SELECT ledger, ledger - row_number() OVER (ORDER BY ledger) AS grp FROM d) "
            "SELECT min(ledger) AS a, max(ledger) AS b, count(*) AS c FROM g GROUP BY grp"
        )
        total, runs = self.one(f"SELECT coalesce(sum(c), 0), count(*) FROM ({islands})", params)
        first = self.all(f"SELECT a, b FROM ({islands}) ORDER BY a LIMIT {_EXAMPLES}", params)
        text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in first)
        if runs > _EXAMPLES:
            text += f", ... ({runs - _EXAMPLES} more ranges)"
        return int(total), text


_BUCKET_SECONDS = {"ledger_day": 86400, "hour": 3600}


# --- checks --------------------------------------------------------------------------------------


def _ledgers_word(n: int) -> str:
    return "ledger" if n == 1 else "ledgers"


def _examples(items: list[str]) -> list[str]:
    return items[:_EXAMPLES] + ([f"... and {len(items) - _EXAMPLES} more"] if len(items) > _EXAMPLES else [])


def check_table(db: _Db, table: str, files: list[ArchiveFile], start: int, end: int, has_ledgers: bool) -> TableReport:
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
    g = db.load(table, _TableReader(table, selected, start, end, report))
    if table == "ledgers":
        db.con.execute(
            f"CREATE TABLE expect AS SELECT ledger, min(close_ts) AS close_ts, max(etx) AS etx, max(eops) AS eops "
            f"FROM {g} GROUP BY ledger"
        )
    report.rows = int(db.one(f"SELECT coalesce(sum(n), 0) FROM {g}")[0])
    _check_misplaced(db, g, set_info, report)
    _check_duplicates(db, g, table, set_info, report)
    if table == "ledgers":
        n, spans = db.spans("SELECT range AS ledger FROM range(?, ?) ANTI JOIN g_ledgers ON range = ledger",
                            (start, end + 1))
        if n:
            report.add("missing", f"{n} ledgers have no row: {spans}")
    elif table in _COUNT_COLUMNS and has_ledgers:
        _check_counts(db, g, table, report)
    else:
        _check_coverage(db, g, set_info, start, end, has_ledgers, report)
    return report


def _check_misplaced(db: _Db, g: str, set_info: list[ArchiveFile], report: TableReport) -> None:
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


def _check_duplicates(db: _Db, g: str, table: str, set_info: list[ArchiveFile], report: TableReport) -> None:
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
    for m in _examples(messages):
        report.add("duplicated", m)


def _check_counts(db: _Db, g: str, table: str, report: TableReport) -> None:
    """Rows per ledger against what the ledgers table says (see _COUNT_COLUMNS)."""
    col = "etx" if table == "transactions" else "eops"
    per = f"(SELECT ledger, sum(n) AS rows FROM {g} GROUP BY ledger)"
    n, spans = db.spans(f"SELECT e.ledger FROM expect e ANTI JOIN {per} t ON t.ledger = e.ledger WHERE e.{col} > 0")
    if n:
        report.add("missing", f"{n} ledgers have no rows: {spans}")
    (total,) = db.one(f"SELECT count(*) FROM expect e JOIN {per} t USING (ledger) WHERE t.rows != e.{col}")
    if total:
        shown = db.all(
            f"SELECT ledger, t.rows, e.{col} FROM expect e JOIN {per} t USING (ledger) "
            f"WHERE t.rows != e.{col} ORDER BY ledger LIMIT {_EXAMPLES}"
        )
        for ledger, rows, want in shown:
            report.add("count mismatch", f"ledger {ledger}: {rows} rows, the ledgers table says {want}")
        if total > _EXAMPLES:
            report.add("count mismatch", f"... and {total - _EXAMPLES} more ledgers")
    n, spans = db.spans(f"SELECT t.ledger FROM {per} t ANTI JOIN expect e ON e.ledger = t.ledger")
    if n:
        report.add("count mismatch", f"rows for {n} ledgers the ledgers table lacks: {spans}")


def _check_coverage(
    db: _Db, g: str, set_info: list[ArchiveFile], start: int, end: int, has_ledgers: bool, report: TableReport
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
    n, spans = db.spans(
        f"WITH want AS ({want_sql}), covered AS (SELECT DISTINCT w.ledger FROM want w JOIN cov c "
        "ON w.ledger BETWEEN c.first AND c.last AND (w.part IS NULL OR c.part = w.part)) "
        f"SELECT ledger FROM want ANTI JOIN covered USING (ledger) ANTI JOIN {g} USING (ledger)",
        (start, end + 1),
    )
    db.con.unregister("cov")
    db.con.unregister("bucket_part")
    if n:
        report.warnings.append(
            f"{n} ledgers have no rows and no file set covers them (empty, or a file was lost; "
            f"--manifests tells which): {spans}"
        )


# --- manifests ---------------------------------------------------------------------------------------


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with _open(path) as f:
        while chunk := f.read(8 << 20):
            h.update(chunk)
    return h.hexdigest()


def load_manifests(root: str) -> tuple[list[dict], list[str]]:
    """Every ``_manifests/*.json`` sorted by run id, and problems with unreadable ones."""
    problems, out = [], []
    try:
        listed = fs.list_files(fs.join(root, "_manifests"), "*.json")
    except Exception:  # noqa: BLE001 - no manifest directory at all
        listed = []
    for path, _ in listed:
        try:
            m = json.loads(fs.read_bytes(path, max_bytes=256 << 20))
            if not isinstance(m, dict) or not isinstance(m.get("files"), list) or "run_id" not in m:
                raise ValueError("not a run manifest (run_id / files missing)")
        except Exception as e:  # noqa: BLE001 - reported with the path
            problems.append(f"{path}: unreadable manifest: {e}")
            continue
        out.append(m)
    return sorted(out, key=lambda m: m["run_id"]), problems


def check_manifests(
    root: str, manifests: list[dict], archive: dict[str, list[ArchiveFile]], scheme: str, start: int, end: int
) -> tuple[list[str], str]:
    """The files the manifests say are live must exist with the recorded size and sha256; the
    archive must hold no file of the verified tables that no manifest lists."""
    problems: list[str] = []
    replaced_after: dict[str, str] = {}  # path (relative) -> run that retired it
    listed: dict[str, tuple[str, dict]] = {}
    for m in manifests:
        for p in m.get("replaced", []):
            replaced_after[_manifest_relative(p, scheme)] = m["run_id"]
    for m in manifests:
        for entry in m["files"]:
            rel = _manifest_relative(entry["path"], scheme, entry.get("table"), entry.get("partition"))
            listed[rel] = (m["run_id"], entry)
    present = {_relative(root, f.path): f for files in archive.values() for f in files}
    checked = 0
    for rel, (run_id, entry) in sorted(listed.items()):
        if entry.get("table") not in archive:
            continue
        first, last = entry.get("ledger_range", [start, end])
        if last < start or first > end:
            continue
        if replaced_after.get(rel, "") > run_id:
            continue  # retired by a later run, as the newest-set-wins rule says
        checked += 1
        f = present.get(rel)
        if f is None:
            problems.append(f"{rel}: listed by manifest {run_id} but missing from the archive")
            continue
        if f.size != entry["bytes"]:
            problems.append(f"{rel}: {f.size} bytes, manifest {run_id} recorded {entry['bytes']} (modified)")
            continue
        digest = _sha256(f.path)
        if digest != entry["sha256"]:
            problems.append(f"{rel}: sha256 {digest[:16]}... differs from manifest {run_id} (modified)")
    for rel, f in sorted(present.items()):
        if f.name is None or rel in listed:
            continue
        if f.name.last < start or f.name.first > end:
            continue
        problems.append(f"{rel}: in no manifest (a crashed run's file, or copied in by hand)")
    return problems, f"{len(manifests)} manifests, {checked} live files checked"


_PARTITION_DEPTH = {"ledger_day": 3, "hour": 4, "ledger_range": 2}


def _manifest_relative(path: str, scheme: str, table: str | None = None, partition: str | None = None) -> str:
    """A manifest path relative to the archive root (manifests hold absolute paths; archives move).

    File entries name their table and partition; a ``replaced`` entry is only a path, whose last
    ``table/partition.../name`` components are taken by the scheme's directory depth.
    """
    parts = path.replace(os.sep, "/").split("/")
    if table is not None and partition is not None:
        return "/".join(p for p in (table, partition, parts[-1]) if p)
    return "/".join(parts[-(_PARTITION_DEPTH[scheme] + 2) :])


# --- the command ---------------------------------------------------------------------------------


def verify(target: Target) -> Report:
    """Verifies an archive; raises VerifyError when it cannot be verified at all."""
    root = target.root.rstrip("/") or "/"
    manifests, manifest_problems = load_manifests(root)
    if target.tables:
        tables = list(target.tables)
    else:
        # Tables with files, and tables a run archived: a table whose every file is lost still counts.
        from beam_pipeline.records import table_names

        claimed = {t for m in manifests for t in m.get("tables", ())}
        found = set(find_tables(root))
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
    inferred, inferred_lpf = infer_layout(all_files)
    scheme = target.partition_by or inferred
    if scheme is None:
        raise VerifyError(f"{root}: cannot tell the partition scheme from the directories; give --partition-by")
    lpf = target.ledgers_per_file or inferred_lpf
    if scheme == "ledger_range" and not lpf:
        raise VerifyError("--ledgers-per-file is required with --partition-by ledger_range")
    start, end = _range(target, manifests, all_files)

    report = Report(target, scheme, lpf, start, end, [])
    if stray:
        report.warnings.append(f"{len(stray)} non-Parquet files under table directories, e.g. {stray[0]}")
    with tempfile.TemporaryDirectory(prefix="verify-") as workdir:
        db = _Db(workdir, scheme, lpf)
        try:
            for t in tables:
                report.tables.append(check_table(db, t, archive[t], start, end, has_ledgers="ledgers" in tables))
        finally:
            db.close()
    if target.check_manifests:
        report.manifest_problems = list(manifest_problems)
        if not manifests:
            report.manifest_problems.append(f"{fs.join(root, '_manifests')}: no manifests to check against")
        else:
            problems, summary = check_manifests(root, manifests, archive, scheme, start, end)
            report.manifest_problems.extend(problems)
            report.manifest_summary = summary
    return report


def _range(target: Target, manifests: list[dict], files: list[ArchiveFile]) -> tuple[int, int]:
    """The flags' range, else the union of the manifests' ranges, else the file names' coverage."""
    start, end = target.start, target.end
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


def format_report(report: Report) -> str:
    lpf = f", ledgers_per_file {report.ledgers_per_file}" if report.partition_by == "ledger_range" else ""
    lines = [
        f"verify {report.target.root}: ledgers {report.start}-{report.end} "
        f"(partition_by {report.partition_by}{lpf})"
    ]
    for w in report.warnings:
        lines.append(f"  warning: {w}")
    for t in report.tables:
        status = "ok" if t.ok else "FAILED"
        lines.append(f"  {t.table:<24} {t.rows:>12,} rows in {t.files:>5} files: {status}")
        for kind, messages in t.problems.items():
            for m in messages:
                lines.append(f"    {kind}: {m}")
        for w in t.warnings:
            lines.append(f"    warning: {w}")
    if report.target.check_manifests:
        status = "ok" if not report.manifest_problems else "FAILED"
        lines.append(f"  manifests: {report.manifest_summary or 'none'}: {status}")
        for p in _examples(report.manifest_problems):
            lines.append(f"    {p}")
    lines.append("result: " + ("ok, the archive is exact" if report.ok else "FAILED"))
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="The job config: verifies its sink root, range, tables and layout.")
    where.add_argument("--path", help="An archive root: local directory, gs://bucket/prefix or s3://bucket/prefix.")
    parser.add_argument("--start-ledger", "--start_ledger", dest="start_ledger", type=int)
    parser.add_argument("--end-ledger", "--end_ledger", dest="end_ledger", type=int)
    parser.add_argument("--partition-by", "--partition_by", dest="partition_by",
                        choices=("ledger_day", "hour", "ledger_range"),
                        help="With --path: the partition scheme (default: read from the directory names).")
    parser.add_argument("--ledgers-per-file", "--ledgers_per_file", dest="ledgers_per_file", type=int,
                        help="With --path and ledger_range: ledgers per directory (default: from the names).")
    parser.add_argument("--tables", help="Comma-separated tables (default: the config's, or every table found).")
    parser.add_argument("--manifests", action="store_true",
                        help="Also check files against the run manifests: present, size, sha256.")


def main(argv: list[str]) -> int:
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_pipeline.config import ConfigError

    parser = argparse.ArgumentParser(prog="python -m beam_pipeline verify", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    try:
        args, beam_args = parser.parse_known_args(argv)
    except SystemExit as e:
        return EXIT_USAGE if e.code else EXIT_OK
    # Unknown flags are Beam's (``--s3_endpoint_url`` ...): they configure FileSystems, as for ``run``.
    options = PipelineOptions(beam_args)
    try:
        target = _target(args, options)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return EXIT_USAGE
    except ValueError as e:  # VerifyError, or util.storage's StorageConfigError
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    FileSystems.set_options(options)
    try:
        report = verify(target)
    except VerifyError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(format_report(report), flush=True)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _target(args: argparse.Namespace, options) -> Target:
    from beam_pipeline.records import table_names
    from beam_pipeline.util import storage

    tables = tuple(t.strip() for t in args.tables.split(",") if t.strip()) if args.tables else None
    unknown = sorted(set(tables or ()) - set(table_names()))
    if unknown:
        raise VerifyError(f"--tables: unknown tables {', '.join(unknown)} (known: {', '.join(table_names())})")
    if args.config:
        from beam_pipeline.cli import read_config

        cfg = read_config(args.config, options)
        if args.partition_by or args.ledgers_per_file:
            raise VerifyError("--partition-by / --ledgers-per-file go with --path; the config gives them")
        cfg = cfg.with_range(args.start_ledger, args.end_ledger)
        storage.apply_options(cfg, options)
        return Target(
            root=cfg.sink.root,
            partition_by=cfg.sink.partition_by,
            ledgers_per_file=cfg.sink.ledgers_per_file,
            start=cfg.source.start_ledger,
            end=cfg.source.end_ledger,
            tables=tables or cfg.processors,
            check_manifests=args.manifests,
        )
    storage.prepare(args.path)
    if args.ledgers_per_file is not None and args.ledgers_per_file < 1:
        raise VerifyError("--ledgers-per-file must be at least 1")
    return Target(
        root=args.path,
        partition_by=args.partition_by,
        ledgers_per_file=args.ledgers_per_file,
        start=args.start_ledger,
        end=args.end_ledger,
        tables=tables,
        check_manifests=args.manifests,
    )
