"""Following the chain end to end: the CLI with an RPC tail that has an end ledger, on the FnApiRunner.

The fake RPC server (tests/fakes/rpc_server.py) serves testnet-p19-lpf64. With ``follow: true`` and an
end ledger the job is a streaming job (tail source, triggered hourly windows, pane commits) that
finishes by itself, so it can be compared with the batch datastore run of the same ledgers, and
stopped and restarted.
"""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pytest

from beam_pipeline.cli import main
from beam_pipeline.config import load_config
from tests.harness import datastore, job_config, read_table, run_job, write_config
from tests.streaming._ledgers import FIRST, STORE

pytestmark = pytest.mark.timeout(300)

TABLES = ["ledgers", "transactions", "operations", "token_transfers", "effects"]


def tail_config(url: str, out, start: int, end: int | None, **sink) -> dict:
    sink_cfg = {"storage_type": "FS", "local_path": str(out), "partition_by": "hour", "rotation_interval_minutes": 1}
    sink_cfg.update(sink)
    source = {"rpc_url": url, "start_ledger": start, "follow": True, "retry_wait": 0.01, "poll_interval": 0.1,
              "network": "testnet", "batch_size": 50}
    if end is not None:
        source["end_ledger"] = end
    return {
        "pipeline": {
            "name": "tail",
            "source": {"type": "rpc", "config": source},
            "processors": [{"type": t} for t in TABLES],
            "consumers": [{"type": "SaveToParquet", "config": sink_cfg}],
        }
    }


def _sorted(table, key: str):
    return table.sort_by(key).to_pylist()


def _manifests(root) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "_manifests").glob("*.json"))]


def test_tail_with_end_ledger_equals_the_batch_run(fake_rpc, tmp_path):
    """Runner: FnApiRunner (the CLI's default) for both the streaming tail and the batch datastore run."""
    server = fake_rpc(STORE)
    end = FIRST + 59
    tail_out, batch_out = tmp_path / "tail", tmp_path / "batch"
    cfg = tail_config(server.url, tail_out, FIRST, end)
    assert load_config(write_config(cfg, tmp_path, "tail.yaml")).streaming
    assert run_job(cfg, tmp_path) == 0
    assert run_job(job_config(datastore(STORE), FIRST, end, batch_out, TABLES, partition_by="hour"), tmp_path) == 0

    for table, key in (("ledgers", "sequence"), ("transactions", "id"), ("operations", "id"), ("effects", "id")):
        streamed, batched = read_table(tail_out, table), read_table(batch_out, table)
        assert streamed.num_rows == batched.num_rows > 0
        assert _sorted(streamed, key) == _sorted(batched, key)
    streamed, batched = read_table(tail_out, "token_transfers"), read_table(batch_out, "token_transfers")
    every_column = [(name, "ascending") for name in batched.column_names]
    assert streamed.num_rows == batched.num_rows > 0
    assert streamed.sort_by(every_column).to_pylist() == batched.sort_by(every_column).to_pylist()
    # Same partition directories.
    tail_dirs = sorted(p.parent.relative_to(tail_out) for p in tail_out.glob("*/year=*/**/*.parquet"))
    batch_dirs = sorted(p.parent.relative_to(batch_out) for p in batch_out.glob("*/year=*/**/*.parquet"))
    assert sorted(set(tail_dirs)) == sorted(set(batch_dirs))
    # The manifest lists exactly the files on disk, and verify agrees.
    (manifest,) = _manifests(tail_out)
    on_disk = sorted(str(p) for p in tail_out.glob("*/year=*/**/*.parquet"))
    assert sorted(f["path"] for f in manifest["files"]) == on_disk
    assert manifest["ledger_range"] == {"start": FIRST, "end": end}
    assert "rpc tail" in manifest["source"]
    assert main(["verify", "--path", str(tail_out), "--manifests"]) == 0
    # The workers read each ledger once, in pages that start where the previous one ended.
    starts = [r["startLedger"] for r in server.ledger_requests() if r.get("startLedger") != server.latest]
    assert starts == list(range(FIRST, end + 1, 50))


def test_stop_and_restart_resumes_from_the_archive_exactly(fake_rpc, tmp_path):
    """Runner: FnApiRunner. A first tail stops at FIRST+40 (mid-hour, like a drain); restarted with a
    later end and an earlier configured start, it never resumes past the ledgers the archive lacks
    (FIRST..FIRST+9, issue #19) and leaves every ledger exactly once."""
    server = fake_rpc(STORE)
    out = tmp_path / "out"
    assert run_job(tail_config(server.url, out, FIRST + 10, FIRST + 40), tmp_path) == 0
    first_run = read_table(out, "ledgers").column("sequence").to_pylist()
    assert sorted(first_run) == list(range(FIRST + 10, FIRST + 41))

    server.requests.clear()
    # Same source, configured start earlier than the archive: the gap before the archive is archived.
    assert run_job(tail_config(server.url, out, FIRST, FIRST + 90), tmp_path) == 0
    starts = [r["startLedger"] for r in server.ledger_requests() if r.get("startLedger") != server.latest]
    assert min(starts) == FIRST

    ledgers = read_table(out, "ledgers").column("sequence").to_pylist()
    assert sorted(ledgers) == list(range(FIRST, FIRST + 91))  # every ledger, once
    txs = read_table(out, "transactions")
    assert len(set(txs.column("id").to_pylist())) == txs.num_rows
    ops = read_table(out, "operations")
    assert len(set(ops.column("id").to_pylist())) == ops.num_rows
    assert pc.min(txs.column("ledger_sequence")).as_py() >= FIRST
    # Only the second run's sets remain; its manifest reports the first run's files as replaced.
    first, second = _manifests(out)
    names = {p.name for p in out.glob("*/year=*/**/*.parquet")}
    assert all(second["run_id"][-4:] in n for n in names)
    assert sorted(second["replaced"]) == sorted(f["path"] for f in first["files"])
    assert main(["verify", "--path", str(out), "--manifests"]) == 0


def test_unbounded_tail_needs_a_streaming_runner(fake_rpc, tmp_path, capsys):
    """Runner: none chosen. Without an end ledger the CLI refuses the batch-only default runner."""
    server = fake_rpc(STORE)
    assert run_job(tail_config(server.url, tmp_path / "out", FIRST, None), tmp_path) == 2
    assert "needs a streaming runner" in capsys.readouterr().err
