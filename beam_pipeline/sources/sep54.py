"""The SEP-54 ("galexie") data store layout: its manifest and its object key formula."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

EXTENSIONS = ("zst", "zstd")  # current stores use .xdr.zst, older ones .xdr.zstd


class DatastoreError(ValueError):
    """The data store is not what its manifest or our configuration says; names file and key."""


@dataclass(frozen=True)
class Manifest:
    network_passphrase: str
    ledgers_per_batch: int
    batches_per_partition: int
    compression: str
    version: str = ""


def parse_manifest(text: str, where: str) -> Manifest:
    """Parses ``.config.json``; every missing or malformed field is an error naming the file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DatastoreError(f"{where}: malformed JSON: {e}") from None
    if not isinstance(data, dict):
        raise DatastoreError(f"{where}: expected a JSON object")
    problems = []

    def field(name, kind):
        v = data.get(name)
        if v is None:
            problems.append(f"{name} is missing")
        elif not isinstance(v, kind) or isinstance(v, bool):
            problems.append(f"{name} must be {kind.__name__}, got {v!r}")
        return v

    passphrase = field("networkPassphrase", str)
    lpb = field("ledgersPerBatch", int)
    bpp = field("batchesPerPartition", int)
    compression = data.get("compression", "zstd")
    if isinstance(lpb, int) and lpb < 1:
        problems.append(f"ledgersPerBatch must be at least 1, got {lpb}")
    if isinstance(bpp, int) and bpp < 1:
        problems.append(f"batchesPerPartition must be at least 1, got {bpp}")
    if compression != "zstd":
        problems.append(f"compression {compression!r} is not supported (only zstd)")
    if problems:
        raise DatastoreError(f"{where}: " + "; ".join(problems))
    return Manifest(passphrase, lpb, bpp, compression, str(data.get("version", "")))


def batch_bounds(seq: int, ledgers_per_batch: int) -> tuple[int, int]:
    start = seq // ledgers_per_batch * ledgers_per_batch
    return start, start + ledgers_per_batch - 1


def object_key(seq: int, ledgers_per_batch: int, batches_per_partition: int, ext: str = "zst") -> str:
    """The key of the object holding ledger `seq`, relative to the data store root."""
    key = ""
    if batches_per_partition > 1:
        size = ledgers_per_batch * batches_per_partition
        ps = seq // size * size
        key = f"{0xFFFFFFFF - ps:08X}--{ps}-{ps + size - 1}/"
    fs_, fe = batch_bounds(seq, ledgers_per_batch)
    key += f"{0xFFFFFFFF - fs_:08X}--{fs_}"
    if fs_ != fe:
        key += f"-{fe}"
    return key + ".xdr." + ext


_PARTITION_DIR = re.compile(r"^[0-9A-F]{8}--(\d+)-(\d+)/$")
_OBJECT_NAME = re.compile(r"^[0-9A-F]{8}--(\d+)(?:-(\d+))?\.xdr\.(zst|zstd)$")


def parse_partition_dir(name: str) -> tuple[int, int] | None:
    """(first, last) ledger of a partition directory name such as ``FFFFFFFF--0-639/``, else None.

    The inverse of the partition part of `object_key`.
    """
    m = _PARTITION_DIR.match(name)
    return (int(m[1]), int(m[2])) if m else None


def parse_object_name(name: str) -> tuple[int, int] | None:
    """(first, last) ledger of an object name such as ``FFFFFFBF--64-127.xdr.zst``, else None.

    The inverse of the object part of `object_key`; a one-ledger batch has no ``-end``.
    """
    m = _OBJECT_NAME.match(name)
    if not m:
        return None
    start = int(m[1])
    return start, int(m[2] or start)


def batches(start: int, end: int, ledgers_per_batch: int) -> list[tuple[int, int]]:
    """The batch ranges [(batch_start, batch_end)] holding ledgers start..end, in order."""
    out = []
    seq = start
    while seq <= end:
        b = batch_bounds(seq, ledgers_per_batch)
        out.append(b)
        seq = b[1] + 1
    return out
