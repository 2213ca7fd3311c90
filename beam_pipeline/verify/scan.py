"""Finding an archive's files and loading the few columns `verify` needs into DuckDB.

Files are listed and read through Beam's FileSystems (local, gs://, s3://), only the columns that
the checks use (ledger, id, close time; the count columns of ``ledgers``), batch by batch. DuckDB
reduces the rows to one line per (ledger, file set, close time) in a disk-backed database, so
memory stays bounded on 100k+ ledgers and every check in `checks` is a query over that aggregate.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.partitioning import legacy_range_partition, partition_path, range_partition
from beam_pipeline.util import fs
from beam_pipeline.verify.model import EXAMPLES, ArchiveFile, TableReport, VerifyError

# Tables whose rows per ledger the ledgers table predicts: table -> the ledgers columns summed.
COUNT_COLUMNS = {
    "transactions": ("successful_transaction_count", "failed_transaction_count"),
    "operations": ("tx_set_operation_count",),
}
_KEY_COLUMN = "id"
_BUCKET_SECONDS = {"ledger_day": 86400, "hour": 3600}


# --- listing -----------------------------------------------------------------------------------


def relative_path(root: str, path: str) -> str:
    """`path` below `root` with "/" separators: manifests and reports name files this way, since archives move."""
    rel = path[len(root.rstrip("/")) :].lstrip("/")
    return rel.replace(os.sep, "/") if fs.is_local(root) else rel


def list_table(root: str, table: str) -> tuple[list[ArchiveFile], list[str]]:
    """The Parquet files of one table, with their partition directory and parsed name; other files."""
    table_dir = fs.join(root, table)
    listed = fs.list_tree_if_any(table_dir)
    files, other = [], []
    for path, size in listed:
        rel = relative_path(table_dir, path)
        partition, _, base = rel.rpartition("/")
        if any(p.startswith("_") for p in partition.split("/")):
            continue  # a table format's log (Delta's _delta_log/): not data, checked by `table_format`
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


def refuse_legacy_ranges(files: list[ArchiveFile]) -> None:
    """Old ``ledgers/START-END/`` directories would read as misplaced files: say how to migrate instead."""
    for f in files:
        if f.partition and legacy_range_partition(f.partition) is not None:
            raise VerifyError(
                f"{f.path}: a ledger-range directory of the old layout ({f.partition}/); "
                "run `python -m beam_pipeline migrate-layout --root ROOT` to rename it to ledger_range=START-END/"
            )


def infer_layout(files: list[ArchiveFile]) -> tuple[str | None, int | None]:
    """The partition scheme (and, for ledger_range, ledgers_per_file) the directory names show."""
    refuse_legacy_ranges(files)
    schemes: dict[str, set] = defaultdict(set)
    for f in files:
        parts = f.partition.split("/") if f.partition else []
        span = range_partition(f.partition)
        if span is not None:
            schemes["ledger_range"].add(span[1] - span[0] + 1)
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


def open_file(path: str):
    """A raw byte stream through FileSystems (any scheme); never decompressed by a guess from the name."""
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


def row_keys(ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Row ids as int64 keys that are distinct within a ledger (duplicates are counted per ledger).

    Integer ids (TOIDs) are their own key. String ids of stellar-etl's ``"<operation_id>-<index>"``
    form (effects) become ``low 32 bits of the operation id << 31 | index``: the low 32 bits of a
    TOID (transaction and operation order) are unique within its ledger, so the key is exact. Other
    string ids fall back to a 64-bit BLAKE2 digest.
    """
    if not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        return pc.cast(ids, pa.int64())
    if pc.all(pc.match_substring_regex(ids, r"^\d+-\d+$")).as_py() is not False:
        parts = pc.split_pattern(ids, "-")
        op = pc.cast(pc.list_element(parts, 0), pa.int64())
        index = pc.cast(pc.list_element(parts, 1), pa.int64())
        return pc.bit_wise_or(pc.shift_left(pc.bit_wise_and(op, 0xFFFFFFFF), 31), index)
    digests = [
        None if v is None else int.from_bytes(hashlib.blake2b(v.encode(), digest_size=8).digest(), "big", signed=True)
        for v in ids.to_pylist()
    ]
    return pa.array(digests, pa.int64())


class TableReader:
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
        with open_file(f.path) as handle:
            pf = pq.ParquetFile(handle)
            names = set(pf.schema_arrow.names)
            # trades keeps stellar-etl's name for its close time
            closed_col = "ledger_closed_at" if "closed_at" not in names and "ledger_closed_at" in names else "closed_at"
            needed = [self.ledger_col, closed_col]
            missing = [c for c in needed if c not in names]
            if missing:
                raise ValueError(f"columns {missing} missing")
            columns = needed + ([_KEY_COLUMN] if _KEY_COLUMN in names else [])
            if self.table == "ledgers":
                columns += [c for cols in COUNT_COLUMNS.values() for c in cols if c in names]
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
                yield self._project(batch, set_id, closed_col)
            if outside:
                self.report.add(
                    "misplaced",
                    f"{f.path}: {outside} rows outside the ledgers {f.name.first}-{f.name.last} its name covers",
                )

    def _project(self, batch: pa.RecordBatch, set_id: int, closed_col: str = "closed_at") -> pa.RecordBatch:
        n = batch.num_rows
        names = batch.schema.names
        ledger = pc.cast(batch.column(self.ledger_col), pa.int64())
        closed = batch.column(closed_col).cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
        close_ts = pc.divide(closed, 1_000_000)
        key = row_keys(batch.column(_KEY_COLUMN)) if _KEY_COLUMN in names else pa.nulls(n, pa.int64())
        exp = {}
        for table, cols in COUNT_COLUMNS.items():
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


MEMORY_LIMIT = "256MB"  # DuckDB spills to disk beyond this; running out of both is a named error (cli)


class ArchiveDb:
    """A disk-backed DuckDB database holding one aggregate per table: a line per (ledger, file set,
    close time), so that every check is a query and Python only ever sees the problems."""

    def __init__(self, workdir: str, scheme: str, lpf: int | None):
        import duckdb

        self.con = duckdb.connect(os.path.join(workdir, "verify.duckdb"))
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute(f"SET temp_directory = '{os.path.join(workdir, 'spill')}'")
        self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")  # spills to temp_directory beyond this
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

    def load(self, table: str, reader: TableReader) -> str:
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
        return self.con.execute(sql, params).fetchall()[0]  # fetchall: leaves no unfinished result behind

    def all(self, sql: str, params=()) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def spans(self, ledgers_sql: str, params=()) -> tuple[int, str]:
        """(how many, "a-b, c, ...") for the distinct ledgers a query returns, as runs of consecutive ones."""
        total, runs, first = self._islands(ledgers_sql, params)
        return total, _runs_text(first, runs)

    def spans_in_range(self, ledgers_sql: str, start: int, end: int, extent: tuple[int | None, int | None]):
        """As `spans`, for a query of the ledgers of ``range(?, ?)`` that lack something, over start..end.

        The query runs only over the part of start..end inside `extent` (the first and last ledger the
        archive has anything for); every ledger outside it lacks everything, so those runs are counted,
        not generated. A range of 2^32 ledgers over a small archive then costs what the archive costs
        (it used to materialize every ledger of the range and end in a DuckDB out-of-memory error).
        """
        lo, hi = extent
        if lo is None or hi is None or max(lo, start) > min(hi, end):
            return end - start + 1, _runs_text([(start, end)], 1)
        lo, hi = max(lo, start), min(hi, end)
        total, runs, first = self._islands(ledgers_sql, (lo, hi + 1))
        if start < lo:
            total, runs, first = total + lo - start, runs + 1, [(start, lo - 1), *first]
        if hi < end:
            total, runs = total + end - hi, runs + 1
            if len(first) < EXAMPLES:
                first = [*first, (hi + 1, end)]
        return total, _runs_text(first[:EXAMPLES], runs)

    def _islands(self, ledgers_sql: str, params) -> tuple[int, int, list[tuple[int, int]]]:
        islands = (
            f"WITH d AS (SELECT DISTINCT ledger FROM ({ledgers_sql})), "
            "g AS (SELECT ledger, ledger - row_number() OVER (ORDER BY ledger) AS grp FROM d) "
            "SELECT min(ledger) AS a, max(ledger) AS b, count(*) AS c FROM g GROUP BY grp"
        )
        total, runs = self.one(f"SELECT coalesce(sum(c), 0), count(*) FROM ({islands})", params)
        first = self.all(f"SELECT a, b FROM ({islands}) ORDER BY a LIMIT {EXAMPLES}", params)
        return int(total), int(runs), [(int(a), int(b)) for a, b in first]


def _runs_text(first: list[tuple[int, int]], runs: int) -> str:
    text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in first)
    if runs > len(first):
        text += f", ... ({runs - len(first)} more ranges)"
    return text
