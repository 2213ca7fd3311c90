"""RollingParquetWriter on its own: one ledger's rows at a time, as the sink feeds it."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from beam_pipeline.sinks.parquet_files import _MERGE_BATCHES, RollingParquetWriter

SCHEMA = pa.schema([("ledger_sequence", pa.int64()), ("payload", pa.string())])


def _writer(tmp_path, buffer_size: int) -> RollingParquetWriter:
    return RollingParquetWriter(
        SCHEMA, lambda part: str(tmp_path / f"part-{part}.parquet"), "ledger_sequence", "zstd", buffer_size, 1 << 30
    )


def test_one_row_batches_are_merged_while_buffered_and_written_in_order(tmp_path):
    writer = _writer(tmp_path, buffer_size=1000)
    n = 5 * _MERGE_BATCHES + 7
    for i in range(n):
        writer.write(pa.RecordBatch.from_pylist([{"ledger_sequence": i, "payload": f"row {i}"}], schema=SCHEMA))
        # What is held is a few merged batches plus fewer than _MERGE_BATCHES small ones, not n.
        assert len(writer._small) < _MERGE_BATCHES
        assert len(writer._pending) <= i // _MERGE_BATCHES + 1
    files = writer.close()
    assert [f.rows for f in files] == [n] and (files[0].ledger_min, files[0].ledger_max) == (0, n - 1)
    table = pq.read_table(files[0].path)
    assert table.column("ledger_sequence").to_pylist() == list(range(n))
    assert table.column("payload").to_pylist() == [f"row {i}" for i in range(n)]
    meta = pq.ParquetFile(files[0].path).metadata
    assert meta.num_row_groups == 1


def test_row_groups_still_hold_buffer_size_rows_across_merged_batches(tmp_path):
    writer = _writer(tmp_path, buffer_size=50)
    for i in range(3 * _MERGE_BATCHES):
        rows = [{"ledger_sequence": i, "payload": "x" * (i % 7)}] * (1 + i % 3)
        writer.write(pa.RecordBatch.from_pylist(rows, schema=SCHEMA))
    (written,) = writer.close()
    meta = pq.ParquetFile(written.path).metadata
    sizes = [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]
    assert sizes[:-1] == [50] * (len(sizes) - 1) and 0 < sizes[-1] <= 50
    assert sum(sizes) == written.rows == sum(1 + i % 3 for i in range(3 * _MERGE_BATCHES))
