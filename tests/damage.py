"""Writable copies of the shared data stores, damaged on purpose: the helpers the bad-input and safety
tests share (a helper module, not a test module: pytest collects nothing here).

A test gets its own copy of a read-only store (`copy_store`), rewrites one object of it
(`write_xdr`, `write_batch`, ...) and runs a job over a range that crosses that object (`START`,
`BAD`), then checks that a failed run left nothing behind (`assert_nothing_left`).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import zstandard
from stellar_sdk import xdr

from beam_pipeline.sources import sep54
from tests.harness import datastore, parquet_files

STORE = "testnet-p19-lpf64"  # 64 ledgers per object, 10 objects per partition, ledgers 1410048..1410367
LEDGERS_PER_BATCH, BATCHES_PER_PARTITION = 64, 10
# A short range over the end of the first object and the start of the second (1410112-1410175),
# which is the one damaged: a few ledgers decode fine before the bad one is reached.
START, END = 1410100, 1410130
BAD = 1410112


# --- a writable data store ---------------------------------------------------------------------


def copy_store(tmp_path: Path, name: str = STORE) -> Path:
    """A writable copy of a shared (read-only) data store under `tmp_path`."""
    dst = tmp_path / f"store-{name}"
    shutil.copytree(datastore(name), dst)
    for dirpath, dirnames, filenames in os.walk(dst):
        for n in [*dirnames, *filenames]:
            p = os.path.join(dirpath, n)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    os.chmod(dst, os.stat(dst).st_mode | stat.S_IWUSR)
    return dst


def object_key(seq: int) -> str:
    """The key of the object holding `seq`, by the store's own formula, as error messages name it."""
    return sep54.object_key(seq, LEDGERS_PER_BATCH, BATCHES_PER_PARTITION, "zst")


KEY = object_key(BAD)  # the damaged object


def object_path(store: Path, seq: int) -> Path:
    return store / object_key(seq)


def read_xdr(store: Path, seq: int) -> bytes:
    return zstandard.ZstdDecompressor().stream_reader(object_path(store, seq).read_bytes()).read()


def read_batch(store: Path, seq: int) -> xdr.LedgerCloseMetaBatch:
    return xdr.LedgerCloseMetaBatch.from_xdr_bytes(read_xdr(store, seq))


def write_xdr(store: Path, seq: int, payload: bytes) -> None:
    """Writes `payload` as one valid zstd frame at the object key of `seq`."""
    object_path(store, seq).write_bytes(zstandard.ZstdCompressor().compress(payload))


def write_batch(store: Path, seq: int, batch: xdr.LedgerCloseMetaBatch) -> None:
    write_xdr(store, seq, batch.to_xdr_bytes())


def assert_nothing_left(out: Path) -> None:
    """A failed run must leave no trace a reader could take for archived data."""
    assert parquet_files(out) == [], "a failed run left final Parquet files"
    assert not (out / "_temporary").exists(), "a failed run left temporary files"
    assert not (out / "_manifests").exists(), "a failed run wrote a manifest"

