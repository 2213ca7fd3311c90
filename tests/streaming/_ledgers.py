"""Real ledgers for the streaming tests: testnet-p19-lpf64 (1410048..1410367) as raw and decoded data."""

from __future__ import annotations

import functools

from beam_pipeline.config import NETWORKS
from beam_pipeline.decode import DecodeSettings, _DecodeToRowsFn
from beam_pipeline.handoff import TableChunk
from beam_pipeline.sinks.partitioning import file_group
from beam_pipeline.sources.base import LEDGER, LedgerBlob
from tests.fakes.rpc_server import ServedLedger, load_datastore
from tests.harness import datastore

STORE = "testnet-p19-lpf64"
FIRST, LAST = 1410048, 1410367
TESTNET = NETWORKS["testnet"]


def served() -> dict[int, ServedLedger]:
    return load_datastore(datastore(STORE))[1]


@functools.lru_cache(maxsize=1)
def ledger_chunks(count: int) -> tuple[TableChunk, ...]:
    """The `ledgers` table chunk (one row) of the first `count` ledgers, made by the real decode step."""
    group = functools.partial(file_group, "ledger_day", 10000, 1)
    run_id = "r20240101T000000000000Z0000"
    fn = _DecodeToRowsFn(DecodeSettings(("ledgers",), TESTNET, group, pipeline_name="test", run_id=run_id))
    fn.setup()
    out = []
    for seq in range(FIRST, FIRST + count):
        blob = LedgerBlob(f"test ledger {seq}", LEDGER, served()[seq].meta_xdr, seq, seq)
        out.extend(tv.value for tv in fn.process(blob))
    return tuple(out)
