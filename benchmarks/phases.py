"""In-process phases: read + zstd, decode with stellar_sdk, decode with the fast path (no Beam).
"""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

from benchmarks.stores import decompress, ledger_range, objects_of

TABLES = ("ledgers", "transactions", "operations", "contract_events", "contract_data")
MULTI_ARGS = ("--direct_num_workers=2", "--direct_running_mode=multi_processing")


def _median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure_in_process(root: str, repeat: int) -> dict:
    """Read + zstd, decode with stellar_sdk, decode with the fast path; medians of `repeat` runs."""
    from stellar_sdk import xdr

    from beam_pipeline.xdr import fast

    paths = objects_of(root)
    blobs: list[bytes] = []

    def read():
        blobs[:] = [decompress(Path(p).read_bytes()) for p in paths]

    read_s = _median_time(read, repeat)
    first, last, ledgers = ledger_range(blobs)
    mb = sum(len(b) for b in blobs) / 1e6
    # Each batch is dropped once decoded, as the pipeline drops it: keeping every decoded ledger of
    # the range alive would make the garbage collector's passes grow with the range (an earlier
    # version did, and measured decode-only 30 % slower on 1024 ledgers than on 64).
    sdk_s = _median_time(lambda: _decode_each(xdr.LedgerCloseMetaBatch.from_xdr_bytes, blobs), repeat)
    # The pipeline decodes with the fast path while the cyclic collector is paused (decode.py);
    # stellar_sdk with the same pause separates what the pause buys from what the decoder does.
    sdk_paused_s = _median_time(
        lambda: _decode_each(xdr.LedgerCloseMetaBatch.from_xdr_bytes, blobs, gc_paused=True), repeat
    )
    fast_s = _median_time(lambda: _decode_each(fast.decode_batch, blobs, gc_paused=True), repeat)
    return {
        "first_ledger": first,
        "last_ledger": last,
        "ledgers": ledgers,
        "objects": len(paths),
        "xdr_mb": round(mb, 3),
        "read": rates(read_s, ledgers, mb),
        "decode_sdk": rates(sdk_s, ledgers, mb),
        "decode_sdk_gc_paused": rates(sdk_paused_s, ledgers, mb),
        "decode_fast": rates(fast_s, ledgers, mb),
    }


def _decode_each(decode, blobs: list[bytes], gc_paused: bool = False) -> None:
    from beam_pipeline.decode import gc_paused as paused

    for b in blobs:
        with paused() if gc_paused else contextlib.nullcontext():
            decode(b)


def rates(seconds: float, ledgers: int, mb: float, rows: int | None = None) -> dict:
    out = {
        "seconds": round(seconds, 4),
        "ledgers_per_s": round(ledgers / seconds, 2),
        "mb_per_s": round(mb / seconds, 3),
    }
    if rows is not None:
        out["rows_per_s"] = round(rows / seconds, 1)
    return out
