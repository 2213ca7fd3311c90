"""Writing one Parquet file set: row groups of bounded size, files rolled at a size target.

Nothing here knows Beam: the sink's DoFns drive `RollingParquetWriter` and commit what it wrote.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from beam_pipeline.util import fs

_CODECS = {"snappy": "snappy", "gzip": "gzip", "zstd": "zstd", "lz4": "lz4", "brotli": "brotli", "none": "none"}


class _CountingStream:
    """A write-only stream that counts and hashes what passes through (or discards it: dry run)."""

    def __init__(self, raw=None):
        self._raw = raw
        self.size = 0
        self._sha = hashlib.sha256()
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.size += len(data)
        self._sha.update(data)
        if self._raw is not None:
            self._raw.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        if self._raw is not None:
            self._raw.flush()

    def close(self) -> None:
        if not self.closed and self._raw is not None:
            self._raw.close()
        self.closed = True

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


@dataclass(frozen=True)
class WrittenFile:
    path: str
    rows: int
    bytes: int
    sha256: str
    ledger_min: int
    ledger_max: int


_MERGE_BATCHES = 64


class RollingParquetWriter:
    """Writes batches to ``path_for(part)`` files: row groups of at most `buffer_size` rows, and a
    new file once the current one reaches `max_file_bytes`.

    Memory is bounded by one row group: batches are buffered until a row group is full, written,
    and released. Small batches (one ledger's rows) are merged as they arrive: a 1-row Arrow batch
    of a wide table costs ~16 KB in buffers and wrappers, so a row group of them would cost ~100x
    its data. Row groups are sized from the compressed bytes per row seen so far, so each file
    ends close to the target instead of overshooting by a whole row group.
    """

    def __init__(
        self,
        schema: pa.Schema,
        path_for: Callable[[int], str],
        ledger_column: str,
        compression: str,
        buffer_size: int,
        max_file_bytes: int,
        dry_run: bool = False,
    ):
        self._schema = schema
        self._path_for = path_for
        self._ledger_column = ledger_column
        self._compression = _CODECS[compression]
        self._buffer_size = buffer_size
        self._max_bytes = max_file_bytes
        self._dry_run = dry_run
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._small: list[pa.RecordBatch] = []  # not yet merged into one batch of _pending
        self._part = 0
        self._writer: pq.ParquetWriter | None = None
        self._stream: _CountingStream | None = None
        self._file_rows = 0
        self._file_min: int | None = None
        self._file_max: int | None = None
        self._bytes_per_row: float | None = None
        self.files: list[WrittenFile] = []
        # Min/max statistics on raw XDR blobs would copy whole blobs into the footer of every row
        # group (kilobytes each) and help no query; keep them for everything else.
        self._groups_in_file = 0
        self._footer_per_group = 200.0 * len(schema)  # a first guess; measured once a file closes
        self._stats_columns = [f.name for f in schema if not (f.metadata and b"stellar.xdr" in f.metadata)]

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._small.append(batch)
        if len(self._small) >= _MERGE_BATCHES:
            self._merge_small()
        self._pending_rows += batch.num_rows
        while self._pending_rows >= self._next_group_rows():
            self._flush_group(self._next_group_rows())

    def close(self) -> list[WrittenFile]:
        while self._pending_rows:
            self._flush_group(min(self._pending_rows, self._next_group_rows()))
        self._close_file()
        return self.files

    def _next_group_rows(self) -> int:
        """Rows for the next row group: a full buffer, or what still fits in the current file."""
        if self._bytes_per_row is None:
            return self._buffer_size
        fits = math.floor(self._budget(self._groups_in_file + 1) / self._bytes_per_row)
        return max(1, min(self._buffer_size, fits))

    def _budget(self, groups: int) -> float:
        """Data bytes still free in the current file if it ends up with `groups` row groups.

        The footer grows by one metadata block per row group (column offsets, sizes and statistics),
        which matters for small targets and wide tables, so it is budgeted from what earlier files
        measured.
        """
        used = self._stream.size if self._stream else 0
        return self._max_bytes - used - groups * self._footer_per_group

    def _merge_small(self) -> None:
        if self._small:
            self._pending.append(pa.concat_batches(self._small))
            self._small = []

    def _flush_group(self, rows: int) -> None:
        self._merge_small()
        table = pa.Table.from_batches(self._pending, schema=self._schema)
        group, rest = table.slice(0, rows), table.slice(rows)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._pending_rows = rest.num_rows
        if self._writer is None:
            self._open_file()
        before = self._stream.size
        self._writer.write_table(group, row_group_size=rows)
        self._stream.flush()
        written = self._stream.size - before
        self._groups_in_file += 1
        self._file_rows += group.num_rows
        ledgers = group.column(self._ledger_column)
        lo, hi = pc.min(ledgers).as_py(), pc.max(ledgers).as_py()
        self._file_min = lo if self._file_min is None else min(self._file_min, lo)
        self._file_max = hi if self._file_max is None else max(self._file_max, hi)
        if written > 0:
            observed = written / group.num_rows
            self._bytes_per_row = observed if self._bytes_per_row is None else 0.5 * (self._bytes_per_row + observed)
        # Roll when another row of data would not fit (5% slack): a file ends near the target.
        remaining = self._budget(self._groups_in_file)
        if remaining <= 0.05 * self._max_bytes or remaining < (self._bytes_per_row or 0):
            self._close_file()

    def _open_file(self) -> None:
        path = self._path_for(self._part)
        raw = None if self._dry_run else fs.create(path)
        self._stream = _CountingStream(raw)
        self._writer = pq.ParquetWriter(
            self._stream,
            self._schema,
            compression=self._compression,
            write_statistics=self._stats_columns,
        )
        self._current_path = path

    def _close_file(self) -> None:
        if self._writer is None:
            return
        data_bytes = self._stream.size
        self._writer.close()
        self._footer_per_group = (self._stream.size - data_bytes) / self._groups_in_file
        self._groups_in_file = 0
        self._stream.close()
        self.files.append(
            WrittenFile(
                path=self._current_path,
                rows=self._file_rows,
                bytes=self._stream.size,
                sha256=self._stream.sha256,
                ledger_min=self._file_min,
                ledger_max=self._file_max,
            )
        )
        self._writer = None
        self._stream = None
        self._file_rows = 0
        self._file_min = self._file_max = None
        self._part += 1


def read_batches(path: str, batch_rows: int = 65536) -> Iterable[pa.RecordBatch]:
    """Streams a Parquet file's rows batch by batch (any FileSystems path)."""
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as f:
        pf = pq.ParquetFile(f)
        yield from pf.iter_batches(batch_size=batch_rows)


def read_schema(path: str) -> pa.Schema:
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path) as f:
        return pq.ParquetFile(f).schema_arrow
