"""Data stores for the benchmark: listing, reading, and a scaled store of renumbered real ledgers.
"""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path

import zstandard

SCALE_SOURCE = "testnet-p19-lpf64"  # the store renumbered into scaled stores


def objects_of(root: str) -> list[str]:
    return sorted(
        glob.glob(f"{root}/**/*.xdr.zst", recursive=True) + glob.glob(f"{root}/**/*.xdr.zstd", recursive=True)
    )


def read_manifest(root: str) -> dict:
    return json.loads(Path(root, ".config.json").read_text())


def ledger_range(blobs: list[bytes]) -> tuple[int, int, int]:
    """(first, last, count) of the ledgers in decompressed LedgerCloseMetaBatch blobs (header only)."""
    firsts, lasts = [], []
    for b in blobs:
        firsts.append(int.from_bytes(b[0:4], "big"))
        lasts.append(int.from_bytes(b[4:8], "big"))
    distinct = {(f, la) for f, la in zip(firsts, lasts, strict=True)}
    return min(firsts), max(lasts), sum(la - f + 1 for f, la in distinct)


def build_scaled_store(dest: str, source: str, base: int, scale: int, ledgers_per_batch: int = 8) -> str:
    """Writes ``base * scale`` consecutive ledgers, renumbered copies of `source`'s first `base`.

    Each copy gets a new ledgerSeq, a close time 5 s after its predecessor, the predecessor's hash
    as previousLedgerHash and its own header hash, so the chain is consistent. Transaction sets,
    results and metas are unchanged: with the same network passphrase, envelopes still pair with
    their results by hash. Batches of `ledgers_per_batch` ledgers sit at their SEP-54 keys.
    """
    from stellar_sdk import xdr

    from beam_pipeline.sources import sep54
    from beam_pipeline.xdr.ledger import lcm_body

    manifest = read_manifest(source)
    lcms = []
    for path in sorted(objects_of(source), reverse=True):  # inverted-hex keys: lowest ledger first
        batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(decompress(Path(path).read_bytes()))
        lcms.extend(batch.ledger_close_metas)
        if len(lcms) >= base:
            break
    lcms = lcms[:base]
    if not lcms:
        raise ValueError(f"{source}: no ledgers")
    body = lcm_body(lcms[0])
    first = body.ledger_header.header.ledger_seq.uint32
    close0 = body.ledger_header.header.scp_value.close_time.time_point.uint64
    prev_hash = body.ledger_header.header.previous_ledger_hash.hash
    partition = 1000
    Path(dest).mkdir(parents=True, exist_ok=True)
    Path(dest, ".config.json").write_text(
        json.dumps(
            {
                "networkPassphrase": manifest["networkPassphrase"],
                "version": "1.0",
                "compression": "zstd",
                "ledgersPerBatch": ledgers_per_batch,
                "batchesPerPartition": partition,
            }
        )
    )
    total = base * scale
    encoded: list[bytes] = []
    cctx = zstandard.ZstdCompressor(level=3)
    for i in range(total):
        lcm = lcms[i % base]
        entry = lcm_body(lcm).ledger_header
        header = entry.header
        header.ledger_seq = xdr.Uint32(first + i)
        header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(close0 + 5 * i))
        header.previous_ledger_hash = xdr.Hash(prev_hash)
        prev_hash = hashlib.sha256(header.to_xdr_bytes()).digest()
        entry.hash = xdr.Hash(prev_hash)
        encoded.append(lcm.to_xdr_bytes())
        seq = first + i
        if (seq + 1) % ledgers_per_batch == 0 or i == total - 1:
            start = seq - len(encoded) + 1
            key = sep54.object_key(start, ledgers_per_batch, partition, "zst")
            data = (
                start.to_bytes(4, "big") + seq.to_bytes(4, "big") + len(encoded).to_bytes(4, "big") + b"".join(encoded)
            )
            out = Path(dest, key)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(cctx.compress(data))
            encoded = []
    return dest


def decompress(data: bytes, what: str = "benchmark object") -> bytes:
    from beam_pipeline.xdr.compression import decompress as bounded

    return bounded(data, what, 1 << 30)  # the pipeline's bound at the default max_object_size_mb
