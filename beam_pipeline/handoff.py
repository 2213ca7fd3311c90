"""What the decode step hands to the sinks: table chunks, dead letters and the chunk codec.

Decoding and writing meet here and nowhere else: `decode.py` produces these values and the sinks
(`sinks/parquet.py`, `sinks/streaming.py`, `sinks/manifest.py`) consume them, and neither side
imports the other. Beam-free, so that another producer (a native decoder) or another sink can
join without touching either.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa
import zstandard

from beam_pipeline.util import spill
from beam_pipeline.xdr import compression

CHUNK_ZSTD_LEVEL = 1
# A chunk is our own output, so no bomb: the bound only keeps the one decompressor's contract.
CHUNK_MAX_BYTES = 1 << 34


class TableChunk(NamedTuple):
    """Rows of one table from the ledgers of one blob that go to the same file.

    `ledger` and `close_time` are those of the first of them; every ledger of a chunk has the
    same `partitioning.file_group` (partition, ledger chunk, shard), hence the same window.
    One chunk per ledger would be simpler, but each element costs the runner ~0.1 ms on its way
    through the shuffle: a quarter of a testnet run went to moving three small chunks per ledger.

    The schema is known by table name. Compressed because every chunk crosses the GroupByKey:
    the runner buffers it and, with several workers, ships it between processes twice; the rows'
    Arrow form (base64 XDR, repeated ids) shrinks ~10x at level 1 for ~1 % of the step's time.
    On local runs the compressed bytes stay in a spill file and `batch` is their SpillRef
    (`util/spill.py`).
    """

    table: str
    ledger: int
    close_time: int
    rows: int
    batch: bytes | spill.SpillRef


class DeadLetter(NamedTuple):
    """A unit that failed (object key or ledger) and why; written to the `_dead_letter` table."""

    unit: str
    ledger: int | None
    error_class: str
    message: str


class ChunkPacker:
    """Compresses record batches into chunk payloads, parked in a spill file when given a directory.

    One packer per bundle of the decode step: `close()` at the end of the bundle makes what was
    spilled readable from any process (see `util/spill.py` for why one file per bundle).
    """

    def __init__(self, spill_dir: str | None = None):
        self._spill_dir = spill_dir
        self._compressor = zstandard.ZstdCompressor(level=CHUNK_ZSTD_LEVEL)
        self._spill: spill.SpillFile | None = None

    def pack(self, batch: pa.RecordBatch) -> bytes | spill.SpillRef:
        """The compressed batch itself, or (local runs) where this bundle's spill file keeps it."""
        data = self._compressor.compress(batch.serialize())
        if self._spill_dir is None:
            return data
        if self._spill is None:
            self._spill = spill.SpillFile(self._spill_dir)
        return self._spill.put(data)

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None


def chunk_to_batch(chunk: TableChunk, schema: pa.Schema) -> pa.RecordBatch:
    """The rows of a chunk, read back from its bytes or its spill file."""
    data = chunk.batch if isinstance(chunk.batch, bytes) else spill.read(chunk.batch)
    data = compression.decompress(data, f"{chunk.table} chunk of ledger {chunk.ledger}", CHUNK_MAX_BYTES)
    return pa.ipc.read_record_batch(pa.py_buffer(data), schema)
